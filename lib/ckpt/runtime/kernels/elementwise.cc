#include "ckpt/runtime/kernels/elementwise.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ckpt/status_macros.h"

namespace ckpt {
namespace runtime {

absl::Status IncompatibleShapes(const TensorShape& x, const TensorShape& y) {
  return absl::InvalidArgumentError(
      absl::StrCat("incompatible shapes: ", x.DebugString(), " vs. ", y.DebugString()));
}

absl::Status MakeBinaryPlan(const TensorShape& x, const TensorShape& y, BinaryPlan* plan) {
  using Kind = BinaryPlan::Kind;
  plan->dims_.clear();
  plan->x_strides_.clear();
  plan->y_strides_.clear();
  plan->out_ref_ = nullptr;
  if (x == y) {
    plan->kind_ = Kind::kSame;
    plan->out_ref_ = &x;
    plan->num_elements_ = x.num_elements();
    return absl::OkStatus();
  }
  // A single element of rank no larger than the other operand's leaves the
  // other operand's shape unchanged.
  if (x.num_elements() == 1 && x.rank() <= y.rank()) {
    plan->kind_ = Kind::kScalarX;
    plan->out_ref_ = &y;
    plan->num_elements_ = y.num_elements();
    return absl::OkStatus();
  }
  if (y.num_elements() == 1 && y.rank() <= x.rank()) {
    plan->kind_ = Kind::kScalarY;
    plan->out_ref_ = &x;
    plan->num_elements_ = x.num_elements();
    return absl::OkStatus();
  }

  const int rank = std::max(x.rank(), y.rank());
  const int x_pad = rank - x.rank();
  const int y_pad = rank - y.rank();
  absl::InlinedVector<int64_t, 6> out_dims(rank);
  // Per merged dimension: bit 0 set when x is broadcast along it, bit 1
  // when y is.
  absl::InlinedVector<int, 4> patterns;
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) {
    const int64_t xd = i >= x_pad ? x.dim(i - x_pad) : 1;
    const int64_t yd = i >= y_pad ? y.dim(i - y_pad) : 1;
    int64_t od;
    if (xd == yd || yd == 1) {
      od = xd;
    } else if (xd == 1) {
      od = yd;
    } else {
      return IncompatibleShapes(x, y);
    }
    out_dims[i] = od;
    n *= od;
    if (od == 1) continue;
    const int pattern = (xd == 1 ? 1 : 0) | (yd == 1 ? 2 : 0);
    if (!patterns.empty() && patterns.back() == pattern) {
      plan->dims_.back() *= od;
    } else {
      patterns.push_back(pattern);
      plan->dims_.push_back(od);
    }
  }
  plan->num_elements_ = n;

  const absl::Span<const int64_t> out_span(out_dims.data(), out_dims.size());
  if (x.rank() == rank && absl::Span<const int64_t>(x.dims()) == out_span) {
    plan->out_ref_ = &x;
  } else if (y.rank() == rank && absl::Span<const int64_t>(y.dims()) == out_span) {
    plan->out_ref_ = &y;
  } else {
    CKPT_ASSIGN_OR_RETURN(plan->out_own_, TensorShape::FromDims(out_span));
  }

  if (patterns.size() <= 1) {
    const int pattern = patterns.empty() ? 0 : patterns[0];
    plan->kind_ = pattern == 0 ? Kind::kSame : pattern == 1 ? Kind::kScalarX : Kind::kScalarY;
    plan->dims_.clear();
    return absl::OkStatus();
  }
  plan->kind_ = Kind::kGeneral;
  const size_t merged = plan->dims_.size();
  plan->x_strides_.resize(merged);
  plan->y_strides_.resize(merged);
  int64_t x_stride = 1, y_stride = 1;
  for (size_t k = merged; k-- > 0;) {
    const bool x_broadcast = (patterns[k] & 1) != 0;
    const bool y_broadcast = (patterns[k] & 2) != 0;
    plan->x_strides_[k] = x_broadcast ? 0 : x_stride;
    plan->y_strides_[k] = y_broadcast ? 0 : y_stride;
    if (!x_broadcast) x_stride *= plan->dims_[k];
    if (!y_broadcast) y_stride *= plan->dims_[k];
  }
  return absl::OkStatus();
}

}  // namespace runtime
}  // namespace ckpt
