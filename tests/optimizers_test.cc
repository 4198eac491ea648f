// GradientDescent, Momentum and Adam: a few steps of training a tiny linear
// model equal the update rules applied by hand (in double precision here),
// and the graph carries TensorFlow 1.x's names for slots, hyperparameters,
// update ops and collections. The last test rebuilds the MNIST logistic
// regression of a TensorFlow-written `.meta` and compares it node by node.
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ckpt/meta_graph.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/optimizers.h"
#include "ckpt/runtime/ops.h"
#include "ckpt/runtime/scope.h"
#include "ckpt/runtime/session.h"
#include "gtest/gtest.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

// The problem: pred = x W + b, loss = mean((pred - y)^2) over 3 examples.
const double kX[3][2] = {{1, 2}, {3, -1}, {0.5, 1}};
const double kY[3] = {1, 0, 2};
const double kW0[2] = {0.1, -0.2};
const double kB0 = 0.05;

struct Params {
  double w[2];
  double b;
};

// d(loss)/dW and d(loss)/db at `p`, from the definition.
void Gradient(const Params& p, double gw[2], double* gb) {
  gw[0] = gw[1] = *gb = 0;
  for (int i = 0; i < 3; ++i) {
    const double r = kX[i][0] * p.w[0] + kX[i][1] * p.w[1] + p.b - kY[i];
    gw[0] += 2.0 / 3.0 * r * kX[i][0];
    gw[1] += 2.0 / 3.0 * r * kX[i][1];
    *gb += 2.0 / 3.0 * r;
  }
}

struct Model {
  Graph graph;
  Scope root = Scope::NewRootScope(&graph);
  Var w, b;
  Output loss;

  Model() {
    Output x = ops::Const(root, std::vector<float>{1, 2, 3, -1, 0.5f, 1}, TensorShape({3, 2}));
    Output y = ops::Const(root, std::vector<float>{1, 0, 2}, TensorShape({3, 1}));
    ops::VariableOptions wo;
    wo.name = "W";
    w = ops::Variable(root, ops::Const(root, std::vector<float>{0.1f, -0.2f}, TensorShape({2, 1})),
                      wo);
    ops::VariableOptions bo;
    bo.name = "b";
    b = ops::Variable(root, ops::Const(root, std::vector<float>{0.05f}, TensorShape({1})), bo);
    Output pred = ops::Add(root, ops::MatMul(root, x, w), b);
    loss = ops::ReduceMean(root, ops::Square(root, ops::Sub(root, pred, y)));
  }
};

// Runs `steps` training steps and returns W and b afterwards.
Params Train(Model& m, Operation train, int steps) {
  Session session(&m.graph);
  absl::StatusOr<std::vector<Tensor>> init =
      session.Run({}, {}, {ops::GlobalVariablesInitializer(m.root)});
  EXPECT_TRUE(init.ok()) << init.status();
  for (int i = 0; i < steps; ++i) {
    auto r = session.Run({}, {}, {train});
    EXPECT_TRUE(r.ok()) << r.status();
  }
  auto out = session.Run({}, {m.w.value(), m.b.value()});
  EXPECT_TRUE(out.ok()) << out.status();
  Params p{};
  if (!out.ok()) return p;
  p.w[0] = (*out)[0].flat<float>()[0];
  p.w[1] = (*out)[0].flat<float>()[1];
  p.b = (*out)[1].flat<float>()[0];
  return p;
}

void ExpectClose(const Params& got, const Params& want) {
  EXPECT_NEAR(got.w[0], want.w[0], 1e-5 * std::max(1.0, std::fabs(want.w[0])));
  EXPECT_NEAR(got.w[1], want.w[1], 1e-5 * std::max(1.0, std::fabs(want.w[1])));
  EXPECT_NEAR(got.b, want.b, 1e-5 * std::max(1.0, std::fabs(want.b)));
}

Params Initial() { return Params{{kW0[0], kW0[1]}, kB0}; }

std::vector<std::string> NodeInputs(const Graph& g, const std::string& name) {
  Node* n = g.FindNode(name);
  if (n == nullptr) return {"<no node " + name + ">"};
  return std::vector<std::string>(n->def.input().begin(), n->def.input().end());
}

TEST(OptimizersTest, GradientDescentMatchesTheUpdateRule) {
  Model m;
  GradientDescentOptimizer opt(0.1f);
  auto train = opt.Minimize(m.root, m.loss);
  ASSERT_TRUE(train.ok()) << train.status();
  Params got = Train(m, *train, 3);
  Params want = Initial();
  for (int step = 0; step < 3; ++step) {
    double gw[2], gb;
    Gradient(want, gw, &gb);
    for (int i = 0; i < 2; ++i) want.w[i] -= 0.1 * gw[i];
    want.b -= 0.1 * gb;
  }
  ExpectClose(got, want);
}

