// The direct encoder/decoder of index records against protobuf itself: the
// encoder must produce protobuf's exact bytes, and the decoder must either
// agree with protobuf's parse or decline.
#include "ckpt/bundle/entry_codec.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ckpt/tensor_shape.h"
#include "gtest/gtest.h"
#include "tensor_bundle.pb.h"

namespace ckpt {
namespace {

::tensorflow::BundleEntryProto MakeProto(int dtype, const std::vector<int64_t>& dims,
                                         int32_t shard, int64_t offset, int64_t size,
                                         uint32_t crc) {
  ::tensorflow::BundleEntryProto p;
  p.set_dtype(static_cast<::tensorflow::DataType>(dtype));
  auto* shape = p.mutable_shape();
  for (int64_t d : dims) shape->add_dim()->set_size(d);
  p.set_shard_id(shard);
  p.set_offset(offset);
  p.set_size(size);
  p.set_crc32c(crc);
  return p;
}

// Values that exercise every varint length and the omitted defaults.
int64_t Interesting(std::mt19937_64& rng) {
  static const int64_t kValues[] = {0, 1, 127, 128, 16383, 16384, (int64_t{1} << 31) - 1,
                                    int64_t{1} << 35, INT64_MAX, -1, INT64_MIN};
  if (rng() % 3 == 0) return static_cast<int64_t>(rng() >> (rng() % 64));
  return kValues[rng() % (sizeof kValues / sizeof kValues[0])];
}

TEST(EntryCodecTest, EncoderWritesProtobufsBytes) {
  std::mt19937_64 rng(7);
  for (int iter = 0; iter < 20000; ++iter) {
    const int dtype = iter % 5 == 0 ? 0 : static_cast<int>(rng() % 30);
    std::vector<int64_t> dims(rng() % 6);
    for (int64_t& d : dims) d = rng() % 4 == 0 ? Interesting(rng) : static_cast<int64_t>(rng() % 300);
    const int32_t shard = rng() % 2 ? 0 : static_cast<int32_t>(Interesting(rng));
    const int64_t offset = Interesting(rng), size = Interesting(rng);
    const uint32_t crc = rng() % 4 == 0 ? 0 : static_cast<uint32_t>(rng());
    std::string expected;
    ASSERT_TRUE(MakeProto(dtype, dims, shard, offset, size, crc).SerializeToString(&expected));
    std::string got = "prefix";  // appends, never overwrites
    AppendPlainEntry(static_cast<DType>(dtype), dims, shard, offset, size, crc, &got);
    ASSERT_EQ(got, "prefix" + expected) << "iteration " << iter;
  }
}

TEST(EntryCodecTest, ScalarKeepsAnEmptyShapeMessage) {
  std::string got;
  AppendPlainEntry(DT_FLOAT, {}, 0, 0, 4, 0x12345678u, &got);
  // dtype=1, shape={} (present, empty), size=4, crc32c fixed32 little endian.
  EXPECT_EQ(got, std::string("\x08\x01\x12\x00\x28\x04\x35\x78\x56\x34\x12", 11));
}

TEST(EntryCodecTest, DecoderReadsWhatProtobufWrites) {
  std::mt19937_64 rng(11);
  PlainEntry e;
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<int64_t> dims(rng() % 5);
    for (int64_t& d : dims) d = Interesting(rng);
    const auto p = MakeProto(static_cast<int>(rng() % 25), dims, static_cast<int32_t>(Interesting(rng)),
                             Interesting(rng), Interesting(rng), static_cast<uint32_t>(rng()));
    std::string bytes;
    ASSERT_TRUE(p.SerializeToString(&bytes));
    ASSERT_TRUE(DecodePlainEntry(bytes, &e)) << "iteration " << iter;
    EXPECT_EQ(e.dtype, p.dtype());
    EXPECT_EQ(std::vector<int64_t>(e.dims, e.dims + e.rank), dims);
    EXPECT_EQ(e.shard_id, p.shard_id());
    EXPECT_EQ(e.offset, p.offset());
    EXPECT_EQ(e.size, p.size());
    EXPECT_EQ(e.crc32c, p.crc32c());
  }
}

TEST(EntryCodecTest, DeclinesWhatItDoesNotHandle) {
  PlainEntry e;
  auto p = MakeProto(1, {2, 3}, 0, 10, 24, 5);
  std::string bytes;

  auto sliced = p;
  auto* ext = sliced.add_slices()->add_extent();
  ext->set_start(0);
  ext->set_length(1);
  ASSERT_TRUE(sliced.SerializeToString(&bytes));
  EXPECT_FALSE(DecodePlainEntry(bytes, &e)) << "slices";

  auto named = p;
  named.mutable_shape()->mutable_dim(0)->set_name("batch");
  ASSERT_TRUE(named.SerializeToString(&bytes));
  EXPECT_FALSE(DecodePlainEntry(bytes, &e)) << "dimension name";

  auto unknown_rank = p;
  unknown_rank.mutable_shape()->set_unknown_rank(true);
  ASSERT_TRUE(unknown_rank.SerializeToString(&bytes));
  EXPECT_FALSE(DecodePlainEntry(bytes, &e)) << "unknown rank";

  ASSERT_TRUE(p.SerializeToString(&bytes));
  EXPECT_TRUE(DecodePlainEntry(bytes, &e));
  EXPECT_FALSE(DecodePlainEntry(bytes + std::string("\x40\x01", 2), &e)) << "unknown field 8";
  EXPECT_FALSE(DecodePlainEntry(bytes + std::string("\x20\x05", 2), &e)) << "offset twice";
  EXPECT_FALSE(DecodePlainEntry(std::string("\x0d\x01\x00\x00\x00", 5), &e)) << "dtype as fixed32";
  EXPECT_FALSE(DecodePlainEntry(bytes.substr(0, bytes.size() - 1), &e)) << "truncated crc";
  EXPECT_FALSE(DecodePlainEntry(std::string("\x20\xff\xff", 3), &e)) << "unterminated varint";

  // More dimensions than a shape may have: protobuf's path reports it.
  std::vector<int64_t> too_many(TensorShape::kMaxRank + 1, 1);
  ASSERT_TRUE(MakeProto(1, too_many, 0, 0, 4, 0).SerializeToString(&bytes));
  EXPECT_FALSE(DecodePlainEntry(bytes, &e)) << "rank over the limit";
}

// Every byte string the fast path accepts, protobuf parses to the same
// fields (with no slices): mutated and truncated records of every kind.
TEST(EntryCodecTest, WhatTheDecoderAcceptsProtobufReadsTheSame) {
  std::mt19937_64 rng(13);
  PlainEntry e;
  int accepted = 0, declined = 0;
  for (int iter = 0; iter < 50000; ++iter) {
    std::vector<int64_t> dims(rng() % 4);
    for (int64_t& d : dims) d = static_cast<int64_t>(rng() % 1000);
    std::string bytes;
    ASSERT_TRUE(MakeProto(static_cast<int>(rng() % 25), dims, 0, static_cast<int64_t>(rng() % 100000),
                          static_cast<int64_t>(rng() % 100000), static_cast<uint32_t>(rng()))
                    .SerializeToString(&bytes));
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits && !bytes.empty(); ++k) {
      switch (rng() % 3) {
        case 0: bytes[rng() % bytes.size()] = static_cast<char>(rng()); break;
        case 1: bytes.resize(rng() % bytes.size()); break;
        default: bytes.insert(bytes.begin() + static_cast<long>(rng() % (bytes.size() + 1)),
                              static_cast<char>(rng()));
      }
    }
    if (!DecodePlainEntry(bytes, &e)) {
      ++declined;
      continue;
    }
    ++accepted;
    ::tensorflow::BundleEntryProto p;
    ASSERT_TRUE(p.ParseFromString(bytes)) << "iteration " << iter;
    EXPECT_EQ(p.slices_size(), 0);
    EXPECT_EQ(e.dtype, p.dtype());
    std::vector<int64_t> proto_dims;
    for (const auto& d : p.shape().dim()) proto_dims.push_back(d.size());
    EXPECT_EQ(std::vector<int64_t>(e.dims, e.dims + e.rank), proto_dims) << "iteration " << iter;
    EXPECT_EQ(e.shard_id, p.shard_id());
    EXPECT_EQ(e.offset, p.offset());
    EXPECT_EQ(e.size, p.size());
    EXPECT_EQ(e.crc32c, p.crc32c());
  }
  // Both branches must really have been exercised.
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(declined, 1000);
}

}  // namespace
}  // namespace ckpt
