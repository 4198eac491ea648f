// Saver::SaveAsync: the files are those Save writes for the same values;
// training goes on while they are written and does not change them; saves
// are ordered, retention applies, failures surface on the next call.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/checkpoint_state.h"
#include "ckpt/naming.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/meta_graph_import.h"
#include "ckpt/runtime/ops.h"
#include "ckpt/runtime/saver.h"
#include "ckpt/runtime/scope.h"
#include "ckpt/runtime/session.h"
#include "gtest/gtest.h"
#include "util/fault_injection_env.h"
#include "util/gated_env.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using testing::FaultInjectionEnv;
using testing::GatedEnv;
using testing::ScratchDir;

// Fails the rename that would put a new state file in place.
class FailStateRenameEnv final : public FaultInjectionEnv {
 public:
  FailStateRenameEnv() : FaultInjectionEnv(Env::Default()) {}
  absl::Status RenameFile(const std::string& from, const std::string& to) override {
    if (fail && absl::EndsWith(to, "/checkpoint")) {
      return absl::UnavailableError(absl::StrCat("injected failure renaming ", from, " to ", to));
    }
    return FaultInjectionEnv::RenameFile(from, to);
  }
  std::atomic<bool> fail{true};
};

constexpr int64_t kEmbRows = 512, kEmbCols = 256;  // 512 KiB

// The value of each saved tensor after `steps` training steps; every
// training step adds 1 to every element. Initial values are multiples of
// 1/4, so these sums are exact.
Tensor Expected(const std::string& name, int64_t steps) {
  auto fill = [&](TensorShape shape, auto init) {
    Tensor t(DT_FLOAT, shape);
    absl::Span<float> v = t.mutable_flat<float>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = init(static_cast<int64_t>(i)) + static_cast<float>(steps);
    return t;
  };
  if (name == "weights") return fill(TensorShape({2, 3}), [](int64_t i) { return 0.5f * i - 1.0f; });
  if (name == "bias") return fill(TensorShape({3}), [](int64_t i) { return 0.25f * i; });
  if (name == "embedding") {
    return fill(TensorShape({kEmbRows, kEmbCols}), [](int64_t i) { return 0.25f * (i % 97); });
  }
  // The partitioned variable, whole: part 0 holds rows 0-1, part 1 rows 2-3.
  return fill(TensorShape({4, 3}), [](int64_t i) { return static_cast<float>(i); });
}

Tensor Initial(const std::string& name) { return Expected(name, 0); }

Tensor Ones(const TensorShape& shape) {
  Tensor t(DT_FLOAT, shape);
  for (float& v : t.mutable_flat<float>()) v = 1.0f;
  return t;
}

Tensor Rows(const Tensor& t, int64_t first, int64_t n) {
  const int64_t cols = t.shape().dim(1);
  Tensor out(DT_FLOAT, TensorShape({n, cols}));
  std::memcpy(out.mutable_raw_data(), t.raw_data() + first * cols * 4, n * cols * 4);
  return out;
}

// weights, bias, embedding, and "emb" partitioned in two parts; `train`
// adds 1 to every element of each.
struct Trainer {
  Graph graph;
  Operation init, train;
  std::unique_ptr<Session> session;

  Trainer() {
    Scope root = Scope::NewRootScope(&graph);
    std::vector<Operation> adds;
    auto add = [&](const Var& v, const TensorShape& shape) {
      adds.push_back(ops::AssignAdd(root, v.ref(), ops::Const(root, Ones(shape))));
    };
    for (const char* name : {"weights", "bias", "embedding"}) {
      ops::VariableOptions o;
      o.name = name;
      Tensor t = Initial(name);
      add(ops::Variable(root, ops::Const(root, t), o), t.shape());
    }
    const Tensor emb = Initial("emb");
    for (int part = 0; part < 2; ++part) {
      ops::VariableOptions o;
      o.name = absl::StrCat("emb/part_", part);
      o.in_variables_collection = false;
      Var v = ops::Variable(root, ops::Const(root, Rows(emb, 2 * part, 2)), o);
      tensorflow::VariableDef d;
      d.set_variable_name(v.ref().name());
      d.set_initializer_name(v.initializer().name());
      d.set_snapshot_name(v.value().name());
      auto* info = d.mutable_save_slice_info_def();
      info->set_full_name("emb");
      for (int64_t x : {4, 3}) info->add_full_shape(x);
      for (int64_t x : {2 * part, 0}) info->add_var_offset(x);
      for (int64_t x : {2, 3}) info->add_var_shape(x);
      graph.AddVariable(d, true);
      add(v, TensorShape({2, 3}));
    }
    init = ops::GlobalVariablesInitializer(root);
    train = ops::NoOp(root.WithControlDependencies(adds).WithOpName("train"));
    EXPECT_TRUE(root.ok()) << root.status();
    session = std::make_unique<Session>(&graph);
    EXPECT_TRUE(session->Run({}, {}, {init}).ok());
  }

