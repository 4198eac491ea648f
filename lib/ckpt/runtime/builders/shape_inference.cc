#include "ckpt/runtime/builders/shape_inference.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "ckpt/tensor_proto.h"

namespace ckpt {
namespace runtime {
namespace {

// Bounds the recursion through chains of shape arithmetic; deeper chains
// simply stay unknown.
constexpr int kMaxDepth = 32;

std::optional<std::vector<int64_t>> IntsOfTensor(const Tensor& t) {
  if (t.shape().rank() > 1) return std::nullopt;
  std::vector<int64_t> out;
  if (t.dtype() == DT_INT32) {
    for (int32_t v : t.flat<int32_t>()) out.push_back(v);
  } else if (t.dtype() == DT_INT64) {
    for (int64_t v : t.flat<int64_t>()) out.push_back(v);
  } else {
    return std::nullopt;
  }
  return out;
}

bool IsShapeDType(DType t) { return t == DT_INT32 || t == DT_INT64; }

std::optional<std::vector<int64_t>> Partial(const Graph* g, const Output& o, int depth);

// Resolves data input `i` of `node` in graph `g`.
std::optional<Output> Input(const Graph* g, const Node* node, int i) {
  int seen = 0;
  for (const std::string& in : node->def.input()) {
    if (!in.empty() && in[0] == '^') continue;
    if (seen++ != i) continue;
    absl::StatusOr<Output> out = g->FindOutput(in);
    if (!out.ok()) return std::nullopt;
    return *out;
  }
  return std::nullopt;
}

int NumDataInputs(const Node* node) {
  int n = 0;
  for (const std::string& in : node->def.input()) {
    if (in.empty() || in[0] != '^') ++n;
  }
  return n;
}

std::optional<std::vector<int64_t>> FromStaticShape(const Output& o) {
  const PartialShape& s = o.shape();
  if (s.rank() == 0) return std::vector<int64_t>{kUnknownValue};
  if (s.rank() == 1 && s.dim(0) >= 0) return std::vector<int64_t>(s.dim(0), kUnknownValue);
  return std::nullopt;
}

std::optional<std::vector<int64_t>> Arithmetic(const std::string& op,
                                               const std::vector<int64_t>& a,
                                               const std::vector<int64_t>& b) {
  if (a.size() != b.size() && a.size() != 1 && b.size() != 1) return std::nullopt;
  const size_t n = std::max(a.size(), b.size());
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t x = a[a.size() == 1 ? 0 : i];
    const int64_t y = b[b.size() == 1 ? 0 : i];
    if (x == kUnknownValue || y == kUnknownValue) {
      out[i] = kUnknownValue;
    } else if (op == "Add" || op == "AddV2") {
      out[i] = x + y;
    } else if (op == "Sub") {
      out[i] = x - y;
    } else if (op == "Mul") {
      out[i] = x * y;
    } else if (op == "FloorDiv") {
      if (y == 0) return std::nullopt;
      int64_t q = x / y;
      if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
      out[i] = q;
    } else if (op == "Maximum") {
      out[i] = std::max(x, y);
    } else if (op == "Minimum") {
      out[i] = std::min(x, y);
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::optional<std::vector<int64_t>> Partial(const Graph* g, const Output& o, int depth) {
  if (!o.valid() || !IsShapeDType(o.dtype())) return std::nullopt;
  const Node* node = o.node();
  const std::string& op = node->op();
  if (depth > kMaxDepth) return FromStaticShape(o);
  if (op == "Const") {
    std::optional<Tensor> t = ConstantValue(o);
    if (!t) return std::nullopt;
    return IntsOfTensor(*t);
  }
  if (op == "Shape" || op == "Size" || op == "Rank") {
    std::optional<Output> in = Input(g, node, 0);
    if (!in) return FromStaticShape(o);
    const PartialShape& s = in->shape();
    if (op == "Rank") {
      return std::vector<int64_t>{s.unknown_rank() ? kUnknownValue : s.rank()};
    }
    if (op == "Size") {
      const int64_t n = NumElements(s);
      return std::vector<int64_t>{n < 0 ? kUnknownValue : n};
    }
    if (s.unknown_rank()) return std::nullopt;
    std::vector<int64_t> dims;
    for (int64_t d : s.dims()) dims.push_back(d < 0 ? kUnknownValue : d);
    return dims;
  }
  if (op == "Identity" || op == "StopGradient") {
    std::optional<Output> in = Input(g, node, 0);
    return in ? Partial(g, *in, depth + 1) : std::nullopt;
  }
  if (op == "Pack") {
    const int n = NumDataInputs(node);
    std::vector<int64_t> out;
    for (int i = 0; i < n; ++i) {
      std::optional<Output> in = Input(g, node, i);
      if (!in) return FromStaticShape(o);
      if (in->shape().rank() != 0) return FromStaticShape(o);
      std::optional<std::vector<int64_t>> v = Partial(g, *in, depth + 1);
      out.push_back(v && v->size() == 1 ? (*v)[0] : kUnknownValue);
    }
    return out;
  }
  if (op == "ConcatV2") {
    const int n = NumDataInputs(node) - 1;
    std::vector<int64_t> out;
    for (int i = 0; i < n; ++i) {
      std::optional<Output> in = Input(g, node, i);
      if (!in) return FromStaticShape(o);
      std::optional<std::vector<int64_t>> v = Partial(g, *in, depth + 1);
      if (!v) return FromStaticShape(o);
      out.insert(out.end(), v->begin(), v->end());
    }
    return out;
  }
  if (op == "Slice") {
    std::optional<Output> in = Input(g, node, 0);
    std::optional<Output> begin = Input(g, node, 1);
    std::optional<Output> size = Input(g, node, 2);
    if (!in || !begin || !size) return FromStaticShape(o);
    std::optional<std::vector<int64_t>> v = Partial(g, *in, depth + 1);
    std::optional<std::vector<int64_t>> b = ConstantIntValue(*g, *begin);
    std::optional<std::vector<int64_t>> z = ConstantIntValue(*g, *size);
    if (!v || !b || !z || b->size() != 1 || z->size() != 1) return FromStaticShape(o);
    const int64_t start = (*b)[0];
    const int64_t len = (*z)[0] == -1 ? static_cast<int64_t>(v->size()) - start : (*z)[0];
    if (start < 0 || len < 0 || start + len > static_cast<int64_t>(v->size())) {
      return FromStaticShape(o);
    }
    return std::vector<int64_t>(v->begin() + start, v->begin() + start + len);
  }
  if (op == "Add" || op == "AddV2" || op == "Sub" || op == "Mul" || op == "FloorDiv" ||
      op == "Maximum" || op == "Minimum") {
    std::optional<Output> x = Input(g, node, 0);
    std::optional<Output> y = Input(g, node, 1);
    if (!x || !y) return FromStaticShape(o);
    std::optional<std::vector<int64_t>> a = Partial(g, *x, depth + 1);
    std::optional<std::vector<int64_t>> b = Partial(g, *y, depth + 1);
    if (!a || !b) return FromStaticShape(o);
    std::optional<std::vector<int64_t>> r = Arithmetic(op, *a, *b);
    return r ? r : FromStaticShape(o);
  }
  return FromStaticShape(o);
}

}  // namespace

std::optional<Tensor> ConstantValue(const Output& o) {
  if (!o.valid() || o.node()->op() != "Const" || o.index() != 0) return std::nullopt;
  auto it = o.node()->def.attr().find("value");
  if (it == o.node()->def.attr().end() || !it->second.has_tensor()) return std::nullopt;
  absl::StatusOr<Tensor> t = TensorFromProto(it->second.tensor());
  if (!t.ok()) return std::nullopt;
  return *t;
}

std::optional<std::vector<int64_t>> ConstantIntValue(const Graph& g, const Output& o) {
  std::optional<std::vector<int64_t>> v = PartialIntValue(g, o);
  if (!v) return std::nullopt;
  for (int64_t x : *v) {
    if (x == kUnknownValue) return std::nullopt;
  }
  return v;
}

std::optional<std::vector<int64_t>> PartialIntValue(const Graph& g, const Output& o) {
  if (!o.valid()) return std::nullopt;
  return Partial(&g, o, 0);
}

absl::StatusOr<PartialShape> BroadcastShapes(const PartialShape& a, const PartialShape& b) {
  if (a.unknown_rank() || b.unknown_rank()) return PartialShape();
  const int rank = std::max(a.rank(), b.rank());
  std::vector<int64_t> dims(rank);
  for (int i = 0; i < rank; ++i) {
    const int ia = a.rank() - rank + i;
    const int ib = b.rank() - rank + i;
    const int64_t da = ia >= 0 ? a.dim(ia) : 1;
    const int64_t db = ib >= 0 ? b.dim(ib) : 1;
    if (da == 1) {
      dims[i] = db;
    } else if (db == 1) {
      dims[i] = da;
    } else if (da < 0) {
      dims[i] = db;  // unknown vs n (n != 1): the result is n or an error at run time
    } else if (db < 0) {
      dims[i] = da;
    } else if (da == db) {
      dims[i] = da;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "incompatible shapes ", a.DebugString(), " and ", b.DebugString()));
    }
  }
  return PartialShape(std::move(dims));
}

absl::StatusOr<PartialShape> MergeShapes(const PartialShape& a, const PartialShape& b) {
  if (a.unknown_rank()) return b;
  if (b.unknown_rank()) return a;
  if (a.rank() != b.rank()) {
    return absl::InvalidArgumentError(
        absl::StrCat("incompatible shapes ", a.DebugString(), " and ", b.DebugString()));
  }
  std::vector<int64_t> dims(a.rank());
  for (int i = 0; i < a.rank(); ++i) {
    if (a.dim(i) >= 0 && b.dim(i) >= 0 && a.dim(i) != b.dim(i)) {
      return absl::InvalidArgumentError(
          absl::StrCat("incompatible shapes ", a.DebugString(), " and ", b.DebugString()));
    }
    dims[i] = a.dim(i) >= 0 ? a.dim(i) : b.dim(i);
  }
  return PartialShape(std::move(dims));
}

PartialShape ShapeFromValue(const std::vector<int64_t>& dims) {
  std::vector<int64_t> out;
  out.reserve(dims.size());
  for (int64_t d : dims) out.push_back(d < 0 ? -1 : d);
  return PartialShape(std::move(out));
}

PartialShape UnknownShapeOfRank(int rank) {
  return PartialShape(std::vector<int64_t>(rank, -1));
}

int64_t NumElements(const PartialShape& shape) {
  if (!shape.IsFullyDefined()) return -1;
  int64_t n = 1;
  for (int64_t d : shape.dims()) n *= d;
  return n;
}

}  // namespace runtime
}  // namespace ckpt
