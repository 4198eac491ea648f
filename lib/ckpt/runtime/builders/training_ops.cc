// Builders of the fused update ops the optimizers use. Each updates its
// variable in place and outputs a reference to it.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ckpt/runtime/builders/op_builder.h"
#include "ckpt/runtime/builders/shape_inference.h"
#include "ckpt/runtime/ops.h"

namespace ckpt {
namespace ops {
namespace {

using runtime::OpBuilder;

// Checks the shared contract: `var` and the slots are references, every
// input has the variable's dtype, `same_shape` inputs have its shape and
// `scalars` are scalars.
bool CheckUpdate(OpBuilder& b, const std::vector<std::pair<const char*, Output>>& refs,
                 const std::vector<std::pair<const char*, Output>>& same_shape,
                 const std::vector<std::pair<const char*, Output>>& scalars) {
  if (!b.ok()) return false;
  const Output& var = refs[0].second;
  auto all = refs;
  all.insert(all.end(), same_shape.begin(), same_shape.end());
  all.insert(all.end(), scalars.begin(), scalars.end());
  for (const auto& [name, o] : all) {
    if (!o.valid()) {
      b.Fail(absl::StrCat(name, " is invalid (a default-constructed Output)"));
      return false;
    }
    if (o.dtype() != var.dtype()) {
      b.Fail(absl::StrCat(name, " is ", DTypeName(o.dtype()), " but var is ",
                          DTypeName(var.dtype())));
      return false;
    }
  }
  for (const auto& [name, o] : refs) {
    if (!o.is_ref()) {
      b.Fail(absl::StrCat(name, " must be a variable reference, not '", o.name(), "'"));
      return false;
    }
  }
  auto check_shape = [&](const char* name, const Output& o) {
    if (!o.shape().IsCompatibleWith(var.shape())) {
      b.Fail(absl::StrCat(name, " has shape ", o.shape().DebugString(), " but var has ",
                          var.shape().DebugString()));
      return false;
    }
    return true;
  };
  for (size_t i = 1; i < refs.size(); ++i) {
    if (!check_shape(refs[i].first, refs[i].second)) return false;
  }
  for (const auto& [name, o] : same_shape) {
    if (!check_shape(name, o)) return false;
  }
  for (const auto& [name, o] : scalars) {
    if (o.shape().rank() > 0) {
      b.Fail(absl::StrCat(name, " must be a scalar, not of shape ", o.shape().DebugString()));
      return false;
    }
  }
  return true;
}

}  // namespace

Output ApplyGradientDescent(const Scope& s, Output var, Output alpha, Output delta,
                            bool use_locking) {
  OpBuilder b(s, "ApplyGradientDescent", "ApplyGradientDescent");
  if (!CheckUpdate(b, {{"var", var}}, {{"delta", delta}}, {{"alpha", alpha}})) return Output();
  b.Input(var).Input(alpha).Input(delta).Attr("use_locking", AttrBool(use_locking));
  return b.FinishOutput(var.shape());
}

Output ApplyMomentum(const Scope& s, Output var, Output accum, Output lr, Output grad,
                     Output momentum, bool use_locking, bool use_nesterov) {
  OpBuilder b(s, "ApplyMomentum", "ApplyMomentum");
  if (!CheckUpdate(b, {{"var", var}, {"accum", accum}}, {{"grad", grad}},
                   {{"lr", lr}, {"momentum", momentum}})) {
    return Output();
  }
  b.Input(var).Input(accum).Input(lr).Input(grad).Input(momentum)
      .Attr("use_locking", AttrBool(use_locking))
      .Attr("use_nesterov", AttrBool(use_nesterov));
  return b.FinishOutput(var.shape());
}

Output ApplyAdam(const Scope& s, Output var, Output m, Output v, Output beta1_power,
                 Output beta2_power, Output lr, Output beta1, Output beta2, Output epsilon,
                 Output grad, bool use_locking, bool use_nesterov) {
  OpBuilder b(s, "ApplyAdam", "ApplyAdam");
  if (!CheckUpdate(b, {{"var", var}, {"m", m}, {"v", v}}, {{"grad", grad}},
                   {{"beta1_power", beta1_power},
                    {"beta2_power", beta2_power},
                    {"lr", lr},
                    {"beta1", beta1},
                    {"beta2", beta2},
                    {"epsilon", epsilon}})) {
    return Output();
  }
  b.Input(var).Input(m).Input(v).Input(beta1_power).Input(beta2_power).Input(lr).Input(beta1)
      .Input(beta2).Input(epsilon).Input(grad)
      .Attr("use_locking", AttrBool(use_locking))
      .Attr("use_nesterov", AttrBool(use_nesterov));
  return b.FinishOutput(var.shape());
}

}  // namespace ops
}  // namespace ckpt
