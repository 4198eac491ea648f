#include "ckpt/io/path.h"

#include "absl/strings/str_cat.h"

namespace ckpt {

std::string DirName(absl::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return "";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string BaseName(absl::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == absl::string_view::npos ? path : path.substr(slash + 1));
}

bool IsAbsolutePath(absl::string_view path) { return !path.empty() && path[0] == '/'; }

std::string JoinPath(absl::string_view a, absl::string_view b) {
  if (a.empty() || IsAbsolutePath(b)) return std::string(b);
  if (b.empty()) return std::string(a);
  if (a.back() == '/') return absl::StrCat(a, b);
  return absl::StrCat(a, "/", b);
}

}  // namespace ckpt
