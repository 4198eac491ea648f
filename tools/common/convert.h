// Copying a bundle tensor by tensor (ckpt_convert's bundle -> bundle path).
#ifndef CKPT_TOOLS_COMMON_CONVERT_H_
#define CKPT_TOOLS_COMMON_CONVERT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace ckpt {
namespace tools {

struct ConvertStats {
  int64_t tensors = 0;
  int64_t bytes = 0;  // payload bytes written
};

// Reads every record of `src` (slices included) in data-file order, verifying
// it, and writes it to `dst` with the source's byte order. Streams: one
// tensor in memory at a time.
absl::StatusOr<ConvertStats> CopyBundle(const std::string& src, const std::string& dst);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_CONVERT_H_
