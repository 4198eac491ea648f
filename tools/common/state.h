// ckpt_dump --state: the `checkpoint` file's entries and which exist.
#ifndef CKPT_TOOLS_COMMON_STATE_H_
#define CKPT_TOOLS_COMMON_STATE_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"

namespace ckpt {
namespace tools {

struct StateReport {
  std::string text;
  nlohmann::ordered_json json;
};

// `path`: a directory, or anything inside one (a prefix or file) whose
// directory holds the `checkpoint` file.
absl::StatusOr<StateReport> DescribeCheckpointState(const std::string& path);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_STATE_H_
