// ckpt_dump on legacy V1 checkpoints, as a user runs it: every path form,
// the listing, values, --json and --verify, on files written here and on
// the V1 checkpoint TensorFlow wrote in the corpus.
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/checkpoint_state.h"
#include "ckpt/v1_reader.h"
#include "common/v1_source.h"
#include "gtest/gtest.h"
#include "util/test_util.h"
#include "util/v1_writer.h"

namespace ckpt {
namespace {

using nlohmann::json;
using testing::RunCommand;
using testing::ToolPath;
using testing::V1FileBuilder;
constexpr auto Floats = testing::FloatValues;
using ::tensorflow::TensorProto;

std::string Dump(const std::string& args, int want_exit) {
  std::string out;
  EXPECT_EQ(RunCommand(ToolPath("ckpt_dump") + " " + args, &out), want_exit) << args << "\n" << out;
  return out;
}

TEST(V1ToolsTest, DumpListsEveryPathForm) {
  testing::ScratchDir dir;
  const std::string prefix = testing::WriteShardedV1Sample(dir.path());
  // A `checkpoint` file from another machine, naming the ?????-pattern.
  tensorflow::CheckpointState st;
  st.set_model_checkpoint_path("/elsewhere/train/model.ckpt-1000-\?\?\?\?\?-of-00002");
  ASSERT_TRUE(WriteCheckpointState(nullptr, dir.path(), st).ok());
  for (const std::string& path : {prefix, prefix + "-\?\?\?\?\?-of-00002", prefix + "-00001-of-00002",
                                  dir.path()}) {
    SCOPED_TRACE(path);
    const std::string out = Dump("'" + path + "'", 0);
    EXPECT_TRUE(absl::StrContains(out, "format:     V1 (TensorFlow < 0.12 table of tensor slices), 2 files"))
        << out;
    EXPECT_TRUE(absl::StrContains(out, "tensors:    2 (13 parameters, ")) << out;
    EXPECT_TRUE(absl::StrContains(out, "\nglobal_step  int64    []     ")) << out;
    EXPECT_TRUE(absl::StrContains(out, "\nw            float32  [4,3]  2 slices\n")) << out;
  }
}

TEST(V1ToolsTest, ValuesAndJson) {
  testing::ScratchDir dir;
  const std::string prefix = testing::WriteShardedV1Sample(dir.path());
  const json doc = json::parse(Dump("--json --all_tensors '" + prefix + "'", 0));
  EXPECT_EQ(doc["format"], "V1");
  EXPECT_EQ(doc["prefix"], prefix);
  EXPECT_EQ(doc["files"], json({prefix + "-00000-of-00002", prefix + "-00001-of-00002"}));
  EXPECT_EQ(doc["version"]["producer"], 1);
  EXPECT_EQ(doc["num_tensors"], 2);
  EXPECT_EQ(doc["total_parameters"], 13);
  const json& step = doc["tensors"][0];
  EXPECT_EQ(step["name"], "global_step");
  EXPECT_EQ(step["dtype"], "int64");
  EXPECT_EQ(step["shape"], json::array());
  EXPECT_EQ(step["values"], json({1000}));  // values are flat, row-major
  const json& w = doc["tensors"][1];
  EXPECT_EQ(w["shape"], json({4, 3}));
  EXPECT_EQ(w["slices"], json({"0,2:-", "2,2:-"}));
  EXPECT_EQ(w["slice_files"], json({0, 1}));
  EXPECT_EQ(w["values"], json({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));

  const std::string text = Dump("--tensor w --stats '" + prefix + "'", 0);
  EXPECT_TRUE(absl::StrContains(text, "[[ 0.  1.  2.]\n [ 3.  4.  5.]\n [ 6.  7.  8.]\n [ 9. 10. 11.]]\n"))
      << text;
  EXPECT_TRUE(absl::StrContains(text, "min 0  max 11  mean 5.5")) << text;
  const std::string missing = Dump("--tensor v '" + prefix + "'", 2);
  EXPECT_TRUE(absl::StrContains(missing, "'v' not found in V1 checkpoint")) << missing;
}

TEST(V1ToolsTest, VerifyFindsBadTensorsAndRecords) {
  testing::ScratchDir dir;
  const std::string prefix = testing::WriteShardedV1Sample(dir.path());
  std::string out = Dump("--verify '" + prefix + "'", 0);
  EXPECT_TRUE(absl::StrContains(out, "verify: 2 ok, 0 bad")) << out;

  // A slice record with one value short: that tensor is bad (exit 1).
  V1FileBuilder b;
  b.Add("w", DT_FLOAT, {2, 3}, "-:-", Floats({1, 2, 3, 4, 5}));
  b.Add("v", DT_FLOAT, {1}, "-", Floats({1}));
  b.Write(dir.Join("short"));
  out = Dump("--verify '" + dir.Join("short") + "'", 1);
  EXPECT_TRUE(absl::StrContains(out, "BAD    w: ")) << out;
  EXPECT_TRUE(absl::StrContains(out, "holds 5 values of float32 for 6 elements")) << out;
  EXPECT_TRUE(absl::StrContains(out, "verify: 1 ok, 1 bad")) << out;

  // A record no table of contents lists: the file is damaged (exit 2).
  V1FileBuilder orphan;
  orphan.Add("w", DT_FLOAT, {1}, "-", Floats({1}));
  orphan.Add("x", DT_FLOAT, {1}, "-", Floats({2}));
  orphan.meta()->mutable_tensor()->RemoveLast();
  orphan.Write(dir.Join("orphan"));
  out = Dump("--verify --json '" + dir.Join("orphan") + "'", 2);
  const json doc = json::parse(out);
  EXPECT_EQ(doc["ok"], false);
  ASSERT_EQ(doc["file_errors"].size(), 1u);
  EXPECT_TRUE(absl::StrContains(doc["file_errors"][0].get<std::string>(), "not listed")) << out;

  // Not a checkpoint at all: DataLoss naming the file.
  testing::WriteFile(dir.Join("notes"), "just some text, long enough to look at its footer......");
  out = Dump("'" + dir.Join("notes") + "'", 2);
  EXPECT_TRUE(absl::StrContains(out, dir.Join("notes"))) << out;
  out = Dump("--object_graph '" + prefix + "'", 2);
  EXPECT_TRUE(absl::StrContains(out, "V1 checkpoint, which has no object graph")) << out;
}

// What ckpt_convert reads a V1 checkpoint through.
TEST(V1ToolsTest, TensorSource) {
  testing::ScratchDir dir;
  const std::string prefix = testing::WriteShardedV1Sample(dir.path());
  auto src = tools::OpenV1Source(prefix);
  ASSERT_TRUE(src.ok()) << src.status();
  EXPECT_EQ((*src)->path(), prefix);
  EXPECT_EQ((*src)->metadata().at("source_format"), "tensorflow_checkpoint_v1");
  const auto& tensors = (*src)->tensors();
  ASSERT_EQ(tensors.size(), 2u);
  EXPECT_EQ(tensors[0].name, "global_step");
  EXPECT_EQ(tensors[1].name, "w");
  EXPECT_EQ(tensors[1].dtype, DT_FLOAT);
  EXPECT_EQ(tensors[1].shape, TensorShape({4, 3}));
  EXPECT_GT(tensors[1].bytes, 48u);  // two records of 6 packed floats and more
  auto w = (*src)->Read(1);
  ASSERT_TRUE(w.ok()) << w.status();
  auto v = w->flat<float>();
  EXPECT_EQ(std::vector<float>(v.begin(), v.end()),
            (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_EQ((*src)->Read(2).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(tools::OpenV1Source(dir.Join("none")).status().code(), absl::StatusCode::kNotFound);
}

std::string Convert(const std::string& args, int want_exit) {
  std::string out;
  EXPECT_EQ(RunCommand(ToolPath("ckpt_convert") + " " + args, &out), want_exit) << args << "\n" << out;
  return out;
}

// ckpt_convert V1 -> V2: the sharded, partitioned sample becomes a bundle
// whose tensors are whole and equal to what the V1 reader assembles.
TEST(V1ToolsTest, ConvertShardedV1ToBundle) {
  testing::ScratchDir dir;
  const std::string prefix = testing::WriteShardedV1Sample(dir.path());
  const std::string out = Convert("'" + prefix + "-\?\?\?\?\?-of-00002' '" + dir.Join("v2") + "'", 0);
  EXPECT_TRUE(absl::StrContains(out, "2 tensors")) << out;
  auto v1 = V1Reader::Open(prefix);
  ASSERT_TRUE(v1.ok()) << v1.status();
  auto v2 = BundleReader::Open(dir.Join("v2"));
  ASSERT_TRUE(v2.ok()) << v2.status();
  ASSERT_EQ((*v2)->num_tensors(), 2u);
  for (const char* name : {"global_step", "w"}) {
    auto a = (*v1)->Read(name);
    auto b = (*v2)->Read(name);
    ASSERT_TRUE(a.ok() && b.ok()) << name << ": " << a.status() << " / " << b.status();
    EXPECT_TRUE(a->Identical(*b)) << name;
  }
  auto w = (*v2)->Read("w");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->shape(), TensorShape({4, 3}));
  EXPECT_FLOAT_EQ(w->flat<float>()[11], 11.0f);
  Dump("--verify '" + dir.Join("v2") + "'", 0);
  // A V1 source also converts straight to .npz.
  Convert("'" + prefix + "' '" + dir.Join("w.npz") + "'", 0);
  EXPECT_TRUE(testing::FileExists(dir.Join("w.npz")));
}

TEST(V1ToolsTest, TensorFlowWrittenCorpusFile) {
  CKPT_REQUIRE_CORPUS(corpus);
  const std::string dir = corpus + "/v1_half_plus_two";
  for (const std::string& path : {dir, dir + "/export", dir + "/export.meta"}) {
    SCOPED_TRACE(path);
    const std::string out = Dump("--verify '" + path + "'", 0);
    EXPECT_TRUE(absl::StrContains(out, "checkpoint: " + dir + "/export\n")) << out;
    EXPECT_TRUE(absl::StrContains(out, "format:     V1 (TensorFlow < 0.12 table of tensor slices), 1 file\n")) << out;
    EXPECT_TRUE(absl::StrContains(out, "\nVariable    float32  []     ")) << out;
    EXPECT_TRUE(absl::StrContains(out, "\nVariable_1  float32  []     ")) << out;
    EXPECT_TRUE(absl::StrContains(out, "verify: 2 ok, 0 bad")) << out;
  }
  const json doc = json::parse(Dump("--json --all_tensors '" + dir + "'", 0));
  EXPECT_EQ(doc["format"], "V1");
  ASSERT_EQ(doc["tensors"].size(), 2u);
  EXPECT_EQ(doc["tensors"][0]["name"], "Variable");
  EXPECT_EQ(doc["tensors"][0]["values"], json({0.5}));
  EXPECT_EQ(doc["tensors"][1]["name"], "Variable_1");
  EXPECT_EQ(doc["tensors"][1]["values"], json({2.0}));

  // ckpt_convert turns it into a V2 checkpoint that verifies, values intact.
  testing::ScratchDir out_dir;
  const std::string v2 = out_dir.Join("half_plus_two");
  Convert("'" + dir + "' '" + v2 + "'", 0);
  EXPECT_TRUE(absl::StrContains(Dump("--verify '" + v2 + "'", 0), "verify: 2 ok, 0 bad"));
  auto reader = BundleReader::Open(v2);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto a = (*reader)->Read("Variable");
  auto b = (*reader)->Read("Variable_1");
  ASSERT_TRUE(a.ok() && b.ok()) << a.status() << " / " << b.status();
  EXPECT_EQ(a->dtype(), DT_FLOAT);
  EXPECT_EQ(a->shape(), TensorShape({}));
  EXPECT_EQ(a->flat<float>()[0], 0.5f);
  EXPECT_EQ(b->flat<float>()[0], 2.0f);
}

}  // namespace
}  // namespace ckpt
