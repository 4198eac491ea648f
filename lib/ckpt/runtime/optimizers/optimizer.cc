// The optimizer base: TensorFlow 1.x optimizer.py's minimize /
// compute_gradients / apply_gradients and slot_creator.py's zeros slots.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ckpt/runtime/builders/op_builder.h"
#include "ckpt/runtime/gradients.h"
#include "ckpt/runtime/optimizers.h"

namespace ckpt {
namespace {

absl::Status Fail(const Scope& s, absl::Status status) {
  s.UpdateStatus(status);
  return status;
}

// The Var a VariableDef of the graph describes.
absl::StatusOr<Var> VarFromDef(const Graph& g, const ::tensorflow::VariableDef& def) {
  absl::StatusOr<Output> ref = g.FindOutput(def.variable_name());
  if (!ref.ok()) {
    return absl::NotFoundError(absl::StrCat("variable '", def.variable_name(),
                                            "' of the variables collection: ",
                                            ref.status().message()));
  }
  absl::StatusOr<Output> value = g.FindOutput(def.snapshot_name());
  if (!value.ok()) {
    return absl::NotFoundError(absl::StrCat("variable '", def.variable_name(), "': snapshot ",
                                            value.status().message()));
  }
  Operation init;
  if (!def.initializer_name().empty()) {
    absl::StatusOr<Operation> op = g.FindOperation(def.initializer_name());
    if (op.ok()) init = *op;
  }
  Output initial_value;
  if (!def.initial_value_name().empty()) {
    absl::StatusOr<Output> iv = g.FindOutput(def.initial_value_name());
    if (iv.ok()) initial_value = *iv;
  }
  return Var(*ref, *value, init, initial_value);
}

bool IsFloatingDType(DType t) {
  return t == DT_FLOAT || t == DT_DOUBLE || t == DT_HALF || t == DT_BFLOAT16;
}

}  // namespace

Optimizer::Optimizer(std::string name, bool use_locking)
    : name_(std::move(name)), use_locking_(use_locking) {}

Optimizer::~Optimizer() = default;

absl::StatusOr<std::vector<std::pair<Output, Var>>> Optimizer::ComputeGradients(
    const Scope& s, Output loss, std::vector<Var> var_list) {
  if (!s.ok()) return s.status();
  if (!loss.valid()) {
    return Fail(s, absl::InvalidArgumentError(
                       absl::StrCat(name_, ": the loss is an invalid Output")));
  }
  if (var_list.empty()) {
    for (const auto& def : s.graph()->trainable_variables()) {
      absl::StatusOr<Var> v = VarFromDef(*s.graph(), def);
      if (!v.ok()) return Fail(s, v.status());
      var_list.push_back(*v);
    }
  }
  if (var_list.empty()) {
    return Fail(s, absl::InvalidArgumentError(
                       absl::StrCat(name_, ": no variables to optimize")));
  }
  std::vector<Output> refs;
  for (const Var& v : var_list) {
    if (!v.valid()) {
      return Fail(s, absl::InvalidArgumentError(
                         absl::StrCat(name_, ": var_list holds an invalid Var")));
    }
    if (!IsFloatingDType(v.dtype())) {
      return Fail(s, absl::InvalidArgumentError(
                         absl::StrCat(name_, ": variable '", v.name(), "' is ",
                                      DTypeName(v.dtype()),
                                      "; only floating-point variables can be optimized")));
    }
    refs.push_back(v.ref());
  }
  GradientOptions options;
  options.gate_gradients = true;
  absl::StatusOr<std::vector<Output>> grads =
      AddSymbolicGradients(s, {loss}, refs, {}, options);
  if (!grads.ok()) return grads.status();
  std::vector<std::pair<Output, Var>> out;
  for (size_t i = 0; i < var_list.size(); ++i) out.emplace_back((*grads)[i], var_list[i]);
  return out;
}

absl::StatusOr<Operation> Optimizer::ApplyGradients(
    const Scope& s, const std::vector<std::pair<Output, Var>>& grads_and_vars) {
  if (!s.ok()) return s.status();
  if (grads_and_vars.empty()) {
    return Fail(s, absl::InvalidArgumentError(absl::StrCat(name_, ": no variables provided")));
  }
  std::vector<Var> with_grad;
  std::vector<std::string> names;
  for (const auto& [grad, var] : grads_and_vars) {
    if (!var.valid()) {
      return Fail(s, absl::InvalidArgumentError(
                         absl::StrCat(name_, ": grads_and_vars holds an invalid Var")));
    }
    names.push_back(var.name());
    if (!grad.valid()) continue;
    if (grad.dtype() != var.dtype()) {
      return Fail(s, absl::InvalidArgumentError(absl::StrCat(
                         name_, ": the gradient of '", var.name(), "' is ",
                         DTypeName(grad.dtype()), " but the variable is ",
                         DTypeName(var.dtype()))));
    }
    if (!grad.shape().IsCompatibleWith(var.shape())) {
      return Fail(s, absl::InvalidArgumentError(absl::StrCat(
                         name_, ": the gradient of '", var.name(), "' has shape ",
                         grad.shape().DebugString(), " but the variable has ",
                         var.shape().DebugString())));
    }
    with_grad.push_back(var);
  }
  if (with_grad.empty()) {
    return Fail(s, absl::InvalidArgumentError(
                       absl::StrCat(name_, ": no gradients provided for any variable (",
                                    absl::StrJoin(names, ", "), ")")));
  }
  Scope root = Scope::NewRootScope(s.graph());
  absl::Status st = CreateSlots(root, with_grad);
  if (st.ok()) st = root.status();
  if (!st.ok()) return Fail(s, st);

  const Scope os = s.NewSubScope(name_);
  std::string scope_name = os.name_prefix();
  scope_name.pop_back();
  st = Prepare(os);
  if (st.ok()) st = os.status();
  if (!st.ok()) return Fail(s, st);
  std::vector<Operation> updates;
  for (const auto& [grad, var] : grads_and_vars) {
    if (!grad.valid()) continue;
    Output u = ApplyDense(os.NewSubScope(absl::StrCat("update_", var.name())), grad, var);
    if (!os.ok()) return os.status();
    updates.push_back(Operation(u));
  }
  Operation train = Finish(os, updates, scope_name);
  if (!os.ok()) return os.status();
  s.graph()->AddToCollection("train_op", train.name());
  return train;
}

absl::StatusOr<Operation> Optimizer::Minimize(const Scope& s, Output loss,
                                              std::vector<Var> var_list) {
  absl::StatusOr<std::vector<std::pair<Output, Var>>> gv =
      ComputeGradients(s, loss, std::move(var_list));
  if (!gv.ok()) return gv.status();
  return ApplyGradients(s, *gv);
}

Var Optimizer::GetSlot(const Var& var, const std::string& slot_name) const {
  auto it = slots_.find(slot_name);
  if (it == slots_.end() || !var.valid()) return Var();
  auto v = it->second.find(var.name());
  return v == it->second.end() ? Var() : v->second;
}

std::vector<std::string> Optimizer::GetSlotNames() const {
  std::vector<std::string> out;
  for (const auto& [name, vars] : slots_) out.push_back(name);
  return out;
}

absl::Status Optimizer::CreateSlots(const Scope& root, const std::vector<Var>& vars) {
  return absl::OkStatus();
}

Operation Optimizer::Finish(const Scope& s, const std::vector<Operation>& update_ops,
                            const std::string& name) {
  return GroupNamed(s, update_ops, name);
}

Var Optimizer::ZerosSlot(const Scope& root, const Var& var, const std::string& slot_name,
                         const std::string& op_name) {
  Var existing = GetSlot(var, slot_name);
  if (existing.valid() && root.graph()->FindNode(existing.name()) == existing.ref().node()) {
    return existing;
  }
  if (!root.ok()) return Var();
  if (!var.shape().IsFullyDefined()) {
    root.UpdateStatus(absl::InvalidArgumentError(
        absl::StrCat(name_, ": variable '", var.name(), "' has shape ",
                     var.shape().DebugString(), "; a slot needs a fully defined one")));
    return Var();
  }
  // slot_creator names the variable "<var>/<op_name>" (made unique) and its
  // initial value "<slot>/Initializer/zeros".
  const std::string slot_var =
      runtime::PredictUniqueName(root, absl::StrCat(var.name(), "/", op_name));
  Output zeros = runtime::FilledConst(root.WithOpName(absl::StrCat(slot_var, "/Initializer/zeros")),
                                      var.dtype(), var.shape().ToShape(), 0);
  ops::VariableOptions options;
  options.name = slot_var;
  options.trainable = false;
  Var slot = ops::Variable(root, zeros, options);
  if (slot.valid()) slots_[slot_name][var.name()] = slot;
  return slot;
}

Operation Optimizer::GroupNamed(const Scope& s, const std::vector<Operation>& deps,
                                const std::string& name) {
  Node* n = s.WithControlDependencies(deps).AddOpNamed("NoOp", name, {}, {}, {});
  return n == nullptr ? Operation() : Operation(n);
}

Output Optimizer::CastTo(const Scope& s, Output value, const Var& var) {
  return ops::Cast(s, value, var.dtype());
}

}  // namespace ckpt
