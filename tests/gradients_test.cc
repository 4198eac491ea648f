// Symbolic gradients against central finite differences, run through a
// Session, and the structure tf.gradients gives the gradient graph (names,
// aggregation, where gradients stop).
//
// Each check builds y = f(x...) from placeholders, weights y's elements by a
// fixed pattern w (given as grad_ys, so every element's gradient matters),
// and compares the symbolic d(sum w*y)/dx with
// (sum w*f(x+h) - sum w*f(x-h)) / 2h per element of x, in double precision.
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ckpt/runtime/gradients.h"
#include "ckpt/runtime/ops.h"
#include "ckpt/runtime/scope.h"
#include "ckpt/runtime/session.h"
#include "gtest/gtest.h"

namespace ckpt {
namespace {

using Builder = std::function<Output(const Scope&, const std::vector<Output>&)>;

Tensor D(const std::vector<double>& values, const TensorShape& shape) {
  Tensor t(DT_DOUBLE, shape);
  EXPECT_EQ(t.NumElements(), static_cast<int64_t>(values.size()));
  auto v = t.mutable_flat<double>();
  for (size_t i = 0; i < values.size(); ++i) v[i] = values[i];
  return t;
}

Tensor F(const std::vector<float>& values, const TensorShape& shape) {
  Tensor t(DT_FLOAT, shape);
  auto v = t.mutable_flat<float>();
  for (size_t i = 0; i < values.size(); ++i) v[i] = values[i];
  return t;
}

// Values in [lo, hi] that are not too regular (no ties for Maximum).
Tensor Spread(const TensorShape& shape, double lo, double hi, int salt = 0) {
  Tensor t(DT_DOUBLE, shape);
  auto v = t.mutable_flat<double>();
  const int64_t n = t.NumElements();
  for (int64_t i = 0; i < n; ++i) {
    const double u = std::fmod(0.618033988749 * static_cast<double>(i * 7 + salt * 13 + 3), 1.0);
    v[i] = lo + (hi - lo) * u;
  }
  return t;
}

double Dot(const Tensor& w, const Tensor& y) {
  double s = 0;
  if (y.dtype() == DT_DOUBLE) {
    auto a = w.flat<double>();
    auto b = y.flat<double>();
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  } else {
    auto a = w.flat<float>();
    auto b = y.flat<float>();
    for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  }
  return s;
}

struct GradCheckOptions {
  // Declared shapes of the placeholders (default: the values' shapes).
  std::vector<PartialShape> declared;
  // Which inputs to differentiate (default: all).
  std::vector<bool> differentiate;
  double step = 1e-5;
  double tolerance = 1e-6;
};

void CheckGradients(const Builder& f, const std::vector<Tensor>& xs,
                    const GradCheckOptions& opt = {}) {
  Graph graph;
  Scope root = Scope::NewRootScope(&graph);
  std::vector<Output> ph;
  for (size_t i = 0; i < xs.size(); ++i) {
    PartialShape shape = opt.declared.empty() ? PartialShape(xs[i].shape()) : opt.declared[i];
    ph.push_back(ops::Placeholder(root, xs[i].dtype(), shape));
  }
  Output y = f(root, ph);
  ASSERT_TRUE(root.ok()) << root.status();
  Session session(&graph);
  std::vector<std::pair<Output, Tensor>> feeds;
  for (size_t i = 0; i < xs.size(); ++i) feeds.emplace_back(ph[i], xs[i]);
  absl::StatusOr<std::vector<Tensor>> y0 = session.Run(feeds, {y});
  ASSERT_TRUE(y0.ok()) << y0.status();
  const Tensor& yv = (*y0)[0];

  Tensor w(yv.dtype(), yv.shape());
  for (int64_t i = 0; i < w.NumElements(); ++i) {
    const double wi = 0.5 + 0.25 * static_cast<double>((i * 5) % 7) - 0.1 * static_cast<double>(i % 3);
    if (w.dtype() == DT_DOUBLE) {
      w.mutable_flat<double>()[i] = wi;
    } else {
      w.mutable_flat<float>()[i] = static_cast<float>(wi);
    }
  }
  Output wy = ops::Const(root, w);
  std::vector<Output> targets;
  std::vector<size_t> which;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (opt.differentiate.empty() || opt.differentiate[i]) {
      targets.push_back(ph[i]);
      which.push_back(i);
    }
  }
  absl::StatusOr<std::vector<Output>> grads = AddSymbolicGradients(root, {y}, targets, {wy});
  ASSERT_TRUE(grads.ok()) << grads.status();
  for (const Output& g : *grads) ASSERT_TRUE(g.valid());
  absl::StatusOr<std::vector<Tensor>> analytic = session.Run(feeds, *grads);
  ASSERT_TRUE(analytic.ok()) << analytic.status();

