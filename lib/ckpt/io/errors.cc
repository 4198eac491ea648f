#include "ckpt/io/errors.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ckpt {

absl::Status PosixError(absl::string_view path, absl::string_view op, int err) {
  std::string msg = absl::StrCat(path, ": ", op, " failed: ", std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(msg);
    case EEXIST:
      return absl::AlreadyExistsError(msg);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(msg);
    case ENOSPC:
    case EDQUOT:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
      return absl::ResourceExhaustedError(msg);
    case EINVAL:
    case ENAMETOOLONG:
    case EISDIR:
      return absl::InvalidArgumentError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}

}  // namespace ckpt
