#include "ckpt/checkpoint_manager.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ckpt/checkpoint_state.h"
#include "ckpt/io/path.h"
#include "ckpt/naming.h"
#include "ckpt/status_macros.h"

namespace ckpt {

absl::StatusOr<std::unique_ptr<CheckpointManager>> CheckpointManager::Create(
    std::string dir, CheckpointManagerOptions options) {
  std::unique_ptr<CheckpointManager> m(new CheckpointManager());
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  m->dir_ = dir;
  m->options_ = options;
  m->env_ = options.env != nullptr ? options.env : Env::Default();
  if (options.max_to_keep < 0) {
    return absl::InvalidArgumentError(absl::StrCat("max_to_keep must be >= 0, got ", options.max_to_keep));
  }
  CKPT_RETURN_IF_ERROR(CreateDirRecursively(m->env_, dir));
  m->last_preserved_ = m->env_->NowSeconds() - 1;
  absl::StatusOr<tensorflow::CheckpointState> st = ReadCheckpointState(m->env_, dir);
  if (st.ok()) {
    // Recover the checkpoints this manager (or TensorFlow's) was managing:
    // those saved after the last preserved one. Without timestamps there is
    // nothing to manage; they stay where they are.
    if (st->last_preserved_timestamp() != 0) m->last_preserved_ = st->last_preserved_timestamp();
    if (st->all_model_checkpoint_timestamps_size() == st->all_model_checkpoint_paths_size()) {
      for (int i = 0; i < st->all_model_checkpoint_paths_size(); ++i) {
        const double t = st->all_model_checkpoint_timestamps(i);
        if (t <= m->last_preserved_) continue;
        // Retention deletes what it manages: only ever take on checkpoints
        // of our own name in our own directory, whatever the file says.
        const std::string& p = st->all_model_checkpoint_paths(i);
        const std::string base = BaseName(p);
        const bool ours = (p == base || JoinPath(dir, base) == p) &&
                          absl::StartsWith(base, options.basename + "-") &&
                          base.find('/') == std::string::npos && base != "." && base != "..";
        if (ours) m->kept_.emplace_back(JoinPath(dir, base), t);
      }
    }
  } else if (!absl::IsNotFound(st.status())) {
    return st.status();
  }
  return m;
}

std::vector<std::string> CheckpointManager::Checkpoints() const {
  std::vector<std::string> out;
  for (const auto& [prefix, t] : kept_) out.push_back(prefix);
  return out;
}

absl::StatusOr<std::string> CheckpointManager::Latest() const {
  if (!kept_.empty()) return kept_.back().first;
  return LatestCheckpoint(dir_, env_);
}

absl::Status CheckpointManager::WriteState() const {
  const std::string state_path = JoinPath(dir_, kCheckpointStateFileName);
  if (kept_.empty()) {
    // Nothing to name: no state file rather than one naming nothing.
    if (env_->FileExists(state_path)) return env_->DeleteFile(state_path);
    return absl::OkStatus();
  }
  tensorflow::CheckpointState st;
  for (const auto& [prefix, t] : kept_) {
    st.add_all_model_checkpoint_paths(BaseName(prefix));
    st.add_all_model_checkpoint_timestamps(t);
  }
  st.set_model_checkpoint_path(BaseName(kept_.back().first));
  st.set_last_preserved_timestamp(last_preserved_);
  return WriteCheckpointState(env_, dir_, st);
}

absl::Status CheckpointManager::RemoveCheckpoint(const std::string& prefix) const {
  // The index goes first: without it the rest is no longer a checkpoint.
  absl::Status first;
  auto remove = [&](const std::string& path) {
    if (!env_->FileExists(path)) return;
    absl::Status s = env_->DeleteFile(path);
    if (!s.ok() && first.ok()) first = s;
  };
  remove(IndexFilename(prefix));
  absl::StatusOr<std::vector<std::string>> children = env_->GetChildren(dir_);
  if (children.ok()) {
    const std::string data_prefix = BaseName(prefix) + ".data-";
    for (const std::string& c : *children) {
      if (absl::StartsWith(c, data_prefix) && !absl::StrContains(c, ".tempstate")) {
        remove(JoinPath(dir_, c));
      }
    }
  }
  remove(MetaFilename(prefix));
  if (!first.ok()) {
    return absl::Status(first.code(), absl::StrCat("removing old checkpoint ", prefix,
                                                   " failed: ", first.message()));
  }
  return absl::OkStatus();
}

void CheckpointManager::RemoveStaleTempFiles() const {
  // Left by a save of ours that crashed: "<basename>-<step>.<file>.tempstate<n>"
  // and the state file's "checkpoint.tmp<n>". One manager per directory, so
  // none of them belongs to a save in progress.
  absl::StatusOr<std::vector<std::string>> children = env_->GetChildren(dir_);
  if (!children.ok()) return;
  const std::string ours = options_.basename + "-";
  const std::string state_tmp = std::string(kCheckpointStateFileName) + ".tmp";
  for (const std::string& c : *children) {
    const bool bundle_tmp = absl::StartsWith(c, ours) && absl::StrContains(c, ".tempstate");
    if (bundle_tmp || absl::StartsWith(c, state_tmp)) env_->DeleteFile(JoinPath(dir_, c)).IgnoreError();
  }
}

absl::StatusOr<std::string> CheckpointManager::Save(
    int64_t step, const std::vector<std::pair<std::string, Tensor>>& tensors) {
  RemoveStaleTempFiles();
  const std::string prefix = JoinPath(dir_, absl::StrCat(options_.basename, "-", step));
  auto same = [&](const auto& e) { return e.first == prefix; };
  if (std::any_of(kept_.begin(), kept_.end(), same)) {
    // Saving over a checkpoint we list: stop listing it first, so the state
    // file never names a checkpoint while it is being replaced.
    kept_.erase(std::remove_if(kept_.begin(), kept_.end(), same), kept_.end());
    absl::Status s = WriteState();
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat("saving ", prefix, ": updating ", dir_, "/",
                                                 kCheckpointStateFileName, " failed: ", s.message()));
    }
  }

  BundleWriterOptions wo = options_.writer;
  wo.env = env_;
  BundleWriter writer(prefix, wo);
  for (const auto& [name, t] : tensors) CKPT_RETURN_IF_ERROR(writer.Add(name, t));
  CKPT_RETURN_IF_ERROR(writer.Finish());

  kept_.emplace_back(prefix, env_->NowSeconds());
  absl::Status s = WriteState();
  if (!s.ok()) {
    // The write may have failed after its rename (e.g. syncing the
    // directory): then the file names the new checkpoint, which must stay.
    absl::StatusOr<tensorflow::CheckpointState> now = ReadCheckpointState(env_, dir_);
    if (now.ok() && now->model_checkpoint_path() == BaseName(prefix)) {
      return absl::Status(s.code(), absl::StrCat("saved ", prefix, ", but writing ", dir_, "/",
                                                 kCheckpointStateFileName, " reported: ", s.message()));
    }
    // The previous state file still stands; drop the checkpoint it does not
    // name rather than leave it orphaned.
    kept_.pop_back();
    RemoveCheckpoint(prefix).IgnoreError();
    return absl::Status(s.code(), absl::StrCat("saving ", prefix, ": writing ", dir_, "/",
                                               kCheckpointStateFileName, " failed: ", s.message()));
  }

  std::vector<std::string> doomed;
  const double keep_every = options_.keep_checkpoint_every_n_hours * 3600.0;
  while (options_.max_to_keep > 0 && static_cast<int>(kept_.size()) > options_.max_to_keep) {
    auto [old, t] = kept_.front();
    kept_.erase(kept_.begin());
    if (keep_every > 0 && t - keep_every >= last_preserved_) {
      last_preserved_ = t;  // kept for good, no longer managed
    } else {
      doomed.push_back(old);
    }
  }
  if (doomed.empty() && keep_every <= 0) return prefix;
  // The state file stops naming them before any file goes.
  s = WriteState();
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat("saved ", prefix, ", but updating the checkpoint file for retention failed: ", s.message()));
  }
  for (const std::string& old : doomed) {
    absl::Status r = RemoveCheckpoint(old);
    if (!r.ok()) {
      return absl::Status(r.code(), absl::StrCat("saved ", prefix, ", but ", r.message()));
    }
  }
  return prefix;
}

}  // namespace ckpt
