#include "ckpt/bundle/index_table.h"

#include <snappy.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "ckpt/crc32c.h"
#include "ckpt/io/coding.h"
#include "ckpt/status_macros.h"
#include "leveldb/env.h"
#include "leveldb/options.h"
#include "leveldb/table_builder.h"

namespace ckpt {
namespace {

// Snappy cannot expand input by more than this factor (its longest copy
// element produces 64 bytes from 2-3 input bytes); a larger claimed length is
// a hostile or corrupt block.
constexpr uint64_t kMaxSnappyRatio = 32;

struct Handle {
  uint64_t offset = 0;
  uint64_t size = 0;
};

const char* DecodeHandle(const char* p, const char* limit, Handle* h) {
  p = GetVarint64(p, limit, &h->offset);
  if (p == nullptr) return nullptr;
  return GetVarint64(p, limit, &h->size);
}

// An entry's three lengths (key bytes shared with the previous key, key
// bytes of its own, value bytes). Returns the byte after them, or null when
// they are malformed or the entry runs past `limit`.
const char* DecodeEntryLengths(const char* p, const char* limit, uint32_t* shared,
                               uint32_t* non_shared, uint32_t* value_len) {
  const char* q;
  if (limit - p >= 3 && ((p[0] | p[1] | p[2]) & 0x80) == 0) {
    // All three under 128, as nearly always: one byte each.
    *shared = static_cast<unsigned char>(p[0]);
    *non_shared = static_cast<unsigned char>(p[1]);
    *value_len = static_cast<unsigned char>(p[2]);
    q = p + 3;
  } else {
    q = GetVarint32(p, limit, shared);
    if (q) q = GetVarint32(q, limit, non_shared);
    if (q) q = GetVarint32(q, limit, value_len);
  }
  if (q == nullptr || uint64_t{*non_shared} + *value_len > static_cast<uint64_t>(limit - q)) {
    return nullptr;
  }
  return q;
}

}  // namespace

absl::Status IndexTable::Corrupt(const std::string& what) const {
  return absl::DataLossError(absl::StrCat(file_->path(), ": corrupt index table: ", what));
}

namespace {
// Tables with at least this many entries are parsed by two threads.
constexpr size_t kParallelParseEntries = 20000;
}  // namespace

IndexTable::Arena::~Arena() { Free(data_, capacity_, mapped_); }

void IndexTable::Arena::Free(char* data, size_t capacity, bool mapped) {
  if (mapped) {
    ::munmap(data, capacity);
  } else {
    delete[] data;
  }
}

void IndexTable::Arena::Grow(size_t need, size_t keep) {
  constexpr size_t kMapAtLeast = 256 << 10;  // smaller: plain heap memory
  const size_t page = 4096;
  size_t cap = std::max<size_t>({need, 2 * capacity_, 4096});
  char* p = nullptr;
  bool mapped = false;
  if (cap >= kMapAtLeast) {
    cap = (cap + page - 1) / page * page;
    void* m = ::mmap(nullptr, cap, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (m != MAP_FAILED) {
      p = static_cast<char*>(m);
      mapped = true;
    }
  }
  if (p == nullptr) p = new char[cap];
  if (keep > 0) std::memcpy(p, data_, keep);
  Free(data_, capacity_, mapped_);
  data_ = p;
  capacity_ = cap;
  mapped_ = mapped;
}

absl::StatusOr<std::unique_ptr<IndexTable>> IndexTable::Open(
    std::unique_ptr<ReadOnlyFile> file) {
  std::unique_ptr<IndexTable> t(new IndexTable());
  t->file_ = std::move(file);
  CKPT_RETURN_IF_ERROR(t->Parse());
  return t;
}

absl::StatusOr<absl::string_view> IndexTable::ReadBlock(uint64_t offset, uint64_t size,
                                                        uint64_t limit, const char* what) {
  if (offset > limit || size > limit - offset || kBlockTrailerSize > limit - offset - size) {
    return Corrupt(absl::StrCat(what, " block at offset ", offset, " with size ", size,
                                " lies outside the table's ", limit, " bytes"));
  }
  const char* data = contents_.data() + offset;
  const char type = data[size];
  uint32_t expected = crc32c::Unmask(DecodeFixed32(data + size + 1));
  uint32_t actual = crc32c::Extend(crc32c::Value(data, size), &type, 1);
  if (actual != expected) {
    return Corrupt(absl::StrCat(what, " block at offset ", offset,
                                ": checksum mismatch (stored ", expected, ", computed ",
                                actual, ")"));
  }
  if (type == 0) return absl::string_view(data, size);
  if (type != 1) {
    return Corrupt(absl::StrCat(what, " block at offset ", offset, ": bad block type ",
                                static_cast<int>(static_cast<unsigned char>(type))));
  }
  size_t ulen = 0;
  if (!snappy::GetUncompressedLength(data, size, &ulen) ||
      ulen > size * kMaxSnappyRatio + 64) {
    return Corrupt(absl::StrCat(what, " block at offset ", offset,
                                ": bad Snappy header"));
  }
  std::unique_ptr<char[]> buf(new char[ulen == 0 ? 1 : ulen]);
  if (!snappy::RawUncompress(data, size, buf.get())) {
    return Corrupt(absl::StrCat(what, " block at offset ", offset,
                                ": Snappy data does not decompress"));
  }
  compressed_ = true;
  absl::string_view out(buf.get(), ulen);
  uncompressed_.push_back(std::move(buf));
  key_budget_ += ulen * 64;
  return out;
}

absl::Status IndexTable::ParseBlock(absl::string_view block, bool is_index,
                                    std::vector<std::pair<uint64_t, uint64_t>>* handles,
                                    Keys* keys, Recs* recs) const {
  if (block.size() < 4) return Corrupt("block shorter than its restart count");
  const char* base = block.data();
  uint32_t num_restarts = DecodeFixed32(base + block.size() - 4);
  if (num_restarts > (block.size() - 4) / 4) {
    return Corrupt(absl::StrCat("bad block contents: ", num_restarts,
                                " restart points in a ", block.size(), "-byte block"));
  }
  if (num_restarts == 0) return absl::OkStatus();  // an empty block
  const char* limit = base + block.size() - 4 - 4 * size_t{num_restarts};
  if (DecodeFixed32(limit) != 0) return Corrupt("bad block contents: first restart is not 0");
  // Keys are rebuilt straight into *keys (data blocks) or into `key` (the
  // index block): each shares a prefix with the key before it, which is the
  // tail of *keys once the first key is in. No per-key copies or strings.
  std::string key;
  bool first_in_block = true;
  for (const char* p = base; p < limit;) {
    uint32_t shared, non_shared, value_len;
    const char* q = DecodeEntryLengths(p, limit, &shared, &non_shared, &value_len);
    if (q == nullptr) return Corrupt(absl::StrCat("bad entry in block at byte ", p - base));
    // The previous key: `key` in the index block; in data blocks the last
    // key in *keys (which, for a block's first entry, is in the block before:
    // it may share nothing with it, but must still sort before it).
    size_t prev_len = key.size();
    if (!is_index) prev_len = recs->size == 0 ? 0 : recs->at(recs->size - 1).key_len;
    if (first_in_block ? shared != 0 : shared > prev_len) {
      return Corrupt(absl::StrCat("bad entry in block at byte ", p - base,
                                  ": shares more than the previous key"));
    }
    absl::string_view value(q + non_shared, value_len);
    const char* delta = q;
    p = q + non_shared + value_len;
    first_in_block = false;
    if (is_index) {
      key.resize(shared);
      key.append(delta, non_shared);
      Handle h;
      if (DecodeHandle(value.data(), value.data() + value.size(), &h) == nullptr) {
        return Corrupt("bad block handle in index block");
      }
      handles->emplace_back(h.offset, h.size);
      continue;
    }
    const size_t key_len = size_t{shared} + non_shared;
    if (keys->size + key_len > key_budget_) {
      return Corrupt("keys expand far beyond the size of the table");
    }
    // The new key is prev[0, shared) + delta; it must sort after prev, i.e.
    // delta must sort after prev[shared, end).
    const size_t prev_off = keys->size - prev_len;
    if (recs->size > 0) {
      const absl::string_view prev_rest(keys->data() + prev_off + shared, prev_len - shared);
      if (absl::string_view(delta, non_shared) <= prev_rest) {
        std::string k = std::string(keys->data() + prev_off, shared) + std::string(delta, non_shared);
        return Corrupt(absl::StrCat("keys out of order at '", absl::CHexEscape(k), "'"));
      }
    }
    const size_t key_off = keys->size;
    keys->AppendOwn(prev_off, shared);
    keys->Append(delta, non_shared);
    recs->Push(Rec{key_off, static_cast<uint32_t>(key_len), static_cast<uint32_t>(value.size()),
                   value.data()});
  }
  return absl::OkStatus();
}

absl::Status IndexTable::Parse() {
  const uint64_t file_size = file_->size();
  if (file_size < kFooterSize) {
    return Corrupt(absl::StrCat("file is too short (", file_size,
                                " bytes) to be an sstable"));
  }
  contents_ = file_->mapped();
  if (contents_.data() == nullptr) {
    whole_.resize(file_size);
    CKPT_ASSIGN_OR_RETURN(contents_, file_->Read(0, file_size, whole_.data()));
  }
  const char* footer = contents_.data() + file_size - kFooterSize;
  if (DecodeFixed64(footer + 40) != kTableMagic) {
    return Corrupt("bad magic number: not an sstable");
  }
  Handle meta, index;
  const char* p = DecodeHandle(footer, footer + 40, &meta);
  if (p) p = DecodeHandle(p, footer + 40, &index);
  if (p == nullptr) return Corrupt("bad block handle in footer");

  const uint64_t body = file_size - kFooterSize;
  // Reconstructed keys may legitimately exceed the stored bytes (prefix
  // sharing), but not by orders of magnitude.
  key_budget_ = (uint64_t{1} << 20) + body * 64;
  CKPT_ASSIGN_OR_RETURN(absl::string_view index_block,
                        ReadBlock(index.offset, index.size, body, "index"));
  std::vector<std::pair<uint64_t, uint64_t>> handles;
  CKPT_RETURN_IF_ERROR(ParseBlock(index_block, /*is_index=*/true, &handles, nullptr, nullptr));
  uint64_t next = 0;
  std::vector<absl::string_view> blocks;
  blocks.reserve(handles.size());
  for (const auto& h : handles) {
    // Data blocks sit back to back before the metaindex and index blocks.
    if (h.first < next) return Corrupt("data blocks overlap or are out of order");
    CKPT_ASSIGN_OR_RETURN(absl::string_view block,
                          ReadBlock(h.first, h.second, std::min(meta.offset, index.offset),
                                    "data"));
    blocks.push_back(block);
    next = h.first + h.second + kBlockTrailerSize;
  }
  // Size the arrays once (a quick pass over the entries' lengths; anything
  // malformed is left for the real pass to report), then fill them.
  std::vector<size_t> block_entries(blocks.size(), 0), block_key_bytes(blocks.size(), 0);
  size_t entries = 0, key_bytes = 0;
  for (size_t b = 0; b < blocks.size(); ++b) {
    const absl::string_view block = blocks[b];
    if (block.size() < 4) continue;
    const uint32_t restarts = DecodeFixed32(block.data() + block.size() - 4);
    if (restarts > (block.size() - 4) / 4) continue;
    const char* limit = block.data() + block.size() - 4 - 4 * size_t{restarts};
    for (const char* q = block.data(); q < limit;) {
      uint32_t shared, non_shared, value_len;
      q = DecodeEntryLengths(q, limit, &shared, &non_shared, &value_len);
      if (q == nullptr) break;
      q += non_shared + value_len;
      ++block_entries[b];
      block_key_bytes[b] += size_t{shared} + non_shared;
    }
    entries += block_entries[b];
    key_bytes += block_key_bytes[b];
  }
  if (key_bytes <= key_budget_) keys_.arena.Grow(key_bytes, 0);
  recs_.arena.Grow(entries * sizeof(Rec), 0);

  // A large table is parsed by two threads, each taking about half the
  // entries (blocks are independent: each starts with a whole key); the
  // second half is then appended to the first. Errors come in block order.
  static const bool two_cpus = std::thread::hardware_concurrency() >= 2;
  size_t split = blocks.size();
  if (entries >= kParallelParseEntries && two_cpus && blocks.size() >= 2) {
    size_t first_half = 0;
    split = 0;
    while (split < blocks.size() - 1 && first_half < entries / 2) first_half += block_entries[split++];
  }
  if (split == blocks.size()) {
    for (absl::string_view block : blocks) {
      CKPT_RETURN_IF_ERROR(ParseBlock(block, /*is_index=*/false, nullptr, &keys_, &recs_));
    }
    return absl::OkStatus();
  }
  Keys keys_b;
  Recs recs_b;
  size_t entries_b = 0, key_bytes_b = 0;
  for (size_t b = split; b < blocks.size(); ++b) {
    entries_b += block_entries[b];
    key_bytes_b += block_key_bytes[b];
  }
  if (key_bytes_b <= key_budget_) keys_b.arena.Grow(key_bytes_b, 0);
  recs_b.arena.Grow(entries_b * sizeof(Rec), 0);
  absl::Status status_b;
  std::thread helper([&] {
    for (size_t b = split; b < blocks.size() && status_b.ok(); ++b) {
      status_b = ParseBlock(blocks[b], /*is_index=*/false, nullptr, &keys_b, &recs_b);
    }
  });
  absl::Status status_a;
  for (size_t b = 0; b < split && status_a.ok(); ++b) {
    status_a = ParseBlock(blocks[b], /*is_index=*/false, nullptr, &keys_, &recs_);
  }
  helper.join();
  CKPT_RETURN_IF_ERROR(status_a);
  CKPT_RETURN_IF_ERROR(status_b);
  if (keys_.size + keys_b.size > key_budget_) {
    return Corrupt("keys expand far beyond the size of the table");
  }
  // The second half's first key must sort after the first half's last.
  if (recs_.size > 0 && recs_b.size > 0) {
    const Rec& last = recs_.at(recs_.size - 1);
    const Rec& next = recs_b.at(0);
    const absl::string_view last_key(keys_.data() + last.key_off, last.key_len);
    const absl::string_view next_key(keys_b.data() + next.key_off, next.key_len);
    if (next_key <= last_key) {
      return Corrupt(absl::StrCat("keys out of order at '", absl::CHexEscape(next_key), "'"));
    }
  }
  const size_t key_base = keys_.size;
  keys_.Append(keys_b.data(), keys_b.size);
  for (size_t i = 0; i < recs_b.size; ++i) {
    Rec r = recs_b.at(i);
    r.key_off += key_base;
    recs_.Push(r);
  }
  return absl::OkStatus();
}

size_t IndexTable::LowerBound(absl::string_view k) const {
  size_t lo = 0, hi = size();
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (key(mid) < k) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

int64_t IndexTable::Find(absl::string_view k) const {
  size_t i = LowerBound(k);
  return (i < size() && key(i) == k) ? static_cast<int64_t>(i) : -1;
}

// ---------------------------------------------------------------------------

namespace {

// Hands LevelDB's builder our WritableFile, keeping our detailed status.
class LevelDbFileAdapter final : public leveldb::WritableFile {
 public:
  explicit LevelDbFileAdapter(ckpt::WritableFile* file) : file_(file) {}
  leveldb::Status Append(const leveldb::Slice& data) override {
    return Wrap(file_->Append(absl::string_view(data.data(), data.size())));
  }
  leveldb::Status Close() override { return leveldb::Status::OK(); }
  leveldb::Status Flush() override { return leveldb::Status::OK(); }
  leveldb::Status Sync() override { return leveldb::Status::OK(); }
  const absl::Status& status() const { return status_; }

 private:
  leveldb::Status Wrap(absl::Status s) {
    if (s.ok()) return leveldb::Status::OK();
    if (status_.ok()) status_ = s;
    return leveldb::Status::IOError(std::string(s.message()));
  }
  ckpt::WritableFile* file_;
  absl::Status status_;
};

}  // namespace

struct IndexTableWriter::Rep {
  explicit Rep(WritableFile* file) : path(file->path()), adapter(file) {
    options.block_size = kTableBlockSize;
    options.block_restart_interval = kTableRestartInterval;
    options.compression = leveldb::kNoCompression;
    builder = std::make_unique<leveldb::TableBuilder>(options, &adapter);
  }
  absl::Status Check() {
    if (!adapter.status().ok()) return adapter.status();
    leveldb::Status s = builder->status();
    if (!s.ok()) return absl::InternalError(absl::StrCat(path, ": ", s.ToString()));
    return absl::OkStatus();
  }
  std::string path;
  LevelDbFileAdapter adapter;
  leveldb::Options options;
  std::unique_ptr<leveldb::TableBuilder> builder;
  std::string last_key;
  bool finished = false;
};

IndexTableWriter::IndexTableWriter(WritableFile* file) : rep_(new Rep(file)) {}

IndexTableWriter::~IndexTableWriter() {
  if (!rep_->finished) rep_->builder->Abandon();
}

absl::Status IndexTableWriter::Add(absl::string_view key, absl::string_view value) {
  if (rep_->builder->NumEntries() > 0 && key <= rep_->last_key) {
    return absl::InvalidArgumentError(absl::StrCat(
        rep_->path, ": index keys must be strictly increasing ('",
        absl::CHexEscape(key), "' after '", absl::CHexEscape(rep_->last_key), "')"));
  }
  // TensorFlow's builder closes the current block before an entry that alone
  // would fill two blocks; LevelDB's does not, so do it here (Flush on an
  // empty block is a no-op).
  if (rep_->builder->NumEntries() > 0 && key.size() + value.size() >= 2 * kTableBlockSize) {
    rep_->builder->Flush();
  }
  rep_->builder->Add(leveldb::Slice(key.data(), key.size()),
                     leveldb::Slice(value.data(), value.size()));
  rep_->last_key.assign(key.data(), key.size());
  return rep_->Check();
}

absl::Status IndexTableWriter::Finish() {
  rep_->finished = true;
  rep_->builder->Finish();
  return rep_->Check();
}

}  // namespace ckpt
