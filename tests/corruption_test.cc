// Damaged and hostile checkpoints: every bad input must give a clear error
// (the right status code, naming the file and, for payloads, the tensor),
// never a crash, a hang, a huge allocation or silently wrong values.
//
// Three kinds of damage:
//   - exhaustive: every bit of a small .index, every bit of the small
//     payloads in the data file, every truncation of the index;
//   - structural: records and headers crafted by hand (IndexTableWriter +
//     hand-built protos) with impossible shapes, sizes, offsets, versions;
//   - a Snappy block whose header claims 4 GiB.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ckpt/bundle/index_table.h"
#include "ckpt/bundle/slice_key.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/bundle_writer.h"
#include "ckpt/crc32c.h"
#include "ckpt/env.h"
#include "ckpt/io/coding.h"
#include "ckpt/naming.h"
#include "gtest/gtest.h"
#include "leveldb/env.h"
#include "leveldb/options.h"
#include "leveldb/table_builder.h"
#include "tensor_bundle.pb.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using Records = std::vector<std::pair<std::string, std::string>>;

// Passes when `s` has `code` and its message contains every needle.
::testing::AssertionResult IsError(const absl::Status& s, absl::StatusCode code,
                                   const std::vector<std::string>& needles) {
  if (s.code() != code) {
    return ::testing::AssertionFailure()
           << "expected " << absl::StatusCodeToString(code) << ", got " << s;
  }
  for (const std::string& n : needles) {
    if (s.message().find(n) == absl::string_view::npos) {
      return ::testing::AssertionFailure() << "message \"" << s.message() << "\" lacks \"" << n
                                           << "\"";
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsDataLoss(const absl::Status& s,
                                      const std::vector<std::string>& needles) {
  return IsError(s, absl::StatusCode::kDataLoss, needles);
}

void FlipBit(std::string* bytes, size_t bit) {
  (*bytes)[bit / 8] = static_cast<char>((*bytes)[bit / 8] ^ (1 << (bit % 8)));
}

// The loops below damage files in place (pwrite, truncate) rather than
// rewriting them: on ext4, truncating a file to zero and writing it again
// starts writeback on close (auto_da_alloc), which made them I/O-bound.
void FlipBitInFile(const std::string& path, uint64_t bit) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0) << path;
  char c = 0;
  ASSERT_EQ(::pread(fd, &c, 1, static_cast<off_t>(bit / 8)), 1);
  c = static_cast<char>(c ^ (1 << (bit % 8)));
  ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(bit / 8)), 1);
  ::close(fd);
}

void TruncateFile(const std::string& path, uint64_t length) {
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(length)), 0) << path;
}

// ---- the checkpoint that gets damaged ----------------------------------------

struct NamedTensor {
  std::string name;
  Tensor value;
};

std::vector<NamedTensor> SampleTensors() {
  std::vector<NamedTensor> out;
  Tensor step(DT_INT64, TensorShape{});
  step.mutable_flat<int64_t>()[0] = 123456789;
  out.push_back({"global_step", step});

  Tensor bias(DT_FLOAT, TensorShape{3});
  auto b = bias.mutable_flat<float>();
  b[0] = 0.5f;
  b[1] = -1.25f;
  b[2] = 3.0f;
  out.push_back({"dense/bias", bias});

  Tensor weights(DT_FLOAT, TensorShape{4, 5});
  auto w = weights.mutable_flat<float>();
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.1f * static_cast<float>(i) - 1.0f;
  out.push_back({"dense/kernel", weights});

  // Lengths 0, 1, 12, 200 (a two-byte varint) and bytes 0x00/0xFF.
  Tensor vocab(DT_STRING, TensorShape{5});
  std::string long_word;
  for (int i = 0; i < 200; ++i) long_word.push_back(static_cast<char>('a' + i % 26));
  *vocab.mutable_strings() = {"", "a", "hello, world", long_word, std::string("\0\xff\x01", 3)};
  out.push_back({"vocab", vocab});

  // 4 KiB: too many bits to flip them all.
  Tensor embedding(DT_FLOAT, TensorShape{32, 32});
  auto e = embedding.mutable_flat<float>();
  for (size_t i = 0; i < e.size(); ++i) e[i] = std::sin(static_cast<float>(i));
  out.push_back({"embedding", embedding});

  out.push_back({"empty", Tensor(DT_FLOAT, TensorShape{0, 3})});
  return out;
}

class DamagedCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prefix_ = dir_.Join("model.ckpt");
    index_path_ = IndexFilename(prefix_);
    data_path_ = DataFilename(prefix_, 0, 1);
    tensors_ = SampleTensors();
    BundleWriterOptions options;
    options.sync = false;
    BundleWriter writer(prefix_, options);
    for (const NamedTensor& t : tensors_) ASSERT_TRUE(writer.Add(t.name, t.value).ok());
    ASSERT_TRUE(writer.Finish().ok());
    index_ = testing::ReadFile(index_path_);
    data_ = testing::ReadFile(data_path_);

    auto reader = BundleReader::Open(prefix_);
    ASSERT_TRUE(reader.ok()) << reader.status();
    for (const NamedTensor& t : tensors_) {
      auto e = (*reader)->GetEntry(t.name);
      ASSERT_TRUE(e.ok()) << e.status();
      entries_[t.name] = *e;
      auto v = (*reader)->Read(t.name);
      ASSERT_TRUE(v.ok()) << v.status();
      ASSERT_TRUE(v->Identical(t.value)) << t.name;
    }
  }

  // Outcome of opening the checkpoint and reading every tensor.
  struct Outcome {
    absl::Status open;                       // OK, or why Open failed
    std::map<std::string, absl::Status> read;  // per tensor, when opened
    bool all_identical = false;              // opened, and every tensor as saved
  };

  Outcome OpenAndReadAll() const {
    Outcome out;
    auto reader = BundleReader::Open(prefix_);
    out.open = reader.status();
    if (!reader.ok()) return out;
    out.all_identical = (*reader)->entries().size() == tensors_.size();
    for (const NamedTensor& t : tensors_) {
      auto v = (*reader)->Read(t.name);
      if (v.ok() && !v->Identical(t.value)) {
        // The one outcome that is never acceptable.
        ADD_FAILURE() << "tensor " << t.name << " read back with different values";
      }
      out.read[t.name] = v.status();
      out.all_identical = out.all_identical && v.ok();
    }
    return out;
  }

  // OpenAndReadAll with one bit of `path` flipped; the file is restored after.
  Outcome WithBitFlipped(const std::string& path, uint64_t bit) const {
    FlipBitInFile(path, bit);
    Outcome out = OpenAndReadAll();
    FlipBitInFile(path, bit);
    return out;
  }

  testing::ScratchDir dir_;
  std::string prefix_, index_path_, data_path_;
  std::vector<NamedTensor> tensors_;
  std::map<std::string, BundleEntryInfo> entries_;
  std::string index_, data_;
};

// ---- every bit of the index ----------------------------------------------------

struct Footer {
  uint64_t meta_offset = 0, meta_size = 0, index_offset = 0, index_size = 0;
  size_t handles_length = 0;  // bytes the four varints take
};

// Decodes the handles of a footer's first 40 bytes as the reader does; false
// when they do not parse.
bool DecodeFooterHandles(const char* footer, Footer* f) {
  const char* limit = footer + 40;
  const char* p = GetVarint64(footer, limit, &f->meta_offset);
  if (p) p = GetVarint64(p, limit, &f->meta_size);
  if (p) p = GetVarint64(p, limit, &f->index_offset);
  if (p) p = GetVarint64(p, limit, &f->index_size);
  if (p == nullptr) return false;
  f->handles_length = static_cast<size_t>(p - footer);
  return true;
}

std::string DescribeBits(const std::map<size_t, uint8_t>& bits) {
  std::vector<std::string> parts;
  for (const auto& [offset, mask] : bits) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%zu:%02x", offset, mask);
    parts.push_back(buf);
  }
  return absl::StrJoin(parts, " ");
}

