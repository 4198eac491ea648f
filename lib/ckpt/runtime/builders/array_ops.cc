// Array builders: shapes, reshapes, fills, concatenation and stacking,
// slicing, transposes. As TensorFlow's array_ops.py does, Shape, Size and
// Rank of an input whose static shape is known become constants, and
// tf.zeros / tf.ones of a static shape are one Const.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ckpt/runtime/builders/internal_ops.h"
#include "ckpt/runtime/builders/op_builder.h"
#include "ckpt/runtime/builders/shape_inference.h"
#include "ckpt/runtime/ops.h"

namespace ckpt {
namespace runtime {
namespace {

// The static shape a Reshape of `in` to the (partially known) `target`
// has; one -1 element is inferred when the element count allows.
absl::StatusOr<PartialShape> ReshapeShape(const PartialShape& in,
                                          const std::vector<int64_t>& target) {
  int infer = -1;
  int64_t known_product = 1;
  bool all_known = true;
  for (size_t i = 0; i < target.size(); ++i) {
    const int64_t d = target[i];
    if (d == -1) {
      if (infer >= 0) return absl::InvalidArgumentError("more than one dimension is -1");
      infer = static_cast<int>(i);
    } else if (d == kUnknownValue) {
      all_known = false;
    } else if (d < -1) {
      return absl::InvalidArgumentError(absl::StrCat("dimension ", i, " is ", d));
    } else {
      known_product *= d;
    }
  }
  std::vector<int64_t> dims = ShapeFromValue(target).dims();
  const int64_t n = NumElements(in);
  if (n >= 0 && all_known) {
    if (infer >= 0) {
      if (known_product == 0 || n % known_product != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot reshape ", in.DebugString(), " (", n, " elements) to [",
                         absl::StrJoin(target, ","), "]"));
      }
      dims[infer] = n / known_product;
    } else if (known_product != n) {
      return absl::InvalidArgumentError(absl::StrCat("cannot reshape ", in.DebugString(), " (",
                                                     n, " elements) to [",
                                                     absl::StrJoin(target, ","), "]"));
    }
  }
  return PartialShape(std::move(dims));
}

Output FinishReshape(OpBuilder& b, Output x, Output shape) {
  if (!CheckInputs(b, {x, shape})) return Output();
  PartialShape out;
  std::optional<std::vector<int64_t>> target = PartialIntValue(*b.scope().graph(), shape);
  if (target) {
    absl::StatusOr<PartialShape> s = ReshapeShape(x.shape(), *target);
    if (!s.ok()) {
      b.Fail(s.status().message());
      return Output();
    }
    out = *s;
  } else if (shape.shape().rank() == 1 && shape.shape().dim(0) >= 0) {
    out = UnknownShapeOfRank(static_cast<int>(shape.shape().dim(0)));
  }
  b.Input(x).Input(shape);
  return b.FinishOutput(out);
}

Output FinishExpandDims(OpBuilder& b, Output x, Output axis) {
  if (!CheckInputs(b, {x, axis})) return Output();
  PartialShape out;
  std::optional<std::vector<int64_t>> a = ConstantIntValue(*b.scope().graph(), axis);
  if (a && a->size() == 1 && !x.shape().unknown_rank()) {
    const int rank = x.shape().rank();
    int64_t pos = (*a)[0] < 0 ? (*a)[0] + rank + 1 : (*a)[0];
    if (pos < 0 || pos > rank) {
      b.Fail(absl::StrCat("axis ", (*a)[0], " is out of range for input of shape ",
                          x.shape().DebugString()));
      return Output();
    }
    std::vector<int64_t> dims = x.shape().dims();
    dims.insert(dims.begin() + pos, 1);
    out = PartialShape(std::move(dims));
  }
  b.Input(x).Input(axis);
  return b.FinishOutput(out);
}

Output FinishTranspose(OpBuilder& b, Output x, Output perm) {
  if (!CheckInputs(b, {x, perm})) return Output();
  PartialShape out;
  std::optional<std::vector<int64_t>> p = ConstantIntValue(*b.scope().graph(), perm);
  if (p) {
    const int rank = static_cast<int>(p->size());
    if (!x.shape().unknown_rank() && x.shape().rank() != rank) {
      b.Fail(absl::StrCat("perm has ", rank, " elements for input of shape ",
                          x.shape().DebugString()));
      return Output();
    }
    std::vector<bool> seen(rank, false);
    for (int64_t v : *p) {
      if (v < 0 || v >= rank || seen[v]) {
        b.Fail(absl::StrCat("perm [", absl::StrJoin(*p, ","), "] is not a permutation"));
        return Output();
      }
      seen[v] = true;
    }
    if (x.shape().unknown_rank()) {
      out = UnknownShapeOfRank(rank);
    } else {
      std::vector<int64_t> dims(rank);
      for (int i = 0; i < rank; ++i) dims[i] = x.shape().dim(static_cast<int>((*p)[i]));
      out = PartialShape(std::move(dims));
    }
  } else if (!x.shape().unknown_rank()) {
    out = UnknownShapeOfRank(x.shape().rank());
  }
  b.Input(x).Input(perm);
  return b.FinishOutput(out);
}

Output FinishConcat(OpBuilder& b, const std::vector<Output>& values, Output axis) {
  if (!CheckInputs(b, {axis})) return Output();
  for (size_t i = 0; i < values.size(); ++i) {
    if (!values[i].valid()) {
      b.Fail(absl::StrCat("value ", i, " is invalid (a default-constructed Output)"));
      return Output();
    }
    if (values[i].dtype() != values[0].dtype()) {
      b.Fail(absl::StrCat("value ", i, " is ", DTypeName(values[i].dtype()),
                          " but value 0 is ", DTypeName(values[0].dtype())));
      return Output();
    }
  }
  int rank = -1;
  for (const Output& v : values) {
    if (v.shape().unknown_rank()) continue;
    if (rank >= 0 && v.shape().rank() != rank) {
      b.Fail(absl::StrCat("values have ranks ", rank, " and ", v.shape().rank()));
      return Output();
    }
    rank = v.shape().rank();
  }
  PartialShape out;
  std::optional<std::vector<int64_t>> a = ConstantIntValue(*b.scope().graph(), axis);
  if (rank >= 0 && a && a->size() == 1) {
    const int64_t ax = (*a)[0] < 0 ? (*a)[0] + rank : (*a)[0];
    if (ax < 0 || ax >= rank) {
      b.Fail(absl::StrCat("axis ", (*a)[0], " is out of range for values of rank ", rank));
      return Output();
    }
    std::vector<int64_t> dims(rank, -1);
    int64_t total = 0;
    bool total_known = true;
    for (const Output& v : values) {
      if (v.shape().unknown_rank()) {
        total_known = false;
        continue;
      }
      for (int i = 0; i < rank; ++i) {
        const int64_t d = v.shape().dim(i);
        if (i == ax) {
          if (d < 0) {
            total_known = false;
          } else {
            total += d;
          }
        } else if (d >= 0) {
          if (dims[i] >= 0 && dims[i] != d) {
            b.Fail(absl::StrCat("values differ in dimension ", i, " (", dims[i], " and ", d,
                                ")"));
            return Output();
          }
          dims[i] = d;
        }
      }
    }
    dims[ax] = total_known ? total : -1;
    out = PartialShape(std::move(dims));
  } else if (rank >= 0) {
    out = UnknownShapeOfRank(rank);
  }
  b.InputList(values).Input(axis);
  return b.FinishOutput(out);
}

}  // namespace

Output ExpandDimsConst(const Scope& s, Output x, int axis) {
  OpBuilder b(s, "ExpandDims", "ExpandDims");
  if (!b.ok()) return Output();
  Output dim = ScalarConst(b.ArgScope("dim"), DT_INT32, axis);
  return FinishExpandDims(b, x, dim);
}

Output TransposeConst(const Scope& s, Output x, const std::vector<int64_t>& perm) {
  OpBuilder b(s, "Transpose", "transpose");
  if (!b.ok()) return Output();
  Output p = IntListConst(b.ArgScope("perm"), perm);
  return FinishTranspose(b, x, p);
}

Output ConcatConstAxis(const Scope& s, const std::vector<Output>& values, int axis) {
  if (!s.ok()) return Output();
  if (values.size() == 1) return ops::Identity(s.WithOpName("concat"), values[0]);
  OpBuilder b(s, "ConcatV2", "concat");
  if (!b.ok()) return Output();
  Output a = ScalarConst(b.ArgScope("axis"), DT_INT32, axis);
  return FinishConcat(b, values, a);
}

std::vector<Output> Unstack(const Scope& s, Output x, int num, int axis) {
  OpBuilder b(s, "Unpack", "unstack");
  if (!CheckInputs(b, {x})) return std::vector<Output>(num);
  std::vector<PartialShape> shapes(num);
  if (!x.shape().unknown_rank()) {
    const int rank = x.shape().rank();
    const int a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      b.Fail(absl::StrCat("axis ", axis, " is out of range for input of shape ",
                          x.shape().DebugString()));
      return std::vector<Output>(num);
    }
    if (x.shape().dim(a) >= 0 && x.shape().dim(a) != num) {
      b.Fail(absl::StrCat("cannot unstack ", num, " values from dimension ", a, " of shape ",
                          x.shape().DebugString()));
      return std::vector<Output>(num);
    }
    std::vector<int64_t> dims = x.shape().dims();
    dims.erase(dims.begin() + a);
    for (auto& sh : shapes) sh = PartialShape(dims);
  }
  b.Input(x).Attr("num", AttrInt(num)).Attr("axis", AttrInt(axis));
  Node* n = b.Finish(std::move(shapes));
  std::vector<Output> outs(num);
  if (n == nullptr) return outs;
  for (int i = 0; i < num; ++i) outs[i] = Output(n, i);
  return outs;
}

