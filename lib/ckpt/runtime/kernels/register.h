// The kernel families; each Register*Kernels function lives in the file of
// that family (kernels/<family>_kernels.cc) and all are called once from
// KernelRegistry::Global().
#ifndef CKPT_RUNTIME_KERNELS_REGISTER_H_
#define CKPT_RUNTIME_KERNELS_REGISTER_H_

#include "ckpt/runtime/kernel.h"

namespace ckpt {
namespace runtime {

void RegisterStateKernels(KernelRegistry* r);     // Const, Placeholder*, Identity, NoOp, Variable*, Assign*
void RegisterMathKernels(KernelRegistry* r);      // elementwise, MatMul, reductions, Cast, comparisons
void RegisterNnKernels(KernelRegistry* r);        // Relu, Softmax, cross entropy, BiasAdd, ...
void RegisterTrainingKernels(KernelRegistry* r);  // ApplyGradientDescent, ApplyMomentum, ApplyAdam
void RegisterArrayKernels(KernelRegistry* r);     // Shape, Reshape, Fill, Tile, Concat, Pack, Slice, ...
void RegisterRandomKernels(KernelRegistry* r);    // RandomStandardNormal, TruncatedNormal, RandomUniform
void RegisterIoKernels(KernelRegistry* r);        // SaveV2, RestoreV2, MergeV2Checkpoints (strings: string_kernels.h)

}  // namespace runtime
}  // namespace ckpt

#endif  // CKPT_RUNTIME_KERNELS_REGISTER_H_
