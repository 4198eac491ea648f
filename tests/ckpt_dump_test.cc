// ckpt_dump as a user runs it, compared with golden outputs in
// testdata/golden/ (regenerate with CKPT_UPDATE_GOLDEN=1 and review the diff).
#include <cmath>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/bundle_writer.h"
#include "ckpt/checkpoint_state.h"
#include "ckpt/naming.h"
#include "gtest/gtest.h"
#include "trackable_object_graph.pb.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using testing::RunCommand;
using testing::ToolPath;

// Runs ckpt_dump with `args`, replaces `dir` by <dir> and the corpus path by
// <corpus>, and compares with testdata/golden/<golden>.
void ExpectGolden(const std::string& args, const std::string& golden, int want_exit,
                  const std::string& dir = "", const std::string& corpus = "") {
  std::string out;
  int code = RunCommand(ToolPath("ckpt_dump") + " " + args, &out, /*merge_stderr=*/true);
  EXPECT_EQ(code, want_exit) << args << "\n" << out;
  if (!dir.empty()) out = absl::StrReplaceAll(out, {{dir, "<dir>"}});
  if (!corpus.empty()) out = absl::StrReplaceAll(out, {{corpus, "<corpus>"}});
  const std::string path = std::string(CKPT_SOURCE_DIR) + "/testdata/golden/" + golden;
  if (std::getenv("CKPT_UPDATE_GOLDEN") != nullptr) {
    testing::WriteFile(path, out);
    return;
  }
  ASSERT_TRUE(testing::FileExists(path)) << "missing golden " << path
                                         << " (run with CKPT_UPDATE_GOLDEN=1)\n" << out;
  EXPECT_EQ(out, testing::ReadFile(path)) << "golden " << golden << " differs";
}

// A checkpoint with one tensor of each kind the printers handle.
std::string MakeSample(const testing::ScratchDir& dir) {
  const std::string prefix = dir.Join("run/model.ckpt-100");
  BundleWriter writer(prefix);
  Tensor w(DT_FLOAT, TensorShape({3, 4}));
  auto wv = w.mutable_flat<float>();
  for (int i = 0; i < 12; ++i) wv[i] = 0.25f * static_cast<float>(i) - 1.0f;
  Tensor b(DT_DOUBLE, TensorShape({4}));
  auto bv = b.mutable_flat<double>();
  bv[0] = 0.1;
  bv[1] = NAN;
  bv[2] = INFINITY;
  bv[3] = 0.0;
  Tensor step(DT_INT64, TensorShape({}));
  step.mutable_flat<int64_t>()[0] = 100;
  Tensor mask(DT_BOOL, TensorShape({2, 2}));
  mask.mutable_flat<uint8_t>()[1] = 1;
  Tensor h(DT_HALF, TensorShape({3}));
  auto hv = h.mutable_flat<uint16_t>();
  hv[0] = 0x3c00;  // 1.0
  hv[1] = 0xc000;  // -2.0
  hv[2] = 0x3555;  // ~0.3333
  Tensor vocab(DT_STRING, TensorShape({3}));
  (*vocab.mutable_strings())[0] = "hello";
  (*vocab.mutable_strings())[1] = std::string("a\0b\n", 4);
  (*vocab.mutable_strings())[2] = "it's";
  Tensor big(DT_FLOAT, TensorShape({40, 50}));
  auto gv = big.mutable_flat<float>();
  for (int i = 0; i < 2000; ++i) gv[i] = static_cast<float>(i % 97) / 8.0f;
  EXPECT_TRUE(writer.Add("dense/kernel", w).ok());
  EXPECT_TRUE(writer.Add("dense/bias", b).ok());
  EXPECT_TRUE(writer.Add("global_step", step).ok());
  EXPECT_TRUE(writer.Add("mask", mask).ok());
  EXPECT_TRUE(writer.Add("half", h).ok());
  EXPECT_TRUE(writer.Add("vocab", vocab).ok());
  EXPECT_TRUE(writer.Add("embedding", big).ok());
  Tensor part(DT_INT32, TensorShape({2, 3}));
  for (int i = 0; i < 6; ++i) part.mutable_flat<int32_t>()[i] = i;
  EXPECT_TRUE(writer.AddSlice("partitioned", TensorShape({4, 3}), *TensorSlice::Parse("0,2:-"), part).ok());
  EXPECT_TRUE(writer.AddSlice("partitioned", TensorShape({4, 3}), *TensorSlice::Parse("2,2:-"), part).ok());
  EXPECT_TRUE(writer.Finish().ok());
  tensorflow::CheckpointState st;
  st.set_model_checkpoint_path("model.ckpt-100");
  st.add_all_model_checkpoint_paths("model.ckpt-50");
  st.add_all_model_checkpoint_paths("model.ckpt-100");
  st.add_all_model_checkpoint_timestamps(1734403150.5);
  st.add_all_model_checkpoint_timestamps(1734403158.25);
  EXPECT_TRUE(WriteCheckpointState(Env::Default(), dir.Join("run"), st).ok());
  return prefix;
}