TEST(OptimizersTest, MomentumMatchesTheUpdateRule) {
  for (bool nesterov : {false, true}) {
    SCOPED_TRACE(nesterov ? "nesterov" : "plain");
    Model m;
    MomentumOptimizer opt(0.05f, 0.9f, nesterov);
    auto train = opt.Minimize(m.root, m.loss);
    ASSERT_TRUE(train.ok()) << train.status();
    Params got = Train(m, *train, 4);
    Params want = Initial();
    double aw[2] = {0, 0}, ab = 0;
    for (int step = 0; step < 4; ++step) {
      double gw[2], gb;
      Gradient(want, gw, &gb);
      for (int i = 0; i < 2; ++i) {
        aw[i] = 0.9 * aw[i] + gw[i];
        want.w[i] -= nesterov ? 0.05 * gw[i] + 0.05 * 0.9 * aw[i] : 0.05 * aw[i];
      }
      ab = 0.9 * ab + gb;
      want.b -= nesterov ? 0.05 * gb + 0.05 * 0.9 * ab : 0.05 * ab;
    }
    ExpectClose(got, want);
  }
}

TEST(OptimizersTest, AdamMatchesTheUpdateRule) {
  Model m;
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  AdamOptimizer opt(0.01f);
  auto train = opt.Minimize(m.root, m.loss);
  ASSERT_TRUE(train.ok()) << train.status();

  Session session(&m.graph);
  ASSERT_TRUE(session.Run({}, {}, {ops::GlobalVariablesInitializer(m.root)}).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(session.Run({}, {}, {*train}).ok());
  auto out = session.Run({}, {m.w.value(), m.b.value(), opt.beta1_power().value(),
                              opt.beta2_power().value(), opt.GetSlot(m.w, "m").value(),
                              opt.GetSlot(m.w, "v").value()});
  ASSERT_TRUE(out.ok()) << out.status();

  Params want = Initial();
  double mw[2] = {0, 0}, vw[2] = {0, 0}, mb = 0, vb = 0;
  double p1 = b1, p2 = b2;
  for (int step = 0; step < 3; ++step) {
    double gw[2], gb;
    Gradient(want, gw, &gb);
    const double lr_t = lr * std::sqrt(1 - p2) / (1 - p1);
    for (int i = 0; i < 2; ++i) {
      mw[i] = b1 * mw[i] + (1 - b1) * gw[i];
      vw[i] = b2 * vw[i] + (1 - b2) * gw[i] * gw[i];
      want.w[i] -= lr_t * mw[i] / (std::sqrt(vw[i]) + eps);
    }
    mb = b1 * mb + (1 - b1) * gb;
    vb = b2 * vb + (1 - b2) * gb * gb;
    want.b -= lr_t * mb / (std::sqrt(vb) + eps);
    p1 *= b1;
    p2 *= b2;
  }
  Params got{{(*out)[0].flat<float>()[0], (*out)[0].flat<float>()[1]},
             (*out)[1].flat<float>()[0]};
  ExpectClose(got, want);
  EXPECT_NEAR((*out)[2].flat<float>()[0], std::pow(0.9, 4), 1e-6);    // beta1^(steps+1)
  EXPECT_NEAR((*out)[3].flat<float>()[0], std::pow(0.999, 4), 1e-6);
  EXPECT_NEAR((*out)[4].flat<float>()[0], mw[0], 1e-5 * std::max(1.0, std::fabs(mw[0])));
  EXPECT_NEAR((*out)[5].flat<float>()[1], vw[1], 1e-5 * std::max(1.0, std::fabs(vw[1])));
}

TEST(OptimizersTest, GradientDescentNamesAsTensorFlow) {
  Model m;
  GradientDescentOptimizer opt(0.5f);
  auto train = opt.Minimize(m.root, m.loss);
  ASSERT_TRUE(train.ok()) << train.status();
  EXPECT_EQ(train->name(), "GradientDescent");
  EXPECT_EQ(train->node()->op(), "NoOp");
  EXPECT_EQ(NodeInputs(m.graph, "GradientDescent"),
            (std::vector<std::string>{"^GradientDescent/update_W/ApplyGradientDescent",
                                      "^GradientDescent/update_b/ApplyGradientDescent"}));
  // The gradients come gated through each op's tuple (GATE_OP).
  EXPECT_EQ(NodeInputs(m.graph, "GradientDescent/update_W/ApplyGradientDescent"),
            (std::vector<std::string>{"W", "GradientDescent/learning_rate",
                                      "gradients/MatMul_grad/tuple/control_dependency_1"}));
  EXPECT_EQ(NodeInputs(m.graph, "GradientDescent/update_b/ApplyGradientDescent"),
            (std::vector<std::string>{"b", "GradientDescent/learning_rate",
                                      "gradients/add_grad/tuple/control_dependency_1"}));
  Node* lr = m.graph.FindNode("GradientDescent/learning_rate");
  ASSERT_NE(lr, nullptr);
  EXPECT_EQ(lr->def.attr().at("value").tensor().float_val(0), 0.5f);
  ASSERT_EQ(m.graph.collections().count("train_op"), 1u);
  EXPECT_EQ(m.graph.collections().at("train_op"), std::vector<std::string>{"GradientDescent"});
  // No slots: the variables collection is unchanged.
  ASSERT_EQ(m.graph.variables().size(), 2u);

  // A second Minimize on the same graph opens "GradientDescent_1".
  auto again = opt.Minimize(m.root, m.loss);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->name(), "GradientDescent_1");
  EXPECT_NE(m.graph.FindNode("GradientDescent_1/update_W/ApplyGradientDescent"), nullptr);
  EXPECT_EQ(m.graph.collections().at("train_op"),
            (std::vector<std::string>{"GradientDescent", "GradientDescent_1"}));
}

