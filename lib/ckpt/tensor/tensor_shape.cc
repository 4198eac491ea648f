#include "ckpt/tensor_shape.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ckpt {
namespace {

// Element count, or -1 when a dimension is negative or the product overflows.
int64_t CountElements(absl::Span<const int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return -1;
    if (__builtin_mul_overflow(n, d, &n)) return -1;
  }
  return n;
}

}  // namespace

TensorShape::TensorShape(std::initializer_list<int64_t> dims) : dims_(dims) {
  num_elements_ = dims_.size() > static_cast<size_t>(kMaxRank) ? -1 : CountElements(dims_);
}

absl::StatusOr<TensorShape> TensorShape::FromDims(absl::Span<const int64_t> dims) {
  if (dims.size() > static_cast<size_t>(kMaxRank)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid tensor shape: rank ", dims.size(), " exceeds ", kMaxRank));
  }
  TensorShape shape;
  shape.dims_.assign(dims.begin(), dims.end());
  shape.num_elements_ = CountElements(dims);
  if (shape.num_elements_ < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid tensor shape ", shape.DebugString(),
        ": a dimension is negative or the element count overflows int64"));
  }
  return shape;
}

absl::StatusOr<TensorShape> TensorShape::FromProto(
    const ::tensorflow::TensorShapeProto& proto) {
  if (proto.unknown_rank()) {
    return absl::InvalidArgumentError("invalid tensor shape: unknown rank");
  }
  if (proto.dim_size() > kMaxRank) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid tensor shape: rank ", proto.dim_size(), " exceeds ", kMaxRank));
  }
  std::vector<int64_t> dims;
  dims.reserve(proto.dim_size());
  for (const auto& d : proto.dim()) dims.push_back(d.size());
  return FromDims(dims);
}

void TensorShape::ToProto(::tensorflow::TensorShapeProto* proto) const {
  proto->Clear();
  for (int64_t d : dims_) proto->add_dim()->set_size(d);
}

std::string TensorShape::DebugString() const {
  return absl::StrCat("[", absl::StrJoin(dims_, ","), "]");
}

}  // namespace ckpt
