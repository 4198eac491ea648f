// Readers of a directory that a trainer keeps saving into (with retention)
// never see a partial checkpoint: whatever LatestCheckpoint names either
// opens and reads whole, with every value from one step, or has been retired
// by the writer meanwhile, which the state file then shows.
//
// The writer runs for a fixed time, in a thread of this process or in a
// forked child process; every assertion holds however the threads are
// scheduled, and timing only changes the counts printed.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

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

constexpr size_t kBytes = 1 << 20;  // per checkpoint
constexpr int kMaxToKeep = 3;
constexpr double kWriteSeconds = 2.0;
constexpr int kReaders = 3;
// Only a stalled writer takes this much longer than kWriteSeconds.
constexpr double kWriterTimeoutSeconds = 60;

// Saves one checkpoint per step, from step 0, for `seconds`; the last step
// saved. fsync is off: it changes what survives power loss, not what other
// processes see, and without it retention turns checkpoints over faster,
// which is what races the readers.
absl::StatusOr<int64_t> WriteFor(const std::string& dir, double seconds) {
  CheckpointManagerOptions opts;
  opts.max_to_keep = kMaxToKeep;
  opts.writer.sync = false;
  absl::StatusOr<std::unique_ptr<CheckpointManager>> manager = CheckpointManager::Create(dir, opts);
  if (!manager.ok()) return manager.status();
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int64_t step = 0;
  for (;; ++step) {
    absl::StatusOr<std::string> saved = (*manager)->Save(step, testing::StepTensors(step, kBytes));
    if (!saved.ok()) return saved.status();
    if (std::chrono::steady_clock::now() >= end) return step;
  }
}

struct ReaderStats {
  int64_t consistent = 0;             // whole checkpoints of one step read
  int64_t none_yet = 0;               // before the first save
  int64_t retired_before_open = 0;    // deleted before or while Open ran
  int64_t last_step = -1;
  std::string failure;  // the first failure; the reader stops at it
};

// True unless the state file, read now, shows that `prefix` has left the
// checkpoints it lists.
bool StillListed(const std::string& dir, const std::string& prefix) {
  absl::StatusOr<tensorflow::CheckpointState> st = ReadCheckpointState(Env::Default(), dir);
  if (!st.ok()) return true;
  const std::string name = prefix.substr(prefix.rfind('/') + 1);
  for (const std::string& p : st->all_model_checkpoint_paths()) {
    if (p == name) return true;
  }
  return false;
}

// One read of the directory's latest checkpoint. A NotFound from
// LatestCheckpoint or Open is tolerated only while a writer runs, and only
// when the state file shows that retention retired the checkpoint meanwhile:
// a checkpoint the state file names at the time must always open. Once Open
// has succeeded nothing is tolerated: the reader holds the files open, so
// the checkpoint reads whole even if it is deleted meanwhile.
void ReadLatestOnce(const std::string& dir, bool writer_running, ReaderStats* st) {
  auto fail = [&](const std::string& what) {
    if (st->failure.empty()) st->failure = what;
  };
  Env* env = Env::Default();
  const absl::StatusOr<tensorflow::CheckpointState> before = ReadCheckpointState(env, dir);
  const absl::StatusOr<std::string> latest = LatestCheckpoint(dir);
  if (!latest.ok()) {
    const absl::StatusOr<tensorflow::CheckpointState> after = ReadCheckpointState(env, dir);
    if (writer_running && absl::IsNotFound(latest.status()) && absl::IsNotFound(before.status())) {
      ++st->none_yet;  // the first save had not named its checkpoint yet
    } else if (writer_running && absl::IsNotFound(latest.status()) && before.ok() && after.ok() &&
               before->model_checkpoint_path() != after->model_checkpoint_path()) {
      ++st->retired_before_open;  // the state file moved on during the call
    } else {
      fail(absl::StrCat("LatestCheckpoint: ", latest.status().ToString()));
    }
    return;
  }
  const absl::StatusOr<std::unique_ptr<BundleReader>> reader = BundleReader::Open(*latest);
  if (!reader.ok()) {
    if (writer_running && absl::IsNotFound(reader.status()) && !StillListed(dir, *latest)) {
      ++st->retired_before_open;
    } else {
      fail(absl::StrCat("opening ", *latest, ": ", reader.status().ToString()));
    }
    return;
  }
  const absl::StatusOr<int64_t> step = testing::ReadStepCheckpoint(**reader, kBytes);
  if (!step.ok()) {
    fail(absl::StrCat("reading ", *latest, " after it opened: ", step.status().ToString()));
    return;
  }
  if (*step < st->last_step) {
    fail(absl::StrCat("read step ", *step, " after step ", st->last_step,
                      ": the state file went backwards"));
    return;
  }
  st->last_step = *step;
  ++st->consistent;
}

// Readers that loop until `writer_done`, then read once more with nothing
// tolerated.
class Readers {
 public:
  Readers(std::string dir, const std::atomic<bool>* writer_done)
      : dir_(std::move(dir)), done_(writer_done), stats_(kReaders) {
    for (int i = 0; i < kReaders; ++i) {
      threads_.emplace_back([this, i] {
        ReaderStats* st = &stats_[i];
        while (!done_->load() && st->failure.empty()) ReadLatestOnce(dir_, true, st);
        if (st->failure.empty()) ReadLatestOnce(dir_, false, st);
      });
    }
  }
  ~Readers() { Join(); }

