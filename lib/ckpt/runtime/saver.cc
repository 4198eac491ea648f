#include "ckpt/runtime/saver.h"

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/bundle_writer.h"
#include "ckpt/checkpoint_state.h"
#include "ckpt/io/path.h"
#include "ckpt/meta_graph.h"
#include "ckpt/naming.h"
#include "ckpt/runtime/io_ops.h"
#include "ckpt/runtime/ops.h"
#include "ckpt/runtime/scope.h"
#include "ckpt/status_macros.h"
#include "ckpt/tensor_proto.h"
#include "ckpt/tensor_slice.h"

namespace ckpt {
namespace {

absl::Status Annotate(const absl::Status& s, absl::string_view context) {
  return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
}

// One variable to save, as TensorFlow's saveable for a ref variable.
struct Saveable {
  std::string name;  // key in the checkpoint
  std::string spec;  // shape_and_slice: "" or "d0 d1 off,len:..."
  Node* variable = nullptr;
  DType dtype = DT_INVALID;
  PartialShape shape;
};

bool IsVariableOp(const Node& n) { return n.op() == "VariableV2" || n.op() == "Variable"; }

// The shape attr of a variable node, or its static shape when it has none.
PartialShape VariableShape(const Node& n) {
  auto it = n.def.attr().find("shape");
  if (it != n.def.attr().end() && it->second.has_shape()) {
    absl::StatusOr<PartialShape> s = PartialShape::FromProto(it->second.shape());
    if (s.ok()) return *s;
  }
  if (!n.output_shapes.empty()) return n.output_shapes[0];
  return PartialShape::Unknown();
}

DType VariableDType(const Node& n) {
  auto it = n.def.attr().find("dtype");
  if (it != n.def.attr().end()) return it->second.type();
  return n.num_outputs() > 0 ? Output(const_cast<Node*>(&n), 0).dtype() : DT_INVALID;
}

// TensorFlow's SaveSliceInfo.spec: the full shape, then "offset,length" per
// dimension joined by ':'.
std::string SliceSpec(const ::tensorflow::SaveSliceInfoDef& info) {
  std::vector<std::string> extents;
  for (int i = 0; i < info.var_offset_size() && i < info.var_shape_size(); ++i) {
    extents.push_back(absl::StrCat(info.var_offset(i), ",", info.var_shape(i)));
  }
  return absl::StrCat(absl::StrJoin(info.full_shape(), " "), " ", absl::StrJoin(extents, ":"));
}

absl::StatusOr<std::vector<Saveable>> CollectSaveables(Graph* graph,
                                                       const SaverOptions& options) {
  std::vector<::tensorflow::VariableDef> defs;
  if (options.var_list.empty()) {
    defs = graph->variables();
  } else {
    for (const std::string& name : options.var_list) {
      auto same = [&](const ::tensorflow::VariableDef& v) {
        absl::StatusOr<TensorId> id = ParseTensorName(v.variable_name());
        return id.ok() && id->node == name;
      };
      auto it = std::find_if(graph->variables().begin(), graph->variables().end(), same);
      if (it != graph->variables().end()) {
        defs.push_back(*it);
        continue;
      }
      // A variable node that is not in the collection (e.g. built with
      // VariableV2 alone) is still saveable by name.
      Node* n = graph->FindNode(name);
      if (n == nullptr || !IsVariableOp(*n)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cannot save '", name, "': ",
            n == nullptr ? "no such node in the graph" : absl::StrCat("it is a ", n->op(),
                                                                       " node, not a variable")));
      }
      ::tensorflow::VariableDef v;
      v.set_variable_name(absl::StrCat(name, ":0"));
      defs.push_back(v);
    }
  }

  std::vector<Saveable> out;
  for (const ::tensorflow::VariableDef& v : defs) {
    if (v.is_resource()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot save variable '", v.variable_name(),
          "': resource variables are not supported yet"));
    }
    CKPT_ASSIGN_OR_RETURN(TensorId id, ParseTensorName(v.variable_name()));
    Node* n = graph->FindNode(id.node);
    if (n == nullptr) {
      return absl::NotFoundError(absl::StrCat("variable '", v.variable_name(),
                                              "' is listed but its node is not in the graph"));
    }
    if (!IsVariableOp(*n)) {
      return absl::InvalidArgumentError(absl::StrCat("cannot save '", id.node, "': it is a ",
                                                     n->op(), " node, not a variable"));
    }
    Saveable s;
    s.variable = n;
    s.dtype = VariableDType(*n);
    s.shape = VariableShape(*n);
    if (v.has_save_slice_info_def() && !v.save_slice_info_def().full_name().empty()) {
      s.name = v.save_slice_info_def().full_name();
      s.spec = SliceSpec(v.save_slice_info_def());
    } else {
      s.name = n->name();
    }
    out.push_back(std::move(s));
  }
  if (out.empty()) return absl::InvalidArgumentError("no variables to save");

  // TensorFlow orders the saveables by name; the parts of one partitioned
  // variable keep their order.
  std::stable_sort(out.begin(), out.end(),
                   [](const Saveable& a, const Saveable& b) { return a.name < b.name; });
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i].name != out[i - 1].name) continue;
    if (out[i].variable == out[i - 1].variable) {
      return absl::InvalidArgumentError(
          absl::StrCat("variable '", out[i].variable->name(), "' is listed twice"));
    }
    if (out[i].spec.empty() || out[i - 1].spec.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("variables '", out[i - 1].variable->name(), "' and '",
                       out[i].variable->name(), "' would both be saved as '", out[i].name, "'"));
    }
  }
  return out;
}

