// ckpt/env.h — the file-system seam.
//
// Every byte ckpt reads or writes goes through an `Env`, so that tests (and
// embedders with unusual storage) can substitute their own: an in-memory one,
// or one that injects faults (failed writes, ENOSPC, a crash at step N) to
// prove that a save never leaves a half-written checkpoint behind.
//
//   ckpt::Env* env = ckpt::Env::Default();
//   auto file = env->NewWritableFile("/tmp/x.tmp");
//   if (!file.ok()) return file.status();
//   CKPT_RETURN_IF_ERROR((*file)->Append("hello"));
//   CKPT_RETURN_IF_ERROR((*file)->Sync());
//   CKPT_RETURN_IF_ERROR((*file)->Close());
//   CKPT_RETURN_IF_ERROR(env->RenameFile("/tmp/x.tmp", "/tmp/x"));
//
// Thread safety: an Env is safe to use from several threads at once; a single
// file object is not.
#ifndef CKPT_ENV_H_
#define CKPT_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ckpt {

// A file being written from start to end. Errors name the file.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual absl::Status Append(absl::string_view data) = 0;
  // Makes everything appended so far durable (fsync).
  virtual absl::Status Sync() = 0;
  // Closes the file; further calls fail. Close does not imply Sync.
  virtual absl::Status Close() = 0;
  virtual const std::string& path() const = 0;
};

// A file opened for reading at arbitrary offsets. Implementations may map the
// file into memory; then `mapped()` returns all its bytes and reads are free.
class ReadOnlyFile {
 public:
  virtual ~ReadOnlyFile() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly n bytes at offset. The result points either into `scratch`
  // (which must hold n bytes) or into the mapping. Reading past the end is an
  // OutOfRange error naming the file.
  virtual absl::StatusOr<absl::string_view> Read(uint64_t offset, size_t n,
                                                 char* scratch) const = 0;
  // The whole file when it is mapped into memory, else an empty view with
  // data() == nullptr. The bytes stay valid while this object lives.
  virtual absl::string_view mapped() const { return {}; }
  // Copies exactly n bytes at offset into dst (which must hold n bytes).
  // Unlike Read, the bytes never come out of the mapping: the POSIX file
  // pread()s them, so copying a large checkpoint out neither maps it into
  // the process (its resident memory stays the caller's buffers) nor faults
  // in pages, and a file truncated underneath is an error, not a SIGBUS.
  // The default copies what Read returns.
  virtual absl::Status ReadCopy(uint64_t offset, size_t n, char* dst) const;
  // The caller is done with [offset, offset + n) of mapped(): the POSIX file
  // drops the pages wholly inside it from the process (the page cache keeps
  // them; a later access faults them back in), so that views read one after
  // another do not pile up in resident memory. The default does nothing.
  virtual void ReleaseMapped(uint64_t offset, size_t n) const {}
  virtual const std::string& path() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX environment. Never deleted.
  static Env* Default();

  // Creates or truncates `path`.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) = 0;
  virtual absl::StatusOr<std::unique_ptr<ReadOnlyFile>> NewReadOnlyFile(
      const std::string& path) = 0;
  // Atomically replaces `to` with `from` (POSIX rename).
  virtual absl::Status RenameFile(const std::string& from,
                                  const std::string& to) = 0;
  virtual absl::Status DeleteFile(const std::string& path) = 0;
  // Makes the directory's entries (creations, renames, deletions) durable.
  virtual absl::Status SyncDir(const std::string& dir) = 0;
  // Creates one directory level; an existing directory is fine.
  virtual absl::Status CreateDir(const std::string& dir) = 0;
  // Removes an empty directory.
  virtual absl::Status DeleteDir(const std::string& dir) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  virtual bool IsDirectory(const std::string& path) = 0;
  // NotFound if `path` does not exist.
  virtual absl::StatusOr<uint64_t> GetFileSize(const std::string& path) = 0;
  // Names (not paths) of the entries of `dir`, without "." and "..".
  virtual absl::StatusOr<std::vector<std::string>> GetChildren(
      const std::string& dir) = 0;
  // Seconds since the epoch, with sub-second precision.
  virtual double NowSeconds() = 0;
  // A random 64-bit number for temporary file names.
  virtual uint64_t Random64() = 0;
};

// Writes `data` to `path` through a temporary file in the same directory,
// fsyncs it, renames it into place and fsyncs the directory: a reader sees
// either the old file or the new one, never a part. The temporary file is
// removed on failure.
absl::Status WriteFileAtomically(Env* env, const std::string& path,
                                 absl::string_view data);

// Creates `dir` and any missing parents (mkdir -p); existing ones are fine.
absl::Status CreateDirRecursively(Env* env, const std::string& dir);

// Reads a whole (small) file. Fails with OutOfRange if it exceeds max_bytes.
absl::StatusOr<std::string> ReadFileToString(Env* env, const std::string& path,
                                             uint64_t max_bytes = 64 << 20);

}  // namespace ckpt

#endif  // CKPT_ENV_H_
