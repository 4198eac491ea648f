#include "common/meta_summary.h"

#include "common/checkpoint_path.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ckpt/dtype.h"
#include "ckpt/env.h"
#include "ckpt/meta_graph.h"
#include "ckpt/naming.h"
#include "meta_graph.pb.h"
#include "saved_model.pb.h"
#include "variable.pb.h"

namespace ckpt {
namespace tools {
namespace {

using Json = nlohmann::ordered_json;

std::string ShapeText(const tensorflow::TensorShapeProto& s) {
  if (s.unknown_rank()) return "<unknown>";
  std::vector<std::string> dims;
  for (const auto& d : s.dim()) dims.push_back(d.size() < 0 ? "?" : absl::StrCat(d.size()));
  return absl::StrCat("[", absl::StrJoin(dims, ","), "]");
}

Json ShapeJson(const tensorflow::TensorShapeProto& s) {
  if (s.unknown_rank()) return nullptr;
  Json dims = Json::array();
  for (const auto& d : s.dim()) dims.push_back(d.size());
  return dims;
}

// Strips ":0" from a tensor name to get its node's name.
std::string NodeName(const std::string& tensor) {
  size_t colon = tensor.rfind(':');
  return colon == std::string::npos ? tensor : tensor.substr(0, colon);
}

void Describe(const tensorflow::MetaGraphDef& mg, std::string* text, Json* json) {
  const auto& info = mg.meta_info_def();
  (*json)["tensorflow_version"] = info.tensorflow_version();
  (*json)["tensorflow_git_version"] = info.tensorflow_git_version();
  (*json)["tags"] = std::vector<std::string>(info.tags().begin(), info.tags().end());
  absl::StrAppend(text, "TensorFlow:   ", info.tensorflow_version().empty() ? "(not recorded)" : info.tensorflow_version(),
                  info.tensorflow_git_version().empty() ? "" : absl::StrCat(" (", info.tensorflow_git_version(), ")"), "\n");
  if (info.tags_size() > 0) absl::StrAppend(text, "tags:         ", absl::StrJoin(info.tags(), ", "), "\n");
  const auto& graph = mg.graph_def();
  absl::StrAppend(text, "graph:        ", graph.node_size(), " nodes, producer ", graph.versions().producer(),
                  ", ", info.stripped_op_list().op_size(), " op definitions\n");
  (*json)["graph"] = {{"nodes", graph.node_size()}, {"producer", graph.versions().producer()}};

  // Op counts, most used first.
  std::map<std::string, int> ops;
  std::map<std::string, const tensorflow::NodeDef*> by_name;
  for (const auto& n : graph.node()) {
    ++ops[n.op()];
    by_name[n.name()] = &n;
  }
  std::vector<std::pair<std::string, int>> sorted(ops.begin(), ops.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  Json op_json = Json::object();
  std::vector<std::string> op_text;
  for (const auto& [op, count] : sorted) {
    op_json[op] = count;
    op_text.push_back(absl::StrCat(op, " ", count));
  }
  (*json)["op_counts"] = op_json;
  absl::StrAppend(text, "ops:          ", absl::StrJoin(op_text, ", "), "\n");

  // Variables: the `variables` collection, trainable if also in
  // `trainable_variables`; dtype and shape from the variable's node.
  std::set<std::string> trainable;
  auto collect = [&](const char* name, std::vector<tensorflow::VariableDef>* out) {
    auto it = mg.collection_def().find(name);
    if (it == mg.collection_def().end()) return;
    for (const std::string& bytes : it->second.bytes_list().value()) {
      tensorflow::VariableDef v;
      if (v.ParseFromString(bytes)) out->push_back(v);
    }
  };
  std::vector<tensorflow::VariableDef> vars, train_vars;
  collect("variables", &vars);
  collect("trainable_variables", &train_vars);
  for (const auto& v : train_vars) trainable.insert(v.variable_name());
  Json var_json = Json::array();
  if (!vars.empty()) absl::StrAppend(text, "\nvariables (", vars.size(), "):\n");
  size_t width = 4;
  for (const auto& v : vars) width = std::max(width, NodeName(v.variable_name()).size());
  for (const auto& v : vars) {
    const std::string name = NodeName(v.variable_name());
    std::string dtype = "?", shape = "?";
    Json shape_json = nullptr;
    auto node = by_name.find(name);
    if (node != by_name.end()) {
      const auto& attr = node->second->attr();
      if (attr.count("dtype")) dtype = DTypeName(attr.at("dtype").type());
      if (attr.count("shape")) {
        shape = ShapeText(attr.at("shape").shape());
        shape_json = ShapeJson(attr.at("shape").shape());
      }
    }
    const bool is_trainable = trainable.count(v.variable_name()) > 0 || v.trainable();
    absl::StrAppend(text, absl::StrFormat("  %-*s  %-8s %-14s %s\n", width, name, dtype, shape,
                                          is_trainable ? "trainable" : ""));
    var_json.push_back({{"name", name}, {"dtype", dtype}, {"shape", shape_json}, {"trainable", is_trainable}});
  }
  (*json)["variables"] = var_json;

  if (mg.has_saver_def()) {
    const auto& s = mg.saver_def();
    static const char* kVersions[] = {"LEGACY", "V1", "V2"};
    const char* version = s.version() >= 0 && s.version() <= 2 ? kVersions[s.version()] : "?";
    absl::StrAppend(text, "\nsaver:        filename ", s.filename_tensor_name(), ", save ", s.save_tensor_name(),
                    ", restore ", s.restore_op_name(), "\n              max_to_keep ", s.max_to_keep(),
                    ", keep every ", s.keep_checkpoint_every_n_hours(), " h, sharded ",
                    s.sharded() ? "yes" : "no", ", format ", version, "\n");
    (*json)["saver"] = {{"filename_tensor_name", s.filename_tensor_name()},
                        {"save_tensor_name", s.save_tensor_name()},
                        {"restore_op_name", s.restore_op_name()},
                        {"max_to_keep", s.max_to_keep()},
                        {"keep_checkpoint_every_n_hours", s.keep_checkpoint_every_n_hours()},
                        {"sharded", s.sharded()},
                        {"version", version}};
  }

  std::map<std::string, const tensorflow::CollectionDef*> colls;
  for (const auto& [name, c] : mg.collection_def()) colls[name] = &c;
  Json coll_json = Json::object();
  if (!colls.empty()) absl::StrAppend(text, "\ncollections:\n");
  for (const auto& [name, c] : colls) {
    std::string kind;
    int count = 0;
    switch (c->kind_case()) {
      case tensorflow::CollectionDef::kNodeList: kind = "node_list"; count = c->node_list().value_size(); break;
      case tensorflow::CollectionDef::kBytesList: kind = "bytes_list"; count = c->bytes_list().value_size(); break;
      case tensorflow::CollectionDef::kInt64List: kind = "int64_list"; count = c->int64_list().value_size(); break;
      case tensorflow::CollectionDef::kFloatList: kind = "float_list"; count = c->float_list().value_size(); break;
      case tensorflow::CollectionDef::kAnyList: kind = "any_list"; count = c->any_list().value_size(); break;
      default: kind = "empty";
    }
    absl::StrAppend(text, absl::StrFormat("  %-28s %-10s %d\n", name, kind, count));
    Json item = {{"kind", kind}, {"count", count}};
    if (c->kind_case() == tensorflow::CollectionDef::kNodeList) {
      item["values"] = std::vector<std::string>(c->node_list().value().begin(), c->node_list().value().end());
    }
    coll_json[name] = item;
  }
  (*json)["collections"] = coll_json;

  std::map<std::string, const tensorflow::SignatureDef*> sigs;
  for (const auto& [name, s] : mg.signature_def()) sigs[name] = &s;
  Json sig_json = Json::object();
  if (!sigs.empty()) absl::StrAppend(text, "\nsignatures:\n");
  auto tensors = [&](const google::protobuf::Map<std::string, tensorflow::TensorInfo>& m, const char* dir, Json* out) {
    std::map<std::string, const tensorflow::TensorInfo*> sorted_m;
    for (const auto& [k, v] : m) sorted_m[k] = &v;
    for (const auto& [k, v] : sorted_m) {
      absl::StrAppend(text, "    ", dir, " ", k, ": ", v->name(), "  ", DTypeName(v->dtype()),
                      ShapeText(v->tensor_shape()), "\n");
      (*out)[k] = {{"name", v->name()}, {"dtype", DTypeName(v->dtype())}, {"shape", ShapeJson(v->tensor_shape())}};
    }
  };
  for (const auto& [name, s] : sigs) {
    absl::StrAppend(text, "  ", name, " (", s->method_name(), ")\n");
    Json in = Json::object(), out = Json::object();
    tensors(s->inputs(), "in ", &in);
    tensors(s->outputs(), "out", &out);
    sig_json[name] = {{"method_name", s->method_name()}, {"inputs", in}, {"outputs", out}};
  }
  (*json)["signatures"] = sig_json;
}

}  // namespace

absl::StatusOr<MetaReport> DescribeMeta(const std::string& path_in) {
  Env* env = Env::Default();
  std::string path = path_in;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  MetaReport r;
  const bool saved_model = absl::EndsWith(path, ".pb") ||
                           (env->IsDirectory(path) && env->FileExists(path + "/saved_model.pb"));
  if (saved_model) {
    absl::StatusOr<tensorflow::SavedModel> sm = ReadSavedModel(path, env);
    if (!sm.ok()) return sm.status();
    r.json["path"] = path;
    r.json["kind"] = "SavedModel";
    r.json["saved_model_schema_version"] = sm->saved_model_schema_version();
    Json graphs = Json::array();
    r.text = absl::StrCat("SavedModel:   ", path, " (schema version ", sm->saved_model_schema_version(), ", ",
                          sm->meta_graphs_size(), " meta graph", sm->meta_graphs_size() == 1 ? "" : "s", ")\n");
    for (int i = 0; i < sm->meta_graphs_size(); ++i) {
      Json g;
      absl::StrAppend(&r.text, "\n-- meta graph ", i, "\n");
      Describe(sm->meta_graphs(i), &r.text, &g);
      graphs.push_back(g);
    }
    r.json["meta_graphs"] = graphs;
    return r;
  }
  std::string meta = path;
  if (!absl::EndsWith(path, ".meta")) {
    meta = MetaFilename(path);
    // A directory with a `checkpoint` file, or one of the checkpoint's own
    // files: the .meta beside the checkpoint it names.
    if (!env->FileExists(meta)) {
      absl::StatusOr<std::string> prefix = ResolveCheckpointPrefix(path);
      if (prefix.ok() && env->FileExists(MetaFilename(*prefix))) meta = MetaFilename(*prefix);
    }
    if (!env->FileExists(meta)) {
      return absl::NotFoundError(absl::StrCat("no meta graph for ", path, ": looked for ", meta,
                                              ", ", path, "/saved_model.pb, and a .pb file"));
    }
  }
  absl::StatusOr<tensorflow::MetaGraphDef> mg = ReadMetaGraph(meta, env);
  if (!mg.ok()) return mg.status();
  r.json["path"] = meta;
  r.json["kind"] = "MetaGraphDef";
  r.text = absl::StrCat("meta graph:   ", meta, "\n");
  Describe(*mg, &r.text, &r.json);
  return r;
}

}  // namespace tools
}  // namespace ckpt
