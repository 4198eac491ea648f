// ckpt_dump --verify: read every tensor and check every checksum.
#ifndef CKPT_TOOLS_COMMON_VERIFY_H_
#define CKPT_TOOLS_COMMON_VERIFY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ckpt/bundle_reader.h"
#include "common/progress.h"

namespace ckpt {
namespace tools {

struct TensorVerdict {
  std::string name;
  bool ok = true;
  bool checked = true;   // false for dtypes whose payload we cannot decode
  absl::Status status;   // why not ok (names file, tensor and byte range)
};

struct VerifyReport {
  std::vector<TensorVerdict> tensors;  // in entries() order
  int64_t bad = 0;
  int64_t unchecked = 0;
  // Data files shorter than the index says, or missing: the checkpoint is
  // damaged as a whole (ckpt_dump exits 2), not just some tensor (exit 1).
  std::vector<std::string> structural_errors;
  bool ok() const { return bad == 0 && structural_errors.empty(); }
};

// Reads every tensor (partitioned ones whole), with progress on a terminal.
VerifyReport VerifyCheckpoint(const BundleReader& reader);

// Adds one verdict per tensor to a report, in order, with progress on a
// terminal (shared by the V2 and V1 verifiers).
class VerdictTally {
 public:
  VerdictTally(VerifyReport* report, int64_t tensors, uint64_t total_bytes);
  // A tensor whose dtype cannot be decoded, so was not read.
  void Unchecked(const std::string& name, uint64_t bytes);
  // A tensor read with `status`.
  void Checked(const std::string& name, const absl::Status& status, uint64_t bytes);
  // Clears the progress line.
  void Done();

 private:
  void Add(TensorVerdict v, uint64_t bytes);
  VerifyReport* report_;
  Progress progress_;
  int64_t done_ = 0;
  uint64_t done_bytes_ = 0;
};

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_VERIFY_H_
