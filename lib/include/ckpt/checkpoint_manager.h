// ckpt/checkpoint_manager.h — numbered checkpoints in a directory, with
// retention, as a trainer uses them.
//
//   ckpt::CheckpointManagerOptions opts;
//   opts.max_to_keep = 3;
//   CKPT_ASSIGN_OR_RETURN(auto manager, ckpt::CheckpointManager::Create("/tmp/run", opts));
//   absl::StatusOr<std::string> latest = manager->Latest();   // NotFound on a fresh run
//   if (latest.ok()) { /* restore: ckpt::BundleReader::Open(*latest) */ }
//   std::vector<std::pair<std::string, ckpt::Tensor>> vars = {{"w", w}, {"b", b}};
//   CKPT_ASSIGN_OR_RETURN(std::string saved, manager->Save(step, vars));
//   // saved == "/tmp/run/ckpt-<step>"; the oldest beyond 3 are deleted
//
// Each Save writes a complete bundle `<dir>/<basename>-<step>` (temporary
// files + fsync + rename), then rewrites the `checkpoint` file atomically to
// name it, then deletes the checkpoints that fall out of retention (index
// first, so that a half-deleted checkpoint is never mistaken for one). At
// every instant the `checkpoint` file names only complete checkpoints, and a
// crash loses at most the save in progress. Temporary files left by a save
// that crashed are removed by the next Save.
//
// Retention follows TensorFlow's CheckpointManager: the newest max_to_keep
// checkpoints are kept (0: keep every one); one that leaves that window is
// kept for good when keep_checkpoint_every_n_hours have passed since the last
// one kept that way. The checkpoint file records timestamps, and managed
// checkpoints are recovered from it on Create — only those named
// `<basename>-*` inside the directory: a `checkpoint` file naming paths
// elsewhere never makes the manager delete anything outside its directory.
//
// Not thread-safe: one thread saves through a manager at a time.
#ifndef CKPT_CHECKPOINT_MANAGER_H_
#define CKPT_CHECKPOINT_MANAGER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ckpt/bundle_writer.h"
#include "ckpt/env.h"
#include "ckpt/tensor.h"

namespace ckpt {

struct CheckpointManagerOptions {
  Env* env = nullptr;                     // null: Env::Default()
  std::string basename = "ckpt";          // prefixes are <dir>/<basename>-<step>
  int max_to_keep = 5;                    // 0: keep all
  double keep_checkpoint_every_n_hours = 0;  // 0: off
  BundleWriterOptions writer;             // env is overridden by `env`
};

class CheckpointManager {
 public:
  // Creates `dir` if needed and reads its `checkpoint` file, if any.
  static absl::StatusOr<std::unique_ptr<CheckpointManager>> Create(
      std::string dir, CheckpointManagerOptions options = {});

  // Writes the tensors as checkpoint `step` and applies retention. Returns
  // the new prefix. On error nothing the manager tracked before is lost.
  absl::StatusOr<std::string> Save(int64_t step,
                                   const std::vector<std::pair<std::string, Tensor>>& tensors);

  // The newest checkpoint: its prefix inside the manager's directory (relative
  // when the directory was given relative), or NotFound.
  absl::StatusOr<std::string> Latest() const;
  // The managed checkpoints, oldest first.
  std::vector<std::string> Checkpoints() const;
  const std::string& directory() const { return dir_; }

 private:
  CheckpointManager() = default;
  absl::Status WriteState() const;
  absl::Status RemoveCheckpoint(const std::string& prefix) const;
  void RemoveStaleTempFiles() const;

  std::string dir_;
  CheckpointManagerOptions options_;
  Env* env_ = nullptr;
  std::vector<std::pair<std::string, double>> kept_;  // (prefix, time), oldest first
  double last_preserved_ = 0;
};

}  // namespace ckpt

#endif  // CKPT_CHECKPOINT_MANAGER_H_
