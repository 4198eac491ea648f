#include "util/step_checkpoint.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ckpt {
namespace testing {

std::vector<std::pair<std::string, Tensor>> StepTensors(int64_t step, size_t approx_bytes) {
  std::vector<std::pair<std::string, Tensor>> out;
  Tensor global_step(DT_INT64, TensorShape({}));
  global_step.mutable_flat<int64_t>()[0] = step;
  out.emplace_back("global_step", global_step);

  // Half the bytes: floats holding integers below 2^24, exact, and distinct
  // for any two steps less than 2^24 / gcd apart (7919 is odd).
  Tensor w(DT_FLOAT, TensorShape({static_cast<int64_t>(approx_bytes / 2 / sizeof(float))}));
  absl::Span<float> wv = w.mutable_flat<float>();
  for (size_t i = 0; i < wv.size(); ++i) {
    wv[i] = static_cast<float>((static_cast<uint64_t>(step) * 7919u + i) % (1u << 24));
  }
  out.emplace_back("layer0/kernel", w);

  Tensor b(DT_INT32, TensorShape({static_cast<int64_t>(approx_bytes / 2 / sizeof(int32_t))}));
  absl::Span<int32_t> bv = b.mutable_flat<int32_t>();
  for (size_t i = 0; i < bv.size(); ++i) {
    bv[i] = static_cast<int32_t>(static_cast<uint32_t>(step) * 1000003u + static_cast<uint32_t>(i));
  }
  out.emplace_back("layer1/counts", b);

  Tensor names(DT_STRING, TensorShape({16}));
  for (int i = 0; i < 16; ++i) (*names.mutable_strings())[i] = absl::StrCat("step ", step, " item ", i);
  out.emplace_back("vocab", names);
  return out;
}

absl::StatusOr<int64_t> ReadStepCheckpoint(const BundleReader& reader, size_t approx_bytes) {
  absl::StatusOr<Tensor> gs = reader.Read("global_step");
  if (!gs.ok()) return gs.status();
  if (gs->dtype() != DT_INT64 || gs->NumElements() != 1) {
    return absl::DataLossError(absl::StrCat(reader.prefix(), ": global_step is not an int64 scalar"));
  }
  const int64_t step = gs->flat<int64_t>()[0];
  if (!absl::EndsWith(reader.prefix(), absl::StrCat("-", step))) {
    return absl::DataLossError(absl::StrCat(reader.prefix(), " holds global_step ", step));
  }
  const std::vector<std::pair<std::string, Tensor>> want = StepTensors(step, approx_bytes);
  if (reader.entries().size() != want.size()) {
    return absl::DataLossError(absl::StrCat(reader.prefix(), " holds ", reader.entries().size(),
                                            " tensors, expected ", want.size()));
  }
  for (const auto& [name, expected] : want) {
    absl::StatusOr<Tensor> got = reader.Read(name);
    if (!got.ok()) return got.status();
    if (!got->Identical(expected)) {
      return absl::DataLossError(absl::StrCat(reader.prefix(), ": tensor ", name,
                                              " does not hold the values of step ", step,
                                              " (a mix of two saves?)"));
    }
  }
  return step;
}

}  // namespace testing
}  // namespace ckpt