  void Train(int steps) {
    for (int i = 0; i < steps; ++i) ASSERT_TRUE(session->Run({}, {}, {train}).ok());
  }
};

const char* const kTensors[] = {"bias", "emb", "embedding", "weights"};

// Checks that checkpoint `prefix` holds the values after `steps` steps.
void ExpectHoldsStep(const std::string& prefix, int64_t steps) {
  SCOPED_TRACE(prefix);
  auto reader = BundleReader::Open(prefix);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_EQ((*reader)->entries().size(), 4u);
  for (const char* name : kTensors) {
    auto t = (*reader)->Read(name);
    ASSERT_TRUE(t.ok()) << name << ": " << t.status();
    EXPECT_TRUE(t->Identical(Expected(name, steps))) << name;
  }
}

std::string Bytes(const std::string& path) { return testing::ReadFile(path); }

TEST(AsyncSaverTest, FilesAreByteIdenticalToASynchronousSave) {
  for (bool sharded : {false, true}) {
    SCOPED_TRACE(sharded ? "sharded" : "not sharded");
    ScratchDir dir;
    Trainer t;
    t.Train(3);
    SaverOptions so;
    so.sharded = sharded;
    auto saver = Saver::Create(&t.graph, so);
    ASSERT_TRUE(saver.ok()) << saver.status();
    // The same saver saves the same values to the same prefix twice, so
    // that even the state file has the same reason to be identical.
    const char* const files[] = {"model.ckpt-3.index", "model.ckpt-3.data-00000-of-00001",
                                 "model.ckpt-3.meta", "checkpoint"};
    auto sync = (*saver)->Save(t.session.get(), dir.Join("model.ckpt"), 3);
    ASSERT_TRUE(sync.ok()) << sync.status();
    std::vector<std::string> want;
    for (const char* f : files) want.push_back(Bytes(dir.Join(f)));
    for (const char* f : files) ASSERT_TRUE(Env::Default()->DeleteFile(dir.Join(f)).ok());

    auto async = (*saver)->SaveAsync(t.session.get(), dir.Join("model.ckpt"), 3);
    ASSERT_TRUE(async.ok()) << async.status();
    EXPECT_EQ(*async, dir.Join("model.ckpt-3"));
    ASSERT_TRUE((*saver)->Wait().ok());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(Bytes(dir.Join(files[i])), want[i]) << files[i];
    // Nothing else: a sharded save's temporary bundle is merged away.
    auto children = Env::Default()->GetChildren(dir.path());
    ASSERT_TRUE(children.ok());
    EXPECT_EQ(children->size(), 4u);
    ExpectHoldsStep(*async, 3);
  }
}

