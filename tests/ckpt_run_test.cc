// ckpt_run as a user runs it: TensorFlow's half_plus_two SavedModel and the
// udacity meta graphs from the corpus, every output form, and usage errors.
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "ckpt/bundle_reader.h"
#include "common/npy.h"
#include "gtest/gtest.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using testing::RunCommand;
using testing::ToolPath;

// Runs ckpt_run with `args`; returns the exit code, output in *out (stderr
// merged).
int RunTool(const std::string& args, std::string* out) {
  return RunCommand(ToolPath("ckpt_run") + " " + args, out, /*merge_stderr=*/true);
}

// Output of a successful run, compared with testdata/golden/<golden>
// (regenerate with CKPT_UPDATE_GOLDEN=1), `corpus` shown as <corpus>.
void ExpectGolden(const std::string& args, const std::string& golden, const std::string& corpus) {
  std::string out;
  EXPECT_EQ(RunTool(args, &out), 0) << args << "\n" << out;
  out = absl::StrReplaceAll(out, {{corpus, "<corpus>"}});
  const std::string path = std::string(CKPT_SOURCE_DIR) + "/testdata/golden/" + golden;
  if (std::getenv("CKPT_UPDATE_GOLDEN") != nullptr) {
    testing::WriteFile(path, out);
    return;
  }
  ASSERT_TRUE(testing::FileExists(path)) << "missing golden " << path
                                         << " (run with CKPT_UPDATE_GOLDEN=1)\n" << out;
  EXPECT_EQ(out, testing::ReadFile(path)) << "golden " << golden << " differs";
}

// half_plus_two computes y = 0.5 * x + 2; NumPy prints the [3,1] result
// with every element padded to the width of "2.5".
constexpr char kHalfPlusTwoOutput[] =
    "y: float32[3,1]\n"
    "[[2.5]\n"
    " [3. ]\n"
    " [4.5]]\n";

std::string Quote(const std::string& s) { return "'" + s + "'"; }

TEST(CkptRunTest, HelpAndUsageErrors) {
  std::string out;
  EXPECT_EQ(RunTool("--help", &out), 0);
  EXPECT_NE(out.find("Usage: ckpt_run"), std::string::npos) << out;
  EXPECT_NE(out.find("--signature"), std::string::npos) << out;

  EXPECT_EQ(RunTool("", &out), 2);
  EXPECT_NE(out.find("expected one MODEL"), std::string::npos) << out;
  EXPECT_EQ(RunTool("--bogus x", &out), 2);
  EXPECT_NE(out.find("unknown option '--bogus'"), std::string::npos) << out;
  EXPECT_EQ(RunTool("a b", &out), 2);
  EXPECT_EQ(RunTool("--max_elements=ten x", &out), 2);
  EXPECT_NE(out.find("--max_elements needs a whole number"), std::string::npos) << out;

  testing::ScratchDir dir;
  EXPECT_EQ(RunTool(Quote(dir.Join("absent")) + " --input x=1", &out), 2);
  EXPECT_NE(out.find("no such file or directory: " + dir.Join("absent")), std::string::npos) << out;

  testing::WriteFile(dir.Join("g.meta"), "not a meta graph");
  EXPECT_EQ(RunTool(Quote(dir.Join("g.meta")), &out), 2);
  EXPECT_NE(out.find("nothing to run: give --fetch"), std::string::npos) << out;
  EXPECT_EQ(RunTool(Quote(dir.Join("g.meta")) + " --input x=1", &out), 2);
  EXPECT_NE(out.find("is not a SavedModel directory"), std::string::npos) << out;
  EXPECT_EQ(RunTool(Quote(dir.Join("g.meta")) + " --input x=1 --fetch y:0", &out), 2);
  EXPECT_NE(out.find("not both"), std::string::npos) << out;
  // A file that is not a MetaGraphDef is an error naming it.
  EXPECT_EQ(RunTool(Quote(dir.Join("g.meta")) + " --fetch y:0", &out), 2);
  EXPECT_NE(out.find(dir.Join("g.meta")), std::string::npos) << out;
  EXPECT_EQ(RunTool(Quote(dir.path()) + " --input x=1", &out), 2);  // no saved_model.pb
}