TEST(OptimizersTest, MomentumSlotsAndNames) {
  Model m;
  MomentumOptimizer opt(0.1f, 0.9f);
  auto train = opt.Minimize(m.root, m.loss);
  ASSERT_TRUE(train.ok()) << train.status();
  EXPECT_EQ(train->name(), "Momentum");
  EXPECT_EQ(opt.GetSlot(m.w, "momentum").name(), "W/Momentum");
  EXPECT_EQ(opt.GetSlot(m.b, "momentum").name(), "b/Momentum");
  EXPECT_EQ(NodeInputs(m.graph, "Momentum/update_W/ApplyMomentum"),
            (std::vector<std::string>{"W", "W/Momentum", "Momentum/learning_rate",
                                      "gradients/MatMul_grad/tuple/control_dependency_1",
                                      "Momentum/momentum"}));
  Node* zeros = m.graph.FindNode("W/Momentum/Initializer/zeros");
  ASSERT_NE(zeros, nullptr);
  EXPECT_EQ(zeros->op(), "Const");
  EXPECT_EQ(NodeInputs(m.graph, "W/Momentum/Assign"),
            (std::vector<std::string>{"W/Momentum", "W/Momentum/Initializer/zeros"}));
  std::vector<std::string> vars;
  for (const auto& v : m.graph.variables()) vars.push_back(v.variable_name());
  EXPECT_EQ(vars, (std::vector<std::string>{"W:0", "b:0", "W/Momentum:0", "b/Momentum:0"}));
  std::vector<std::string> trainable;
  for (const auto& v : m.graph.trainable_variables()) trainable.push_back(v.variable_name());
  EXPECT_EQ(trainable, (std::vector<std::string>{"W:0", "b:0"}));
}

