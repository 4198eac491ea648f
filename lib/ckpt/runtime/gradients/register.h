// The gradient families; each Register*Gradients function lives in
// gradients/<family>_grad.cc and all are called once from
// GradientRegistry::Global().
#ifndef CKPT_RUNTIME_GRADIENTS_REGISTER_H_
#define CKPT_RUNTIME_GRADIENTS_REGISTER_H_

#include "ckpt/runtime/gradients.h"

namespace ckpt {
namespace runtime {

void RegisterMathGradients(GradientRegistry* r);   // arithmetic, MatMul, reductions, Cast
void RegisterNnGradients(GradientRegistry* r);     // activations, softmax, cross entropy, BiasAdd
void RegisterArrayGradients(GradientRegistry* r);  // Identity, Reshape, Concat, Pack, Tile, ...

}  // namespace runtime
}  // namespace ckpt

#endif  // CKPT_RUNTIME_GRADIENTS_REGISTER_H_
