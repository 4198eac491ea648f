// Checkpoints of a pretend trainer whose every value is derived from the
// training step, so that a checkpoint mixing two saves, or cut short, is told
// apart from a whole one. Shared by the kill and concurrency tests.
//
//   auto vars = ckpt::testing::StepTensors(step, 1 << 20);
//   CKPT_RETURN_IF_ERROR(manager->Save(step, vars).status());
//   ...
//   auto reader = ckpt::BundleReader::Open(prefix);
//   absl::StatusOr<int64_t> s = ckpt::testing::ReadStepCheckpoint(**reader, 1 << 20);
#ifndef CKPT_TESTS_UTIL_STEP_CHECKPOINT_H_
#define CKPT_TESTS_UTIL_STEP_CHECKPOINT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/tensor.h"

namespace ckpt {
namespace testing {

// The variables of a trainer at `step`, about `approx_bytes` in all:
// "global_step" (int64 scalar) plus float, int32 and string tensors in which
// every element differs from the same element at any other step.
std::vector<std::pair<std::string, Tensor>> StepTensors(int64_t step, size_t approx_bytes);

// Reads every tensor of `reader` and checks that the checkpoint is exactly
// StepTensors(s, approx_bytes) for the s its global_step holds, and that its
// prefix ends in "-<s>". Returns s. A read error is returned as it is (a data
// file deleted under the reader is NotFound); a checkpoint that reads but
// holds other tensors or values is DataLoss saying what differs.
absl::StatusOr<int64_t> ReadStepCheckpoint(const BundleReader& reader, size_t approx_bytes);

}  // namespace testing
}  // namespace ckpt

#endif  // CKPT_TESTS_UTIL_STEP_CHECKPOINT_H_
