// Saver: the save/restore subgraph as TensorFlow names it, round trips
// through new sessions, the checkpoint state file, retention, the checks
// Restore makes before it restores, and what a failed save leaves behind.
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/checkpoint_state.h"
#include "ckpt/meta_graph.h"
#include "ckpt/naming.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/op_registry.h"
#include "ckpt/runtime/ops.h"
#include "ckpt/runtime/saver.h"
#include "ckpt/runtime/scope.h"
#include "ckpt/runtime/session.h"
#include "ckpt/tensor_proto.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "util/fault_injection_env.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using testing::FaultInjectionEnv;
using testing::OpKind;
using testing::ScratchDir;

Tensor Floats(const std::vector<float>& v, const TensorShape& shape) {
  Tensor t(DT_FLOAT, shape);
  std::copy(v.begin(), v.end(), t.mutable_flat<float>().begin());
  return t;
}

ops::VariableOptions Named(const std::string& name) {
  ops::VariableOptions o;
  o.name = name;
  return o;
}

// A small model: weights_0 [2,3] and bias_0 [3] (the names of the TF 1.1
// tutorial in the corpus), created from the given values.
struct Model {
  Graph graph;
  Var weights, bias;
  Operation init;
};

void BuildModel(Model* m, const Tensor& w, const Tensor& b) {
  Scope root = Scope::NewRootScope(&m->graph);
  m->weights = ops::Variable(root, ops::Const(root, w), Named("weights_0"));
  m->bias = ops::Variable(root, ops::Const(root, b), Named("bias_0"));
  m->init = ops::GlobalVariablesInitializer(root);
  ASSERT_TRUE(root.ok()) << root.status();
}

const Tensor kW = Floats({0.5f, -1.25f, 3.0f, 1e-3f, -7.5f, 2.0f}, TensorShape({2, 3}));
const Tensor kB = Floats({0.1f, 0.2f, 0.3f}, TensorShape({3}));

// A Model whose variables start at kW and kB.
std::unique_ptr<Model> TrainedModel() {
  auto m = std::make_unique<Model>();
  BuildModel(m.get(), kW, kB);
  return m;
}

bool Exists(const std::string& path) { return testing::FileExists(path); }

bool CheckpointFilesExist(const std::string& prefix) {
  return Exists(IndexFilename(prefix)) && Exists(DataFilename(prefix, 0, 1)) &&
         Exists(MetaFilename(prefix));
}
bool NoCheckpointFiles(const std::string& prefix) {
  return !Exists(IndexFilename(prefix)) && !Exists(DataFilename(prefix, 0, 1)) &&
         !Exists(MetaFilename(prefix));
}

// An Env whose clock the test sets.
class ClockEnv final : public FaultInjectionEnv {
 public:
  ClockEnv() : FaultInjectionEnv(Env::Default()) {}
  double NowSeconds() override { return now; }
  double now = 1e6;
};

TEST(SaverTest, RoundTripIntoANewSession) {
  ScratchDir dir;
  std::unique_ptr<Model> m = TrainedModel();
  auto saver = Saver::Create(&m->graph);
  ASSERT_TRUE(saver.ok()) << saver.status();
  Session session(&m->graph);
  ASSERT_TRUE(session.Run({}, {}, {m->init}).ok());
  // Saved values are the current ones, not the initial ones.
  Scope root = Scope::NewRootScope(&m->graph);
  Output bump = ops::AssignAdd(root, m->bias.ref(), ops::Const(root, Floats({1, 1, 1}, {3})));
  ASSERT_TRUE(root.ok()) << root.status();
  ASSERT_TRUE(session.Run({}, {bump}, {}).ok());

  auto path = (*saver)->Save(&session, dir.Join("model.ckpt"));
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, dir.Join("model.ckpt"));
  EXPECT_TRUE(CheckpointFilesExist(*path));

  // The bundle holds exactly the two variables under their node names.
  auto reader = BundleReader::Open(*path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_EQ((*reader)->entries().size(), 2u);
  auto w = (*reader)->Read("weights_0");
  auto b = (*reader)->Read("bias_0");
  ASSERT_TRUE(w.ok() && b.ok());
  EXPECT_TRUE(w->Identical(kW));
  EXPECT_TRUE(b->Identical(Floats({1.1f, 1.2f, 1.3f}, {3})));

  // A fresh graph with other initial values; restore without initializing.
  Model fresh;
  BuildModel(&fresh, Floats({0, 0, 0, 0, 0, 0}, {2, 3}), Floats({9, 9, 9}, {3}));
  auto saver2 = Saver::Create(&fresh.graph);
  ASSERT_TRUE(saver2.ok()) << saver2.status();
  Session session2(&fresh.graph);
  ASSERT_TRUE((*saver2)->Restore(&session2, *path).ok());
  auto w2 = session2.VariableValue("weights_0");
  auto b2 = session2.VariableValue("bias_0");
  ASSERT_TRUE(w2.ok() && b2.ok());
  EXPECT_TRUE(w2->Identical(kW));
  EXPECT_TRUE(b2->Identical(Floats({1.1f, 1.2f, 1.3f}, {3})));
  // Restored variables are usable (reads go through the snapshot node).
  auto read = session2.Run({}, {fresh.weights.value()}, {});
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE((*read)[0].Identical(kW));
}

