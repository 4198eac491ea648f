// tf.train.AdamOptimizer (TensorFlow 1.x): slots "<var>/Adam" (m) and
// "<var>/Adam_1" (v), and the graph-wide accumulators beta1_power and
// beta2_power, updated after every variable's ApplyAdam.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ckpt/runtime/builders/op_builder.h"
#include "ckpt/runtime/optimizers.h"

namespace ckpt {
namespace {

// variables.Variable(value, name=name, trainable=False): the initial value
// is the Const "<name>/initial_value".
Var ScalarVariable(const Scope& root, const std::string& name, float value) {
  const std::string unique = runtime::PredictUniqueName(root, name);
  Output init = runtime::ScalarConst(root.WithOpName(absl::StrCat(unique, "/initial_value")),
                                     DT_FLOAT, value);
  ops::VariableOptions options;
  options.name = unique;
  options.trainable = false;
  return ops::Variable(root, init, options);
}

}  // namespace

AdamOptimizer::AdamOptimizer(float learning_rate, float beta1, float beta2, float epsilon,
                             std::string name, bool use_locking)
    : Optimizer(std::move(name), use_locking),
      learning_rate_(learning_rate),
      beta1_(beta1),
      beta2_(beta2),
      epsilon_(epsilon) {}

absl::Status AdamOptimizer::CreateSlots(const Scope& root, const std::vector<Var>& vars) {
  // The accumulators are made once per graph, before the first slots.
  const bool have = beta1_power_.valid() &&
                    root.graph()->FindNode(beta1_power_.name()) == beta1_power_.ref().node();
  if (!have) {
    beta1_power_ = ScalarVariable(root, "beta1_power", beta1_);
    beta2_power_ = ScalarVariable(root, "beta2_power", beta2_);
  }
  for (const Var& v : vars) {
    ZerosSlot(root, v, "m", name());
    ZerosSlot(root, v, "v", name());
  }
  return root.status();
}

absl::Status AdamOptimizer::Prepare(const Scope& s) {
  lr_ = runtime::ScalarConst(s.WithOpName("learning_rate"), DT_FLOAT, learning_rate_);
  beta1_t_ = runtime::ScalarConst(s.WithOpName("beta1"), DT_FLOAT, beta1_);
  beta2_t_ = runtime::ScalarConst(s.WithOpName("beta2"), DT_FLOAT, beta2_);
  epsilon_t_ = runtime::ScalarConst(s.WithOpName("epsilon"), DT_FLOAT, epsilon_);
  return absl::OkStatus();
}

Output AdamOptimizer::ApplyDense(const Scope& update, Output grad, const Var& var) {
  Var m = GetSlot(var, "m");
  Var v = GetSlot(var, "v");
  return ops::ApplyAdam(update, var.ref(), m.ref(), v.ref(),
                        CastTo(update, beta1_power_.value(), var),
                        CastTo(update, beta2_power_.value(), var), CastTo(update, lr_, var),
                        CastTo(update, beta1_t_, var), CastTo(update, beta2_t_, var),
                        CastTo(update, epsilon_t_, var), grad, use_locking());
}

Operation AdamOptimizer::Finish(const Scope& s, const std::vector<Operation>& update_ops,
                                const std::string& name) {
  // The powers advance only after every variable has been updated with the
  // current ones.
  const Scope after = s.WithControlDependencies(update_ops);
  Output b1 = ops::Mul(after, beta1_power_.value(), beta1_t_);
  Output update_b1 = ops::Assign(s, beta1_power_.ref(), b1, true, use_locking());
  Output b2 = ops::Mul(after, beta2_power_.value(), beta2_t_);
  Output update_b2 = ops::Assign(s, beta2_power_.ref(), b2, true, use_locking());
  std::vector<Operation> all = update_ops;
  all.push_back(Operation(update_b1));
  all.push_back(Operation(update_b2));
  return GroupNamed(s, all, name);
}

}  // namespace ckpt
