// The tools as a user runs them: exit codes, --help, accepted path forms.
#include "absl/strings/str_cat.h"
#include "ckpt/bundle_writer.h"
#include "ckpt/checkpoint_state.h"
#include <nlohmann/json.hpp>

#include "gtest/gtest.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using testing::RunCommand;
using testing::ToolPath;

std::string MakeCheckpoint(const testing::ScratchDir& dir) {
  const std::string prefix = dir.Join("run/model.ckpt-7");
  BundleWriter writer(prefix);
  EXPECT_TRUE(writer.Add("w", Tensor(DT_FLOAT, TensorShape({2, 2}))).ok());
  EXPECT_TRUE(writer.Finish().ok());
  tensorflow::CheckpointState st;
  st.set_model_checkpoint_path("model.ckpt-7");
  EXPECT_TRUE(WriteCheckpointState(Env::Default(), dir.Join("run"), st).ok());
  return prefix;
}

TEST(ToolsTest, HelpExitsZeroAndUsageErrorsExitTwo) {
  for (const char* tool : {"ckpt_dump", "ckpt_convert"}) {
    std::string out;
    EXPECT_EQ(RunCommand(ToolPath(tool) + " --help", &out), 0) << tool;
    EXPECT_NE(out.find("Usage:"), std::string::npos) << out;
    EXPECT_EQ(RunCommand(ToolPath(tool) + " --no-such-flag x y", &out), 2) << tool;
    EXPECT_NE(out.find("unknown option"), std::string::npos) << out;
    EXPECT_EQ(RunCommand(ToolPath(tool), &out), 2) << tool;
  }
}

TEST(ToolsTest, DumpAcceptsEveryPathForm) {
  testing::ScratchDir dir;
  const std::string prefix = MakeCheckpoint(dir);
  for (const std::string& path :
       {prefix, prefix + ".index", prefix + ".data-00000-of-00001", dir.Join("run"),
        dir.Join("run/")}) {
    std::string out;
    EXPECT_EQ(RunCommand(ToolPath("ckpt_dump") + " '" + path + "'", &out), 0) << path << out;
    EXPECT_NE(out.find("float32"), std::string::npos) << out;
    EXPECT_NE(out.find(prefix), std::string::npos) << out;
  }
  std::string out;
  EXPECT_EQ(RunCommand(ToolPath("ckpt_dump") + " '" + dir.Join("nothing") + "'", &out), 2);
  EXPECT_NE(out.find("no checkpoint at"), std::string::npos) << out;
}

TEST(ToolsTest, ConvertReportsCorruptSource) {
  testing::ScratchDir dir;
  const std::string prefix = MakeCheckpoint(dir);
  std::string data = testing::ReadFile(prefix + ".data-00000-of-00001");
  data[3] ^= 0x10;
  testing::WriteFile(prefix + ".data-00000-of-00001", data);
  std::string out;
  EXPECT_EQ(RunCommand(ToolPath("ckpt_convert") + " '" + prefix + "' '" + dir.Join("copy") + "'", &out), 2);
  EXPECT_NE(out.find("checksum does not match"), std::string::npos) << out;
  EXPECT_NE(out.find("'w'"), std::string::npos) << out;
  EXPECT_FALSE(testing::FileExists(dir.Join("copy.index")));
}

}  // namespace
}  // namespace ckpt

namespace ckpt {
namespace {

// A hostile tensor name must not reach the terminal as an escape sequence.
TEST(ToolsTest, ControlCharactersInNamesAreEscaped) {
  testing::ScratchDir dir;
  const std::string prefix = dir.Join("evil");
  {
    BundleWriter writer(prefix);
    ASSERT_TRUE(writer.Add("title\x1b]0;pwned\x07/w", Tensor(DT_FLOAT, TensorShape({1}))).ok());
    ASSERT_TRUE(writer.Finish().ok());
  }
  for (const std::string& cmd : {ToolPath("ckpt_dump") + " " + prefix,
                                 ToolPath("ckpt_dump") + " --all_tensors --verify " + prefix,
                                 ToolPath("ckpt_diff") + " --all " + prefix + " " + prefix}) {
    std::string out;
    RunCommand(cmd, &out);
    EXPECT_EQ(out.find('\x1b'), std::string::npos) << cmd;
    EXPECT_NE(out.find("title\\x1b]0;pwned\\x07/w"), std::string::npos) << cmd << "\n" << out;
  }
}

// Names are bytes; JSON output stays valid JSON whatever they hold.
TEST(ToolsTest, JsonStaysValidWithNonUtf8Names) {
  testing::ScratchDir dir;
  const std::string prefix = dir.Join("bytes");
  {
    BundleWriter writer(prefix);
    ASSERT_TRUE(writer.Add("caf\xe9/\xff\xfe", Tensor(DT_FLOAT, TensorShape({1}))).ok());
    ASSERT_TRUE(writer.Finish().ok());
  }
  std::string out;
  ASSERT_EQ(RunCommand(ToolPath("ckpt_dump") + " --json --all_tensors " + prefix, &out, false), 0);
  auto doc = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(doc.is_discarded()) << out;
  EXPECT_EQ(doc["tensors"].size(), 1u);
}

}  // namespace
}  // namespace ckpt