TEST(SaverTest, SubgraphHasTensorFlowNamesAndSaverDef) {
  std::unique_ptr<Model> m = TrainedModel();
  auto saver = Saver::Create(&m->graph);
  ASSERT_TRUE(saver.ok()) << saver.status();
  const tensorflow::SaverDef& def = (*saver)->saver_def();
  EXPECT_EQ(def.filename_tensor_name(), "save/Const:0");
  EXPECT_EQ(def.save_tensor_name(), "save/control_dependency:0");
  EXPECT_EQ(def.restore_op_name(), "save/restore_all");
  EXPECT_EQ(def.max_to_keep(), 5);
  EXPECT_EQ(def.keep_checkpoint_every_n_hours(), 10000.0f);
  EXPECT_EQ(def.version(), tensorflow::SaverDef::V2);
  EXPECT_FALSE(def.sharded());

  // name -> (op, inputs)
  std::map<std::string, std::pair<std::string, std::vector<std::string>>> nodes;
  for (const auto& n : m->graph.nodes()) {
    nodes[n->name()] = {n->op(), {n->def.input().begin(), n->def.input().end()}};
  }
  using In = std::vector<std::string>;
  const std::map<std::string, std::pair<std::string, In>> want = {
      {"save/Const", {"Const", {}}},
      {"save/SaveV2/tensor_names", {"Const", {}}},
      {"save/SaveV2/shape_and_slices", {"Const", {}}},
      {"save/SaveV2",
       {"SaveV2",
        {"save/Const", "save/SaveV2/tensor_names", "save/SaveV2/shape_and_slices", "bias_0",
         "weights_0"}}},
      {"save/control_dependency", {"Identity", {"save/Const", "^save/SaveV2"}}},
      {"save/RestoreV2/tensor_names", {"Const", {}}},
      {"save/RestoreV2/shape_and_slices", {"Const", {}}},
      {"save/RestoreV2",
       {"RestoreV2",
        {"save/Const", "save/RestoreV2/tensor_names", "save/RestoreV2/shape_and_slices"}}},
      {"save/Assign", {"Assign", {"bias_0", "save/RestoreV2"}}},
      {"save/RestoreV2_1/tensor_names", {"Const", {}}},
      {"save/RestoreV2_1/shape_and_slices", {"Const", {}}},
      {"save/RestoreV2_1",
       {"RestoreV2",
        {"save/Const", "save/RestoreV2_1/tensor_names", "save/RestoreV2_1/shape_and_slices"}}},
      {"save/Assign_1", {"Assign", {"weights_0", "save/RestoreV2_1"}}},
      {"save/restore_all", {"NoOp", {"^save/Assign", "^save/Assign_1"}}},
  };
  for (const auto& [name, op_inputs] : want) {
    auto it = nodes.find(name);
    ASSERT_NE(it, nodes.end()) << name;
    EXPECT_EQ(it->second.first, op_inputs.first) << name;
    EXPECT_EQ(it->second.second, op_inputs.second) << name;
  }
  int save_nodes = 0;
  for (const auto& [name, v] : nodes) save_nodes += absl::StartsWith(name, "save/");
  EXPECT_EQ(save_nodes, static_cast<int>(want.size()));

  auto strings = [&](const std::string& node) {
    auto t = TensorFromProto(m->graph.FindNode(node)->def.attr().at("value").tensor());
    EXPECT_TRUE(t.ok()) << node;
    return t.ok() ? t->strings() : std::vector<std::string>{};
  };
  EXPECT_EQ(strings("save/Const"), std::vector<std::string>{"model"});
  EXPECT_EQ(strings("save/SaveV2/tensor_names"), (std::vector<std::string>{"bias_0", "weights_0"}));
  EXPECT_EQ(strings("save/SaveV2/shape_and_slices"), (std::vector<std::string>{"", ""}));
  EXPECT_EQ(strings("save/RestoreV2/tensor_names"), std::vector<std::string>{"bias_0"});
  EXPECT_EQ(strings("save/RestoreV2_1/tensor_names"), std::vector<std::string>{"weights_0"});

  // A second saver gets its own scope, as in TensorFlow.
  auto second = Saver::Create(&m->graph);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*second)->saver_def().filename_tensor_name(), "save_1/Const:0");
  EXPECT_EQ((*second)->saver_def().restore_op_name(), "save_1/restore_all");
}

