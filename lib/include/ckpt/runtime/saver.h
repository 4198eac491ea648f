// ckpt/runtime/saver.h — saving and restoring a graph's variables, as
// TensorFlow 1.x's tf.train.Saver does.
//
//   CKPT_ASSIGN_OR_RETURN(std::unique_ptr<ckpt::Saver> saver, ckpt::Saver::Create(&graph));
//   ckpt::Session session(&graph);
//   // ... initialize or restore, then train ...
//   CKPT_ASSIGN_OR_RETURN(std::string path, saver->Save(&session, "tmp/model.ckpt", step));
//   // tmp/model.ckpt-<step>.index, .data-00000-of-00001, .meta; tmp/checkpoint names it
//
//   // next run, same graph built again:
//   auto latest = ckpt::LatestCheckpoint("tmp");        // ckpt/checkpoint_state.h
//   if (latest.ok()) CKPT_RETURN_IF_ERROR(saver->Restore(&session, *latest));
//
// Create adds the save/restore subgraph TensorFlow's Saver adds (V2 format),
// with its node names, so the `.meta` written beside each checkpoint imports
// into TensorFlow and TensorFlow's Saver.restore works on it:
//   save/Const                       the filename (a string, default "model")
//   save/SaveV2/tensor_names, save/SaveV2/shape_and_slices, save/SaveV2
//   save/control_dependency          the filename again, after SaveV2 ran
//   save/RestoreV2, save/Assign, save/RestoreV2_1, save/Assign_1, ...
//                                    one read and one assign per variable
//   save/restore_all                 groups the assigns
// Variables are saved under their node names, sorted. The sharded variant
// (SaverOptions::sharded) writes through a temporary
// "<prefix>_temp_<hex>/part-00000-of-00001" bundle merged into <prefix>
// (save/StringJoin, save/ShardedFilename, save/MergeV2Checkpoints,
// save/Identity, save/restore_shard), as TensorFlow's sharded V2 saver does.
//
// Files. Save writes the bundle (by running the graph's save op in the
// session: its SaveV2 kernel writes through Env::Default()), then the .meta,
// then the state file, each atomically; then it deletes checkpoints that fell
// out of retention. `options.env` is used for everything but the bundle
// itself: the .meta, the state file, deletions, and the checks Restore makes.
// If any step fails, the state file still names the previous checkpoint and
// that checkpoint is untouched (unless the same prefix was being rewritten);
// files of the failed save are removed.
//
// Retention, as TensorFlow's Saver: the newest max_to_keep checkpoints saved
// by this Saver are kept and listed in the state file; an older one is
// deleted (.index, .data-*, .meta) unless it was saved after the next keep
// time, which starts at the Saver's creation plus keep_checkpoint_every_n_hours
// and advances by that much with each checkpoint kept this way: such a
// checkpoint stays on disk for good but is no longer listed. max_to_keep <= 0 keeps
// everything and lists only the latest. Time comes from the Env's
// NowSeconds(), so tests can move the clock. The state file stores paths
// relative to its directory (TensorFlow's save_relative_paths), so a
// directory can be moved whole.
//
// Restore checks first, then runs: every variable the restore op assigns must
// be in the checkpoint (NotFound "variable 'W1' not found in checkpoint P")
// with the variable's dtype and a compatible shape (InvalidArgument
// "variable 'step' is int32[] in the graph but float32[] in checkpoint P");
// TensorFlow would silently reinterpret the bytes in the dtype case. Only
// then is the restore op run, with the filename tensor fed with the prefix.
//
// Asynchronous saves. SaveAsync blocks the caller only while the values of
// the variables are fetched from the session (one run of the session, which
// copies them: training may go on at once and does not change what is
// saved). A background thread (one per Saver, started by the first
// SaveAsync) then writes the bundle, the .meta and the state file and
// applies retention exactly as Save does, so the files are byte-identical to
// those of a Save of the same values. Saves run one at a time: SaveAsync,
// Save and Restore first wait for the asynchronous save in flight. An
// asynchronous save that fails is reported once, by the next SaveAsync or
// Save (which then save nothing) or by Wait(), whichever comes first; the
// destructor waits for the save in flight but cannot report it, so call
// Wait() before destroying a Saver whose last save matters. A failure
// leaves the files as a failed Save would.
//
//   for (int64_t step = 1; step <= num_steps; ++step) {
//     CKPT_RETURN_IF_ERROR(session.Run({}, {}, {train}).status());
//     if (step % 1000 == 0) {
//       CKPT_RETURN_IF_ERROR(saver->SaveAsync(&session, "tmp/model.ckpt", step).status());
//     }
//   }
//   CKPT_RETURN_IF_ERROR(saver->Wait());
//
// Thread safety: one thread at a time per Saver; the session serializes runs.
// While an asynchronous save is in flight that thread may keep running the
// session; last_checkpoints() may be called from any thread.
#ifndef CKPT_RUNTIME_SAVER_H_
#define CKPT_RUNTIME_SAVER_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ckpt/background_thread.h"
#include "ckpt/dtype.h"
#include "ckpt/env.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/session.h"
#include "meta_graph.pb.h"
#include "saver.pb.h"