// 32 hex digits, like the uuid4().hex TensorFlow puts in the temporary
// directory of a sharded save.
std::string RandomHex(Env* env) {
  return absl::StrFormat("%016x%016x", env->Random64(), env->Random64());
}

// The strings of a Const node holding a string vector, or nullopt.
std::optional<std::vector<std::string>> ConstStrings(const Node* n) {
  if (n == nullptr || n->op() != "Const") return std::nullopt;
  auto it = n->def.attr().find("value");
  if (it == n->def.attr().end() || !it->second.has_tensor()) return std::nullopt;
  absl::StatusOr<Tensor> t = TensorFromProto(it->second.tensor());
  if (!t.ok() || t->dtype() != DT_STRING) return std::nullopt;
  return t->strings();
}

std::string Describe(DType dtype, const std::string& shape) {
  return absl::StrCat(DTypeName(dtype), shape);
}

// What the SaveV2 kernel (kernels/io_kernels.cc) does with its inputs, for
// SaveAsync's background thread: the same checks, writer, options and
// order, hence the same bytes.
absl::Status WriteSaveV2Bundle(const Tensor& prefix_t, const Tensor& names_t,
                               const Tensor& specs_t, const std::vector<const Tensor*>& values) {
  if (prefix_t.dtype() != DT_STRING || prefix_t.NumElements() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("prefix must be a single string, got ",
                                                   prefix_t.DebugString()));
  }
  const int64_t n = static_cast<int64_t>(values.size());
  for (const auto& [t, what] : {std::make_pair(&names_t, "tensor_names"),
                                std::make_pair(&specs_t, "shape_and_slices")}) {
    if (t->dtype() != DT_STRING || t->shape().rank() > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " must be a 1-D string tensor, got ", t->DebugString()));
    }
    if (t->NumElements() != n) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " has ", t->NumElements(), " entries, expected ", n));
    }
  }
  const std::string& prefix = prefix_t.strings()[0];
  const std::vector<std::string>& names = names_t.strings();
  const std::vector<std::string>& specs = specs_t.strings();
  BundleWriter writer(prefix);
  for (int64_t i = 0; i < n; ++i) {
    const Tensor& value = *values[i];
    const std::string where = absl::StrCat("saving tensor '", names[i], "' to ", prefix);
    if (specs[i].empty()) {
      absl::Status s = writer.Add(names[i], value);
      if (!s.ok()) return Annotate(s, where);
      continue;
    }
    TensorShape full_shape;
    TensorSlice slice;
    absl::Status s = ParseShapeAndSlice(specs[i], &full_shape, &slice);
    if (!s.ok()) return Annotate(s, where);
    absl::StatusOr<TensorShape> slice_shape = slice.SliceShape(full_shape);
    if (!slice_shape.ok()) return Annotate(slice_shape.status(), where);
    if (*slice_shape != value.shape()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": the slice '", specs[i], "' has shape ", slice_shape->DebugString(),
          " but the tensor given for it has shape ", value.shape().DebugString()));
    }
    s = writer.AddSlice(names[i], full_shape, slice, value);
    if (!s.ok()) return Annotate(s, where);
  }
  absl::Status s = writer.Finish();
  if (!s.ok()) return Annotate(s, absl::StrCat("saving checkpoint ", prefix));
  return absl::OkStatus();
}

}  // namespace

// The save op taken apart: SaveAsync fetches the inputs of every SaveV2 and
// of the MergeV2Checkpoints (in a sharded save) in one run of the session,
// with the filename fed, then does in the background what those kernels
// would have done with them.
struct Saver::AsyncSavePlan {
  struct Save {
    int prefix = 0, names = 0, specs = 0;  // indices into `fetches`
    std::vector<int> values;
  };
  struct Merge {
    int prefixes = 0, destination = 0;
    bool delete_old_dirs = true;
  };
  std::vector<std::string> fetches;  // "node:index", each once
  std::vector<Save> saves;           // in node name order
  std::optional<Merge> merge;
};