  for (size_t k = 0; k < which.size(); ++k) {
    const size_t i = which[k];
    const Tensor& a = (*analytic)[k];
    ASSERT_EQ(a.shape(), xs[i].shape()) << "gradient " << k << " has the wrong shape";
    ASSERT_EQ(a.dtype(), DT_DOUBLE);
    for (int64_t j = 0; j < xs[i].NumElements(); ++j) {
      double f_plus = 0, f_minus = 0;
      for (int sign : {+1, -1}) {
        Tensor moved = xs[i].Clone();
        moved.mutable_flat<double>()[j] += sign * opt.step;
        auto moved_feeds = feeds;
        moved_feeds[i].second = moved;
        absl::StatusOr<std::vector<Tensor>> ym = session.Run(moved_feeds, {y});
        ASSERT_TRUE(ym.ok()) << ym.status();
        (sign > 0 ? f_plus : f_minus) = Dot(w, (*ym)[0]);
      }
      const double numeric = (f_plus - f_minus) / (2 * opt.step);
      const double symbolic = a.flat<double>()[j];
      EXPECT_NEAR(symbolic, numeric, opt.tolerance * std::max(1.0, std::fabs(numeric)))
          << "input " << i << " element " << j;
    }
  }
}

Output Cd(const Scope& s, const Tensor& t) { return ops::Const(s, t); }

// ---- math -------------------------------------------------------------------

TEST(GradientsTest, Identity) {
  CheckGradients([](const Scope& s, const std::vector<Output>& x) { return ops::Identity(s, x[0]); },
                 {Spread({2, 3}, -1, 1)});
}

TEST(GradientsTest, AddWithBroadcasting) {
  CheckGradients(
      [](const Scope& s, const std::vector<Output>& x) { return ops::Add(s, x[0], x[1]); },
      {Spread({2, 3}, -1, 1), Spread({3}, -1, 1, 1)});
}

TEST(GradientsTest, AddV2) {
  CheckGradients(
      [](const Scope& s, const std::vector<Output>& x) {
        return Output(s.AddOp("AddV2", "AddV2", {x[0], x[1]}, {}));
      },
      {Spread({2, 1}, -1, 1), Spread({1, 3}, -1, 1, 1)});
}

TEST(GradientsTest, SubBothSidesBroadcast) {
  CheckGradients(
      [](const Scope& s, const std::vector<Output>& x) { return ops::Sub(s, x[0], x[1]); },
      {Spread({2, 1}, -1, 1), Spread({1, 3}, -1, 1, 1)});
}

TEST(GradientsTest, MulWithBroadcasting) {
  CheckGradients(
      [](const Scope& s, const std::vector<Output>& x) { return ops::Mul(s, x[0], x[1]); },
      {Spread({2, 3}, -2, 2), Spread({2, 1}, -2, 2, 1)});
}

TEST(GradientsTest, RealDiv) {
  CheckGradients(
      [](const Scope& s, const std::vector<Output>& x) { return ops::RealDiv(s, x[0], x[1]); },
      {Spread({2, 3}, -2, 2), Spread({3}, 0.5, 2, 1)});
}

TEST(GradientsTest, MaximumAndMinimum) {
  for (bool max : {true, false}) {
    CheckGradients(
        [max](const Scope& s, const std::vector<Output>& x) {
          return max ? ops::Maximum(s, x[0], x[1]) : ops::Minimum(s, x[0], x[1]);
        },
        {D({-1, 0.5, 2, 0.2, -0.7, 1.5}, {2, 3}), D({0, 0.1, 1}, {3})});
  }
}

TEST(GradientsTest, UnaryMath) {
  struct Case {
    const char* name;
    Output (*fn)(const Scope&, Output);
    double lo, hi;
  };
  const Case cases[] = {
      {"Neg", ops::Neg, -2, 2},     {"Square", ops::Square, -2, 2}, {"Sqrt", ops::Sqrt, 0.5, 3},
      {"Rsqrt", ops::Rsqrt, 0.5, 3}, {"Exp", ops::Exp, -1, 1},      {"Log", ops::Log, 0.5, 3},
      {"Abs", ops::Abs, 0.2, 2},    {"Sigmoid", ops::Sigmoid, -3, 3}, {"Tanh", ops::Tanh, -2, 2},
      {"Relu", ops::Relu, 0.1, 2},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto fn = c.fn;
    CheckGradients([fn](const Scope& s, const std::vector<Output>& x) { return fn(s, x[0]); },
                   {Spread({2, 3}, c.lo, c.hi)});
  }
  // Abs and Relu on negative values too.
  CheckGradients([](const Scope& s, const std::vector<Output>& x) { return ops::Abs(s, x[0]); },
                 {Spread({4}, -2, -0.2)});
  CheckGradients([](const Scope& s, const std::vector<Output>& x) { return ops::Relu(s, x[0]); },
                 {D({-1, 2, -0.5, 0.7}, {4})});
}

TEST(GradientsTest, Pow) {
  CheckGradients(
      [](const Scope& s, const std::vector<Output>& x) { return ops::Pow(s, x[0], x[1]); },
      {Spread({2, 3}, 0.5, 2), Spread({3}, -1.5, 2.5, 1)}, {{}, {}, 1e-6, 1e-5});
}

TEST(GradientsTest, MatMulEveryTransposeCombination) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      SCOPED_TRACE(absl::StrCat("transpose_a=", ta, " transpose_b=", tb));
      const TensorShape a = ta ? TensorShape({3, 2}) : TensorShape({2, 3});
      const TensorShape b = tb ? TensorShape({4, 3}) : TensorShape({3, 4});
      CheckGradients(
          [ta, tb](const Scope& s, const std::vector<Output>& x) {
            return ops::MatMul(s, x[0], x[1], ta, tb);
          },
          {Spread(a, -1, 1), Spread(b, -1, 1, 2)});
    }
  }
}

