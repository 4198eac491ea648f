#include "ckpt/naming.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ckpt {

std::string IndexFilename(absl::string_view prefix) { return absl::StrCat(prefix, ".index"); }

std::string DataFilename(absl::string_view prefix, int64_t shard_id, int64_t num_shards) {
  return absl::StrFormat("%s.data-%05d-of-%05d", prefix, shard_id, num_shards);
}

std::string MetaFilename(absl::string_view prefix) {
  // Strip "-<digits or ?>-of-<digits>" at the end (V1 sharded names).
  absl::string_view p = prefix;
  size_t of = p.rfind("-of-");
  if (of != absl::string_view::npos && of + 4 < p.size()) {
    bool digits = true;
    for (char c : p.substr(of + 4)) digits = digits && c >= '0' && c <= '9';
    size_t dash = of == 0 ? absl::string_view::npos : p.rfind('-', of - 1);
    if (digits && dash != absl::string_view::npos && dash + 1 < of) {
      bool shard = true;
      for (char c : p.substr(dash + 1, of - dash - 1)) shard = shard && ((c >= '0' && c <= '9') || c == '?');
      if (shard) p = p.substr(0, dash);
    }
  }
  return absl::StrCat(p, ".meta");
}

}  // namespace ckpt
