// AsyncCheckpointManager: what is written is the snapshot taken when Save
// returned; saves run one after another; failures in the background surface
// on the next call; a save in flight is never abandoned.
#include "ckpt/async_checkpoint_manager.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/checkpoint_manager.h"
#include "ckpt/checkpoint_state.h"
#include "ckpt/naming.h"
#include "gtest/gtest.h"
#include "util/fault_injection_env.h"
#include "util/gated_env.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using testing::FaultInjectionEnv;
using testing::GatedEnv;
using testing::OpKind;
using testing::ScratchDir;

// Step s is saved as w = {s, s+1, ...} (64 floats) and global_step = s.
std::vector<std::pair<std::string, Tensor>> Vars(int64_t step, int64_t n = 64) {
  Tensor w(DT_FLOAT, TensorShape({n}));
  absl::Span<float> v = w.mutable_flat<float>();
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(step + i);
  Tensor s(DT_INT64, TensorShape({}));
  s.mutable_flat<int64_t>()[0] = step;
  return {{"w", w}, {"global_step", s}};
}

void Overwrite(std::vector<std::pair<std::string, Tensor>>* vars) {
  for (auto& [name, t] : *vars) std::memset(t.mutable_raw_data(), 0xAB, t.TotalBytes());
}

// Checks that checkpoint `prefix` reads back whole with the values Vars(step)
// gives, independently recomputed.
void ExpectHoldsStep(const std::string& prefix, int64_t step, int64_t n = 64) {
  SCOPED_TRACE(prefix);
  auto reader = BundleReader::Open(prefix);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto s = (*reader)->Read("global_step");
  auto w = (*reader)->Read("w");
  ASSERT_TRUE(s.ok() && w.ok());
  EXPECT_EQ(s->flat<int64_t>()[0], step);
  ASSERT_EQ(w->NumElements(), n);
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(w->flat<float>()[i], static_cast<float>(step + i)) << "element " << i;
  }
}

AsyncCheckpointManagerOptions Options(Env* env = nullptr, int max_to_keep = 5) {
  AsyncCheckpointManagerOptions o;
  o.env = env;
  o.max_to_keep = max_to_keep;
  o.writer.sync = false;  // nothing here survives a power cut; fsync only slows the suite
  return o;
}

TEST(AsyncCheckpointManagerTest, CopyModeWritesTheValuesOfTheMomentSaveReturned) {
  ScratchDir dir;
  GatedEnv env;
  auto m = AsyncCheckpointManager::Create(dir.path(), Options(&env));
  ASSERT_TRUE(m.ok()) << m.status();
  auto vars = Vars(7);
  // Held before its first file: nothing has been written when the caller
  // scribbles over its tensors.
  env.CloseGate();
  ASSERT_TRUE((*m)->Save(7, vars).ok());
  env.AwaitHeld();
  Overwrite(&vars);
  EXPECT_TRUE(vars[0].second.RefCountIsOne());  // the manager holds a copy, not this buffer
  env.OpenGate();
  ASSERT_TRUE((*m)->Wait().ok());
  EXPECT_EQ(*(*m)->Latest(), dir.Join("ckpt-7"));
  ExpectHoldsStep(dir.Join("ckpt-7"), 7);
}

// Run with the snapshot buffers kept from save to save (refilled in place)
// and without.
class SnapshotBuffersTest : public ::testing::TestWithParam<bool> {};

TEST_P(SnapshotBuffersTest, EachSaveOfTheSameBuffersWritesTheirValuesOfThatMoment) {
  ScratchDir dir;
  AsyncCheckpointManagerOptions o = Options();
  o.keep_snapshot_buffers = GetParam();
  auto m = AsyncCheckpointManager::Create(dir.path(), o);
  ASSERT_TRUE(m.ok());
  auto vars = Vars(1);
  for (int64_t step = 1; step <= 3; ++step) {
    auto v = Vars(step);
    for (size_t i = 0; i < vars.size(); ++i) {
      std::memcpy(vars[i].second.mutable_raw_data(), v[i].second.raw_data(), v[i].second.TotalBytes());
    }
    ASSERT_TRUE((*m)->Save(step, vars).ok());
  }
  // A tensor changes shape, a string tensor appears and changes at once.
  auto wide = Vars(4, 100);
  Tensor names(DT_STRING, TensorShape({2}));
  (*names.mutable_strings())[0] = "alpha";
  (*names.mutable_strings())[1] = std::string("b\0c", 3);
  wide.emplace_back("names", names);
  ASSERT_TRUE((*m)->Save(4, wide).ok());
  (*names.mutable_strings())[0] = "changed after Save returned";
  ASSERT_TRUE((*m)->Wait().ok());
  for (int64_t step = 1; step <= 3; ++step) ExpectHoldsStep(dir.Join(absl::StrCat("ckpt-", step)), step);
  ExpectHoldsStep(dir.Join("ckpt-4"), 4, 100);
  auto reader = BundleReader::Open(dir.Join("ckpt-4"));
  ASSERT_TRUE(reader.ok());
  auto n = (*reader)->Read("names");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->strings(), (std::vector<std::string>{"alpha", std::string("b\0c", 3)}));
}