TEST(GradientsTest, SumOverVariousAxes) {
  const std::vector<std::vector<int32_t>> axes = {{}, {0}, {1}, {-1}, {0, 1}};
  for (const auto& ax : axes) {
    for (bool keep : {false, true}) {
      SCOPED_TRACE(absl::StrCat("axes size ", ax.size(), " keep ", keep));
      CheckGradients(
          [ax, keep](const Scope& s, const std::vector<Output>& x) {
            return ops::ReduceSum(s, x[0], ax, keep);
          },
          {Spread({2, 3}, -1, 1)});
    }
  }
}

TEST(GradientsTest, SumWithPartlyKnownAndUnknownShapes) {
  GradCheckOptions batch;
  batch.declared = {PartialShape({-1, 3})};
  CheckGradients([](const Scope& s,
                    const std::vector<Output>& x) { return ops::ReduceSum(s, x[0], {1}); },
                 {Spread({2, 3}, -1, 1)}, batch);
  GradCheckOptions unknown;
  unknown.declared = {PartialShape()};
  CheckGradients([](const Scope& s,
                    const std::vector<Output>& x) { return ops::ReduceSum(s, x[0]); },
                 {Spread({2, 3}, -1, 1)}, unknown);
  // Axes only known at run time.
  CheckGradients(
      [](const Scope& s, const std::vector<Output>& x) {
        Output axes = ops::Cast(s, ops::Const(s, std::vector<float>{-1.0f}, TensorShape({1})),
                                DT_INT32);
        return ops::Sum(s, x[0], axes);
      },
      {Spread({2, 3, 2}, -1, 1)});
}