Saver::Saver(Graph* graph, ::tensorflow::SaverDef def, Env* env)
    : graph_(graph), def_(std::move(def)), env_(env) {}

Saver::~Saver() = default;

absl::StatusOr<std::unique_ptr<Saver>> Saver::Create(Graph* graph, SaverOptions options) {
  if (graph == nullptr) return absl::InvalidArgumentError("Saver::Create: no graph");
  Env* env = options.env != nullptr ? options.env : Env::Default();
  CKPT_ASSIGN_OR_RETURN(std::vector<Saveable> saveables, CollectSaveables(graph, options));

  Scope root = Scope::NewRootScope(graph);
  Scope save = root.NewSubScope(options.name.empty() ? "save" : options.name);
  Output filename = ops::Const(save, std::string("model"));

  std::vector<std::string> names, specs;
  std::vector<Output> tensors;
  for (const Saveable& s : saveables) {
    names.push_back(s.name);
    specs.push_back(s.spec);
    tensors.emplace_back(s.variable, 0);
  }

  Output save_tensor;
  if (!options.sharded) {
    Operation save_op = ops::SaveV2(save, filename, names, specs, tensors);
    save_tensor = ops::Identity(
        save.WithControlDependencies({save_op}).WithOpName("control_dependency"), filename);
  } else {
    // One shard (every variable is on the one CPU): save to a temporary
    // bundle, then merge it into the prefix, as TensorFlow's sharded V2
    // saver does per device.
    Output tmp_prefix =
        ops::StringJoin(save, filename, absl::StrCat("_temp_", RandomHex(env), "/part"));
    Output num_shards = ops::Const(save.WithOpName("num_shards"), int32_t{1});
    Output shard_prefix = ops::ShardedFilename(save, tmp_prefix, 0, num_shards);
    Operation save_op = ops::SaveV2(save, shard_prefix, names, specs, tensors);
    Output saved = ops::Identity(
        save.WithControlDependencies({save_op}).WithOpName("control_dependency"),
        shard_prefix);
    Scope after_save = save.WithControlDependencies({saved});
    Operation merge = ops::MergeV2Checkpoints(after_save, std::vector<Output>{shard_prefix},
                                              filename, /*delete_old_dirs=*/true);
    save_tensor = ops::Identity(after_save.WithControlDependencies({merge}).WithOpName("Identity"),
                                filename);
  }

  // TensorFlow 1.x reads and assigns one variable at a time.
  std::vector<Operation> assigns;
  for (const Saveable& s : saveables) {
    std::vector<Output> restored = ops::RestoreV2(save, filename, {s.name}, {s.spec}, {s.dtype});
    if (restored.size() != 1) break;  // the scope holds the error
    assigns.push_back(ops::Assign(save, Output(s.variable, 0), restored[0],
                                  /*validate_shape=*/s.shape.IsFullyDefined(),
                                  /*use_locking=*/true));
  }
  Operation restore_all;
  if (!options.sharded) {
    restore_all = ops::NoOp(save.WithControlDependencies(assigns).WithOpName("restore_all"));
  } else {
    Operation shard =
        ops::NoOp(save.WithControlDependencies(assigns).WithOpName("restore_shard"));
    restore_all = ops::NoOp(save.WithControlDependencies({shard}).WithOpName("restore_all"));
  }
  if (!root.ok()) return Annotate(root.status(), "building the save/restore subgraph");

  ::tensorflow::SaverDef def;
  def.set_filename_tensor_name(filename.name());
  def.set_save_tensor_name(save_tensor.name());
  def.set_restore_op_name(restore_all.name());
  def.set_max_to_keep(std::max(options.max_to_keep, 0));
  def.set_sharded(options.sharded);
  def.set_keep_checkpoint_every_n_hours(static_cast<float>(options.keep_checkpoint_every_n_hours));
  def.set_version(::tensorflow::SaverDef::V2);

  std::unique_ptr<Saver> saver(new Saver(graph, std::move(def), env));
  saver->keep_every_seconds_ = options.keep_checkpoint_every_n_hours * 3600.0;
  saver->next_keep_time_ = env->NowSeconds() + saver->keep_every_seconds_;
  CKPT_RETURN_IF_ERROR(saver->CollectRestoredVariables());
  return saver;
}

