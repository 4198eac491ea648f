// A legacy V1 checkpoint as a TensorSource (tensor_source.h), so that
// ckpt_convert can turn one into a V2 bundle, .npz or .safetensors.
#ifndef CKPT_TOOLS_COMMON_V1_SOURCE_H_
#define CKPT_TOOLS_COMMON_V1_SOURCE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/tensor_source.h"

namespace ckpt {
namespace tools {

// `path` in any form V1Reader::Open accepts. Tensors in name order (a V1
// file keeps its records in key order, which is name order); metadata
// {"source_format": "tensorflow_checkpoint_v1"}.
absl::StatusOr<std::unique_ptr<TensorSource>> OpenV1Source(const std::string& path);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_V1_SOURCE_H_
