// ckpt/bundle_reader.h — reading a V2 checkpoint (tensor bundle).
//
//   CKPT_ASSIGN_OR_RETURN(std::unique_ptr<ckpt::BundleReader> reader,
//                         ckpt::BundleReader::Open("/tmp/run/model.ckpt"));
//   for (const ckpt::BundleEntryInfo& e : reader->entries()) {
//     std::printf("%s %s\n", e.name.c_str(), e.shape.DebugString().c_str());
//   }
//   CKPT_ASSIGN_OR_RETURN(ckpt::Tensor w, reader->Read("weights"));
//   absl::Span<const float> values = w.flat<float>();   // empty unless float32
//
// Open() reads and checks the whole index: the footer magic, every block's
// CRC32C, the header's version stamps and shard count, and every record's
// dtype, shape and size. It also opens (maps) the data files when there are
// at most 64 (more are opened on first read), so that a checkpoint deleted
// after Open returns (as a trainer's retention deletes old ones while an
// evaluator reads them) still reads whole: an open file outlives its name.
// A checkpoint deleted while Open runs is NotFound; a data file missing
// beside its index is reported (NotFound) by the first read of a tensor in
// it. Every tensor returned has had its CRC32C verified; a mismatch is
// DataLoss naming the file, the tensor and the byte range. Nothing in a
// hostile file can make the reader crash, hang, or allocate more than the
// file sizes justify.
//
// Ownership: tensors returned (ReadView's views included) hold what they
// need and stay valid after the reader is destroyed.
//
// Thread safety: all const methods may be called concurrently.
#ifndef CKPT_BUNDLE_READER_H_
#define CKPT_BUNDLE_READER_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ckpt/env.h"
#include "ckpt/tensor.h"
#include "ckpt/tensor_slice.h"
#include "tensor_bundle.pb.h"

namespace ckpt {

// What the index says about one tensor.
struct BundleEntryInfo {
  std::string name;
  DType dtype = DT_INVALID;
  TensorShape shape;
  int32_t shard_id = 0;
  int64_t offset = 0;
  int64_t size = 0;        // payload bytes (0 for a partitioned tensor's record)
  uint32_t crc32c = 0;     // masked, as stored
  // Non-empty for a partitioned tensor: the slices saved for it.
  std::vector<TensorSlice> slices;
};

struct BundleReaderOptions {
  Env* env = nullptr;  // null: Env::Default()
};

class BundleReader {
 public:
  // The reader's version (producer 1 writes, consumer 1 reads).
  static constexpr int kVersion = 1;

  static absl::StatusOr<std::unique_ptr<BundleReader>> Open(
      const std::string& prefix, BundleReaderOptions options = {});
  ~BundleReader();

  const std::string& prefix() const { return prefix_; }
  const ::tensorflow::BundleHeaderProto& header() const { return header_; }
  int num_shards() const { return header_.num_shards(); }
  // True when the data was written in the other byte order (values are
  // swapped when read).
  bool foreign_byte_order() const { return foreign_; }
  // True when some index block was Snappy-compressed (older TensorFlow).
  bool index_compressed() const;

  // Every tensor, sorted by name; the records of individual saved slices are
  // not listed (they belong to their partitioned tensor's entry). Built on
  // the first call (Open checks every record but keeps none of them as
  // objects): to list names only, num_tensors()/tensor_name() cost nothing.
  const std::vector<BundleEntryInfo>& entries() const;
  // The number of tensors, and the i-th name in the order of entries(),
  // straight from the index without building anything: Open plus a listing
  // of 100,000 names takes milliseconds.
  size_t num_tensors() const { return tensor_records_.size(); }
  absl::string_view tensor_name(size_t i) const;
  bool Contains(absl::string_view name) const;
  // NotFound naming the nearest names when absent.
  absl::StatusOr<BundleEntryInfo> GetEntry(absl::string_view name) const;

  // The record of one saved slice of partitioned tensor `name` (where its
  // payload lives). NotFound when no such slice was saved.
  absl::StatusOr<BundleEntryInfo> GetSliceEntry(absl::string_view name,
                                                const TensorSlice& slice) const;