absl::StatusOr<std::unique_ptr<Saver>> Saver::FromSaverDef(Graph* graph,
                                                           const ::tensorflow::SaverDef& def,
                                                           Env* env) {
  if (graph == nullptr) return absl::InvalidArgumentError("Saver::FromSaverDef: no graph");
  if (env == nullptr) env = Env::Default();
  if (def.save_tensor_name().empty() || def.restore_op_name().empty() ||
      def.filename_tensor_name().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the SaverDef must name the filename tensor, the save tensor and the restore op; got "
        "filename_tensor_name '", def.filename_tensor_name(), "', save_tensor_name '",
        def.save_tensor_name(), "', restore_op_name '", def.restore_op_name(), "'"));
  }
  auto missing = [](const absl::Status& s, absl::string_view what) {
    return absl::Status(s.code(), absl::StrCat("the SaverDef's ", what, ": ", s.message()));
  };
  absl::StatusOr<Output> filename = graph->FindOutput(def.filename_tensor_name());
  if (!filename.ok()) return missing(filename.status(), "filename tensor");
  absl::StatusOr<Output> save = graph->FindOutput(def.save_tensor_name());
  if (!save.ok()) return missing(save.status(), "save tensor");
  absl::StatusOr<Operation> restore = graph->FindOperation(def.restore_op_name());
  if (!restore.ok()) return missing(restore.status(), "restore op");

  std::unique_ptr<Saver> saver(new Saver(graph, def, env));
  saver->keep_every_seconds_ = static_cast<double>(def.keep_checkpoint_every_n_hours()) * 3600.0;
  saver->next_keep_time_ = env->NowSeconds() + saver->keep_every_seconds_;
  CKPT_RETURN_IF_ERROR(saver->CollectRestoredVariables());
  return saver;
}

absl::Status Saver::CollectRestoredVariables() {
  // Walks everything the restore op depends on and picks out each assign of
  // a RestoreV2 output to a variable: that is what the restore op restores,
  // whether we built it or TensorFlow did.
  restored_.clear();
  std::string root_name = def_.restore_op_name();
  if (absl::StartsWith(root_name, "^")) root_name.erase(0, 1);
  Node* root = graph_->FindNode(root_name);
  if (root == nullptr) {
    return absl::NotFoundError(absl::StrCat("restore op '", root_name, "' is not in the graph"));
  }
  auto input_node = [&](const Node* n, int i, int* index) -> Node* {
    absl::StatusOr<TensorId> id = ParseTensorName(n->def.input(i));
    if (!id.ok()) return nullptr;
    if (index != nullptr) *index = id->index;
    return graph_->FindNode(id->node);
  };
  std::vector<Node*> stack = {root};
  absl::flat_hash_set<Node*> seen = {root};
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (int i = 0; i < n->def.input_size(); ++i) {
      Node* in = input_node(n, i, nullptr);
      if (in != nullptr && seen.insert(in).second) stack.push_back(in);
    }
    const bool assign = n->op() == "Assign" || n->op() == "AssignVariableOp";
    if (!assign || n->def.input_size() < 2) continue;
    int k = 0;
    Node* var = input_node(n, 0, nullptr);
    Node* restore = input_node(n, 1, &k);
    if (var == nullptr || restore == nullptr || restore->op() != "RestoreV2" ||
        restore->def.input_size() < 3 || k < 0) {
      continue;
    }
    std::optional<std::vector<std::string>> names = ConstStrings(input_node(restore, 1, nullptr));
    std::optional<std::vector<std::string>> specs = ConstStrings(input_node(restore, 2, nullptr));
    if (!names || !specs || k >= static_cast<int>(names->size()) ||
        names->size() != specs->size()) {
      continue;  // computed names: nothing to check ahead
    }
    RestoredVariable rv;
    rv.variable = var->name();
    rv.tensor_name = (*names)[k];
    rv.shape_and_slice = (*specs)[k];
    rv.dtype = VariableDType(*var);
    rv.shape = VariableShape(*var);
    restored_.push_back(std::move(rv));
  }
  std::sort(restored_.begin(), restored_.end(),
            [](const RestoredVariable& a, const RestoredVariable& b) {
              return std::tie(a.tensor_name, a.shape_and_slice, a.variable) <
                     std::tie(b.tensor_name, b.shape_and_slice, b.variable);
            });
  return absl::OkStatus();
}

absl::Status Saver::CheckV2(absl::string_view what) const {
  if (def_.version() == ::tensorflow::SaverDef::V2) return absl::OkStatus();
  // An imported TF1 graph whose saver reads and writes the V1 format (its
  // Save/RestoreSlice ops would fail the same way when run).
  return absl::UnimplementedError(absl::StrCat(
      "legacy V1 checkpoints (SaverDef version ",
      ::tensorflow::SaverDef::CheckpointFormatVersion_Name(def_.version()),
      ") are not supported yet: ", what));
}

