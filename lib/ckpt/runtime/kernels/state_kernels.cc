// Constants, placeholders, identity, no-op and variables.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "ckpt/runtime/kernel.h"
#include "ckpt/runtime/kernels/register.h"
#include "ckpt/status_macros.h"

namespace ckpt {
namespace runtime {
namespace {

class ConstOp : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    CKPT_ASSIGN_OR_RETURN(Tensor value, GetTensorAttr(c.def, "value"));
    CKPT_ASSIGN_OR_RETURN(DType dtype, GetTypeAttr(c.def, "dtype"));
    if (value.dtype() != dtype) {
      return absl::InvalidArgumentError(absl::StrCat("value is ", DTypeName(value.dtype()),
                                                     " but attr dtype is ", DTypeName(dtype)));
    }
    return std::unique_ptr<OpKernel>(new ConstOp(std::move(value)));
  }
  absl::Status Compute(KernelContext* ctx) override {
    ctx->set_output(0, value_);
    return absl::OkStatus();
  }

 private:
  explicit ConstOp(Tensor value) : value_(std::move(value)) {}
  Tensor value_;  // never changed: consumers that update in place copy first
};

// Runs only when a Run needs the placeholder and did not feed it.
class PlaceholderOp : public OpKernel {
 public:
  explicit PlaceholderOp(const KernelConstruction& c) {
    absl::StatusOr<DType> t = GetTypeAttr(c.def, "dtype");
    dtype_ = t.ok() ? DTypeName(*t) : "?";
  }
  absl::Status Compute(KernelContext* ctx) override {
    return absl::InvalidArgumentError(absl::StrCat("you must feed a value for placeholder '",
                                                   ctx->def().name(), "' (", dtype_, ")"));
  }

 private:
  std::string dtype_;
};

class IdentityOp : public OpKernel {
 public:
  explicit IdentityOp(const KernelConstruction&) {}
  absl::Status Compute(KernelContext* ctx) override {
    ctx->set_output(0, ctx->input(0));
    return absl::OkStatus();
  }
};

class NoOpOp : public OpKernel {
 public:
  explicit NoOpOp(const KernelConstruction&) {}
  absl::Status Compute(KernelContext*) override { return absl::OkStatus(); }
};

class VariableOp : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    CKPT_ASSIGN_OR_RETURN(DType dtype, GetTypeAttr(c.def, "dtype"));
    std::string name = c.def.name();
    absl::StatusOr<std::string> shared = GetStringAttr(c.def, "shared_name");
    if (shared.ok() && !shared->empty()) name = *shared;
    absl::StatusOr<std::string> container = GetStringAttr(c.def, "container");
    if (container.ok() && !container->empty()) name = absl::StrCat(*container, "/", name);
    return std::unique_ptr<OpKernel>(
        new VariableOp(c.state->GetOrCreateVariable(name, dtype)));
  }
  absl::Status Compute(KernelContext* ctx) override {
    ctx->set_ref_output(0, slot_);
    return absl::OkStatus();
  }

 private:
  explicit VariableOp(VarSlot* slot) : slot_(slot) {}
  VarSlot* slot_;
};

class AssignOp : public OpKernel {
 public:
  explicit AssignOp(const KernelConstruction& c) {
    absl::StatusOr<bool> v = GetBoolAttr(c.def, "validate_shape");
    validate_shape_ = !v.ok() || *v;
  }
  absl::Status Compute(KernelContext* ctx) override {
    VarSlot* var = ctx->ref_input(0);
    if (var == nullptr) return absl::InvalidArgumentError("input 0 is not a variable");
    const Tensor& value = ctx->input(1);
    if (value.dtype() != var->dtype) {
      return absl::InvalidArgumentError(absl::StrCat("cannot assign a ", DTypeName(value.dtype()),
                                                     " value to ", DTypeName(var->dtype),
                                                     " variable '", var->name, "'"));
    }
    if (validate_shape_ && var->initialized() && var->value.shape() != value.shape()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot assign a value of shape ", value.shape().DebugString(), " to variable '",
          var->name, "' of shape ", var->value.shape().DebugString()));
    }
    // The variable gets its own copy: it is updated in place later, and the
    // value may be a constant, another variable, or a view of a file.
    var->value = value.Clone();
    ctx->set_ref_output(0, var);
    return absl::OkStatus();
  }

 private:
  bool validate_shape_ = true;
};

template <bool kSubtract>
class AssignUpdateOp : public OpKernel {
 public:
  explicit AssignUpdateOp(const KernelConstruction&) {}
  absl::Status Compute(KernelContext* ctx) override {
    VarSlot* var = ctx->ref_input(0);
    if (var == nullptr) return absl::InvalidArgumentError("input 0 is not a variable");
    if (!var->initialized()) {
      return absl::FailedPreconditionError(
          absl::StrCat("attempting to use uninitialized value ", var->name));
    }
    const Tensor& delta = ctx->input(1);
    if (delta.dtype() != var->dtype || delta.shape() != var->value.shape()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot update variable '", var->name, "' (", var->value.DebugString(), ") with ",
          delta.DebugString()));
    }
    if (!var->value.RefCountIsOne()) var->value = var->value.Clone();
    switch (var->dtype) {
      case DT_FLOAT: Update<float>(&var->value, delta); break;
      case DT_DOUBLE: Update<double>(&var->value, delta); break;
      case DT_INT32: Update<int32_t>(&var->value, delta); break;
      case DT_INT64: Update<int64_t>(&var->value, delta); break;
      default:
        return absl::UnimplementedError(
            absl::StrCat("no kernel for dtype ", DTypeName(var->dtype)));
    }
    ctx->set_ref_output(0, var);
    return absl::OkStatus();
  }

 private:
  template <typename T>
  static void Update(Tensor* var, const Tensor& delta) {
    absl::Span<T> v = var->mutable_flat<T>();
    absl::Span<const T> d = delta.flat<T>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = kSubtract ? v[i] - d[i] : v[i] + d[i];
  }
};

class IsVariableInitializedOp : public OpKernel {
 public:
  explicit IsVariableInitializedOp(const KernelConstruction&) {}
  absl::Status Compute(KernelContext* ctx) override {
    VarSlot* var = ctx->ref_input(0);
    CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, DT_BOOL, TensorShape({})));
    out->mutable_flat<bool>()[0] = var != nullptr && var->initialized();
    return absl::OkStatus();
  }
};

}  // namespace

void RegisterStateKernels(KernelRegistry* r) {
  r->Register("Const", ConstOp::Create);
  r->Register("Placeholder", MakeKernel<PlaceholderOp>);
  r->Register("PlaceholderWithDefault", MakeKernel<IdentityOp>);
  r->Register("Identity", MakeKernel<IdentityOp>);
  r->Register("NoOp", MakeKernel<NoOpOp>);
  r->Register("VariableV2", VariableOp::Create);
  r->Register("Variable", VariableOp::Create);
  r->Register("Assign", MakeKernel<AssignOp>);
  r->Register("AssignAdd", MakeKernel<AssignUpdateOp<false>>);
  r->Register("AssignSub", MakeKernel<AssignUpdateOp<true>>);
  r->Register("IsVariableInitialized", MakeKernel<IsVariableInitializedOp>);
}

}  // namespace runtime
}  // namespace ckpt
