// Issue #4, acceptance 4: every `.meta` we write satisfies, node by node, the
// OpDefs TensorFlow itself wrote into the stripped_op_list of its `.meta`
// files (for the ops both share), and reimports into our runtime and trains
// on.
//
// The models are the curve-fitting tutorial with each optimizer and a small
// softmax classifier (Softmax, SoftmaxCrossEntropyWithLogits, ArgMax, Equal,
// Cast, Mean): together they use every op family our builders, gradients and
// optimizers emit. Each is trained a few steps and saved by a Saver, which
// writes the `.meta` under test.
//
// Compatibility is judged as a TensorFlow of the corpus's age would judge
// the graph: an attr our (newer) OpDef has and the older OpDef lacks is
// acceptable only when it holds our OpDef's default, because TensorFlow's
// StripDefaultAttributes removes exactly those before handing a graph to an
// older consumer; anything else must validate against the older OpDef as is.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ckpt/meta_graph.h"
#include "ckpt/naming.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/meta_graph_import.h"
#include "ckpt/runtime/op_registry.h"
#include "ckpt/runtime/ops.h"
#include "ckpt/runtime/optimizers.h"
#include "ckpt/runtime/saver.h"
#include "ckpt/runtime/scope.h"
#include "ckpt/runtime/session.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tutorial_model.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using google::protobuf::util::MessageDifferencer;
using testing::ScratchDir;
using Feeds = std::vector<std::pair<std::string, Tensor>>;

constexpr int kStepsBeforeSave = 5;
constexpr int kStepsAfterReimport = 20;

// A model trained a few steps and saved; names are node names, so they work
// in the reimported graph too.
struct TrainedAndSaved {
  std::unique_ptr<Graph> graph;
  std::unique_ptr<Session> session;
  Feeds feeds;
  std::string loss;          // "Mean:0"
  std::string train_op;      // node name
  std::string global_step;   // variable node name
  std::string prefix;        // the checkpoint written, e.g. .../model.ckpt-5
  Tensor loss_at_save;       // loss right after the save, no further training
};

ops::VariableOptions Named(const std::string& name, bool trainable = true) {
  ops::VariableOptions o;
  o.name = name;
  o.trainable = trainable;
  return o;
}

// 60 examples of 3 classes: feature c is about 1 for class c, the others and
// the fourth feature a small deterministic wobble, so the classes separate.
std::pair<Tensor, Tensor> ClassifierData() {
  constexpr int n = 60;
  Tensor x(DT_FLOAT, TensorShape({n, 4}));
  Tensor y(DT_FLOAT, TensorShape({n, 3}));
  auto xv = x.mutable_flat<float>();
  auto yv = y.mutable_flat<float>();
  for (int i = 0; i < n; ++i) {
    const int c = i % 3;
    for (int j = 0; j < 4; ++j) {
      const float wobble = 0.05f * static_cast<float>((i * 7 + j * 3) % 5 - 2);
      xv[i * 4 + j] = (j == c ? 1.0f : 0.0f) + wobble;
    }
    for (int j = 0; j < 3; ++j) yv[i * 3 + j] = j == c ? 1.0f : 0.0f;
  }
  return {x, y};
}

