// ckpt_dump --meta: what a `.meta` (MetaGraphDef) or `saved_model.pb`
// describes — TensorFlow version, ops, variables, Saver, collections and
// signatures.
#ifndef CKPT_TOOLS_COMMON_META_SUMMARY_H_
#define CKPT_TOOLS_COMMON_META_SUMMARY_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"

namespace ckpt {
namespace tools {

struct MetaReport {
  std::string text;
  nlohmann::ordered_json json;
};

// `path`: a .meta file, a checkpoint prefix with a .meta beside it, a
// saved_model.pb, or a SavedModel directory. NotFound saying what was
// looked for otherwise.
absl::StatusOr<MetaReport> DescribeMeta(const std::string& path);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_META_SUMMARY_H_
