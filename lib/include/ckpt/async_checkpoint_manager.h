// ckpt/async_checkpoint_manager.h — numbered checkpoints written in the
// background, so that a trainer stops only while its tensors are snapshotted.
//
//   ckpt::AsyncCheckpointManagerOptions opts;
//   opts.max_to_keep = 3;
//   CKPT_ASSIGN_OR_RETURN(auto manager, ckpt::AsyncCheckpointManager::Create("/tmp/run", opts));
//   for (int64_t step = 1; step <= num_steps; ++step) {
//     TrainStep(&vars);  // vars: std::vector<std::pair<std::string, ckpt::Tensor>>
//     if (step % 1000 == 0) {
//       // Returns once `vars` is copied; writing goes on in the background.
//       // An error of the previous save is returned here.
//       CKPT_RETURN_IF_ERROR(manager->Save(step, vars));
//     }
//   }
//   CKPT_RETURN_IF_ERROR(manager->Wait());  // the last save's outcome
//
// A Save waits for the save before it to finish, then snapshots the tensors
// on the caller's thread and returns; a background thread (one per manager,
// started by the first Save) writes them through a CheckpointManager: the
// bundle (temporary files + fsync + rename), then the `checkpoint` file
// (atomically), then retention. Crash safety is the CheckpointManager's: the
// `checkpoint` file names only complete checkpoints, and a crash loses at
// most the save in flight. Files are byte-identical to a synchronous save of
// the same tensors.
//
// Snapshots. SnapshotMode::kCopy (the default) copies every tensor before
// Save returns (one memcpy per tensor): the caller may change or free its
// tensors at once. By default the copies' buffers are kept after the save
// and the next save copies into them (see keep_snapshot_buffers): fresh
// memory costs page faults that took longer than the copy itself (1 GiB:
// ~1 s against ~0.25 s for the memcpy on a 2-vCPU VM).
//
// SnapshotMode::kShare copies nothing: the manager holds references to the
// caller's buffers (ckpt::Tensor shares its buffer between copies) until the
// save completes, and the caller must not write into them until then. A
// trainer that updates tensors in place checks t.RefCountIsOne() before
// writing and writes into a Clone() when it is false (copy-on-write), or
// calls Wait() first. The references are dropped before the save is
// reported complete: after Wait() returns (or the next Save starts) the
// manager holds none of the caller's buffers.
//
// Errors. A save that fails in the background is reported once: by the next
// Save, which then saves nothing (call it again to save), or by Wait(),
// whichever comes first. So no failure is ever silently lost while the
// manager is used; the destructor waits for the save in flight but has no
// way to report it, so call Wait() before destroying a manager whose last
// save matters. Errors found before anything is queued (an invalid tensor,
// an empty or repeated name, no memory for the snapshot) are returned by
// that Save at once. A failed save leaves the previous checkpoints whole.
//
// Latest() and Checkpoints() describe completed saves only: while a save is
// in flight they name the checkpoints as they were before it.
//
// Thread safety: Save, Wait, Latest and Checkpoints may be called from one
// producer thread at a time (the trainer's); Latest and Checkpoints are also
// safe from other threads.
#ifndef CKPT_ASYNC_CHECKPOINT_MANAGER_H_
#define CKPT_ASYNC_CHECKPOINT_MANAGER_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ckpt/background_thread.h"
#include "ckpt/checkpoint_manager.h"
#include "ckpt/tensor.h"

namespace ckpt {

enum class SnapshotMode {
  kCopy,   // Save copies the tensors; the caller may modify them at once
  kShare,  // zero-copy; the caller must not write into them until the save completes
};

struct AsyncCheckpointManagerOptions : CheckpointManagerOptions {
  // Copy mode: keep the snapshot's buffers once a save completes, and copy
  // the next snapshot of a tensor of the same name, dtype and shape into
  // them. Costs one copy of the saved tensors held between saves; without
  // it the copy is made into fresh memory on every save.
  bool keep_snapshot_buffers = true;
};

class AsyncCheckpointManager {
 public:
  // Creates `dir` if needed and reads its `checkpoint` file, if any, as
  // CheckpointManager::Create does. Starts no thread.
  static absl::StatusOr<std::unique_ptr<AsyncCheckpointManager>> Create(
      std::string dir, AsyncCheckpointManagerOptions options = {});

  // Waits for the save in flight (see the file comment on errors).
  ~AsyncCheckpointManager();
  AsyncCheckpointManager(const AsyncCheckpointManager&) = delete;
  AsyncCheckpointManager& operator=(const AsyncCheckpointManager&) = delete;

  // Waits for the previous save; if it failed, returns its error and saves
  // nothing. Otherwise snapshots `tensors` (see SnapshotMode) and returns OK
  // while checkpoint `step` (`<dir>/<basename>-<step>`) is written in the
  // background. InvalidArgument for an invalid tensor or an empty or
  // repeated name; ResourceExhausted when the snapshot cannot be allocated.
  absl::Status Save(int64_t step, const std::vector<std::pair<std::string, Tensor>>& tensors,
                    SnapshotMode mode = SnapshotMode::kCopy);

  // Waits for the save in flight; returns its error if it failed and no
  // Save has returned that error yet, else OK.
  absl::Status Wait();

  // The newest completed checkpoint: its prefix inside the manager's directory
  // (relative when the directory was given relative), or NotFound.
  absl::StatusOr<std::string> Latest() const;
  // The managed checkpoints after the last completed save, oldest first.
  std::vector<std::string> Checkpoints() const;
  const std::string& directory() const { return dir_; }

 private:
  AsyncCheckpointManager() = default;
  // The copy-mode snapshot, into kept buffers where they fit.
  absl::StatusOr<std::vector<std::pair<std::string, Tensor>>> CopySnapshot(
      int64_t step, const std::vector<std::pair<std::string, Tensor>>& tensors);
  // Runs on the background thread.
  absl::Status Write(int64_t step, std::vector<std::pair<std::string, Tensor>>* snapshot,
                     bool keep_buffers);

  std::string dir_;
  bool keep_snapshot_buffers_ = true;
  // Used by the background thread only, and by Create before it exists.
  std::unique_ptr<CheckpointManager> manager_;
  // Copy mode's buffers from the last save, by tensor name: filled by the
  // background thread as a save ends, taken by the next Save once it has
  // waited for that save.
  absl::flat_hash_map<std::string, Tensor> spare_;

  mutable std::mutex mu_;  // guards the two below
  absl::StatusOr<std::string> latest_;
  std::vector<std::string> checkpoints_;

  // Last: destroyed first, so the save in flight finishes while the members
  // it uses still exist.
  BackgroundJobThread thread_;
};

}  // namespace ckpt

#endif  // CKPT_ASYNC_CHECKPOINT_MANAGER_H_