// Our save/restore nodes equal those TensorFlow 1.1 wrote for the same two
// variables, attr for attr (colocation and shape annotations aside), and
// every node of our .meta satisfies TensorFlow's OpDef of its op.
TEST(SaverTest, MetaMatchesTensorFlowsForTheSameVariables) {
  CKPT_REQUIRE_CORPUS(corpus);
  auto tf = ReadMetaGraph(corpus + "/udacity_save_restore/model.ckpt.meta");
  ASSERT_TRUE(tf.ok()) << tf.status();

  ScratchDir dir;
  std::unique_ptr<Model> m = TrainedModel();
  auto saver = Saver::Create(&m->graph);
  ASSERT_TRUE(saver.ok()) << saver.status();
  Session session(&m->graph);
  ASSERT_TRUE(session.Run({}, {}, {m->init}).ok());
  auto path = (*saver)->Save(&session, dir.Join("model.ckpt"));
  ASSERT_TRUE(path.ok()) << path.status();
  auto ours = ReadMetaGraph(MetaFilename(*path));
  ASSERT_TRUE(ours.ok()) << ours.status();

  std::map<std::string, const tensorflow::NodeDef*> tf_nodes;
  for (const auto& n : tf->graph_def().node()) tf_nodes[n.name()] = &n;
  int compared = 0;
  for (const auto& n : ours->graph_def().node()) {
    if (!absl::StartsWith(n.name(), "save/")) continue;
    auto it = tf_nodes.find(n.name());
    ASSERT_NE(it, tf_nodes.end()) << n.name() << " is not in TensorFlow's graph";
    const tensorflow::NodeDef& t = *it->second;
    EXPECT_EQ(n.op(), t.op()) << n.name();
    EXPECT_EQ(std::vector<std::string>(n.input().begin(), n.input().end()),
              std::vector<std::string>(t.input().begin(), t.input().end()))
        << n.name();
    std::set<std::string> keys;
    for (const auto& [k, v] : n.attr()) if (k[0] != '_') keys.insert(k);
    for (const auto& [k, v] : t.attr()) if (k[0] != '_') keys.insert(k);
    for (const std::string& k : keys) {
      ASSERT_TRUE(n.attr().contains(k)) << n.name() << " lacks attr " << k;
      ASSERT_TRUE(t.attr().contains(k)) << n.name() << " has extra attr " << k;
      tensorflow::AttrValue a = n.attr().at(k), b = t.attr().at(k);
      // Const values may be encoded differently (content vs typed fields).
      if (a.has_tensor() && b.has_tensor()) {
        auto ta = TensorFromProto(a.tensor()), tb = TensorFromProto(b.tensor());
        ASSERT_TRUE(ta.ok() && tb.ok());
        EXPECT_EQ(ta->dtype(), tb->dtype()) << n.name();
        EXPECT_EQ(ta->shape(), tb->shape()) << n.name();
        EXPECT_EQ(ta->strings(), tb->strings()) << n.name();
        continue;
      }
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(a, b))
          << n.name() << " attr " << k << ": ours " << a.ShortDebugString() << " vs TF "
          << b.ShortDebugString();
    }
    ++compared;
  }
  EXPECT_EQ(compared, 14);

  std::map<std::string, const tensorflow::OpDef*> tf_ops;
  for (const auto& op : tf->meta_info_def().stripped_op_list().op()) tf_ops[op.name()] = &op;
  for (const auto& n : ours->graph_def().node()) {
    auto it = tf_ops.find(n.op());
    if (it == tf_ops.end()) continue;
    tensorflow::NodeDef with_defaults = n;
    AddDefaultAttrs(*it->second, &with_defaults);
    auto sig = ValidateNode(*it->second, with_defaults);
    EXPECT_TRUE(sig.ok()) << n.name() << ": " << sig.status();
  }
  EXPECT_EQ(ours->saver_def().SerializeAsString(), tf->saver_def().SerializeAsString());
}

TEST(SaverTest, MetaGraphHasOpListCollectionsAndShapes) {
  ScratchDir dir;
  std::unique_ptr<Model> m = TrainedModel();
  m->graph.AddToCollection("train_op", "init");
  auto saver = Saver::Create(&m->graph);
  ASSERT_TRUE(saver.ok()) << saver.status();
  Session session(&m->graph);
  ASSERT_TRUE(session.Run({}, {}, {m->init}).ok());
  auto path = (*saver)->Save(&session, dir.Join("model.ckpt"), 7);
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, dir.Join("model.ckpt-7"));
  auto mg = ReadMetaGraph(dir.Join("model.ckpt-7.meta"));
  ASSERT_TRUE(mg.ok()) << mg.status();

  std::vector<std::string> ops;
  for (const auto& op : mg->meta_info_def().stripped_op_list().op()) ops.push_back(op.name());
  EXPECT_EQ(ops, (std::vector<std::string>{"Assign", "Const", "Identity", "NoOp", "RestoreV2",
                                           "SaveV2", "VariableV2"}));
  const tensorflow::OpDef& save_v2 = mg->meta_info_def().stripped_op_list().op(5);
  ASSERT_EQ(save_v2.input_arg_size(), 4);
  EXPECT_EQ(save_v2.input_arg(3).type_list_attr(), "dtypes");

  EXPECT_TRUE(mg->graph_def().has_versions());
  EXPECT_EQ(mg->saver_def().restore_op_name(), "save/restore_all");
  ASSERT_TRUE(mg->collection_def().contains("variables"));
  ASSERT_TRUE(mg->collection_def().contains("trainable_variables"));
  const auto& vars = mg->collection_def().at("variables").bytes_list().value();
  ASSERT_EQ(vars.size(), 2);
  tensorflow::VariableDef v;
  ASSERT_TRUE(v.ParseFromString(vars[0]));
  EXPECT_EQ(v.variable_name(), "weights_0:0");
  EXPECT_EQ(v.initializer_name(), "weights_0/Assign");
  EXPECT_EQ(v.snapshot_name(), "weights_0/read:0");
  EXPECT_EQ(mg->collection_def().at("trainable_variables").bytes_list().value_size(), 2);
  ASSERT_TRUE(mg->collection_def().contains("train_op"));
  EXPECT_EQ(mg->collection_def().at("train_op").node_list().value(0), "init");

  // Static shapes are recorded as TensorFlow's add_shapes does.
  for (const auto& n : mg->graph_def().node()) {
    if (n.name() != "weights_0") continue;
    ASSERT_TRUE(n.attr().contains("_output_shapes"));
    const auto& s = n.attr().at("_output_shapes").list().shape(0);
    ASSERT_EQ(s.dim_size(), 2);
    EXPECT_EQ(s.dim(0).size(), 2);
    EXPECT_EQ(s.dim(1).size(), 3);
  }
}

