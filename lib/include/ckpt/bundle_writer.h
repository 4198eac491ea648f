// ckpt/bundle_writer.h — writing a V2 checkpoint (tensor bundle).
//
//   ckpt::BundleWriter writer("/tmp/run/model.ckpt");
//   ckpt::Tensor w(ckpt::DT_FLOAT, ckpt::TensorShape({2, 3}));
//   CKPT_RETURN_IF_ERROR(writer.Add("weights", w));
//   CKPT_RETURN_IF_ERROR(writer.Finish());
//   // -> /tmp/run/model.ckpt.index and /tmp/run/model.ckpt.data-00000-of-00001
//
// Missing directories above the prefix are created. Payloads go to the data
// file in the order they are added; index records are sorted by name. With
// default options the files are byte-identical to what TensorFlow writes for
// the same tensors added in the same order.
//
// Errors name the prefix, and the tensor when one tensor is at fault. A
// caller's mistake (an empty or repeated name, an invalid tensor) is
// InvalidArgument and the writer stays usable; a dtype that cannot be saved
// (variant, resource) is Unimplemented; an I/O failure sticks: every later
// call returns it (see status()).
//
// Crash safety: everything is written to temporary files beside the final
// ones (`<name>.tempstate<random>`), synced, then renamed into place, the
// index last. Until Finish() returns OK a reader either finds no checkpoint
// at the prefix or the previous complete one; a checkpoint that replaces an
// earlier one at the same prefix removes the earlier index first, so a crash
// in between leaves "no checkpoint", never a mix of old and new files.
// Destroying an unfinished writer deletes its temporary files.
//
// Speed: a payload of 1 MiB or more is checksummed on a second thread while
// this one writes it (the two cores overlap instead of taking turns), and
// smaller ones are gathered into 4 MiB writes. Index records are encoded
// directly (no protobuf objects) and, when tensors are added in name order,
// kept without any per-tensor allocation or sorting: 100,000 small tensors
// save in a fraction of a second (bench/bundle_bench).
//
// Not thread-safe: one thread adds to a writer at a time.
#ifndef CKPT_BUNDLE_WRITER_H_
#define CKPT_BUNDLE_WRITER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ckpt/env.h"
#include "ckpt/tensor.h"
#include "ckpt/tensor_slice.h"

namespace ckpt {

enum class ByteOrder { kHost, kLittle, kBig };

struct BundleWriterOptions {
  Env* env = nullptr;  // null: Env::Default()
  // Each payload is followed by zeros up to a multiple of this many bytes
  // (TensorFlow's save ops use 1).
  int64_t data_alignment = 1;
  // Byte order of the data written (recorded in the header). TensorFlow
  // writes its host's order: little endian on every common machine.
  ByteOrder byte_order = ByteOrder::kHost;
  // fsync files and their directory before and after renaming. Turning it
  // off is for tests and scratch data only.
  bool sync = true;
};

class BundleWriter {
 public:
  explicit BundleWriter(std::string prefix, BundleWriterOptions options = {});
  ~BundleWriter();
  BundleWriter(const BundleWriter&) = delete;
  BundleWriter& operator=(const BundleWriter&) = delete;

  // The first error, if any; later calls return it too.
  absl::Status status() const { return status_; }

  // Saves `tensor` under `name` (non-empty, not added before). Fixed-size
  // tensors are streamed from their buffer; DT_STRING tensors are encoded.
  absl::Status Add(absl::string_view name, const Tensor& tensor);

  // Saves `slice_tensor` as the part `slice` of a partitioned tensor
  // `full_name` of shape `full_shape`. Every slice of one tensor must agree
  // on dtype and full shape. A slice covering the whole tensor is saved as
  // a plain tensor, as TensorFlow does.
  absl::Status AddSlice(absl::string_view full_name, const TensorShape& full_shape,
                        const TensorSlice& slice, const Tensor& slice_tensor);

  // Writes the index, syncs and renames everything into place.
  absl::Status Finish();

  const std::string& prefix() const { return prefix_; }

 private:
  struct DataFile;
  absl::Status AddEntry(absl::string_view key, const Tensor& tensor);
  absl::Status Fail(absl::Status s);
  absl::Status Annotate(absl::Status s) const;
  bool DataIsBigEndian() const {
    return options_.byte_order == ByteOrder::kBig ||
           (options_.byte_order == ByteOrder::kHost &&
            __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__);
  }
  void RemoveTempFiles();

  std::string prefix_;
  BundleWriterOptions options_;
  Env* env_;
  absl::Status status_;
  bool finished_ = false;
  std::string data_tmp_;
  std::string index_tmp_;
  std::unique_ptr<DataFile> data_;
  // Serialized BundleEntryProto per key (including each saved slice's key);
  // sliced tensors' full records are kept as protos until Finish.
  class Records;
  std::unique_ptr<Records> records_;
  struct SlicedTensor;
  std::map<std::string, std::unique_ptr<SlicedTensor>> sliced_;
};

// Merges single- or multi-shard bundles written separately (one per worker)
// into one checkpoint at `merged_prefix` with the sum of their shards: data
// files are renamed to `merged_prefix.data-K-of-N` in order of first use,
// records keep their bytes but get their new shard ids, and the merged index
// is written to a temporary file and renamed into place (TensorFlow writes it
// in place). Then each input's index is deleted and, when delete_old_dirs,
// each input's directory other than the merged one is removed if empty.
// InvalidArgument on a missing input, a tensor saved twice, inputs with
// different byte orders or versions, a partitioned tensor whose dtype or
// full shape differs between inputs, or slices of it that overlap. Inputs'
// data files that held no tensor (a worker that saved nothing) are deleted.
absl::Status MergeBundles(Env* env, absl::Span<const std::string> prefixes,
                          const std::string& merged_prefix, bool delete_old_dirs = true);

}  // namespace ckpt

#endif  // CKPT_BUNDLE_WRITER_H_