TEST(CkptDumpTest, ListingTextAndJson) {
  testing::ScratchDir dir;
  const std::string prefix = MakeSample(dir);
  ExpectGolden(prefix, "dump_listing.txt", 0, dir.path());
  ExpectGolden("--json " + prefix, "dump_listing.json", 0, dir.path());
}

TEST(CkptDumpTest, VerifyCleanAndCorrupt) {
  testing::ScratchDir dir;
  const std::string prefix = MakeSample(dir);
  ExpectGolden("--verify " + prefix, "dump_verify_ok.txt", 0, dir.path());
  // Flip one bit inside "dense/bias".
  auto reader = BundleReader::Open(prefix);
  ASSERT_TRUE(reader.ok());
  const int64_t off = (*reader)->GetEntry("dense/bias")->offset + 9;
  reader->reset();
  std::string data = testing::ReadFile(DataFilename(prefix, 0, 1));
  data[off] ^= 0x04;
  testing::WriteFile(DataFilename(prefix, 0, 1), data);
  ExpectGolden("--verify " + prefix, "dump_verify_bad.txt", 1, dir.path());
  ExpectGolden("--verify --json " + prefix, "dump_verify_bad.json", 1, dir.path());
  // Truncated data file: the checkpoint is damaged as a whole.
  testing::WriteFile(DataFilename(prefix, 0, 1), data.substr(0, data.size() / 2));
  ExpectGolden("--verify " + prefix, "dump_verify_truncated.txt", 2, dir.path());
}

TEST(CkptDumpTest, ValuesAndStats) {
  testing::ScratchDir dir;
  const std::string prefix = MakeSample(dir);
  ExpectGolden("--tensor='dense/*' --tensor=vocab " + prefix, "dump_values_glob.txt", 0, dir.path());
  ExpectGolden("--all_tensors " + prefix, "dump_all_tensors.txt", 0, dir.path());
  ExpectGolden("--tensor=embedding --max_elements=10 " + prefix, "dump_values_summarized.txt", 0, dir.path());
  ExpectGolden("--stats " + prefix, "dump_stats.txt", 0, dir.path());
  ExpectGolden("--json --stats --tensor=dense/bias --tensor=half --tensor=vocab " + prefix,
               "dump_values_stats.json", 0, dir.path());
  ExpectGolden("--tensor=dense/kernal " + prefix, "dump_values_unknown.txt", 2, dir.path());
}

TEST(CkptDumpTest, CorpusValues) {
  CKPT_REQUIRE_CORPUS(corpus);
  ExpectGolden("--all_tensors --stats " + corpus + "/udacity_save_restore/model.ckpt", "corpus_values_udacity.txt", 0, "", corpus);
  ExpectGolden("--tensor='*conv3/b*' --tensor='save_counter*' --stats " + corpus + "/tf2_object_graph/ckpt-1",
               "corpus_values_tf2.txt", 0, "", corpus);
  ExpectGolden("--all_tensors --json " + corpus + "/saved_model_half_plus_two", "corpus_values_saved_model.json", 0, "", corpus);
}

