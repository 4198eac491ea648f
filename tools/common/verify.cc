#include "common/verify.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "ckpt/env.h"
#include "ckpt/naming.h"
#include "common/progress.h"

namespace ckpt {
namespace tools {

VerifyReport VerifyCheckpoint(const BundleReader& reader) {
  VerifyReport report;
  // Every data file must exist and hold every payload the index places in it.
  std::map<int32_t, uint64_t> needed;
  uint64_t total = 0;
  auto need = [&](const BundleEntryInfo& e) {
    uint64_t end = static_cast<uint64_t>(e.offset) + static_cast<uint64_t>(e.size);
    needed[e.shard_id] = std::max(needed[e.shard_id], end);
    total += static_cast<uint64_t>(e.size);
  };
  for (const BundleEntryInfo& e : reader.entries()) {
    if (e.slices.empty()) {
      need(e);
      continue;
    }
    for (const TensorSlice& s : e.slices) {
      absl::StatusOr<BundleEntryInfo> part = reader.GetSliceEntry(e.name, s);
      if (part.ok()) need(*part);
    }
  }
  for (const auto& [shard, end] : needed) {
    const std::string path = DataFilename(reader.prefix(), shard, reader.num_shards());
    absl::StatusOr<uint64_t> size = Env::Default()->GetFileSize(path);
    if (!size.ok()) {
      report.structural_errors.push_back(absl::StrCat(path, ": missing (", size.status().message(), ")"));
    } else if (*size < end) {
      report.structural_errors.push_back(absl::StrCat(
          path, ": truncated: ", *size, " bytes, but the index places data up to byte ", end));
    }
  }

  Progress progress("verifying", static_cast<int64_t>(reader.entries().size()), total);
  uint64_t done_bytes = 0;
  int64_t done = 0;
  for (const BundleEntryInfo& e : reader.entries()) {
    TensorVerdict v;
    v.name = e.name;
    if (e.dtype != DT_STRING && !DTypeIsFixedSize(e.dtype)) {
      v.checked = false;
      ++report.unchecked;
    } else {
      absl::StatusOr<Tensor> t = e.slices.empty() ? reader.ReadView(e.name) : reader.Read(e.name);
      if (!t.ok()) {
        v.ok = false;
        v.status = t.status();
        ++report.bad;
      }
    }
    done_bytes += static_cast<uint64_t>(e.size);
    progress.Update(++done, done_bytes);
    report.tensors.push_back(std::move(v));
  }
  progress.Done();
  return report;
}

}  // namespace tools
}  // namespace ckpt
