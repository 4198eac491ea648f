#include "ckpt/bundle_writer.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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

}  // namespace

// The data file being written: small payloads are gathered in a buffer,
// large ones bypass it.
struct BundleWriter::DataFile {
  std::unique_ptr<WritableFile> file;
  std::string buffer;
  uint64_t offset = 0;  // bytes appended so far (buffered or not)

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
    // Pieces end at multiples of kChunk in the file rather than in `data`:
    // the kernel then caches the file in large aligned folios instead of
    // small ones around every unaligned write boundary, which costs less to
    // write and lets a reader map it with a third of the page faults.
    for (size_t i = 0; i < data.size();) {
      size_t n = std::min<size_t>(data.size() - i, kChunk - (start + i) % kChunk);
      absl::string_view piece = data.substr(i, n);
      *crc = crc32c::Extend(*crc, piece.data(), piece.size());
      CKPT_RETURN_IF_ERROR(file->Append(piece));
      i += n;
    }
    return absl::OkStatus();
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

struct BundleWriter::SlicedTensor {
  ::tensorflow::BundleEntryProto entry;  // dtype, full shape, slices
};

BundleWriter::BundleWriter(std::string prefix, BundleWriterOptions options)
    : prefix_(std::move(prefix)), options_(options) {
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
  return AddEntry(std::string(name), tensor);
}

absl::Status BundleWriter::AddEntry(const std::string& key, const Tensor& tensor) {
  const std::string context = absl::StrCat(prefix_, ": tensor '", absl::CHexEscape(key), "'");
  if (entries_.count(key) > 0 || sliced_.count(key) > 0) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": adding duplicate key"));
  }
  const DType dtype = tensor.dtype();
  if (!tensor.valid() || !tensor.shape().valid()) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": invalid tensor"));
  }
  if (dtype != DT_STRING && !DTypeIsFixedSize(dtype)) {
    return absl::UnimplementedError(
        absl::StrCat(context, ": cannot save dtype ", DTypeName(dtype)));
  }
  const bool swap = IsForeign(options_.byte_order);
  size_t unit = 1;
  if (swap && dtype != DT_STRING) {
    absl::StatusOr<size_t> u = SwapUnitOrError(dtype);
    if (!u.ok()) return absl::Status(u.status().code(), absl::StrCat(context, ": ", u.status().message()));
    unit = *u;
  }

  ::tensorflow::BundleEntryProto entry;
  entry.set_dtype(dtype);
  tensor.shape().ToProto(entry.mutable_shape());
  entry.set_offset(static_cast<int64_t>(data_->offset));
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
  entry.set_size(static_cast<int64_t>(data_->offset) - entry.offset());
  entry.set_crc32c(crc32c::Mask(crc));
  if (options_.data_alignment > 1) {
    uint64_t a = static_cast<uint64_t>(options_.data_alignment);
    uint64_t pad = (a - data_->offset % a) % a;
    if (pad > 0) {
      uint32_t ignored = 0;
      s = data_->Append(std::string(pad, '\0'), &ignored);
      if (!s.ok()) return Fail(s);
    }
  }
  entry.SerializeToString(&entries_[key]);
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
  if (entries_.count(name) > 0) {
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

      for (auto& [name, sliced] : sliced_) {
        sliced->entry.SerializeToString(&entries_[name]);
      }
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
      for (const auto& [key, value] : entries_) CKPT_RETURN_IF_ERROR(table.Add(key, value));
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