TEST(CkptDumpTest, State) {
  testing::ScratchDir dir;
  MakeSample(dir);
  ExpectGolden("--state " + dir.Join("run"), "dump_state.txt", 0, dir.path());
  ExpectGolden("--state --json " + dir.Join("run"), "dump_state.json", 0, dir.path());
}

TEST(CkptDumpTest, ExplainsWhatIsThereWhenPathIsWrong) {
  testing::ScratchDir dir;
  MakeSample(dir);
  ExpectGolden(dir.Join("run/model.ckpt"), "dump_not_found.txt", 2, dir.path());
  ExpectGolden(dir.path(), "dump_dir_without_checkpoint.txt", 2, dir.path());
}

TEST(CkptDumpTest, CorpusListingsAndVerify) {
  CKPT_REQUIRE_CORPUS(corpus);
  for (const std::string& prefix : testing::CorpusManifestPrefixes(corpus)) {
    std::string rel = prefix.substr(corpus.size() + 1);
    std::string name = absl::StrReplaceAll(rel, {{"/", "_"}});
    SCOPED_TRACE(rel);
    ExpectGolden(prefix, "corpus_" + name + ".txt", 0, "", corpus);
    ExpectGolden("--verify " + prefix, "corpus_" + name + "_verify.txt", 0, "", corpus);
  }
  ExpectGolden("--state " + corpus + "/tf2_object_graph", "corpus_tf2_state.txt", 0, "", corpus);
}

TEST(CkptDumpTest, CorpusMetaGraphsAndObjectGraph) {
  CKPT_REQUIRE_CORPUS(corpus);
  ExpectGolden("--meta " + corpus + "/udacity_save_restore/model.ckpt.meta", "corpus_meta_udacity_model.txt", 0, "", corpus);
  ExpectGolden("--meta " + corpus + "/udacity_save_restore/train_model.ckpt", "corpus_meta_udacity_train.txt", 0, "", corpus);
  ExpectGolden("--meta --json " + corpus + "/udacity_save_restore/model.ckpt", "corpus_meta_udacity_model.json", 0, "", corpus);
  ExpectGolden("--meta " + corpus + "/saved_model_half_plus_two", "corpus_meta_saved_model.txt", 0, "", corpus);
  ExpectGolden("--meta " + corpus + "/saved_model_half_plus_two/saved_model.pb --json", "corpus_meta_saved_model.json", 0, "", corpus);
  ExpectGolden("--meta " + corpus + "/v1_half_plus_two/export.meta", "corpus_meta_v1.txt", 0, "", corpus);
  ExpectGolden("--object_graph " + corpus + "/tf2_object_graph", "corpus_object_graph.txt", 0, "", corpus);
  ExpectGolden("--object_graph " + corpus + "/udacity_save_restore/model.ckpt", "corpus_object_graph_tf1.txt", 2, "", corpus);
}

