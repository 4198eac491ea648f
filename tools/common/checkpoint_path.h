// Turning what a user typed into a checkpoint prefix: the prefix itself, one
// of its files, a directory with a `checkpoint` file, or a SavedModel
// directory. One place for this rule, shared by every tool.
#ifndef CKPT_TOOLS_COMMON_CHECKPOINT_PATH_H_
#define CKPT_TOOLS_COMMON_CHECKPOINT_PATH_H_

#include <string>

#include "absl/status/statusor.h"

namespace ckpt {
namespace tools {

// NotFound, saying what was looked for and what is there, when `path` is
// none of the accepted forms.
absl::StatusOr<std::string> ResolveCheckpointPrefix(const std::string& path);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_CHECKPOINT_PATH_H_