Output BiasAddGrad(const Scope& s, Output out_backprop) {
  OpBuilder b(s, "BiasAddGrad", "BiasAddGrad");
  if (!CheckInputs(b, {out_backprop})) return Output();
  PartialShape out({-1});
  const PartialShape& in = out_backprop.shape();
  if (!in.unknown_rank() && in.rank() >= 1) out = PartialShape({in.dim(in.rank() - 1)});
  b.Input(out_backprop);
  return b.FinishOutput(out);
}

Output OneHot(const Scope& s, Output indices, Output depth, DType dtype) {
  OpBuilder b(s, "OneHot", "one_hot");
  if (!CheckInputs(b, {indices, depth})) return Output();
  Output on = ScalarConst(b.ArgScope("on_value"), dtype, 1);
  Output off = ScalarConst(b.ArgScope("off_value"), dtype, 0);
  PartialShape out;
  if (!indices.shape().unknown_rank()) {
    std::vector<int64_t> dims = indices.shape().dims();
    std::optional<std::vector<int64_t>> d = ConstantIntValue(*s.graph(), depth);
    dims.push_back(d && d->size() == 1 ? (*d)[0] : -1);
    out = PartialShape(std::move(dims));
  }
  b.Input(indices).Input(depth).Input(on).Input(off);
  return b.FinishOutput(out);
}

}  // namespace runtime