// Which bits of an index can flip without any check noticing. The reader
// verifies the CRC of every data block and of the index block (a CRC32C
// catches every single-bit error, and the type byte is inside the CRC), and
// the magic. What remains is exactly what no reader of the format uses:
//
//   1. The metaindex block and its trailer (13 bytes). It is always empty in
//      checkpoints and only filter policies would need it; TensorFlow,
//      LevelDB (without a filter policy) and ckpt never read it.
//   2. Within the footer's first 40 bytes, the reader uses the index handle,
//      and the metaindex offset only as the end of the data-block region.
//      So a flip there goes unnoticed exactly when the index handle still
//      decodes to the same value and the metaindex offset does not drop
//      below the end of the data blocks. That is:
//        - the zero padding after the handles;
//        - the metaindex size (never used), except its continuation bit,
//          which changes how the index handle is framed;
//        - bits of the metaindex offset that raise it (clear bits of its
//          varint groups), but not the continuation bits;
//        - the continuation bit of the index size's last byte: the next
//          byte is zero padding, and a varint with a trailing zero group
//          decodes to the same number.
//   Every other bit (data blocks, index block, trailers, the index handle's
//   value bits, the magic) is covered.
std::map<size_t, uint8_t> ExpectedUncoveredBits(const std::string& index) {
  std::map<size_t, uint8_t> out;
  const size_t footer_start = index.size() - kFooterSize;
  Footer f;
  EXPECT_TRUE(DecodeFooterHandles(index.data() + footer_start, &f));
  for (uint64_t o = f.meta_offset; o < f.meta_offset + f.meta_size + kBlockTrailerSize; ++o) {
    out[o] = 0xff;
  }
  for (size_t bit = 0; bit < 40 * 8; ++bit) {
    std::string footer = index.substr(footer_start, 40);
    FlipBit(&footer, bit);
    Footer g;
    if (DecodeFooterHandles(footer.data(), &g) && g.index_offset == f.index_offset &&
        g.index_size == f.index_size && g.meta_offset >= f.meta_offset) {
      out[footer_start + bit / 8] |= static_cast<uint8_t>(1 << (bit % 8));
    }
  }
  return out;
}

TEST_F(DamagedCheckpointTest, EveryBitOfTheIndex) {
  ASSERT_LT(index_.size(), 1000u) << "meant to be a small index";
  std::map<size_t, uint8_t> uncovered;
  std::map<absl::StatusCode, int> codes;
  for (size_t bit = 0; bit < index_.size() * 8; ++bit) {
    Outcome r = WithBitFlipped(index_path_, bit);
    if (!r.open.ok()) {
      ++codes[r.open.code()];
      EXPECT_NE(r.open.message().find(index_path_), absl::string_view::npos)
          << "bit " << bit << ": " << r.open;
      continue;
    }
    if (r.all_identical) {
      uncovered[bit / 8] |= static_cast<uint8_t>(1 << (bit % 8));
      continue;
    }
    // Opened, but some read failed: that failure must name its tensor.
    absl::StatusCode first = absl::StatusCode::kOk;
    for (const auto& [name, s] : r.read) {
      if (s.ok()) continue;
      if (first == absl::StatusCode::kOk) first = s.code();
      EXPECT_NE(s.message().find(name), absl::string_view::npos) << "bit " << bit << ": " << s;
    }
    ++codes[first];
  }

  const std::map<size_t, uint8_t> expected = ExpectedUncoveredBits(index_);
  EXPECT_EQ(DescribeBits(uncovered), DescribeBits(expected))
      << "index of " << index_.size() << " bytes, offset:mask of bits that went unnoticed";
  std::printf("[   INFO   ] index %zu bytes; uncovered offset:bitmask = %s\n", index_.size(),
              DescribeBits(uncovered).c_str());

  // Everything the checks catch is reported as DataLoss.
  int failures = 0;
  for (const auto& [code, n] : codes) failures += n;
  EXPECT_EQ(codes[absl::StatusCode::kDataLoss], failures);
  size_t uncovered_bits = 0;
  for (const auto& [offset, mask] : uncovered) uncovered_bits += __builtin_popcount(mask);
  EXPECT_EQ(static_cast<size_t>(failures) + uncovered_bits, index_.size() * 8);
  EXPECT_GT(failures, static_cast<int>(index_.size() * 8 * 3 / 4));
}

TEST_F(DamagedCheckpointTest, EveryTruncationOfTheIndex) {
  for (size_t n = index_.size(); n-- > 0;) {
    TruncateFile(index_path_, n);
    auto reader = BundleReader::Open(prefix_);
    ASSERT_TRUE(IsDataLoss(reader.status(), {index_path_})) << "length " << n;
  }
}

// ---- every bit of the payloads ---------------------------------------------------

TEST_F(DamagedCheckpointTest, FlippedPayloadBits) {
  constexpr size_t kAllBitsUpTo = 512;  // payload bytes
  constexpr int kSampledBits = 2000;
  std::mt19937_64 rng(1234);
  size_t flips = 0;
  for (const NamedTensor& victim : tensors_) {
    const BundleEntryInfo& e = entries_[victim.name];
    if (e.size == 0) continue;
    std::vector<size_t> bits;
    if (static_cast<size_t>(e.size) <= kAllBitsUpTo) {
      for (size_t b = 0; b < static_cast<size_t>(e.size) * 8; ++b) bits.push_back(b);
    } else {
      for (int i = 0; i < kSampledBits; ++i) bits.push_back(rng() % (e.size * 8));
    }
    for (size_t b : bits) {
      Outcome r = WithBitFlipped(data_path_, static_cast<uint64_t>(e.offset) * 8 + b);
      ASSERT_TRUE(r.open.ok()) << r.open;
      for (const auto& [name, s] : r.read) {
        if (name == victim.name) {
          ASSERT_TRUE(IsDataLoss(s, {name, data_path_})) << "bit " << b << " of " << name;
        } else {
          ASSERT_TRUE(s.ok()) << "flipping " << victim.name << " broke " << name << ": " << s;
        }
      }
      ++flips;
    }
  }
  std::printf("[   INFO   ] %zu payload bits flipped\n", flips);
}

