// A trainer with its own model and its own build that keeps its state in
// TensorFlow-format checkpoints through an installed ckpt (see
// CMakeLists.txt beside this file). It fits y = 3x + 2 by SGD on a plain
// std::vector<float>, resumes from the newest checkpoint in DIR, saves every
// --save_every steps and keeps the newest --keep checkpoints.
//
//   embed_trainer DIR [--steps N] [--save_every N] [--keep K]
//
// Each run trains --steps more steps. TensorFlow reads the checkpoints too:
// tf.train.load_checkpoint(DIR).get_tensor("linear/params").
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/checkpoint_manager.h"
#include "ckpt/version.h"

namespace {

constexpr int kPoints = 16;  // the data set: x in [-1, 1], y = 3x + 2
float X(int i) { return -1.0f + 2.0f * i / (kPoints - 1); }
float Y(int i) { return 3.0f * X(i) + 2.0f; }

float Loss(const std::vector<float>& p) {  // mean squared error; p = {w, b}
  float sum = 0;
  for (int i = 0; i < kPoints; ++i) {
    const float e = p[0] * X(i) + p[1] - Y(i);
    sum += e * e;
  }
  return sum / kPoints;
}

// The model's state as named tensors, and back.
std::vector<std::pair<std::string, ckpt::Tensor>> ToTensors(const std::vector<float>& params,
                                                            int64_t step) {
  ckpt::Tensor p(ckpt::DT_FLOAT, ckpt::TensorShape({static_cast<int64_t>(params.size())}));
  std::copy(params.begin(), params.end(), p.mutable_flat<float>().begin());
  ckpt::Tensor s(ckpt::DT_INT64, ckpt::TensorShape({}));
  s.mutable_flat<int64_t>()[0] = step;
  return {{"linear/params", p}, {"global_step", s}};
}

absl::Status Restore(const std::string& prefix, std::vector<float>* params, int64_t* step) {
  auto reader = ckpt::BundleReader::Open(prefix);
  if (!reader.ok()) return reader.status();
  // ReadInto checks the stored dtype and shape against these (InvalidArgument
  // otherwise) and the checksum (DataLoss).
  ckpt::Tensor p(ckpt::DT_FLOAT, ckpt::TensorShape({static_cast<int64_t>(params->size())}));
  ckpt::Tensor s(ckpt::DT_INT64, ckpt::TensorShape({}));
  absl::Status status = (*reader)->ReadInto("linear/params", &p);
  if (status.ok()) status = (*reader)->ReadInto("global_step", &s);
  if (!status.ok()) return status;
  params->assign(p.flat<float>().begin(), p.flat<float>().end());
  *step = s.flat<int64_t>()[0];
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [--steps N] [--save_every N] [--keep K]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  int64_t steps = 200, save_every = 50, keep = 3;
  for (int i = 2; i < argc; i += 2) {
    const std::string flag = argv[i];
    int64_t* value = flag == "--steps" ? &steps : flag == "--save_every" ? &save_every
                   : flag == "--keep"  ? &keep  : nullptr;
    if (value == nullptr || i + 1 >= argc || !absl::SimpleAtoi(argv[i + 1], value) ||
        *value < 1) {
      std::fprintf(stderr, "bad argument %s (flags take a positive number)\n", argv[i]);
      return 2;
    }
  }

  ckpt::CheckpointManagerOptions options;
  options.max_to_keep = static_cast<int>(keep);
  auto manager = ckpt::CheckpointManager::Create(dir, options);
  if (!manager.ok()) {
    std::fprintf(stderr, "%s\n", manager.status().ToString().c_str());
    return 1;
  }

  std::vector<float> params = {0.0f, 0.0f};  // w, b
  int64_t step = 0;
  absl::StatusOr<std::string> latest = (*manager)->Latest();
  if (latest.ok()) {
    absl::Status restored = Restore(*latest, &params, &step);
    if (!restored.ok()) {
      std::fprintf(stderr, "%s\n", restored.ToString().c_str());
      return 1;
    }
    std::printf("ckpt %s: restored %s at step %lld: w=%.6g b=%.6g loss=%.6g\n",
                ckpt::Version(), latest->c_str(), static_cast<long long>(step), params[0],
                params[1], Loss(params));
  } else {
    std::printf("ckpt %s: no checkpoint in %s, starting at step 0: loss=%.6g\n",
                ckpt::Version(), dir.c_str(), Loss(params));
  }

  const float learning_rate = 0.1f;
  for (const int64_t last = step + steps; step < last;) {
    const int i = static_cast<int>(step % kPoints);  // one example per step
    const float error = params[0] * X(i) + params[1] - Y(i);
    params[0] -= learning_rate * 2 * error * X(i);
    params[1] -= learning_rate * 2 * error;
    ++step;
    if (step % save_every == 0 || step == last) {
      absl::StatusOr<std::string> saved = (*manager)->Save(step, ToTensors(params, step));
      if (!saved.ok()) {
        std::fprintf(stderr, "%s\n", saved.status().ToString().c_str());
        return 1;
      }
      std::printf("step %lld: w=%.6g b=%.6g loss=%.6g, saved %s\n",
                  static_cast<long long>(step), params[0], params[1], Loss(params),
                  saved->c_str());
    }
  }
  std::printf("kept %zu checkpoints\n", (*manager)->Checkpoints().size());
  return 0;
}
