// The classic TensorFlow 1.x curve-fitting tutorial's model, built with
// ckpt's runtime: a 1-10-1 ReLU network fitted to y = x^2 - 0.5 + noise.
// Shared by the fit_curve demo, the resume tests and the runtime benchmark,
// so all three exercise exactly the same graph.
//
//   ckpt::Graph graph;
//   auto model = ckpt::examples::BuildCurveModel(&graph, {});
//   ckpt::Session session(&graph);
//   session.Run({}, {}, {model->init});
//   auto data = ckpt::examples::MakeCurveData();
//   session.Run({{model->xs, data.x}, {model->ys, data.y}}, {model->loss}, {model->train});
#ifndef CKPT_EXAMPLES_TUTORIAL_MODEL_H_
#define CKPT_EXAMPLES_TUTORIAL_MODEL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/ops.h"
#include "ckpt/tensor.h"

namespace ckpt {
namespace examples {

struct CurveModelOptions {
  std::string optimizer = "gradient_descent";  // or "momentum", "adam"
  float learning_rate = 0.1f;
  int64_t seed = 1;  // graph-level seed: the same initial weights every run
};

struct CurveModel {
  Output xs, ys;          // placeholders [?,1]
  Var w1, b1, w2, b2;     // [1,10], [1,10], [10,1], [1,1]
  Var global_step;        // int64 scalar, +1 per training step
  Output prediction, loss;
  Operation train;        // one optimizer step and the step increment
  Operation init;         // initializes every variable
};

absl::StatusOr<CurveModel> BuildCurveModel(Graph* graph, const CurveModelOptions& options);

struct CurveData {
  Tensor x, y;  // float32 [n,1]
};
// x: n points evenly spaced on [-1, 1]; y = x^2 - 0.5 + N(0, 0.05) noise drawn
// from a fixed-seed generator (the same data on every run and platform).
CurveData MakeCurveData(int n = 300, uint64_t seed = 7);

}  // namespace examples
}  // namespace ckpt

#endif  // CKPT_EXAMPLES_TUTORIAL_MODEL_H_