  // Waits for the readers; checks that none failed and that each read the
  // writer's last step at the end.
  void JoinAndCheck(int64_t last_step, const char* label) {
    Join();
    ReaderStats sum;
    for (int i = 0; i < kReaders; ++i) {
      const ReaderStats& st = stats_[i];
      EXPECT_EQ(st.failure, "") << "reader " << i;
      if (st.failure.empty()) {
        EXPECT_EQ(st.last_step, last_step) << "reader " << i << ", final read";
      }
      sum.consistent += st.consistent;
      sum.none_yet += st.none_yet;
      sum.retired_before_open += st.retired_before_open;
    }
    EXPECT_GT(sum.consistent, 0);
    std::printf(
        "[ stats    ] %s: %lld checkpoints saved; %d readers: %lld consistent reads, %lld retired "
        "before or while opening, %lld before the first save\n",
        label, static_cast<long long>(last_step + 1), kReaders,
        static_cast<long long>(sum.consistent), static_cast<long long>(sum.retired_before_open),
        static_cast<long long>(sum.none_yet));
  }

 private:
  void Join() {
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  const std::string dir_;
  const std::atomic<bool>* done_;
  std::vector<ReaderStats> stats_;
  std::vector<std::thread> threads_;
};

TEST(ConcurrencyTest, ReaderThreadsNeverSeeAPartialCheckpointOfAWriterThread) {
  testing::ScratchDir scratch;
  const std::string dir = scratch.Join("run");
  std::atomic<bool> writer_done{false};
  absl::StatusOr<int64_t> last = absl::UnknownError("the writer did not run");
  {
    Readers readers(dir, &writer_done);
    std::thread writer([&] {
      last = WriteFor(dir, kWriteSeconds);
      writer_done = true;
    });
    writer.join();
    ASSERT_TRUE(last.ok()) << last.status();
    readers.JoinAndCheck(*last, "writer thread");
  }
}

// The race the readers above rely on winning, made deterministic: a reader
// opens a checkpoint, then the writer retires it. The reader still reads it
// whole: Open holds the index and the data files open, and on POSIX an open
// file outlives its name.
TEST(ConcurrencyTest, AnOpenedCheckpointStaysReadableAfterRetentionDeletesIt) {
  testing::ScratchDir scratch;
  CheckpointManagerOptions opts;
  opts.max_to_keep = kMaxToKeep;
  opts.writer.sync = false;
  absl::StatusOr<std::unique_ptr<CheckpointManager>> manager =
      CheckpointManager::Create(scratch.path(), opts);
  ASSERT_TRUE(manager.ok()) << manager.status();
  absl::StatusOr<std::string> first = (*manager)->Save(0, testing::StepTensors(0, kBytes));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<BundleReader>> reader = BundleReader::Open(*first);
  ASSERT_TRUE(reader.ok()) << reader.status();
  for (int64_t step = 1; step <= kMaxToKeep; ++step) {
    ASSERT_TRUE((*manager)->Save(step, testing::StepTensors(step, kBytes)).ok());
  }
  ASSERT_FALSE(testing::FileExists(IndexFilename(*first)));
  ASSERT_FALSE(testing::FileExists(DataFilename(*first, 0, 1)));
  absl::StatusOr<int64_t> step = testing::ReadStepCheckpoint(**reader, kBytes);
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(*step, 0);
}

enum ReportKind : int64_t { kLastStep = 1 };

TEST(ConcurrencyTest, ReaderThreadsNeverSeeAPartialCheckpointOfAWriterProcess) {
  testing::ScratchDir scratch;
  const std::string dir = scratch.Join("run");
  // Forked while this process has a single thread: the readers start after.
  std::unique_ptr<testing::ChildProcess> writer =
      testing::ChildProcess::Start([&](int fd) {
        absl::StatusOr<int64_t> last = WriteFor(dir, kWriteSeconds);
        if (!last.ok()) {
          std::fprintf(stderr, "writer process: %s\n", last.status().ToString().c_str());
          return 1;
        }
        testing::SendReport(fd, {kLastStep, *last});
        return 0;
      });
  ASSERT_NE(writer, nullptr);
  std::atomic<bool> writer_done{false};
  Readers readers(dir, &writer_done);
  int status = 0;
  const bool exited = writer->WaitFor(kWriteSeconds + kWriterTimeoutSeconds, &status);
  writer_done = true;
  ASSERT_TRUE(exited) << "the writer process is still running after "
                      << kWriteSeconds + kWriterTimeoutSeconds << " s";
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the writer process failed (wait status " << status << "; its stderr says why)";
  const std::vector<testing::ChildReport> reports = writer->DrainReports();
  ASSERT_EQ(reports.size(), 1u);
  ASSERT_EQ(reports[0].kind, kLastStep);
  readers.JoinAndCheck(reports[0].value, "writer process");
}

}  // namespace
}  // namespace ckpt
