// The POSIX Env: plain file descriptors for writing, mmap for reading.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "ckpt/env.h"
#include "ckpt/io/errors.h"
#include "ckpt/status_macros.h"

namespace ckpt {
namespace {

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  absl::Status Append(absl::string_view data) override {
    if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat(path_, ": file is closed"));
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError(path_, "write", errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat(path_, ": file is closed"));
    if (::fdatasync(fd_) != 0) return PosixError(path_, "fsync", errno);
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (fd_ < 0) return absl::OkStatus();
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return PosixError(path_, "close", errno);
    return absl::OkStatus();
  }

  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  int fd_;
};

class PosixReadOnlyFile final : public ReadOnlyFile {
 public:
  PosixReadOnlyFile(std::string path, int fd, uint64_t size, void* map)
      : path_(std::move(path)), fd_(fd), size_(size), map_(map) {}
  ~PosixReadOnlyFile() override {
    if (map_ != nullptr) ::munmap(map_, size_);
    if (fd_ >= 0) ::close(fd_);
  }

  uint64_t size() const override { return size_; }

  absl::StatusOr<absl::string_view> Read(uint64_t offset, size_t n,
                                         char* scratch) const override {
    if (offset > size_ || n > size_ - offset) {
      return absl::OutOfRangeError(absl::StrCat(
          path_, ": read of ", n, " bytes at offset ", offset,
          " runs past the end of the file (", size_, " bytes)"));
    }
    if (map_ != nullptr) {
      return absl::string_view(static_cast<const char*>(map_) + offset, n);
    }
    CKPT_RETURN_IF_ERROR(PreadAll(offset, n, scratch));
    return absl::string_view(scratch, n);
  }

  absl::Status ReadCopy(uint64_t offset, size_t n, char* dst) const override {
    if (offset > size_ || n > size_ - offset) {
      return absl::OutOfRangeError(absl::StrCat(
          path_, ": read of ", n, " bytes at offset ", offset,
          " runs past the end of the file (", size_, " bytes)"));
    }
    return PreadAll(offset, n, dst);
  }

  void ReleaseMapped(uint64_t offset, size_t n) const override {
    if (map_ == nullptr || offset > size_ || n > size_ - offset) return;
    const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    const uint64_t begin = (offset + page - 1) / page * page;
    const uint64_t end = (offset + n) / page * page;
    if (end <= begin) return;  // no whole page: not worth a system call
    ::madvise(static_cast<char*>(map_) + begin, end - begin, MADV_DONTNEED);
  }

  absl::string_view mapped() const override {
    if (map_ == nullptr) return {};
    return absl::string_view(static_cast<const char*>(map_), size_);
  }

  const std::string& path() const override { return path_; }

 private:
  absl::Status PreadAll(uint64_t offset, size_t n, char* scratch) const {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, scratch + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError(path_, "read", errno);
      }
      if (r == 0) {
        return absl::DataLossError(absl::StrCat(path_, ": file shrank while reading at offset ",
                                                offset + done));
      }
      done += static_cast<size_t>(r);
    }
    return absl::OkStatus();
  }

  std::string path_;
  int fd_;
  uint64_t size_;
  void* map_;
};

class PosixEnv final : public Env {
 public:
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError(path, "create", errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd));
  }

  absl::StatusOr<std::unique_ptr<ReadOnlyFile>> NewReadOnlyFile(
      const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError(path, "open", errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int e = errno;
      ::close(fd);
      return PosixError(path, "stat", e);
    }
    if (S_ISDIR(st.st_mode)) {
      ::close(fd);
      return absl::FailedPreconditionError(absl::StrCat(path, ": is a directory"));
    }
    uint64_t size = static_cast<uint64_t>(st.st_size);
    void* map = nullptr;
    if (size > 0 && S_ISREG(st.st_mode)) {
      map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
      if (map == MAP_FAILED) map = nullptr;  // fall back to pread
    }
    return std::unique_ptr<ReadOnlyFile>(new PosixReadOnlyFile(path, fd, size, map));
  }

  absl::Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return PosixError(absl::StrCat(from, " -> ", to), "rename", errno);
    }
    return absl::OkStatus();
  }

  absl::Status DeleteFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError(path, "delete", errno);
    return absl::OkStatus();
  }

  absl::Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError(dir, "open directory", errno);
    int rc = ::fsync(fd);
    int e = errno;
    ::close(fd);
    if (rc != 0) return PosixError(dir, "fsync directory", e);
    return absl::OkStatus();
  }

  absl::Status CreateDir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) != 0) {
      if (errno == EEXIST && IsDirectory(dir)) return absl::OkStatus();
      return PosixError(dir, "create directory", errno);
    }
    return absl::OkStatus();
  }

  absl::Status DeleteDir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) != 0) return PosixError(dir, "delete directory", errno);
    return absl::OkStatus();
  }

  bool FileExists(const std::string& path) override {
    return ::access(path.c_str(), F_OK) == 0;
  }

  bool IsDirectory(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  absl::StatusOr<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError(path, "stat", errno);
    return static_cast<uint64_t>(st.st_size);
  }

  absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& dir) override {
    DIR* d = ::opendir(dir.empty() ? "." : dir.c_str());
    if (d == nullptr) return PosixError(dir, "list directory", errno);
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      names.emplace_back(e->d_name);
    }
    ::closedir(d);
    return names;
  }

  double NowSeconds() override {
    struct timeval tv;
    ::gettimeofday(&tv, nullptr);
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
  }

  uint64_t Random64() override {
    thread_local std::mt19937_64 rng(std::random_device{}() ^
                                     (static_cast<uint64_t>(::getpid()) << 32) ^
                                     reinterpret_cast<uintptr_t>(&rng));
    return rng();
  }
};

}  // namespace

Env* Env::Default() {
  static Env* env = new PosixEnv();
  return env;
}

}  // namespace ckpt
