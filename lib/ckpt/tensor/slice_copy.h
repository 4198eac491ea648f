// Copying rectangular regions between tensors that each hold one slice of a
// larger tensor (assembling partitioned variables, reading sub-slices).
#ifndef CKPT_TENSOR_SLICE_COPY_H_
#define CKPT_TENSOR_SLICE_COPY_H_

#include <functional>

#include "absl/status/status.h"
#include "ckpt/tensor.h"
#include "ckpt/tensor_slice.h"

namespace ckpt {

// Calls fn(src_index, dst_index, count) for each contiguous run of elements
// of `region` (all slices resolved against `full_shape`, same rank), where
// the indices are element offsets into row-major buffers holding `src_slice`
// and `dst_slice` respectively. `region` must lie inside both.
void ForEachRegionRun(const TensorShape& full_shape, const TensorSlice& src_slice,
                      const TensorSlice& dst_slice, const TensorSlice& region,
                      const std::function<void(int64_t, int64_t, int64_t)>& fn);

// Copies `region` from `src` (holding src_slice) into `dst` (holding
// dst_slice). Same dtype required; works for every fixed-size dtype and
// strings.
absl::Status CopySliceRegion(const TensorShape& full_shape, const Tensor& src,
                             const TensorSlice& src_slice, Tensor* dst,
                             const TensorSlice& dst_slice, const TensorSlice& region);

}  // namespace ckpt

#endif  // CKPT_TENSOR_SLICE_COPY_H_