absl::Status Saver::CheckCheckpoint(const std::string& prefix) const {
  BundleReaderOptions ro;
  ro.env = env_;
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<BundleReader> reader, BundleReader::Open(prefix, ro));
  for (const RestoredVariable& rv : restored_) {
    const std::string saved_as =
        rv.tensor_name == rv.variable ? "" : absl::StrCat(" (saved as '", rv.tensor_name, "')");
    if (!reader->Contains(rv.tensor_name)) {
      return absl::NotFoundError(absl::StrCat("variable '", rv.variable, "'", saved_as,
                                              " not found in checkpoint ", prefix));
    }
    CKPT_ASSIGN_OR_RETURN(BundleEntryInfo entry, reader->GetEntry(rv.tensor_name));
    std::string graph_shape;
    bool shape_ok;
    if (rv.shape_and_slice.empty()) {
      graph_shape = rv.shape.DebugString();
      shape_ok = rv.shape.IsCompatibleWith(entry.shape);
    } else {
      // A part of a partitioned variable: the checkpoint must hold the whole
      // tensor the part's spec names, and the part must fit the variable.
      TensorShape full;
      TensorSlice slice;
      absl::Status s = ParseShapeAndSlice(rv.shape_and_slice, &full, &slice);
      if (!s.ok()) return Annotate(s, absl::StrCat("variable '", rv.variable, "'"));
      absl::StatusOr<TensorShape> part = slice.SliceShape(full);
      graph_shape = absl::StrCat(full.DebugString(), " (part ", slice.ToString(), ")");
      shape_ok = full == entry.shape && part.ok() && rv.shape.IsCompatibleWith(*part);
    }
    if (entry.dtype != rv.dtype || !shape_ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "variable '", rv.variable, "'", saved_as, " is ", Describe(rv.dtype, graph_shape),
          " in the graph but ", Describe(entry.dtype, entry.shape.DebugString()),
          " in checkpoint ", prefix));
    }
  }
  return absl::OkStatus();
}

absl::Status Saver::Restore(Session* session, const std::string& prefix) {
  if (session == nullptr || session->graph() != graph_) {
    return absl::InvalidArgumentError("Saver::Restore: the session must run the saver's graph");
  }
  CKPT_RETURN_IF_ERROR(CheckV2(absl::StrCat("cannot restore ", prefix)));
  // The checkpoint may be the one an asynchronous save is writing.
  async_.WaitIdle();
  CKPT_RETURN_IF_ERROR(CheckCheckpoint(prefix));
  Tensor filename(DT_STRING, TensorShape({}));
  (*filename.mutable_strings())[0] = prefix;
  absl::StatusOr<std::vector<Tensor>> out =
      session->Run({{def_.filename_tensor_name(), filename}}, {}, {def_.restore_op_name()});
  if (!out.ok()) return Annotate(out.status(), absl::StrCat("restoring from ", prefix));
  return absl::OkStatus();
}

absl::Status Saver::DeleteCheckpointFiles(const std::string& prefix) const {
  // The index goes first: without it the rest is no longer a checkpoint.
  absl::Status first;
  auto remove = [&](const std::string& path) {
    if (!env_->FileExists(path)) return;
    absl::Status s = env_->DeleteFile(path);
    if (!s.ok() && first.ok()) first = s;
  };
  remove(IndexFilename(prefix));
  const std::string dir = DirName(prefix);
  absl::StatusOr<std::vector<std::string>> children = env_->GetChildren(dir.empty() ? "." : dir);
  if (children.ok()) {
    const std::string data_prefix = BaseName(prefix) + ".data-";
    for (const std::string& c : *children) {
      if (absl::StartsWith(c, data_prefix) && !absl::StrContains(c, ".tempstate")) {
        remove(JoinPath(dir, c));
      }
    }
  }
  remove(MetaFilename(prefix));
  return first;
}

absl::StatusOr<std::string> Saver::CheckSaveArguments(Session* session,
                                                      const std::string& prefix,
                                                      std::optional<int64_t> global_step,
                                                      const SaveOptions& options) const {
  if (session == nullptr || session->graph() != graph_) {
    return absl::InvalidArgumentError("Saver::Save: the session must run the saver's graph");
  }
  CKPT_RETURN_IF_ERROR(CheckV2(absl::StrCat("cannot save ", prefix)));
  if (options.latest_filename.empty() ||
      options.latest_filename.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "latest_filename '", options.latest_filename, "' must be a plain file name"));
  }
  const std::string file =
      global_step.has_value() ? absl::StrCat(prefix, "-", *global_step) : prefix;
  if (BaseName(file) == options.latest_filename) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint prefix ", file, " collides with the state file '", options.latest_filename,
        "'"));
  }
  return file;
}

absl::Status Saver::TakeAsyncError(const std::string& file) {
  absl::Status s = async_.Wait();
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(s.message(), "; checkpoint ", file,
                                             " was not saved"));
}

std::vector<std::string> Saver::last_checkpoints() const {
  std::lock_guard<std::mutex> l(last_mu_);
  return last_names_;
}

