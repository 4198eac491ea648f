// Optimizer update kernels on reference (variable) inputs: ApplyGradientDescent,
// ApplyMomentum and ApplyAdam.
//
// Each evaluates TensorFlow's formula with the same operations in the same
// order, in the variable's own type, so that an update is reproducible bit
// for bit by a straightforward loop over the same expression.
//
// Variables are updated in place when the slot holds the only reference to
// its buffer. When someone else still shares it (a tensor fetched earlier, a
// snapshot being saved), the new values go to a fresh buffer that replaces
// the slot's value, so the other holder keeps seeing the old values.
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "ckpt/runtime/kernel.h"
#include "ckpt/runtime/kernels/register.h"
#include "ckpt/runtime/kernels/type_dispatch.h"
#include "ckpt/status_macros.h"

namespace ckpt {
namespace runtime {
namespace {

// A variable being updated: where to write, and the fresh buffer (if the
// slot's buffer is shared) to install once the update is done.
struct UpdateTarget {
  VarSlot* slot = nullptr;
  Tensor fresh;
  bool copied = false;
};

// Checks ref input `index` (named `what` in errors: "var", "accum", ...)
// against the gradient's dtype and shape. Changes nothing.
absl::Status CheckRefInput(KernelContext* ctx, int index, absl::string_view what,
                           const Tensor& grad, VarSlot** slot_out) {
  VarSlot* slot = ctx->ref_input(index);
  if (slot == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " (input ", index, ") must be a reference to a variable"));
  }
  if (!slot->initialized()) {
    return absl::FailedPreconditionError(
        absl::StrCat("Attempting to use uninitialized value ", slot->name));
  }
  const Tensor& value = slot->value;
  if (value.dtype() != grad.dtype()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " ", slot->name, " is ",
                                                   DTypeName(value.dtype()),
                                                   " but the gradient is ",
                                                   DTypeName(grad.dtype())));
  }
  if (value.shape() != grad.shape()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " and grad do not have the same shape: ", what, " ", slot->name, " is ",
        value.shape().DebugString(), ", grad is ", grad.shape().DebugString()));
  }
  *slot_out = slot;
  return absl::OkStatus();
}

// A scalar hyperparameter input of the update's type.
template <typename T>
absl::Status ReadScalar(KernelContext* ctx, int index, absl::string_view what, T* value) {
  const Tensor& t = ctx->input(index);
  if (t.shape().rank() != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is not a scalar: ", t.shape().DebugString()));
  }
  if (t.dtype() != DTypeOf<T>()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is ", DTypeName(t.dtype()),
                                                   " but the variable is ",
                                                   DTypeName(DTypeOf<T>())));
  }
  *value = Data<T>(t)[0];
  return absl::OkStatus();
}

// The buffer to update for `slot`: its own when unshared, else a copy.
template <typename T>
absl::StatusOr<T*> Writable(UpdateTarget* target, VarSlot* slot) {
  target->slot = slot;
  if (slot->value.RefCountIsOne()) {
    return MutableData<T>(&slot->value);
  }
  CKPT_ASSIGN_OR_RETURN(target->fresh,
                        Tensor::AllocateUninitialized(slot->value.dtype(), slot->value.shape()));
  if (slot->value.TotalBytes() > 0) {
    std::memcpy(target->fresh.mutable_raw_data(), slot->value.raw_data(),
                slot->value.TotalBytes());
  }
  target->copied = true;
  return MutableData<T>(&target->fresh);
}

void Commit(UpdateTarget* target) {
  if (target->copied) target->slot->value = std::move(target->fresh);
}

constexpr uint32_t kOptimizerTypes = kFloatTypes;

// ApplyGradientDescent(var: Ref, alpha, delta): var -= delta * alpha.
class ApplyGradientDescentOp : public OpKernel {
 public:
  explicit ApplyGradientDescentOp(const KernelConstruction&) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& delta = ctx->input(2);
    VarSlot* var_slot;
    CKPT_RETURN_IF_ERROR(CheckRefInput(ctx, 0, "var", delta, &var_slot));
    return DispatchType<kOptimizerTypes>(
        delta.dtype(), "ApplyGradientDescent", [&](auto tag) -> absl::Status {
          using T = typename decltype(tag)::type;
          T alpha;
          CKPT_RETURN_IF_ERROR(ReadScalar<T>(ctx, 1, "alpha", &alpha));
          UpdateTarget target;
          CKPT_ASSIGN_OR_RETURN(T * var, Writable<T>(&target, var_slot));
          const T* d = Data<T>(delta);
          const int64_t n = delta.NumElements();
          for (int64_t i = 0; i < n; ++i) var[i] = var[i] - d[i] * alpha;
          Commit(&target);
          ctx->set_ref_output(0, var_slot);
          return absl::OkStatus();
        });
  }
};

