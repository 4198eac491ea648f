// FaultInjectionEnv — an Env for crash-safety tests.
//
// Wraps a real Env and forwards everything to it, while it can
//   * simulate the death of the process at mutating operation N (that call and
//     every later mutating call fail without touching the disk),
//   * simulate power loss: every file written through this Env falls back to
//     the length it had at its last successful Sync,
//   * fail one chosen call of one kind with a chosen error (ENOSPC, EIO, ...),
//   * make one Append write only half of its bytes before failing.
// Reads (NewReadOnlyFile, FileExists, GetChildren, ...) always pass through.
//
// Typical crash test: run the operation once to learn how many steps it
// takes, then for every step n rerun it crashing at n and check what a new
// process would find after the power loss:
//
//   FaultInjectionEnv probe(Env::Default());
//   ASSERT_TRUE(Save(&probe, prefix).ok());
//   for (int64_t n = 0; n < probe.steps(); ++n) {
//     ScratchDir dir;
//     FaultInjectionEnv env(Env::Default());
//     env.SetCrashAtStep(n);
//     EXPECT_FALSE(Save(&env, dir.Join("ckpt")).ok());
//     ASSERT_TRUE(env.SimulateCrashDataLoss().ok());
//     // Now the old checkpoint or the new one must be readable, never a mix.
//   }
//
// Steps. Every call of a mutating operation takes the next step number
// (0-based), whether it succeeds, fails in the wrapped Env, or is failed by an
// injected fault: NewWritableFile, Append, Sync, Close (of files from this
// Env), RenameFile, DeleteFile, SyncDir, CreateDir, DeleteDir. So step n names
// the same call on every run of a deterministic operation.
//
// Model and limits. Only file contents are subject to loss; directory entries
// (creations, renames, deletions) are taken to be durable as soon as the call
// returns, so a missing SyncDir is not caught. Files are tracked by the path
// they were created under and follow renames (of the file or of a directory
// above it). Files written by other means than this Env are never touched.
//
// Thread safety: all methods may be called from several threads; calls are
// serialized by one mutex, held also while the wrapped Env works, so that
// step numbers follow the order in which operations really happen.
// Files returned by NewWritableFile must not outlive the FaultInjectionEnv.
#ifndef CKPT_TESTS_UTIL_FAULT_INJECTION_ENV_H_
#define CKPT_TESTS_UTIL_FAULT_INJECTION_ENV_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ckpt/env.h"

namespace ckpt {
namespace testing {

// The mutating operations, each counted as one step.
enum class OpKind {
  kNewWritableFile,
  kAppend,
  kSync,   // WritableFile::Sync
  kClose,  // WritableFile::Close
  kRenameFile,
  kDeleteFile,
  kSyncDir,
  kCreateDir,
  kDeleteDir,
};
inline constexpr int kNumOpKinds = 9;

// "NewWritableFile", "Append", ... as used in error messages and StepLog().
const char* OpKindName(OpKind kind);

class FaultInjectionEnv : public Env {
 public:
  // `base` is not owned and must outlive this object.
  explicit FaultInjectionEnv(Env* base);
  ~FaultInjectionEnv() override;
  FaultInjectionEnv(const FaultInjectionEnv&) = delete;
  FaultInjectionEnv& operator=(const FaultInjectionEnv&) = delete;

  // ---- fault configuration --------------------------------------------------

  // The process dies at step n (0-based, counted since construction): call n
  // and every later mutating call fail with
  //   UnavailableError("injected crash at step <n>: <op> <path>")
  // (n is the step of the crash; <op> <path> name the refused call) and do
  // nothing. If n <= steps() already, the next mutating call is the crash.
  void SetCrashAtStep(int64_t n);
  // True once the crash step has been reached.
  bool crashed() const;

