// ckpt_dump --object_graph: the tree of objects a TF2 checkpoint saved
// (`_CHECKPOINTABLE_OBJECT_GRAPH`), with each object's tensors and optimizer
// slots.
#ifndef CKPT_TOOLS_COMMON_OBJECT_GRAPH_H_
#define CKPT_TOOLS_COMMON_OBJECT_GRAPH_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "ckpt/bundle_reader.h"

namespace ckpt {
namespace tools {

constexpr char kObjectGraphKey[] = "_CHECKPOINTABLE_OBJECT_GRAPH";

struct ObjectGraphReport {
  std::string text;
  nlohmann::ordered_json json;
};

// NotFound when the checkpoint has no object graph (TF1 checkpoints);
// DataLoss when it does not parse.
absl::StatusOr<ObjectGraphReport> DescribeObjectGraph(const BundleReader& reader);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_OBJECT_GRAPH_H_
