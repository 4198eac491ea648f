// Path manipulation on '/'-separated strings (no file-system access).
#ifndef CKPT_IO_PATH_H_
#define CKPT_IO_PATH_H_

#include <string>

#include "absl/strings/string_view.h"

namespace ckpt {

// "a/b/c" -> "a/b"; "c" -> ""; "/c" -> "/".
std::string DirName(absl::string_view path);
// "a/b/c" -> "c".
std::string BaseName(absl::string_view path);
// Joins with exactly one '/'; an absolute `b` or an empty `a` returns `b`.
std::string JoinPath(absl::string_view a, absl::string_view b);
bool IsAbsolutePath(absl::string_view path);

}  // namespace ckpt

#endif  // CKPT_IO_PATH_H_