// logits = features · weights + bias; loss = mean(softmax_cross_entropy);
// accuracy = mean(cast(equal(argmax(softmax(logits)), argmax(labels)))).
absl::Status BuildClassifier(Graph* graph, TrainedAndSaved* run, Operation* init) {
  using namespace ops;  // NOLINT: reads like the Python it mirrors
  graph->set_seed(3);
  Scope root = Scope::NewRootScope(graph);
  Output x = Placeholder(root.WithOpName("features"), DT_FLOAT, {-1, 4});
  Output labels = Placeholder(root.WithOpName("labels"), DT_FLOAT, {-1, 3});
  Var w = Variable(root, TruncatedNormal(root, TensorShape({4, 3}), 0.0f, 0.1f),
                   Named("weights"));
  Var b = Variable(root, Zeros(root, TensorShape({3})), Named("bias"));
  Output logits = Add(root, MatMul(root, x, w), b);
  Output probs = Softmax(root, logits);
  Output loss = ReduceMean(root, SoftmaxCrossEntropyWithLogits(root, labels, logits));
  Output correct = Equal(root, ArgMax(root, probs, 1), ArgMax(root, labels, 1));
  Output accuracy = ReduceMean(root.WithOpName("accuracy"), Cast(root, correct, DT_FLOAT));
  Var step = Variable(root, Const(root, int64_t{0}), Named("global_step", false));
  if (!root.ok()) return root.status();
  GradientDescentOptimizer opt(0.5f);
  absl::StatusOr<Operation> minimize = opt.Minimize(root, loss);
  if (!minimize.ok()) return minimize.status();
  Output increment = AssignAdd(root, step.ref(), Const(root, int64_t{1}));
  Operation train = Group(root.WithOpName("train"), {*minimize, increment});
  graph->AddToCollection("train_op", train.name());
  graph->AddToCollection("eval", accuracy.node()->name());
  *init = GlobalVariablesInitializer(root);
  if (!root.ok()) return root.status();
  auto [xd, yd] = ClassifierData();
  run->feeds = {{x.name(), xd}, {labels.name(), yd}};
  run->loss = loss.name();
  run->train_op = train.name();
  run->global_step = step.name();
  return absl::OkStatus();
}

// Builds model `kind` ("softmax_classifier" or a BuildCurveModel optimizer),
// trains kStepsBeforeSave steps, saves into `dir` at that step.
void BuildTrainAndSave(const std::string& kind, const std::string& dir, TrainedAndSaved* run) {
  run->graph = std::make_unique<Graph>();
  Operation init;
  if (kind == "softmax_classifier") {
    absl::Status built = BuildClassifier(run->graph.get(), run, &init);
    ASSERT_TRUE(built.ok()) << built;
  } else {
    examples::CurveModelOptions options;
    options.optimizer = kind;
    auto m = examples::BuildCurveModel(run->graph.get(), options);
    ASSERT_TRUE(m.ok()) << m.status();
    const examples::CurveData data = examples::MakeCurveData();
    run->feeds = {{m->xs.name(), data.x}, {m->ys.name(), data.y}};
    run->loss = m->loss.name();
    run->train_op = m->train.name();
    run->global_step = m->global_step.name();
    init = m->init;
  }
  auto saver = Saver::Create(run->graph.get());
  ASSERT_TRUE(saver.ok()) << saver.status();
  run->session = std::make_unique<Session>(run->graph.get());
  ASSERT_TRUE(run->session->Run({}, {}, {init}).ok());
  for (int i = 0; i < kStepsBeforeSave; ++i) {
    auto out = run->session->Run(run->feeds, {run->loss}, {run->train_op});
    ASSERT_TRUE(out.ok()) << out.status();
  }
  auto path = (*saver)->Save(run->session.get(), dir + "/model.ckpt", kStepsBeforeSave);
  ASSERT_TRUE(path.ok()) << path.status();
  run->prefix = *path;
  auto loss = run->session->Run(run->feeds, {run->loss}, {});
  ASSERT_TRUE(loss.ok()) << loss.status();
  run->loss_at_save = (*loss)[0];
}

// ---- the compatibility check ----------------------------------------------

// An OpDef TensorFlow wrote, and which file it came from.
struct TfOpDef {
  std::string source;
  tensorflow::OpDef def;
};

