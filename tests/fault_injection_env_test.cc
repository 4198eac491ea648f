// Tests of the fault-injecting Env used by the crash-safety tests: every
// feature on real files in a scratch directory.
#include "util/fault_injection_env.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "ckpt/env.h"
#include "gtest/gtest.h"
#include "util/test_util.h"

namespace ckpt {
namespace testing {
namespace {

std::unique_ptr<WritableFile> Create(FaultInjectionEnv& env, const std::string& path) {
  absl::StatusOr<std::unique_ptr<WritableFile>> f = env.NewWritableFile(path);
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? std::move(*f) : nullptr;
}

// Writes `data` with one Append, then Sync and Close: 4 steps.
void WriteSynced(FaultInjectionEnv& env, const std::string& path, absl::string_view data) {
  std::unique_ptr<WritableFile> f = Create(env, path);
  ASSERT_NE(f, nullptr);
  ASSERT_TRUE(f->Append(data).ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Close().ok());
}

TEST(FaultInjectionEnvTest, PassesThroughAndCountsEveryMutatingOp) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  EXPECT_EQ(env.steps(), 0);

  const std::string sub = dir.Join("sub");
  ASSERT_TRUE(env.CreateDir(sub).ok());                              // 0
  std::unique_ptr<WritableFile> f = Create(env, sub + "/a.tmp");     // 1
  ASSERT_TRUE(f->Append("hello ").ok());                             // 2
  ASSERT_TRUE(f->Append("world").ok());                              // 3
  ASSERT_TRUE(f->Sync().ok());                                       // 4
  ASSERT_TRUE(f->Close().ok());                                      // 5
  ASSERT_TRUE(env.RenameFile(sub + "/a.tmp", sub + "/a").ok());      // 6
  ASSERT_TRUE(env.SyncDir(sub).ok());                                // 7
  EXPECT_EQ(ReadFile(sub + "/a"), "hello world");

  // Reads are not steps.
  EXPECT_TRUE(env.FileExists(sub + "/a"));
  EXPECT_FALSE(env.FileExists(sub + "/a.tmp"));
  EXPECT_TRUE(env.IsDirectory(sub));
  absl::StatusOr<uint64_t> size = env.GetFileSize(sub + "/a");
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 11u);
  absl::StatusOr<std::vector<std::string>> children = env.GetChildren(sub);
  ASSERT_TRUE(children.ok());
  EXPECT_EQ(*children, std::vector<std::string>{"a"});
  absl::StatusOr<std::string> contents = ReadFileToString(&env, sub + "/a");
  ASSERT_TRUE(contents.ok());
  EXPECT_EQ(*contents, "hello world");
  EXPECT_GT(env.NowSeconds(), 1e9);
  EXPECT_EQ(env.steps(), 8);

  ASSERT_TRUE(env.DeleteFile(sub + "/a").ok());                      // 8
  ASSERT_TRUE(env.DeleteDir(sub).ok());                              // 9
  EXPECT_FALSE(FileExists(sub));
  EXPECT_EQ(env.steps(), 10);

  EXPECT_EQ(env.op_count(OpKind::kNewWritableFile), 1);
  EXPECT_EQ(env.op_count(OpKind::kAppend), 2);
  EXPECT_EQ(env.op_count(OpKind::kSync), 1);
  EXPECT_EQ(env.op_count(OpKind::kClose), 1);
  EXPECT_EQ(env.op_count(OpKind::kRenameFile), 1);
  EXPECT_EQ(env.op_count(OpKind::kDeleteFile), 1);
  EXPECT_EQ(env.op_count(OpKind::kSyncDir), 1);
  EXPECT_EQ(env.op_count(OpKind::kCreateDir), 1);
  EXPECT_EQ(env.op_count(OpKind::kDeleteDir), 1);