// The varint lengths of a string tensor are checked by the length checksum,
// which covers them as fixed-width numbers; a longer or malformed varint must
// not be able to push a read past the payload either.
TEST_F(DamagedCheckpointTest, FlippedStringLengths) {
  const BundleEntryInfo& e = entries_["vocab"];
  size_t varint_bytes = 0;
  for (const std::string& s : tensors_[3].value.strings()) varint_bytes += s.size() < 128 ? 1 : 2;
  ASSERT_EQ(varint_bytes, 6u);
  // The lengths, then the 4-byte length checksum.
  for (size_t b = 0; b < (varint_bytes + 4) * 8; ++b) {
    Outcome r = WithBitFlipped(data_path_, static_cast<uint64_t>(e.offset) * 8 + b);
    ASSERT_TRUE(r.open.ok()) << r.open;
    ASSERT_TRUE(IsDataLoss(r.read["vocab"], {"vocab", data_path_})) << "bit " << b;
  }
  // 200 -> 201 ("c8 01" -> "c9 01"): an honest-looking length the checksum catches.
  std::string bad = data_;
  ASSERT_EQ(static_cast<unsigned char>(bad[e.offset + 3]), 0xc8);
  bad[e.offset + 3] = static_cast<char>(0xc9);
  testing::WriteFile(data_path_, bad);
  auto reader = BundleReader::Open(prefix_);
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE(IsDataLoss((*reader)->Read("vocab").status(), {"vocab", "length checksum"}));
}

TEST_F(DamagedCheckpointTest, TruncatedDataFile) {
  std::vector<size_t> lengths = {0, 1, data_.size() - 1};
  // 64 cuts spread over the file, plus the edges of every payload.
  for (size_t k = 1; k <= 64; ++k) lengths.push_back(data_.size() * k / 65);
  for (const auto& [name, e] : entries_) {
    lengths.push_back(static_cast<size_t>(e.offset));
    lengths.push_back(static_cast<size_t>(e.offset + e.size / 2));
  }
  // Longest first, so that each step only shrinks the file.
  std::sort(lengths.rbegin(), lengths.rend());
  lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
  ASSERT_GE(lengths.size(), 64u);
  for (size_t n : lengths) {
    TruncateFile(data_path_, n);
    Outcome r = OpenAndReadAll();
    ASSERT_TRUE(r.open.ok()) << r.open;
    for (const auto& [name, s] : r.read) {
      const BundleEntryInfo& e = entries_[name];
      if (static_cast<size_t>(e.offset + e.size) <= n) {
        EXPECT_TRUE(s.ok()) << name << " with data truncated to " << n << ": " << s;
      } else {
        EXPECT_TRUE(IsDataLoss(s, {name, data_path_})) << "truncated to " << n;
      }
    }
  }
}

TEST_F(DamagedCheckpointTest, MissingDataFile) {
  ASSERT_EQ(std::remove(data_path_.c_str()), 0);
  auto reader = BundleReader::Open(prefix_);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_TRUE(IsError((*reader)->Read("dense/bias").status(), absl::StatusCode::kNotFound,
                      {data_path_}));
}

TEST_F(DamagedCheckpointTest, MissingIndex) {
  ASSERT_EQ(std::remove(index_path_.c_str()), 0);
  EXPECT_TRUE(IsError(BundleReader::Open(prefix_).status(), absl::StatusCode::kNotFound,
                      {prefix_}));
}

// ---- crafted records -------------------------------------------------------------

std::string HeaderRecord(int num_shards = 1, int min_consumer = 0,
                         std::vector<int> bad_consumers = {}, int producer = 1) {
  tensorflow::BundleHeaderProto h;
  h.set_num_shards(num_shards);
  h.mutable_version()->set_producer(producer);
  h.mutable_version()->set_min_consumer(min_consumer);
  for (int b : bad_consumers) h.mutable_version()->add_bad_consumers(b);
  return h.SerializeAsString();
}

