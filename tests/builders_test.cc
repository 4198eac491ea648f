// The graph builders of ops.h (math, nn, arrays, random, training updates):
// the nodes, names, attrs and constants TensorFlow's Python makes for the
// same calls, static shape inference, and the errors recorded in the scope.
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/ops.h"
#include "ckpt/runtime/scope.h"
#include "ckpt/runtime/session.h"
#include "ckpt/tensor_proto.h"
#include "gtest/gtest.h"

namespace ckpt {
namespace {

std::vector<std::string> Inputs(const Output& o) {
  return std::vector<std::string>(o.node()->def.input().begin(), o.node()->def.input().end());
}

std::vector<std::string> Inputs(const Graph& g, const std::string& name) {
  Node* n = g.FindNode(name);
  if (n == nullptr) return {"<no node " + name + ">"};
  return std::vector<std::string>(n->def.input().begin(), n->def.input().end());
}

int64_t IntAttr(const Graph& g, const std::string& node, const std::string& attr) {
  return g.FindNode(node)->def.attr().at(attr).i();
}

std::vector<int64_t> ConstInts(const Graph& g, const std::string& node) {
  auto t = TensorFromProto(g.FindNode(node)->def.attr().at("value").tensor());
  EXPECT_TRUE(t.ok()) << t.status();
  std::vector<int64_t> out;
  if (t->dtype() == DT_INT32) {
    for (int32_t v : t->flat<int32_t>()) out.push_back(v);
  } else {
    for (int64_t v : t->flat<int64_t>()) out.push_back(v);
  }
  return out;
}

class BuildersTest : public ::testing::Test {
 protected:
  Graph graph;
  Scope root = Scope::NewRootScope(&graph);
  Output Ph(const PartialShape& shape, DType dtype = DT_FLOAT) {
    return ops::Placeholder(root, dtype, shape);
  }
};

TEST_F(BuildersTest, ArithmeticNodesHavePythonNames) {
  Output x = Ph({2, 3});
  Output y = Ph({3});
  EXPECT_EQ(ops::Add(root, x, y).node()->name(), "add");
  EXPECT_EQ(ops::Add(root, x, y).node()->name(), "add_1");
  EXPECT_EQ(ops::Sub(root, x, y).node()->name(), "sub");
  EXPECT_EQ(ops::Mul(root, x, y).node()->name(), "mul");
  Output div = ops::RealDiv(root, x, y);
  EXPECT_EQ(div.node()->name(), "truediv");
  EXPECT_EQ(div.node()->op(), "RealDiv");
  EXPECT_EQ(ops::FloorDiv(root, x, y).node()->name(), "floordiv");
  EXPECT_EQ(ops::Maximum(root, x, y).node()->name(), "Maximum");
  Output m = ops::MatMul(root.WithOpName("logits"), x, Ph({3, 4}), false, false);
  EXPECT_EQ(m.node()->name(), "logits");
  EXPECT_EQ(m.node()->def.attr().at("T").type(), DT_FLOAT);
  EXPECT_FALSE(m.node()->def.attr().at("transpose_a").b());
  Scope layer = root.NewSubScope("layer1");
  EXPECT_EQ(ops::Relu(layer, x).node()->name(), "layer1/Relu");
  ASSERT_TRUE(root.ok()) << root.status();
}

TEST_F(BuildersTest, ReductionsMakeTheirAxesConstants) {
  Output x = Ph({-1, 3});
  Output sum = ops::ReduceSum(root, x, {1});
  EXPECT_EQ(sum.node()->name(), "Sum");
  EXPECT_EQ(Inputs(sum), (std::vector<std::string>{"Placeholder", "Sum/reduction_indices"}));
  EXPECT_EQ(ConstInts(graph, "Sum/reduction_indices"), std::vector<int64_t>{1});
  EXPECT_FALSE(sum.node()->def.attr().at("keep_dims").b());
  EXPECT_EQ(sum.shape(), PartialShape({-1}));
  // All axes: Python's _ReductionDims makes range(rank) as "Const" first.
  Output mean = ops::ReduceMean(root, x);
  EXPECT_EQ(mean.node()->name(), "Mean");
  EXPECT_EQ(Inputs(mean), (std::vector<std::string>{"Placeholder", "Const"}));
  EXPECT_EQ(ConstInts(graph, "Const"), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(mean.shape(), PartialShape({}));
  EXPECT_EQ(ops::ReduceMax(root, x, {0}, true).shape(), PartialShape({1, 3}));
  EXPECT_EQ(ops::ReduceSum(root, x, {-1}, true).shape(), PartialShape({-1, 1}));
  // Unknown rank: the axes are range(0, rank(x)).
  Output any = ops::ReduceSum(root, Ph(PartialShape()));
  EXPECT_EQ(Inputs(any)[1], "range");
  EXPECT_EQ(Inputs(graph, "range"),
            (std::vector<std::string>{"range/start", "Rank", "range/delta"}));
  EXPECT_TRUE(any.shape().unknown_rank());
  ASSERT_TRUE(root.ok()) << root.status();
}

TEST_F(BuildersTest, ConstantsAsTensorFlowWritesThem) {
  Output z = ops::Zeros(root, {1, 10});
  EXPECT_EQ(z.node()->name(), "zeros");
  EXPECT_EQ(z.node()->op(), "Const");
  const auto& proto = z.node()->def.attr().at("value").tensor();
  EXPECT_EQ(proto.float_val_size(), 1);  // one value, repeated over the shape
  EXPECT_EQ(proto.float_val(0), 0.0f);
  EXPECT_EQ(z.shape(), PartialShape({1, 10}));
  Output o = ops::Ones(root, {2}, DT_INT32);
  EXPECT_EQ(o.node()->name(), "ones");
  EXPECT_EQ(o.node()->def.attr().at("value").tensor().int_val(0), 1);
  Output r = ops::Reshape(root, Ph({2, 3}), std::vector<int32_t>{3, -1});
  EXPECT_EQ(Inputs(r)[1], "Reshape/shape");
  EXPECT_EQ(ConstInts(graph, "Reshape/shape"), (std::vector<int64_t>{3, -1}));
  EXPECT_EQ(r.shape(), PartialShape({3, 2}));
  Output a = ops::ArgMax(root, Ph({-1, 10}), 1);
  EXPECT_EQ(Inputs(a)[1], "ArgMax/dimension");
  EXPECT_EQ(a.dtype(), DT_INT64);
  EXPECT_EQ(a.shape(), PartialShape({-1}));
  ASSERT_TRUE(root.ok()) << root.status();
}

TEST_F(BuildersTest, ShapeSizeRankOfKnownShapesAreConstants) {
  Output known = Ph({2, 3});
  Output partial = Ph({-1, 3});
  Output shape = ops::Shape(root, known);
  EXPECT_EQ(shape.node()->op(), "Const");
  EXPECT_EQ(shape.node()->name(), "Shape");
  EXPECT_EQ(ConstInts(graph, "Shape"), (std::vector<int64_t>{2, 3}));
  Output dynamic = ops::Shape(root, partial);
  EXPECT_EQ(dynamic.node()->op(), "Shape");
  EXPECT_EQ(dynamic.node()->name(), "Shape_1");
  EXPECT_EQ(dynamic.shape(), PartialShape({2}));
  EXPECT_EQ(ops::Size(root, known).node()->op(), "Const");
  EXPECT_EQ(ops::Size(root, partial).node()->op(), "Size");
  EXPECT_EQ(ops::Rank(root, partial).node()->op(), "Const");
  EXPECT_EQ(ops::Rank(root, Ph(PartialShape())).node()->op(), "Rank");
  // Cast to the same dtype adds no node but takes the name, as math_ops.cast.
  EXPECT_EQ(ops::Cast(root, known, DT_FLOAT).node(), known.node());
  EXPECT_EQ(ops::Cast(root, known, DT_INT32).node()->name(), "Cast_1");
  ASSERT_TRUE(root.ok()) << root.status();
}

TEST_F(BuildersTest, StaticShapes) {
  Output batch = Ph({-1, 3});
  EXPECT_EQ(ops::Add(root, Ph({2, 1}), Ph({3})).shape(), PartialShape({2, 3}));
  EXPECT_EQ(ops::Mul(root, batch, Ph({3})).shape(), PartialShape({-1, 3}));
  EXPECT_TRUE(ops::Add(root, batch, Ph(PartialShape())).shape().unknown_rank());
  EXPECT_EQ(ops::MatMul(root, Ph({-1, 784}), Ph({784, 10})).shape(), PartialShape({-1, 10}));
  EXPECT_EQ(ops::MatMul(root, Ph({5, 2}), Ph({4, 5}), true, true).shape(), PartialShape({2, 4}));
  // Reshape to a shape computed from another tensor's shape.
  Output flat = ops::Reshape(root, Ph({-1, 2, 3}),
                             ops::Pack(root, {ops::Const(root, int32_t{-1}),
                                              ops::Const(root, int32_t{6})}));
  EXPECT_EQ(flat.shape(), PartialShape({-1, 6}));
  EXPECT_EQ(ops::Reshape(root, Ph({4, 2}), ops::Shape(root, batch)).shape(),
            PartialShape({-1, 3}));
  EXPECT_EQ(ops::Pack(root, {batch, batch}, 1).shape(), PartialShape({-1, 2, 3}));
  EXPECT_EQ(ops::ConcatV2(root, {Ph({2, 3}), Ph({-1, 3}), Ph({4, 3})}, ops::Const(root, int32_t{0}))
                .shape(),
            PartialShape({-1, 3}));
  EXPECT_EQ(ops::ConcatV2(root, {Ph({2, 3}), Ph({2, 4})}, ops::Const(root, int32_t{-1})).shape(),
            PartialShape({2, 7}));
  EXPECT_EQ(ops::Tile(root, batch, ops::Const(root, std::vector<int32_t>{2, 2})).shape(),
            PartialShape({-1, 6}));
  EXPECT_EQ(ops::Slice(root, Ph({5, 4}), ops::Const(root, std::vector<int32_t>{1, 0}),
                       ops::Const(root, std::vector<int32_t>{2, -1}))
                .shape(),
            PartialShape({2, 4}));
  EXPECT_EQ(ops::ExpandDims(root, batch, ops::Const(root, int32_t{-1})).shape(),
            PartialShape({-1, 3, 1}));
  EXPECT_EQ(ops::Squeeze(root, Ph({1, 3, 1})).shape(), PartialShape({3}));
  EXPECT_EQ(ops::Squeeze(root, Ph({-1, 1}), {1}).shape(), PartialShape({-1}));
  EXPECT_EQ(ops::Transpose(root, Ph({2, -1, 4}), ops::Const(root, std::vector<int32_t>{2, 0, 1}))
                .shape(),
            PartialShape({4, 2, -1}));
  EXPECT_EQ(ops::Fill(root, ops::Shape(root, batch), ops::Const(root, 1.0f)).shape(),
            PartialShape({-1, 3}));
  EXPECT_EQ(ops::BiasAdd(root, Ph({-1, -1}), Ph({3})).shape(), PartialShape({-1, 3}));
  EXPECT_EQ(ops::SoftmaxCrossEntropyWithLogits(root, Ph({-1, 10}), Ph({-1, 10})).shape(),
            PartialShape({-1}));
  EXPECT_EQ(ops::SparseSoftmaxCrossEntropyWithLogits(root, Ph({-1}, DT_INT32), Ph({-1, 10}))
                .shape(),
            PartialShape({-1}));
  ASSERT_TRUE(root.ok()) << root.status();
}

TEST_F(BuildersTest, IncompatibleShapesAreInvalidArgumentNamingOpAndNode) {
  Output bad = ops::Add(root, Ph({2, 3}), Ph({4}));
  EXPECT_FALSE(bad.valid());
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(root.status().message(), "Add 'add': incompatible shapes [2,3] and [4]");
  // Later builders do nothing and keep the first error.
  EXPECT_FALSE(ops::Relu(root, Ph({2})).valid());
  EXPECT_EQ(root.status().message(), "Add 'add': incompatible shapes [2,3] and [4]");
}

TEST(BuilderErrorsTest, EachBuilderChecksWhatItCan) {
  struct Case {
    const char* what;
    std::function<Output(const Scope&)> build;
    const char* message_part;
  };
  auto ph = [](const Scope& s, PartialShape shape, DType t = DT_FLOAT) {
    return ops::Placeholder(s, t, shape);
  };
  const std::vector<Case> cases = {
      {"matmul inner", [&](const Scope& s) { return ops::MatMul(s, ph(s, {2, 3}), ph(s, {4, 5})); },
       "MatMul 'MatMul': inner dimensions differ"},
      {"matmul rank", [&](const Scope& s) { return ops::MatMul(s, ph(s, {3}), ph(s, {3, 5})); },
       "must be a matrix"},
      {"dtype", [&](const Scope& s) { return ops::Mul(s, ph(s, {2}), ph(s, {2}, DT_INT32)); },
       "x is float32 but y is int32"},
      {"reshape count",
       [&](const Scope& s) { return ops::Reshape(s, ph(s, {2, 3}), std::vector<int32_t>{4, 2}); },
       "cannot reshape [2,3]"},
      {"reduction axis", [&](const Scope& s) { return ops::ReduceSum(s, ph(s, {2, 3}), {2}); },
       "axis 2 is out of range"},
      {"concat", [&](const Scope& s) {
         return ops::ConcatV2(s, {ph(s, {2, 3}), ph(s, {3, 3})}, ops::Const(s, int32_t{1}));
       }, "differ in dimension 0"},
      {"pack", [&](const Scope& s) { return ops::Pack(s, {ph(s, {2}), ph(s, {3})}); },
       "must have one shape"},
      {"squeeze", [&](const Scope& s) { return ops::Squeeze(s, ph(s, {2, 3}), {1}); },
       "cannot squeeze dimension 1 of size 3"},
      {"bias", [&](const Scope& s) { return ops::BiasAdd(s, ph(s, {2, 3}), ph(s, {4})); },
       "does not match the last dimension"},
      {"xent", [&](const Scope& s) {
         return ops::SoftmaxCrossEntropyWithLogits(s, ph(s, {2, 3}), ph(s, {2, 4}));
       }, "do not match logits"},
      {"sparse labels", [&](const Scope& s) {
         return ops::SparseSoftmaxCrossEntropyWithLogits(s, ph(s, {2}), ph(s, {2, 4}));
       }, "labels must be int32 or int64"},
      {"transpose", [&](const Scope& s) {
         return ops::Transpose(s, ph(s, {2, 3}), ops::Const(s, std::vector<int32_t>{0, 0}));
       }, "is not a permutation"},
      {"update of a non-variable", [&](const Scope& s) {
         return ops::ApplyGradientDescent(s, ph(s, {2}), ops::Const(s, 0.1f), ph(s, {2}));
       }, "var must be a variable reference"},
      {"update shape", [&](const Scope& s) {
         Output v = ops::VariableV2(s, {2}, DT_FLOAT);
         return ops::ApplyGradientDescent(s, v, ops::Const(s, 0.1f), ph(s, {3}));
       }, "delta has shape [3] but var has [2]"},
      {"random dtype", [&](const Scope& s) { return ops::RandomNormal(s, {2}, 0, 1, 0, DT_INT32); },
       "floating point"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Graph graph;
    Scope root = Scope::NewRootScope(&graph);
    Output out = c.build(root);
    EXPECT_FALSE(out.valid());
    ASSERT_FALSE(root.ok());
    EXPECT_EQ(root.status().code(), absl::StatusCode::kInvalidArgument) << root.status();
    EXPECT_TRUE(absl::StrContains(root.status().message(), c.message_part)) << root.status();
  }
}

TEST_F(BuildersTest, RandomOpsAreNamedAndSeededAsTensorFlow) {
  Output r = ops::RandomNormal(root, {784, 10}, 0.0f, 1.0f);
  EXPECT_EQ(r.node()->name(), "random_normal");
  EXPECT_EQ(r.node()->op(), "Add");
  EXPECT_EQ(Inputs(r), (std::vector<std::string>{"random_normal/mul", "random_normal/mean"}));
  EXPECT_EQ(Inputs(graph, "random_normal/mul"),
            (std::vector<std::string>{"random_normal/RandomStandardNormal",
                                      "random_normal/stddev"}));
  EXPECT_EQ(Inputs(graph, "random_normal/RandomStandardNormal"),
            std::vector<std::string>{"random_normal/shape"});
  EXPECT_EQ(ConstInts(graph, "random_normal/shape"), (std::vector<int64_t>{784, 10}));
  // No graph seed, no op seed: (0, 0), nondeterministic.
  EXPECT_EQ(IntAttr(graph, "random_normal/RandomStandardNormal", "seed"), 0);
  EXPECT_EQ(IntAttr(graph, "random_normal/RandomStandardNormal", "seed2"), 0);
  EXPECT_EQ(r.shape(), PartialShape({784, 10}));

  // An op seed alone: the default graph seed 87654321.
  ops::RandomNormal(root, {2}, 0, 1, /*seed=*/5);
  EXPECT_EQ(IntAttr(graph, "random_normal_1/RandomStandardNormal", "seed"), 87654321);
  EXPECT_EQ(IntAttr(graph, "random_normal_1/RandomStandardNormal", "seed2"), 5);

  Output u = ops::RandomUniform(root, {3}, -1.0f, 1.0f, 7);
  EXPECT_EQ(u.node()->name(), "random_uniform");
  for (const char* n : {"random_uniform/shape", "random_uniform/min", "random_uniform/max",
                        "random_uniform/RandomUniform", "random_uniform/sub",
                        "random_uniform/mul"}) {
    EXPECT_NE(graph.FindNode(n), nullptr) << n;
  }
  EXPECT_EQ(Inputs(graph, "random_uniform/sub"),
            (std::vector<std::string>{"random_uniform/max", "random_uniform/min"}));
  Output t = ops::TruncatedNormal(root, {2, 3}, 0.0f, 0.1f);
  EXPECT_EQ(t.node()->name(), "truncated_normal");
  EXPECT_EQ(graph.FindNode("truncated_normal/TruncatedNormal")->op(), "TruncatedNormal");
  ASSERT_TRUE(root.ok()) << root.status();
}

TEST(RandomSeedTest, GraphSeedRules) {
  Graph graph;
  graph.set_seed(1234);
  Scope root = Scope::NewRootScope(&graph);
  ops::Placeholder(root, DT_FLOAT, {1});  // one node before: ids shift
  ops::RandomNormal(root, {2});
  // Graph seed without op seed: the op seed is the id of the last node
  // made before the random op (Placeholder, shape, mean, stddev: 4).
  EXPECT_EQ(graph.FindNode("random_normal/RandomStandardNormal")->def.attr().at("seed").i(), 1234);
  EXPECT_EQ(graph.FindNode("random_normal/RandomStandardNormal")->def.attr().at("seed2").i(), 4);
  ops::RandomNormal(root, {2}, 0, 1, /*seed=*/99);
  EXPECT_EQ(graph.FindNode("random_normal_1/RandomStandardNormal")->def.attr().at("seed2").i(), 99);

  // Seeds are taken modulo 2^31 - 1; (0, 0) would mean "nondeterministic",
  // so it becomes (0, 2^31 - 1).
  Graph g2;
  g2.set_seed(2147483647);
  Scope r2 = Scope::NewRootScope(&g2);
  ops::RandomUniform(r2, {2}, 0, 1, 2147483647);
  EXPECT_EQ(g2.FindNode("random_uniform/RandomUniform")->def.attr().at("seed").i(), 0);
  EXPECT_EQ(g2.FindNode("random_uniform/RandomUniform")->def.attr().at("seed2").i(), 2147483647);
}

TEST(RandomSeedTest, SeededOpsRepeatAcrossSessions) {
  Graph graph;
  graph.set_seed(42);
  Scope root = Scope::NewRootScope(&graph);
  Output u = ops::RandomUniform(root, {1000}, 2.0f, 3.0f);
  ASSERT_TRUE(root.ok()) << root.status();
  Session a(&graph), b(&graph);
  auto va = a.Run({}, {u});
  auto vb = b.Run({}, {u});
  ASSERT_TRUE(va.ok()) << va.status();
  ASSERT_TRUE(vb.ok()) << vb.status();
  EXPECT_TRUE((*va)[0].Identical((*vb)[0]));
  for (float v : (*va)[0].flat<float>()) {
    EXPECT_GE(v, 2.0f);
    EXPECT_LT(v, 3.0f);
  }
}

TEST_F(BuildersTest, CrossEntropyBuildsTheFlattenedGraphAndComputesTheLoss) {
  Output labels = Ph({-1, 3});
  Output logits = Ph({-1, 3});
  Output loss = ops::SoftmaxCrossEntropyWithLogits(root, labels, logits);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(loss.node()->name(), "Reshape_2");
  EXPECT_EQ(graph.FindNode("SoftmaxCrossEntropyWithLogits")->def.input(0), "Reshape");
  EXPECT_EQ(graph.FindNode("SoftmaxCrossEntropyWithLogits")->def.input(1), "Reshape_1");
  Session session(&graph);
  Tensor l(DT_FLOAT, TensorShape({2, 3}));
  Tensor z(DT_FLOAT, TensorShape({2, 3}));
  const float lv[] = {0, 1, 0, 0.5f, 0.5f, 0};
  const float zv[] = {1, 2, 3, 0, 0, 0};
  for (int i = 0; i < 6; ++i) {
    l.mutable_flat<float>()[i] = lv[i];
    z.mutable_flat<float>()[i] = zv[i];
  }
  auto out = session.Run({{labels, l}, {logits, z}}, {loss});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ((*out)[0].shape(), TensorShape({2}));
  // -log softmax([1,2,3])[1] and -log(1/3)
  const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  EXPECT_NEAR((*out)[0].flat<float>()[0], lse - 2.0, 1e-5);
  EXPECT_NEAR((*out)[0].flat<float>()[1], std::log(3.0), 1e-5);
}

}  // namespace
}  // namespace ckpt
