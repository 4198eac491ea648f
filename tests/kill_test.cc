// A trainer saving through CheckpointManager at every step is SIGKILLed at
// random moments and restarted in the same directory, as a preempted job is.
// After every kill the checkpoint the directory names must read back whole
// (every value from one step) and pass `ckpt_dump --verify`, and the
// restarted trainer must go on from the step after it.
//
// The trainer is this binary forked (no exec): the test is single-threaded.
// The random delays come from a fixed seed, and every assertion holds however
// the kills fall; timing only changes the statistics printed at the end.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/checkpoint_manager.h"
#include "ckpt/checkpoint_state.h"
#include "ckpt/naming.h"
#include "gtest/gtest.h"
#include "util/child_process.h"
#include "util/step_checkpoint.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using testing::ChildProcess;
using testing::ChildReport;

constexpr size_t kBytes = 3 << 20;  // per checkpoint
constexpr int kMaxToKeep = 3;
constexpr int kKills = 50;
constexpr uint32_t kSeed = 20240611;
constexpr int kMinDelayMs = 5;
constexpr int kMaxDelayMs = 150;
// Only a broken trainer (or a stalled machine) waits this long for a save.
constexpr double kSaveTimeoutSeconds = 30;

enum ReportKind : int64_t { kResumed = 1, kSaved = 2 };

// The trainer: restores the latest checkpoint, as a restarted job does, then
// saves one per step for ever. Reports the first step it will save, then
// every step saved. Returns (ending the child) only on an error.
int Trainer(const std::string& dir, int report_fd) {
  CheckpointManagerOptions opts;
  opts.max_to_keep = kMaxToKeep;
  absl::StatusOr<std::unique_ptr<CheckpointManager>> manager = CheckpointManager::Create(dir, opts);
  if (!manager.ok()) {
    std::fprintf(stderr, "trainer: %s\n", manager.status().ToString().c_str());
    return 2;
  }
  int64_t step = 0;
  absl::StatusOr<std::string> latest = (*manager)->Latest();
  if (latest.ok()) {
    absl::StatusOr<std::unique_ptr<BundleReader>> reader = BundleReader::Open(*latest);
    absl::StatusOr<int64_t> restored =
        reader.ok() ? testing::ReadStepCheckpoint(**reader, kBytes) : reader.status();
    if (!restored.ok()) {
      std::fprintf(stderr, "trainer: restoring: %s\n", restored.status().ToString().c_str());
      return 3;
    }
    step = *restored + 1;
  } else if (!absl::IsNotFound(latest.status())) {
    std::fprintf(stderr, "trainer: %s\n", latest.status().ToString().c_str());
    return 2;
  }
  testing::SendReport(report_fd, {kResumed, step});
  for (;; ++step) {
    absl::StatusOr<std::string> saved = (*manager)->Save(step, testing::StepTensors(step, kBytes));
    if (!saved.ok()) {
      std::fprintf(stderr, "trainer: saving step %lld: %s\n", static_cast<long long>(step),
                   saved.status().ToString().c_str());
      return 4;
    }
    testing::SendReport(report_fd, {kSaved, step});
  }
}

// What one run of the trainer said before it was killed.
struct TrainerRun {
  int64_t resumed = -1;     // first step it would save; -1: killed before saying
  int64_t last_saved = -1;  // last step it saved; -1: none
  int saves = 0;
  void Add(const ChildReport& r) {
    if (r.kind == kResumed) resumed = r.value;
    if (r.kind == kSaved) {
      last_saved = r.value;
      ++saves;
    }
  }
};

// What a kill interrupted, judged from the files it left behind.
enum class Interrupted {
  kWritingFiles,      // temporary files of the bundle or the state file
  kBeforeNaming,      // the next bundle is in place, the state file does not name it yet
  kRetention,         // the state file moved on, an old checkpoint's files are not all gone
  kNoSaveInProgress,  // between saves (or before a save wrote anything)
};

struct DirScan {
  bool temp_files = false;
  std::set<int64_t> steps_on_disk;  // any file "ckpt-<step>.*"
};

DirScan ScanDir(const std::string& dir) {
  DirScan scan;
  absl::StatusOr<std::vector<std::string>> children = Env::Default()->GetChildren(dir);
  EXPECT_TRUE(children.ok()) << children.status();
  if (!children.ok()) return scan;
  for (const std::string& c : *children) {
    if (absl::StrContains(c, ".tempstate") || absl::StartsWith(c, "checkpoint.tmp")) {
      scan.temp_files = true;
      continue;
    }
    if (!absl::StartsWith(c, "ckpt-")) continue;
    const size_t dot = c.find('.');
    int64_t step;
    if (dot != std::string::npos && absl::SimpleAtoi(c.substr(5, dot - 5), &step)) {
      scan.steps_on_disk.insert(step);
    }
  }
  return scan;
}

class KillTest : public ::testing::Test {
 protected:
  // Starts the trainer in dir_.
  std::unique_ptr<ChildProcess> StartTrainer() {
    return ChildProcess::Start([this](int fd) { return Trainer(dir_, fd); });
  }

