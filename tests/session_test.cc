// Graph building, naming, and Session::Run semantics (feeds, fetches,
// targets, variables, errors).
#include <string>
#include <vector>

#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/ops.h"
#include "ckpt/runtime/scope.h"
#include "ckpt/runtime/session.h"
#include "gtest/gtest.h"

namespace ckpt {
namespace {

using namespace ckpt::ops;  // NOLINT

Tensor Floats(std::vector<float> v, TensorShape shape) {
  Tensor t(DT_FLOAT, shape);
  std::copy(v.begin(), v.end(), t.mutable_flat<float>().begin());
  return t;
}

std::vector<float> Values(const Tensor& t) {
  auto f = t.flat<float>();
  return std::vector<float>(f.begin(), f.end());
}

TEST(GraphNaming, DefaultNamesAreTensorFlows) {
  Graph g;
  Scope root = Scope::NewRootScope(&g);
  Output a = Const(root, 1.0f);
  Output b = Const(root, 2.0f);
  Output c = Add(root, a, b);
  Output d = Add(root, c, b);
  Var v0 = Variable(root, Const(root, 3.0f));
  Var v1 = Variable(root, Const(root, 4.0f));
  Scope layer = root.NewSubScope("layer");
  Output e = Mul(layer, a, b);
  Scope layer_again = root.NewSubScope("layer");
  Output f = Mul(layer_again, a, b);
  Output x = Placeholder(root.WithOpName("x"), DT_FLOAT);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(a.name(), "Const:0");
  EXPECT_EQ(b.name(), "Const_1:0");
  EXPECT_EQ(c.name(), "add:0");
  EXPECT_EQ(d.name(), "add_1:0");
  EXPECT_EQ(v0.name(), "Variable");
  EXPECT_EQ(v0.value().name(), "Variable/read:0");
  EXPECT_EQ(v0.initializer().name(), "Variable/Assign");
  EXPECT_EQ(v1.name(), "Variable_1");
  EXPECT_EQ(e.name(), "layer/mul:0");
  EXPECT_EQ(f.name(), "layer_1/mul:0");
  EXPECT_EQ(x.name(), "x:0");
  // Names are unique case-insensitively, as in TensorFlow.
  EXPECT_EQ(g.UniqueName("ADD"), "ADD_2");
  ASSERT_EQ(g.variables().size(), 2u);
  EXPECT_EQ(g.variables()[0].variable_name(), "Variable:0");
  EXPECT_EQ(g.variables()[0].snapshot_name(), "Variable/read:0");
  EXPECT_EQ(g.variables()[0].initializer_name(), "Variable/Assign");
}

// AddOpNamed gives a node exactly a name reserved for it (TensorFlow names
// some nodes after their own name scope), with the scope's control inputs.
TEST(GraphNaming, AddOpNamedUsesTheExactName) {
  Graph g;
  Scope root = Scope::NewRootScope(&g);
  Operation first = NoOp(root);
  Scope sub = root.NewSubScope("Adam");
  const std::string name = sub.name_prefix().substr(0, sub.name_prefix().size() - 1);
  Node* n = root.WithControlDependencies({first}).AddOpNamed("NoOp", name, {}, {}, {});
  ASSERT_NE(n, nullptr) << root.status();
  EXPECT_EQ(n->name(), "Adam");
  ASSERT_EQ(n->def.input_size(), 1);
  EXPECT_EQ(n->def.input(0), "^NoOp");
  // A name already taken is an error, recorded in the scope.
  EXPECT_EQ(root.AddOpNamed("NoOp", "Adam", {}, {}, {}), nullptr);
  EXPECT_EQ(root.status().code(), absl::StatusCode::kAlreadyExists) << root.status();
}

TEST(GraphNaming, NodesCarryOpDefDefaultsAndInferredTypes) {
  Graph g;
  Scope root = Scope::NewRootScope(&g);
  Output m = MatMul(root, Const(root, Floats({1, 2}, TensorShape({1, 2}))),
                    Const(root, Floats({3, 4}, TensorShape({2, 1}))));
  ASSERT_TRUE(root.ok()) << root.status();
  const auto& attr = m.node()->def.attr();
  EXPECT_EQ(attr.at("T").type(), DT_FLOAT);
  EXPECT_FALSE(attr.at("transpose_a").b());
  EXPECT_FALSE(attr.at("transpose_b").b());
  EXPECT_EQ(m.shape(), PartialShape({1, 1}));
}

TEST(GraphBuild, ErrorsAreRecordedInTheScope) {
  Graph g;
  Scope root = Scope::NewRootScope(&g);
  Output bad = MatMul(root, Const(root, Floats({1, 2, 3}, TensorShape({1, 3}))),
                      Const(root, Floats({1, 2}, TensorShape({2, 1}))));
  EXPECT_FALSE(bad.valid());
  EXPECT_FALSE(root.ok());
  // Later builders see the error and add nothing.
  const int before = g.num_nodes();
  Output later = Add(root, Const(root, 1.0f), Const(root, 2.0f));
  EXPECT_FALSE(later.valid());
  EXPECT_EQ(g.num_nodes(), before);
}

TEST(SessionRun, ComputesFetchesAndFeedsAnyTensor) {
  Graph g;
  Scope root = Scope::NewRootScope(&g);
  Output x = Placeholder(root, DT_FLOAT, {-1, 2});
  Output two = Const(root, 2.0f);
  Output y = Mul(root, x, two);
  Output z = Add(root, y, Const(root, 1.0f));
  ASSERT_TRUE(root.ok()) << root.status();
  Session s(&g);
  auto r = s.Run({{x, Floats({1, 2, 3, 4}, TensorShape({2, 2}))}}, {z, y});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Values((*r)[0]), (std::vector<float>{3, 5, 7, 9}));
  EXPECT_EQ(Values((*r)[1]), (std::vector<float>{2, 4, 6, 8}));
  // Feeding an intermediate tensor: x is then not needed at all.
  auto r2 = s.Run({{y, Floats({10, 20}, TensorShape({1, 2}))}}, {z});
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(Values((*r2)[0]), (std::vector<float>{11, 21}));
  // Feeding a constant overrides it.
  auto r3 = s.Run({{x, Floats({1, 1}, TensorShape({1, 2}))}, {two, Floats({5}, TensorShape({}))}},
                  {z});
  ASSERT_TRUE(r3.ok()) << r3.status();
  EXPECT_EQ(Values((*r3)[0]), (std::vector<float>{6, 6}));
  // By name.
  auto r4 = s.Run(std::vector<std::pair<std::string, Tensor>>{
                      {"Placeholder:0", Floats({0, 1}, TensorShape({1, 2}))}},
                  std::vector<std::string>{"add"});
  ASSERT_TRUE(r4.ok()) << r4.status();
  EXPECT_EQ(Values((*r4)[0]), (std::vector<float>{1, 3}));
}

TEST(SessionRun, PlaceholderErrors) {
  Graph g;
  Scope root = Scope::NewRootScope(&g);
  Output x = Placeholder(root.WithOpName("xs"), DT_FLOAT, {-1, 1});
  Output y = Square(root, x);
  ASSERT_TRUE(root.ok());
  Session s(&g);
  auto missing = s.Run({}, {y});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("placeholder 'xs'"), std::string::npos)
      << missing.status();

