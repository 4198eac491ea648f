#include "util/fault_injection_env.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ckpt {
namespace testing {

const char* OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kNewWritableFile: return "NewWritableFile";
    case OpKind::kAppend: return "Append";
    case OpKind::kSync: return "Sync";
    case OpKind::kClose: return "Close";
    case OpKind::kRenameFile: return "RenameFile";
    case OpKind::kDeleteFile: return "DeleteFile";
    case OpKind::kSyncDir: return "SyncDir";
    case OpKind::kCreateDir: return "CreateDir";
    case OpKind::kDeleteDir: return "DeleteDir";
  }
  return "?";
}

// What survives a power loss of one file: `size` bytes were appended through
// this Env since it was created, the first `synced` of them were fsynced.
struct FaultInjectionEnv::FileState {
  uint64_t size = 0;
  uint64_t synced = 0;
};

class FaultInjectionEnv::File final : public WritableFile {
 public:
  File(FaultInjectionEnv* env, std::unique_ptr<WritableFile> base,
       std::shared_ptr<FileState> state, uint64_t generation)
      : env_(env), base_(std::move(base)), state_(std::move(state)),
        generation_(generation) {}

  absl::Status Append(absl::string_view data) override { return env_->FileAppend(this, data); }
  absl::Status Sync() override { return env_->FileSync(this); }
  absl::Status Close() override { return env_->FileClose(this); }
  const std::string& path() const override { return base_->path(); }

 private:
  friend class FaultInjectionEnv;
  FaultInjectionEnv* const env_;
  const std::unique_ptr<WritableFile> base_;
  const std::shared_ptr<FileState> state_;
  const uint64_t generation_;
};

FaultInjectionEnv::FaultInjectionEnv(Env* base) : base_(base) {}
FaultInjectionEnv::~FaultInjectionEnv() = default;

// ---- fault configuration ----------------------------------------------------

void FaultInjectionEnv::SetCrashAtStep(int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  // A step already taken cannot crash any more; the crash then happens at the
  // next one, and messages should name that one.
  crash_step_ = n < 0 ? -1 : std::max(n, steps_);
}

bool FaultInjectionEnv::crashed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return crashed_;
}

void FaultInjectionEnv::SetFailure(OpKind kind, int64_t nth, absl::Status error) {
  std::lock_guard<std::mutex> lock(mu_);
  if (error.ok()) {
    // An OK "failure" would silently skip the operation, which no real file
    // system does; make the misuse visible instead.
    error = absl::InternalError(
        absl::StrCat("SetFailure(", OpKindName(kind), ", ", nth, ") armed with an OK status"));
  }
  failures_.push_back(Failure{kind, nth, std::move(error)});
}

void FaultInjectionEnv::SetShortWrite(int64_t nth) {
  std::lock_guard<std::mutex> lock(mu_);
  short_writes_.push_back(nth);
}

void FaultInjectionEnv::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  crash_step_ = -1;
  crashed_ = false;
  failures_.clear();
  short_writes_.clear();
}

absl::Status FaultInjectionEnv::SimulateCrashDataLoss() {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status result;
  for (const auto& [path, state] : files_) {
    absl::Status s = TruncateFile(path, state->synced);
    if (!s.ok() && result.ok()) result = s;
  }
  files_.clear();
  ++generation_;
  crash_step_ = -1;
  crashed_ = false;
  return result;
}

