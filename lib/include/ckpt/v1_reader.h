// ckpt/v1_reader.h — reading a legacy V1 checkpoint (TensorFlow before 0.12,
// and any Saver built with write_version=V1).
//
//   auto reader = ckpt::V1Reader::Open("/tmp/run/model.ckpt-1000");
//   if (!reader.ok()) return reader.status();
//   for (const ckpt::V1EntryInfo& e : (*reader)->entries()) { ... }
//   absl::StatusOr<ckpt::Tensor> w = (*reader)->Read("weights");
//
// A V1 checkpoint is one LevelDB-format table file, or a set of them named
// PREFIX-00000-of-00002, PREFIX-00001-of-00002 (a sharded saver; its
// `checkpoint` file then says PREFIX-?????-of-00002). Each file lists the
// tensors it holds in a table of contents (name, dtype, full shape, saved
// slices), and stores each saved slice's values in a record of its own. A
// tensor may be split into slices spread over several files; Read()
// assembles it.
//
// Open() accepts the file itself, one shard's name, the ?????-pattern, or
// the PREFIX of a sharded set; every shard of the set must be present
// (NotFound naming the missing file). It reads and checks every file whole:
// every block's CRC32C, the table of contents (dtypes, shapes, slices inside
// their shape and not overlapping, the same dtype and shape in every file),
// and that each listed slice has a record. The slices' values are decoded
// (and checked against the dtype and the slice's element count) by the
// reads. Nothing in a hostile file can make the reader crash, or allocate
// more than the file sizes justify: a tensor is allocated only after its
// slices are known to cover it and their records to be large enough to hold
// its elements.
//
// Thread safety: all const methods may be called concurrently.
#ifndef CKPT_V1_READER_H_
#define CKPT_V1_READER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ckpt/env.h"
#include "ckpt/tensor.h"
#include "ckpt/tensor_slice.h"
#include "versions.pb.h"

namespace ckpt {

class IndexTable;

// One saved slice of a tensor and the file that holds it.
struct V1SliceInfo {
  TensorSlice slice;     // as stored: spanning dimensions are kFullExtent
  int file = 0;          // index into V1Reader::files()
  int64_t record = -1;   // its record in that file's table; -1 when missing
  uint64_t bytes = 0;    // that record's size
};

// What the tables of contents say about one tensor.
struct V1EntryInfo {
  std::string name;
  DType dtype = DT_INVALID;
  TensorShape shape;
  // In file order, then in the order the file lists them. A plain
  // (unpartitioned) tensor has one slice covering it.
  std::vector<V1SliceInfo> slices;
};

struct V1ReaderOptions {
  Env* env = nullptr;  // null: Env::Default()
};

class V1Reader {
 public:
  static absl::StatusOr<std::unique_ptr<V1Reader>> Open(const std::string& path,
                                                        V1ReaderOptions options = {});
  ~V1Reader();

  // The table files, in shard order.
  const std::vector<std::string>& files() const { return files_; }
  // The version stamps of the first file (TensorFlow wrote producer 1).
  const ::tensorflow::VersionDef& versions() const { return versions_; }
  // True when some block of some file was Snappy-compressed.
  bool compressed() const;

  // Every tensor, sorted by name.
  const std::vector<V1EntryInfo>& entries() const { return entries_; }
  bool Contains(absl::string_view name) const { return Find(name) != nullptr; }
  // NotFound naming the checkpoint when absent.
  absl::StatusOr<V1EntryInfo> GetEntry(absl::string_view name) const;

  // The whole tensor, assembled from its slices. DataLoss (naming file,
  // tensor and slice) for an undecodable record or one whose values disagree
  // with the table of contents; InvalidArgument naming the first element no
  // saved slice holds when the slices do not cover the tensor; Unimplemented
  // for a dtype V1 cannot hold.
  absl::StatusOr<Tensor> Read(absl::string_view name) const;
  // The part `slice` of tensor `name` (InvalidArgument when it does not fit
  // the tensor's shape).
  absl::StatusOr<Tensor> ReadSlice(absl::string_view name, const TensorSlice& slice) const;

  // Checks what Open does not: every record other than the tables of
  // contents parses, names the tensor and slice its key encodes, and is
  // listed in its file's table of contents. One message per problem (naming
  // file and key); empty when all is well. Reading every tensor (Read)
  // checks the rest.
  std::vector<std::string> CheckRecords() const;

 private:
  V1Reader() = default;
  absl::Status LoadFile(int index, std::unique_ptr<ReadOnlyFile> file);
  const V1EntryInfo* Find(absl::string_view name) const;
  absl::StatusOr<Tensor> DecodeSlice(const V1EntryInfo& e, const V1SliceInfo& s) const;
  absl::Status CheckCoverage(const V1EntryInfo& e, const TensorSlice& request) const;

  std::vector<std::string> files_;
  std::vector<std::unique_ptr<IndexTable>> tables_;
  ::tensorflow::VersionDef versions_;
  std::vector<V1EntryInfo> entries_;
};

// The files of the V1 checkpoint at `path` (see V1Reader::Open for the
// forms accepted), without opening them. NotFound, saying what was looked
// for, when there is none.
absl::StatusOr<std::vector<std::string>> V1CheckpointFiles(const std::string& path,
                                                           Env* env = nullptr);

}  // namespace ckpt

#endif  // CKPT_V1_READER_H_