namespace ckpt {

struct SaverOptions {
  // Name scope of the save/restore subgraph ("save", then "save_1", ...).
  std::string name = "save";
  int max_to_keep = 5;  // 0 or negative: keep all
  double keep_checkpoint_every_n_hours = 10000.0;
  bool sharded = false;
  // Variable node names; empty = every variable of graph.variables().
  std::vector<std::string> var_list;
  Env* env = nullptr;  // nullptr = Env::Default()
};

struct SaveOptions {
  bool write_meta_graph = true;
  bool write_state = true;
  std::string latest_filename = "checkpoint";  // the state file, in the checkpoint's directory
};

class Saver {
 public:
  // Adds the save/restore subgraph to `graph` (which must outlive the Saver).
  // InvalidArgument when there is no variable to save, a var_list name is
  // not a variable node, two variables would be saved under one name, or a
  // variable is a resource variable (not supported yet).
  static absl::StatusOr<std::unique_ptr<Saver>> Create(Graph* graph, SaverOptions options = {});

  // A saver for an imported graph: drives the graph's own save/restore ops
  // named by the SaverDef. NotFound when a node it names is missing. A
  // SaverDef of the V1 format is accepted, but Save and Restore then fail
  // with Unimplemented.
  static absl::StatusOr<std::unique_ptr<Saver>> FromSaverDef(
      Graph* graph, const ::tensorflow::SaverDef& def, Env* env = nullptr);

  ~Saver();
  Saver(const Saver&) = delete;
  Saver& operator=(const Saver&) = delete;

  // Writes the checkpoint <prefix>[-<global_step>] (see the file comment)
  // and returns that prefix.
  absl::StatusOr<std::string> Save(Session* session, const std::string& prefix,
                                   std::optional<int64_t> global_step = std::nullopt,
                                   const SaveOptions& options = {});

  // Fetches the variables' values, then writes the checkpoint
  // <prefix>[-<global_step>] in the background, as Save would (see
  // "Asynchronous saves" above), and returns that prefix. Waits first for
  // the previous asynchronous save; if it failed, returns its error and
  // saves nothing. Errors found before anything is queued (invalid
  // arguments, a failed fetch, a graph whose save op this cannot take
  // apart: Unimplemented) are returned at once.
  absl::StatusOr<std::string> SaveAsync(Session* session, const std::string& prefix,
                                        std::optional<int64_t> global_step = std::nullopt,
                                        const SaveOptions& options = {});

  // Waits for the asynchronous save in flight; returns its error if it
  // failed and nothing has reported that error yet, else OK.
  absl::Status Wait();

