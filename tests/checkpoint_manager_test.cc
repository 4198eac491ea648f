// CheckpointManager: retention, recovery after restart, and what survives a
// failure or a crash at every step of a save with retention.
#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/checkpoint_manager.h"
#include "ckpt/checkpoint_state.h"
#include "ckpt/naming.h"
#include "gtest/gtest.h"
#include "util/fault_injection_env.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using testing::FaultInjectionEnv;
using testing::OpKind;
using testing::ScratchDir;

// Time is ours to move in these tests.
class ClockEnv final : public FaultInjectionEnv {
 public:
  ClockEnv() : FaultInjectionEnv(Env::Default()) {}
  double NowSeconds() override { return now; }
  double now = 1e9;
};

std::vector<std::pair<std::string, Tensor>> Vars(int64_t step) {
  Tensor w(DT_FLOAT, TensorShape({64}));
  for (float& v : w.mutable_flat<float>()) v = static_cast<float>(step);
  Tensor s(DT_INT64, TensorShape({}));
  s.mutable_flat<int64_t>()[0] = step;
  return {{"w", w}, {"global_step", s}};
}

std::string BaseName(const std::string& p) { return p.substr(p.rfind('/') + 1); }

// The step stored in the checkpoint the state file names; -1 when there is
// none. Fails the test if the named checkpoint does not read back whole.
int64_t LatestStep(const std::string& dir) {
  absl::StatusOr<std::string> latest = LatestCheckpoint(dir);
  if (!latest.ok()) {
    EXPECT_TRUE(absl::IsNotFound(latest.status())) << latest.status();
    return -1;
  }
  auto reader = BundleReader::Open(*latest);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return -2;
  auto step = (*reader)->Read("global_step");
  auto w = (*reader)->Read("w");
  EXPECT_TRUE(step.ok() && w.ok()) << *latest;
  if (!step.ok() || !w.ok()) return -2;
  const int64_t s = step->flat<int64_t>()[0];
  for (float v : w->flat<float>()) EXPECT_EQ(v, static_cast<float>(s)) << "mixed checkpoint " << *latest;
  EXPECT_EQ(BaseName(*latest), absl::StrCat("ckpt-", s));
  return s;
}

TEST(CheckpointManagerTest, KeepsTheNewestAndDeletesTheRest) {
  ScratchDir dir;
  CheckpointManagerOptions opts;
  opts.max_to_keep = 3;
  auto m = CheckpointManager::Create(dir.Join("run"), opts);
  ASSERT_TRUE(m.ok()) << m.status();
  for (int64_t step = 1; step <= 6; ++step) {
    auto p = (*m)->Save(step * 10, Vars(step * 10));
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(*p, dir.Join(absl::StrCat("run/ckpt-", step * 10)));
  }
  EXPECT_EQ((*m)->Checkpoints(), (std::vector<std::string>{dir.Join("run/ckpt-40"), dir.Join("run/ckpt-50"),
                                                           dir.Join("run/ckpt-60")}));
  EXPECT_EQ(LatestStep(dir.Join("run")), 60);
  for (int64_t step : {10, 20, 30}) {
    EXPECT_FALSE(testing::FileExists(IndexFilename(dir.Join(absl::StrCat("run/ckpt-", step)))));
    EXPECT_FALSE(testing::FileExists(DataFilename(dir.Join(absl::StrCat("run/ckpt-", step)), 0, 1)));
  }
  auto st = ReadCheckpointState(Env::Default(), dir.Join("run"));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->model_checkpoint_path(), "ckpt-60");
  EXPECT_EQ(st->all_model_checkpoint_paths_size(), 3);
  EXPECT_EQ(st->all_model_checkpoint_timestamps_size(), 3);
  auto children = Env::Default()->GetChildren(dir.Join("run"));
  ASSERT_TRUE(children.ok());
  EXPECT_EQ(children->size(), 7u);  // 3 x (index + data) + checkpoint
}

TEST(CheckpointManagerTest, ARestartedManagerGoesOnWhereTheLastStopped) {
  ScratchDir dir;
  CheckpointManagerOptions opts;
  opts.max_to_keep = 2;
  {
    auto m = CheckpointManager::Create(dir.path(), opts);
    ASSERT_TRUE(m.ok());
    for (int64_t s : {1, 2, 3}) ASSERT_TRUE((*m)->Save(s, Vars(s)).ok());
  }
  auto m = CheckpointManager::Create(dir.path(), opts);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*(*m)->Latest(), dir.Join("ckpt-3"));
  EXPECT_EQ((*m)->Checkpoints().size(), 2u);
  ASSERT_TRUE((*m)->Save(4, Vars(4)).ok());
  EXPECT_FALSE(testing::FileExists(IndexFilename(dir.Join("ckpt-2"))));
  EXPECT_EQ(LatestStep(dir.path()), 4);
}