  const std::vector<std::string> log = env.StepLog();
  ASSERT_EQ(log.size(), 10u);
  EXPECT_EQ(log[0], "CreateDir " + sub);
  EXPECT_EQ(log[2], "Append " + sub + "/a.tmp");
  EXPECT_EQ(log[6], "RenameFile " + sub + "/a.tmp -> " + sub + "/a");
  EXPECT_EQ(log[9], "DeleteDir " + sub);
}

TEST(FaultInjectionEnvTest, FailuresOfTheWrappedEnvStillCountAsSteps) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  absl::Status s = env.DeleteFile(dir.Join("missing"));
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_FALSE(env.NewWritableFile(dir.Join("no/such/dir/f")).ok());
  EXPECT_EQ(env.steps(), 2);
}

TEST(FaultInjectionEnvTest, CrashStopsTheNthOpAndEveryLaterOne) {
  ScratchDir dir;
  WriteFile(dir.Join("target"), "old");
  FaultInjectionEnv env(Env::Default());
  env.SetCrashAtStep(4);

  std::unique_ptr<WritableFile> f = Create(env, dir.Join("t.tmp"));  // 0
  ASSERT_TRUE(f->Append("new").ok());                               // 1
  ASSERT_TRUE(f->Sync().ok());                                      // 2
  ASSERT_TRUE(f->Close().ok());                                     // 3
  EXPECT_FALSE(env.crashed());

  absl::Status s = env.RenameFile(dir.Join("t.tmp"), dir.Join("target"));  // 4: crash
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_EQ(s.message(), absl::StrCat("injected crash at step 4: RenameFile ",
                                      dir.Join("t.tmp"), " -> ", dir.Join("target")));
  EXPECT_TRUE(env.crashed());
  // Not performed.
  EXPECT_EQ(ReadFile(dir.Join("target")), "old");
  EXPECT_EQ(ReadFile(dir.Join("t.tmp")), "new");

  // Every later mutating op fails too, and does nothing.
  s = env.DeleteFile(dir.Join("t.tmp"));
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_EQ(s.message(), "injected crash at step 4: DeleteFile " + dir.Join("t.tmp"));
  EXPECT_TRUE(FileExists(dir.Join("t.tmp")));
  EXPECT_TRUE(absl::IsUnavailable(env.NewWritableFile(dir.Join("other")).status()));
  EXPECT_FALSE(FileExists(dir.Join("other")));
  EXPECT_TRUE(absl::IsUnavailable(env.CreateDir(dir.Join("d"))));
  EXPECT_FALSE(FileExists(dir.Join("d")));
  EXPECT_TRUE(absl::IsUnavailable(env.SyncDir(dir.path())));
  EXPECT_TRUE(absl::IsUnavailable(env.DeleteDir(dir.path())));
  EXPECT_TRUE(absl::IsUnavailable(f->Close()));
  EXPECT_EQ(env.steps(), 11);

  // Reads still work.
  absl::StatusOr<std::string> contents = ReadFileToString(&env, dir.Join("target"));
  ASSERT_TRUE(contents.ok());
  EXPECT_EQ(*contents, "old");
}

TEST(FaultInjectionEnvTest, CrashRefusesAppendsOfOpenFiles) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  env.SetCrashAtStep(2);
  std::unique_ptr<WritableFile> f = Create(env, dir.Join("f"));  // 0
  ASSERT_TRUE(f->Append("abc").ok());                           // 1
  absl::Status s = f->Append("def");                            // 2: crash
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_EQ(s.message(), "injected crash at step 2: Append " + dir.Join("f"));
  EXPECT_TRUE(absl::IsUnavailable(f->Sync()));
  EXPECT_EQ(ReadFile(dir.Join("f")), "abc");
}

TEST(FaultInjectionEnvTest, CrashAtAStepAlreadyTakenHitsTheNextOp) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  ASSERT_TRUE(env.CreateDir(dir.Join("a")).ok());
  ASSERT_TRUE(env.CreateDir(dir.Join("b")).ok());
  env.SetCrashAtStep(0);
  absl::Status s = env.CreateDir(dir.Join("c"));
  EXPECT_EQ(s.message(), "injected crash at step 2: CreateDir " + dir.Join("c"));
  EXPECT_FALSE(FileExists(dir.Join("c")));
}