const tensorflow::OpDef::AttrDef* FindAttr(const tensorflow::OpDef& op, const std::string& name) {
  for (const auto& a : op.attr()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

// `node` as a consumer holding `older` would see it after
// StripDefaultAttributes against `ours`: attrs `older` does not declare are
// dropped when they hold our default; any other such attr stays (and then
// fails validation, as it should).
tensorflow::NodeDef StripNewerDefaultAttrs(const tensorflow::NodeDef& node,
                                           const tensorflow::OpDef& ours,
                                           const tensorflow::OpDef& older) {
  tensorflow::NodeDef out = node;
  for (const auto& [name, value] : node.attr()) {
    if (name.empty() || name[0] == '_' || FindAttr(older, name) != nullptr) continue;
    const tensorflow::OpDef::AttrDef* def = FindAttr(ours, name);
    if (def != nullptr && def->has_default_value() &&
        MessageDifferencer::Equals(def->default_value(), value)) {
      out.mutable_attr()->erase(name);
    }
  }
  return out;
}

// Checks `node` against TensorFlow's `older` OpDef; returns the signature
// TensorFlow computes for it.
absl::StatusOr<NodeSignature> CheckAgainst(const tensorflow::NodeDef& node,
                                           const tensorflow::OpDef& ours,
                                           const tensorflow::OpDef& older) {
  tensorflow::NodeDef seen = StripNewerDefaultAttrs(node, ours, older);
  AddDefaultAttrs(older, &seen);
  return ValidateNode(older, seen);
}

bool SameSignature(const NodeSignature& a, const NodeSignature& b) {
  return a.input_types == b.input_types && a.input_is_ref == b.input_is_ref &&
         a.output_types == b.output_types && a.output_is_ref == b.output_is_ref;
}

// The checker itself: an attr unknown to the older OpDef passes only at our
// default value.
TEST(MetaConformanceTest, NewerAttrIsAcceptedOnlyAtItsDefault) {
  auto older = OpDefBuilder("Scale").Input("x: T").Output("y: T").Attr("T: {float, double}").Build();
  auto ours = OpDefBuilder("Scale")
                  .Input("x: T")
                  .Output("y: T")
                  .Attr("T: {float, double}")
                  .Attr("fast: bool = false")
                  .Build();
  ASSERT_TRUE(older.ok() && ours.ok());
  tensorflow::NodeDef node;
  node.set_name("s");
  node.set_op("Scale");
  node.add_input("x");
  (*node.mutable_attr())["T"].set_type(DT_FLOAT);
  (*node.mutable_attr())["fast"].set_b(false);
  EXPECT_TRUE(CheckAgainst(node, *ours, *older).ok());
  (*node.mutable_attr())["fast"].set_b(true);
  absl::StatusOr<NodeSignature> bad = CheckAgainst(node, *ours, *older);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'fast'"), absl::string_view::npos) << bad.status();
  // A dtype the older OpDef does not allow is refused too.
  (*node.mutable_attr())["fast"].set_b(false);
  (*node.mutable_attr())["T"].set_type(DT_INT32);
  EXPECT_FALSE(CheckAgainst(node, *ours, *older).ok());
}

// Every OpDef in the stripped_op_list of the TensorFlow-written graphs of
// the corpus, by op name (one op may come in several versions).
std::map<std::string, std::vector<TfOpDef>> CorpusOpDefs(const std::string& corpus) {
  std::map<std::string, std::vector<TfOpDef>> out;
  auto add = [&](const std::string& source, const tensorflow::MetaGraphDef& mg) {
    for (const auto& op : mg.meta_info_def().stripped_op_list().op()) {
      out[op.name()].push_back({source, op});
    }
  };
  for (const char* rel : {"udacity_save_restore/model.ckpt.meta",
                          "udacity_save_restore/train_model.ckpt.meta",
                          "v1_half_plus_two/export.meta"}) {
    auto mg = ReadMetaGraph(corpus + "/" + rel);
    EXPECT_TRUE(mg.ok()) << mg.status();
    if (!mg.ok()) continue;
    EXPECT_GT(mg->meta_info_def().stripped_op_list().op_size(), 0) << rel;
    add(rel, *mg);
  }
  auto sm = ReadSavedModel(corpus + "/saved_model_half_plus_two");
  EXPECT_TRUE(sm.ok()) << sm.status();
  if (sm.ok()) {
    EXPECT_GT(sm->meta_graphs_size(), 0);
    for (int i = 0; i < sm->meta_graphs_size(); ++i) {
      add(absl::StrCat("saved_model_half_plus_two[", i, "]"), sm->meta_graphs(i));
    }
  }
  return out;
}

class MetaConformanceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(MetaConformanceTest, OurOpListHoldsExactlyTheOpsUsed) {
  ScratchDir dir;
  TrainedAndSaved run;
  ASSERT_NO_FATAL_FAILURE(BuildTrainAndSave(GetParam(), dir.path(), &run));
  auto mg = ReadMetaGraph(MetaFilename(run.prefix));
  ASSERT_TRUE(mg.ok()) << mg.status();

  std::set<std::string> used;
  for (const auto& n : mg->graph_def().node()) used.insert(n.op());
  std::vector<std::string> listed;
  for (const auto& op : mg->meta_info_def().stripped_op_list().op()) {
    listed.push_back(op.name());
    // The list carries the registry's OpDef, not a variant of it.
    const tensorflow::OpDef* registered = OpRegistry::Global().Find(op.name());
    ASSERT_NE(registered, nullptr) << op.name();
    EXPECT_TRUE(MessageDifferencer::Equals(op, *registered)) << op.name();
  }
  // Sorted, no repeats, exactly the ops the nodes use.
  EXPECT_EQ(listed, std::vector<std::string>(used.begin(), used.end()));
  // Every node validates against the OpDef its own file lists.
  std::map<std::string, const tensorflow::OpDef*> own;
  for (const auto& op : mg->meta_info_def().stripped_op_list().op()) own[op.name()] = &op;
  for (const auto& n : mg->graph_def().node()) {
    tensorflow::NodeDef with_defaults = n;
    AddDefaultAttrs(*own.at(n.op()), &with_defaults);
    auto sig = ValidateNode(*own.at(n.op()), with_defaults);
    EXPECT_TRUE(sig.ok()) << sig.status();
  }
}

TEST_P(MetaConformanceTest, NodesSatisfyTensorFlowsOpDefs) {
  CKPT_REQUIRE_CORPUS(corpus);
  const std::map<std::string, std::vector<TfOpDef>> tf_ops = CorpusOpDefs(corpus);
  ASSERT_FALSE(tf_ops.empty());

  ScratchDir dir;
  TrainedAndSaved run;
  ASSERT_NO_FATAL_FAILURE(BuildTrainAndSave(GetParam(), dir.path(), &run));
  auto mg = ReadMetaGraph(MetaFilename(run.prefix));
  ASSERT_TRUE(mg.ok()) << mg.status();
  std::map<std::string, const tensorflow::OpDef*> ours;
  for (const auto& op : mg->meta_info_def().stripped_op_list().op()) ours[op.name()] = &op;

  // The signature of each node as TensorFlow's OpDef gives it (ours where
  // TensorFlow's lists lack the op), for checking edges below.
  std::map<std::string, NodeSignature> signature;
  int nodes_checked = 0, checks = 0, newer_default_attrs = 0;
  std::set<std::string> ops_checked, ops_unshared, newer_ops;
  for (const auto& n : mg->graph_def().node()) {
    auto own = ours.find(n.op());
    ASSERT_NE(own, ours.end()) << n.name() << ": op " << n.op() << " not in our op list";
    tensorflow::NodeDef with_defaults = n;
    AddDefaultAttrs(*own->second, &with_defaults);
    auto own_sig = ValidateNode(*own->second, with_defaults);
    ASSERT_TRUE(own_sig.ok()) << own_sig.status();
    signature[n.name()] = *own_sig;

    auto tf = tf_ops.find(n.op());
    if (tf == tf_ops.end()) {
      ops_unshared.insert(n.op());
      continue;
    }
    for (const TfOpDef& older : tf->second) {
      auto sig = CheckAgainst(n, *own->second, older.def);
      ++checks;
      const int stripped =
          n.attr_size() - StripNewerDefaultAttrs(n, *own->second, older.def).attr_size();
      if (stripped > 0) {
        newer_default_attrs += stripped;
        newer_ops.insert(n.op());
      }
      if (!sig.ok()) {
        ADD_FAILURE() << "node " << n.name() << " (" << n.op() << ") violates the OpDef in "
                      << older.source << ": " << sig.status() << "\n  node: "
                      << n.ShortDebugString();
        continue;
      }
      // TensorFlow sees the same dtypes and references as we do.
      EXPECT_TRUE(SameSignature(*sig, *own_sig))
          << n.name() << ": TensorFlow's OpDef (" << older.source
          << ") gives other input/output types than ours";
      signature[n.name()] = *sig;
    }
    ++nodes_checked;
    ops_checked.insert(n.op());
  }

  // Each data edge carries what its consumer's OpDef expects: the dtype, and
  // a reference where the input must be one (a reference may feed a value
  // input: it is read).
  int edges = 0;
  for (const auto& n : mg->graph_def().node()) {
    const NodeSignature& sig = signature.at(n.name());
    int i = 0;
    for (const std::string& in : n.input()) {
      if (!in.empty() && in[0] == '^') break;
      auto id = ParseTensorName(in);
      ASSERT_TRUE(id.ok()) << id.status();
      auto producer = signature.find(id->node);
      ASSERT_NE(producer, signature.end()) << n.name() << " reads missing node " << id->node;
      ASSERT_LT(static_cast<size_t>(id->index), producer->second.output_types.size()) << in;
      ASSERT_LT(static_cast<size_t>(i), sig.input_types.size()) << n.name();
      EXPECT_EQ(BaseType(producer->second.output_types[id->index]), BaseType(sig.input_types[i]))
          << n.name() << " input " << i << " (" << in << ")";
      if (sig.input_is_ref[i]) {
        EXPECT_TRUE(producer->second.output_is_ref[id->index])
            << n.name() << " input " << i << " (" << in << ") must be a reference";
      }
      ++i;
      ++edges;
    }
  }

  std::printf("[ %s ] %d of %d nodes checked against TensorFlow's OpDefs (%d checks, %zu ops: %s); "
              "%d edges typed; %d newer attrs at their defaults stripped (%s); "
              "ops TensorFlow's lists lack: %s\n",
              GetParam().c_str(), nodes_checked, mg->graph_def().node_size(), checks,
              ops_checked.size(), absl::StrJoin(ops_checked, " ").c_str(), edges,
              newer_default_attrs, absl::StrJoin(newer_ops, " ").c_str(),
              absl::StrJoin(ops_unshared, " ").c_str());
  // The graphs share the core of what TensorFlow's own graphs use.
  for (const char* op : {"VariableV2", "Assign", "Identity", "Const", "MatMul", "Placeholder",
                         "SaveV2", "RestoreV2", "NoOp", "Mean", "Sum"}) {
    EXPECT_TRUE(ops_checked.count(op) > 0) << op << " was not checked";
  }
  if (GetParam() == "softmax_classifier") {
    for (const char* op : {"SoftmaxCrossEntropyWithLogits", "ArgMax", "Equal", "Cast",
                           "ApplyGradientDescent"}) {
      EXPECT_TRUE(ops_checked.count(op) > 0) << op << " was not checked";
    }
  }
  EXPECT_GT(nodes_checked, mg->graph_def().node_size() / 2);
}

// ---- reimport and train on -------------------------------------------------

// Every variable's value, by node name, in the graph's variable order.
std::vector<std::pair<std::string, Tensor>> VariableValues(const Graph& g, const Session& s) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& v : g.variables()) {
    auto id = ParseTensorName(v.variable_name());
    EXPECT_TRUE(id.ok()) << v.variable_name();
    if (!id.ok()) continue;
    auto value = s.VariableValue(id->node);
    EXPECT_TRUE(value.ok()) << value.status();
    if (value.ok()) out.emplace_back(id->node, value->Clone());
  }
  return out;
}