TEST(SaverTest, StateFileNamesTheLatest) {
  ScratchDir dir;
  std::unique_ptr<Model> m = TrainedModel();
  auto saver = Saver::Create(&m->graph);
  ASSERT_TRUE(saver.ok()) << saver.status();
  Session session(&m->graph);
  ASSERT_TRUE(session.Run({}, {}, {m->init}).ok());
  ASSERT_TRUE((*saver)->Save(&session, dir.Join("model.ckpt"), 10).ok());
  ASSERT_TRUE((*saver)->Save(&session, dir.Join("model.ckpt"), 20).ok());
  auto st = ReadCheckpointState(Env::Default(), dir.path());
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->model_checkpoint_path(), "model.ckpt-20");
  ASSERT_EQ(st->all_model_checkpoint_paths_size(), 2);
  EXPECT_EQ(st->all_model_checkpoint_paths(0), "model.ckpt-10");
  EXPECT_EQ(st->all_model_checkpoint_paths(1), "model.ckpt-20");
  auto latest = LatestCheckpoint(dir.path());
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(*latest, dir.Join("model.ckpt-20"));
  EXPECT_EQ((*saver)->last_checkpoints(),
            (std::vector<std::string>{dir.Join("model.ckpt-10"), dir.Join("model.ckpt-20")}));

  // A saver's own state file name, and no state at all.
  SaveOptions other;
  other.latest_filename = "other_state";
  ASSERT_TRUE((*saver)->Save(&session, dir.Join("model.ckpt"), 30, other).ok());
  auto st2 = ReadCheckpointState(Env::Default(), dir.path(), "other_state");
  ASSERT_TRUE(st2.ok()) << st2.status();
  EXPECT_EQ(st2->model_checkpoint_path(), "model.ckpt-30");
  SaveOptions no_state;
  no_state.write_state = false;
  no_state.write_meta_graph = false;
  ASSERT_TRUE((*saver)->Save(&session, dir.Join("model.ckpt"), 40, no_state).ok());
  EXPECT_TRUE(Exists(IndexFilename(dir.Join("model.ckpt-40"))));
  EXPECT_FALSE(Exists(MetaFilename(dir.Join("model.ckpt-40"))));
  EXPECT_EQ(LatestCheckpoint(dir.path()).value_or(""), dir.Join("model.ckpt-20"));

  // The state file may not be saved over.
  SaveOptions clash;
  clash.latest_filename = "model.ckpt";
  auto bad = (*saver)->Save(&session, dir.Join("model.ckpt"), std::nullopt, clash);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << bad.status();
}