namespace ops {

using runtime::CheckInputs;
using runtime::OpBuilder;

Output Shape(const Scope& s, Output x, DType out_type) {
  if (!s.ok()) return Output();
  if (x.valid() && x.shape().IsFullyDefined()) {
    return runtime::IntListConst(s, x.shape().dims(), out_type, "Shape");
  }
  OpBuilder b(s, "Shape", "Shape");
  if (!CheckInputs(b, {x})) return Output();
  b.Input(x).Attr("out_type", AttrType(out_type));
  return b.FinishOutput(PartialShape({x.shape().rank()}));
}

Output Size(const Scope& s, Output x, DType out_type) {
  if (!s.ok()) return Output();
  if (x.valid() && x.shape().IsFullyDefined()) {
    return runtime::ScalarConst(s, out_type,
                                static_cast<double>(runtime::NumElements(x.shape())), "Size");
  }
  OpBuilder b(s, "Size", "Size");
  if (!CheckInputs(b, {x})) return Output();
  b.Input(x).Attr("out_type", AttrType(out_type));
  return b.FinishOutput(PartialShape({}));
}

Output Rank(const Scope& s, Output x) {
  if (!s.ok()) return Output();
  if (x.valid() && !x.shape().unknown_rank()) {
    return runtime::ScalarConst(s, DT_INT32, x.shape().rank(), "Rank");
  }
  OpBuilder b(s, "Rank", "Rank");
  if (!CheckInputs(b, {x})) return Output();
  b.Input(x);
  return b.FinishOutput(PartialShape({}));
}

Output Reshape(const Scope& s, Output x, Output shape) {
  OpBuilder b(s, "Reshape", "Reshape");
  return runtime::FinishReshape(b, x, shape);
}

Output Reshape(const Scope& s, Output x, const std::vector<int32_t>& shape) {
  OpBuilder b(s, "Reshape", "Reshape");
  if (!b.ok()) return Output();
  Output sh = runtime::IntListConst(b.ArgScope("shape"),
                                    std::vector<int64_t>(shape.begin(), shape.end()));
  return runtime::FinishReshape(b, x, sh);
}

Output Fill(const Scope& s, Output dims, Output value) {
  OpBuilder b(s, "Fill", "Fill");
  if (!CheckInputs(b, {dims, value})) return Output();
  if (value.shape().rank() > 0) {
    b.Fail(absl::StrCat("value must be a scalar, not of shape ", value.shape().DebugString()));
    return Output();
  }
  PartialShape out;
  std::optional<std::vector<int64_t>> d = runtime::PartialIntValue(*s.graph(), dims);
  if (d) {
    for (int64_t v : *d) {
      if (v != runtime::kUnknownValue && v < 0) {
        b.Fail(absl::StrCat("dims [", absl::StrJoin(*d, ","), "] has a negative size"));
        return Output();
      }
    }
    out = runtime::ShapeFromValue(*d);
  }
  b.Input(dims).Input(value);
  return b.FinishOutput(out);
}

Output Zeros(const Scope& s, const TensorShape& shape, DType dtype) {
  return runtime::FilledConst(s, dtype, shape, 0, "zeros");
}

Output Ones(const Scope& s, const TensorShape& shape, DType dtype) {
  return runtime::FilledConst(s, dtype, shape, 1, "ones");
}

Output ZerosLike(const Scope& s, Output x) {
  OpBuilder b(s, "ZerosLike", "zeros_like");
  if (!CheckInputs(b, {x})) return Output();
  b.Input(x);
  return b.FinishOutput(x.shape());
}

Output OnesLike(const Scope& s, Output x) {
  // array_ops.ones_like (TensorFlow 1.x): a Fill of the input's shape with
  // a constant one, all in the "ones_like" scope.
  OpBuilder b(s, "Fill", "ones_like");
  if (!CheckInputs(b, {x})) return Output();
  Output dims = Shape(b.ArgScope("Shape"), x);
  Output one = runtime::ScalarConst(b.ArgScope("Const"), x.dtype(), 1);
  b.Input(dims).Input(one);
  return b.FinishOutput(x.shape());
}

Output Tile(const Scope& s, Output x, Output multiples) {
  OpBuilder b(s, "Tile", "Tile");
  if (!CheckInputs(b, {x, multiples})) return Output();
  PartialShape out;
  std::optional<std::vector<int64_t>> m = runtime::PartialIntValue(*s.graph(), multiples);
  if (!x.shape().unknown_rank()) {
    const int rank = x.shape().rank();
    if (m && static_cast<int>(m->size()) != rank) {
      b.Fail(absl::StrCat("multiples has ", m->size(), " elements for input of shape ",
                          x.shape().DebugString()));
      return Output();
    }
    std::vector<int64_t> dims(rank, -1);
    for (int i = 0; i < rank; ++i) {
      const int64_t d = x.shape().dim(i);
      const int64_t k = m ? (*m)[i] : runtime::kUnknownValue;
      if (k != runtime::kUnknownValue && k < 0) {
        b.Fail(absl::StrCat("multiples [", absl::StrJoin(*m, ","), "] has a negative entry"));
        return Output();
      }
      if (d >= 0 && k != runtime::kUnknownValue) dims[i] = d * k;
      if (k == 0) dims[i] = 0;
    }
    out = PartialShape(std::move(dims));
  } else if (m) {
    out = runtime::UnknownShapeOfRank(static_cast<int>(m->size()));
  }
  b.Input(x).Input(multiples);
  return b.FinishOutput(out);
}

Output ConcatV2(const Scope& s, const std::vector<Output>& values, Output axis) {
  if (!s.ok()) return Output();
  if (values.size() == 1 && values[0].valid()) {
    // tf.concat of one tensor is an Identity named like the concat.
    return Identity(s.WithOpName("concat"), values[0]);
  }
  OpBuilder b(s, "ConcatV2", "concat");
  if (!b.ok()) return Output();
  if (values.empty()) {
    b.Fail("needs at least one value");
    return Output();
  }
  return runtime::FinishConcat(b, values, axis);
}

Output Pack(const Scope& s, const std::vector<Output>& values, int axis) {
  OpBuilder b(s, "Pack", "stack");
  if (!b.ok()) return Output();
  if (values.empty()) {
    b.Fail("needs at least one value");
    return Output();
  }
  PartialShape elem = values[0].shape();
  for (size_t i = 0; i < values.size(); ++i) {
    if (!values[i].valid()) {
      b.Fail(absl::StrCat("value ", i, " is invalid (a default-constructed Output)"));
      return Output();
    }
    if (values[i].dtype() != values[0].dtype()) {
      b.Fail(absl::StrCat("value ", i, " is ", DTypeName(values[i].dtype()),
                          " but value 0 is ", DTypeName(values[0].dtype())));
      return Output();
    }
    absl::StatusOr<PartialShape> merged = runtime::MergeShapes(elem, values[i].shape());
    if (!merged.ok()) {
      b.Fail(absl::StrCat("values must have one shape: ", merged.status().message()));
      return Output();
    }
    elem = *merged;
  }
  PartialShape out;
  if (!elem.unknown_rank()) {
    const int rank = elem.rank() + 1;
    const int a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      b.Fail(absl::StrCat("axis ", axis, " is out of range for values of shape ",
                          elem.DebugString()));
      return Output();
    }
    std::vector<int64_t> dims = elem.dims();
    dims.insert(dims.begin() + a, static_cast<int64_t>(values.size()));
    out = PartialShape(std::move(dims));
  }
  b.InputList(values).Attr("axis", AttrInt(axis));
  return b.FinishOutput(out);
}