TEST(FaultInjectionEnvTest, DataLossKeepsOnlySyncedBytes) {
  ScratchDir dir;
  WriteFile(dir.Join("untouched"), "written without the env");
  FaultInjectionEnv env(Env::Default());

  // Synced, then more appended: the tail is lost.
  std::unique_ptr<WritableFile> partly = Create(env, dir.Join("partly"));
  ASSERT_TRUE(partly->Append("12345").ok());
  ASSERT_TRUE(partly->Sync().ok());
  ASSERT_TRUE(partly->Append("67890").ok());
  ASSERT_TRUE(partly->Close().ok());  // Close does not imply Sync.

  // Never synced: becomes empty.
  std::unique_ptr<WritableFile> never = Create(env, dir.Join("never"));
  ASSERT_TRUE(never->Append("gone").ok());

  // Fully synced: intact.
  WriteSynced(env, dir.Join("durable"), "kept");

  // Renamed after a partial sync: its state follows it.
  std::unique_ptr<WritableFile> moved = Create(env, dir.Join("moved.tmp"));
  ASSERT_TRUE(moved->Append("ab").ok());
  ASSERT_TRUE(moved->Sync().ok());
  ASSERT_TRUE(moved->Append("cd").ok());
  ASSERT_TRUE(env.RenameFile(dir.Join("moved.tmp"), dir.Join("moved")).ok());
  // Appends through the open file land in the renamed file.
  ASSERT_TRUE(moved->Append("ef").ok());

  // Replaced by a rename onto it: the replacement came from outside this
  // Env, so nothing of it is lost.
  WriteFile(dir.Join("outside"), "outside bytes");
  std::unique_ptr<WritableFile> replaced = Create(env, dir.Join("replaced"));
  ASSERT_TRUE(replaced->Append("unsynced").ok());
  ASSERT_TRUE(env.RenameFile(dir.Join("outside"), dir.Join("replaced")).ok());

  // Deleted: nothing to restore.
  std::unique_ptr<WritableFile> deleted = Create(env, dir.Join("deleted"));
  ASSERT_TRUE(deleted->Append("x").ok());
  ASSERT_TRUE(env.DeleteFile(dir.Join("deleted")).ok());

  EXPECT_EQ(ReadFile(dir.Join("partly")), "1234567890");
  EXPECT_EQ(ReadFile(dir.Join("never")), "gone");
  EXPECT_EQ(ReadFile(dir.Join("moved")), "abcdef");

  const int64_t steps_before = env.steps();
  ASSERT_TRUE(env.SimulateCrashDataLoss().ok());
  EXPECT_EQ(env.steps(), steps_before);  // the truncation itself is not a step

  EXPECT_EQ(ReadFile(dir.Join("partly")), "12345");
  EXPECT_EQ(ReadFile(dir.Join("never")), "");
  EXPECT_EQ(ReadFile(dir.Join("durable")), "kept");
  EXPECT_EQ(ReadFile(dir.Join("moved")), "ab");
  EXPECT_FALSE(FileExists(dir.Join("moved.tmp")));
  EXPECT_EQ(ReadFile(dir.Join("replaced")), "outside bytes");
  EXPECT_FALSE(FileExists(dir.Join("deleted")));
  EXPECT_EQ(ReadFile(dir.Join("untouched")), "written without the env");
}

TEST(FaultInjectionEnvTest, DataLossFollowsRenamedDirectories) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  ASSERT_TRUE(env.CreateDir(dir.Join("d.tmp")).ok());
  std::unique_ptr<WritableFile> f = Create(env, dir.Join("d.tmp/f"));
  ASSERT_TRUE(f->Append("synced").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append(" lost").ok());
  ASSERT_TRUE(f->Close().ok());
  ASSERT_TRUE(env.RenameFile(dir.Join("d.tmp"), dir.Join("d")).ok());
  ASSERT_TRUE(env.SimulateCrashDataLoss().ok());
  EXPECT_EQ(ReadFile(dir.Join("d/f")), "synced");
}