TEST(CheckpointManagerTest, KeepsOneEveryNHoursForGood) {
  ScratchDir dir;
  ClockEnv clock;
  CheckpointManagerOptions opts;
  opts.env = &clock;
  opts.max_to_keep = 1;
  opts.keep_checkpoint_every_n_hours = 1;
  auto m = CheckpointManager::Create(dir.path(), opts);
  ASSERT_TRUE(m.ok());
  // Saves every 20 minutes for 3 hours: about one an hour is preserved.
  for (int64_t s = 0; s < 10; ++s) {
    clock.now += 1200;
    ASSERT_TRUE((*m)->Save(s, Vars(s)).ok());
  }
  int preserved = 0;
  for (int64_t s = 0; s < 9; ++s) preserved += testing::FileExists(IndexFilename(dir.Join(absl::StrCat("ckpt-", s))));
  EXPECT_EQ(preserved, 3);
  EXPECT_EQ((*m)->Checkpoints().size(), 1u);
  EXPECT_EQ(LatestStep(dir.path()), 9);
}

TEST(CheckpointManagerTest, SavingTheSameStepAgainReplacesIt) {
  ScratchDir dir;
  auto m = CheckpointManager::Create(dir.path());
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE((*m)->Save(5, Vars(5)).ok());
  ASSERT_TRUE((*m)->Save(7, Vars(7)).ok());
  ASSERT_TRUE((*m)->Save(5, Vars(5)).ok());
  EXPECT_EQ((*m)->Checkpoints(), (std::vector<std::string>{dir.Join("ckpt-7"), dir.Join("ckpt-5")}));
  EXPECT_EQ(LatestStep(dir.path()), 5);
}

TEST(CheckpointManagerTest, RemovesTempFilesOfACrashedSave) {
  ScratchDir dir;
  testing::WriteFile(dir.Join("ckpt-3.data-00000-of-00001.tempstate123"), "partial");
  testing::WriteFile(dir.Join("checkpoint.tmp99"), "partial");
  testing::WriteFile(dir.Join("notes.txt"), "the user's own file");
  auto m = CheckpointManager::Create(dir.path());
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE((*m)->Save(4, Vars(4)).ok());
  EXPECT_FALSE(testing::FileExists(dir.Join("ckpt-3.data-00000-of-00001.tempstate123")));
  EXPECT_FALSE(testing::FileExists(dir.Join("checkpoint.tmp99")));
  EXPECT_TRUE(testing::FileExists(dir.Join("notes.txt")));
}

TEST(CheckpointManagerTest, AHostileStateFileCannotMakeItDeleteElsewhere) {
  ScratchDir dir;
  const std::string victim = dir.Join("elsewhere/ckpt-1");
  {
    BundleWriter w(victim);
    ASSERT_TRUE(w.Add("x", Tensor(DT_FLOAT, TensorShape({1}))).ok());
    ASSERT_TRUE(w.Finish().ok());
  }
  tensorflow::CheckpointState st;
  st.set_model_checkpoint_path(victim);
  st.add_all_model_checkpoint_paths(victim);
  st.add_all_model_checkpoint_paths("../elsewhere/ckpt-1");
  st.add_all_model_checkpoint_timestamps(4e9);  // "newer" than anything
  st.add_all_model_checkpoint_timestamps(4e9);
  ASSERT_TRUE(Env::Default()->CreateDir(dir.Join("run")).ok());
  // An attacker writes the bytes directly (our writer would refuse this
  // inconsistent state).
  testing::WriteFile(dir.Join("run/checkpoint"), FormatCheckpointState(st));
  CheckpointManagerOptions opts;
  opts.max_to_keep = 1;
  auto m = CheckpointManager::Create(dir.Join("run"), opts);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE((*m)->Checkpoints().empty());
  for (int64_t s = 1; s <= 3; ++s) ASSERT_TRUE((*m)->Save(s, Vars(s)).ok());
  EXPECT_TRUE(testing::FileExists(IndexFilename(victim)));
  EXPECT_TRUE(testing::FileExists(DataFilename(victim, 0, 1)));
}

