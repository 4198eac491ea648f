// ckpt_convert's work: copying a bundle tensor by tensor, and converting
// between a bundle, NumPy's .npz and .safetensors (tensor_source.h, npz.h,
// safetensors.h).
//
//   SinkOptions options;
//   options.strict = true;
//   CKPT_ASSIGN_OR_RETURN(ConvertStats stats,
//                         Convert("/tmp/run", "/tmp/model.safetensors", options));
#ifndef CKPT_TOOLS_COMMON_CONVERT_H_
#define CKPT_TOOLS_COMMON_CONVERT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/tensor_source.h"

namespace ckpt {
namespace tools {

// Reads every record of `src` (slices included) in data-file order, verifying
// it, and writes it to `dst` with the source's byte order. Streams: one
// tensor in memory at a time.
absl::StatusOr<ConvertStats> CopyBundle(const std::string& src, const std::string& dst);

// Converts `src` to `dst`, each a bundle, an .npz or a .safetensors file by
// its ending (FormatOfPath). A bundle `src` may be given in any form
// ResolveCheckpointPrefix accepts. Bundle to bundle is CopyBundle (slices
// and byte order kept); every other pair streams through a TensorSource
// into the destination's sink, partitioned tensors whole.
absl::StatusOr<ConvertStats> Convert(const std::string& src, const std::string& dst,
                                     const SinkOptions& options);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_CONVERT_H_
