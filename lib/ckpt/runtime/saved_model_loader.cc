#include "ckpt/runtime/saved_model_loader.h"

#include <algorithm>
#include <memory>
#include <set>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ckpt/checkpoint_state.h"
#include "ckpt/io/path.h"
#include "ckpt/meta_graph.h"
#include "ckpt/runtime/meta_graph_import.h"
#include "ckpt/status_macros.h"

namespace ckpt {
namespace {

constexpr char kMainOpCollection[] = "saved_model_main_op";
constexpr char kLegacyInitOpCollection[] = "legacy_init_op";
constexpr char kInitOpSignature[] = "__saved_model_init_op";
constexpr char kAssetsCollection[] = "saved_model_assets";
constexpr char kAssetsDir[] = "assets";

absl::Status Annotate(const absl::Status& s, absl::string_view context) {
  return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
}

std::string FormatTags(const std::set<std::string>& tags) {
  return absl::StrCat("{", absl::StrJoin(tags, ", "), "}");
}

template <typename Map>
std::string SortedKeys(const Map& map) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : map) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  return keys.empty() ? "(none)" : absl::StrJoin(keys, ", ");
}

// The single node of a node_list collection, or "" when there is none.
absl::StatusOr<std::string> SingleNode(const ::tensorflow::MetaGraphDef& mg,
                                       const std::string& key) {
  auto it = mg.collection_def().find(key);
  if (it == mg.collection_def().end()) return std::string();
  const auto& values = it->second.node_list().value();
  if (!it->second.has_node_list() || values.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("collection '", key, "' must name exactly one op"));
  }
  return values[0];
}

// The op the loader runs after restoring, if any.
absl::StatusOr<std::string> MainOp(const ::tensorflow::MetaGraphDef& mg) {
  CKPT_ASSIGN_OR_RETURN(std::string op, SingleNode(mg, kMainOpCollection));
  if (!op.empty()) return op;
  CKPT_ASSIGN_OR_RETURN(op, SingleNode(mg, kLegacyInitOpCollection));
  if (!op.empty()) return op;
  auto sig = mg.signature_def().find(kInitOpSignature);
  if (sig != mg.signature_def().end()) {
    auto out = sig->second.outputs().find(kInitOpSignature);
    if (out != sig->second.outputs().end()) return out->second.name();
  }
  return std::string();
}

// Feeds that point asset tensors at the files in <dir>/assets.
absl::StatusOr<std::vector<std::pair<std::string, Tensor>>> AssetFeeds(
    const ::tensorflow::MetaGraphDef& mg, const std::string& dir) {
  std::vector<::tensorflow::AssetFileDef> assets(mg.asset_file_def().begin(),
                                                 mg.asset_file_def().end());
  auto it = mg.collection_def().find(kAssetsCollection);
  if (it != mg.collection_def().end() && it->second.has_any_list()) {
    for (const auto& any : it->second.any_list().value()) {
      ::tensorflow::AssetFileDef asset;
      if (!any.UnpackTo(&asset)) {
        return absl::DataLossError(absl::StrCat("collection '", kAssetsCollection,
                                                "' holds something not an AssetFileDef"));
      }
      assets.push_back(std::move(asset));
    }
  }
  std::vector<std::pair<std::string, Tensor>> feeds;
  absl::flat_hash_set<std::string> fed;
  for (const auto& asset : assets) {
    const std::string& tensor = asset.tensor_info().name();
    if (tensor.empty() || !fed.insert(tensor).second) continue;
    Tensor path(DT_STRING, TensorShape({}));
    (*path.mutable_strings())[0] = JoinPath(JoinPath(dir, kAssetsDir), asset.filename());
    feeds.emplace_back(tensor, std::move(path));
  }
  return feeds;
}

}  // namespace

SavedModelBundle::~SavedModelBundle() = default;

absl::StatusOr<const ::tensorflow::SignatureDef*> SavedModelBundle::Signature(
    const std::string& key) const {
  auto it = meta_graph_.signature_def().find(key);
  if (it == meta_graph_.signature_def().end()) {
    return absl::NotFoundError(absl::StrCat("no signature '", key,
                                            "' in the meta graph; signatures: ",
                                            SortedKeys(meta_graph_.signature_def())));
  }
  return &it->second;
}