// ApplyMomentum(var: Ref, accum: Ref, lr, grad, momentum):
//   accum = accum * momentum + grad
//   var -= accum * lr                                  (use_nesterov false)
//   var -= grad * lr + accum * momentum * lr           (use_nesterov true)
class ApplyMomentumOp : public OpKernel {
 public:
  explicit ApplyMomentumOp(const KernelConstruction& c) {
    absl::StatusOr<bool> nesterov = GetBoolAttr(c.def, "use_nesterov");
    use_nesterov_ = nesterov.ok() && *nesterov;
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& grad = ctx->input(3);
    VarSlot* var_slot;
    VarSlot* accum_slot;
    CKPT_RETURN_IF_ERROR(CheckRefInput(ctx, 0, "var", grad, &var_slot));
    CKPT_RETURN_IF_ERROR(CheckRefInput(ctx, 1, "accum", grad, &accum_slot));
    return DispatchType<kOptimizerTypes>(
        grad.dtype(), "ApplyMomentum", [&](auto tag) -> absl::Status {
          using T = typename decltype(tag)::type;
          T lr, momentum;
          CKPT_RETURN_IF_ERROR(ReadScalar<T>(ctx, 2, "lr", &lr));
          CKPT_RETURN_IF_ERROR(ReadScalar<T>(ctx, 4, "momentum", &momentum));
          UpdateTarget var_target, accum_target;
          CKPT_ASSIGN_OR_RETURN(T * var, Writable<T>(&var_target, var_slot));
          CKPT_ASSIGN_OR_RETURN(T * accum, Writable<T>(&accum_target, accum_slot));
          const T* g = Data<T>(grad);
          const int64_t n = grad.NumElements();
          if (use_nesterov_) {
            for (int64_t i = 0; i < n; ++i) {
              accum[i] = accum[i] * momentum + g[i];
              var[i] = var[i] - (g[i] * lr + accum[i] * momentum * lr);
            }
          } else {
            for (int64_t i = 0; i < n; ++i) {
              accum[i] = accum[i] * momentum + g[i];
              var[i] = var[i] - accum[i] * lr;
            }
          }
          Commit(&var_target);
          Commit(&accum_target);
          ctx->set_ref_output(0, var_slot);
          return absl::OkStatus();
        });
  }

 private:
  bool use_nesterov_ = false;
};

// ApplyAdam(var, m, v: Ref, beta1_power, beta2_power, lr, beta1, beta2,
// epsilon, grad):
//   alpha = lr * sqrt(1 - beta2_power) / (1 - beta1_power)
//   m += (grad - m) * (1 - beta1)
//   v += (grad^2 - v) * (1 - beta2)
//   var -= (m * alpha) / (sqrt(v) + epsilon)                               (plain)
//   var -= ((grad * (1 - beta1) + beta1 * m) * alpha) / (sqrt(v) + epsilon)  (nesterov)
class ApplyAdamOp : public OpKernel {
 public:
  explicit ApplyAdamOp(const KernelConstruction& c) {
    absl::StatusOr<bool> nesterov = GetBoolAttr(c.def, "use_nesterov");
    use_nesterov_ = nesterov.ok() && *nesterov;
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& grad = ctx->input(9);
    VarSlot* var_slot;
    VarSlot* m_slot;
    VarSlot* v_slot;
    CKPT_RETURN_IF_ERROR(CheckRefInput(ctx, 0, "var", grad, &var_slot));
    CKPT_RETURN_IF_ERROR(CheckRefInput(ctx, 1, "m", grad, &m_slot));
    CKPT_RETURN_IF_ERROR(CheckRefInput(ctx, 2, "v", grad, &v_slot));
    return DispatchType<kOptimizerTypes>(grad.dtype(), "ApplyAdam", [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      T beta1_power, beta2_power, lr, beta1, beta2, epsilon;
      CKPT_RETURN_IF_ERROR(ReadScalar<T>(ctx, 3, "beta1_power", &beta1_power));
      CKPT_RETURN_IF_ERROR(ReadScalar<T>(ctx, 4, "beta2_power", &beta2_power));
      CKPT_RETURN_IF_ERROR(ReadScalar<T>(ctx, 5, "lr", &lr));
      CKPT_RETURN_IF_ERROR(ReadScalar<T>(ctx, 6, "beta1", &beta1));
      CKPT_RETURN_IF_ERROR(ReadScalar<T>(ctx, 7, "beta2", &beta2));
      CKPT_RETURN_IF_ERROR(ReadScalar<T>(ctx, 8, "epsilon", &epsilon));
      UpdateTarget var_target, m_target, v_target;
      CKPT_ASSIGN_OR_RETURN(T * var, Writable<T>(&var_target, var_slot));
      CKPT_ASSIGN_OR_RETURN(T * m, Writable<T>(&m_target, m_slot));
      CKPT_ASSIGN_OR_RETURN(T * v, Writable<T>(&v_target, v_slot));
      const T* g = Data<T>(grad);
      const int64_t n = grad.NumElements();
      const T alpha = lr * std::sqrt(T(1) - beta2_power) / (T(1) - beta1_power);
      const T one_minus_beta1 = T(1) - beta1;
      const T one_minus_beta2 = T(1) - beta2;
      for (int64_t i = 0; i < n; ++i) {
        m[i] = m[i] + (g[i] - m[i]) * one_minus_beta1;
        v[i] = v[i] + (g[i] * g[i] - v[i]) * one_minus_beta2;
        const T step = use_nesterov_ ? (g[i] * one_minus_beta1 + beta1 * m[i]) * alpha
                                     : m[i] * alpha;
        var[i] = var[i] - step / (std::sqrt(v[i]) + epsilon);
      }
      Commit(&var_target);
      Commit(&m_target);
      Commit(&v_target);
      ctx->set_ref_output(0, var_slot);
      return absl::OkStatus();
    });
  }

 private:
  bool use_nesterov_ = false;
};

}  // namespace

void RegisterTrainingKernels(KernelRegistry* r) {
  r->Register("ApplyGradientDescent", MakeKernel<ApplyGradientDescentOp>);
  r->Register("ApplyMomentum", MakeKernel<ApplyMomentumOp>);
  r->Register("ApplyAdam", MakeKernel<ApplyAdamOp>);
}

}  // namespace runtime
}  // namespace ckpt
