// Generic kernels for coefficient-wise ops: one class per arity, one functor
// per op (see elementwise.h for the functor contract).
//
//   r->Register("Sqrt", MakeKernel<UnaryOpKernel<SqrtFn, kFloatTypes>>);
//   r->Register("Add", MakeKernel<BinaryOpKernel<AddFn, kRealNumberTypes>>);
//   r->Register("Less", MakeKernel<BinaryOpKernel<LessFn, kRealNumberTypes, kBoolOutput>>);
#ifndef CKPT_RUNTIME_KERNELS_CWISE_OPS_H_
#define CKPT_RUNTIME_KERNELS_CWISE_OPS_H_

#include <cstdint>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ckpt/runtime/kernel.h"
#include "ckpt/runtime/kernels/elementwise.h"
#include "ckpt/runtime/kernels/type_dispatch.h"
#include "ckpt/status_macros.h"

namespace ckpt {
namespace runtime {

// y = F::Apply(x), same dtype and shape.
template <typename F, uint32_t kTypes>
class UnaryOpKernel : public OpKernel {
 public:
  explicit UnaryOpKernel(const KernelConstruction&) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    return DispatchType<kTypes>(x.dtype(), ctx->def().op(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      CKPT_ASSIGN_OR_RETURN(Tensor * y, ctx->allocate_output(0, x.dtype(), x.shape()));
      RunUnary<T, T, F>(Data<T>(x), MutableData<T>(y), x.NumElements());
      return absl::OkStatus();
    });
  }
};

// How a binary kernel treats its operands beyond broadcasting them.
enum BinaryOpFlags : uint32_t {
  kBoolOutput = 1u << 0,      // the result is bool (comparisons)
  kSameShape = 1u << 1,       // no broadcasting: shapes must be equal (gradient ops)
  kNonZeroDivisor = 1u << 2,  // integer y must have no zero
  kNonNegativeExponent = 1u << 3,  // integer y must have no negative value
};

// Validation of integer divisors and exponents before any element is
// computed (an integer division by zero would otherwise kill the process).
template <typename T>
absl::Status CheckIntegerOperand(uint32_t flags, const T* y, int64_t n) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if ((flags & kNonZeroDivisor) != 0) {
      for (int64_t i = 0; i < n; ++i) {
        if (y[i] == 0) return absl::InvalidArgumentError("integer division by zero");
      }
    }
    if ((flags & kNonNegativeExponent) != 0) {
      for (int64_t i = 0; i < n; ++i) {
        if (y[i] < 0) {
          return absl::InvalidArgumentError(
              absl::StrCat("integers to negative integer powers are not allowed (exponent ",
                           static_cast<int64_t>(y[i]), ")"));
        }
      }
    }
  }
  return absl::OkStatus();
}

// z = F::Apply(x, y) with NumPy broadcasting; x and y have one dtype.
template <typename F, uint32_t kTypes, uint32_t kFlags = 0>
class BinaryOpKernel : public OpKernel {
 public:
  explicit BinaryOpKernel(const KernelConstruction&) {}

  absl::Status Compute(KernelContext* ctx) override { return Run(ctx); }

  // The computation, for kernels that wrap this one.
  static absl::Status Run(KernelContext* ctx) {
    const Tensor& x = ctx->input(0);
    const Tensor& y = ctx->input(1);
    if (x.dtype() != y.dtype()) {
      return absl::InvalidArgumentError(absl::StrCat("operands have different dtypes: ",
                                                     DTypeName(x.dtype()), " vs. ",
                                                     DTypeName(y.dtype())));
    }
    if ((kFlags & kSameShape) != 0 && x.shape() != y.shape()) {
      return IncompatibleShapes(x.shape(), y.shape());
    }
    BinaryPlan plan;
    CKPT_RETURN_IF_ERROR(MakeBinaryPlan(x.shape(), y.shape(), &plan));
    return DispatchType<kTypes>(x.dtype(), ctx->def().op(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      using R = std::conditional_t<(kFlags & kBoolOutput) != 0, bool, T>;
      CKPT_RETURN_IF_ERROR(CheckIntegerOperand<T>(kFlags, Data<T>(y), y.NumElements()));
      CKPT_ASSIGN_OR_RETURN(Tensor * z,
                            ctx->allocate_output(0, DTypeOf<R>(), plan.out_shape()));
      RunBinary<T, R, F>(plan, Data<T>(x), Data<T>(y), MutableData<R>(z));
      return absl::OkStatus();
    });
  }
};

}  // namespace runtime
}  // namespace ckpt

#endif  // CKPT_RUNTIME_KERNELS_CWISE_OPS_H_
