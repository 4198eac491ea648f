// MemoryEnv — an in-memory ckpt::Env for the fuzz targets.
//
// A fuzz target runs hundreds of thousands of inputs a minute; going through
// the disk would make it slow and leave files behind if it crashed. MemoryEnv
// keeps every file as an exactly-sized heap buffer, so that AddressSanitizer
// reports a read even one byte past the end of a "file" (a std::string's
// spare capacity and terminator would hide it).
//
//   ckpt::fuzz::MemoryEnv env(/*map_files=*/true);
//   env.SetFile("/ckpt/model.index", bytes);
//   auto reader = ckpt::BundleReader::Open("/ckpt/model", {&env});
//
// With map_files, ReadOnlyFile::mapped() exposes the buffer (like the POSIX
// Env's mmap); without, readers must go through Read() and their own
// scratch space. The two modes take different code paths in the library.
//
// Directories exist when created or when some file lies below them. Time is
// frozen at 0 and Random64 counts up, so a run depends on its input only.
//
// Thread safety: all Env methods may be called concurrently. Files returned
// by NewWritableFile must not outlive the MemoryEnv.
#ifndef CKPT_FUZZ_MEMORY_ENV_H_
#define CKPT_FUZZ_MEMORY_ENV_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "ckpt/env.h"

namespace ckpt {
namespace fuzz {

class MemoryEnv final : public Env {
 public:
  explicit MemoryEnv(bool map_files = true) : map_files_(map_files) {}

  // Creates or replaces `path`; readers opened before keep the old bytes.
  void SetFile(const std::string& path, absl::string_view contents);
  // The same bytes under several names, stored once.
  void SetFiles(const std::vector<std::string>& paths, absl::string_view contents);

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
  double NowSeconds() override { return 0.0; }
  uint64_t Random64() override;

 private:
  using Contents = std::shared_ptr<const std::vector<char>>;
  friend class MemoryWritableFile;
  void Publish(const std::string& path, Contents contents);
  bool IsDirectoryLocked(const std::string& path) const;

  const bool map_files_;
  std::mutex mu_;
  std::map<std::string, Contents> files_;
  std::set<std::string> dirs_;
  uint64_t next_random_ = 0;
};

}  // namespace fuzz
}  // namespace ckpt

#endif  // CKPT_FUZZ_MEMORY_ENV_H_