INSTANTIATE_TEST_SUITE_P(KeptOrNot, SnapshotBuffersTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "Kept" : "Fresh";
                         });

TEST(AsyncCheckpointManagerTest, ShareModeKeepsTheBuffersAliveUntilTheSaveCompletes) {
  ScratchDir dir;
  GatedEnv env;
  auto m = AsyncCheckpointManager::Create(dir.path(), Options(&env));
  ASSERT_TRUE(m.ok());
  auto vars = Vars(3);
  env.CloseGate();
  ASSERT_TRUE((*m)->Save(3, vars, SnapshotMode::kShare).ok());
  env.AwaitHeld();
  // The manager holds the caller's buffers: a copy-on-write trainer sees it.
  EXPECT_FALSE(vars[0].second.RefCountIsOne());
  EXPECT_FALSE(vars[1].second.RefCountIsOne());
  // Dropping the caller's handles does not free what is being saved.
  Tensor keep_w = vars[0].second;
  vars.clear();
  EXPECT_FALSE(keep_w.RefCountIsOne());
  env.OpenGate();
  ASSERT_TRUE((*m)->Wait().ok());
  // Once the save is complete the manager holds no reference.
  EXPECT_TRUE(keep_w.RefCountIsOne());
  ExpectHoldsStep(dir.Join("ckpt-3"), 3);
}

TEST(AsyncCheckpointManagerTest, ShareModeWritesTheCallersBuffersAsTheyAreThen) {
  // The other side of the share contract: no copy was made, so a write into
  // the buffer before the save completes does reach the file.
  ScratchDir dir;
  GatedEnv env;
  auto m = AsyncCheckpointManager::Create(dir.path(), Options(&env));
  ASSERT_TRUE(m.ok());
  auto vars = Vars(3);
  env.CloseGate();
  ASSERT_TRUE((*m)->Save(3, vars, SnapshotMode::kShare).ok());
  env.AwaitHeld();
  vars[0].second.mutable_flat<float>()[0] = -1.0f;
  env.OpenGate();
  ASSERT_TRUE((*m)->Wait().ok());
  auto reader = BundleReader::Open(dir.Join("ckpt-3"));
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->Read("w")->flat<float>()[0], -1.0f);
}

TEST(AsyncCheckpointManagerTest, ASaveWaitsForThePreviousOneAndLatestNamesOnlyCompletedOnes) {
  ScratchDir dir;
  GatedEnv env;
  auto m = AsyncCheckpointManager::Create(dir.path(), Options(&env));
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(absl::IsNotFound((*m)->Latest().status()));
  ASSERT_TRUE((*m)->Save(1, Vars(1)).ok());
  ASSERT_TRUE((*m)->Wait().ok());

  env.CloseGate();
  ASSERT_TRUE((*m)->Save(2, Vars(2)).ok());
  env.AwaitHeld();
  // Step 2 is in flight: Latest still names step 1, as does the state file.
  EXPECT_EQ(*(*m)->Latest(), dir.Join("ckpt-1"));
  EXPECT_EQ((*m)->Checkpoints(), std::vector<std::string>{dir.Join("ckpt-1")});
  EXPECT_EQ(*LatestCheckpoint(dir.path()), dir.Join("ckpt-1"));

  std::atomic<bool> third_returned{false};
  std::thread producer([&] {
    EXPECT_TRUE((*m)->Save(3, Vars(3)).ok());
    third_returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(third_returned) << "Save(3) did not wait for save 2";
  env.OpenGate();
  producer.join();
  EXPECT_TRUE(third_returned);
  ASSERT_TRUE((*m)->Wait().ok());
  EXPECT_EQ(*(*m)->Latest(), dir.Join("ckpt-3"));
  EXPECT_EQ((*m)->Checkpoints(), (std::vector<std::string>{dir.Join("ckpt-1"), dir.Join("ckpt-2"),
                                                           dir.Join("ckpt-3")}));
  for (int64_t s = 1; s <= 3; ++s) ExpectHoldsStep(dir.Join(absl::StrCat("ckpt-", s)), s);
}

TEST(AsyncCheckpointManagerTest, RetentionStillApplies) {
  ScratchDir dir;
  auto m = AsyncCheckpointManager::Create(dir.path(), Options(nullptr, /*max_to_keep=*/2));
  ASSERT_TRUE(m.ok());
  for (int64_t s = 10; s <= 50; s += 10) ASSERT_TRUE((*m)->Save(s, Vars(s)).ok());
  ASSERT_TRUE((*m)->Wait().ok());
  EXPECT_EQ((*m)->Checkpoints(), (std::vector<std::string>{dir.Join("ckpt-40"), dir.Join("ckpt-50")}));
  for (int64_t s : {10, 20, 30}) {
    EXPECT_FALSE(testing::FileExists(IndexFilename(dir.Join(absl::StrCat("ckpt-", s)))));
    EXPECT_FALSE(testing::FileExists(DataFilename(dir.Join(absl::StrCat("ckpt-", s)), 0, 1)));
  }
  auto st = ReadCheckpointState(Env::Default(), dir.path());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->model_checkpoint_path(), "ckpt-50");
  EXPECT_EQ(st->all_model_checkpoint_paths_size(), 2);
  ExpectHoldsStep(dir.Join("ckpt-40"), 40);
  ExpectHoldsStep(dir.Join("ckpt-50"), 50);
  // A new manager (synchronous or not) takes over where this one stopped.
  m->reset();
  auto again = AsyncCheckpointManager::Create(dir.path(), Options(nullptr, 2));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*(*again)->Latest(), dir.Join("ckpt-50"));
}