std::string EntryRecord(int dtype, const std::vector<int64_t>& dims, int64_t offset, int64_t size,
                        uint32_t masked_crc, int shard_id = 0) {
  tensorflow::BundleEntryProto e;
  e.set_dtype(static_cast<tensorflow::DataType>(dtype));
  auto* shape = e.mutable_shape();
  for (int64_t d : dims) shape->add_dim()->set_size(d);
  e.set_shard_id(shard_id);
  e.set_offset(offset);
  e.set_size(size);
  e.set_crc32c(masked_crc);
  return e.SerializeAsString();
}

// A hand-made checkpoint: one data file with two floats, then whatever index
// a test writes.
class CraftedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prefix_ = dir_.Join("crafted");
    index_path_ = IndexFilename(prefix_);
    data_path_ = DataFilename(prefix_, 0, 1);
    const float values[2] = {1.5f, -2.0f};
    payload_.assign(reinterpret_cast<const char*>(values), sizeof(values));
    testing::WriteFile(data_path_, payload_);
    crc_ = crc32c::Mask(crc32c::Value(payload_.data(), payload_.size()));
  }

  void WriteIndex(const Records& records) {
    auto file = Env::Default()->NewWritableFile(index_path_);
    ASSERT_TRUE(file.ok()) << file.status();
    IndexTableWriter writer(file->get());
    for (const auto& [k, v] : records) ASSERT_TRUE(writer.Add(k, v).ok());
    ASSERT_TRUE(writer.Finish().ok());
    ASSERT_TRUE((*file)->Close().ok());
  }

  absl::Status OpenWith(const Records& records) {
    WriteIndex(records);
    return BundleReader::Open(prefix_).status();
  }

  // Opens an index holding a valid header and one record "t"; the status of
  // reading "t" (or of Open, if that fails).
  absl::Status ReadWith(const std::string& record) {
    WriteIndex({{"", HeaderRecord()}, {"t", record}});
    auto reader = BundleReader::Open(prefix_);
    if (!reader.ok()) return reader.status();
    return (*reader)->Read("t").status();
  }

  std::string Good() const { return EntryRecord(DT_FLOAT, {2}, 0, 8, crc_); }

  testing::ScratchDir dir_;
  std::string prefix_, index_path_, data_path_, payload_;
  uint32_t crc_ = 0;
};

TEST_F(CraftedTest, ValidCheckpointReads) {
  WriteIndex({{"", HeaderRecord()}, {"t", Good()}});
  auto reader = BundleReader::Open(prefix_);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto t = (*reader)->Read("t");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->flat<float>()[1], -2.0f);
}

// The header's shard count is the file's word: it must not size anything.
// 2^29 shards once made Open allocate 8 GiB (found by bundle_fuzzer). Open
// succeeds, and the read names the data file the header implies.
TEST_F(CraftedTest, HugeShardCountAllocatesNothing) {
  WriteIndex({{"", HeaderRecord(1 << 29)}, {"t", Good()}});
  auto reader = BundleReader::Open(prefix_);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->num_shards(), 1 << 29);
  auto t = (*reader)->Read("t");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound) << t.status();
  EXPECT_NE(t.status().message().find("data-00000-of-536870912"), std::string::npos)
      << t.status();
}

TEST_F(CraftedTest, NotAnSstable) {
  WriteIndex({{"", HeaderRecord()}, {"t", Good()}});
  std::string bytes = testing::ReadFile(index_path_);
  bytes[bytes.size() - 1] = 0;  // last byte of the magic
  testing::WriteFile(index_path_, bytes);
  EXPECT_TRUE(IsDataLoss(BundleReader::Open(prefix_).status(), {index_path_, "not an sstable"}));

  testing::WriteFile(index_path_, bytes.substr(bytes.size() - 47));
  EXPECT_TRUE(IsDataLoss(BundleReader::Open(prefix_).status(), {index_path_, "too short"}));
  testing::WriteFile(index_path_, std::string(48, '\0'));
  EXPECT_TRUE(IsDataLoss(BundleReader::Open(prefix_).status(), {index_path_, "not an sstable"}));
}

TEST_F(CraftedTest, VersionTooNew) {
  EXPECT_TRUE(IsError(OpenWith({{"", HeaderRecord(1, /*min_consumer=*/2)}, {"t", Good()}}),
                      absl::StatusCode::kFailedPrecondition, {index_path_, "version 2"}));
}

TEST_F(CraftedTest, BadConsumersListsThisReader) {
  EXPECT_TRUE(IsError(OpenWith({{"", HeaderRecord(1, 0, {3, 1})}, {"t", Good()}}),
                      absl::StatusCode::kFailedPrecondition, {index_path_, "version 1"}));
  // Other readers' versions do not matter.
  EXPECT_TRUE(OpenWith({{"", HeaderRecord(1, 0, {0, 2})}, {"t", Good()}}).ok());
}