  // Power loss: every file written through this Env is cut back to the length
  // it had at its last successful Sync (a file never synced becomes empty).
  // It also ends the simulated crash, as a restarted process would see: the
  // crash step is disarmed, every file is taken as fully synced from here on,
  // and file objects opened before this call fail all further operations
  // (FailedPrecondition) since they belonged to the dead process. Other
  // configured faults stay armed and the step count continues. May be called
  // without a prior crash.
  absl::Status SimulateCrashDataLoss();

  // Call number `nth` (0-based, counted per kind since construction; see
  // op_count) of operation `kind` fails with `error`, returned as given, and
  // does nothing. Several failures may be armed at once; each fires once.
  void SetFailure(OpKind kind, int64_t nth, absl::Status error);

  // Append number `nth` (0-based, as for SetFailure) writes the first half of
  // its bytes (rounded down) to the file and then fails with
  //   ResourceExhaustedError("injected short write: wrote <k> of <n> bytes to <path>")
  // as a write(2) that ran out of space would. The half that was written
  // counts as appended (it survives a later Sync).
  void SetShortWrite(int64_t nth);

  // Disarms the crash step, every SetFailure and every SetShortWrite.
  void ClearFaults();

  // ---- observation ----------------------------------------------------------

  // Mutating calls made so far (= the step number the next one will get).
  int64_t steps() const;
  // Calls made so far of one kind (= the nth the next one of that kind gets).
  int64_t op_count(OpKind kind) const;
  // "<op> <path>" for every step so far, indexed by step number; a rename
  // reads "RenameFile <from> -> <to>". For messages in crash tests.
  std::vector<std::string> StepLog() const;

  // ---- Env ------------------------------------------------------------------

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) override;
  absl::StatusOr<std::unique_ptr<ReadOnlyFile>> NewReadOnlyFile(
      const std::string& path) override;
  absl::Status RenameFile(const std::string& from, const std::string& to) override;
  absl::Status DeleteFile(const std::string& path) override;
  absl::Status SyncDir(const std::string& dir) override;
  absl::Status CreateDir(const std::string& dir) override;
  absl::Status DeleteDir(const std::string& dir) override;
  bool FileExists(const std::string& path) override;
  bool IsDirectory(const std::string& path) override;
  absl::StatusOr<uint64_t> GetFileSize(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& dir) override;
  double NowSeconds() override;
  uint64_t Random64() override;

 private:
  class File;
  struct FileState;

  // Takes the next step for a call of `kind` on `what` and decides its fate:
  // OK to perform it, or the injected error. `short_write` is set when this
  // is an Append that must write only half. Requires mu_.
  absl::Status BeginOp(OpKind kind, const std::string& what, bool* short_write);

  // The operations of File, run under mu_.
  absl::Status FileAppend(File* file, absl::string_view data);
  absl::Status FileSync(File* file);
  absl::Status FileClose(File* file);

  // Cuts one file back to `length` bytes through the wrapped Env.
  absl::Status TruncateFile(const std::string& path, uint64_t length);

  Env* const base_;
  mutable std::mutex mu_;
  int64_t steps_ = 0;
  std::array<int64_t, kNumOpKinds> op_counts_{};
  std::vector<std::string> step_log_;
  int64_t crash_step_ = -1;  // -1: no crash armed
  bool crashed_ = false;
  struct Failure {
    OpKind kind;
    int64_t nth;
    absl::Status error;
  };
  std::vector<Failure> failures_;
  std::vector<int64_t> short_writes_;
  // Files written through this Env that may hold unsynced bytes, by their
  // current path. Shared with the open File objects, which keep updating
  // their state after a rename or delete.
  std::map<std::string, std::shared_ptr<FileState>> files_;
  // Bumped by SimulateCrashDataLoss; files opened in an older generation are
  // dead.
  uint64_t generation_ = 0;
};

}  // namespace testing
}  // namespace ckpt

#endif  // CKPT_TESTS_UTIL_FAULT_INJECTION_ENV_H_