TEST(AsyncCheckpointManagerTest, FilesAreByteIdenticalToASynchronousSave) {
  ScratchDir dir;
  auto vars = Vars(5, 1000);
  Tensor names(DT_STRING, TensorShape({3}));
  *names.mutable_strings() = {"a", "", "ccc"};
  vars.emplace_back("names", names);
  CheckpointManagerOptions so;
  auto sync = CheckpointManager::Create(dir.Join("sync"), so);
  ASSERT_TRUE(sync.ok());
  ASSERT_TRUE((*sync)->Save(5, vars).ok());
  for (SnapshotMode mode : {SnapshotMode::kCopy, SnapshotMode::kShare}) {
    const std::string sub = mode == SnapshotMode::kCopy ? "copy" : "share";
    AsyncCheckpointManagerOptions ao;  // fsync on, as the synchronous one
    auto m = AsyncCheckpointManager::Create(dir.Join(sub), ao);
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE((*m)->Save(5, vars, mode).ok());
    ASSERT_TRUE((*m)->Wait().ok());
    for (const std::string& f : {std::string("ckpt-5.index"), std::string("ckpt-5.data-00000-of-00001")}) {
      EXPECT_EQ(testing::ReadFile(dir.Join(sub + "/" + f)), testing::ReadFile(dir.Join("sync/" + f)))
          << sub << " " << f;
    }
  }
}

TEST(AsyncCheckpointManagerTest, ABackgroundFailureSurfacesOnTheNextSaveOnce) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  auto m = AsyncCheckpointManager::Create(dir.path(), Options(&env));
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE((*m)->Save(1, Vars(1)).ok());
  ASSERT_TRUE((*m)->Wait().ok());

  // The next data file write fails: Save(2) itself has nothing to report.
  env.SetFailure(OpKind::kAppend, env.op_count(OpKind::kAppend),
                 absl::ResourceExhaustedError("injected ENOSPC"));
  ASSERT_TRUE((*m)->Save(2, Vars(2)).ok());
  absl::Status s = (*m)->Save(3, Vars(3));
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "step 2 failed")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "injected ENOSPC")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "step 3 was not saved")) << s;
  // Nothing was queued for step 3, and the failure is not reported twice.
  EXPECT_TRUE((*m)->Wait().ok());
  EXPECT_FALSE(testing::FileExists(IndexFilename(dir.Join("ckpt-3"))));
  // The previous checkpoint is whole and still the latest; the failed one
  // left no file behind.
  EXPECT_EQ(*(*m)->Latest(), dir.Join("ckpt-1"));
  EXPECT_EQ(*LatestCheckpoint(dir.path()), dir.Join("ckpt-1"));
  ExpectHoldsStep(dir.Join("ckpt-1"), 1);
  auto children = Env::Default()->GetChildren(dir.path());
  ASSERT_TRUE(children.ok());
  for (const std::string& c : *children) EXPECT_FALSE(absl::StartsWith(c, "ckpt-2")) << c;

  // Saving again works.
  ASSERT_TRUE((*m)->Save(3, Vars(3)).ok());
  ASSERT_TRUE((*m)->Wait().ok());
  EXPECT_EQ(*(*m)->Latest(), dir.Join("ckpt-3"));
  ExpectHoldsStep(dir.Join("ckpt-3"), 3);
}

