// Gradients of the neural-network ops, as TensorFlow's nn_grad.py builds
// them (the *Grad ops for activations, the backprop output of the fused
// cross-entropy ops).
#include <vector>

#include "ckpt/runtime/builders/internal_ops.h"
#include "ckpt/runtime/gradients.h"
#include "ckpt/runtime/gradients/register.h"
#include "ckpt/runtime/ops.h"

namespace ckpt {
namespace runtime {
namespace {

using Grads = std::vector<Output>;

absl::Status ReluGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  (*out)[0] = ops::ReluGrad(s, grads[0], op.output(0));
  return absl::OkStatus();
}

absl::Status SigmoidGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  (*out)[0] = ops::SigmoidGrad(s, op.output(0), grads[0]);
  return absl::OkStatus();
}

absl::Status TanhGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  (*out)[0] = ops::TanhGrad(s, op.output(0), grads[0]);
  return absl::OkStatus();
}

absl::Status SoftmaxGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  // (g - sum(g * y, last axis)) * y
  const Output y = op.output(0);
  Output gy = ops::Mul(s, grads[0], y);
  Output sum = ops::ReduceSum(s, gy, {-1}, /*keep_dims=*/true);
  (*out)[0] = ops::Mul(s, ops::Sub(s, grads[0], sum), y);
  return absl::OkStatus();
}

absl::Status LogSoftmaxGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  // g - sum(g, last axis) * softmax, softmax = exp(log_softmax)
  Output softmax = ops::Exp(s, op.output(0));
  Output sum = ops::ReduceSum(s, grads[0], {-1}, /*keep_dims=*/true);
  (*out)[0] = ops::Sub(s, grads[0], ops::Mul(s, sum, softmax));
  return absl::OkStatus();
}

// The fused ops' second output is d(loss)/d(logits) per example; the
// gradient scales each row by the incoming per-example gradient. None
// flows to the labels.
absl::Status CrossEntropyGrad(const Scope& s, const GradOp& op, const Grads& grads,
                              Grads* out) {
  Output g = ExpandDimsConst(s, grads[0], -1);
  (*out)[0] = ops::Mul(s, g, op.output(1));
  return absl::OkStatus();
}

absl::Status BiasAddGradFn(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  (*out)[0] = grads[0];
  (*out)[1] = BiasAddGrad(s, grads[0]);
  return absl::OkStatus();
}

}  // namespace

void RegisterNnGradients(GradientRegistry* r) {
  r->Register("Relu", ReluGrad);
  r->Register("Sigmoid", SigmoidGrad);
  r->Register("Tanh", TanhGrad);
  r->Register("Softmax", SoftmaxGrad);
  r->Register("LogSoftmax", LogSoftmaxGrad);
  r->Register("SoftmaxCrossEntropyWithLogits", CrossEntropyGrad);
  r->Register("SparseSoftmaxCrossEntropyWithLogits", CrossEntropyGrad);
  r->Register("BiasAdd", BiasAddGradFn);
}

}  // namespace runtime
}  // namespace ckpt
