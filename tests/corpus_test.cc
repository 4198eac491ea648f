// Checkpoints written by real TensorFlow (../shared/tf-corpus): everything an
// independent reader recorded in each MANIFEST.json must agree with what we
// read, and ckpt_convert must reproduce the uncompressed ones byte for byte.
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/naming.h"
#include "gtest/gtest.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using nlohmann::json;

class CorpusTest : public ::testing::Test {};

TEST_F(CorpusTest, EveryManifestFieldAgrees) {
  CKPT_REQUIRE_CORPUS(corpus);
  const auto prefixes = testing::CorpusManifestPrefixes(corpus);
  ASSERT_FALSE(prefixes.empty()) << "corpus holds no MANIFEST.json";
  for (const std::string& prefix : prefixes) {
    SCOPED_TRACE(prefix);
    const json m = json::parse(testing::ReadFile(prefix + ".MANIFEST.json"));
    auto reader = BundleReader::Open(prefix);
    ASSERT_TRUE(reader.ok()) << reader.status();
    const auto& h = (*reader)->header();
    EXPECT_EQ(h.num_shards(), m["num_shards"].get<int>());
    EXPECT_EQ(static_cast<int>(h.endianness()), m["endianness"].get<int>());
    EXPECT_EQ(h.version().producer(), m["version"]["producer"].get<int>());
    EXPECT_EQ(h.version().min_consumer(), m["version"]["min_consumer"].get<int>());

    const auto& entries = (*reader)->entries();
    ASSERT_EQ(entries.size(), m["tensors"].size());
    for (const json& t : m["tensors"]) {
      const std::string name = t["name"];
      SCOPED_TRACE(name);
      auto e = (*reader)->GetEntry(name);
      ASSERT_TRUE(e.ok()) << e.status();
      EXPECT_EQ(DTypeName(e->dtype), t["dtype"].get<std::string>());
      EXPECT_EQ(e->shape.dims(), t["shape"].get<std::vector<int64_t>>());
      EXPECT_EQ(e->shard_id, t["shard"].get<int>());
      EXPECT_EQ(e->offset, t["offset"].get<int64_t>());
      EXPECT_EQ(e->size, t["size"].get<int64_t>());
      EXPECT_EQ(e->slices.size(), t["slices"].get<size_t>());
      // Reading verifies the CRC32C; the bytes hash as the manifest says.
      auto stored = (*reader)->ReadStoredBytes(name);
      ASSERT_TRUE(stored.ok()) << stored.status();
      EXPECT_EQ(testing::Sha256Hex(*stored).substr(0, 16), t["sha256"].get<std::string>());
      auto tensor = (*reader)->Read(name);
      ASSERT_TRUE(tensor.ok()) << tensor.status();
    }
    if (m.contains("sample_values")) {
      for (const auto& [name, values] : m["sample_values"].items()) {
        SCOPED_TRACE(name);
        auto t = (*reader)->Read(name);
        ASSERT_TRUE(t.ok()) << t.status();
        ASSERT_GE(static_cast<size_t>(t->NumElements()), values.size());
        for (size_t i = 0; i < values.size(); ++i) {
          if (t->dtype() == DT_FLOAT) {
            EXPECT_EQ(t->flat<float>()[i], values[i].get<float>()) << i;
          } else if (t->dtype() == DT_INT64) {
            EXPECT_EQ(t->flat<int64_t>()[i], values[i].get<int64_t>()) << i;
          } else {
            ADD_FAILURE() << "sample of unexpected dtype " << DTypeName(t->dtype());
          }
        }
      }
    }
  }
}

TEST_F(CorpusTest, ObjectGraphStringTensorDecodes) {
  CKPT_REQUIRE_CORPUS(corpus);
  auto reader = BundleReader::Open(corpus + "/tf2_object_graph/ckpt-1");
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto graph = (*reader)->Read("_CHECKPOINTABLE_OBJECT_GRAPH");
  ASSERT_TRUE(graph.ok()) << graph.status();
  ASSERT_EQ(graph->strings().size(), 1u);
  // A serialized TrackableObjectGraph naming the checkpoint keys it covers.
  EXPECT_NE(graph->strings()[0].find("save_counter/.ATTRIBUTES/VARIABLE_VALUE"), std::string::npos);
}

TEST_F(CorpusTest, ConvertIsByteIdenticalOnUncompressedCheckpoints) {
  CKPT_REQUIRE_CORPUS(corpus);
  testing::ScratchDir dir;
  int identical = 0, compressed = 0;
  for (const std::string& prefix : testing::CorpusManifestPrefixes(corpus)) {
    SCOPED_TRACE(prefix);
    auto reader = BundleReader::Open(prefix);
    ASSERT_TRUE(reader.ok()) << reader.status();
    const std::string out = dir.Join(absl::StrCat("out", identical + compressed, "/ckpt"));
    std::string log;
    ASSERT_EQ(testing::RunCommand(absl::StrCat(testing::ToolPath("ckpt_convert"), " --quiet '",
                                               prefix, "' '", out, "'"),
                                  &log),
              0)
        << log;
    const int shards = (*reader)->num_shards();
    if (!(*reader)->index_compressed()) {
      EXPECT_EQ(testing::ReadFile(IndexFilename(out)), testing::ReadFile(IndexFilename(prefix)));
      ASSERT_EQ(shards, 1);
      EXPECT_EQ(testing::ReadFile(DataFilename(out, 0, 1)),
                testing::ReadFile(DataFilename(prefix, 0, 1)));
      ++identical;
    } else {
      ++compressed;
    }
    // Either way, every tensor comes out identical.
    auto copy = BundleReader::Open(out);
    ASSERT_TRUE(copy.ok()) << copy.status();
    ASSERT_EQ((*copy)->entries().size(), (*reader)->entries().size());
    for (const BundleEntryInfo& e : (*reader)->entries()) {
      auto a = (*reader)->Read(e.name);
      auto b = (*copy)->Read(e.name);
      ASSERT_TRUE(a.ok() && b.ok()) << e.name;
      EXPECT_TRUE(a->Identical(*b)) << e.name;
    }
  }
  EXPECT_GT(identical, 0);
  std::cout << identical << " byte-identical copies, " << compressed
            << " Snappy-indexed checkpoints copied tensor for tensor\n";
}

}  // namespace
}  // namespace ckpt