// Fails the rename that would put a new `checkpoint` file in place.
class FailStateRenameEnv final : public FaultInjectionEnv {
 public:
  FailStateRenameEnv() : FaultInjectionEnv(Env::Default()) {}
  absl::Status RenameFile(const std::string& from, const std::string& to) override {
    if (fail_state_rename && absl::EndsWith(to, "/checkpoint")) {
      return absl::UnavailableError(absl::StrCat("injected failure renaming ", from, " to ", to));
    }
    return FaultInjectionEnv::RenameFile(from, to);
  }
  std::atomic<bool> fail_state_rename{false};
};

TEST(AsyncCheckpointManagerTest, ABackgroundFailureSurfacesOnWait) {
  ScratchDir dir;
  FailStateRenameEnv env;
  auto m = AsyncCheckpointManager::Create(dir.path(), Options(&env));
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE((*m)->Save(1, Vars(1)).ok());
  ASSERT_TRUE((*m)->Wait().ok());
  // The rename of the new state file fails: the bundle of step 2 was
  // complete, but the state file never named it, so it is dropped.
  env.fail_state_rename = true;
  ASSERT_TRUE((*m)->Save(2, Vars(2)).ok());
  absl::Status s = (*m)->Wait();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "step 2 failed")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), dir.path())) << s;
  EXPECT_TRUE((*m)->Wait().ok());  // reported once
  EXPECT_EQ(*(*m)->Latest(), dir.Join("ckpt-1"));
  EXPECT_EQ((*m)->Checkpoints(), std::vector<std::string>{dir.Join("ckpt-1")});
  EXPECT_EQ(*LatestCheckpoint(dir.path()), dir.Join("ckpt-1"));
  ExpectHoldsStep(dir.Join("ckpt-1"), 1);
  EXPECT_FALSE(testing::FileExists(IndexFilename(dir.Join("ckpt-2"))));
  // And the next Save proceeds.
  env.fail_state_rename = false;
  ASSERT_TRUE((*m)->Save(4, Vars(4)).ok());
  ASSERT_TRUE((*m)->Wait().ok());
  ExpectHoldsStep(dir.Join("ckpt-4"), 4);
}

TEST(AsyncCheckpointManagerTest, TheDestructorFinishesTheSaveInFlight) {
  ScratchDir dir;
  GatedEnv env;
  std::atomic<bool> opened{false};
  std::thread opener;
  {
    auto m = AsyncCheckpointManager::Create(dir.path(), Options(&env));
    ASSERT_TRUE(m.ok());
    env.CloseGate();
    ASSERT_TRUE((*m)->Save(9, Vars(9)).ok());
    env.AwaitHeld();
    opener = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      opened = true;
      env.OpenGate();
    });
  }  // blocks until step 9 is written
  EXPECT_TRUE(opened);
  opener.join();
  EXPECT_EQ(*LatestCheckpoint(dir.path()), dir.Join("ckpt-9"));
  ExpectHoldsStep(dir.Join("ckpt-9"), 9);
}

TEST(AsyncCheckpointManagerTest, CallerMistakesAreReportedAtOnceAndQueueNothing) {
  ScratchDir dir;
  auto m = AsyncCheckpointManager::Create(dir.path(), Options());
  ASSERT_TRUE(m.ok());
  auto dup = Vars(1);
  dup.push_back(dup[0]);
  auto empty_name = Vars(1);
  empty_name[1].first = "";
  auto invalid = Vars(1);
  invalid.emplace_back("bad", Tensor());
  for (const auto& [vars, what] :
       {std::make_pair(dup, "tensor 'w' is given twice"),
        std::make_pair(empty_name, "a tensor has an empty name"),
        std::make_pair(invalid, "tensor 'bad' is invalid")}) {
    for (SnapshotMode mode : {SnapshotMode::kCopy, SnapshotMode::kShare}) {
      absl::Status s = (*m)->Save(1, vars, mode);
      EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
      EXPECT_TRUE(absl::StrContains(s.message(), what)) << s;
    }
  }
  EXPECT_TRUE((*m)->Wait().ok());
  EXPECT_FALSE(testing::FileExists(dir.Join("checkpoint")));
  EXPECT_FALSE(testing::FileExists(IndexFilename(dir.Join("ckpt-1"))));

  AsyncCheckpointManagerOptions bad = Options();
  bad.max_to_keep = -1;
  EXPECT_TRUE(absl::IsInvalidArgument(AsyncCheckpointManager::Create(dir.path(), bad).status()));
}

}  // namespace
}  // namespace ckpt