TEST(AsyncSaverTest, TrainingGoesOnWhileTheSaveIsWrittenAndDoesNotChangeIt) {
  ScratchDir dir;
  Trainer t;
  GatedEnv env;
  SaverOptions so;
  so.env = &env;
  auto saver = Saver::Create(&t.graph, so);
  ASSERT_TRUE(saver.ok());
  t.Train(10);
  env.CloseGate();
  auto path = (*saver)->SaveAsync(t.session.get(), dir.Join("model.ckpt"), 10);
  ASSERT_TRUE(path.ok()) << path.status();
  // Training right away races with the bundle being written; then, while
  // the save is held before its .meta, more training.
  t.Train(3);
  env.AwaitHeld();
  t.Train(2);
  EXPECT_TRUE((*saver)->last_checkpoints().empty());  // not complete yet
  EXPECT_FALSE(testing::FileExists(dir.Join("checkpoint")));
  env.OpenGate();
  ASSERT_TRUE((*saver)->Wait().ok());
  EXPECT_EQ((*saver)->last_checkpoints(), std::vector<std::string>{*path});
  ExpectHoldsStep(*path, 10);
  EXPECT_TRUE(t.session->VariableValue("bias")->Identical(Expected("bias", 15)));

  // Restoring brings back the values of step 10, in this session and in a
  // new one.
  ASSERT_TRUE((*saver)->Restore(t.session.get(), *path).ok());
  EXPECT_TRUE(t.session->VariableValue("embedding")->Identical(Expected("embedding", 10)));
  Trainer fresh;
  auto saver2 = Saver::Create(&fresh.graph);
  ASSERT_TRUE(saver2.ok());
  ASSERT_TRUE((*saver2)->Restore(fresh.session.get(), *path).ok());
  for (const char* name : {"weights", "bias", "embedding"}) {
    EXPECT_TRUE(fresh.session->VariableValue(name)->Identical(Expected(name, 10))) << name;
  }
  EXPECT_TRUE(fresh.session->VariableValue("emb/part_1")->Identical(Rows(Expected("emb", 10), 2, 2)));
}

TEST(AsyncSaverTest, SavesAreOrderedAndRetentionApplies) {
  ScratchDir dir;
  Trainer t;
  SaverOptions so;
  so.max_to_keep = 2;
  auto saver = Saver::Create(&t.graph, so);
  ASSERT_TRUE(saver.ok());
  const std::string prefix = dir.Join("model.ckpt");
  for (int step = 1; step <= 4; ++step) {
    t.Train(1);
    auto p = (*saver)->SaveAsync(t.session.get(), prefix, step);
    ASSERT_TRUE(p.ok()) << p.status();
  }
  ASSERT_TRUE((*saver)->Wait().ok());
  EXPECT_EQ((*saver)->last_checkpoints(), (std::vector<std::string>{prefix + "-3", prefix + "-4"}));
  for (int step : {1, 2}) {
    EXPECT_FALSE(testing::FileExists(IndexFilename(absl::StrCat(prefix, "-", step))));
    EXPECT_FALSE(testing::FileExists(MetaFilename(absl::StrCat(prefix, "-", step))));
  }
  auto st = ReadCheckpointState(Env::Default(), dir.path());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->model_checkpoint_path(), "model.ckpt-4");
  ASSERT_EQ(st->all_model_checkpoint_paths_size(), 2);
  EXPECT_EQ(st->all_model_checkpoint_paths(0), "model.ckpt-3");
  ExpectHoldsStep(prefix + "-3", 3);
  ExpectHoldsStep(prefix + "-4", 4);

  // A synchronous Save after asynchronous ones continues the same list.
  t.Train(1);
  ASSERT_TRUE((*saver)->Save(t.session.get(), prefix, 5).ok());
  EXPECT_EQ((*saver)->last_checkpoints(), (std::vector<std::string>{prefix + "-4", prefix + "-5"}));
  EXPECT_FALSE(testing::FileExists(IndexFilename(prefix + "-3")));
}

TEST(AsyncSaverTest, ABundleFailureSurfacesOnTheNextSaveAndLeavesTheLastCheckpoint) {
  ScratchDir dir;
  Trainer t;
  auto saver = Saver::Create(&t.graph);
  ASSERT_TRUE(saver.ok());
  const std::string prefix = dir.Join("model.ckpt");
  ASSERT_TRUE((*saver)->SaveAsync(t.session.get(), prefix, 1).ok());
  ASSERT_TRUE((*saver)->Wait().ok());
  // A regular file where the checkpoint's directory should be: the bundle
  // cannot be written, which only the background finds out.
  testing::WriteFile(dir.Join("blocker"), "a file, not a directory");
  t.Train(1);
  auto queued = (*saver)->SaveAsync(t.session.get(), dir.Join("blocker/model.ckpt"), 2);
  ASSERT_TRUE(queued.ok()) << queued.status();
  t.Train(1);
  auto next = (*saver)->SaveAsync(t.session.get(), prefix, 3);
  ASSERT_FALSE(next.ok());
  EXPECT_TRUE(absl::StrContains(next.status().message(), dir.Join("blocker/model.ckpt-2")))
      << next.status();
  EXPECT_TRUE(absl::StrContains(next.status().message(), "checkpoint " + prefix + "-3 was not saved"))
      << next.status();
  // Reported once; nothing was queued for step 3.
  EXPECT_TRUE((*saver)->Wait().ok());
  EXPECT_FALSE(testing::FileExists(IndexFilename(prefix + "-3")));
  EXPECT_EQ(LatestCheckpoint(dir.path()).value_or(""), prefix + "-1");
  EXPECT_EQ((*saver)->last_checkpoints(), std::vector<std::string>{prefix + "-1"});
  ExpectHoldsStep(prefix + "-1", 0);
  // Then saving works again.
  auto again = (*saver)->SaveAsync(t.session.get(), prefix, 3);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE((*saver)->Wait().ok());
  ExpectHoldsStep(prefix + "-3", 2);
}

