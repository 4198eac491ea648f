// Compatibility of ckpt's table code with LevelDB itself, on real bytes.
//
// Tables written by IndexTableWriter must read back identically through our
// own IndexTable and through leveldb::Table; tables written by LevelDB's
// TableBuilder with settings TensorFlow never uses (small blocks, other
// restart intervals, Snappy) must read identically through IndexTable. The
// expected contents are kept beside each table, so a bug shared by both
// readers would still show.
#include "ckpt/bundle/index_table.h"

#include <snappy.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "ckpt/crc32c.h"
#include "ckpt/env.h"
#include "ckpt/io/coding.h"
#include "gtest/gtest.h"
#include "leveldb/env.h"
#include "leveldb/iterator.h"
#include "leveldb/options.h"
#include "leveldb/table.h"
#include "leveldb/table_builder.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

std::string Esc(absl::string_view s) { return absl::CHexEscape(s); }

// ---- adapters --------------------------------------------------------------

// Collects what LevelDB's TableBuilder writes.
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

// Lets leveldb::Table read a table held in memory.
class StringSource final : public leveldb::RandomAccessFile {
 public:
  explicit StringSource(const std::string& data) : data_(data) {}
  leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result,
                       char* scratch) const override {
    if (offset > data_.size()) return leveldb::Status::IOError("read past the end");
    n = std::min<uint64_t>(n, data_.size() - offset);
    std::memcpy(scratch, data_.data() + offset, n);
    *result = leveldb::Slice(scratch, n);
    return leveldb::Status::OK();
  }

 private:
  const std::string& data_;
};

// An unmapped ckpt::ReadOnlyFile over memory, so that IndexTable takes its
// copy-the-file path rather than the mmap one.
class UnmappedFile final : public ReadOnlyFile {
 public:
  UnmappedFile(std::string data, std::string path)
      : data_(std::move(data)), path_(std::move(path)) {}
  uint64_t size() const override { return data_.size(); }
  absl::StatusOr<absl::string_view> Read(uint64_t offset, size_t n,
                                         char* scratch) const override {
    if (offset > data_.size() || n > data_.size() - offset) {
      return absl::OutOfRangeError(absl::StrCat(path_, ": read past the end"));
    }
    std::memcpy(scratch, data_.data() + offset, n);
    return absl::string_view(scratch, n);
  }
  const std::string& path() const override { return path_; }

 private:
  std::string data_;
  std::string path_;
};

// ---- writing ---------------------------------------------------------------

// Writes `entries` with IndexTableWriter to `path`; returns the bytes.
std::string WriteWithOurWriter(const std::string& path, const Entries& entries) {
  auto file = Env::Default()->NewWritableFile(path);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return "";
  {
    IndexTableWriter writer(file->get());
    for (const auto& [k, v] : entries) {
      absl::Status s = writer.Add(k, v);
      EXPECT_TRUE(s.ok()) << s;
      if (!s.ok()) return "";
    }
    absl::Status s = writer.Finish();
    EXPECT_TRUE(s.ok()) << s;
  }
  absl::Status s = (*file)->Close();
  EXPECT_TRUE(s.ok()) << s;
  return testing::ReadFile(path);
}

struct BuilderSettings {
  size_t block_size;
  int restart_interval;
  leveldb::CompressionType compression;
};

std::string WriteWithLevelDb(const BuilderSettings& b, const Entries& entries) {
  std::string out;
  StringSink sink(&out);
  leveldb::Options options;
  options.block_size = b.block_size;
  options.block_restart_interval = b.restart_interval;
  options.compression = b.compression;
  leveldb::TableBuilder builder(options, &sink);
  for (const auto& [k, v] : entries) builder.Add(k, v);
  leveldb::Status s = builder.Finish();
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// ---- reading ---------------------------------------------------------------

Entries ReadWithLevelDb(const std::string& bytes) {
  StringSource source(bytes);
  leveldb::Options options;
  leveldb::Table* raw = nullptr;
  leveldb::Status s = leveldb::Table::Open(options, &source, bytes.size(), &raw);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return {};
  std::unique_ptr<leveldb::Table> table(raw);
  leveldb::ReadOptions read;
  read.verify_checksums = true;
  std::unique_ptr<leveldb::Iterator> it(table->NewIterator(read));
  Entries out;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.emplace_back(it->key().ToString(), it->value().ToString());
  }
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return out;
}