Output Slice(const Scope& s, Output x, Output begin, Output size) {
  OpBuilder b(s, "Slice", "Slice");
  if (!CheckInputs(b, {x, begin, size})) return Output();
  PartialShape out;
  const Graph& g = *s.graph();
  std::optional<std::vector<int64_t>> bv = runtime::PartialIntValue(g, begin);
  std::optional<std::vector<int64_t>> zv = runtime::PartialIntValue(g, size);
  int rank = x.shape().rank();
  if (rank < 0 && zv) rank = static_cast<int>(zv->size());
  if (rank < 0 && bv) rank = static_cast<int>(bv->size());
  if (rank >= 0) {
    if ((bv && static_cast<int>(bv->size()) != rank) ||
        (zv && static_cast<int>(zv->size()) != rank)) {
      b.Fail(absl::StrCat("begin and size must have one element per dimension of ",
                          x.shape().DebugString()));
      return Output();
    }
    std::vector<int64_t> dims(rank, -1);
    for (int i = 0; i < rank; ++i) {
      const int64_t z = zv ? (*zv)[i] : runtime::kUnknownValue;
      const int64_t st = bv ? (*bv)[i] : runtime::kUnknownValue;
      const int64_t d = x.shape().unknown_rank() ? -1 : x.shape().dim(i);
      if (z == -1) {
        if (d >= 0 && st != runtime::kUnknownValue) dims[i] = d - st;
      } else if (z != runtime::kUnknownValue) {
        dims[i] = z;
      }
      if (d >= 0 && st != runtime::kUnknownValue && z != runtime::kUnknownValue &&
          (st < 0 || st > d || (z >= 0 && st + z > d))) {
        b.Fail(absl::StrCat("slice of size ", z, " from ", st, " is out of bounds of dimension ",
                            i, " of ", x.shape().DebugString()));
        return Output();
      }
    }
    out = PartialShape(std::move(dims));
  }
  b.Input(x).Input(begin).Input(size);
  return b.FinishOutput(out);
}

