// The README's example: write a checkpoint TensorFlow can restore, then read
// it back. Usage: quickstart [DIR]   (default: ./quickstart_out)
#include <iostream>

#include "ckpt/bundle_reader.h"
#include "ckpt/bundle_writer.h"

int main(int argc, char** argv) {
  const std::string prefix = std::string(argc > 1 ? argv[1] : "quickstart_out") + "/model.ckpt";

  ckpt::Tensor w(ckpt::DT_FLOAT, ckpt::TensorShape({2, 3}));
  auto v = w.mutable_flat<float>();
  for (int i = 0; i < 6; ++i) v[i] = 0.5f * i;
  ckpt::Tensor step(ckpt::DT_INT64, ckpt::TensorShape({}));
  step.mutable_flat<int64_t>()[0] = 1000;

  ckpt::BundleWriter writer(prefix);
  absl::Status s = writer.Add("dense/kernel", w);
  if (s.ok()) s = writer.Add("global_step", step);
  if (s.ok()) s = writer.Finish();  // temp files, fsync, atomic rename
  if (!s.ok()) { std::cerr << s << "\n"; return 1; }

  auto reader = ckpt::BundleReader::Open(prefix);
  if (!reader.ok()) { std::cerr << reader.status() << "\n"; return 1; }
  for (const ckpt::BundleEntryInfo& e : (*reader)->entries()) {
    std::cout << e.name << "  " << ckpt::DTypeName(e.dtype) << e.shape.DebugString() << "\n";
  }
  absl::StatusOr<ckpt::Tensor> kernel = (*reader)->Read("dense/kernel");  // CRC-checked
  if (!kernel.ok()) { std::cerr << kernel.status() << "\n"; return 1; }
  std::cout << "dense/kernel[5] = " << kernel->flat<float>()[5] << "\n";
  return 0;
}
