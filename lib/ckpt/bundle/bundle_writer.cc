#include "ckpt/bundle_writer.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ckpt/background_thread.h"
#include "ckpt/bundle/entry_codec.h"
#include "ckpt/bundle/index_table.h"
#include "ckpt/bundle/slice_key.h"
#include "ckpt/bundle/string_codec.h"
#include "ckpt/crc32c.h"
#include "ckpt/io/path.h"
#include "ckpt/naming.h"
#include "ckpt/status_macros.h"
#include "ckpt/tensor/byte_swap.h"
#include "tensor_bundle.pb.h"

namespace ckpt {
namespace {

// Writes and checksums are done in pieces of this size, so that each piece
// is checksummed while it is still in cache and large tensors are written
// straight from the caller's buffer.
constexpr size_t kChunk = 1 << 20;
constexpr size_t kBufferSize = 4 << 20;
// Payloads at least this large are checksummed on the second thread while
// this one writes them: below it, handing over costs more than it saves.
constexpr size_t kParallelChecksumMin = 1 << 20;

bool HaveSecondCore() {
  static const bool yes = std::thread::hardware_concurrency() >= 2;
  return yes;
}

}  // namespace

// The data file being written: small payloads are gathered in a buffer,
// large ones bypass it.
struct BundleWriter::DataFile {
  std::unique_ptr<WritableFile> file;
  std::string buffer;
  uint64_t offset = 0;  // bytes appended so far (buffered or not)
  // Checksums a large payload while this thread writes it. Both read the
  // same bytes at about the same time, so the second reader finds them in
  // the shared cache and memory is read once, not twice.
  BackgroundJobThread checksummer;

  absl::Status FlushBuffer() {
    if (buffer.empty()) return absl::OkStatus();
    absl::Status s = file->Append(buffer);
    buffer.clear();
    return s;
  }

  // Appends `data`, extending *crc over it.
  absl::Status Append(absl::string_view data, uint32_t* crc) {
    const uint64_t start = offset;
    offset += data.size();
    if (buffer.size() + data.size() <= kBufferSize) {
      *crc = crc32c::Extend(*crc, data.data(), data.size());
      buffer.append(data.data(), data.size());
      return absl::OkStatus();
    }
    CKPT_RETURN_IF_ERROR(FlushBuffer());
    const bool parallel = data.size() >= kParallelChecksumMin && HaveSecondCore();
    uint32_t parallel_crc = *crc;
    if (parallel) {
      checksummer.Start([&parallel_crc, data] {
        parallel_crc = crc32c::Extend(parallel_crc, data.data(), data.size());
        return absl::OkStatus();
      });
    }
    // Pieces end at multiples of kChunk in the file rather than in `data`:
    // the kernel then caches the file in large aligned folios instead of
    // small ones around every unaligned write boundary, which costs less to
    // write and lets a reader map it with a third of the page faults.
    absl::Status s;
    for (size_t i = 0; i < data.size() && s.ok();) {
      size_t n = std::min<size_t>(data.size() - i, kChunk - (start + i) % kChunk);
      absl::string_view piece = data.substr(i, n);
      if (!parallel) *crc = crc32c::Extend(*crc, piece.data(), piece.size());
      s = file->Append(piece);
      i += n;
    }
    // Even after a failed write: the thread must be done with the caller's
    // bytes before we return.
    if (parallel) {
      checksummer.Wait().IgnoreError();  // the job cannot fail
      *crc = parallel_crc;
    }
    return s;
  }

  // Same, with every `unit`-byte word byte-reversed on the way.
  absl::Status AppendSwapped(absl::string_view data, size_t unit, uint32_t* crc) {
    std::string scratch;
    for (size_t i = 0; i < data.size(); i += kChunk) {
      absl::string_view piece = data.substr(i, kChunk);
      scratch.resize(piece.size());
      CopySwapped(scratch.data(), piece.data(), piece.size(), unit);
      CKPT_RETURN_IF_ERROR(Append(scratch, crc));
    }
    return absl::OkStatus();
  }
};

// The index records gathered until Finish: each key followed by its
// serialized BundleEntryProto, back to back in one arena (no allocation per
// tensor). Keys added in increasing order, as savers usually add them, need
// neither sorting nor a set to find duplicates; the first key out of order
// builds a hash set over the arena, and Finish sorts.
class BundleWriter::Records {
 public:
  size_t size() const { return recs_.size(); }
  absl::string_view key(size_t i) const {
    return absl::string_view(arena_.data() + recs_[i].off, recs_[i].key_len);
  }
  absl::string_view value(size_t i) const {
    return absl::string_view(arena_.data() + recs_[i].off + recs_[i].key_len, recs_[i].value_len);
  }