TEST(OptimizersTest, AdamSlotsAccumulatorsAndNames) {
  Model m;
  AdamOptimizer opt;
  auto train = opt.Minimize(m.root, m.loss);
  ASSERT_TRUE(train.ok()) << train.status();
  EXPECT_EQ(train->name(), "Adam");
  std::vector<std::string> vars;
  for (const auto& v : m.graph.variables()) vars.push_back(v.variable_name());
  EXPECT_EQ(vars, (std::vector<std::string>{"W:0", "b:0", "beta1_power:0", "beta2_power:0",
                                            "W/Adam:0", "W/Adam_1:0", "b/Adam:0",
                                            "b/Adam_1:0"}));
  EXPECT_EQ(m.graph.trainable_variables().size(), 2u);
  EXPECT_EQ(opt.GetSlot(m.w, "m").name(), "W/Adam");
  EXPECT_EQ(opt.GetSlot(m.w, "v").name(), "W/Adam_1");
  EXPECT_EQ(opt.beta1_power().name(), "beta1_power");
  EXPECT_EQ(NodeInputs(m.graph, "beta1_power/Assign"),
            (std::vector<std::string>{"beta1_power", "beta1_power/initial_value"}));
  EXPECT_EQ(m.graph.FindNode("beta2_power/initial_value")
                ->def.attr().at("value").tensor().float_val(0),
            0.999f);
  EXPECT_NE(m.graph.FindNode("W/Adam_1/Initializer/zeros"), nullptr);
  for (const char* c : {"Adam/learning_rate", "Adam/beta1", "Adam/beta2", "Adam/epsilon"}) {
    ASSERT_NE(m.graph.FindNode(c), nullptr) << c;
    EXPECT_EQ(m.graph.FindNode(c)->op(), "Const") << c;
  }
  EXPECT_EQ(NodeInputs(m.graph, "Adam/update_W/ApplyAdam"),
            (std::vector<std::string>{"W", "W/Adam", "W/Adam_1", "beta1_power/read",
                                      "beta2_power/read", "Adam/learning_rate", "Adam/beta1",
                                      "Adam/beta2", "Adam/epsilon",
                                      "gradients/MatMul_grad/tuple/control_dependency_1"}));
  // The powers advance after both updates.
  EXPECT_EQ(NodeInputs(m.graph, "Adam/mul"),
            (std::vector<std::string>{"beta1_power/read", "Adam/beta1",
                                      "^Adam/update_W/ApplyAdam", "^Adam/update_b/ApplyAdam"}));
  EXPECT_EQ(NodeInputs(m.graph, "Adam/Assign"),
            (std::vector<std::string>{"beta1_power", "Adam/mul"}));
  EXPECT_EQ(NodeInputs(m.graph, "Adam/mul_1"),
            (std::vector<std::string>{"beta2_power/read", "Adam/beta2",
                                      "^Adam/update_W/ApplyAdam", "^Adam/update_b/ApplyAdam"}));
  EXPECT_EQ(NodeInputs(m.graph, "Adam"),
            (std::vector<std::string>{"^Adam/update_W/ApplyAdam", "^Adam/update_b/ApplyAdam",
                                      "^Adam/Assign", "^Adam/Assign_1"}));
}

TEST(OptimizersTest, ExplicitVarListAndErrors) {
  Model m;
  GradientDescentOptimizer opt(0.1f);
  auto train = opt.Minimize(m.root, m.loss, {m.b});
  ASSERT_TRUE(train.ok()) << train.status();
  EXPECT_EQ(m.graph.FindNode("GradientDescent/update_W/ApplyGradientDescent"), nullptr);
  EXPECT_NE(m.graph.FindNode("GradientDescent/update_b/ApplyGradientDescent"), nullptr);

  // A variable the loss does not depend on has no gradient.
  ops::VariableOptions other;
  other.name = "unused";
  Var unused = ops::Variable(m.root, ops::Zeros(m.root, {2}), other);
  auto gv = opt.ComputeGradients(m.root, m.loss, {unused, m.w});
  ASSERT_TRUE(gv.ok()) << gv.status();
  EXPECT_FALSE((*gv)[0].first.valid());
  EXPECT_TRUE((*gv)[1].first.valid());
  auto none = opt.Minimize(m.root, m.loss, {unused});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("unused"), std::string::npos) << none.status();
}