absl::Status Saver::Wait() { return async_.Wait(); }

absl::StatusOr<std::string> Saver::Save(Session* session, const std::string& prefix,
                                        std::optional<int64_t> global_step,
                                        const SaveOptions& options) {
  CKPT_ASSIGN_OR_RETURN(const std::string file,
                        CheckSaveArguments(session, prefix, global_step, options));
  CKPT_RETURN_IF_ERROR(TakeAsyncError(file));
  Tensor filename(DT_STRING, TensorShape({}));
  (*filename.mutable_strings())[0] = file;
  absl::StatusOr<std::vector<Tensor>> out =
      session->Run({{def_.filename_tensor_name(), filename}}, {def_.save_tensor_name()}, {});
  if (!out.ok()) return Annotate(out.status(), absl::StrCat("saving checkpoint ", file));
  std::string path = file;
  if (out->size() == 1 && (*out)[0].dtype() == DT_STRING && (*out)[0].NumElements() == 1) {
    path = (*out)[0].strings()[0];
  }
  if (!options.write_meta_graph) return FinishSave(file, path, options, ::tensorflow::MetaGraphDef());
  return FinishSave(file, path, options, ExportMetaGraph(*graph_, this));
}

absl::StatusOr<const Saver::AsyncSavePlan*> Saver::GetAsyncSavePlan() {
  if (async_plan_ != nullptr) return async_plan_.get();
  auto plan = std::make_unique<AsyncSavePlan>();
  auto unsupported = [&](absl::string_view why) {
    return absl::UnimplementedError(absl::StrCat(
        "SaveAsync: the save op of this graph (save tensor '", def_.save_tensor_name(), "') ",
        why, "; use Save"));
  };
  CKPT_ASSIGN_OR_RETURN(TensorId root_id, ParseTensorName(def_.save_tensor_name()));
  Node* root = graph_->FindNode(root_id.node);
  if (root == nullptr) return unsupported("is not in the graph");

  // Everything the save tensor depends on, through data and control inputs.
  std::vector<Node*> saves, merges;
  std::vector<Node*> stack = {root};
  absl::flat_hash_set<Node*> seen = {root};
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (n->op() == "SaveV2") saves.push_back(n);
    if (n->op() == "MergeV2Checkpoints") merges.push_back(n);
    for (const std::string& input : n->def.input()) {
      absl::StatusOr<TensorId> id = ParseTensorName(input);
      Node* in = id.ok() ? graph_->FindNode(id->node) : nullptr;
      if (in != nullptr && seen.insert(in).second) stack.push_back(in);
    }
  }
  if (saves.empty()) return unsupported("runs no SaveV2");
  if (merges.size() > 1) return unsupported("runs more than one MergeV2Checkpoints");

  absl::flat_hash_map<std::string, int> index;
  // The index in `fetches` of data input i of n.
  auto fetch = [&](Node* n, int i) -> absl::StatusOr<int> {
    int data = 0;
    for (const std::string& input : n->def.input()) {
      if (absl::StartsWith(input, "^")) continue;
      if (data++ < i) continue;
      CKPT_ASSIGN_OR_RETURN(TensorId id, ParseTensorName(input));
      const std::string name = absl::StrCat(id.node, ":", id.index);
      auto [it, added] = index.emplace(name, static_cast<int>(plan->fetches.size()));
      if (added) plan->fetches.push_back(name);
      return it->second;
    }
    return unsupported(absl::StrCat("has a ", n->op(), " node '", n->name(),
                                    "' without input ", i));
  };
  std::sort(saves.begin(), saves.end(),
            [](const Node* a, const Node* b) { return a->name() < b->name(); });
  for (Node* n : saves) {
    AsyncSavePlan::Save save;
    CKPT_ASSIGN_OR_RETURN(save.prefix, fetch(n, 0));
    CKPT_ASSIGN_OR_RETURN(save.names, fetch(n, 1));
    CKPT_ASSIGN_OR_RETURN(save.specs, fetch(n, 2));
    int inputs = 0;
    for (const std::string& input : n->def.input()) inputs += !absl::StartsWith(input, "^");
    for (int i = 3; i < inputs; ++i) {
      CKPT_ASSIGN_OR_RETURN(int value, fetch(n, i));
      save.values.push_back(value);
    }
    plan->saves.push_back(std::move(save));
  }
  if (!merges.empty()) {
    AsyncSavePlan::Merge merge;
    CKPT_ASSIGN_OR_RETURN(merge.prefixes, fetch(merges[0], 0));
    CKPT_ASSIGN_OR_RETURN(merge.destination, fetch(merges[0], 1));
    auto attr = merges[0]->def.attr().find("delete_old_dirs");
    if (attr != merges[0]->def.attr().end()) merge.delete_old_dirs = attr->second.b();
    plan->merge = merge;
  }
  async_plan_ = std::move(plan);
  return async_plan_.get();
}