TEST(SaverTest, MaxToKeepDeletesOlderCheckpoints) {
  ScratchDir dir;
  std::unique_ptr<Model> m = TrainedModel();
  SaverOptions opts;
  opts.max_to_keep = 2;
  auto saver = Saver::Create(&m->graph, opts);
  ASSERT_TRUE(saver.ok()) << saver.status();
  Session session(&m->graph);
  ASSERT_TRUE(session.Run({}, {}, {m->init}).ok());
  const std::string prefix = dir.Join("model.ckpt");
  for (int step = 1; step <= 3; ++step) {
    ASSERT_TRUE((*saver)->Save(&session, prefix, step).ok());
  }
  EXPECT_TRUE(NoCheckpointFiles(prefix + "-1"));
  EXPECT_TRUE(CheckpointFilesExist(prefix + "-2"));
  EXPECT_TRUE(CheckpointFilesExist(prefix + "-3"));
  auto st = ReadCheckpointState(Env::Default(), dir.path());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->model_checkpoint_path(), "model.ckpt-3");
  ASSERT_EQ(st->all_model_checkpoint_paths_size(), 2);
  EXPECT_EQ(st->all_model_checkpoint_paths(0), "model.ckpt-2");
  EXPECT_EQ((*saver)->last_checkpoints(), (std::vector<std::string>{prefix + "-2", prefix + "-3"}));

  // Saving a listed prefix again moves it to the end instead of listing it twice.
  ASSERT_TRUE((*saver)->Save(&session, prefix, 2).ok());
  EXPECT_EQ((*saver)->last_checkpoints(), (std::vector<std::string>{prefix + "-3", prefix + "-2"}));
  EXPECT_TRUE(CheckpointFilesExist(prefix + "-3"));
  EXPECT_TRUE(CheckpointFilesExist(prefix + "-2"));

  // max_to_keep 0: nothing is deleted and only the latest is listed.
  ScratchDir dir2;
  SaverOptions keep_all;
  keep_all.max_to_keep = 0;
  auto saver2 = Saver::Create(&m->graph, keep_all);
  ASSERT_TRUE(saver2.ok());
  for (int step = 1; step <= 3; ++step) {
    ASSERT_TRUE((*saver2)->Save(&session, dir2.Join("m"), step).ok());
  }
  for (int step = 1; step <= 3; ++step) {
    EXPECT_TRUE(CheckpointFilesExist(absl::StrCat(dir2.Join("m-"), step)));
  }
  auto st2 = ReadCheckpointState(Env::Default(), dir2.path());
  ASSERT_TRUE(st2.ok());
  ASSERT_EQ(st2->all_model_checkpoint_paths_size(), 1);
  EXPECT_EQ(st2->all_model_checkpoint_paths(0), "m-3");
  EXPECT_TRUE((*saver2)->last_checkpoints().empty());
}

TEST(SaverTest, KeepCheckpointEveryNHoursUsesTheEnvClock) {
  ScratchDir dir;
  ClockEnv env;
  const double t0 = env.now;
  std::unique_ptr<Model> m = TrainedModel();
  SaverOptions opts;
  opts.max_to_keep = 2;
  opts.keep_checkpoint_every_n_hours = 1.0;
  opts.env = &env;
  auto saver = Saver::Create(&m->graph, opts);  // the first keep time is t0 + 1h
  ASSERT_TRUE(saver.ok()) << saver.status();
  Session session(&m->graph);
  ASSERT_TRUE(session.Run({}, {}, {m->init}).ok());
  const std::string prefix = dir.Join("model.ckpt");
  const std::map<int, double> saved_at = {{1, 10},   {2, 20},   {3, 30},   {4, 4000},
                                          {5, 4010}, {6, 4020}, {7, 4030}, {8, 7300},
                                          {9, 7310}, {10, 7320}};
  for (const auto& [step, t] : saved_at) {
    env.now = t0 + t;
    ASSERT_TRUE((*saver)->Save(&session, prefix, step).ok()) << step;
  }
  // 1..3 were saved within the first hour: deleted when they left the
  // window. 4 was the first saved after t0+1h: kept for good (next: t0+2h).
  // 5..7 came before t0+2h: deleted. 8 was saved after t0+2h: kept.
  for (int step : {1, 2, 3, 5, 6, 7}) {
    EXPECT_TRUE(NoCheckpointFiles(absl::StrCat(prefix, "-", step))) << step;
  }
  for (int step : {4, 8, 9, 10}) {
    EXPECT_TRUE(CheckpointFilesExist(absl::StrCat(prefix, "-", step))) << step;
  }
  auto st = ReadCheckpointState(Env::Default(), dir.path());
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(st->all_model_checkpoint_paths_size(), 2);
  EXPECT_EQ(st->all_model_checkpoint_paths(0), "model.ckpt-9");
  EXPECT_EQ(st->all_model_checkpoint_paths(1), "model.ckpt-10");
}

TEST(SaverTest, RestoreRefusesAnotherShape) {
  ScratchDir dir;
  std::unique_ptr<Model> m = TrainedModel();
  auto saver = Saver::Create(&m->graph);
  ASSERT_TRUE(saver.ok());
  Session session(&m->graph);
  ASSERT_TRUE(session.Run({}, {}, {m->init}).ok());
  auto path = (*saver)->Save(&session, dir.Join("model.ckpt"));
  ASSERT_TRUE(path.ok()) << path.status();

  Model other;
  BuildModel(&other, Floats({1, 2, 3, 4, 5, 6}, {3, 2}), kB);
  auto saver2 = Saver::Create(&other.graph);
  ASSERT_TRUE(saver2.ok());
  Session session2(&other.graph);
  absl::Status s = (*saver2)->Restore(&session2, *path);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message(), absl::StrCat("variable 'weights_0' is float32[3,2] in the graph but "
                                      "float32[2,3] in checkpoint ", *path));
  // Nothing was restored: bias_0, which would have fit, is still unset.
  EXPECT_FALSE(session2.VariableValue("bias_0").ok());
}