TEST_P(MetaConformanceTest, ReimportsAndTrainsOn) {
  ScratchDir dir;
  TrainedAndSaved run;
  ASSERT_NO_FATAL_FAILURE(BuildTrainAndSave(GetParam(), dir.path(), &run));

  auto mg = ImportMetaGraph(MetaFilename(run.prefix));
  ASSERT_TRUE(mg.ok()) << mg.status();
  ASSERT_NE(mg->saver, nullptr);
  Graph& g = *mg->graph;
  EXPECT_EQ(g.num_nodes(), run.graph->num_nodes());
  EXPECT_EQ(g.variables().size(), run.graph->variables().size());
  EXPECT_EQ(g.trainable_variables().size(), run.graph->trainable_variables().size());
  // The optimizer's op (Minimize adds it, as TensorFlow's does) and ours,
  // which also advances the step: run all of them, as a TensorFlow user of
  // the collection would.
  ASSERT_TRUE(g.collections().count("train_op") > 0);
  const std::vector<std::string> train_ops = g.collections().at("train_op");
  EXPECT_EQ(train_ops, run.graph->collections().at("train_op"));
  EXPECT_NE(std::find(train_ops.begin(), train_ops.end(), run.train_op), train_ops.end());

  Session session(&g);
  absl::Status restored = mg->saver->Restore(&session, run.prefix);
  ASSERT_TRUE(restored.ok()) << restored;
  auto step = session.VariableValue(run.global_step);
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(step->flat<int64_t>()[0], kStepsBeforeSave);

  // The same graph and values compute the same loss, bit for bit.
  auto loss = session.Run(run.feeds, {run.loss}, {});
  ASSERT_TRUE(loss.ok()) << loss.status();
  EXPECT_TRUE((*loss)[0].Identical(run.loss_at_save))
      << (*loss)[0].flat<float>()[0] << " vs " << run.loss_at_save.flat<float>()[0];

  // Train on in both: the reimported graph follows the original exactly,
  // and the loss goes down.
  const float first = (*loss)[0].flat<float>()[0];
  for (int i = 0; i < kStepsAfterReimport; ++i) {
    auto out = session.Run(run.feeds, {run.loss}, train_ops);
    ASSERT_TRUE(out.ok()) << "step " << i << ": " << out.status();
    auto original = run.session->Run(run.feeds, {run.loss}, train_ops);
    ASSERT_TRUE(original.ok()) << original.status();
    EXPECT_TRUE((*out)[0].Identical((*original)[0])) << "step " << i;
  }
  auto after = session.Run(run.feeds, {run.loss}, {});
  ASSERT_TRUE(after.ok()) << after.status();
  const float last = (*after)[0].flat<float>()[0];
  EXPECT_LT(last, first);
  EXPECT_LT(last, run.loss_at_save.flat<float>()[0]);
  step = session.VariableValue(run.global_step);
  ASSERT_TRUE(step.ok());
  EXPECT_EQ(step->flat<int64_t>()[0], kStepsBeforeSave + kStepsAfterReimport);

  const auto ours = VariableValues(g, session);
  const auto original = VariableValues(*run.graph, *run.session);
  ASSERT_EQ(ours.size(), original.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i].first, original[i].first);
    EXPECT_TRUE(ours[i].second.Identical(original[i].second)) << ours[i].first;
  }

  if (GetParam() == "softmax_classifier") {
    // The evaluation collection came through too; the classes separate.
    ASSERT_TRUE(g.collections().count("eval") > 0);
    auto acc = session.Run(run.feeds, {g.collections().at("eval")[0]}, {});
    ASSERT_TRUE(acc.ok()) << acc.status();
    EXPECT_EQ((*acc)[0].flat<float>()[0], 1.0f);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, MetaConformanceTest,
                         ::testing::Values("gradient_descent", "momentum", "adam",
                                           "softmax_classifier"));

}  // namespace
}  // namespace ckpt
