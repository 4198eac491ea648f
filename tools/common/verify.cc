#include "common/verify.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "ckpt/env.h"
#include "ckpt/naming.h"

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

  VerdictTally tally(&report, static_cast<int64_t>(reader.entries().size()), total);
  for (const BundleEntryInfo& e : reader.entries()) {
    const uint64_t bytes = static_cast<uint64_t>(e.size);
    if (e.dtype != DT_STRING && !DTypeIsFixedSize(e.dtype)) {
      tally.Unchecked(e.name, bytes);
    } else {
      absl::StatusOr<Tensor> t = e.slices.empty() ? reader.ReadView(e.name) : reader.Read(e.name);
      tally.Checked(e.name, t.status(), bytes);
    }
  }
  tally.Done();
  return report;
}

VerdictTally::VerdictTally(VerifyReport* report, int64_t tensors, uint64_t total_bytes)
    : report_(report), progress_("verifying", tensors, total_bytes) {}

void VerdictTally::Unchecked(const std::string& name, uint64_t bytes) {
  TensorVerdict v;
  v.name = name;
  v.checked = false;
  ++report_->unchecked;
  Add(std::move(v), bytes);
}

void VerdictTally::Checked(const std::string& name, const absl::Status& status, uint64_t bytes) {
  TensorVerdict v;
  v.name = name;
  if (!status.ok()) {
    v.ok = false;
    v.status = status;
    ++report_->bad;
  }
  Add(std::move(v), bytes);
}

void VerdictTally::Add(TensorVerdict v, uint64_t bytes) {
  report_->tensors.push_back(std::move(v));
  done_bytes_ += bytes;
  progress_.Update(++done_, done_bytes_);
}

void VerdictTally::Done() { progress_.Done(); }

}  // namespace tools
}  // namespace ckpt