// An object graph with an optimizer and its slots, as Keras saves one.
TEST(CkptDumpTest, ObjectGraphShowsOptimizerSlots) {
  testing::ScratchDir dir;
  const std::string prefix = dir.Join("ckpt-1");
  tensorflow::TrackableObjectGraph g;
  auto* root = g.add_nodes();                       // 0
  auto* layer = g.add_nodes();                      // 1
  auto* kernel = g.add_nodes();                     // 2
  auto* opt = g.add_nodes();                        // 3
  auto* m = g.add_nodes();                          // 4
  auto* step = g.add_nodes();                       // 5
  auto child = [](tensorflow::TrackableObjectGraph::TrackableObject* n, int id, const char* name) {
    auto* c = n->add_children();
    c->set_node_id(id);
    c->set_local_name(name);
  };
  auto attr = [](tensorflow::TrackableObjectGraph::TrackableObject* n, const std::string& key) {
    auto* a = n->add_attributes();
    a->set_name("VARIABLE_VALUE");
    a->set_checkpoint_key(key);
  };
  child(root, 1, "dense");
  child(root, 3, "optimizer");
  child(layer, 2, "kernel");
  child(opt, 5, "iter");
  attr(kernel, "dense/kernel/.ATTRIBUTES/VARIABLE_VALUE");
  attr(m, "dense/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE");
  attr(step, "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE");
  auto* slot = opt->add_slot_variables();
  slot->set_original_variable_node_id(2);
  slot->set_slot_name("m");
  slot->set_slot_variable_node_id(4);
  {
    BundleWriter writer(prefix);
    Tensor graph(DT_STRING, TensorShape({}));
    (*graph.mutable_strings())[0] = g.SerializeAsString();
    ASSERT_TRUE(writer.Add("_CHECKPOINTABLE_OBJECT_GRAPH", graph).ok());
    ASSERT_TRUE(writer.Add("dense/kernel/.ATTRIBUTES/VARIABLE_VALUE", Tensor(DT_FLOAT, TensorShape({2, 2}))).ok());
    ASSERT_TRUE(writer.Add("dense/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE",
                           Tensor(DT_FLOAT, TensorShape({2, 2}))).ok());
    ASSERT_TRUE(writer.Add("optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE", Tensor(DT_INT64, TensorShape({}))).ok());
    ASSERT_TRUE(writer.Finish().ok());
  }
  ExpectGolden("--object_graph " + prefix, "dump_object_graph_slots.txt", 0, dir.path());
}

// Acceptance: the JSON listing agrees with every MANIFEST.json of the corpus.
TEST(CkptDumpTest, JsonListingAgreesWithManifests) {
  CKPT_REQUIRE_CORPUS(corpus);
  for (const std::string& prefix : testing::CorpusManifestPrefixes(corpus)) {
    SCOPED_TRACE(prefix);
    std::string out;
    ASSERT_EQ(RunCommand(ToolPath("ckpt_dump") + " --json '" + prefix + "'", &out, false), 0);
    auto doc = nlohmann::json::parse(out);
    auto m = nlohmann::json::parse(testing::ReadFile(prefix + ".MANIFEST.json"));
    EXPECT_EQ(doc["num_shards"], m["num_shards"]);
    EXPECT_EQ(doc["version"]["producer"], m["version"]["producer"]);
    EXPECT_EQ(doc["version"]["min_consumer"], m["version"]["min_consumer"]);
    ASSERT_EQ(doc["tensors"].size(), m["tensors"].size());
    for (size_t i = 0; i < m["tensors"].size(); ++i) {
      const auto& want = m["tensors"][i];
      const auto& got = doc["tensors"][i];
      for (const char* field : {"name", "dtype", "shape", "shard", "offset", "size"}) {
        EXPECT_EQ(got[field], want[field]) << field << " of " << want["name"];
      }
      EXPECT_EQ(got["slices"].size(), want["slices"].get<size_t>());
    }
  }
}

// Acceptance: a flipped bit in any tensor of a corpus checkpoint copy is found
// and the tensor named.
TEST(CkptDumpTest, VerifyFindsAFlippedBitInEveryCorpusTensor) {
  CKPT_REQUIRE_CORPUS(corpus);
  testing::ScratchDir dir;
  const std::string src = corpus + "/udacity_save_restore/train_model.ckpt";
  const std::string copy = dir.Join("copy");
  testing::CopyFile(src + ".index", copy + ".index");
  const std::string clean = testing::ReadFile(DataFilename(src, 0, 1));
  auto reader = BundleReader::Open(src);
  ASSERT_TRUE(reader.ok());
  for (const BundleEntryInfo& e : (*reader)->entries()) {
    for (int64_t at : {e.offset, e.offset + e.size / 2, e.offset + e.size - 1}) {
      std::string data = clean;
      data[at] ^= 0x20;
      testing::WriteFile(DataFilename(copy, 0, 1), data);
      std::string out;
      EXPECT_EQ(RunCommand(ToolPath("ckpt_dump") + " --verify " + copy, &out), 1) << out;
      EXPECT_NE(out.find("BAD    " + e.name + ":"), std::string::npos) << out;
    }
  }
}

}  // namespace
}  // namespace ckpt
