// MergeBundles with partitioned tensors whose slices come from several
// workers: the merged checkpoint reads back whole and under any other
// partitioning, and slices two workers both claim are refused.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/bundle_writer.h"
#include "ckpt/naming.h"
#include "gtest/gtest.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using testing::FileExists;
using testing::ScratchDir;

// Element (r, c) of the [10, 3] "embedding" is 100 * r + c, so a value tells
// where it came from.
constexpr int64_t kRows = 10;
constexpr int64_t kCols = 3;

Tensor EmbeddingRows(int64_t start, int64_t count) {
  Tensor t(DT_FLOAT, TensorShape({count, kCols}));
  absl::Span<float> v = t.mutable_flat<float>();
  for (int64_t r = 0; r < count; ++r) {
    for (int64_t c = 0; c < kCols; ++c) {
      v[r * kCols + c] = static_cast<float>(100 * (start + r) + c);
    }
  }
  return t;
}

TensorSlice Rows(int64_t start, int64_t count) {
  return *TensorSlice::FromExtents({{start, count}, {0, TensorSlice::kFullExtent}});
}

// Worker w of a job saves rows [starts[w], starts[w + 1]) of the embedding
// and, when `with_own` is set, one variable of its own.
std::vector<std::string> SaveWorkers(const std::string& merged,
                                     const std::vector<int64_t>& starts, bool with_own = true) {
  std::vector<std::string> parts;
  const size_t n = starts.size() - 1;
  for (size_t w = 0; w < n; ++w) {
    const std::string part = absl::StrCat(merged, "_temp_1/part-", w, "-of-", n);
    BundleWriter writer(part);
    const int64_t count = starts[w + 1] - starts[w];
    if (count > 0) {
      EXPECT_TRUE(writer.AddSlice("embedding", TensorShape({kRows, kCols}),
                                  Rows(starts[w], count), EmbeddingRows(starts[w], count))
                      .ok());
    }
    if (with_own) {
      Tensor own(DT_INT32, TensorShape({2}));
      own.mutable_flat<int32_t>()[0] = static_cast<int32_t>(w);
      own.mutable_flat<int32_t>()[1] = 7;
      EXPECT_TRUE(writer.Add(absl::StrCat("worker", w, "/own"), own).ok());
    }
    EXPECT_TRUE(writer.Finish().ok()) << part;
    parts.push_back(part);
  }
  return parts;
}

TEST(MergeBundlesPartitionedTest, RowsFromFourWorkersReadBackUnderAnyPartitioning) {
  ScratchDir dir;
  const std::string merged = dir.Join("model.ckpt-5");
  // Uneven, as a partitioner splits 10 rows over 4 workers: 3, 3, 2, 2.
  const std::vector<std::string> parts = SaveWorkers(merged, {0, 3, 6, 8, 10});
  ASSERT_TRUE(MergeBundles(Env::Default(), parts, merged).ok());

  auto reader = BundleReader::Open(merged);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->num_shards(), 4);
  for (int w = 0; w < 4; ++w) EXPECT_TRUE(FileExists(DataFilename(merged, w, 4)));
  auto entry = (*reader)->GetEntry("embedding");
  ASSERT_TRUE(entry.ok()) << entry.status();
  ASSERT_EQ(entry->slices.size(), 4u);
  EXPECT_EQ(entry->slices[0].ToString(), "0,3:-");
  EXPECT_EQ(entry->slices[3].ToString(), "8,2:-");
  // Each worker's slice lives in that worker's shard.
  for (int w = 0; w < 4; ++w) {
    auto rec = (*reader)->GetSliceEntry("embedding", entry->slices[w]);
    ASSERT_TRUE(rec.ok()) << rec.status();
    EXPECT_EQ(rec->shard_id, w);
  }

  auto whole = (*reader)->Read("embedding");
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_TRUE(whole->Identical(EmbeddingRows(0, kRows)));
  // Restoring on 3 workers (rows 0-3, 4-6, 7-9) and on 1: every new slice
  // straddles old boundaries.
  for (const auto& [start, count] : std::vector<std::pair<int64_t, int64_t>>{
           {0, 4}, {4, 3}, {7, 3}, {0, kRows}, {2, 7}}) {
    auto got = (*reader)->ReadSlice("embedding", Rows(start, count));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(got->Identical(EmbeddingRows(start, count))) << start << "+" << count;
  }
  // A column slice across all four saved slices.
  auto column = (*reader)->ReadSlice("embedding", *TensorSlice::Parse("1,8:2,1"));
  ASSERT_TRUE(column.ok()) << column.status();
  ASSERT_EQ(column->shape(), TensorShape({8, 1}));
  for (int64_t r = 0; r < 8; ++r) EXPECT_EQ(column->flat<float>()[r], 100.0f * (1 + r) + 2);

  auto own = (*reader)->Read("worker2/own");
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(own->flat<int32_t>()[0], 2);
  EXPECT_EQ(own->flat<int32_t>()[1], 7);
  EXPECT_FALSE(FileExists(merged + "_temp_1"));
}