TEST(GradientsTest, Mean) {
  const std::vector<std::vector<int32_t>> axes = {{}, {0}, {1}};
  for (const auto& ax : axes) {
    CheckGradients(
        [ax](const Scope& s, const std::vector<Output>& x) {
          return ops::ReduceMean(s, x[0], ax);
        },
        {Spread({2, 3}, -1, 1)});
  }
  GradCheckOptions batch;
  batch.declared = {PartialShape({-1, 3})};
  CheckGradients([](const Scope& s,
                    const std::vector<Output>& x) { return ops::ReduceMean(s, x[0], {1}); },
                 {Spread({4, 3}, -1, 1)}, batch);
}

TEST(GradientsTest, AddN) {
  CheckGradients(
      [](const Scope& s, const std::vector<Output>& x) { return ops::AddN(s, {x[0], x[1], x[2]}); },
      {Spread({2, 2}, -1, 1), Spread({2, 2}, -1, 1, 1), Spread({2, 2}, -1, 1, 2)});
}

TEST(GradientsTest, CastBetweenFloatTypes) {
  // float64 -> float32 -> float64: the gradient is cast back each time.
  CheckGradients(
      [](const Scope& s, const std::vector<Output>& x) {
        return ops::Cast(s, ops::Mul(s, ops::Cast(s, x[0], DT_FLOAT), ops::Const(s, 3.0f)),
                         DT_DOUBLE);
      },
      {D({0.5, -1.25, 2}, {3})}, {{}, {}, 1e-3, 1e-4});
}

// ---- nn -----------------------------------------------------------------------

TEST(GradientsTest, SoftmaxAndLogSoftmax) {
  CheckGradients([](const Scope& s, const std::vector<Output>& x) { return ops::Softmax(s, x[0]); },
                 {Spread({2, 4}, -2, 2)});
  CheckGradients(
      [](const Scope& s, const std::vector<Output>& x) { return ops::LogSoftmax(s, x[0]); },
      {Spread({2, 4}, -2, 2)});
}

TEST(GradientsTest, SoftmaxCrossEntropyWithLogits) {
  const Tensor labels = D({0.2, 0.3, 0.5, 0.0, 1.0, 0.0}, {2, 3});
  CheckGradients(
      [labels](const Scope& s, const std::vector<Output>& x) {
        return ops::SoftmaxCrossEntropyWithLogits(s, Cd(s, labels), x[0]);
      },
      {Spread({2, 3}, -2, 2)});
  // Logits with an unknown batch size go through the same reshapes.
  GradCheckOptions batch;
  batch.declared = {PartialShape({-1, 3})};
  CheckGradients(
      [labels](const Scope& s, const std::vector<Output>& x) {
        return ops::SoftmaxCrossEntropyWithLogits(s, Cd(s, labels), x[0]);
      },
      {Spread({2, 3}, -2, 2)}, batch);
}

TEST(GradientsTest, SparseSoftmaxCrossEntropyWithLogits) {
  Tensor labels(DT_INT32, TensorShape({3}));
  labels.mutable_flat<int32_t>()[0] = 2;
  labels.mutable_flat<int32_t>()[1] = 0;
  labels.mutable_flat<int32_t>()[2] = 1;
  CheckGradients(
      [labels](const Scope& s, const std::vector<Output>& x) {
        return ops::SparseSoftmaxCrossEntropyWithLogits(s, Cd(s, labels), x[0]);
      },
      {Spread({3, 4}, -2, 2)});
}

TEST(GradientsTest, NoGradientFlowsToCrossEntropyLabels) {
  Graph graph;
  Scope root = Scope::NewRootScope(&graph);
  Output labels = ops::Placeholder(root, DT_FLOAT, {2, 3});
  Output logits = ops::Placeholder(root, DT_FLOAT, {2, 3});
  Output loss = ops::SoftmaxCrossEntropyWithLogits(root, labels, logits);
  auto grads = AddSymbolicGradients(root, {loss}, {labels, logits});
  ASSERT_TRUE(grads.ok()) << grads.status();
  EXPECT_FALSE((*grads)[0].valid());
  EXPECT_TRUE((*grads)[1].valid());
}

TEST(GradientsTest, BiasAdd) {
  CheckGradients(
      [](const Scope& s, const std::vector<Output>& x) { return ops::BiasAdd(s, x[0], x[1]); },
      {Spread({2, 2, 3}, -1, 1), Spread({3}, -1, 1, 1)});
}

// ---- arrays -------------------------------------------------------------------

