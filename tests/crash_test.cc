// A crash (via the Env seam) at every step of saving a checkpoint, followed by
// power loss, leaves at the prefix either no checkpoint or a complete one that
// verifies: never a truncated or mixed one.
#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/bundle_writer.h"
#include "ckpt/naming.h"
#include "gtest/gtest.h"
#include "util/fault_injection_env.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using testing::FaultInjectionEnv;
using testing::OpKind;
using testing::ScratchDir;

// A few tensors whose every element is `generation`, so a mix of two saves
// is visible.
std::vector<std::pair<std::string, Tensor>> Generation(int generation) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (int i = 0; i < 4; ++i) {
    Tensor t(DT_FLOAT, TensorShape({1000 * (i + 1)}));
    for (float& v : t.mutable_flat<float>()) v = static_cast<float>(generation);
    out.emplace_back(absl::StrCat("layer", i, "/w"), t);
  }
  Tensor s(DT_STRING, TensorShape({2}));
  (*s.mutable_strings())[0] = absl::StrCat("gen", generation);
  out.emplace_back("meta", s);
  return out;
}

absl::Status Save(Env* env, const std::string& prefix, int generation) {
  BundleWriterOptions options;
  options.env = env;
  BundleWriter writer(prefix, options);
  for (const auto& [name, t] : Generation(generation)) {
    absl::Status s = writer.Add(name, t);
    if (!s.ok()) return s;
  }
  return writer.Finish();
}

// -1: no checkpoint at prefix; else the generation every tensor holds.
// Fails the test on a partial or mixed checkpoint.
int Inspect(const std::string& prefix) {
  if (!testing::FileExists(IndexFilename(prefix))) return -1;
  auto reader = BundleReader::Open(prefix);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return -2;
  int gen = -1;
  for (int g : {0, 1}) {
    bool all = true;
    for (const auto& [name, want] : Generation(g)) {
      auto got = (*reader)->Read(name);
      EXPECT_TRUE(got.ok()) << name << ": " << got.status();
      if (!got.ok() || !got->Identical(want)) all = false;
    }
    if (all) gen = g;
  }
  EXPECT_NE(gen, -1) << "checkpoint at " << prefix << " mixes two saves";
  return gen;
}

TEST(CrashTest, CrashAtEveryStepOfANewSave) {
  FaultInjectionEnv probe(Env::Default());
  {
    ScratchDir dir;
    ASSERT_TRUE(Save(&probe, dir.Join("ckpt/model"), 1).ok());
  }
  const int64_t steps = probe.steps();
  ASSERT_GT(steps, 8);
  int none = 0, complete = 0;
  for (int64_t n = 0; n < steps; ++n) {
    SCOPED_TRACE(absl::StrCat("crash at step ", n, ": ", probe.StepLog()[n]));
    ScratchDir dir;
    const std::string prefix = dir.Join("ckpt/model");
    FaultInjectionEnv env(Env::Default());
    env.SetCrashAtStep(n);
    EXPECT_FALSE(Save(&env, prefix, 1).ok());
    ASSERT_TRUE(env.SimulateCrashDataLoss().ok());
    int gen = Inspect(prefix);
    if (gen == -1) ++none;
    if (gen == 1) ++complete;
    EXPECT_TRUE(gen == -1 || gen == 1);
  }
  // Only a crash after the index rename has nothing left to do but sync.
  EXPECT_GT(none, 0);
  std::cout << steps << " crash points: " << none << " left no checkpoint, " << complete
            << " a complete one\n";
}

TEST(CrashTest, CrashAtEveryStepOfAnOverwrite) {
  FaultInjectionEnv probe(Env::Default());
  {
    ScratchDir dir;
    ASSERT_TRUE(Save(Env::Default(), dir.Join("model"), 0).ok());
    ASSERT_TRUE(Save(&probe, dir.Join("model"), 1).ok());
  }
  for (int64_t n = 0; n < probe.steps(); ++n) {
    SCOPED_TRACE(absl::StrCat("crash at step ", n, ": ", probe.StepLog()[n]));
    ScratchDir dir;
    const std::string prefix = dir.Join("model");
    ASSERT_TRUE(Save(Env::Default(), prefix, 0).ok());
    FaultInjectionEnv env(Env::Default());
    env.SetCrashAtStep(n);
    EXPECT_FALSE(Save(&env, prefix, 1).ok());
    ASSERT_TRUE(env.SimulateCrashDataLoss().ok());
    int gen = Inspect(prefix);
    EXPECT_TRUE(gen == -1 || gen == 0 || gen == 1) << gen;
  }
}

TEST(CrashTest, InjectedErrorsAreReportedAndLeaveNoFiles) {
  struct Case {
    const char* what;
    OpKind kind;
    absl::Status error;
  };
  const Case cases[] = {
      {"ENOSPC on append", OpKind::kAppend, absl::ResourceExhaustedError("No space left on device")},
      {"EIO on sync", OpKind::kSync, absl::DataLossError("Input/output error")},
      {"close fails", OpKind::kClose, absl::UnavailableError("close failed")},
      {"rename fails", OpKind::kRenameFile, absl::PermissionDeniedError("rename refused")},
  };
  FaultInjectionEnv probe(Env::Default());
  {
    ScratchDir dir;
    ASSERT_TRUE(Save(&probe, dir.Join("m"), 1).ok());
  }
  for (const Case& c : cases) {
    for (int64_t nth = 0; nth < probe.op_count(c.kind); ++nth) {
      SCOPED_TRACE(absl::StrCat(c.what, " #", nth));
      ScratchDir dir;
      FaultInjectionEnv env(Env::Default());
      env.SetFailure(c.kind, nth, c.error);
      absl::Status s = Save(&env, dir.Join("m"), 1);
      ASSERT_FALSE(s.ok());
      EXPECT_EQ(s.code(), c.error.code()) << s;
      // Whatever failed, nothing half-written is left under a final name,
      // and temporary files are cleaned up.
      int gen = Inspect(dir.Join("m"));
      EXPECT_TRUE(gen == -1 || gen == 1);
      auto children = Env::Default()->GetChildren(dir.path());
      ASSERT_TRUE(children.ok());
      for (const std::string& name : *children) {
        EXPECT_EQ(name.find("tempstate"), std::string::npos) << name;
      }
    }
  }
}

TEST(CrashTest, ShortWriteIsAnErrorNamingTheFile) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  env.SetShortWrite(0);
  absl::Status s = Save(&env, dir.Join("m"), 1);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(dir.Join("m")), std::string::npos) << s;
  EXPECT_EQ(Inspect(dir.Join("m")), -1);
}

}  // namespace
}  // namespace ckpt