TEST(FaultInjectionEnvTest, AfterDataLossTheEnvIsANewProcess) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  env.SetCrashAtStep(3);
  std::unique_ptr<WritableFile> f = Create(env, dir.Join("f"));  // 0
  ASSERT_TRUE(f->Append("abc").ok());                           // 1
  ASSERT_TRUE(f->Sync().ok());                                  // 2
  EXPECT_FALSE(f->Append("def").ok());                          // 3: crash
  ASSERT_TRUE(env.SimulateCrashDataLoss().ok());
  EXPECT_FALSE(env.crashed());

  // The dead process's file objects stay dead...
  absl::Status s = f->Append("ghi");
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_TRUE(absl::IsFailedPrecondition(f->Sync()));
  EXPECT_EQ(ReadFile(dir.Join("f")), "abc");

  // ...while new work goes through, and is again subject to data loss.
  WriteSynced(env, dir.Join("g"), "recovered");
  std::unique_ptr<WritableFile> h = Create(env, dir.Join("h"));
  ASSERT_TRUE(h->Append("unsynced").ok());
  ASSERT_TRUE(env.SimulateCrashDataLoss().ok());
  EXPECT_EQ(ReadFile(dir.Join("g")), "recovered");
  EXPECT_EQ(ReadFile(dir.Join("h")), "");
  EXPECT_EQ(ReadFile(dir.Join("f")), "abc");
}

// The intended use: crash at every step of an operation and check what a
// restarted process finds. WriteFileAtomically must leave the old contents or
// the new ones, never a mix or an empty file.
TEST(FaultInjectionEnvTest, CrashAtEveryStepOfAnAtomicWrite) {
  const std::string kOld = "old contents";
  const std::string kNew = "new contents, longer than the old";
  int64_t total_steps = 0;
  {
    ScratchDir dir;
    FaultInjectionEnv env(Env::Default());
    ASSERT_TRUE(WriteFileAtomically(&env, dir.Join("f"), kNew).ok());
    total_steps = env.steps();
    // NewWritableFile, Append, Sync, Close, RenameFile, SyncDir.
    EXPECT_EQ(total_steps, 6) << absl::StrJoin(env.StepLog(), "\n");
  }
  for (int64_t n = 0; n < total_steps; ++n) {
    SCOPED_TRACE(absl::StrCat("crash at step ", n));
    ScratchDir dir;
    WriteFile(dir.Join("f"), kOld);
    FaultInjectionEnv env(Env::Default());
    env.SetCrashAtStep(n);
    absl::Status s = WriteFileAtomically(&env, dir.Join("f"), kNew);
    EXPECT_TRUE(absl::IsUnavailable(s)) << s;
    EXPECT_TRUE(env.crashed());
    ASSERT_TRUE(env.SimulateCrashDataLoss().ok());
    const std::string got = ReadFile(dir.Join("f"));
    EXPECT_TRUE(got == kOld || got == kNew) << "found: " << got;
    EXPECT_EQ(got, n < 5 ? kOld : kNew);  // the rename is step 4
  }
}

// Without the Sync before the rename, power loss publishes an empty file:
// the kind of bug these tests exist to catch.
TEST(FaultInjectionEnvTest, DetectsAMissingSyncBeforeRename) {
  ScratchDir dir;
  WriteFile(dir.Join("f"), "old");
  FaultInjectionEnv env(Env::Default());
  std::unique_ptr<WritableFile> tmp = Create(env, dir.Join("f.tmp"));
  ASSERT_TRUE(tmp->Append("new").ok());
  ASSERT_TRUE(tmp->Close().ok());
  ASSERT_TRUE(env.RenameFile(dir.Join("f.tmp"), dir.Join("f")).ok());
  ASSERT_TRUE(env.SimulateCrashDataLoss().ok());
  EXPECT_EQ(ReadFile(dir.Join("f")), "");
}

TEST(FaultInjectionEnvTest, SetFailureFailsOnlyTheNthOpOfItsKind) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  const absl::Status enospc = absl::ResourceExhaustedError("injected ENOSPC");
  env.SetFailure(OpKind::kAppend, 1, enospc);

  std::unique_ptr<WritableFile> f = Create(env, dir.Join("f"));
  EXPECT_TRUE(f->Append("a").ok());  // Append #0
  EXPECT_EQ(f->Append("b"), enospc);  // Append #1: fails, writes nothing
  EXPECT_TRUE(f->Append("c").ok());  // Append #2
  ASSERT_TRUE(f->Close().ok());
  EXPECT_EQ(ReadFile(dir.Join("f")), "ac");
  EXPECT_EQ(env.steps(), 5);  // failed calls are steps too
}

