// tf.train.MomentumOptimizer: one zero-initialized accumulator slot per
// variable, "<var>/Momentum".
#include <string>
#include <utility>
#include <vector>

#include "ckpt/runtime/builders/op_builder.h"
#include "ckpt/runtime/optimizers.h"

namespace ckpt {

MomentumOptimizer::MomentumOptimizer(float learning_rate, float momentum, bool use_nesterov,
                                     std::string name, bool use_locking)
    : Optimizer(std::move(name), use_locking),
      learning_rate_(learning_rate),
      momentum_(momentum),
      use_nesterov_(use_nesterov) {}

absl::Status MomentumOptimizer::CreateSlots(const Scope& root, const std::vector<Var>& vars) {
  for (const Var& v : vars) ZerosSlot(root, v, "momentum", name());
  return root.status();
}

absl::Status MomentumOptimizer::Prepare(const Scope& s) {
  lr_ = runtime::ScalarConst(s.WithOpName("learning_rate"), DT_FLOAT, learning_rate_);
  momentum_t_ = runtime::ScalarConst(s.WithOpName("momentum"), DT_FLOAT, momentum_);
  return absl::OkStatus();
}

Output MomentumOptimizer::ApplyDense(const Scope& update, Output grad, const Var& var) {
  Var accum = GetSlot(var, "momentum");
  return ops::ApplyMomentum(update, var.ref(), accum.ref(), CastTo(update, lr_, var), grad,
                            CastTo(update, momentum_t_, var), use_locking(), use_nesterov_);
}

}  // namespace ckpt