absl::StatusOr<std::string> Saver::SaveAsync(Session* session, const std::string& prefix,
                                             std::optional<int64_t> global_step,
                                             const SaveOptions& options) {
  CKPT_ASSIGN_OR_RETURN(const std::string file,
                        CheckSaveArguments(session, prefix, global_step, options));
  CKPT_RETURN_IF_ERROR(TakeAsyncError(file));
  CKPT_ASSIGN_OR_RETURN(const AsyncSavePlan* plan, GetAsyncSavePlan());

  // The snapshot: fetched values are the session's values copied (never
  // aliases of its variables), so training may change the variables at once.
  Tensor filename(DT_STRING, TensorShape({}));
  (*filename.mutable_strings())[0] = file;
  absl::StatusOr<std::vector<Tensor>> values =
      session->Run({{def_.filename_tensor_name(), filename}}, plan->fetches, {});
  if (!values.ok()) return Annotate(values.status(), absl::StrCat("saving checkpoint ", file));
  // The graph is not ours to read from another thread: the .meta is
  // exported here.
  absl::StatusOr<::tensorflow::MetaGraphDef> meta =
      options.write_meta_graph ? ExportMetaGraph(*graph_, this) : ::tensorflow::MetaGraphDef();

  async_.Start([this, plan, file, options, meta = std::move(meta),
                values = *std::move(values)]() -> absl::Status {
    for (const AsyncSavePlan::Save& save : plan->saves) {
      std::vector<const Tensor*> tensors;
      for (int i : save.values) tensors.push_back(&values[i]);
      absl::Status s =
          WriteSaveV2Bundle(values[save.prefix], values[save.names], values[save.specs], tensors);
      if (!s.ok()) return Annotate(s, absl::StrCat("saving checkpoint ", file));
    }
    if (plan->merge.has_value()) {
      // As the MergeV2Checkpoints kernel does.
      const Tensor& prefixes = values[plan->merge->prefixes];
      const Tensor& destination = values[plan->merge->destination];
      if (prefixes.dtype() != DT_STRING || prefixes.shape().rank() > 1 ||
          destination.dtype() != DT_STRING || destination.NumElements() != 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "saving checkpoint ", file, ": MergeV2Checkpoints got ", prefixes.DebugString(),
            " and ", destination.DebugString(), " instead of prefixes and a destination"));
      }
      absl::Status s = MergeBundles(Env::Default(), prefixes.strings(),
                                    destination.strings()[0], plan->merge->delete_old_dirs);
      if (!s.ok()) {
        return Annotate(s, absl::StrCat("saving checkpoint ", file, ": merging checkpoints into ",
                                        destination.strings()[0]));
      }
    }
    // The save tensor of TensorFlow's savers (and ours) is the filename.
    return FinishSave(file, file, options, meta).status();
  });
  return file;
}