TEST(FaultInjectionEnvTest, SetFailureWorksForEveryKind) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  const absl::Status eio = absl::DataLossError("injected EIO");
  for (int k = 0; k < kNumOpKinds; ++k) env.SetFailure(static_cast<OpKind>(k), 0, eio);

  absl::StatusOr<std::unique_ptr<WritableFile>> failed = env.NewWritableFile(dir.Join("f"));
  EXPECT_EQ(failed.status(), eio);
  EXPECT_FALSE(FileExists(dir.Join("f")));  // not created

  std::unique_ptr<WritableFile> f = Create(env, dir.Join("f"));
  EXPECT_EQ(f->Append("lost"), eio);
  EXPECT_TRUE(f->Append("kept").ok());
  EXPECT_EQ(f->Sync(), eio);
  EXPECT_TRUE(f->Sync().ok());
  EXPECT_EQ(f->Close(), eio);
  EXPECT_TRUE(f->Close().ok());
  EXPECT_EQ(ReadFile(dir.Join("f")), "kept");

  EXPECT_EQ(env.RenameFile(dir.Join("f"), dir.Join("g")), eio);
  EXPECT_TRUE(FileExists(dir.Join("f")));
  EXPECT_FALSE(FileExists(dir.Join("g")));
  EXPECT_TRUE(env.RenameFile(dir.Join("f"), dir.Join("g")).ok());

  EXPECT_EQ(env.DeleteFile(dir.Join("g")), eio);
  EXPECT_TRUE(FileExists(dir.Join("g")));
  EXPECT_TRUE(env.DeleteFile(dir.Join("g")).ok());
  EXPECT_FALSE(FileExists(dir.Join("g")));

  EXPECT_EQ(env.CreateDir(dir.Join("d")), eio);
  EXPECT_FALSE(FileExists(dir.Join("d")));
  EXPECT_TRUE(env.CreateDir(dir.Join("d")).ok());
  EXPECT_EQ(env.SyncDir(dir.Join("d")), eio);
  EXPECT_TRUE(env.SyncDir(dir.Join("d")).ok());
  EXPECT_EQ(env.DeleteDir(dir.Join("d")), eio);
  EXPECT_TRUE(FileExists(dir.Join("d")));
  EXPECT_TRUE(env.DeleteDir(dir.Join("d")).ok());
  EXPECT_FALSE(FileExists(dir.Join("d")));
}

// A failed Sync does not make anything durable.
TEST(FaultInjectionEnvTest, FailedSyncLeavesDataUnsynced) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  env.SetFailure(OpKind::kSync, 1, absl::UnavailableError("injected EIO on fsync"));
  std::unique_ptr<WritableFile> f = Create(env, dir.Join("f"));
  ASSERT_TRUE(f->Append("one ").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append("two").ok());
  EXPECT_TRUE(absl::IsUnavailable(f->Sync()));
  ASSERT_TRUE(f->Close().ok());
  ASSERT_TRUE(env.SimulateCrashDataLoss().ok());
  EXPECT_EQ(ReadFile(dir.Join("f")), "one ");
}

TEST(FaultInjectionEnvTest, FailuresCountFromConstructionAndCanBeCleared) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  ASSERT_TRUE(env.CreateDir(dir.Join("a")).ok());
  // The next CreateDir is call #1 of its kind.
  env.SetFailure(OpKind::kCreateDir, env.op_count(OpKind::kCreateDir),
                 absl::PermissionDeniedError("injected EACCES"));
  EXPECT_TRUE(absl::IsPermissionDenied(env.CreateDir(dir.Join("b"))));
  EXPECT_TRUE(env.CreateDir(dir.Join("b")).ok());

  env.SetFailure(OpKind::kCreateDir, 3, absl::PermissionDeniedError("injected EACCES"));
  env.SetShortWrite(0);
  env.SetCrashAtStep(env.steps());
  env.ClearFaults();
  EXPECT_TRUE(env.CreateDir(dir.Join("c")).ok());
  WriteSynced(env, dir.Join("f"), "whole");
  EXPECT_EQ(ReadFile(dir.Join("f")), "whole");
}