TEST_F(CraftedTest, BadHeader) {
  EXPECT_TRUE(IsDataLoss(OpenWith({{"", HeaderRecord(0)}, {"t", Good()}}), {"shards"}));
  EXPECT_TRUE(IsDataLoss(OpenWith({{"", HeaderRecord(-3)}, {"t", Good()}}), {"shards"}));
  EXPECT_TRUE(IsDataLoss(OpenWith({{"", HeaderRecord(1, 0, {}, -1)}, {"t", Good()}}),
                         {"producer"}));
  EXPECT_TRUE(IsDataLoss(OpenWith({{"", "\xff\xff\xff"}, {"t", Good()}}), {"header"}));
  // No header record: an empty table, or one whose first key is a tensor.
  EXPECT_TRUE(IsDataLoss(OpenWith({}), {index_path_, "header"}));
  EXPECT_TRUE(IsDataLoss(OpenWith({{"t", Good()}}), {index_path_, "header"}));
}

TEST_F(CraftedTest, BadShape) {
  EXPECT_TRUE(IsDataLoss(ReadWith(EntryRecord(DT_FLOAT, {2, -1}, 0, 8, crc_)),
                         {index_path_, "'t'", "shape"}));
  EXPECT_TRUE(IsDataLoss(ReadWith(EntryRecord(DT_FLOAT, {-4}, 0, 8, crc_)), {"'t'", "shape"}));
  EXPECT_TRUE(IsDataLoss(ReadWith(EntryRecord(DT_FLOAT, std::vector<int64_t>(300, 1), 0, 4, crc_)),
                         {"'t'", "rank 300"}));
  // 2^32 * 2^32 elements overflow int64.
  EXPECT_TRUE(IsDataLoss(ReadWith(EntryRecord(DT_FLOAT, {int64_t{1} << 32, int64_t{1} << 32}, 0,
                                              8, crc_)),
                         {"'t'", "shape"}));
  // A product that fits int64 but not once multiplied by the width.
  EXPECT_TRUE(IsDataLoss(ReadWith(EntryRecord(DT_DOUBLE, {int64_t{1} << 61}, 0, 8, crc_)),
                         {"'t'", "invalid size"}));
}

TEST_F(CraftedTest, BadRecordFields) {
  EXPECT_TRUE(IsDataLoss(ReadWith("\xff\xff"), {"'t'", "not parseable"}));
  EXPECT_TRUE(IsDataLoss(ReadWith(EntryRecord(0, {2}, 0, 8, crc_)), {"'t'", "dtype"}));
  EXPECT_TRUE(IsDataLoss(ReadWith(EntryRecord(999, {2}, 0, 8, crc_)), {"'t'", "dtype"}));
  EXPECT_TRUE(IsDataLoss(ReadWith(EntryRecord(DT_FLOAT, {2}, 0, 8, crc_, /*shard_id=*/1)),
                         {"'t'", "shard"}));
  EXPECT_TRUE(IsDataLoss(ReadWith(EntryRecord(DT_FLOAT, {2}, -8, 8, crc_)), {"'t'", "negative"}));
}

TEST_F(CraftedTest, SizeDisagreesWithShape) {
  EXPECT_TRUE(IsDataLoss(ReadWith(EntryRecord(DT_FLOAT, {2}, 0, 12, crc_)),
                         {index_path_, "'t'", "invalid size"}));
  EXPECT_TRUE(IsDataLoss(ReadWith(EntryRecord(DT_FLOAT, {2}, 0, 4, crc_)), {"invalid size"}));
  EXPECT_TRUE(IsDataLoss(ReadWith(EntryRecord(DT_INT64, {2}, 0, 8, crc_)), {"invalid size"}));
}

TEST_F(CraftedTest, PayloadBeyondTheDataFile) {
  EXPECT_TRUE(IsDataLoss(ReadWith(EntryRecord(DT_FLOAT, {2}, 4, 8, crc_)), {data_path_, "'t'"}));
  EXPECT_TRUE(IsDataLoss(ReadWith(EntryRecord(DT_FLOAT, {2}, 9, 8, crc_)), {data_path_, "'t'"}));
  // offset + size overflows int64.
  EXPECT_TRUE(IsDataLoss(
      ReadWith(EntryRecord(DT_FLOAT, {2}, std::numeric_limits<int64_t>::max() - 3, 8, crc_)),
      {data_path_, "'t'"}));
  // A consistent record for a 1 TiB tensor in an 8-byte file: the read must
  // fail on the file size, not try to allocate the tensor first.
  EXPECT_TRUE(IsDataLoss(ReadWith(EntryRecord(DT_FLOAT, {int64_t{1} << 38}, 0, int64_t{1} << 40,
                                              crc_)),
                         {data_path_, "'t'"}));
}