Entries Contents(const IndexTable& t) {
  Entries out;
  out.reserve(t.size());
  for (size_t i = 0; i < t.size(); ++i) out.emplace_back(t.key(i), t.value(i));
  return out;
}

std::unique_ptr<IndexTable> OpenMapped(const std::string& path) {
  auto file = Env::Default()->NewReadOnlyFile(path);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return nullptr;
  auto t = IndexTable::Open(*std::move(file));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *std::move(t) : nullptr;
}

std::unique_ptr<IndexTable> OpenUnmapped(const std::string& bytes) {
  auto t = IndexTable::Open(std::make_unique<UnmappedFile>(bytes, "memory.index"));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *std::move(t) : nullptr;
}

// A gtest failure that names the first differing entry, instead of dumping
// megabytes of values.
void ExpectSameEntries(const Entries& expected, const Entries& actual, const char* who) {
  ASSERT_EQ(expected.size(), actual.size()) << who;
  for (size_t i = 0; i < expected.size(); ++i) {
    if (expected[i] != actual[i]) {
      ADD_FAILURE() << who << ": entry " << i << " differs: expected key '"
                    << Esc(expected[i].first) << "' (" << expected[i].second.size()
                    << "-byte value), got '" << Esc(actual[i].first) << "' ("
                    << actual[i].second.size() << "-byte value)";
      return;
    }
  }
}

// ---- looking inside a table ------------------------------------------------

struct BlockRef {
  uint64_t offset;
  uint64_t size;
  char type;
};

// The contents of a block, decompressed if its trailer says Snappy.
std::string BlockContents(const std::string& table, uint64_t offset, uint64_t size) {
  const char type = table[offset + size];
  std::string raw = table.substr(offset, size);
  if (type == 0) return raw;
  std::string out;
  EXPECT_EQ(type, 1);
  EXPECT_TRUE(snappy::Uncompress(raw.data(), raw.size(), &out));
  return out;
}

// (key, value) of every entry of a block, following the block format of
// FORMAT.md section 2 (prefix-compressed keys, restart array at the end).
Entries BlockEntries(const std::string& block) {
  Entries out;
  const uint32_t restarts = DecodeFixed32(block.data() + block.size() - 4);
  const char* p = block.data();
  const char* limit = block.data() + block.size() - 4 - 4 * size_t{restarts};
  std::string key;
  while (p < limit) {
    uint32_t shared = 0, unshared = 0, value_len = 0;
    p = GetVarint32(p, limit, &shared);
    if (p) p = GetVarint32(p, limit, &unshared);
    if (p) p = GetVarint32(p, limit, &value_len);
    if (p == nullptr) {
      ADD_FAILURE() << "malformed block entry";
      break;
    }
    key.resize(shared);
    key.append(p, unshared);
    out.emplace_back(key, std::string(p + unshared, value_len));
    p += unshared + value_len;
  }
  return out;
}

// (separator key, block handle) of every index entry, via the footer.
Entries IndexEntries(const std::string& table) {
  const char* footer = table.data() + table.size() - kFooterSize;
  uint64_t meta_off = 0, meta_size = 0, index_off = 0, index_size = 0;
  const char* p = GetVarint64(footer, footer + 40, &meta_off);
  if (p) p = GetVarint64(p, footer + 40, &meta_size);
  if (p) p = GetVarint64(p, footer + 40, &index_off);
  if (p) p = GetVarint64(p, footer + 40, &index_size);
  EXPECT_NE(p, nullptr) << "bad footer";
  if (p == nullptr) return {};
  return BlockEntries(BlockContents(table, index_off, index_size));
}

// The data blocks in table order.
std::vector<BlockRef> DataBlocks(const std::string& table) {
  std::vector<BlockRef> out;
  for (const auto& [separator, handle] : IndexEntries(table)) {
    uint64_t off = 0, size = 0;
    const char* h = GetVarint64(handle.data(), handle.data() + handle.size(), &off);
    if (h) h = GetVarint64(h, handle.data() + handle.size(), &size);
    if (h == nullptr || off + size >= table.size()) {
      ADD_FAILURE() << "bad block handle in index block";
      break;
    }
    out.push_back({off, size, table[off + size]});
  }
  return out;
}

// ---- generated contents ----------------------------------------------------

