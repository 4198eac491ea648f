// Helpers shared by every Env: atomic whole-file writes and small reads.
#include "ckpt/env.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "ckpt/io/path.h"
#include "ckpt/status_macros.h"

namespace ckpt {

absl::Status ReadOnlyFile::ReadCopy(uint64_t offset, size_t n, char* dst) const {
  CKPT_ASSIGN_OR_RETURN(absl::string_view got, Read(offset, n, dst));
  if (got.data() != dst) std::memcpy(dst, got.data(), n);
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(Env* env, const std::string& path,
                                 absl::string_view data) {
  std::string tmp = absl::StrCat(path, ".tmp", env->Random64());
  absl::Status s = [&]() -> absl::Status {
    CKPT_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, env->NewWritableFile(tmp));
    CKPT_RETURN_IF_ERROR(f->Append(data));
    CKPT_RETURN_IF_ERROR(f->Sync());
    CKPT_RETURN_IF_ERROR(f->Close());
    CKPT_RETURN_IF_ERROR(env->RenameFile(tmp, path));
    return env->SyncDir(DirName(path));
  }();
  if (!s.ok() && env->FileExists(tmp)) env->DeleteFile(tmp).IgnoreError();
  return s;
}

absl::Status CreateDirRecursively(Env* env, const std::string& dir) {
  if (dir.empty() || env->IsDirectory(dir)) return absl::OkStatus();
  std::string parent = DirName(dir);
  if (!parent.empty() && parent != dir) CKPT_RETURN_IF_ERROR(CreateDirRecursively(env, parent));
  return env->CreateDir(dir);
}

absl::StatusOr<std::string> ReadFileToString(Env* env, const std::string& path,
                                             uint64_t max_bytes) {
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<ReadOnlyFile> f, env->NewReadOnlyFile(path));
  if (f->size() > max_bytes) {
    return absl::OutOfRangeError(absl::StrCat(path, ": file is ", f->size(),
                                              " bytes, more than the ", max_bytes,
                                              " expected"));
  }
  std::string out(f->size(), '\0');
  CKPT_ASSIGN_OR_RETURN(absl::string_view got, f->Read(0, out.size(), out.data()));
  if (got.data() != out.data()) out.assign(got.data(), got.size());
  return out;
}

}  // namespace ckpt