TEST_F(CraftedTest, StringCountBeyondItsBytes) {
  // Every string takes at least one length byte, so 1000 strings cannot fit
  // in 10 bytes.
  EXPECT_TRUE(IsDataLoss(ReadWith(EntryRecord(DT_STRING, {1000}, 0, 8, crc_)),
                         {"'t'", "invalid size"}));
  EXPECT_TRUE(IsDataLoss(ReadWith(EntryRecord(DT_STRING, {int64_t{1} << 40}, 0, 8, crc_)),
                         {"'t'", "invalid size"}));
  // A count the record's size allows but the 8-byte data file does not: no
  // 2^40-element vector may be allocated on the record's word.
  EXPECT_TRUE(IsDataLoss(ReadWith(EntryRecord(DT_STRING, {int64_t{1} << 40}, 0, int64_t{1} << 40,
                                              crc_)),
                         {data_path_, "'t'"}));
  // Fits the file, but the bytes are two floats, not strings.
  EXPECT_TRUE(IsDataLoss(ReadWith(EntryRecord(DT_STRING, {8}, 0, 8, crc_)), {data_path_, "'t'"}));
}

// A partitioned tensor's full shape is backed by no size field: reading it
// must be bounded by what its saved slices store, not by the shape.
TEST_F(CraftedTest, PartitionedTensorWithHugeShape) {
  const int64_t huge = int64_t{1} << 38;  // 1 TiB of floats
  auto full_record = [&](const TensorSlice& slice) {
    tensorflow::BundleEntryProto full;
    full.set_dtype(tensorflow::DT_FLOAT);
    full.mutable_shape()->add_dim()->set_size(huge);
    slice.ToProto(full.add_slices());
    return full.SerializeAsString();
  };
  const uint32_t first_crc = crc32c::Mask(crc32c::Value(payload_.data(), 4));

  // One saved element of 2^38: the rest is not there.
  const TensorSlice one = *TensorSlice::Parse("0,1");
  WriteIndex({{"", HeaderRecord()},
              {EncodeTensorNameSlice("t", one), EntryRecord(DT_FLOAT, {1}, 0, 4, first_crc)},
              {"t", full_record(one)}});
  auto reader = BundleReader::Open(prefix_);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_TRUE(IsError((*reader)->Read("t").status(), absl::StatusCode::kInvalidArgument,
                      {"'t'", "do not cover"}));
  auto part = (*reader)->ReadSlice("t", one);
  ASSERT_TRUE(part.ok()) << part.status();
  EXPECT_EQ(part->flat<float>()[0], 1.5f);

  // One slice claiming the whole 1 TiB in an 8-byte data file.
  const TensorSlice all = *TensorSlice::Parse("-");
  WriteIndex({{"", HeaderRecord()},
              {EncodeTensorNameSlice("t", all),
               EntryRecord(DT_FLOAT, {huge}, 0, huge * 4, crc_)},
              {"t", full_record(all)}});
  reader = BundleReader::Open(prefix_);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_TRUE(IsDataLoss((*reader)->Read("t").status(), {data_path_}));
  EXPECT_TRUE(IsDataLoss((*reader)->ReadSlice("t", *TensorSlice::Parse("5,100")).status(),
                         {data_path_}));
}

// ---- a Snappy block that lies about its size -----------------------------------