std::string RandomBytes(std::mt19937_64& rng, size_t n, absl::string_view alphabet) {
  std::string s(n, '\0');
  for (char& c : s) c = alphabet[rng() % alphabet.size()];
  return s;
}

constexpr absl::string_view kLower = "abcdefghijklmnopqrstuvwxyz";

// Tensor-name-like keys of varied lengths (1 to ~70 bytes), sorted, unique.
std::vector<std::string> VariedKeys(std::mt19937_64& rng, size_t n) {
  static const char* const kScopes[] = {"dense", "dense_1/kernel", "encoder/layer_",
                                        "optimizer/Adam/m", "Variable", "_CHECKPOINTABLE"};
  std::set<std::string> keys;
  while (keys.size() < n) {
    std::string k = kScopes[rng() % 6];
    absl::StrAppend(&k, rng() % 100000, "/", RandomBytes(rng, rng() % 48, kLower));
    keys.insert(std::move(k));
  }
  return std::vector<std::string>(keys.begin(), keys.end());
}

// Mostly small values with a tail of larger ones, like BundleEntryProtos and
// the occasional big slice record.
std::string VariedValue(std::mt19937_64& rng) {
  const uint64_t r = rng() % 100;
  size_t n = r < 80 ? rng() % 48 : r < 98 ? 48 + rng() % 352 : 400 + rng() % 2600;
  std::string v(n, '\0');
  for (char& c : v) c = static_cast<char>(rng());
  return v;
}

// ---- the big table written by IndexTableWriter -----------------------------

class WriterTableTest : public ::testing::Test {
 protected:
  static constexpr size_t kNumKeys = 50000;
  // Indexes of entries whose key + value reach 2 * kTableBlockSize: the
  // writer must finish the current block before each (FORMAT.md §2).
  static constexpr size_t kHuge[] = {0, 9000, 30000, 30001, 41234, kNumKeys - 1};
  // key + value one byte short of the threshold: no early block finish.
  static constexpr size_t kAlmostHuge = 20000;

  static void SetUpTestSuite() {
    dir_ = new testing::ScratchDir();
    entries_ = new Entries();
    std::mt19937_64 rng(20240611);
    std::vector<std::string> keys = VariedKeys(rng, kNumKeys);
    for (size_t i = 0; i < keys.size(); ++i) {
      std::string value = VariedValue(rng);
      if (std::count(std::begin(kHuge), std::end(kHuge), i)) {
        // 2 blocks exactly, then larger ones up to 1 MiB.
        size_t extra = (i % 3) * 200000;
        value = RandomBytes(rng, 2 * kTableBlockSize - keys[i].size() + extra, kLower);
      } else if (i == kAlmostHuge) {
        value = RandomBytes(rng, 2 * kTableBlockSize - keys[i].size() - 1, kLower);
      }
      entries_->emplace_back(keys[i], std::move(value));
    }
    path_ = new std::string(dir_->Join("big.index"));
    bytes_ = new std::string(WriteWithOurWriter(*path_, *entries_));
  }
  static void TearDownTestSuite() {
    delete bytes_;
    delete path_;
    delete entries_;
    delete dir_;
  }

  static testing::ScratchDir* dir_;
  static Entries* entries_;
  static std::string* path_;
  static std::string* bytes_;
};

testing::ScratchDir* WriterTableTest::dir_ = nullptr;
Entries* WriterTableTest::entries_ = nullptr;
std::string* WriterTableTest::path_ = nullptr;
std::string* WriterTableTest::bytes_ = nullptr;

TEST_F(WriterTableTest, LevelDbReadsWhatWeWrite) {
  ASSERT_FALSE(bytes_->empty());
  ExpectSameEntries(*entries_, ReadWithLevelDb(*bytes_), "leveldb::Table");
}

TEST_F(WriterTableTest, IndexTableReadsWhatWeWrite) {
  std::unique_ptr<IndexTable> mapped = OpenMapped(*path_);
  ASSERT_NE(mapped, nullptr);
  ExpectSameEntries(*entries_, Contents(*mapped), "IndexTable (mapped)");
  EXPECT_FALSE(mapped->compressed());
  std::unique_ptr<IndexTable> copied = OpenUnmapped(*bytes_);
  ASSERT_NE(copied, nullptr);
  ExpectSameEntries(*entries_, Contents(*copied), "IndexTable (unmapped)");
}

