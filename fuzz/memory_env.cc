#include "memory_env.h"

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ckpt {
namespace fuzz {
namespace {

std::shared_ptr<const std::vector<char>> MakeContents(absl::string_view bytes) {
  return std::make_shared<const std::vector<char>>(bytes.begin(), bytes.end());
}

class MemoryReadOnlyFile final : public ReadOnlyFile {
 public:
  MemoryReadOnlyFile(std::string path, std::shared_ptr<const std::vector<char>> contents,
                     bool mapped)
      : path_(std::move(path)), contents_(std::move(contents)), mapped_(mapped) {}

  uint64_t size() const override { return contents_->size(); }

  absl::StatusOr<absl::string_view> Read(uint64_t offset, size_t n,
                                         char* scratch) const override {
    if (offset > contents_->size() || n > contents_->size() - offset) {
      return absl::OutOfRangeError(absl::StrCat(path_, ": read of ", n, " bytes at offset ",
                                                offset, " runs past the end of the file (",
                                                contents_->size(), " bytes)"));
    }
    if (mapped_) return absl::string_view(contents_->data() + offset, n);
    if (n > 0) std::memcpy(scratch, contents_->data() + offset, n);
    return absl::string_view(scratch, n);
  }

  absl::string_view mapped() const override {
    if (!mapped_) return {};
    // An empty vector may have a null data(), which would read as "not mapped".
    if (contents_->empty()) return absl::string_view("", 0);
    return absl::string_view(contents_->data(), contents_->size());
  }

  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  std::shared_ptr<const std::vector<char>> contents_;
  bool mapped_;
};

}  // namespace

// Publishes a fresh copy after every Append: readers see what a POSIX reader
// would (everything written so far) while holding immutable snapshots.
class MemoryWritableFile final : public WritableFile {
 public:
  MemoryWritableFile(MemoryEnv* env, std::string path) : env_(env), path_(std::move(path)) {}

  absl::Status Append(absl::string_view data) override {
    if (closed_) return absl::FailedPreconditionError(absl::StrCat(path_, ": file is closed"));
    buffer_.append(data.data(), data.size());
    env_->Publish(path_, MakeContents(buffer_));
    return absl::OkStatus();
  }
  absl::Status Sync() override {
    if (closed_) return absl::FailedPreconditionError(absl::StrCat(path_, ": file is closed"));
    return absl::OkStatus();
  }
  absl::Status Close() override {
    closed_ = true;
    return absl::OkStatus();
  }
  const std::string& path() const override { return path_; }

 private:
  MemoryEnv* env_;
  std::string path_;
  std::string buffer_;
  bool closed_ = false;
};

void MemoryEnv::SetFile(const std::string& path, absl::string_view contents) {
  Publish(path, MakeContents(contents));
}

void MemoryEnv::SetFiles(const std::vector<std::string>& paths, absl::string_view contents) {
  Contents c = MakeContents(contents);
  for (const std::string& path : paths) Publish(path, c);
}

void MemoryEnv::Publish(const std::string& path, Contents contents) {
  std::lock_guard<std::mutex> lock(mu_);
  files_[path] = std::move(contents);
}

bool MemoryEnv::IsDirectoryLocked(const std::string& path) const {
  if (dirs_.count(path) > 0) return true;
  const std::string below = path.empty() || path.back() == '/' ? path : path + "/";
  auto it = files_.lower_bound(below);
  if (it != files_.end() && absl::StartsWith(it->first, below)) return true;
  auto d = dirs_.lower_bound(below);
  return d != dirs_.end() && absl::StartsWith(*d, below);
}

absl::StatusOr<std::unique_ptr<WritableFile>> MemoryEnv::NewWritableFile(
    const std::string& path) {
  Publish(path, MakeContents(""));
  return std::unique_ptr<WritableFile>(new MemoryWritableFile(this, path));
}

absl::StatusOr<std::unique_ptr<ReadOnlyFile>> MemoryEnv::NewReadOnlyFile(
    const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  return std::unique_ptr<ReadOnlyFile>(new MemoryReadOnlyFile(path, it->second, map_files_));
}

absl::Status MemoryEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(from);
  if (it == files_.end()) return absl::NotFoundError(absl::StrCat(from, ": no such file"));
  Contents c = it->second;
  files_.erase(it);
  files_[to] = std::move(c);
  return absl::OkStatus();
}

absl::Status MemoryEnv::DeleteFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (files_.erase(path) == 0) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  return absl::OkStatus();
}

absl::Status MemoryEnv::SyncDir(const std::string& dir) { return absl::OkStatus(); }

absl::Status MemoryEnv::CreateDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  if (files_.count(dir) > 0) {
    return absl::AlreadyExistsError(absl::StrCat(dir, ": a file of that name exists"));
  }
  dirs_.insert(dir);
  return absl::OkStatus();
}

absl::Status MemoryEnv::DeleteDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string below = dir + "/";
  auto it = files_.lower_bound(below);
  if (it != files_.end() && absl::StartsWith(it->first, below)) {
    return absl::FailedPreconditionError(absl::StrCat(dir, ": directory not empty"));
  }
  if (dirs_.erase(dir) == 0) return absl::NotFoundError(absl::StrCat(dir, ": no such directory"));
  return absl::OkStatus();
}

bool MemoryEnv::FileExists(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  return files_.count(path) > 0 || IsDirectoryLocked(path);
}

bool MemoryEnv::IsDirectory(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  return files_.count(path) == 0 && IsDirectoryLocked(path);
}

absl::StatusOr<uint64_t> MemoryEnv::GetFileSize(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  return it->second->size();
}

absl::StatusOr<std::vector<std::string>> MemoryEnv::GetChildren(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!IsDirectoryLocked(dir)) return absl::NotFoundError(absl::StrCat(dir, ": no such directory"));
  const std::string below = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  std::set<std::string> names;
  auto add = [&](const std::string& path) {
    if (!absl::StartsWith(path, below) || path.size() == below.size()) return;
    std::string rest = path.substr(below.size());
    names.insert(rest.substr(0, rest.find('/')));
  };
  for (const auto& f : files_) add(f.first);
  for (const std::string& d : dirs_) add(d);
  return std::vector<std::string>(names.begin(), names.end());
}

uint64_t MemoryEnv::Random64() {
  std::lock_guard<std::mutex> lock(mu_);
  return ++next_random_;
}

}  // namespace fuzz
}  // namespace ckpt