  auto wrong_shape = s.Run({{x, Floats({1, 2}, TensorShape({1, 2}))}}, {y});
  ASSERT_FALSE(wrong_shape.ok());
  EXPECT_EQ(wrong_shape.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_shape.status().message().find("shape [1,2]"), std::string::npos)
      << wrong_shape.status();
  EXPECT_NE(wrong_shape.status().message().find("xs:0"), std::string::npos);
  EXPECT_NE(wrong_shape.status().message().find("[?,1]"), std::string::npos);

  Tensor ints(DT_INT32, TensorShape({1, 1}));
  auto wrong_dtype = s.Run({{x, ints}}, {y});
  ASSERT_FALSE(wrong_dtype.ok());
  EXPECT_NE(wrong_dtype.status().message().find("int32"), std::string::npos)
      << wrong_dtype.status();
}

TEST(SessionRun, VariablesLiveInTheSession) {
  Graph g;
  Scope root = Scope::NewRootScope(&g);
  Var v = Variable(root, Const(root, 10.0f), {"counter"});
  Output inc = AssignAdd(root, v.ref(), Const(root, 1.0f));
  Operation init = GlobalVariablesInitializer(root);
  ASSERT_TRUE(root.ok()) << root.status();

  Session s1(&g), s2(&g);
  auto uninit = s1.Run({}, {v});
  ASSERT_FALSE(uninit.ok());
  EXPECT_EQ(uninit.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(uninit.status().message().find("uninitialized value counter"), std::string::npos)
      << uninit.status();
  // The variable's reference itself, fetched before it is initialized: an
  // error naming it (this once read the name after releasing the slot).
  auto uninit_ref = s1.Run({}, {v.ref()});
  ASSERT_FALSE(uninit_ref.ok());
  EXPECT_EQ(uninit_ref.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(uninit_ref.status().message().find("uninitialized value counter"), std::string::npos)
      << uninit_ref.status();

  ASSERT_TRUE(s1.Run({}, {}, {init}).ok());
  ASSERT_TRUE(s1.Run({}, {}, {inc}).ok());
  ASSERT_TRUE(s1.Run({}, {}, {inc}).ok());
  auto value = s1.Run({}, {v});
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(Values((*value)[0]), (std::vector<float>{12}));
  // A fetched value is a snapshot: later updates do not change it.
  ASSERT_TRUE(s1.Run({}, {}, {inc}).ok());
  EXPECT_EQ(Values((*value)[0]), (std::vector<float>{12}));
  // Another session has its own, uninitialized, variable.
  EXPECT_FALSE(s2.Run({}, {v}).ok());
  auto direct = s1.VariableValue("counter");
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(Values(*direct), (std::vector<float>{13}));
}

// A control dependency on a fed placeholder is satisfied by the feed.
TEST(SessionRun, ControlDependencyOnAFedPlaceholder) {
  Graph g;
  Scope root = Scope::NewRootScope(&g);
  Output x = Placeholder(root.WithOpName("x"), DT_FLOAT, {});
  Output y = Mul(root.WithControlDependencies({x}), Const(root, 2.0f), Const(root, 3.0f));
  ASSERT_TRUE(root.ok()) << root.status();
  Session s(&g);
  auto r = s.Run({{x, Floats({1}, TensorShape({}))}}, {y});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Values((*r)[0]), (std::vector<float>{6}));
  // Not fed: the placeholder must run, and says it needs a value.
  EXPECT_FALSE(s.Run({}, {y}).ok());
}

TEST(SessionRun, GraphMayGrowBetweenRuns) {
  Graph g;
  Scope root = Scope::NewRootScope(&g);
  Output a = Const(root, 2.0f);
  Session s(&g);
  auto r1 = s.Run({}, {a});
  ASSERT_TRUE(r1.ok());
  Output b = Mul(root, a, a);
  ASSERT_TRUE(root.ok());
  auto r2 = s.Run({}, {b});
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(Values((*r2)[0]), (std::vector<float>{4}));
}

TEST(SessionRun, ControlDependenciesOrderEffects) {
  Graph g;
  Scope root = Scope::NewRootScope(&g);
  Var v = Variable(root, Const(root, 1.0f));
  Output set = Assign(root, v.ref(), Const(root, 5.0f));
  // Read after the assignment, ordered by a control dependency only.
  Output read = Identity(root.WithControlDependencies({set}), v.ref());
  Operation init = GlobalVariablesInitializer(root);
  ASSERT_TRUE(root.ok()) << root.status();
  Session s(&g);
  ASSERT_TRUE(s.Run({}, {}, {init}).ok());
  auto r = s.Run({}, {read});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Values((*r)[0]), (std::vector<float>{5}));
}

