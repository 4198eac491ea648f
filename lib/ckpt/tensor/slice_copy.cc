#include "ckpt/tensor/slice_copy.h"

#include <cstring>
#include <vector>

namespace ckpt {

void ForEachRegionRun(const TensorShape& full_shape, const TensorSlice& src_slice,
                      const TensorSlice& dst_slice, const TensorSlice& region,
                      const std::function<void(int64_t, int64_t, int64_t)>& fn) {
  const int rank = full_shape.rank();
  if (rank == 0) {
    fn(0, 0, 1);
    return;
  }
  std::vector<int64_t> lo(rank), hi(rank), src_start(rank), dst_start(rank);
  std::vector<int64_t> src_stride(rank), dst_stride(rank);
  for (int d = 0; d < rank; ++d) {
    lo[d] = region.Start(d);
    hi[d] = region.End(d, full_shape.dim(d));
    if (hi[d] <= lo[d]) return;  // empty region
    src_start[d] = src_slice.Start(d);
    dst_start[d] = dst_slice.Start(d);
  }
  int64_t ss = 1, ds = 1;
  for (int d = rank - 1; d >= 0; --d) {
    src_stride[d] = ss;
    dst_stride[d] = ds;
    ss *= src_slice.End(d, full_shape.dim(d)) - src_slice.Start(d);
    ds *= dst_slice.End(d, full_shape.dim(d)) - dst_slice.Start(d);
  }
  const int64_t run = hi[rank - 1] - lo[rank - 1];
  std::vector<int64_t> idx(lo);
  while (true) {
    int64_t s = 0, t = 0;
    for (int d = 0; d < rank; ++d) {
      s += (idx[d] - src_start[d]) * src_stride[d];
      t += (idx[d] - dst_start[d]) * dst_stride[d];
    }
    fn(s, t, run);
    int d = rank - 2;
    while (d >= 0 && ++idx[d] == hi[d]) {
      idx[d] = lo[d];
      --d;
    }
    if (d < 0) return;
  }
}

absl::Status CopySliceRegion(const TensorShape& full_shape, const Tensor& src,
                             const TensorSlice& src_slice, Tensor* dst,
                             const TensorSlice& dst_slice, const TensorSlice& region) {
  if (src.dtype() != dst->dtype()) {
    return absl::InvalidArgumentError("slice copy between different dtypes");
  }
  if (src.dtype() == DT_STRING) {
    const std::vector<std::string>& from = src.strings();
    std::vector<std::string>* to = dst->mutable_strings();
    ForEachRegionRun(full_shape, src_slice, dst_slice, region,
                     [&](int64_t s, int64_t t, int64_t n) {
                       for (int64_t i = 0; i < n; ++i) (*to)[t + i] = from[s + i];
                     });
    return absl::OkStatus();
  }
  const size_t width = DTypeSize(src.dtype());
  char* out = dst->mutable_raw_data();
  if (width == 0 || out == nullptr) {
    return absl::InvalidArgumentError("slice copy needs an owned fixed-size destination");
  }
  const char* in = src.raw_data();
  ForEachRegionRun(full_shape, src_slice, dst_slice, region,
                   [&](int64_t s, int64_t t, int64_t n) {
                     std::memcpy(out + t * width, in + s * width, n * width);
                   });
  return absl::OkStatus();
}

}  // namespace ckpt
