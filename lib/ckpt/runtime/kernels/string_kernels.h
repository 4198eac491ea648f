// String kernels: StringJoin, ShardedFilename, ShardedFilespec (the string
// ops a saver graph uses to name its shards).
#ifndef CKPT_RUNTIME_KERNELS_STRING_KERNELS_H_
#define CKPT_RUNTIME_KERNELS_STRING_KERNELS_H_

#include "ckpt/runtime/kernel.h"

namespace ckpt {
namespace runtime {

void RegisterStringKernels(KernelRegistry* r);

}  // namespace runtime
}  // namespace ckpt

#endif  // CKPT_RUNTIME_KERNELS_STRING_KERNELS_H_