TEST(GraphImport, UnknownOpIsNamed) {
  ::tensorflow::GraphDef def;
  auto* n = def.add_node();
  n->set_name("mystery");
  n->set_op("FrobnicateV7");
  auto g = Graph::FromGraphDef(def);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(g.status().message().find("FrobnicateV7"), std::string::npos) << g.status();
  EXPECT_NE(g.status().message().find("mystery"), std::string::npos) << g.status();
}

TEST(GraphImport, ACycleIsAnErrorNotAHang) {
  ::tensorflow::GraphDef def;
  for (const auto& [name, input] : {std::pair<std::string, std::string>{"a", "b"}, {"b", "a"}}) {
    auto* n = def.add_node();
    n->set_name(name);
    n->set_op("Identity");
    n->add_input(input);
    (*n->mutable_attr())["T"].set_type(DT_FLOAT);
  }
  auto g = Graph::FromGraphDef(def);
  ASSERT_TRUE(g.ok()) << g.status();  // TensorFlow imports loops too
  Session s(g->get());
  auto r = s.Run(std::vector<std::pair<std::string, Tensor>>{}, std::vector<std::string>{"a:0"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnimplemented) << r.status();
  EXPECT_NE(r.status().message().find("cycle"), std::string::npos) << r.status();
}

TEST(GraphImport, MissingInputIsAnError) {
  ::tensorflow::GraphDef def;
  auto* n = def.add_node();
  n->set_name("id");
  n->set_op("Identity");
  n->add_input("nowhere");
  (*n->mutable_attr())["T"].set_type(DT_FLOAT);
  auto g = Graph::FromGraphDef(def);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("nowhere"), std::string::npos) << g.status();
}