TEST_F(WriterTableTest, BlockLayoutFollowsTensorFlow) {
  const std::vector<BlockRef> blocks = DataBlocks(*bytes_);
  // ~7 MiB of entries in 256 KiB blocks.
  EXPECT_GE(blocks.size(), 20u);
  std::set<std::string> first_keys;
  uint64_t next = 0;
  for (const BlockRef& b : blocks) {
    EXPECT_EQ(b.offset, next) << "data blocks are back to back";
    EXPECT_EQ(b.type, 0) << "TensorFlow's settings: no compression";
    next = b.offset + b.size + kBlockTrailerSize;
    Entries e = BlockEntries(BlockContents(*bytes_, b.offset, b.size));
    ASSERT_FALSE(e.empty());
    first_keys.insert(e.front().first);
  }
  for (size_t i : kHuge) {
    const std::string& key = (*entries_)[i].first;
    EXPECT_TRUE(first_keys.count(key)) << "entry " << i << " ('" << key
                                       << "') fills two blocks but does not start one";
  }
  EXPECT_FALSE(first_keys.count((*entries_)[kAlmostHuge].first))
      << "an entry one byte below two blocks must not finish the block early";
}

// Where the two-block rule never fires, our writer is LevelDB's builder with
// TensorFlow's settings, byte for byte (FORMAT.md §12).
TEST_F(WriterTableTest, SameBytesAsLevelDbBuilderWithoutHugeEntries) {
  Entries small;
  for (size_t i = 0; i < entries_->size(); ++i) {
    if (!std::count(std::begin(kHuge), std::end(kHuge), i) && i != kAlmostHuge) {
      small.push_back((*entries_)[i]);
    }
  }
  testing::ScratchDir dir;
  const std::string ours = WriteWithOurWriter(dir.Join("small.index"), small);
  const std::string theirs =
      WriteWithLevelDb({kTableBlockSize, kTableRestartInterval, leveldb::kNoCompression}, small);
  EXPECT_EQ(ours.size(), theirs.size());
  EXPECT_TRUE(ours == theirs) << "IndexTableWriter and leveldb::TableBuilder disagree";
}

// A plain LevelDB builder keeps appending to the current block: the entry
// then shares a block with its predecessors, which TensorFlow's never does.
// Proves the fixture's huge entries actually exercise the rule.
TEST_F(WriterTableTest, PlainLevelDbBuilderWouldNotSplit) {
  const std::string theirs = WriteWithLevelDb(
      {kTableBlockSize, kTableRestartInterval, leveldb::kNoCompression}, *entries_);
  EXPECT_NE(theirs, *bytes_);
  std::set<std::string> first_keys;
  for (const BlockRef& b : DataBlocks(theirs)) {
    first_keys.insert(BlockEntries(BlockContents(theirs, b.offset, b.size)).front().first);
  }
  EXPECT_FALSE(first_keys.count((*entries_)[9000].first));
}

TEST_F(WriterTableTest, FindAndLowerBound) {
  std::unique_ptr<IndexTable> t = OpenMapped(*path_);
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->size(), entries_->size());
  for (size_t i = 0; i < t->size(); i += 7) {
    const std::string& k = (*entries_)[i].first;
    ASSERT_EQ(t->Find(k), static_cast<int64_t>(i)) << k;
    ASSERT_EQ(t->LowerBound(k), i) << k;
    // key + "\0" is the smallest string after key.
    ASSERT_EQ(t->LowerBound(k + std::string(1, '\0')), i + 1) << k;
    ASSERT_EQ(t->Find(k.substr(0, k.size() - 1) + "~~"), -1) << k;
  }
  EXPECT_EQ(t->LowerBound(""), 0u);
  EXPECT_EQ(t->Find(""), -1);
  EXPECT_EQ(t->LowerBound("\xff"), t->size());
  EXPECT_EQ(t->Find("\xff"), -1);
}

// ---- tables written by LevelDB with other settings --------------------------

struct LevelDbCase {
  size_t block_size;
  int restart_interval;
  bool snappy;
};

std::string CaseName(const ::testing::TestParamInfo<LevelDbCase>& info) {
  return absl::StrCat("Block", info.param.block_size, "Restart", info.param.restart_interval,
                      info.param.snappy ? "Snappy" : "Raw");
}

