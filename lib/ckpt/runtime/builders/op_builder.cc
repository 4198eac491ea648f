#include "ckpt/runtime/builders/op_builder.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "tensor.pb.h"

namespace ckpt {
namespace runtime {
namespace {

// IEEE half from float, rounding to nearest even (values beyond the range
// become infinity).
uint16_t FloatToHalfBits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const int32_t exp = static_cast<int32_t>((x >> 23) & 0xffu) - 127 + 15;
  uint32_t mant = x & 0x7fffffu;
  if (((x >> 23) & 0xffu) == 0xffu) {  // inf or nan
    return static_cast<uint16_t>(sign | 0x7c00u | (mant != 0 ? 0x200u : 0u));
  }
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7c00u);
  if (exp <= 0) {
    if (exp < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    const int shift = 14 - exp;
    uint32_t half = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = sign | (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) ++half;
  return static_cast<uint16_t>(half);
}

uint16_t FloatToBfloat16Bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if (std::isnan(f)) return static_cast<uint16_t>((x >> 16) | 0x40u);
  const uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>((x + rounding) >> 16);
}

}  // namespace

OpBuilder::OpBuilder(const Scope& s, absl::string_view op, absl::string_view default_name)
    : scope_(s), op_(op) {
  if (s.ok()) name_ = s.GetUniqueNameForOp(default_name);
}

Scope OpBuilder::ArgScope(absl::string_view leaf) const {
  // name_ begins with the scope's prefix (GetUniqueNameForOp put it there);
  // WithOpName adds the prefix back.
  absl::string_view rel = name_;
  if (absl::StartsWith(rel, scope_.name_prefix())) rel.remove_prefix(scope_.name_prefix().size());
  return scope_.WithOpName(absl::StrCat(rel, "/", leaf));
}

Scope OpBuilder::ArgScope(absl::string_view leaf, const std::vector<Operation>& deps) const {
  absl::string_view rel = name_;
  if (absl::StartsWith(rel, scope_.name_prefix())) rel.remove_prefix(scope_.name_prefix().size());
  return scope_.WithControlDependencies(deps).WithOpName(absl::StrCat(rel, "/", leaf));
}

OpBuilder& OpBuilder::Input(const Output& o) {
  args_.push_back({o});
  return *this;
}

OpBuilder& OpBuilder::InputList(const std::vector<Output>& outs) {
  args_.push_back(outs);
  return *this;
}

OpBuilder& OpBuilder::Attr(std::string name, ::tensorflow::AttrValue value) {
  attrs_.emplace_back(std::move(name), std::move(value));
  return *this;
}

void OpBuilder::Fail(absl::string_view message) {
  if (!scope_.ok() || failed_) return;
  failed_ = true;
  scope_.UpdateStatus(
      absl::InvalidArgumentError(absl::StrCat(op_, " '", name_, "': ", message)));
}

Node* OpBuilder::Finish(std::vector<PartialShape> shapes) {
  if (!ok()) return nullptr;
  return scope_.AddOpNamed(op_, name_, args_, std::move(attrs_), std::move(shapes));
}

Output OpBuilder::FinishOutput(PartialShape shape) {
  Node* n = Finish({std::move(shape)});
  return n == nullptr ? Output() : Output(n, 0);
}

std::string PredictUniqueName(const Scope& s, absl::string_view base) {
  const std::string full = absl::StrCat(s.name_prefix(), base);
  const Graph* g = s.graph();
  if (!g->IsNameUsed(full)) return full;
  for (int i = 1;; ++i) {
    std::string candidate = absl::StrCat(full, "_", i);
    if (!g->IsNameUsed(candidate)) return candidate;
  }
}

Output FilledConst(const Scope& s, DType dtype, const TensorShape& shape, double value,
                   absl::string_view default_name) {
  if (!s.ok()) return Output();
  ::tensorflow::AttrValue v;
  ::tensorflow::TensorProto* p = v.mutable_tensor();
  p->set_dtype(dtype);
  shape.ToProto(p->mutable_tensor_shape());
  switch (dtype) {
    case DT_FLOAT: p->add_float_val(static_cast<float>(value)); break;
    case DT_DOUBLE: p->add_double_val(value); break;
    case DT_HALF: p->add_half_val(FloatToHalfBits(static_cast<float>(value))); break;
    case DT_BFLOAT16: p->add_half_val(FloatToBfloat16Bits(static_cast<float>(value))); break;
    case DT_INT32:
    case DT_INT16:
    case DT_INT8:
    case DT_UINT8:
    case DT_UINT16: p->add_int_val(static_cast<int32_t>(value)); break;
    case DT_INT64: p->add_int64_val(static_cast<int64_t>(value)); break;
    case DT_UINT32: p->add_uint32_val(static_cast<uint32_t>(value)); break;
    case DT_UINT64: p->add_uint64_val(static_cast<uint64_t>(value)); break;
    case DT_BOOL: p->add_bool_val(value != 0); break;
    default:
      s.UpdateStatus(absl::UnimplementedError(
          absl::StrCat("a constant of dtype ", DTypeName(dtype), " cannot be built")));
      return Output();
  }
  ::tensorflow::AttrValue type;
  type.set_type(dtype);
  return Output(s.AddOp("Const", default_name, {}, {{"value", std::move(v)}, {"dtype", type}},
                        {PartialShape(shape)}));
}

Output IntListConst(const Scope& s, const std::vector<int64_t>& values, DType dtype,
                    absl::string_view default_name) {
  if (!s.ok()) return Output();
  ::tensorflow::AttrValue v;
  ::tensorflow::TensorProto* p = v.mutable_tensor();
  p->set_dtype(dtype);
  p->mutable_tensor_shape()->add_dim()->set_size(static_cast<int64_t>(values.size()));
  // TensorFlow's tensor_util packs lists of more than one element into
  // tensor_content and writes a single element as a typed value.
  if (values.size() == 1) {
    if (dtype == DT_INT64) {
      p->add_int64_val(values[0]);
    } else {
      p->add_int_val(static_cast<int32_t>(values[0]));
    }
  } else if (!values.empty()) {
    std::string bytes;
    if (dtype == DT_INT64) {
      bytes.resize(values.size() * 8);
      std::memcpy(&bytes[0], values.data(), bytes.size());
    } else {
      std::vector<int32_t> narrow(values.begin(), values.end());
      bytes.resize(narrow.size() * 4);
      std::memcpy(&bytes[0], narrow.data(), bytes.size());
    }
    p->set_tensor_content(bytes);
  }
  ::tensorflow::AttrValue type;
  type.set_type(dtype);
  return Output(s.AddOp("Const", default_name, {}, {{"value", std::move(v)}, {"dtype", type}},
                        {PartialShape({static_cast<int64_t>(values.size())})}));
}

bool CheckInputs(OpBuilder& b, std::initializer_list<Output> inputs) {
  if (!b.ok()) return false;
  int i = 0;
  for (const Output& o : inputs) {
    if (!o.valid()) {
      b.Fail(absl::StrCat("input ", i, " is invalid (a default-constructed Output)"));
      return false;
    }
    ++i;
  }
  return true;
}

bool IsTrainableDType(DType dtype) {
  switch (dtype) {
    case DT_FLOAT:
    case DT_DOUBLE:
    case DT_HALF:
    case DT_BFLOAT16:
    case DT_COMPLEX64:
    case DT_COMPLEX128:
      return true;
    default:
      return false;
  }
}

}  // namespace runtime
}  // namespace ckpt