// Three checkpoints exist; the fourth save (which also retires the first)
// is hit by a failure or a crash at each of its steps in turn.
struct Scenario {
  ScratchDir dir;
  CheckpointManagerOptions opts;
  Scenario() {
    opts.max_to_keep = 3;
    auto m = CheckpointManager::Create(dir.path(), opts);
    EXPECT_TRUE(m.ok());
    for (int64_t s = 1; s <= 3; ++s) EXPECT_TRUE((*m)->Save(s, Vars(s)).ok());
  }
  absl::Status SaveFourth(Env* env) {
    CheckpointManagerOptions o = opts;
    o.env = env;
    auto m = CheckpointManager::Create(dir.path(), o);
    if (!m.ok()) return m.status();
    return (*m)->Save(4, Vars(4)).status();
  }
};

TEST(CheckpointManagerTest, EveryInjectedFailureLeavesTheLastGoodCheckpoint) {
  FaultInjectionEnv probe(Env::Default());
  {
    Scenario sc;
    ASSERT_TRUE(sc.SaveFourth(&probe).ok());
  }
  int faults = 0;
  const struct {
    OpKind kind;
    absl::Status error;
  } kinds[] = {
      {OpKind::kNewWritableFile, absl::PermissionDeniedError("injected EACCES")},
      {OpKind::kAppend, absl::ResourceExhaustedError("injected ENOSPC")},
      {OpKind::kSync, absl::DataLossError("injected EIO")},
      {OpKind::kClose, absl::DataLossError("injected EIO on close")},
      {OpKind::kRenameFile, absl::UnavailableError("injected rename failure")},
      {OpKind::kDeleteFile, absl::PermissionDeniedError("injected delete failure")},
      {OpKind::kSyncDir, absl::DataLossError("injected EIO on directory sync")},
  };
  for (const auto& k : kinds) {
    for (int64_t nth = 0; nth < probe.op_count(k.kind); ++nth) {
      SCOPED_TRACE(absl::StrCat(testing::OpKindName(k.kind), " #", nth));
      Scenario sc;
      FaultInjectionEnv env(Env::Default());
      env.SetFailure(k.kind, nth, k.error);
      absl::Status s = sc.SaveFourth(&env);
      ++faults;
      if (!s.ok()) {
        EXPECT_EQ(s.code(), k.error.code()) << s;
        // The message says which file.
        EXPECT_NE(s.message().find(sc.dir.path()), std::string::npos) << s;
      }
      // Whatever happened, the state file names a complete checkpoint: the
      // new one, or the last good one.
      const int64_t latest = LatestStep(sc.dir.path());
      EXPECT_TRUE(latest == 3 || latest == 4) << latest << " after " << s;
      // A failure after the new checkpoint was named says so.
      if (!s.ok() && latest == 4) {
        EXPECT_NE(s.message().find("saved "), std::string::npos) << s;
      }
    }
  }
  std::cout << faults << " injected failures, each left a complete latest checkpoint\n";
}

TEST(CheckpointManagerTest, ACrashAtEveryStepLeavesTheLastGoodCheckpoint) {
  FaultInjectionEnv probe(Env::Default());
  {
    Scenario sc;
    ASSERT_TRUE(sc.SaveFourth(&probe).ok());
  }
  for (int64_t n = 0; n < probe.steps(); ++n) {
    SCOPED_TRACE(absl::StrCat("crash at step ", n, ": ", probe.StepLog()[n]));
    Scenario sc;
    FaultInjectionEnv env(Env::Default());
    env.SetCrashAtStep(n);
    sc.SaveFourth(&env).IgnoreError();
    ASSERT_TRUE(env.SimulateCrashDataLoss().ok());
    const int64_t latest = LatestStep(sc.dir.path());
    EXPECT_TRUE(latest == 3 || latest == 4) << latest;
    // Checkpoint 2 is never lost before 4 is named.
    if (latest == 3) {
      EXPECT_TRUE(testing::FileExists(IndexFilename(sc.dir.Join("ckpt-2"))));
    }
    // And the next save, by a new process, cleans up and succeeds.
    auto m = CheckpointManager::Create(sc.dir.path(), sc.opts);
    ASSERT_TRUE(m.ok()) << m.status();
    ASSERT_TRUE((*m)->Save(5, Vars(5)).ok());
    EXPECT_EQ(LatestStep(sc.dir.path()), 5);
    auto children = Env::Default()->GetChildren(sc.dir.path());
    for (const std::string& c : *children) EXPECT_EQ(c.find("tempstate"), std::string::npos) << c;
  }
  std::cout << probe.steps() << " crash points in a save with retention survived\n";
}

}  // namespace
}  // namespace ckpt