TEST(CkptRunTest, HalfPlusTwoSignature) {
  CKPT_REQUIRE_CORPUS(corpus);
  const std::string model = Quote(corpus + "/saved_model_half_plus_two");
  std::string out;
  EXPECT_EQ(RunTool(model + " --input 'x=[[1],[2],[5]]'", &out), 0) << out;
  EXPECT_EQ(out, kHalfPlusTwoOutput);
  // saved_model_cli's spellings; a flat list reshaped to the [?,1] input;
  // saved_model.pb named instead of its directory.
  EXPECT_EQ(RunTool(model + " --tag_set=serve --signature_def=serving_default --inputs 'x=[1, 2, 5]'", &out), 0)
      << out;
  EXPECT_EQ(out, kHalfPlusTwoOutput);
  EXPECT_EQ(RunTool(Quote(corpus + "/saved_model_half_plus_two/saved_model.pb") +
                    " --signature serving_default --input x=[[1],[2],[5]]",
                &out),
            0)
      << out;
  EXPECT_EQ(out, kHalfPlusTwoOutput);
  // Another signature: y3 = 0.5 * x2 + 3 (variables a2 and c2).
  ExpectGolden(model + " --signature=regress_x2_to_y3 --input 'inputs=[[0], [-4]]'",
               "ckpt_run_half_plus_two_regress.txt", corpus);
  // Any tensor of the SavedModel's graph by name.
  EXPECT_EQ(RunTool(model + " --feed 'x:0=[[1],[2]]' --fetch y:0", &out), 0) << out;
  EXPECT_EQ(out, "y:0: float32[2,1]\n[[2.5]\n [3. ]]\n");
}

TEST(CkptRunTest, HalfPlusTwoJson) {
  CKPT_REQUIRE_CORPUS(corpus);
  std::string out;
  ASSERT_EQ(RunTool(Quote(corpus + "/saved_model_half_plus_two") + " --json --input 'x=[[1],[2],[5]]'", &out), 0)
      << out;
  nlohmann::json doc = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(doc.is_discarded()) << out;
  ASSERT_EQ(doc["outputs"].size(), 1u) << out;
  const nlohmann::json& y = doc["outputs"][0];
  EXPECT_EQ(y["name"], "y");
  EXPECT_EQ(y["dtype"], "float32");
  EXPECT_EQ(y["shape"], nlohmann::json::array({3, 1}));
  EXPECT_EQ(y["values"], nlohmann::json::array({2.5, 3.0, 4.5}));
  EXPECT_FALSE(y.contains("file"));
}

TEST(CkptRunTest, NpyInputsAndOutputDir) {
  CKPT_REQUIRE_CORPUS(corpus);
  const std::string model = Quote(corpus + "/saved_model_half_plus_two");
  testing::ScratchDir dir;
  // A float64 [3] file: converted to the input's float32 and reshaped.
  Tensor x(DT_DOUBLE, TensorShape({3}));
  x.mutable_flat<double>()[0] = 1;
  x.mutable_flat<double>()[1] = 2;
  x.mutable_flat<double>()[2] = 5;
  ASSERT_TRUE(tools::WriteNpyFile(dir.Join("x.npy"), x).ok());
  const std::string out_dir = dir.Join("out/nested");
  std::string out;
  ASSERT_EQ(RunTool(model + " --input x=@" + Quote(dir.Join("x.npy")) + " --output_dir " + Quote(out_dir), &out), 0)
      << out;
  EXPECT_EQ(out, std::string(kHalfPlusTwoOutput) + "saved to " + out_dir + "/y.npy\n");
  absl::StatusOr<Tensor> y = tools::ReadNpyFile(out_dir + "/y.npy");
  ASSERT_TRUE(y.ok()) << y.status();
  ASSERT_EQ(y->dtype(), DT_FLOAT);
  ASSERT_EQ(y->shape(), TensorShape({3, 1}));
  EXPECT_EQ(y->flat<float>()[0], 2.5f);
  EXPECT_EQ(y->flat<float>()[1], 3.0f);
  EXPECT_EQ(y->flat<float>()[2], 4.5f);

  // The file exists now: refused without --overwrite, and left alone.
  const std::string before = testing::ReadFile(out_dir + "/y.npy");
  EXPECT_EQ(RunTool(model + " --input x=[[7]] --output_dir " + Quote(out_dir), &out), 2) << out;
  EXPECT_NE(out.find(out_dir + "/y.npy already exists"), std::string::npos) << out;
  EXPECT_EQ(testing::ReadFile(out_dir + "/y.npy"), before);
  ASSERT_EQ(RunTool(model + " --json --input x=[[7]] --overwrite --output_dir " + Quote(out_dir), &out), 0) << out;
  nlohmann::json doc = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << out;
  EXPECT_EQ(doc["outputs"][0]["file"], out_dir + "/y.npy");
  y = tools::ReadNpyFile(out_dir + "/y.npy");
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ(y->flat<float>()[0], 5.5f);

  // A tensor name becomes a safe file name.
  ASSERT_EQ(RunTool(model + " --feed x:0=[[0]] --fetch y:0 --output_dir " + Quote(out_dir), &out), 0) << out;
  EXPECT_TRUE(testing::FileExists(out_dir + "/y_0.npy")) << out;

  // A bad .npy is an error naming the file.
  testing::WriteFile(dir.Join("bad.npy"), "garbage");
  EXPECT_EQ(RunTool(model + " --input x=@" + Quote(dir.Join("bad.npy")), &out), 2);
  EXPECT_NE(out.find(dir.Join("bad.npy") + ": not an .npy file"), std::string::npos) << out;
}