TEST(AsyncSaverTest, AStateFileFailureSurfacesOnWaitAndOnASynchronousSave) {
  ScratchDir dir;
  Trainer t;
  FailStateRenameEnv env;
  env.fail = false;
  SaverOptions so;
  so.env = &env;
  auto saver = Saver::Create(&t.graph, so);
  ASSERT_TRUE(saver.ok());
  const std::string prefix = dir.Join("model.ckpt");
  ASSERT_TRUE((*saver)->SaveAsync(t.session.get(), prefix, 1).ok());
  ASSERT_TRUE((*saver)->Wait().ok());

  env.fail = true;
  ASSERT_TRUE((*saver)->SaveAsync(t.session.get(), prefix, 2).ok());
  absl::Status s = (*saver)->Wait();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "injected failure renaming")) << s;
  EXPECT_TRUE((*saver)->Wait().ok());  // reported once
  // As a failed Save leaves it: the state file names step 1, the files of
  // step 2 are gone.
  EXPECT_EQ(LatestCheckpoint(dir.path()).value_or(""), prefix + "-1");
  EXPECT_FALSE(testing::FileExists(IndexFilename(prefix + "-2")));
  EXPECT_FALSE(testing::FileExists(MetaFilename(prefix + "-2")));
  EXPECT_EQ((*saver)->last_checkpoints(), std::vector<std::string>{prefix + "-1"});

  // A failure not yet reported is what the next synchronous Save returns,
  // and that Save saves nothing.
  ASSERT_TRUE((*saver)->SaveAsync(t.session.get(), prefix, 3).ok());
  auto sync = (*saver)->Save(t.session.get(), prefix, 4);
  EXPECT_TRUE(absl::IsUnavailable(sync.status())) << sync.status();
  EXPECT_TRUE(absl::StrContains(sync.status().message(), prefix + "-4 was not saved"))
      << sync.status();
  EXPECT_FALSE(testing::FileExists(IndexFilename(prefix + "-3")));
  EXPECT_FALSE(testing::FileExists(IndexFilename(prefix + "-4")));
  env.fail = false;
  ASSERT_TRUE((*saver)->Save(t.session.get(), prefix, 4).ok());
  EXPECT_EQ((*saver)->last_checkpoints(), (std::vector<std::string>{prefix + "-1", prefix + "-4"}));
}

TEST(AsyncSaverTest, TheDestructorAndRestoreWaitForTheSaveInFlight) {
  ScratchDir dir;
  Trainer t;
  GatedEnv env;
  SaverOptions so;
  so.env = &env;
  const std::string prefix = dir.Join("model.ckpt");
  std::atomic<bool> opened{false};
  auto open_later = [&] {
    return std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      opened = true;
      env.OpenGate();
    });
  };
  {
    auto saver = Saver::Create(&t.graph, so);
    ASSERT_TRUE(saver.ok());
    t.Train(1);
    env.CloseGate();
    ASSERT_TRUE((*saver)->SaveAsync(t.session.get(), prefix, 1).ok());
    env.AwaitHeld();
    std::thread opener = open_later();
    saver->reset();  // waits for step 1
    EXPECT_TRUE(opened);
    opener.join();
  }
  EXPECT_EQ(LatestCheckpoint(dir.path()).value_or(""), prefix + "-1");
  EXPECT_TRUE(testing::FileExists(MetaFilename(prefix + "-1")));
  ExpectHoldsStep(prefix + "-1", 1);

  auto saver = Saver::Create(&t.graph, so);
  ASSERT_TRUE(saver.ok());
  t.Train(1);
  opened = false;
  env.CloseGate();
  ASSERT_TRUE((*saver)->SaveAsync(t.session.get(), prefix, 2).ok());
  env.AwaitHeld();
  std::thread opener = open_later();
  // Restore through the saver that is saving: it waits for the save.
  ASSERT_TRUE((*saver)->Restore(t.session.get(), prefix + "-2").ok());
  EXPECT_TRUE(opened);
  opener.join();
  EXPECT_EQ((*saver)->last_checkpoints().back(), prefix + "-2");
  EXPECT_TRUE(t.session->VariableValue("weights")->Identical(Expected("weights", 2)));
}