class LevelDbBuilderTest : public ::testing::TestWithParam<LevelDbCase> {
 protected:
  // Compressible values (repeated text) so that Snappy keeps most blocks
  // compressed, and keys with long shared prefixes so that restart
  // intervals matter.
  static Entries MakeEntries() {
    std::mt19937_64 rng(7);
    std::vector<std::string> keys = VariedKeys(rng, 6000);
    Entries e;
    for (const std::string& k : keys) {
      std::string v;
      const size_t reps = rng() % 12;
      for (size_t r = 0; r < reps; ++r) absl::StrAppend(&v, "tensor/", k.size() % 7, "/payload;");
      if (rng() % 10 == 0) v += RandomBytes(rng, rng() % 300, kLower);
      e.emplace_back(k, std::move(v));
    }
    return e;
  }

  std::string Build(const Entries& e) const {
    const LevelDbCase& c = GetParam();
    return WriteWithLevelDb(
        {c.block_size, c.restart_interval,
         c.snappy ? leveldb::kSnappyCompression : leveldb::kNoCompression},
        e);
  }
};

TEST_P(LevelDbBuilderTest, IndexTableReadsIdentically) {
  const Entries entries = MakeEntries();
  const std::string bytes = Build(entries);
  ExpectSameEntries(entries, ReadWithLevelDb(bytes), "leveldb::Table");
  std::unique_ptr<IndexTable> t = OpenUnmapped(bytes);
  ASSERT_NE(t, nullptr);
  ExpectSameEntries(entries, Contents(*t), "IndexTable");

  const std::vector<BlockRef> blocks = DataBlocks(bytes);
  EXPECT_GT(blocks.size(), 100u) << "expected a multi-block table with a large index";
  const size_t snappy_blocks =
      std::count_if(blocks.begin(), blocks.end(), [](const BlockRef& b) { return b.type == 1; });
  if (GetParam().snappy) {
    EXPECT_GT(snappy_blocks, blocks.size() / 2);
    EXPECT_TRUE(t->compressed());
  } else {
    EXPECT_EQ(snappy_blocks, 0u);
    EXPECT_FALSE(t->compressed());
  }
}

TEST_P(LevelDbBuilderTest, LowerBoundMatchesLevelDbSeek) {
  const Entries entries = MakeEntries();
  const std::string bytes = Build(entries);
  std::unique_ptr<IndexTable> t = OpenUnmapped(bytes);
  ASSERT_NE(t, nullptr);

  StringSource source(bytes);
  leveldb::Table* raw = nullptr;
  ASSERT_TRUE(leveldb::Table::Open(leveldb::Options(), &source, bytes.size(), &raw).ok());
  std::unique_ptr<leveldb::Table> table(raw);
  std::unique_ptr<leveldb::Iterator> it(table->NewIterator(leveldb::ReadOptions()));

  std::mt19937_64 rng(99);
  std::vector<std::string> probes = {"", "\x01", "Variable", "dense_1", "zzzz", "\xff\xff"};
  for (int i = 0; i < 3000; ++i) {
    const std::string& base = entries[rng() % entries.size()].first;
    switch (rng() % 4) {
      case 0: probes.push_back(base); break;
      case 1: probes.push_back(base.substr(0, rng() % (base.size() + 1))); break;
      case 2: probes.push_back(base + RandomBytes(rng, 1 + rng() % 3, kLower)); break;
      default: probes.push_back(RandomBytes(rng, 1 + rng() % 10, "_DVadeo/0123")); break;
    }
  }
  for (const std::string& probe : probes) {
    it->Seek(probe);
    const size_t i = t->LowerBound(probe);
    if (!it->Valid()) {
      ASSERT_EQ(i, t->size()) << Esc(probe);
      ASSERT_EQ(t->Find(probe), -1) << Esc(probe);
      continue;
    }
    ASSERT_LT(i, t->size()) << Esc(probe);
    ASSERT_EQ(t->key(i), it->key().ToString()) << Esc(probe);
    ASSERT_EQ(t->value(i), it->value().ToString()) << Esc(probe);
    ASSERT_EQ(t->Find(probe), it->key().ToString() == probe ? static_cast<int64_t>(i) : -1)
        << Esc(probe);
  }
}