TEST(GraphImport, OldProducersPlaceholderShapeIsUnknown) {
  for (int producer : {21, 22}) {
    ::tensorflow::GraphDef def;
    def.mutable_versions()->set_producer(producer);
    auto* n = def.add_node();
    n->set_name("x");
    n->set_op("Placeholder");
    (*n->mutable_attr())["dtype"].set_type(DT_FLOAT);
    (*n->mutable_attr())["shape"].mutable_shape();  // []
    auto g = Graph::FromGraphDef(def);
    ASSERT_TRUE(g.ok()) << g.status();
    Session s(g->get());
    auto r = s.Run(std::vector<std::pair<std::string, Tensor>>{
                       {"x", Floats({1, 2}, TensorShape({2}))}},
                   std::vector<std::string>{"x:0"});
    // Producer 21: [] meant "unknown", so a [2] feed is fine; 22 means scalar.
    EXPECT_EQ(r.ok(), producer < 22) << producer << ": " << r.status();
  }
}

TEST(SessionRun, OpWithoutKernelIsUnimplementedNamingIt) {
  ::tensorflow::GraphDef def;
  auto* n = def.add_node();
  n->set_name("serialized");
  n->set_op("Placeholder");
  (*n->mutable_attr())["dtype"].set_type(DT_STRING);
  auto* p = def.add_node();
  p->set_name("parse");
  p->set_op("ParseExample");
  p->add_input("serialized");
  p->add_input("serialized");
  (*p->mutable_attr())["Nsparse"].set_i(0);
  (*p->mutable_attr())["Ndense"].set_i(0);
  (*p->mutable_attr())["sparse_types"].mutable_list();
  (*p->mutable_attr())["Tdense"].mutable_list();
  (*p->mutable_attr())["dense_shapes"].mutable_list();
  auto g = Graph::FromGraphDef(def);
  ASSERT_TRUE(g.ok()) << g.status();
  Session s(g->get());
  auto r = s.Run(std::vector<std::pair<std::string, Tensor>>{},
                 std::vector<std::string>{}, std::vector<std::string>{"parse"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnimplemented) << r.status();
  EXPECT_NE(r.status().message().find("ParseExample"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("'parse'"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace ckpt