TEST(MergeBundlesPartitionedTest, WorkerThatSavedNothingLeavesNoFileBehind) {
  ScratchDir dir;
  const std::string merged = dir.Join("model.ckpt-6");
  // Worker 1 owns no rows and, with_own off, writes an empty bundle: its
  // data file holds no payload and is not one of the merged shards.
  const std::vector<std::string> parts =
      SaveWorkers(merged, {0, 5, 5, 10}, /*with_own=*/false);
  ASSERT_TRUE(FileExists(DataFilename(parts[1], 0, 1)));
  ASSERT_TRUE(MergeBundles(Env::Default(), parts, merged).ok());

  auto reader = BundleReader::Open(merged);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->num_shards(), 2);
  auto whole = (*reader)->Read("embedding");
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_TRUE(whole->Identical(EmbeddingRows(0, kRows)));
  EXPECT_FALSE(FileExists(DataFilename(parts[1], 0, 1)));
  EXPECT_FALSE(FileExists(merged + "_temp_1"));
}

TEST(MergeBundlesPartitionedTest, OverlappingSlicesAreRefusedNamingBothInputs) {
  ScratchDir dir;
  const std::string merged = dir.Join("model.ckpt-7");
  // Worker 0 saves rows 0-5, worker 1 rows 4-9: rows 4 and 5 twice.
  std::vector<std::string> parts;
  for (const auto& [start, count] : std::vector<std::pair<int64_t, int64_t>>{{0, 6}, {4, 6}}) {
    parts.push_back(dir.Join(absl::StrCat("part", start)));
    BundleWriter writer(parts.back());
    ASSERT_TRUE(writer.AddSlice("embedding", TensorShape({kRows, kCols}), Rows(start, count),
                                EmbeddingRows(start, count))
                    .ok());
    ASSERT_TRUE(writer.Finish().ok());
  }
  absl::Status s = MergeBundles(Env::Default(), parts, merged);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), absl::StrCat("MergeBundles: slice 4,6:- of 'embedding' in ", parts[1],
                                      " overlaps slice 0,6:- in ", parts[0]));
  // Nothing was committed and the inputs are intact.
  EXPECT_FALSE(FileExists(IndexFilename(merged)));
  EXPECT_TRUE(FileExists(IndexFilename(parts[0])));
  EXPECT_TRUE(FileExists(IndexFilename(parts[1])));
}

TEST(MergeBundlesPartitionedTest, SameSliceFromTwoWorkersIsNamedReadably) {
  ScratchDir dir;
  std::vector<std::string> parts = {dir.Join("a"), dir.Join("b")};
  for (const std::string& p : parts) {
    BundleWriter writer(p);
    ASSERT_TRUE(writer.AddSlice("embedding", TensorShape({kRows, kCols}), Rows(0, 2),
                                EmbeddingRows(0, 2))
                    .ok());
    ASSERT_TRUE(writer.Finish().ok());
  }
  absl::Status s = MergeBundles(Env::Default(), parts, dir.Join("m"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), absl::StrCat("MergeBundles: slice 0,2:- of 'embedding' is saved in both ",
                                      parts[0], " and ", parts[1]));
}

TEST(MergeBundlesPartitionedTest, DisagreeingFullShapesAreRefused) {
  ScratchDir dir;
  std::vector<std::string> parts = {dir.Join("a"), dir.Join("b")};
  for (int w = 0; w < 2; ++w) {
    BundleWriter writer(parts[w]);
    // Worker 1 believes the embedding has 12 rows.
    ASSERT_TRUE(writer.AddSlice("embedding", TensorShape({w == 0 ? kRows : 12, kCols}),
                                Rows(5 * w, 5), EmbeddingRows(5 * w, 5))
                    .ok());
    ASSERT_TRUE(writer.Finish().ok());
  }
  absl::Status s = MergeBundles(Env::Default(), parts, dir.Join("m"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            absl::StrCat("MergeBundles: partitioned tensor 'embedding' is float32 [10,3] in ",
                         parts[0], " but float32 [12,3] in ", parts[1]));
}

}  // namespace
}  // namespace ckpt