  // Kills the trainer, checks what it left and returns the latest step (-1
  // after a failure). `run` holds the reports read while it ran.
  int64_t KillAndCheck(ChildProcess* child, TrainerRun run, Interrupted* what) {
    const int status = child->Kill();
    for (const ChildReport& r : child->DrainReports()) run.Add(r);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the trainer ended on its own (wait status " << status << "; its stderr says why)";
    if (::testing::Test::HasFailure()) return -1;
    const DirScan scan = ScanDir(dir_);

    // The checkpoint the directory names reads back whole.
    absl::StatusOr<std::string> latest = LatestCheckpoint(dir_);
    EXPECT_TRUE(latest.ok()) << latest.status();
    if (!latest.ok()) return -1;
    absl::StatusOr<std::unique_ptr<BundleReader>> reader = BundleReader::Open(*latest);
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return -1;
    absl::StatusOr<int64_t> step = testing::ReadStepCheckpoint(**reader, kBytes);
    EXPECT_TRUE(step.ok()) << step.status();
    if (!step.ok()) return -1;

    std::string out;
    const int code = testing::RunCommand(
        absl::StrCat(testing::ToolPath("ckpt_dump"), " --verify '", dir_, "'"), &out);
    EXPECT_EQ(code, 0) << "ckpt_dump --verify " << dir_ << ":\n" << out;

    // Progress: the restarted trainer went on from the step after the
    // latest, and the latest is the last step it saved, or the one after
    // when the kill came between the save and its report.
    EXPECT_GE(*step, latest_);
    if (run.resumed < 0) {
      EXPECT_EQ(*step, latest_) << "the trainer was killed before saving anything";
    } else {
      EXPECT_EQ(run.resumed, latest_ + 1) << "the trainer did not resume after the latest step";
    }
    const int64_t base = std::max(latest_, run.last_saved);
    EXPECT_TRUE(*step == base || *step == base + 1)
        << "latest step " << *step << ", last step reported saved " << run.last_saved
        << ", latest before this run " << latest_;

    // Files of steps below the latest that the state file does not list were
    // left by a kill in retention (the manager does not collect them later).
    absl::StatusOr<tensorflow::CheckpointState> state = ReadCheckpointState(Env::Default(), dir_);
    EXPECT_TRUE(state.ok()) << state.status();
    if (!state.ok()) return -1;
    std::set<int64_t> orphans;
    for (int64_t s : scan.steps_on_disk) {
      if (s >= *step) continue;
      const std::string name = absl::StrCat("ckpt-", s);
      bool listed = false;
      for (const std::string& p : state->all_model_checkpoint_paths()) listed = listed || p == name;
      if (!listed) orphans.insert(s);
    }
    bool new_orphan = false;
    for (int64_t s : orphans) new_orphan = new_orphan || orphans_.count(s) == 0;
    orphans_ = orphans;

    if (scan.temp_files) {
      *what = Interrupted::kWritingFiles;
    } else if (testing::FileExists(IndexFilename(absl::StrCat(dir_, "/ckpt-", *step + 1)))) {
      *what = Interrupted::kBeforeNaming;
    } else if (new_orphan) {
      *what = Interrupted::kRetention;
    } else {
      *what = Interrupted::kNoSaveInProgress;
    }
    latest_ = *step;
    return ::testing::Test::HasFailure() ? -1 : *step;
  }

  // Runs the trainer until it has saved `saves` checkpoints, then kills it.
  int64_t RunUntilSaved(int saves) {
    std::unique_ptr<ChildProcess> child = StartTrainer();
    EXPECT_NE(child, nullptr);
    if (child == nullptr) return -1;
    TrainerRun run;
    ChildReport r;
    while (run.saves < saves) {
      EXPECT_TRUE(child->NextReport(kSaveTimeoutSeconds, &r))
          << "no save reported in " << kSaveTimeoutSeconds << " s";
      if (::testing::Test::HasFailure()) return -1;
      run.Add(r);
    }
    Interrupted what;
    return KillAndCheck(child.get(), run, &what);
  }

  testing::ScratchDir scratch_;
  const std::string dir_ = scratch_.Join("run");
  int64_t latest_ = -1;
  std::set<int64_t> orphans_;
};

TEST_F(KillTest, KilledAtRandomMomentsTheTrainerAlwaysLeavesAWholeLatestCheckpoint) {
  const auto start = std::chrono::steady_clock::now();
  // A first checkpoint, so that every kill has one to leave behind.
  ASSERT_GE(RunUntilSaved(1), 0);
  const int64_t first = latest_;

  std::mt19937 rng(kSeed);
  std::uniform_int_distribution<int> delay_ms(kMinDelayMs, kMaxDelayMs);
  int counts[4] = {0, 0, 0, 0};
  for (int kill = 0; kill < kKills; ++kill) {
    SCOPED_TRACE(absl::StrCat("kill ", kill + 1, " of ", kKills, ", latest step before it ", latest_));
    std::unique_ptr<ChildProcess> child = StartTrainer();
    ASSERT_NE(child, nullptr);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    Interrupted what;
    ASSERT_GE(KillAndCheck(child.get(), TrainerRun(), &what), 0);
    ++counts[static_cast<int>(what)];
  }
  const int64_t after_random_kills = latest_;

  // However the random kills fell, a trainer given the time saves again, and
  // its restart goes on from there.
  ASSERT_GE(RunUntilSaved(2), 0);
  EXPECT_GE(latest_, after_random_kills + 2);
  EXPECT_GT(latest_, first);

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int mid_save = counts[0] + counts[1] + counts[2];
  std::printf(
      "[ stats    ] %d kills at %d..%d ms after start: %d mid-save (%d writing files, %d with the "
      "bundle in place but not yet named, %d in retention), %d with no save in progress; "
      "steps %lld -> %lld after the random kills (%lld at the end); %zu orphaned old "
      "checkpoint(s) left; %.1f s\n",
      kKills, kMinDelayMs, kMaxDelayMs, mid_save, counts[0], counts[1], counts[2], counts[3],
      static_cast<long long>(first), static_cast<long long>(after_random_kills),
      static_cast<long long>(latest_), orphans_.size(), seconds);
  RecordProperty("kills_mid_save", mid_save);
  RecordProperty("kills_between_saves", counts[3]);
}

}  // namespace
}  // namespace ckpt