TEST(GradientsTest, ReshapeExpandDimsSqueeze) {
  CheckGradients(
      [](const Scope& s, const std::vector<Output>& x) {
        return ops::Mul(s, ops::Reshape(s, x[0], std::vector<int32_t>{3, 2}),
                        ops::Const(s, D({1, 2, 3, 4, 5, 6}, {3, 2})));
      },
      {Spread({2, 3}, -1, 1)});
  CheckGradients(
      [](const Scope& s, const std::vector<Output>& x) {
        return ops::ExpandDims(s, x[0], ops::Const(s, int32_t{1}));
      },
      {Spread({2, 3}, -1, 1)});
  CheckGradients(
      [](const Scope& s, const std::vector<Output>& x) { return ops::Squeeze(s, x[0], {1}); },
      {Spread({2, 1, 3}, -1, 1)});
}

TEST(GradientsTest, Transpose) {
  CheckGradients(
      [](const Scope& s, const std::vector<Output>& x) {
        return ops::Transpose(s, x[0], ops::Const(s, std::vector<int32_t>{1, 0}));
      },
      {Spread({2, 3}, -1, 1)});
  CheckGradients(
      [](const Scope& s, const std::vector<Output>& x) {
        return ops::Transpose(s, x[0], ops::Const(s, std::vector<int32_t>{2, 0, 1}));
      },
      {Spread({2, 3, 4}, -1, 1)});
}

TEST(GradientsTest, ConcatV2) {
  CheckGradients(
      [](const Scope& s, const std::vector<Output>& x) {
        return ops::ConcatV2(s, {x[0], x[1], x[0]}, ops::Const(s, int32_t{1}));
      },
      {Spread({2, 1}, -1, 1), Spread({2, 3}, -1, 1, 1)});
  // Sizes known only at run time (offsets computed in the graph).
  GradCheckOptions unknown;
  unknown.declared = {PartialShape({-1, 2}), PartialShape({-1, 2})};
  CheckGradients(
      [](const Scope& s, const std::vector<Output>& x) {
        return ops::ConcatV2(s, {x[0], x[1]}, ops::Const(s, int32_t{0}));
      },
      {Spread({1, 2}, -1, 1), Spread({3, 2}, -1, 1, 1)}, unknown);
}

TEST(GradientsTest, Pack) {
  for (int axis : {0, 1, -1}) {
    CheckGradients(
        [axis](const Scope& s, const std::vector<Output>& x) {
          return ops::Pack(s, {x[0], x[1]}, axis);
        },
        {Spread({2, 3}, -1, 1), Spread({2, 3}, -1, 1, 1)});
  }
}

TEST(GradientsTest, Tile) {
  CheckGradients(
      [](const Scope& s, const std::vector<Output>& x) {
        return ops::Tile(s, x[0], ops::Const(s, std::vector<int32_t>{2, 3}));
      },
      {Spread({2, 2}, -1, 1)});
}

// ---- graph structure ------------------------------------------------------------

TEST(GradientsTest, VariableReferenceAndSnapshotGetTheSameGradient) {
  Graph graph;
  Scope root = Scope::NewRootScope(&graph);
  Var w = ops::Variable(root, ops::Const(root, std::vector<float>{1, 2, 3}, TensorShape({3})));
  Output x = ops::Const(root, std::vector<float>{4, 5, 6}, TensorShape({3}));
  Output loss = ops::ReduceSum(root, ops::Mul(root, ops::Mul(root, w, w), x));
  auto grads = AddSymbolicGradients(root, {loss}, {w.ref(), w.value()});
  ASSERT_TRUE(grads.ok()) << grads.status();
  Session session(&graph);
  ASSERT_TRUE(session.Run({}, {}, {w.initializer()}).ok());
  auto out = session.Run({}, {(*grads)[0], (*grads)[1]});
  ASSERT_TRUE(out.ok()) << out.status();
  // d/dw sum(w*w*x) = 2*w*x
  const std::vector<float> want = {8, 20, 36};
  for (int k = 0; k < 2; ++k) {
    ASSERT_EQ((*out)[k].NumElements(), 3);
    for (int i = 0; i < 3; ++i) EXPECT_FLOAT_EQ((*out)[k].flat<float>()[i], want[i]);
  }
}