TEST(SaverTest, RestoreRefusesAnotherDType) {
  ScratchDir dir;
  Tensor step(DT_FLOAT, TensorShape({}));
  step.mutable_flat<float>()[0] = 42.0f;
  // Saved as float32, restored into an int32 variable: TensorFlow would
  // reinterpret the float's bits; we refuse.
  Graph g;
  Scope root = Scope::NewRootScope(&g);
  ops::Variable(root, ops::Const(root, step), Named("step"));
  Operation init = ops::GlobalVariablesInitializer(root);
  ASSERT_TRUE(root.ok());
  auto saver = Saver::Create(&g);
  ASSERT_TRUE(saver.ok());
  Session session(&g);
  ASSERT_TRUE(session.Run({}, {}, {init}).ok());
  auto path = (*saver)->Save(&session, dir.Join("step.ckpt"));
  ASSERT_TRUE(path.ok()) << path.status();

  Graph g2;
  Scope root2 = Scope::NewRootScope(&g2);
  ops::Variable(root2, ops::Const(root2, int32_t{0}), Named("step"));
  ASSERT_TRUE(root2.ok());
  auto saver2 = Saver::Create(&g2);
  ASSERT_TRUE(saver2.ok());
  Session session2(&g2);
  absl::Status s = (*saver2)->Restore(&session2, *path);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message(),
            absl::StrCat("variable 'step' is int32[] in the graph but float32[] in checkpoint ",
                         *path));
}

TEST(SaverTest, RestoreNamesAMissingVariable) {
  ScratchDir dir;
  std::unique_ptr<Model> m = TrainedModel();
  auto saver = Saver::Create(&m->graph);
  ASSERT_TRUE(saver.ok());
  Session session(&m->graph);
  ASSERT_TRUE(session.Run({}, {}, {m->init}).ok());
  auto path = (*saver)->Save(&session, dir.Join("model.ckpt"));
  ASSERT_TRUE(path.ok()) << path.status();

  Model bigger;
  BuildModel(&bigger, kW, kB);
  Scope root = Scope::NewRootScope(&bigger.graph);
  ops::Variable(root, ops::Const(root, 1.0f), Named("W1"));
  ASSERT_TRUE(root.ok());
  auto saver2 = Saver::Create(&bigger.graph);
  ASSERT_TRUE(saver2.ok());
  Session session2(&bigger.graph);
  absl::Status s = (*saver2)->Restore(&session2, *path);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_EQ(s.message(), absl::StrCat("variable 'W1' not found in checkpoint ", *path));

  // A prefix with no checkpoint at all.
  absl::Status none = (*saver2)->Restore(&session2, dir.Join("nothing"));
  EXPECT_EQ(none.code(), absl::StatusCode::kNotFound) << none;
}

