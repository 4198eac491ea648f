// Status construction for file-system errors: every message names the path.
#ifndef CKPT_IO_ERRORS_H_
#define CKPT_IO_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ckpt {

// Maps errno to a status code (ENOENT -> NotFound, ENOSPC -> ResourceExhausted,
// EACCES -> PermissionDenied, ...) with "<path>: <op> failed: <strerror>".
absl::Status PosixError(absl::string_view path, absl::string_view op, int err);

}  // namespace ckpt

#endif  // CKPT_IO_ERRORS_H_
