#include "ckpt/runtime/meta_graph_import.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "ckpt/meta_graph.h"
#include "ckpt/status_macros.h"

namespace ckpt {
namespace {

constexpr char kVariables[] = "variables";
constexpr char kTrainableVariables[] = "trainable_variables";

// The VariableDefs of a bytes_list collection; absent collection: none.
absl::StatusOr<std::vector<::tensorflow::VariableDef>> VariableCollection(
    const ::tensorflow::MetaGraphDef& mg, const std::string& key) {
  std::vector<::tensorflow::VariableDef> out;
  auto it = mg.collection_def().find(key);
  if (it == mg.collection_def().end()) return out;
  if (!it->second.has_bytes_list()) {
    return absl::InvalidArgumentError(
        absl::StrCat("collection '", key, "' does not hold serialized VariableDefs"));
  }
  const auto& values = it->second.bytes_list().value();
  for (int i = 0; i < values.size(); ++i) {
    ::tensorflow::VariableDef v;
    if (!v.ParseFromString(values[i]) || v.variable_name().empty()) {
      return absl::DataLossError(
          absl::StrCat("collection '", key, "' entry ", i, " is not a VariableDef"));
    }
    out.push_back(std::move(v));
  }
  return out;
}

absl::Status CheckVariableNode(const Graph& graph, const ::tensorflow::VariableDef& v) {
  CKPT_ASSIGN_OR_RETURN(TensorId id, ParseTensorName(v.variable_name()));
  if (graph.FindNode(id.node) == nullptr) {
    return absl::NotFoundError(absl::StrCat("variable '", v.variable_name(),
                                            "' of the variables collection is not in the graph"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ImportedMetaGraph> ImportMetaGraph(const std::string& meta_path, Env* env) {
  CKPT_ASSIGN_OR_RETURN(::tensorflow::MetaGraphDef mg, ReadMetaGraph(meta_path, env));
  absl::StatusOr<ImportedMetaGraph> imported = ImportMetaGraph(mg, env);
  if (!imported.ok()) {
    return absl::Status(imported.status().code(),
                        absl::StrCat(meta_path, ": ", imported.status().message()));
  }
  return imported;
}

absl::StatusOr<ImportedMetaGraph> ImportMetaGraph(const ::tensorflow::MetaGraphDef& meta_graph,
                                                  Env* env) {
  ImportedMetaGraph out;
  out.meta_graph = meta_graph;
  CKPT_ASSIGN_OR_RETURN(out.graph, Graph::FromGraphDef(meta_graph.graph_def()));
  Graph& graph = *out.graph;

  CKPT_ASSIGN_OR_RETURN(std::vector<::tensorflow::VariableDef> all,
                        VariableCollection(meta_graph, kVariables));
  CKPT_ASSIGN_OR_RETURN(std::vector<::tensorflow::VariableDef> trainable,
                        VariableCollection(meta_graph, kTrainableVariables));
  absl::flat_hash_set<std::string> trainable_names;
  for (const auto& v : trainable) trainable_names.insert(v.variable_name());
  absl::flat_hash_set<std::string> added;
  for (const auto& v : all) {
    CKPT_RETURN_IF_ERROR(CheckVariableNode(graph, v));
    if (!added.insert(v.variable_name()).second) continue;
    graph.AddVariable(v, trainable_names.contains(v.variable_name()));
  }
  // A trainable variable TensorFlow left out of "variables" (it never does
  // by itself, but a hand-edited graph may).
  for (const auto& v : trainable) {
    CKPT_RETURN_IF_ERROR(CheckVariableNode(graph, v));
    if (added.insert(v.variable_name()).second) graph.AddVariable(v, true);
  }

  for (const auto& [key, collection] : meta_graph.collection_def()) {
    if (!collection.has_node_list() || key == kVariables || key == kTrainableVariables) continue;
    for (const std::string& name : collection.node_list().value()) {
      graph.AddToCollection(key, name);
    }
  }

  if (meta_graph.has_saver_def()) {
    CKPT_ASSIGN_OR_RETURN(out.saver, Saver::FromSaverDef(&graph, meta_graph.saver_def(), env));
  }
  return out;
}

}  // namespace ckpt