Output ExpandDims(const Scope& s, Output x, Output axis) {
  OpBuilder b(s, "ExpandDims", "ExpandDims");
  return runtime::FinishExpandDims(b, x, axis);
}

Output Squeeze(const Scope& s, Output x, const std::vector<int32_t>& axes) {
  OpBuilder b(s, "Squeeze", "Squeeze");
  if (!CheckInputs(b, {x})) return Output();
  PartialShape out;
  const PartialShape& in = x.shape();
  if (!in.unknown_rank()) {
    const int rank = in.rank();
    std::vector<bool> drop(rank, false);
    bool known = true;
    if (axes.empty()) {
      for (int i = 0; i < rank; ++i) {
        if (in.dim(i) == 1) drop[i] = true;
        if (in.dim(i) < 0) known = false;  // might be 1 at run time
      }
    } else {
      for (int32_t a : axes) {
        const int ax = a < 0 ? a + rank : a;
        if (ax < 0 || ax >= rank) {
          b.Fail(absl::StrCat("axis ", a, " is out of range for input of shape ",
                              in.DebugString()));
          return Output();
        }
        if (in.dim(ax) >= 0 && in.dim(ax) != 1) {
          b.Fail(absl::StrCat("cannot squeeze dimension ", ax, " of size ", in.dim(ax),
                              " in ", in.DebugString()));
          return Output();
        }
        drop[ax] = true;
      }
    }
    if (known) {
      std::vector<int64_t> dims;
      for (int i = 0; i < rank; ++i) {
        if (!drop[i]) dims.push_back(in.dim(i));
      }
      out = PartialShape(std::move(dims));
    }
  }
  b.Input(x).Attr("squeeze_dims",
                  AttrIntList(std::vector<int64_t>(axes.begin(), axes.end())));
  return b.FinishOutput(out);
}

Output Transpose(const Scope& s, Output x, Output perm) {
  OpBuilder b(s, "Transpose", "transpose");
  return runtime::FinishTranspose(b, x, perm);
}

Output StopGradient(const Scope& s, Output x) {
  OpBuilder b(s, "StopGradient", "StopGradient");
  if (!CheckInputs(b, {x})) return Output();
  b.Input(x);
  return b.FinishOutput(x.shape());
}

std::vector<Output> BroadcastGradientArgs(const Scope& s, Output s0, Output s1) {
  OpBuilder b(s, "BroadcastGradientArgs", "BroadcastGradientArgs");
  if (!CheckInputs(b, {s0, s1})) return {Output(), Output()};
  b.Input(s0).Input(s1);
  Node* n = b.Finish({PartialShape({-1}), PartialShape({-1})});
  if (n == nullptr) return {Output(), Output()};
  return {Output(n, 0), Output(n, 1)};
}

}  // namespace ops
}  // namespace ckpt