  bool Contains(absl::string_view key) const {
    if (set_ != nullptr) return set_->find(key) != set_->end();
    // In order so far: a key after the last one is new (the common case),
    // any other is looked up by binary search.
    if (recs_.empty() || key > this->key(recs_.size() - 1)) return false;
    size_t lo = 0, hi = recs_.size();
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (this->key(mid) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo < recs_.size() && this->key(lo) == key;
  }

  // Starts a record for `key` (not yet present); the caller appends the
  // value to *value_buffer() and then calls EndRecord.
  std::string* BeginRecord(absl::string_view key) {
    if (set_ == nullptr && !recs_.empty() && key < this->key(recs_.size() - 1)) {
      // Out of order from here on: index every key by content.
      set_ = std::make_unique<KeySet>(0, KeyHash{this}, KeyEq{this});
      set_->reserve(recs_.size() * 2);
      for (size_t i = 0; i < recs_.size(); ++i) set_->insert(i);
    }
    pending_ = {arena_.size(), static_cast<uint32_t>(key.size()), 0};
    arena_.append(key.data(), key.size());
    return &arena_;
  }
  void EndRecord() {
    pending_.value_len = static_cast<uint32_t>(arena_.size() - pending_.off - pending_.key_len);
    recs_.push_back(pending_);
    if (set_ != nullptr) set_->insert(recs_.size() - 1);
  }

  // Record numbers in key order.
  std::vector<uint32_t> Order() const {
    std::vector<uint32_t> order(recs_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
    if (set_ != nullptr) {
      std::sort(order.begin(), order.end(),
                [this](uint32_t a, uint32_t b) { return key(a) < key(b); });
    }
    return order;
  }

 private:
  struct Rec {
    size_t off;
    uint32_t key_len;
    uint32_t value_len;
  };
  // Set of record numbers, looked up by key content (transparent).
  struct KeyHash {
    using is_transparent = void;
    const Records* r;
    size_t operator()(size_t i) const { return absl::Hash<absl::string_view>()(r->key(i)); }
    size_t operator()(absl::string_view k) const { return absl::Hash<absl::string_view>()(k); }
  };
  struct KeyEq {
    using is_transparent = void;
    const Records* r;
    absl::string_view K(size_t i) const { return r->key(i); }
    absl::string_view K(absl::string_view k) const { return k; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const { return K(a) == K(b); }
  };
  using KeySet = absl::flat_hash_set<size_t, KeyHash, KeyEq>;

  std::string arena_;
  std::vector<Rec> recs_;
  Rec pending_{};
  std::unique_ptr<KeySet> set_;
};

struct BundleWriter::SlicedTensor {
  ::tensorflow::BundleEntryProto entry;  // dtype, full shape, slices
};

BundleWriter::BundleWriter(std::string prefix, BundleWriterOptions options)
    : prefix_(std::move(prefix)), options_(options), records_(std::make_unique<Records>()) {
  env_ = options_.env != nullptr ? options_.env : Env::Default();
  if (options_.data_alignment < 1) {
    status_ = absl::InvalidArgumentError(absl::StrCat(
        "data_alignment must be >= 1, got ", options_.data_alignment));
    return;
  }
  std::string dir = DirName(prefix_);
  if (!dir.empty()) {
    status_ = Annotate(CreateDirRecursively(env_, dir));
    if (!status_.ok()) return;
  }
  data_tmp_ = absl::StrCat(DataFilename(prefix_, 0, 1), ".tempstate", env_->Random64());
  absl::StatusOr<std::unique_ptr<WritableFile>> f = env_->NewWritableFile(data_tmp_);
  if (!f.ok()) {
    status_ = Annotate(f.status());
    return;
  }
  data_ = std::make_unique<DataFile>();
  data_->file = *std::move(f);
  data_->buffer.reserve(kBufferSize);
}

BundleWriter::~BundleWriter() {
  if (!finished_) RemoveTempFiles();
}

void BundleWriter::RemoveTempFiles() {
  if (data_ != nullptr) {
    data_->file->Close().IgnoreError();
    data_.reset();
  }
  for (const std::string* tmp : {&data_tmp_, &index_tmp_}) {
    if (!tmp->empty() && env_->FileExists(*tmp)) env_->DeleteFile(*tmp).IgnoreError();
  }
}

absl::Status BundleWriter::Fail(absl::Status s) {
  if (status_.ok()) status_ = Annotate(std::move(s));
  return status_;
}

absl::Status BundleWriter::Annotate(absl::Status s) const {
  // Errors from the Env usually name their file already; a custom Env's may
  // not, and the user must still learn which checkpoint failed.
  if (s.ok() || absl::StrContains(s.message(), prefix_)) return s;
  return absl::Status(s.code(), absl::StrCat("writing checkpoint ", prefix_, ": ", s.message()));
}

absl::Status BundleWriter::Add(absl::string_view name, const Tensor& tensor) {
  if (!status_.ok()) return status_;
  if (finished_) return absl::FailedPreconditionError(absl::StrCat(prefix_, ": writer already finished"));
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(prefix_, ": a tensor name must not be empty"));
  }
  return AddEntry(name, tensor);
}

absl::Status BundleWriter::AddEntry(absl::string_view key, const Tensor& tensor) {
  // Built only for an error: escaping every name would cost more than
  // saving a small tensor.
  auto context = [&] { return absl::StrCat(prefix_, ": tensor '", absl::CHexEscape(key), "'"); };
  if (records_->Contains(key) || (!sliced_.empty() && sliced_.count(std::string(key)) > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(context(), ": adding duplicate key"));
  }
  const DType dtype = tensor.dtype();
  if (!tensor.valid() || !tensor.shape().valid()) {
    return absl::InvalidArgumentError(absl::StrCat(context(), ": invalid tensor"));
  }
  if (dtype != DT_STRING && !DTypeIsFixedSize(dtype)) {
    return absl::UnimplementedError(
        absl::StrCat(context(), ": cannot save dtype ", DTypeName(dtype)));
  }
  const bool swap = IsForeign(options_.byte_order);
  size_t unit = 1;
  if (swap && dtype != DT_STRING) {
    absl::StatusOr<size_t> u = SwapUnitOrError(dtype);
    if (!u.ok()) {
      return absl::Status(u.status().code(), absl::StrCat(context(), ": ", u.status().message()));
    }
    unit = *u;
  }

  const uint64_t offset = data_->offset;
  uint32_t crc = 0;
  absl::Status s;
  if (dtype == DT_STRING) {
    // The varint lengths are not covered by the CRC as stored bytes: the
    // encoder folds fixed-width lengths and the length checksum into `crc`.
    std::string header;
    EncodeStringHeader(tensor.strings(), DataIsBigEndian(), &header, &crc);
    uint32_t ignored = 0;
    s = data_->Append(header, &ignored);
    for (const std::string& e : tensor.strings()) {
      if (!s.ok()) break;
      s = data_->Append(e, &crc);
    }
  } else if (swap && unit > 1) {
    s = data_->AppendSwapped(tensor.bytes(), unit, &crc);
  } else {
    s = data_->Append(tensor.bytes(), &crc);
  }
  if (!s.ok()) return Fail(s);
  const uint64_t size = data_->offset - offset;
  if (options_.data_alignment > 1) {
    uint64_t a = static_cast<uint64_t>(options_.data_alignment);
    uint64_t pad = (a - data_->offset % a) % a;
    if (pad > 0) {
      uint32_t ignored = 0;
      s = data_->Append(std::string(pad, '\0'), &ignored);
      if (!s.ok()) return Fail(s);
    }
  }
  std::string* out = records_->BeginRecord(key);
  AppendPlainEntry(dtype, tensor.shape().dims(), /*shard_id=*/0, static_cast<int64_t>(offset),
                   static_cast<int64_t>(size), crc32c::Mask(crc), out);
  records_->EndRecord();
  return absl::OkStatus();
}

absl::Status BundleWriter::AddSlice(absl::string_view full_name, const TensorShape& full_shape,
                                    const TensorSlice& slice, const Tensor& slice_tensor) {
  if (!status_.ok()) return status_;
  const std::string name(full_name);
  const std::string context = absl::StrCat(prefix_, ": tensor '", absl::CHexEscape(name), "'");
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(prefix_, ": a tensor name must not be empty"));
  if (!full_shape.valid()) return absl::InvalidArgumentError(absl::StrCat(context, ": invalid full shape"));
  absl::StatusOr<TensorShape> expected = slice.SliceShape(full_shape);
  if (!expected.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": slice ", slice.ToString(), " of ",
                                                   full_shape.DebugString(), ": ",
                                                   expected.status().message()));
  }
  if (slice_tensor.shape() != *expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        context, ": slice ", slice.ToString(), " has shape ", expected->DebugString(),
        " but the tensor given has shape ", slice_tensor.shape().DebugString()));
  }
  if (slice.CoversAll(full_shape)) return Add(name, slice_tensor);
  if (records_->Contains(name)) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": already saved as a whole tensor"));
  }
  auto& sliced = sliced_[name];
  if (sliced == nullptr) {
    sliced = std::make_unique<SlicedTensor>();
    sliced->entry.set_dtype(slice_tensor.dtype());
    full_shape.ToProto(sliced->entry.mutable_shape());
  } else {
    absl::StatusOr<TensorShape> prev = TensorShape::FromProto(sliced->entry.shape());
    if (sliced->entry.dtype() != slice_tensor.dtype() || !prev.ok() || *prev != full_shape) {
      return absl::InvalidArgumentError(absl::StrCat(
          context, ": slices disagree on dtype or full shape (",
          DTypeName(sliced->entry.dtype()), prev.ok() ? prev->DebugString() : "?", " vs ",
          DTypeName(slice_tensor.dtype()), full_shape.DebugString(), ")"));
    }
  }
  CKPT_RETURN_IF_ERROR(AddEntry(EncodeTensorNameSlice(name, slice), slice_tensor));
  slice.ToProto(sliced->entry.add_slices());
  return absl::OkStatus();
}