TEST(GradientsTest, SeveralUsesAreAddedWithAddN) {
  Graph graph;
  Scope root = Scope::NewRootScope(&graph);
  Output x = ops::Placeholder(root, DT_DOUBLE, {2});
  Output y = ops::Add(root, ops::Mul(root, x, x), x);  // x*x + x
  auto grads = AddSymbolicGradients(root, {y}, {x});
  ASSERT_TRUE(grads.ok()) << grads.status();
  Node* addn = graph.FindNode("gradients/AddN");
  ASSERT_NE(addn, nullptr);
  EXPECT_EQ(addn->op(), "AddN");
  EXPECT_EQ((*grads)[0].node(), addn);
  EXPECT_EQ(addn->def.attr().at("N").i(), 3);  // two from mul, one from add
  Session session(&graph);
  auto out = session.Run({{x, D({1.5, -2}, {2})}}, {(*grads)[0]});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_DOUBLE_EQ((*out)[0].flat<double>()[0], 4.0);   // 2*1.5 + 1
  EXPECT_DOUBLE_EQ((*out)[0].flat<double>()[1], -3.0);  // 2*-2 + 1
}

TEST(GradientsTest, SeedNodesAndScopesAreNamedAsTensorFlowNamesThem) {
  Graph graph;
  Scope root = Scope::NewRootScope(&graph);
  Output x = ops::Placeholder(root, DT_FLOAT, {2, 3});
  Output y = ops::ReduceSum(root, ops::Square(root, x));
  ASSERT_TRUE(AddSymbolicGradients(root, {y}, {x}).ok());
  for (const char* name : {"gradients/Shape", "gradients/Const", "gradients/Fill",
                           "gradients/Sum_grad/Reshape/shape", "gradients/Sum_grad/Reshape",
                           "gradients/Sum_grad/Const", "gradients/Sum_grad/Tile",
                           "gradients/Square_grad/mul/x", "gradients/Square_grad/mul",
                           "gradients/Square_grad/mul_1"}) {
    EXPECT_NE(graph.FindNode(name), nullptr) << name;
  }
  // y is a scalar of known shape: its shape is a constant, as
  // array_ops.shape folds it.
  EXPECT_EQ(graph.FindNode("gradients/Shape")->op(), "Const");
  // The constant 2 waits for the incoming gradient.
  const auto& two = graph.FindNode("gradients/Square_grad/mul/x")->def;
  ASSERT_EQ(two.input_size(), 1);
  EXPECT_EQ(two.input(0), "^gradients/Sum_grad/Tile");
  ASSERT_TRUE(AddSymbolicGradients(root, {y}, {x}).ok());
  EXPECT_NE(graph.FindNode("gradients_1/Fill"), nullptr);
}

TEST(GradientsTest, GatedGradientsPassThroughATuple) {
  Graph graph;
  Scope root = Scope::NewRootScope(&graph);
  Output a = ops::Placeholder(root, DT_DOUBLE, {2});
  Output b = ops::Placeholder(root, DT_DOUBLE, {2});
  Output y = ops::Add(root, a, b);
  GradientOptions gate;
  gate.gate_gradients = true;
  auto grads = AddSymbolicGradients(root, {y}, {a, b}, {}, gate);
  ASSERT_TRUE(grads.ok()) << grads.status();
  EXPECT_EQ((*grads)[0].node()->name(), "gradients/add_grad/tuple/control_dependency");
  EXPECT_EQ((*grads)[1].node()->name(), "gradients/add_grad/tuple/control_dependency_1");
  const auto& group = graph.FindNode("gradients/add_grad/tuple/group_deps")->def;
  ASSERT_EQ(group.input_size(), 2);
  EXPECT_EQ(group.input(0), "^gradients/add_grad/Reshape");
  EXPECT_EQ(group.input(1), "^gradients/add_grad/Reshape_1");
  Session session(&graph);
  auto out = session.Run({{a, D({1, 2}, {2})}, {b, D({3, 4}, {2})}}, *grads);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_DOUBLE_EQ((*out)[0].flat<double>()[1], 1.0);
  EXPECT_DOUBLE_EQ((*out)[1].flat<double>()[0], 1.0);
}