absl::StatusOr<std::string> Saver::FinishSave(
    const std::string& file, const std::string& path, const SaveOptions& options,
    const absl::StatusOr<::tensorflow::MetaGraphDef>& meta) {
  const std::string dir = DirName(file).empty() ? "." : DirName(file);
  // The state file names checkpoints in its own directory by base name.
  auto relative = [&](const std::string& p) {
    return DirName(p) == DirName(file) ? BaseName(p) : p;
  };

  // Removes what this save wrote, unless the checkpoint is one the state
  // file (or this saver) already names: saving over it has replaced the old
  // files, and the new ones are the only ones left.
  auto discard = [&]() {
    for (const auto& [p, t] : last_) {
      if (p == path) return;
    }
    absl::StatusOr<::tensorflow::CheckpointState> st =
        ReadCheckpointState(env_, dir, options.latest_filename);
    if (st.ok()) {
      for (const std::string& p : st->all_model_checkpoint_paths()) {
        if (p == relative(path) || p == path) return;
      }
      if (st->model_checkpoint_path() == relative(path)) return;
    }
    DeleteCheckpointFiles(path).IgnoreError();
  };

  if (options.write_meta_graph) {
    absl::Status s = meta.ok() ? WriteMetaGraph(MetaFilename(path), *meta, env_) : meta.status();
    if (!s.ok()) {
      discard();
      return Annotate(s, absl::StrCat("saving checkpoint ", path, ": writing ",
                                      MetaFilename(path), " failed"));
    }
  }
  if (!options.write_state) return path;

  // TensorFlow's bookkeeping: a prefix saved again moves to the end; beyond
  // max_to_keep the oldest leave the list (and, below, the disk).
  std::vector<std::pair<std::string, double>> kept = last_;
  std::vector<std::pair<std::string, double>> leaving;
  if (def_.max_to_keep() > 0) {
    kept.erase(std::remove_if(kept.begin(), kept.end(),
                              [&](const auto& e) { return e.first == path; }),
               kept.end());
    kept.emplace_back(path, env_->NowSeconds());
    while (static_cast<int>(kept.size()) > def_.max_to_keep()) {
      leaving.push_back(kept.front());
      kept.erase(kept.begin());
    }
  }
  ::tensorflow::CheckpointState st;
  st.set_model_checkpoint_path(relative(path));
  for (const auto& [p, t] : kept) st.add_all_model_checkpoint_paths(relative(p));
  absl::Status s = WriteCheckpointState(env_, dir, st, options.latest_filename);
  const std::string state_path = JoinPath(dir, options.latest_filename);
  if (!s.ok()) {
    // The write may have failed after its rename (syncing the directory):
    // then the file names the new checkpoint, which therefore stays.
    absl::StatusOr<::tensorflow::CheckpointState> now =
        ReadCheckpointState(env_, dir, options.latest_filename);
    if (now.ok() && now->model_checkpoint_path() == relative(path)) {
      std::lock_guard<std::mutex> l(last_mu_);
      last_ = std::move(kept);
      last_names_.clear();
      for (const auto& [p, t] : last_) last_names_.push_back(p);
      return Annotate(s, absl::StrCat("saved checkpoint ", path, ", but writing ", state_path,
                                      " reported an error"));
    }
    discard();
    return Annotate(s, absl::StrCat("saving checkpoint ", path, ": writing ", state_path,
                                    " failed"));
  }
  {
    std::lock_guard<std::mutex> l(last_mu_);
    last_ = std::move(kept);
    last_names_.clear();
    for (const auto& [p, t] : last_) last_names_.push_back(p);
  }

  for (const auto& [old, saved_at] : leaving) {
    if (saved_at > next_keep_time_) {
      // Kept for good: one checkpoint per keep_checkpoint_every_n_hours.
      next_keep_time_ += keep_every_seconds_;
      continue;
    }
    // As TensorFlow does, a checkpoint that cannot be deleted is left
    // behind: the save itself succeeded and the state file no longer names
    // it, so it is only a stray file.
    DeleteCheckpointFiles(old).IgnoreError();
  }
  return path;
}

absl::StatusOr<::tensorflow::MetaGraphDef> ExportMetaGraph(const Graph& graph,
                                                           const Saver* saver) {
  ::tensorflow::MetaGraphDef mg;
  *mg.mutable_graph_def() = graph.ToGraphDef();

  // TensorFlow's Saver exports with add_shapes=True: every node with outputs
  // records their static shapes.
  for (::tensorflow::NodeDef& nd : *mg.mutable_graph_def()->mutable_node()) {
    const Node* n = graph.FindNode(nd.name());
    if (n == nullptr || n->num_outputs() == 0 || nd.attr().count("_output_shapes") > 0 ||
        static_cast<int>(n->output_shapes.size()) != n->num_outputs()) {
      continue;
    }
    ::tensorflow::AttrValue shapes;
    for (const PartialShape& s : n->output_shapes) s.ToProto(shapes.mutable_list()->add_shape());
    (*nd.mutable_attr())["_output_shapes"] = std::move(shapes);
  }

  // The full OpDef of every op used, sorted by name (TensorFlow's
  // stripped_op_list_for_graph).
  std::set<std::string> used;
  for (const ::tensorflow::NodeDef& nd : mg.graph_def().node()) used.insert(nd.op());
  ::tensorflow::MetaGraphDef::MetaInfoDef* info = mg.mutable_meta_info_def();
  for (const std::string& op : used) {
    const ::tensorflow::OpDef* def = graph.registry().Find(op);
    if (def == nullptr) {
      return absl::NotFoundError(absl::StrCat("exporting the meta graph: op '", op,
                                              "' is not in the graph's op registry"));
    }
    *info->mutable_stripped_op_list()->add_op() = *def;
  }
  info->set_tensorflow_git_version("ckpt");

  if (saver != nullptr) *mg.mutable_saver_def() = saver->saver_def();

  auto& collections = *mg.mutable_collection_def();
  for (const ::tensorflow::VariableDef& v : graph.variables()) {
    collections["variables"].mutable_bytes_list()->add_value(v.SerializeAsString());
  }
  for (const ::tensorflow::VariableDef& v : graph.trainable_variables()) {
    collections["trainable_variables"].mutable_bytes_list()->add_value(v.SerializeAsString());
  }
  for (const auto& [name, nodes] : graph.collections()) {
    if (name == "variables" || name == "trainable_variables") continue;
    auto* list = collections[name].mutable_node_list();
    for (const std::string& node : nodes) list->add_value(node);
  }
  return mg;
}

}  // namespace ckpt