INSTANTIATE_TEST_SUITE_P(Settings, LevelDbBuilderTest,
                         ::testing::Values(LevelDbCase{1024, 1, false}, LevelDbCase{1024, 1, true},
                                           LevelDbCase{1024, 4, false}, LevelDbCase{1024, 4, true},
                                           LevelDbCase{1024, 16, false}, LevelDbCase{1024, 16, true},
                                           LevelDbCase{4096, 1, false}, LevelDbCase{4096, 1, true},
                                           LevelDbCase{4096, 4, false}, LevelDbCase{4096, 4, true},
                                           LevelDbCase{4096, 16, false}, LevelDbCase{4096, 16, true}),
                         CaseName);

// ---- edge cases --------------------------------------------------------------

// ---- large tables: parsed by two threads ----------------------------------

// Sorted keys "k" + 8 digits, each with a short value; 4 KiB blocks, so a
// large table has hundreds of blocks.
Entries ManyEntries(size_t n) {
  Entries e;
  e.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "k%08zu", i * 3);
    e.emplace_back(key, absl::StrCat("value-", i % 977));
  }
  return e;
}

TEST(IndexTableLargeTest, TwoHalvesReadAsOne) {
  // Above the size at which the data blocks are split between two threads.
  const Entries entries = ManyEntries(60000);
  const std::string bytes =
      WriteWithLevelDb({4096, 16, leveldb::kNoCompression}, entries);
  std::unique_ptr<IndexTable> t = OpenUnmapped(bytes);
  ASSERT_NE(t, nullptr);
  ExpectSameEntries(entries, Contents(*t), "IndexTable");
  EXPECT_EQ(t->Find("k00090000"), 30000);
  EXPECT_EQ(t->Find("k00090001"), -1);
}