absl::Status BundleWriter::Finish() {
  if (finished_) return absl::FailedPreconditionError(absl::StrCat(prefix_, ": writer already finished"));
  finished_ = true;
  absl::Status s = status_;
  if (s.ok()) {
    s = [&]() -> absl::Status {
      CKPT_RETURN_IF_ERROR(data_->FlushBuffer());
      if (options_.sync) CKPT_RETURN_IF_ERROR(data_->file->Sync());
      CKPT_RETURN_IF_ERROR(data_->file->Close());

      ::tensorflow::BundleHeaderProto header;
      header.set_num_shards(1);
      header.set_endianness(DataIsBigEndian() ? ::tensorflow::BundleHeaderProto::BIG
                                : ::tensorflow::BundleHeaderProto::LITTLE);
      header.mutable_version()->set_producer(1);
      std::string header_bytes;
      header.SerializeToString(&header_bytes);

      index_tmp_ = absl::StrCat(IndexFilename(prefix_), ".tempstate", env_->Random64());
      CKPT_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> index, env_->NewWritableFile(index_tmp_));
      IndexTableWriter table(index.get());
      CKPT_RETURN_IF_ERROR(table.Add("", header_bytes));
      // The plain records and the partitioned tensors' full records, merged
      // in key order (a name is never in both: Add and AddSlice refuse).
      const std::vector<uint32_t> order = records_->Order();
      auto sliced = sliced_.begin();
      std::string sliced_value;
      for (size_t i = 0; i < order.size() || sliced != sliced_.end();) {
        if (sliced != sliced_.end() &&
            (i == order.size() || absl::string_view(sliced->first) < records_->key(order[i]))) {
          sliced->second->entry.SerializeToString(&sliced_value);
          CKPT_RETURN_IF_ERROR(table.Add(sliced->first, sliced_value));
          ++sliced;
        } else {
          CKPT_RETURN_IF_ERROR(table.Add(records_->key(order[i]), records_->value(order[i])));
          ++i;
        }
      }
      CKPT_RETURN_IF_ERROR(table.Finish());
      if (options_.sync) CKPT_RETURN_IF_ERROR(index->Sync());
      CKPT_RETURN_IF_ERROR(index->Close());

      // Commit. An older checkpoint at this prefix loses its index first, so
      // that no instant pairs its index with our data file.
      const std::string final_index = IndexFilename(prefix_);
      const std::string dir = DirName(prefix_);
      if (env_->FileExists(final_index)) CKPT_RETURN_IF_ERROR(env_->DeleteFile(final_index));
      CKPT_RETURN_IF_ERROR(env_->RenameFile(data_tmp_, DataFilename(prefix_, 0, 1)));
      if (options_.sync) CKPT_RETURN_IF_ERROR(env_->SyncDir(dir));
      CKPT_RETURN_IF_ERROR(env_->RenameFile(index_tmp_, final_index));
      if (options_.sync) CKPT_RETURN_IF_ERROR(env_->SyncDir(dir));
      return absl::OkStatus();
    }();
  }
  if (!s.ok()) {
    RemoveTempFiles();
    status_ = Annotate(s);
    return status_;
  }
  data_.reset();
  return absl::OkStatus();
}

}  // namespace ckpt