TEST(CkptRunTest, SavedModelErrorsNameWhatFailed) {
  CKPT_REQUIRE_CORPUS(corpus);
  const std::string model = Quote(corpus + "/saved_model_half_plus_two");
  std::string out;
  EXPECT_EQ(RunTool(model + " --input 'z=[[1]]'", &out), 2);
  EXPECT_NE(out.find("signature 'serving_default' has no input 'z'; its inputs: x"), std::string::npos) << out;
  EXPECT_EQ(RunTool(model + " --input 'x=[[1],[2,3]]'", &out), 2);
  EXPECT_NE(out.find("input 'x' (float32[?,1]): ragged list"), std::string::npos) << out;
  EXPECT_NE(out.find("character 6"), std::string::npos) << out;
  EXPECT_EQ(RunTool(model + " --input 'x=[[1, 2]]'", &out), 2);
  EXPECT_NE(out.find("a value of shape [1,2] does not fit shape [?,1]"), std::string::npos) << out;
  EXPECT_EQ(RunTool(model + " --input 'x=[\"a\"]'", &out), 2);
  EXPECT_NE(out.find("is a string, not a number (dtype float32)"), std::string::npos) << out;
  EXPECT_EQ(RunTool(model + " --input x", &out), 2);
  EXPECT_NE(out.find("--input wants KEY=VALUE, got 'x'"), std::string::npos) << out;
  EXPECT_EQ(RunTool(model + " --signature=nope --input x=[[1]]", &out), 2);
  EXPECT_NE(out.find("no signature 'nope'"), std::string::npos) << out;
  EXPECT_NE(out.find("serving_default"), std::string::npos) << out;
  EXPECT_EQ(RunTool(model + " --tag_set=serve,gpu --input x=[[1]]", &out), 2);
  EXPECT_NE(out.find("no meta graph with tags"), std::string::npos) << out;
  EXPECT_EQ(RunTool(model + " --checkpoint x --input x=[[1]]", &out), 2);
  EXPECT_NE(out.find("--checkpoint is for a .meta"), std::string::npos) << out;
  EXPECT_EQ(RunTool(model, &out), 2);
  EXPECT_NE(out.find("nothing to run"), std::string::npos) << out;
  EXPECT_EQ(RunTool(model + " --fetch no_such_node:0", &out), 2);
  EXPECT_NE(out.find("no_such_node"), std::string::npos) << out;
}

// The variables' values as the checkpoint holds them.
std::vector<float> CheckpointValues(const std::string& prefix, const std::string& name) {
  auto reader = BundleReader::Open(prefix);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return {};
  absl::StatusOr<Tensor> t = (*reader)->Read(name);
  EXPECT_TRUE(t.ok()) << t.status();
  if (!t.ok()) return {};
  return std::vector<float>(t->flat<float>().begin(), t->flat<float>().end());
}

TEST(CkptRunTest, MetaGraphRestoredFromCheckpoint) {
  CKPT_REQUIRE_CORPUS(corpus);
  const std::string dir = corpus + "/udacity_save_restore";
  const std::string args = Quote(dir + "/model.ckpt.meta") + " --checkpoint " + Quote(dir + "/model.ckpt") +
                           " --fetch bias_0/read:0 --fetch weights_0/read:0";
  ExpectGolden(args, "ckpt_run_udacity_fetch.txt", corpus);
  std::string out;
  ASSERT_EQ(RunTool(args + " --json", &out), 0) << out;
  nlohmann::json doc = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << out;
  ASSERT_EQ(doc["outputs"].size(), 2u);
  EXPECT_EQ(doc["outputs"][0]["name"], "bias_0/read:0");
  EXPECT_EQ(doc["outputs"][0]["shape"], nlohmann::json::array({3}));
  EXPECT_EQ(doc["outputs"][1]["shape"], nlohmann::json::array({2, 3}));
  const std::vector<float> bias = CheckpointValues(dir + "/model.ckpt", "bias_0");
  const std::vector<float> weights = CheckpointValues(dir + "/model.ckpt", "weights_0");
  ASSERT_EQ(bias.size(), 3u);
  ASSERT_EQ(weights.size(), 6u);
  // Values the corpus manifest lists for bias_0, as float32.
  EXPECT_EQ(bias[0], static_cast<float>(-0.3625468313694));
  for (size_t i = 0; i < bias.size(); ++i) {
    EXPECT_EQ(doc["outputs"][0]["values"][i].get<double>(), static_cast<double>(bias[i])) << i;
  }
  for (size_t i = 0; i < weights.size(); ++i) {
    EXPECT_EQ(doc["outputs"][1]["values"][i].get<double>(), static_cast<double>(weights[i])) << i;
  }
  // The checkpoint may be named by one of its files.
  ASSERT_EQ(RunTool(Quote(dir + "/model.ckpt.meta") + " --checkpoint " + Quote(dir + "/model.ckpt.index") +
                    " --fetch bias_0/read:0 --json",
                &out),
            0)
      << out;
}