absl::Status FaultInjectionEnv::TruncateFile(const std::string& path, uint64_t length) {
  absl::StatusOr<uint64_t> size = base_->GetFileSize(path);
  // Deleted or replaced behind our back: nothing of ours is left to lose.
  if (absl::IsNotFound(size.status())) return absl::OkStatus();
  if (!size.ok()) return size.status();
  if (*size <= length) return absl::OkStatus();

  // The Env has no truncate, so rewrite the surviving prefix. Copy it out and
  // drop the reader first: the reader may map the file, and the mapping must
  // not see the file shrink.
  std::string prefix;
  {
    absl::StatusOr<std::unique_ptr<ReadOnlyFile>> in = base_->NewReadOnlyFile(path);
    if (!in.ok()) return in.status();
    prefix.resize(length);
    absl::StatusOr<absl::string_view> got = (*in)->Read(0, length, prefix.data());
    if (!got.ok()) return got.status();
    if (got->data() != prefix.data()) prefix.assign(got->data(), got->size());
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> out = base_->NewWritableFile(path);
  if (!out.ok()) return out.status();
  absl::Status s = (*out)->Append(prefix);
  if (s.ok()) s = (*out)->Sync();
  absl::Status c = (*out)->Close();
  return s.ok() ? c : s;
}

// ---- observation ------------------------------------------------------------

int64_t FaultInjectionEnv::steps() const {
  std::lock_guard<std::mutex> lock(mu_);
  return steps_;
}

int64_t FaultInjectionEnv::op_count(OpKind kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  return op_counts_[static_cast<int>(kind)];
}

std::vector<std::string> FaultInjectionEnv::StepLog() const {
  std::lock_guard<std::mutex> lock(mu_);
  return step_log_;
}

// ---- the fault decision -----------------------------------------------------

absl::Status FaultInjectionEnv::BeginOp(OpKind kind, const std::string& what,
                                        bool* short_write) {
  const int64_t step = steps_++;
  const int64_t nth = op_counts_[static_cast<int>(kind)]++;
  step_log_.push_back(absl::StrCat(OpKindName(kind), " ", what));
  if (short_write != nullptr) *short_write = false;

  if (crash_step_ >= 0 && step >= crash_step_) {
    crashed_ = true;
    return absl::UnavailableError(
        absl::StrCat("injected crash at step ", crash_step_, ": ", OpKindName(kind), " ", what));
  }
  for (auto it = failures_.begin(); it != failures_.end(); ++it) {
    if (it->kind == kind && it->nth == nth) {
      absl::Status error = std::move(it->error);
      failures_.erase(it);
      return error;
    }
  }
  if (kind == OpKind::kAppend && short_write != nullptr) {
    auto it = std::find(short_writes_.begin(), short_writes_.end(), nth);
    if (it != short_writes_.end()) {
      short_writes_.erase(it);
      *short_write = true;
    }
  }
  return absl::OkStatus();
}

// ---- WritableFile operations --------------------------------------------------

absl::Status FaultInjectionEnv::FileAppend(File* file, absl::string_view data) {
  std::lock_guard<std::mutex> lock(mu_);
  bool short_write = false;
  if (absl::Status s = BeginOp(OpKind::kAppend, file->path(), &short_write); !s.ok()) return s;
  if (file->generation_ != generation_) {
    return absl::FailedPreconditionError(
        absl::StrCat(file->path(), ": file opened before the simulated crash"));
  }
  const absl::string_view written = short_write ? data.substr(0, data.size() / 2) : data;
  if (absl::Status s = file->base_->Append(written); !s.ok()) return s;
  file->state_->size += written.size();
  if (short_write) {
    return absl::ResourceExhaustedError(absl::StrCat("injected short write: wrote ",
                                                     written.size(), " of ", data.size(),
                                                     " bytes to ", file->path()));
  }
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::FileSync(File* file) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = BeginOp(OpKind::kSync, file->path(), nullptr); !s.ok()) return s;
  if (file->generation_ != generation_) {
    return absl::FailedPreconditionError(
        absl::StrCat(file->path(), ": file opened before the simulated crash"));
  }
  if (absl::Status s = file->base_->Sync(); !s.ok()) return s;
  file->state_->synced = file->state_->size;
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::FileClose(File* file) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = BeginOp(OpKind::kClose, file->path(), nullptr); !s.ok()) return s;
  if (file->generation_ != generation_) {
    return absl::FailedPreconditionError(
        absl::StrCat(file->path(), ": file opened before the simulated crash"));
  }
  return file->base_->Close();
}

// ---- Env: mutating ----------------------------------------------------------

absl::StatusOr<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(
    const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = BeginOp(OpKind::kNewWritableFile, path, nullptr); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<WritableFile>> base = base_->NewWritableFile(path);
  if (!base.ok()) return base.status();
  auto state = std::make_shared<FileState>();
  files_[path] = state;
  return std::unique_ptr<WritableFile>(
      new File(this, std::move(*base), std::move(state), generation_));
}

absl::Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = BeginOp(OpKind::kRenameFile, absl::StrCat(from, " -> ", to), nullptr);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = base_->RenameFile(from, to); !s.ok()) return s;
  if (from == to) return absl::OkStatus();

  // `to` now holds whatever `from` held: our state if we wrote it, else an
  // untracked file that has nothing of ours to lose.
  auto it = files_.find(from);
  if (it != files_.end()) {
    std::shared_ptr<FileState> state = std::move(it->second);
    files_.erase(it);
    files_[to] = std::move(state);
  } else {
    files_.erase(to);
  }
  // A renamed directory takes the files below it along.
  const std::string from_dir = from + "/";
  std::vector<std::pair<std::string, std::shared_ptr<FileState>>> moved;
  for (auto d = files_.lower_bound(from_dir);
       d != files_.end() && d->first.compare(0, from_dir.size(), from_dir) == 0;) {
    moved.emplace_back(absl::StrCat(to, "/", d->first.substr(from_dir.size())),
                       std::move(d->second));
    d = files_.erase(d);
  }
  for (auto& [path, state] : moved) files_[path] = std::move(state);
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::DeleteFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = BeginOp(OpKind::kDeleteFile, path, nullptr); !s.ok()) return s;
  if (absl::Status s = base_->DeleteFile(path); !s.ok()) return s;
  files_.erase(path);
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = BeginOp(OpKind::kSyncDir, dir, nullptr); !s.ok()) return s;
  return base_->SyncDir(dir);
}

absl::Status FaultInjectionEnv::CreateDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = BeginOp(OpKind::kCreateDir, dir, nullptr); !s.ok()) return s;
  return base_->CreateDir(dir);
}

absl::Status FaultInjectionEnv::DeleteDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = BeginOp(OpKind::kDeleteDir, dir, nullptr); !s.ok()) return s;
  return base_->DeleteDir(dir);
}

// ---- Env: pass-through ------------------------------------------------------

absl::StatusOr<std::unique_ptr<ReadOnlyFile>> FaultInjectionEnv::NewReadOnlyFile(
    const std::string& path) {
  return base_->NewReadOnlyFile(path);
}

bool FaultInjectionEnv::FileExists(const std::string& path) { return base_->FileExists(path); }

bool FaultInjectionEnv::IsDirectory(const std::string& path) {
  return base_->IsDirectory(path);
}

absl::StatusOr<uint64_t> FaultInjectionEnv::GetFileSize(const std::string& path) {
  return base_->GetFileSize(path);
}

absl::StatusOr<std::vector<std::string>> FaultInjectionEnv::GetChildren(
    const std::string& dir) {
  return base_->GetChildren(dir);
}

double FaultInjectionEnv::NowSeconds() { return base_->NowSeconds(); }

uint64_t FaultInjectionEnv::Random64() { return base_->Random64(); }

}  // namespace testing
}  // namespace ckpt