// Builds a table around one stored data block: the block and its trailer,
// the empty metaindex, an index block with one entry, the footer (FORMAT.md
// section 2). Lets a test change a block's bytes and length after LevelDB
// wrote it.
std::string TableAroundBlock(const std::string& block, char type) {
  auto append_block = [](std::string* out, const std::string& contents, char t) {
    out->append(contents);
    out->push_back(t);
    uint32_t crc = crc32c::Extend(crc32c::Value(contents.data(), contents.size()), &t, 1);
    PutFixed32(out, crc32c::Mask(crc));
  };
  std::string table;
  append_block(&table, block, type);
  const uint64_t meta_offset = table.size();
  std::string empty_block;
  PutFixed32(&empty_block, 0);  // restart[0]
  PutFixed32(&empty_block, 1);  // one restart
  append_block(&table, empty_block, 0);

  std::string handle;
  PutVarint64(&handle, 0);
  PutVarint64(&handle, block.size());
  std::string index_block;
  const std::string separator = "\xff";  // any key >= the block's keys
  PutVarint64(&index_block, 0);
  PutVarint64(&index_block, separator.size());
  PutVarint64(&index_block, handle.size());
  index_block += separator + handle;
  PutFixed32(&index_block, 0);
  PutFixed32(&index_block, 1);
  const uint64_t index_offset = table.size();
  append_block(&table, index_block, 0);

  std::string footer;
  PutVarint64(&footer, meta_offset);
  PutVarint64(&footer, empty_block.size());
  PutVarint64(&footer, index_offset);
  PutVarint64(&footer, index_block.size());
  footer.resize(40, '\0');
  PutFixed32(&footer, static_cast<uint32_t>(kTableMagic));
  PutFixed32(&footer, static_cast<uint32_t>(kTableMagic >> 32));
  return table + footer;
}

class StringSink final : public leveldb::WritableFile {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  leveldb::Status Append(const leveldb::Slice& data) override {
    out_->append(data.data(), data.size());
    return leveldb::Status::OK();
  }
  leveldb::Status Close() override { return leveldb::Status::OK(); }
  leveldb::Status Flush() override { return leveldb::Status::OK(); }
  leveldb::Status Sync() override { return leveldb::Status::OK(); }

 private:
  std::string* out_;
};

TEST_F(CraftedTest, SnappyBlockClaimingFourGiB) {
  // Many similar records compress well, so LevelDB keeps the block
  // compressed (it must shrink by at least 1/8).
  std::string built;
  {
    StringSink sink(&built);
    leveldb::Options options;
    options.compression = leveldb::kSnappyCompression;
    options.block_size = kTableBlockSize;
    leveldb::TableBuilder builder(options, &sink);
    builder.Add("", HeaderRecord());
    for (int i = 0; i < 40; ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "layer_%02d/kernel", i);
      builder.Add(name, Good());
    }
    ASSERT_TRUE(builder.Finish().ok());
  }
  // A single data block at offset 0: its size is the index block's only
  // handle; read it from the footer.
  Footer f;
  ASSERT_TRUE(DecodeFooterHandles(built.data() + built.size() - kFooterSize, &f));
  const std::string index_block = built.substr(f.index_offset, f.index_size);
  uint32_t shared = 0, unshared = 0, value_len = 0;
  const char* p = GetVarint32(index_block.data(), index_block.data() + index_block.size(), &shared);
  p = GetVarint32(p, index_block.data() + index_block.size(), &unshared);
  p = GetVarint32(p, index_block.data() + index_block.size(), &value_len);
  uint64_t block_offset = 0, block_size = 0;
  p = GetVarint64(p + unshared, p + unshared + value_len, &block_offset);
  GetVarint64(p, index_block.data() + index_block.size(), &block_size);
  ASSERT_EQ(block_offset, 0u);
  ASSERT_EQ(built[block_size], 1) << "LevelDB did not keep the block compressed";
  ASSERT_EQ(built[f.index_offset + f.index_size], 0) << "expected a raw index block";
  const std::string compressed = built.substr(0, block_size);

  // The rebuilt table with the block as LevelDB wrote it reads fine, so the
  // only fault below is the length.
  testing::WriteFile(index_path_, TableAroundBlock(compressed, 1));
  {
    auto reader = BundleReader::Open(prefix_);
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_TRUE((*reader)->index_compressed());
    EXPECT_EQ((*reader)->entries().size(), 40u);
  }

  // Snappy's raw format starts with the uncompressed length as a varint32.
  uint32_t ulen = 0;
  const char* body = GetVarint32(compressed.data(), compressed.data() + compressed.size(), &ulen);
  ASSERT_NE(body, nullptr);
  const std::string rest(body, compressed.data() + compressed.size());
  for (uint64_t claim : {uint64_t{0xffffffff}, uint64_t{1} << 31, uint64_t{ulen} * 2,
                         uint64_t{ulen} - 1, uint64_t{0}}) {
    std::string patched;
    PutVarint64(&patched, claim);
    patched += rest;
    // TableAroundBlock recomputes the CRC: only the length can give it away.
    testing::WriteFile(index_path_, TableAroundBlock(patched, 1));
    EXPECT_TRUE(IsDataLoss(BundleReader::Open(prefix_).status(), {index_path_, "Snappy"}))
        << "claimed length " << claim << " (real " << ulen << ")";
  }
}

}  // namespace
}  // namespace ckpt