// The MNIST logistic regression: logits = features x Variable + Variable_1.
// A one-hot feature row picks one row of the weights, a zero row gives the
// bias alone.
TEST(CkptRunTest, MetaGraphFedFromNpyComputesLogits) {
  CKPT_REQUIRE_CORPUS(corpus);
  const std::string dir = corpus + "/udacity_save_restore";
  testing::ScratchDir scratch;
  constexpr int kRow = 3;
  Tensor features(DT_FLOAT, TensorShape({2, 784}));
  features.mutable_flat<float>()[kRow] = 1;
  ASSERT_TRUE(tools::WriteNpyFile(scratch.Join("f.npy"), features).ok());
  std::string out;
  ASSERT_EQ(RunTool(Quote(dir + "/train_model.ckpt.meta") + " --checkpoint " + Quote(dir + "/train_model.ckpt") +
                    " --feed Placeholder:0=@" + Quote(scratch.Join("f.npy")) + " --fetch Add:0 --json",
                &out),
            0)
      << out;
  nlohmann::json doc = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << out;
  EXPECT_EQ(doc["outputs"][0]["shape"], nlohmann::json::array({2, 10}));
  const std::vector<float> w = CheckpointValues(dir + "/train_model.ckpt", "Variable");
  const std::vector<float> b = CheckpointValues(dir + "/train_model.ckpt", "Variable_1");
  ASSERT_EQ(w.size(), 7840u);
  ASSERT_EQ(b.size(), 10u);
  const nlohmann::json& v = doc["outputs"][0]["values"];
  ASSERT_EQ(v.size(), 20u) << out;
  for (int j = 0; j < 10; ++j) {
    EXPECT_EQ(v[j].get<double>(), static_cast<double>(w[kRow * 10 + j] + b[j])) << j;
    EXPECT_EQ(v[10 + j].get<double>(), static_cast<double>(b[j])) << j;
  }
}

TEST(CkptRunTest, MetaGraphFeedsAndErrors) {
  CKPT_REQUIRE_CORPUS(corpus);
  const std::string dir = corpus + "/udacity_save_restore";
  const std::string meta = Quote(dir + "/model.ckpt.meta");
  std::string out;
  // Without a restore the variables are uninitialized: the error names one.
  EXPECT_EQ(RunTool(meta + " --fetch bias_0/read:0", &out), 2);
  EXPECT_NE(out.find("bias_0"), std::string::npos) << out;
  EXPECT_NE(out.find("uninitialized"), std::string::npos) << out;
  // A fed tensor replaces its node: the fetch returns the fed value,
  // converted to the tensor's float32.
  EXPECT_EQ(RunTool(meta + " --feed 'bias_0/read:0=[1, 2.5, -3]' --fetch bias_0/read:0", &out), 0) << out;
  EXPECT_EQ(out, "bias_0/read:0: float32[3]\n[ 1.   2.5 -3. ]\n");
  // Another model's checkpoint lacks these variables.
  EXPECT_EQ(RunTool(meta + " --checkpoint " + Quote(dir + "/train_model.ckpt") + " --fetch bias_0/read:0", &out), 2);
  EXPECT_NE(out.find("restoring " + dir + "/train_model.ckpt"), std::string::npos) << out;
  EXPECT_NE(out.find("not found"), std::string::npos) << out;
  EXPECT_EQ(RunTool(meta + " --checkpoint " + Quote(dir + "/nothing") + " --fetch bias_0/read:0", &out), 2);
  EXPECT_EQ(RunTool(meta + " --feed 'bias_0/read:0=[1, 2]' --fetch bias_0/read:0", &out), 2);
  EXPECT_NE(out.find("feed 'bias_0/read:0' (float32[3]): a value of shape [2] does not fit shape [3]"),
            std::string::npos)
      << out;
  EXPECT_EQ(RunTool(meta + " --feed nonsense --fetch bias_0/read:0", &out), 2);
  EXPECT_NE(out.find("--feed wants NAME:0=VALUE, got 'nonsense'"), std::string::npos) << out;
  EXPECT_EQ(RunTool(meta + " --feed 'missing:0=1' --fetch bias_0/read:0", &out), 2);
  EXPECT_NE(out.find("missing"), std::string::npos) << out;
}

}  // namespace
}  // namespace ckpt
