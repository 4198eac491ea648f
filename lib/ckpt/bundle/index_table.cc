#include "ckpt/bundle/index_table.h"

#include <snappy.h>

#include <algorithm>
#include <cstring>

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

}  // namespace

absl::Status IndexTable::Corrupt(const std::string& what) const {
  return absl::DataLossError(absl::StrCat(file_->path(), ": corrupt index table: ", what));
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
                                    std::vector<std::pair<uint64_t, uint64_t>>* handles) {
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
  std::string key;
  for (const char* p = base; p < limit;) {
    uint32_t shared, non_shared, value_len;
    const char* q = GetVarint32(p, limit, &shared);
    if (q) q = GetVarint32(q, limit, &non_shared);
    if (q) q = GetVarint32(q, limit, &value_len);
    if (q == nullptr || static_cast<uint64_t>(non_shared) + value_len >
                            static_cast<uint64_t>(limit - q)) {
      return Corrupt(absl::StrCat("bad entry in block at byte ", p - base));
    }
    if (shared > key.size() || (p == base && shared != 0)) {
      return Corrupt(absl::StrCat("bad entry in block at byte ", p - base,
                                  ": shares more than the previous key"));
    }
    key.resize(shared);
    key.append(q, non_shared);
    absl::string_view value(q + non_shared, value_len);
    p = q + non_shared + value_len;
    if (is_index) {
      Handle h;
      if (DecodeHandle(value.data(), value.data() + value.size(), &h) == nullptr) {
        return Corrupt("bad block handle in index block");
      }
      handles->emplace_back(h.offset, h.size);
      continue;
    }
    if (!values_.empty() && key <= last_key_) {
      return Corrupt(absl::StrCat("keys out of order at '", absl::CHexEscape(key), "'"));
    }
    if (keys_.size() + key.size() > key_budget_) {
      return Corrupt("keys expand far beyond the size of the table");
    }
    keys_.append(key);
    key_offsets_.push_back(keys_.size());
    values_.push_back(value);
    last_key_ = key;
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
  CKPT_RETURN_IF_ERROR(ParseBlock(index_block, /*is_index=*/true, &handles));
  uint64_t next = 0;
  for (const auto& h : handles) {
    // Data blocks sit back to back before the metaindex and index blocks.
    if (h.first < next) return Corrupt("data blocks overlap or are out of order");
    CKPT_ASSIGN_OR_RETURN(absl::string_view block,
                          ReadBlock(h.first, h.second, std::min(meta.offset, index.offset),
                                    "data"));
    CKPT_RETURN_IF_ERROR(ParseBlock(block, /*is_index=*/false, nullptr));
    next = h.first + h.second + kBlockTrailerSize;
  }
  last_key_.clear();
  last_key_.shrink_to_fit();
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