// The first key of the block where the second thread starts is made to sort
// before the last key of the first half (block checksum repaired): the check
// across the two halves must refuse it, as the one-thread pass would.
TEST(IndexTableLargeTest, KeysOutOfOrderAcrossTheHalvesAreRefused) {
  const Entries entries = ManyEntries(60000);
  std::string bytes = WriteWithLevelDb({4096, 16, leveldb::kNoCompression}, entries);
  const std::vector<BlockRef> blocks = DataBlocks(bytes);
  ASSERT_GT(blocks.size(), 10u);
  // Where the reader splits: after the blocks holding half the entries.
  size_t total = 0;
  std::vector<size_t> counts;
  for (const BlockRef& b : blocks) {
    counts.push_back(BlockEntries(BlockContents(bytes, b.offset, b.size)).size());
    total += counts.back();
  }
  size_t split = 0, first_half = 0;
  while (split < blocks.size() - 1 && first_half < total / 2) first_half += counts[split++];
  ASSERT_GT(split, 0u);
  // A block's first entry is stored whole: 3 one-byte lengths, then the key.
  const BlockRef& b = blocks[split];
  ASSERT_EQ(bytes[b.offset], 0) << "first entry shares nothing";
  bytes[b.offset + 3] = 'a';  // "k..." -> "a...": before every key of the first half
  const uint32_t crc = crc32c::Extend(crc32c::Value(bytes.data() + b.offset, b.size),
                                      bytes.data() + b.offset + b.size, 1);
  EncodeFixed32(&bytes[b.offset + b.size + 1], crc32c::Mask(crc));
  absl::StatusOr<std::unique_ptr<IndexTable>> t =
      IndexTable::Open(std::make_unique<UnmappedFile>(bytes, "split.index"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(t.status().message().find("keys out of order at 'a"), std::string::npos)
      << t.status();
}

TEST(IndexTableEdgeTest, EmptyTable) {
  testing::ScratchDir dir;
  const std::string ours = WriteWithOurWriter(dir.Join("empty.index"), {});
  // Empty data block is skipped: metaindex (8 B) and an empty index block
  // (8 B), each with a trailer, then the footer.
  EXPECT_EQ(ours.size(), 13u + 13u + kFooterSize);
  std::vector<std::string> tables = {
      ours, WriteWithLevelDb({4096, 16, leveldb::kNoCompression}, {}),
      WriteWithLevelDb({4096, 16, leveldb::kSnappyCompression}, {})};
  for (const std::string& bytes : tables) {
    EXPECT_TRUE(ReadWithLevelDb(bytes).empty());
    std::unique_ptr<IndexTable> t = OpenUnmapped(bytes);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->size(), 0u);
    EXPECT_EQ(t->LowerBound(""), 0u);
    EXPECT_EQ(t->LowerBound("x"), 0u);
    EXPECT_EQ(t->Find(""), -1);
    EXPECT_FALSE(t->compressed());
  }
  std::unique_ptr<IndexTable> mapped = OpenMapped(dir.Join("empty.index"));
  ASSERT_NE(mapped, nullptr);
  EXPECT_EQ(mapped->size(), 0u);
}

// Keys made of 0x00, 0x01, 0xFE, 0xFF and a letter: unsigned byte order,
// shared prefixes, and separators next to 0xFF (which cannot be incremented)
// and to keys that are prefixes of their successors.
Entries ExtremeByteEntries(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::string alphabet("\x00\x01\xfe\xff" "a", 5);
  std::set<std::string> keys = {"", std::string(1, '\0'), std::string(3, '\0'),
                                "\xff", "\xff\xff", std::string(40, '\xff')};
  while (keys.size() < n) keys.insert(RandomBytes(rng, 1 + rng() % 12, alphabet));
  Entries e;
  for (const std::string& k : keys) e.emplace_back(k, "v" + k + RandomBytes(rng, rng() % 40, alphabet));
  return e;
}

TEST(IndexTableEdgeTest, ZeroAndFfBytesInKeysWithOurWriter) {
  testing::ScratchDir dir;
  const Entries entries = ExtremeByteEntries(3000, 5);
  ASSERT_EQ(entries.front().first, "");
  ASSERT_EQ(entries.back().first, std::string(40, '\xff'));
  const std::string bytes = WriteWithOurWriter(dir.Join("ff.index"), entries);
  ExpectSameEntries(entries, ReadWithLevelDb(bytes), "leveldb::Table");
  std::unique_ptr<IndexTable> t = OpenMapped(dir.Join("ff.index"));
  ASSERT_NE(t, nullptr);
  ExpectSameEntries(entries, Contents(*t), "IndexTable");
  // The last block's index key is the short successor of its last key; for
  // an all-0xFF key that is the key itself.
  const Entries index = IndexEntries(bytes);
  ASSERT_FALSE(index.empty());
  EXPECT_EQ(index.back().first, std::string(40, '\xff'));
  for (size_t i = 0; i < entries.size(); ++i) {
    ASSERT_EQ(t->Find(entries[i].first), static_cast<int64_t>(i)) << Esc(entries[i].first);
  }
  EXPECT_EQ(t->LowerBound(std::string(41, '\xff')), t->size());
  EXPECT_EQ(t->LowerBound(std::string(2, '\0')), t->LowerBound(std::string(1, '\0')) + 1);
}

TEST(IndexTableEdgeTest, ZeroAndFfBytesInKeysSmallBlocks) {
  const Entries entries = ExtremeByteEntries(4000, 11);
  for (int restart : {1, 16}) {
    for (auto compression : {leveldb::kNoCompression, leveldb::kSnappyCompression}) {
      SCOPED_TRACE(absl::StrCat("restart ", restart, " compression ", compression));
      const std::string bytes = WriteWithLevelDb({256, restart, compression}, entries);
      EXPECT_GT(DataBlocks(bytes).size(), 200u);
      std::unique_ptr<IndexTable> t = OpenUnmapped(bytes);
      ASSERT_NE(t, nullptr);
      ExpectSameEntries(entries, Contents(*t), "IndexTable");
      for (size_t i = 0; i < entries.size(); ++i) {
        ASSERT_EQ(t->Find(entries[i].first), static_cast<int64_t>(i)) << Esc(entries[i].first);
      }
    }
  }
}

TEST(IndexTableEdgeTest, WriterRejectsKeysOutOfOrder) {
  testing::ScratchDir dir;
  auto file = Env::Default()->NewWritableFile(dir.Join("bad.index"));
  ASSERT_TRUE(file.ok());
  IndexTableWriter writer(file->get());
  ASSERT_TRUE(writer.Add("", "header").ok());
  ASSERT_TRUE(writer.Add("b", "1").ok());
  EXPECT_EQ(writer.Add("b", "again").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(writer.Add("a", "earlier").code(), absl::StatusCode::kInvalidArgument);
  // 0xFF sorts after every ASCII byte (unsigned comparison).
  EXPECT_TRUE(writer.Add("\xff", "last").ok());
}

}  // namespace
}  // namespace ckpt