TEST(AsyncSaverTest, ArgumentErrorsAreReportedAtOnce) {
  ScratchDir dir;
  Trainer t;
  auto saver = Saver::Create(&t.graph);
  ASSERT_TRUE(saver.ok());
  Trainer other;
  EXPECT_TRUE(absl::IsInvalidArgument(
      (*saver)->SaveAsync(other.session.get(), dir.Join("m")).status()));
  SaveOptions clash;
  clash.latest_filename = "m";
  EXPECT_TRUE(absl::IsInvalidArgument(
      (*saver)->SaveAsync(t.session.get(), dir.Join("m"), std::nullopt, clash).status()));
  EXPECT_TRUE((*saver)->Wait().ok());
  EXPECT_TRUE(Env::Default()->GetChildren(dir.path())->empty());

  // A SaverDef whose save tensor runs no SaveV2: nothing to take apart.
  tensorflow::SaverDef def = (*saver)->saver_def();
  def.set_save_tensor_name(def.filename_tensor_name());
  auto odd = Saver::FromSaverDef(&t.graph, def);
  ASSERT_TRUE(odd.ok()) << odd.status();
  auto r = (*odd)->SaveAsync(t.session.get(), dir.Join("m"));
  EXPECT_TRUE(absl::IsUnimplemented(r.status())) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "runs no SaveV2")) << r.status();
  EXPECT_TRUE(Env::Default()->GetChildren(dir.path())->empty());
}

// A graph TensorFlow wrote, imported: SaveAsync drives its own save op.
// The values restored from TensorFlow's checkpoint are saved again, and the
// bundle equals the one a synchronous Save writes.
TEST(AsyncSaverTest, AnImportedTensorFlowGraphSavesAsynchronously) {
  CKPT_REQUIRE_CORPUS(corpus);
  const std::string tf_prefix = corpus + "/udacity_save_restore/model.ckpt";
  auto mg = ImportMetaGraph(MetaFilename(tf_prefix));
  ASSERT_TRUE(mg.ok()) << mg.status();
  ASSERT_NE(mg->saver, nullptr);
  Session session(mg->graph.get());
  ASSERT_TRUE(mg->saver->Restore(&session, tf_prefix).ok());
  ScratchDir dir;
  auto sync = mg->saver->Save(&session, dir.Join("sync/model.ckpt"));
  ASSERT_TRUE(sync.ok()) << sync.status();
  auto async = mg->saver->SaveAsync(&session, dir.Join("async/model.ckpt"));
  ASSERT_TRUE(async.ok()) << async.status();
  ASSERT_TRUE(mg->saver->Wait().ok());
  for (const char* f : {"model.ckpt.index", "model.ckpt.data-00000-of-00001", "model.ckpt.meta"}) {
    EXPECT_EQ(Bytes(dir.Join(absl::StrCat("async/", f))), Bytes(dir.Join(absl::StrCat("sync/", f))))
        << f;
  }
  auto reader = BundleReader::Open(*async);
  auto original = BundleReader::Open(tf_prefix);
  ASSERT_TRUE(reader.ok() && original.ok());
  for (const char* name : {"weights_0", "bias_0"}) {
    EXPECT_TRUE((*reader)->Read(name)->Identical(*(*original)->Read(name))) << name;
  }
  EXPECT_EQ(Bytes(IndexFilename(*async)), Bytes(IndexFilename(tf_prefix)));
  EXPECT_EQ(Bytes(DataFilename(*async, 0, 1)), Bytes(DataFilename(tf_prefix, 0, 1)));
}

}  // namespace
}  // namespace ckpt