  // The whole tensor, verified (assembled from its slices if partitioned).
  absl::StatusOr<Tensor> Read(absl::string_view name) const;
  // Reads into `*out`, which must already have the tensor's dtype and shape
  // and own its buffer: no allocation for fixed-size dtypes.
  absl::Status ReadInto(absl::string_view name, Tensor* out) const;
  // Reads a fixed-size, unpartitioned tensor's values (host byte order) into
  // `buffer`, whose size must be exactly the tensor's byte size.
  absl::Status ReadInto(absl::string_view name, void* buffer, size_t buffer_size) const;
  // A read-only view of the mapped data file when the bytes can be used as
  // they are (fixed-size dtype, host byte order, aligned); otherwise an
  // owning copy. Verified either way. Views keep the mapping alive.
  absl::StatusOr<Tensor> ReadView(absl::string_view name) const;
  // The part `slice` of tensor `name` (plain or partitioned).
  absl::StatusOr<Tensor> ReadSlice(absl::string_view name, const TensorSlice& slice) const;
  // Raw access to the index records, including those of individual slices
  // (for tools that copy or merge checkpoints). Keys in table order.
  std::vector<std::string> RecordKeys() const;
  absl::StatusOr<::tensorflow::BundleEntryProto> GetRecord(absl::string_view key) const;

  // The payload bytes exactly as stored, after checking their CRC.
  absl::StatusOr<std::string> ReadStoredBytes(absl::string_view name) const;

 private:
  struct Shard;
  BundleReader() = default;
  absl::Status Init();
  absl::StatusOr<BundleEntryInfo> ParseEntry(absl::string_view key,
                                             absl::string_view value) const;
  absl::StatusOr<BundleEntryInfo> LookupKey(absl::string_view key) const;
  // The entry named `name`, or null: a pointer into entries() once that is
  // built, else `scratch` decoded from the index (the read paths use this).
  const BundleEntryInfo* FindEntry(absl::string_view name, BundleEntryInfo* scratch) const;
  // The same, NotFound (with the nearest names) when absent.
  absl::StatusOr<const BundleEntryInfo*> Lookup(absl::string_view name,
                                                BundleEntryInfo* scratch) const;
  // OK when the record parses and passes every check ParseEntry makes;
  // allocation-free for plain records.
  absl::Status CheckRecord(absl::string_view key, absl::string_view value,
                           std::vector<TensorSlice>* slices) const;
  absl::StatusOr<std::shared_ptr<Shard>> GetShard(int32_t id) const;
  // The same without the lock or a reference count once the shard is open
  // (shards stay open while the reader lives).
  absl::StatusOr<const Shard*> ShardFor(int32_t id) const;
  absl::Status CheckPayloadInFile(const BundleEntryInfo& e) const;
  absl::StatusOr<Tensor> AllocateChecked(const BundleEntryInfo& e, const TensorSlice& request,
                                         const TensorShape& shape) const;
  absl::StatusOr<absl::string_view> StoredBytes(const BundleEntryInfo& e,
                                                std::shared_ptr<Shard>* shard,
                                                std::string* scratch) const;
  absl::Status ReadPlainInto(const BundleEntryInfo& e, Tensor* out) const;
  absl::Status ReadFixedInto(const BundleEntryInfo& e, char* dst) const;
  absl::Status ReadSlicedInto(const BundleEntryInfo& e, const TensorSlice& request,
                              Tensor* out) const;
  absl::Status NotFound(absl::string_view name) const;

  std::string prefix_;
  Env* env_ = nullptr;
  std::unique_ptr<class IndexTable> table_;
  ::tensorflow::BundleHeaderProto header_;
  bool foreign_ = false;
  // The table index of each tensor's record, in name order.
  std::vector<uint32_t> tensor_records_;
  mutable std::once_flag entries_once_;
  mutable std::atomic<bool> entries_built_{false};
  mutable std::vector<BundleEntryInfo> entries_;
  // Where the last lookup found its entry: tensors are usually read in
  // name order, and then the next one is found without a search.
  mutable std::atomic<size_t> lookup_hint_{0};
  mutable std::mutex mu_;
  // By shard id; opened by Open (up to 64) or on first read.
  mutable std::map<int32_t, std::shared_ptr<Shard>> shards_;
  // shards_[id].get() once open, readable without the lock, for the first
  // shard_slots_ ids. The header's shard count is only the file's word: it
  // must not size an allocation, hence the cap.
  static constexpr size_t kShardSlots = 4096;
  size_t shard_slots_ = 0;
  mutable std::unique_ptr<std::atomic<const Shard*>[]> open_shards_;
};

}  // namespace ckpt

#endif  // CKPT_BUNDLE_READER_H_