TEST(GradientsTest, StopGradientBlocksTheFlow) {
  Graph graph;
  Scope root = Scope::NewRootScope(&graph);
  Output x = ops::Placeholder(root, DT_DOUBLE, {2});
  Output y = ops::Mul(root, x, ops::StopGradient(root, x));  // d/dx = stop(x), not 2x
  auto grads = AddSymbolicGradients(root, {y}, {x});
  ASSERT_TRUE(grads.ok()) << grads.status();
  Session session(&graph);
  auto out = session.Run({{x, D({3, -1}, {2})}}, {(*grads)[0]});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_DOUBLE_EQ((*out)[0].flat<double>()[0], 3.0);
  EXPECT_DOUBLE_EQ((*out)[0].flat<double>()[1], -1.0);

  auto only_stopped = AddSymbolicGradients(root, {ops::StopGradient(root, x)}, {x});
  ASSERT_TRUE(only_stopped.ok());
  EXPECT_FALSE((*only_stopped)[0].valid());
}

TEST(GradientsTest, UnreachableAndIntegerPathsGiveNoGradient) {
  Graph graph;
  Scope root = Scope::NewRootScope(&graph);
  Output x = ops::Placeholder(root, DT_FLOAT, {2});
  Output unrelated = ops::Placeholder(root, DT_FLOAT, {2});
  Output through_int = ops::Cast(root, ops::Cast(root, x, DT_INT32), DT_FLOAT);
  Output y = ops::Add(root, ops::Square(root, unrelated), through_int);
  auto grads = AddSymbolicGradients(root, {y}, {x, unrelated, ops::Const(root, 1.0f)});
  ASSERT_TRUE(grads.ok()) << grads.status();
  EXPECT_FALSE((*grads)[0].valid());  // only through an integer tensor
  EXPECT_TRUE((*grads)[1].valid());
  EXPECT_FALSE((*grads)[2].valid());  // not an input of y at all
  EXPECT_TRUE(root.ok());
}

TEST(GradientsTest, AnOpWithoutGradientIsUnimplementedNamingOpAndNode) {
  Graph graph;
  Scope root = Scope::NewRootScope(&graph);
  Output x = ops::Placeholder(root, DT_FLOAT, {2});
  Output y = Output(root.WithOpName("my_diff").AddOp("SquaredDifference", "SquaredDifference",
                                                     {x, ops::Const(root, 1.0f)}, {}));
  ASSERT_TRUE(root.ok()) << root.status();
  auto grads = AddSymbolicGradients(root, {ops::ReduceSum(root, y)}, {x});
  ASSERT_FALSE(grads.ok());
  EXPECT_EQ(grads.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(absl::StrContains(grads.status().message(), "SquaredDifference"))
      << grads.status();
  EXPECT_TRUE(absl::StrContains(grads.status().message(), "my_diff")) << grads.status();
  EXPECT_FALSE(root.ok());  // recorded in the scope too
}

TEST(GradientsTest, GradYsMustMatchTheDtypeOfYs) {
  Graph graph;
  Scope root = Scope::NewRootScope(&graph);
  Output x = ops::Placeholder(root, DT_FLOAT, {2});
  auto grads = AddSymbolicGradients(root, {ops::Square(root, x)}, {x},
                                    {ops::Const(root, std::vector<int32_t>{1, 1})});
  ASSERT_FALSE(grads.ok());
  EXPECT_EQ(grads.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(GradientsTest, GradientShapesAreRefinedFromTheInputs) {
  Graph graph;
  Scope root = Scope::NewRootScope(&graph);
  Output x = ops::Placeholder(root, DT_FLOAT, {-1, 3});
  Output b = ops::Placeholder(root, DT_FLOAT, {3});
  Output y = ops::ReduceSum(root, ops::Add(root, x, b));
  auto grads = AddSymbolicGradients(root, {y}, {x, b});
  ASSERT_TRUE(grads.ok()) << grads.status();
  EXPECT_EQ((*grads)[0].shape(), PartialShape({-1, 3}));
  EXPECT_EQ((*grads)[1].shape(), PartialShape({3}));
}

}  // namespace
}  // namespace ckpt
