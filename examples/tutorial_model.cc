#include "tutorial_model.h"

#include <cmath>
#include <memory>

#include "absl/strings/str_cat.h"
#include "ckpt/runtime/optimizers.h"
#include "ckpt/runtime/scope.h"

namespace ckpt {
namespace examples {

using namespace ckpt::ops;  // NOLINT: reads like the Python tutorial

namespace {

VariableOptions Named(const std::string& name, bool trainable = true) {
  VariableOptions o;
  o.name = name;
  o.trainable = trainable;
  return o;
}

// add_layer() of the tutorial: Weights ~ N(0, 1), biases = zeros + 0.1.
struct Layer {
  Var w, b;
  Output out;
};

Layer AddLayer(const Scope& root, Output inputs, int in_size, int out_size, bool relu,
               const std::string& suffix) {
  Layer l;
  l.w = Variable(root, RandomNormal(root, TensorShape({in_size, out_size})),
                 Named("W" + suffix));
  l.b = Variable(root, Add(root, Zeros(root, TensorShape({1, out_size})), Const(root, 0.1f)),
                 Named("b" + suffix));
  Output wx_plus_b = Add(root, MatMul(root, inputs, l.w), l.b);
  l.out = relu ? Relu(root, wx_plus_b) : wx_plus_b;
  return l;
}

}  // namespace

absl::StatusOr<CurveModel> BuildCurveModel(Graph* graph, const CurveModelOptions& options) {
  graph->set_seed(options.seed);
  Scope root = Scope::NewRootScope(graph);
  CurveModel m;
  m.xs = Placeholder(root.WithOpName("xs"), DT_FLOAT, {-1, 1});
  m.ys = Placeholder(root.WithOpName("ys"), DT_FLOAT, {-1, 1});
  Layer l1 = AddLayer(root, m.xs, 1, 10, /*relu=*/true, "1");
  Layer l2 = AddLayer(root, l1.out, 10, 1, /*relu=*/false, "2");
  m.w1 = l1.w;
  m.b1 = l1.b;
  m.w2 = l2.w;
  m.b2 = l2.b;
  m.prediction = l2.out;
  m.loss = ReduceMean(root, ReduceSum(root, Square(root, Sub(root, m.ys, m.prediction)), {1}));
  m.global_step = Variable(root, Const(root, int64_t{0}),
                           Named("global_step", /*trainable=*/false));
  if (!root.ok()) return root.status();

  std::unique_ptr<Optimizer> opt;
  if (options.optimizer == "gradient_descent") {
    opt = std::make_unique<GradientDescentOptimizer>(options.learning_rate);
  } else if (options.optimizer == "momentum") {
    opt = std::make_unique<MomentumOptimizer>(options.learning_rate, 0.9f);
  } else if (options.optimizer == "adam") {
    opt = std::make_unique<AdamOptimizer>(options.learning_rate);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown optimizer '", options.optimizer,
                                                   "' (gradient_descent, momentum, adam)"));
  }
  absl::StatusOr<Operation> minimize = opt->Minimize(root, m.loss);
  if (!minimize.ok()) return minimize.status();
  Output increment = AssignAdd(root, m.global_step.ref(), Const(root, int64_t{1}));
  m.train = Group(root.WithOpName("train"), {*minimize, increment});
  graph->AddToCollection("train_op", m.train.name());
  m.init = GlobalVariablesInitializer(root);
  if (!root.ok()) return root.status();
  return m;
}

CurveData MakeCurveData(int n, uint64_t seed) {
  CurveData d{Tensor(DT_FLOAT, TensorShape({n, 1})), Tensor(DT_FLOAT, TensorShape({n, 1}))};
  auto x = d.x.mutable_flat<float>();
  auto y = d.y.mutable_flat<float>();
  // SplitMix64 + Box-Muller: a few lines that give the same noise on every
  // platform (std::normal_distribution's algorithm is unspecified).
  uint64_t state = seed;
  auto next_uniform = [&state]() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (static_cast<double>(z >> 11) + 0.5) * (1.0 / 9007199254740992.0);  // (0, 1)
  };
  for (int i = 0; i < n; ++i) {
    const double xi = n == 1 ? -1.0 : -1.0 + 2.0 * i / (n - 1);
    const double normal = std::sqrt(-2.0 * std::log(next_uniform())) *
                          std::cos(2.0 * M_PI * next_uniform());
    x[i] = static_cast<float>(xi);
    y[i] = static_cast<float>(xi * xi - 0.5 + 0.05 * normal);
  }
  return d;
}

}  // namespace examples
}  // namespace ckpt
