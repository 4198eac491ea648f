// tf.train.GradientDescentOptimizer.
#include <string>
#include <utility>

#include "ckpt/runtime/builders/op_builder.h"
#include "ckpt/runtime/optimizers.h"

namespace ckpt {

GradientDescentOptimizer::GradientDescentOptimizer(float learning_rate, std::string name,
                                                   bool use_locking)
    : Optimizer(std::move(name), use_locking), learning_rate_(learning_rate) {}

absl::Status GradientDescentOptimizer::Prepare(const Scope& s) {
  lr_ = runtime::ScalarConst(s.WithOpName("learning_rate"), DT_FLOAT, learning_rate_);
  return absl::OkStatus();
}

Output GradientDescentOptimizer::ApplyDense(const Scope& update, Output grad, const Var& var) {
  return ops::ApplyGradientDescent(update, var.ref(), CastTo(update, lr_, var), grad,
                                   use_locking());
}

}  // namespace ckpt