TEST(SaverTest, VarListAndErrorsOfCreate) {
  std::unique_ptr<Model> m = TrainedModel();
  SaverOptions only_bias;
  only_bias.var_list = {"bias_0"};
  auto saver = Saver::Create(&m->graph, only_bias);
  ASSERT_TRUE(saver.ok()) << saver.status();
  auto names = m->graph.FindNode("save/SaveV2/tensor_names");
  ASSERT_NE(names, nullptr);
  auto t = TensorFromProto(names->def.attr().at("value").tensor());
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->strings(), std::vector<std::string>{"bias_0"});

  SaverOptions bad;
  bad.var_list = {"bias_0/read"};
  auto s = Saver::Create(&m->graph, bad);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << s.status();
  bad.var_list = {"no_such"};
  EXPECT_EQ(Saver::Create(&m->graph, bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad.var_list = {"bias_0", "bias_0"};
  EXPECT_EQ(Saver::Create(&m->graph, bad).status().code(), absl::StatusCode::kInvalidArgument);

  Graph empty;
  EXPECT_EQ(Saver::Create(&empty).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SaverTest, ShardedSaverMergesIntoThePrefix) {
  ScratchDir dir;
  std::unique_ptr<Model> m = TrainedModel();
  SaverOptions opts;
  opts.sharded = true;
  auto saver = Saver::Create(&m->graph, opts);
  ASSERT_TRUE(saver.ok()) << saver.status();
  const tensorflow::SaverDef& def = (*saver)->saver_def();
  EXPECT_TRUE(def.sharded());
  EXPECT_EQ(def.filename_tensor_name(), "save/Const:0");
  EXPECT_EQ(def.save_tensor_name(), "save/Identity:0");
  EXPECT_EQ(def.restore_op_name(), "save/restore_all");
  for (const char* name : {"save/StringJoin", "save/StringJoin/inputs_1", "save/num_shards",
                           "save/ShardedFilename", "save/ShardedFilename/shard", "save/SaveV2",
                           "save/control_dependency", "save/MergeV2Checkpoints",
                           "save/MergeV2Checkpoints/checkpoint_prefixes", "save/Identity",
                           "save/restore_shard"}) {
    EXPECT_NE(m->graph.FindNode(name), nullptr) << name;
  }
  Session session(&m->graph);
  ASSERT_TRUE(session.Run({}, {}, {m->init}).ok());
  auto path = (*saver)->Save(&session, dir.Join("model.ckpt"), 3);
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, dir.Join("model.ckpt-3"));
  EXPECT_TRUE(CheckpointFilesExist(*path));
  // Only the merged checkpoint, its .meta and the state file remain.
  std::vector<std::string> children = *Env::Default()->GetChildren(dir.path());
  std::sort(children.begin(), children.end());
  EXPECT_EQ(children, (std::vector<std::string>{"checkpoint", "model.ckpt-3.data-00000-of-00001",
                                                "model.ckpt-3.index", "model.ckpt-3.meta"}));

  Model fresh;
  BuildModel(&fresh, Floats({0, 0, 0, 0, 0, 0}, {2, 3}), Floats({0, 0, 0}, {3}));
  auto saver2 = Saver::Create(&fresh.graph, opts);
  ASSERT_TRUE(saver2.ok());
  Session session2(&fresh.graph);
  ASSERT_TRUE((*saver2)->Restore(&session2, *path).ok());
  EXPECT_TRUE(session2.VariableValue("weights_0")->Identical(kW));
  EXPECT_TRUE(session2.VariableValue("bias_0")->Identical(kB));
}

// A variable partitioned in two parts (VariableDefs with save_slice_info,
// as tf.get_variable with a partitioner makes them) is saved as one tensor.
void BuildPartitioned(Graph* g, const Tensor& top, const Tensor& bottom) {
  Scope root = Scope::NewRootScope(g);
  for (int part = 0; part < 2; ++part) {
    ops::VariableOptions o;
    o.name = absl::StrCat("emb/part_", part);
    o.in_variables_collection = false;
    Var v = ops::Variable(root, ops::Const(root, part == 0 ? top : bottom), o);
    ASSERT_TRUE(root.ok()) << root.status();
    tensorflow::VariableDef d;
    d.set_variable_name(v.ref().name());
    d.set_initializer_name(v.initializer().name());
    d.set_snapshot_name(v.value().name());
    auto* info = d.mutable_save_slice_info_def();
    info->set_full_name("emb");
    for (int64_t x : {4, 3}) info->add_full_shape(x);
    for (int64_t x : {2 * part, 0}) info->add_var_offset(x);
    for (int64_t x : {2, 3}) info->add_var_shape(x);
    g->AddVariable(d, true);
  }
}

TEST(SaverTest, PartitionedVariableIsSavedAsOneTensor) {
  ScratchDir dir;
  Graph g;
  BuildPartitioned(&g, Floats({0, 1, 2, 3, 4, 5}, {2, 3}), Floats({6, 7, 8, 9, 10, 11}, {2, 3}));
  Scope root = Scope::NewRootScope(&g);
  Operation init = ops::GlobalVariablesInitializer(root);
  ASSERT_TRUE(root.ok()) << root.status();
  auto saver = Saver::Create(&g);
  ASSERT_TRUE(saver.ok()) << saver.status();
  auto specs = TensorFromProto(
      g.FindNode("save/SaveV2/shape_and_slices")->def.attr().at("value").tensor());
  ASSERT_TRUE(specs.ok());
  EXPECT_EQ(specs->strings(), (std::vector<std::string>{"4 3 0,2:0,3", "4 3 2,2:0,3"}));
  Session session(&g);
  ASSERT_TRUE(session.Run({}, {}, {init}).ok());
  auto path = (*saver)->Save(&session, dir.Join("emb.ckpt"));
  ASSERT_TRUE(path.ok()) << path.status();
  auto reader = BundleReader::Open(*path);
  ASSERT_TRUE(reader.ok());
  ASSERT_EQ((*reader)->entries().size(), 1u);
  EXPECT_TRUE((*reader)->Read("emb")->Identical(
      Floats({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {4, 3})));

  Graph fresh;
  BuildPartitioned(&fresh, Floats({0, 0, 0, 0, 0, 0}, {2, 3}), Floats({0, 0, 0, 0, 0, 0}, {2, 3}));
  auto saver2 = Saver::Create(&fresh);
  ASSERT_TRUE(saver2.ok());
  Session session2(&fresh);
  absl::Status s = (*saver2)->Restore(&session2, *path);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(
      session2.VariableValue("emb/part_1")->Identical(Floats({6, 7, 8, 9, 10, 11}, {2, 3})));

  // Parts of another partitioning of the same name do not fit.
  Graph wider;
  Scope wr = Scope::NewRootScope(&wider);
  ops::VariableOptions o;
  o.name = "emb";
  ops::Variable(wr, ops::Const(wr, Floats(std::vector<float>(15, 0.0f), {5, 3})), o);
  ASSERT_TRUE(wr.ok());
  auto saver3 = Saver::Create(&wider);
  ASSERT_TRUE(saver3.ok());
  Session session3(&wider);
  s = (*saver3)->Restore(&session3, *path);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message(), absl::StrCat("variable 'emb' is float32[5,3] in the graph but "
                                      "float32[4,3] in checkpoint ", *path));
}

// The checkpoint the state file names reads back as `value` of bias_0.
void ExpectLatestRestores(const std::string& dir, const std::string& want_base, float value) {
  auto latest = LatestCheckpoint(dir);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(*latest, dir + "/" + want_base);
  Model fresh;
  BuildModel(&fresh, kW, Floats({0, 0, 0}, {3}));
  auto saver = Saver::Create(&fresh.graph);
  ASSERT_TRUE(saver.ok());
  Session session(&fresh.graph);
  absl::Status s = (*saver)->Restore(&session, *latest);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(session.VariableValue("bias_0")->Identical(Floats({value, value, value}, {3})));
}

// Saves step 1 (bias 1), then step 2 (bias 2) through `env` with faults armed
// by `arm` just before the second save; returns that save's status.
absl::Status SaveTwice(const std::string& dir, FaultInjectionEnv* env,
                       const std::function<void(FaultInjectionEnv*)>& arm) {
  Model m;
  BuildModel(&m, kW, Floats({1, 1, 1}, {3}));
  SaverOptions opts;
  opts.env = env;
  auto saver = Saver::Create(&m.graph, opts);
  if (!saver.ok()) return saver.status();
  Session session(&m.graph);
  if (!session.Run({}, {}, {m.init}).ok()) return absl::InternalError("init");
  auto first = (*saver)->Save(&session, dir + "/model.ckpt", 1);
  if (!first.ok()) return first.status();
  Scope root = Scope::NewRootScope(&m.graph);
  Output set = ops::Assign(root, m.bias.ref(), ops::Const(root, Floats({2, 2, 2}, {3})));
  if (!session.Run({}, {set}, {}).ok()) return absl::InternalError("assign");
  arm(env);
  return (*saver)->Save(&session, dir + "/model.ckpt", 2).status();
}

TEST(SaverTest, AFailedSaveLeavesThePreviousCheckpoint) {
  // How many file-system steps the second save takes through the Env (the
  // .meta and the state file; the bundle is written by the SaveV2 kernel).
  int64_t before = 0, after = 0;
  {
    ScratchDir dir;
    FaultInjectionEnv probe(Env::Default());
    ASSERT_TRUE(SaveTwice(dir.path(), &probe, [&](FaultInjectionEnv* e) { before = e->steps(); })
                    .ok());
    after = probe.steps();
    ExpectLatestRestores(dir.path(), "model.ckpt-2", 2.0f);
  }
  ASSERT_GT(after - before, 4);
  for (int64_t n = 0; n < after - before; ++n) {
    SCOPED_TRACE(absl::StrCat("failing step ", n, " of the second save"));
    ScratchDir dir;
    FaultInjectionEnv env(Env::Default());
    absl::Status s = SaveTwice(dir.path(), &env, [&](FaultInjectionEnv* e) {
      e->SetCrashAtStep(e->steps() + n);
    });
    ASSERT_TRUE(env.SimulateCrashDataLoss().ok());
    // Whatever failed, the state file names a whole checkpoint: the
    // previous one, or the new one when only the last steps failed.
    auto st = ReadCheckpointState(Env::Default(), dir.path());
    ASSERT_TRUE(st.ok()) << st.status();
    if (s.ok() || st->model_checkpoint_path() == "model.ckpt-2") {
      ExpectLatestRestores(dir.path(), "model.ckpt-2", 2.0f);
    } else {
      ExpectLatestRestores(dir.path(), "model.ckpt-1", 1.0f);
    }
  }
}

TEST(SaverTest, AFailedMetaOrStateWriteRemovesTheNewFiles) {
  for (OpKind kind : {OpKind::kNewWritableFile, OpKind::kRenameFile}) {
    for (int which : {0, 1}) {  // the .meta's file, the state file's
      SCOPED_TRACE(absl::StrCat(testing::OpKindName(kind), " #", which));
      ScratchDir dir;
      FaultInjectionEnv env(Env::Default());
      absl::Status s = SaveTwice(dir.path(), &env, [&](FaultInjectionEnv* e) {
        e->SetFailure(kind, e->op_count(kind) + which, absl::ResourceExhaustedError("disk full"));
      });
      EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
      EXPECT_TRUE(absl::StrContains(s.message(), "model.ckpt-2")) << s;
      ExpectLatestRestores(dir.path(), "model.ckpt-1", 1.0f);
      EXPECT_TRUE(NoCheckpointFiles(dir.Join("model.ckpt-2")));
      EXPECT_TRUE(CheckpointFilesExist(dir.Join("model.ckpt-1")));
    }
  }
}

TEST(SaverTest, AFailedBundleWriteLeavesThePreviousCheckpoint) {
  ScratchDir dir;
  // The new index cannot be renamed into place: a directory is in the way.
  ASSERT_EQ(::mkdir(IndexFilename(dir.Join("model.ckpt-2")).c_str(), 0755), 0);
  FaultInjectionEnv env(Env::Default());
  absl::Status s = SaveTwice(dir.path(), &env, [](FaultInjectionEnv*) {});
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "model.ckpt-2")) << s;
  ExpectLatestRestores(dir.path(), "model.ckpt-1", 1.0f);
  EXPECT_FALSE(Exists(MetaFilename(dir.Join("model.ckpt-2"))));
}

}  // namespace
}  // namespace ckpt