  // Checks every variable the restore op assigns against the checkpoint at
  // `prefix`, then runs the restore op. Waits first for an asynchronous
  // save in flight (whose error it leaves for the next call to report).
  absl::Status Restore(Session* session, const std::string& prefix);

  const ::tensorflow::SaverDef& saver_def() const { return def_; }
  // The checkpoints this Saver keeps (listed in the state file), oldest
  // first, as of the last completed save.
  std::vector<std::string> last_checkpoints() const;

 private:
  // One variable the restore op assigns, and where its value comes from.
  struct RestoredVariable {
    std::string variable;        // the variable node
    std::string tensor_name;     // its key in the checkpoint
    std::string shape_and_slice; // "" or "d0 d1 slice" for a partitioned part
    DType dtype = DT_INVALID;
    PartialShape shape;
  };

  Saver(Graph* graph, ::tensorflow::SaverDef def, Env* env);
  // Finds the variables the restore op assigns from RestoreV2 outputs.
  absl::Status CollectRestoredVariables();
  // Unimplemented for a SaverDef of the V1 format (imported old graphs).
  absl::Status CheckV2(absl::string_view what) const;
  absl::Status CheckCheckpoint(const std::string& prefix) const;
  // Deletes the files of checkpoint `prefix`, index first.
  absl::Status DeleteCheckpointFiles(const std::string& prefix) const;
  // Checks the arguments of Save and SaveAsync; the checkpoint's prefix.
  absl::StatusOr<std::string> CheckSaveArguments(Session* session, const std::string& prefix,
                                                 std::optional<int64_t> global_step,
                                                 const SaveOptions& options) const;
  // The error of the asynchronous save in flight, as reported by a call
  // that therefore does not save `file`.
  absl::Status TakeAsyncError(const std::string& file);
  // What follows a written bundle in Save and SaveAsync: the .meta (from
  // `meta`, when options.write_meta_graph), the state file, retention.
  // `path` is the checkpoint written, `file` the one asked for.
  absl::StatusOr<std::string> FinishSave(const std::string& file, const std::string& path,
                                         const SaveOptions& options,
                                         const absl::StatusOr<::tensorflow::MetaGraphDef>& meta);
  // How SaveAsync takes the save op apart, found once.
  struct AsyncSavePlan;
  absl::StatusOr<const AsyncSavePlan*> GetAsyncSavePlan();

  Graph* graph_;
  ::tensorflow::SaverDef def_;
  Env* env_;
  std::vector<RestoredVariable> restored_;
  std::vector<std::pair<std::string, double>> last_;  // (prefix, saved at), oldest first
  std::vector<std::string> last_names_;
  double keep_every_seconds_ = 0;
  double next_keep_time_ = 0;  // a checkpoint saved after this is kept for good
  // Guards last_ and last_names_ against last_checkpoints() while the
  // background thread updates them; only Save's thread, or the background
  // thread while it runs a save, changes them.
  mutable std::mutex last_mu_;
  std::unique_ptr<AsyncSavePlan> async_plan_;
  // Last: destroyed first, so that an asynchronous save in flight finishes
  // while everything it uses still exists.
  BackgroundJobThread async_;
};

// The MetaGraphDef of `graph` as TensorFlow's export_meta_graph writes it:
// meta_info_def.stripped_op_list with the OpDef of every op the graph uses
// (sorted by name, from the graph's registry), graph_def with versions and
// "_output_shapes" attrs where static shapes are known, saver_def (if
// `saver`), and collection_def: "variables" / "trainable_variables"
// (bytes_list of serialized VariableDefs) and each of the graph's node
// collections as a node_list ("train_op", ...). NotFound when a node uses an
// op the registry does not know.
absl::StatusOr<::tensorflow::MetaGraphDef> ExportMetaGraph(const Graph& graph,
                                                           const Saver* saver = nullptr);

}  // namespace ckpt

#endif  // CKPT_RUNTIME_SAVER_H_