TEST(OptimizersTest, IntegerVariablesAreRefused) {
  Graph graph;
  Scope root = Scope::NewRootScope(&graph);
  Var step = ops::Variable(root, ops::Const(root, int32_t{0}));
  Var w = ops::Variable(root, ops::Const(root, 1.0f));
  Output loss = ops::Square(root, w);
  GradientDescentOptimizer opt(0.1f);
  auto train = opt.Minimize(root, loss);  // every trainable variable, step included
  ASSERT_FALSE(train.ok());
  EXPECT_EQ(train.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(train.status().message().find("'Variable' is int32"), std::string::npos)
      << train.status();
}

// ---- the graph of a TensorFlow 1.1 tutorial ---------------------------------------

std::string ShapeString(const ::tensorflow::TensorShapeProto& p) {
  auto s = PartialShape::FromProto(p);
  return s.ok() ? s->DebugString() : "<bad>";
}

TEST(OptimizersTest, MnistLogisticRegressionMatchesTensorFlowNodeByNode) {
  CKPT_REQUIRE_CORPUS(corpus);
  auto meta = ReadMetaGraph(corpus + "/udacity_save_restore/train_model.ckpt.meta");
  ASSERT_TRUE(meta.ok()) << meta.status();

  // The lesson's script (TensorFlow 1.1), up to the saver:
  //   features = tf.placeholder(tf.float32, [None, 784]); labels = ...[None, 10]
  //   weights = tf.Variable(tf.random_normal([784, 10])); bias = ...([10])
  //   logits = tf.add(tf.matmul(features, weights), bias)
  //   cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=logits, labels=labels))
  //   optimizer = tf.train.GradientDescentOptimizer(learning_rate=0.001).minimize(cost)
  //   correct_prediction = tf.equal(tf.argmax(logits, 1), tf.argmax(labels, 1))
  //   accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
  Graph graph;
  Scope root = Scope::NewRootScope(&graph);
  Output features = ops::Placeholder(root, DT_FLOAT, {-1, 784});
  Output labels = ops::Placeholder(root, DT_FLOAT, {-1, 10});
  Var weights = ops::Variable(root, ops::RandomNormal(root, {784, 10}));
  Var bias = ops::Variable(root, ops::RandomNormal(root, {10}));
  Output logits = ops::Add(root.WithOpName("Add"), ops::MatMul(root, features, weights), bias);
  Output cost = ops::ReduceMean(root, ops::SoftmaxCrossEntropyWithLogits(root, labels, logits));
  GradientDescentOptimizer opt(0.001f);
  ASSERT_TRUE(opt.Minimize(root, cost).ok()) << root.status();
  Output predicted = ops::ArgMax(root, logits, 1);
  Output expected = ops::ArgMax(root, labels, 1);
  Output correct = ops::Equal(root, predicted, expected);
  Output accuracy = ops::ReduceMean(root, ops::Cast(root, correct, DT_FLOAT));
  ASSERT_TRUE(root.ok()) << root.status();

  std::vector<const ::tensorflow::NodeDef*> theirs;
  for (const auto& n : meta->graph_def().node()) {
    if (n.name().rfind("save/", 0) == 0 || n.name() == "init") continue;
    theirs.push_back(&n);
  }
  ASSERT_EQ(graph.num_nodes(), static_cast<int>(theirs.size()));
  for (size_t i = 0; i < theirs.size(); ++i) {
    const ::tensorflow::NodeDef& t = *theirs[i];
    const Node& ours = *graph.nodes()[i];
    SCOPED_TRACE(t.name());
    ASSERT_EQ(ours.name(), t.name());
    EXPECT_EQ(ours.op(), t.op());
    EXPECT_EQ(std::vector<std::string>(ours.def.input().begin(), ours.def.input().end()),
              std::vector<std::string>(t.input().begin(), t.input().end()));
    for (const auto& [key, value] : t.attr()) {
      if (key == "_output_shapes" || key == "_class") continue;
      // Producer 21 wrote an unknown placeholder shape as [].
      if (t.op() == "Placeholder" && key == "shape") continue;
      auto it = ours.def.attr().find(key);
      ASSERT_NE(it, ours.def.attr().end()) << "attr " << key;
      EXPECT_EQ(it->second.SerializeAsString(), value.SerializeAsString())
          << "attr " << key << ": ours " << it->second.ShortDebugString() << " theirs "
          << value.ShortDebugString();
    }
    auto shapes = t.attr().find("_output_shapes");
    if (shapes != t.attr().end()) {
      ASSERT_EQ(shapes->second.list().shape_size(), ours.num_outputs());
      // Our static shapes are TensorFlow 1.1's or more precise: TensorFlow
      // 1.1 did not see through the [-1, last dim] shape the cross entropy
      // reshapes to, so it had [?,?] where we have [?,10].
      for (int k = 0; k < ours.num_outputs(); ++k) {
        auto theirs_shape = PartialShape::FromProto(shapes->second.list().shape(k));
        ASSERT_TRUE(theirs_shape.ok());
        const PartialShape& mine = ours.output_shapes[k];
        bool refines = mine.IsCompatibleWith(*theirs_shape) &&
                       (theirs_shape->unknown_rank() || mine.rank() == theirs_shape->rank());
        for (int d = 0; refines && d < theirs_shape->rank(); ++d) {
          if (theirs_shape->dim(d) >= 0 && mine.dim(d) != theirs_shape->dim(d)) refines = false;
        }
        EXPECT_TRUE(refines) << "static shape of output " << k << ": ours "
                             << mine.DebugString() << ", TensorFlow's "
                             << ShapeString(shapes->second.list().shape(k));
      }
    }
  }
  std::vector<std::string> vars;
  for (const auto& v : graph.variables()) vars.push_back(v.SerializeAsString());
  std::vector<std::string> want;
  for (const auto& s : meta->collection_def().at("variables").bytes_list().value()) {
    ::tensorflow::VariableDef vd;
    ASSERT_TRUE(vd.ParseFromString(s));
    want.push_back(vd.variable_name());
  }
  std::vector<std::string> ours_names;
  for (const auto& v : graph.variables()) ours_names.push_back(v.variable_name());
  EXPECT_EQ(ours_names, want);
  EXPECT_EQ(graph.collections().at("train_op"), std::vector<std::string>{"GradientDescent"});
}

}  // namespace
}  // namespace ckpt