absl::StatusOr<std::vector<std::pair<std::string, Tensor>>> SavedModelBundle::RunSignature(
    const std::string& signature_key, const std::vector<std::pair<std::string, Tensor>>& inputs,
    const std::vector<std::string>& output_keys) {
  CKPT_ASSIGN_OR_RETURN(const ::tensorflow::SignatureDef* sig, Signature(signature_key));
  const std::string where = absl::StrCat("signature '", signature_key, "'");

  std::vector<std::pair<std::string, Tensor>> feeds;
  absl::flat_hash_set<std::string> given;
  for (const auto& [key, value] : inputs) {
    auto it = sig->inputs().find(key);
    if (it == sig->inputs().end()) {
      return absl::InvalidArgumentError(absl::StrCat(where, " has no input '", key,
                                                     "'; its inputs: ", SortedKeys(sig->inputs())));
    }
    if (!given.insert(key).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": input '", key, "' given twice"));
    }
    const ::tensorflow::TensorInfo& info = it->second;
    if (info.name().empty()) {
      return absl::UnimplementedError(absl::StrCat(
          where, ": input '", key, "' is a sparse or composite tensor, not supported yet"));
    }
    if (info.dtype() != value.dtype()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": input '", key, "' must be ",
                                                     DTypeName(info.dtype()), ", got ",
                                                     DTypeName(value.dtype())));
    }
    if (info.has_tensor_shape()) {
      absl::StatusOr<PartialShape> shape = PartialShape::FromProto(info.tensor_shape());
      if (shape.ok() && !shape->IsCompatibleWith(value.shape())) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": input '", key, "' must have shape ", shape->DebugString(), ", got ",
            value.shape().DebugString()));
      }
    }
    feeds.emplace_back(info.name(), value);
  }

  std::vector<std::string> keys = output_keys;
  if (keys.empty()) {
    for (const auto& [k, v] : sig->outputs()) keys.push_back(k);
    std::sort(keys.begin(), keys.end());
  }
  std::vector<std::string> fetches;
  for (const std::string& key : keys) {
    auto it = sig->outputs().find(key);
    if (it == sig->outputs().end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, " has no output '", key, "'; its outputs: ", SortedKeys(sig->outputs())));
    }
    if (it->second.name().empty()) {
      return absl::UnimplementedError(absl::StrCat(
          where, ": output '", key, "' is a sparse or composite tensor, not supported yet"));
    }
    fetches.push_back(it->second.name());
  }

  absl::StatusOr<std::vector<Tensor>> values = session_->Run(feeds, fetches, {});
  if (!values.ok()) return Annotate(values.status(), absl::StrCat("running ", where));
  std::vector<std::pair<std::string, Tensor>> out;
  for (size_t i = 0; i < keys.size() && i < values->size(); ++i) {
    out.emplace_back(keys[i], std::move((*values)[i]));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<SavedModelBundle>> LoadSavedModel(
    const std::string& dir, const std::vector<std::string>& tags, Env* env) {
  if (env == nullptr) env = Env::Default();
  CKPT_ASSIGN_OR_RETURN(::tensorflow::SavedModel model, ReadSavedModel(dir, env));

  const std::set<std::string> wanted(tags.begin(), tags.end());
  const ::tensorflow::MetaGraphDef* chosen = nullptr;
  std::vector<std::string> available;
  for (const ::tensorflow::MetaGraphDef& mg : model.meta_graphs()) {
    const std::set<std::string> have(mg.meta_info_def().tags().begin(),
                                     mg.meta_info_def().tags().end());
    if (have == wanted && chosen == nullptr) chosen = &mg;
    available.push_back(FormatTags(have));
  }
  if (chosen == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "SavedModel ", dir, " has no meta graph with tags ", FormatTags(wanted),
        "; tag sets there: ", available.empty() ? "(none)" : absl::StrJoin(available, ", ")));
  }

  std::unique_ptr<SavedModelBundle> bundle(new SavedModelBundle());
  absl::StatusOr<ImportedMetaGraph> imported = ImportMetaGraph(*chosen, env);
  if (!imported.ok()) {
    return Annotate(imported.status(), absl::StrCat("importing SavedModel ", dir));
  }
  bundle->meta_graph_ = std::move(imported->meta_graph);
  bundle->graph_ = std::move(imported->graph);
  bundle->saver_ = std::move(imported->saver);
  bundle->session_ = std::make_unique<Session>(bundle->graph_.get());

  // A model without variables has no bundle to restore (TensorFlow skips
  // the restore then too).
  const std::string variables = SavedModelVariablesPrefix(dir);
  if (bundle->saver_ != nullptr && CheckpointExists(env, variables)) {
    absl::Status s = bundle->saver_->Restore(bundle->session_.get(), variables);
    if (!s.ok()) return Annotate(s, absl::StrCat("loading SavedModel ", dir));
  }

  CKPT_ASSIGN_OR_RETURN(std::string main_op, MainOp(bundle->meta_graph_));
  if (!main_op.empty()) {
    // A target is an op: "init:0" (a signature's spelling) names op "init".
    CKPT_ASSIGN_OR_RETURN(TensorId id, ParseTensorName(main_op));
    main_op = id.node;
    absl::StatusOr<std::vector<std::pair<std::string, Tensor>>> feeds =
        AssetFeeds(bundle->meta_graph_, dir);
    if (!feeds.ok()) return Annotate(feeds.status(), absl::StrCat("loading SavedModel ", dir));
    absl::StatusOr<std::vector<Tensor>> run = bundle->session_->Run(*feeds, {}, {main_op});
    if (!run.ok()) {
      return Annotate(run.status(), absl::StrCat("loading SavedModel ", dir,
                                                 ": running main op '", main_op, "'"));
    }
  }
  return bundle;
}

}  // namespace ckpt
