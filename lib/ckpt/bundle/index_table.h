// The .index file: a LevelDB-format sorted table (see FORMAT.md section 2).
//
// Writing goes through LevelDB's own TableBuilder, configured as TensorFlow
// configures its copy (256 KiB blocks, restart interval 16, no compression),
// which reproduces TensorFlow's bytes exactly.
//
// Reading is our own code, on purpose: LevelDB's Table::Open/ReadBlock
// allocate `handle.size + 5` bytes before checking the handle against the
// file, and that sum wraps around for hostile sizes (an out-of-bounds read),
// and a Snappy block may claim any uncompressed length. A checkpoint from a
// stranger must not be able to do either, so this reader checks every handle,
// length and checksum before it touches or allocates anything, and parses the
// whole table once into a flat sorted array (no per-entry allocation).
#ifndef CKPT_BUNDLE_INDEX_TABLE_H_
#define CKPT_BUNDLE_INDEX_TABLE_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ckpt/env.h"

namespace ckpt {

// Format constants (implementation details; clients ignore).
constexpr uint64_t kTableMagic = 0xdb4775248b80fb57ull;
constexpr size_t kBlockTrailerSize = 5;   // type byte + masked CRC32C
constexpr size_t kFooterSize = 48;        // two handles padded to 40, magic
constexpr size_t kTableBlockSize = 262144;
constexpr int kTableRestartInterval = 16;

class IndexTable {
 public:
  // Reads and checks the whole table in `file` (kept open: values may point
  // into its mapping). Every block's CRC is verified. Errors are DataLoss and
  // name the file.
  static absl::StatusOr<std::unique_ptr<IndexTable>> Open(
      std::unique_ptr<ReadOnlyFile> file);

  size_t size() const { return num_recs_; }
  absl::string_view key(size_t i) const {
    return absl::string_view(keys_.data() + rec(i).key_off, rec(i).key_len);
  }
  absl::string_view value(size_t i) const {
    return absl::string_view(rec(i).value, rec(i).value_len);
  }
  // Index of the first key >= `key` (size() when none).
  size_t LowerBound(absl::string_view key) const;
  // Index of `key`, or -1.
  int64_t Find(absl::string_view key) const;
  // True when any data block was Snappy-compressed.
  bool compressed() const { return compressed_; }
  const std::string& path() const { return file_->path(); }

 private:
  IndexTable() = default;
  absl::Status Parse();
  absl::StatusOr<absl::string_view> ReadBlock(uint64_t offset, uint64_t size,
                                              uint64_t limit, const char* what);
  struct Fill;
  // Parses the index block's handles into *handles.
  absl::Status ParseIndexBlock(absl::string_view block,
                               std::vector<std::pair<uint64_t, uint64_t>>* handles) const;
  // Parses one data block, appending its keys and records to *fill.
  absl::Status ParseDataBlock(absl::string_view block, Fill* fill) const;
  absl::Status Corrupt(const std::string& what) const;

  std::unique_ptr<ReadOnlyFile> file_;
  std::string whole_;                        // the file when it is not mapped
  absl::string_view contents_;
  std::vector<std::unique_ptr<char[]>> uncompressed_;
  // Memory allocated once, at its final size, and faulted in with one
  // system call: filling fresh multi-MiB buffers page by page cost a page
  // fault per 4 KiB, which on a virtual machine was most of the time taken to
  // open the index of a checkpoint of 100,000 tensors.
  class Arena {
   public:
    Arena() = default;
    ~Arena();
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;
    char* data() const { return data_; }
    // Allocates `size` bytes (at least one); called once.
    void Allocate(size_t size);

   private:
    char* data_ = nullptr;
    size_t capacity_ = 0;
    bool mapped_ = false;
  };
  struct Rec {
    uint64_t key_off;
    uint32_t key_len;
    uint32_t value_len;
    const char* value;
  };
  const Rec& rec(size_t i) const { return reinterpret_cast<const Rec*>(recs_.data())[i]; }
  // All keys back to back, and one Rec per entry; both sized exactly by the
  // first pass before the parse fills them.
  Arena keys_;
  Arena recs_;
  size_t num_recs_ = 0;
  uint64_t key_budget_ = 0;                  // bound on the total key bytes
  bool compressed_ = false;
};

// Writes a table with TensorFlow's settings. Keys must be added in strictly
// increasing order (bytewise).
class IndexTableWriter {
 public:
  explicit IndexTableWriter(WritableFile* file);
  ~IndexTableWriter();
  absl::Status Add(absl::string_view key, absl::string_view value);
  // Writes the last block, the metaindex, the index and the footer. Does not
  // sync or close the file.
  absl::Status Finish();

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace ckpt

#endif  // CKPT_BUNDLE_INDEX_TABLE_H_