TEST(FaultInjectionEnvTest, ShortWriteWritesHalfThenFails) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  env.SetShortWrite(1);
  std::unique_ptr<WritableFile> f = Create(env, dir.Join("f"));
  ASSERT_TRUE(f->Append("0123").ok());
  absl::Status s = f->Append("abcdefghi");  // 9 bytes: 4 written
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_EQ(s.message(), "injected short write: wrote 4 of 9 bytes to " + dir.Join("f"));
  EXPECT_EQ(ReadFile(dir.Join("f")), "0123abcd");

  // The half that reached the file is real: a Sync makes it durable.
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append("tail").ok());
  ASSERT_TRUE(f->Close().ok());
  EXPECT_EQ(ReadFile(dir.Join("f")), "0123abcdtail");
  ASSERT_TRUE(env.SimulateCrashDataLoss().ok());
  EXPECT_EQ(ReadFile(dir.Join("f")), "0123abcd");
}

TEST(FaultInjectionEnvTest, ShortWriteOfOneByteWritesNothing) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  env.SetShortWrite(0);
  std::unique_ptr<WritableFile> f = Create(env, dir.Join("f"));
  EXPECT_TRUE(absl::IsResourceExhausted(f->Append("x")));
  ASSERT_TRUE(f->Close().ok());
  EXPECT_EQ(ReadFile(dir.Join("f")), "");
}

TEST(FaultInjectionEnvTest, IsThreadSafe) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  constexpr int kThreads = 8;
  constexpr int kAppends = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&env, &dir, t] {
      absl::StatusOr<std::unique_ptr<WritableFile>> f =
          env.NewWritableFile(dir.Join(absl::StrCat("f", t)));
      if (!f.ok()) return;
      for (int i = 0; i < kAppends; ++i) (*f)->Append("0123456789").IgnoreError();
      (*f)->Sync().IgnoreError();
      (*f)->Close().IgnoreError();
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(env.steps(), kThreads * (kAppends + 3));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(ReadFile(dir.Join(absl::StrCat("f", t))).size(), size_t{kAppends * 10});
  }
}

// A crash armed in the middle of concurrent writers stops exactly the calls
// from that step on, whichever thread makes them.
TEST(FaultInjectionEnvTest, CrashUnderConcurrency) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  constexpr int kThreads = 4;
  constexpr int kAppends = 500;
  constexpr int64_t kCrashStep = 700;
  env.SetCrashAtStep(kCrashStep);
  std::atomic<int64_t> refused{0};
  std::vector<std::unique_ptr<WritableFile>> files;
  for (int t = 0; t < kThreads; ++t) files.push_back(Create(env, dir.Join(absl::StrCat("f", t))));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends; ++i) {
        absl::Status s = files[t]->Append("x");
        if (absl::IsUnavailable(s)) ++refused;
        if (i % 50 == 49 && absl::IsUnavailable(files[t]->Sync())) ++refused;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(env.crashed());
  const int64_t total = env.steps();
  EXPECT_EQ(total, kThreads + kThreads * (kAppends + kAppends / 50));
  EXPECT_EQ(refused.load(), total - kCrashStep);

  // What reached the disk is exactly the appends before the crash.
  int64_t appended = 0;
  const std::vector<std::string> log = env.StepLog();
  for (int64_t i = 0; i < kCrashStep; ++i) {
    if (absl::StartsWith(log[i], "Append ")) ++appended;
  }
  int64_t on_disk = 0;
  for (int t = 0; t < kThreads; ++t) on_disk += ReadFile(dir.Join(absl::StrCat("f", t))).size();
  EXPECT_EQ(on_disk, appended);

  // Power loss keeps each file's bytes up to its last Sync before the crash.
  ASSERT_TRUE(env.SimulateCrashDataLoss().ok());
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(ReadFile(dir.Join(absl::StrCat("f", t))).size() % 50, 0u);
  }
}

}  // namespace
}  // namespace testing
}  // namespace ckpt
