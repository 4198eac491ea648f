// Fuzzes BundleReader on a hostile checkpoint: an index file and a data file.
//
// Input layout (little-endian):
//   u32 word | index bytes | data bytes
// The low 30 bits of `word` give the index length (clipped to what follows);
// bit 31 set serves the files through Read() into scratch instead of through
// a mapping, as an Env without mmap would; bit 30 set repairs the checksums
// (see checksum_repair.h) so that mutations get past them. The data bytes are
// every data shard's contents. Open() opens the data files it finds: for
// headers of up to kMaxShards shards they exist before Open; for more, the
// first kMaxShards are added after Open (read lazily), the rest are missing.
//
// Beyond "no crash, no leak, no overread", the target checks promises that
// the reader makes: a tensor read is the dtype and shape its entry lists,
// ReadView and ReadSlice agree with Read, and ReadStoredBytes returns exactly
// the entry's size.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "ckpt/bundle_reader.h"
#include "ckpt/naming.h"
#include "ckpt/tensor/slice_copy.h"
#include "checksum_repair.h"
#include "fuzz_util.h"
#include "memory_env.h"

namespace {

constexpr char kPrefix[] = "/fuzz/model.ckpt";
constexpr int kMaxShards = 4;
// Each entry is read several ways; a bound keeps one input's run short
// without hiding anything (the fuzzer can reorder keys to reach any entry).
constexpr size_t kMaxEntriesRead = 64;

// A sub-slice that every non-empty dimension can hold: the middle part.
ckpt::TensorSlice MiddleSlice(const ckpt::TensorShape& shape) {
  std::vector<std::pair<int64_t, int64_t>> extents;
  for (int64_t d : shape.dims()) {
    if (d == 0) {
      extents.emplace_back(0, ckpt::TensorSlice::kFullExtent);
    } else {
      int64_t start = d / 3;
      extents.emplace_back(start, std::max<int64_t>(1, (d - start + 1) / 2));
    }
  }
  auto s = ckpt::TensorSlice::FromExtents(extents);
  FUZZ_CHECK(s.ok(), "MiddleSlice built an invalid slice");
  return *s;
}

// When both the whole tensor and a slice of it could be read, the slice must
// hold the same values as that region of the whole.
void CheckSliceAgrees(const ckpt::BundleEntryInfo& e, const ckpt::Tensor& whole,
                      const ckpt::TensorSlice& slice, const ckpt::Tensor& part) {
  auto shape = slice.SliceShape(e.shape);
  FUZZ_CHECK(shape.ok(), "ReadSlice succeeded on an invalid slice");
  FUZZ_CHECK(part.dtype() == e.dtype && part.shape() == *shape, "ReadSlice result shape");
  auto expected = ckpt::Tensor::Allocate(e.dtype, *shape);
  FUZZ_CHECK(expected.ok(), "allocating the expected slice");
  auto s = ckpt::CopySliceRegion(e.shape, whole, ckpt::TensorSlice(e.shape.rank()),
                                 &*expected, slice, slice);
  FUZZ_CHECK(s.ok(), "CopySliceRegion");
  FUZZ_CHECK(expected->Identical(part), "ReadSlice differs from the region of Read");
}

// `data_bytes`: the bytes of all data files that exist.
void ReadEntry(const ckpt::BundleReader& r, const ckpt::BundleEntryInfo& e, uint64_t data_bytes) {
  absl::StatusOr<ckpt::Tensor> whole = r.Read(e.name);
  if (whole.ok()) {
    FUZZ_CHECK(whole->dtype() == e.dtype && whole->shape() == e.shape,
               "Read returned another dtype or shape than the entry lists");
    // The reader's promise: no more memory than the files justify. Every
    // element read comes from its own stored bytes (at least one per string).
    const uint64_t width = std::max<size_t>(ckpt::DTypeSize(e.dtype), 1);
    FUZZ_CHECK(static_cast<uint64_t>(whole->NumElements()) <= data_bytes / width,
               "a tensor larger than the data files was read");
  }

  absl::StatusOr<ckpt::Tensor> view = r.ReadView(e.name);
  FUZZ_CHECK(view.ok() == whole.ok(), "ReadView and Read disagree on success");
  if (view.ok()) FUZZ_CHECK(view->Identical(*whole), "ReadView differs from Read");

  std::vector<ckpt::TensorSlice> slices = {MiddleSlice(e.shape)};
  if (!e.slices.empty()) slices.push_back(e.slices.front());
  for (const ckpt::TensorSlice& slice : slices) {
    absl::StatusOr<ckpt::Tensor> part = r.ReadSlice(e.name, slice);
    if (part.ok() && whole.ok()) CheckSliceAgrees(e, *whole, slice, *part);
  }
  for (const ckpt::TensorSlice& saved : e.slices) {
    r.GetSliceEntry(e.name, saved).status().IgnoreError();
  }

  absl::StatusOr<std::string> stored = r.ReadStoredBytes(e.name);
  if (stored.ok()) {
    FUZZ_CHECK(e.slices.empty() && stored->size() == static_cast<uint64_t>(e.size),
               "ReadStoredBytes returned another size than the entry's");
  }

  // Into a caller's buffer: only sizes the data file could back, as a real
  // caller would size the buffer from the entry.
  if (e.slices.empty() && ckpt::DTypeIsFixedSize(e.dtype) && e.size >= 0 &&
      e.size <= (int64_t{1} << 20)) {
    std::vector<char> buffer(static_cast<size_t>(e.size));
    absl::Status s = r.ReadInto(e.name, buffer.data(), buffer.size());
    FUZZ_CHECK(s.ok() == whole.ok(), "ReadInto(buffer) and Read disagree on success");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ckpt::fuzz::SilenceProtobufLogging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint32_t word = ckpt::fuzz::Load32(data);
  const bool mapped = (word & 0x80000000u) == 0;
  const bool repair = (word & 0x40000000u) != 0;
  const size_t index_len = std::min<size_t>(word & 0x3fffffffu, size - 4);
  std::string index(reinterpret_cast<const char*>(data) + 4, index_len);
  std::string payload(reinterpret_cast<const char*>(data) + 4 + index_len, size - 4 - index_len);
  if (repair) ckpt::fuzz::RepairBundleChecksums(&index, &payload);

  ckpt::fuzz::MemoryEnv env(mapped);
  env.SetFile(ckpt::IndexFilename(kPrefix), index);
  std::vector<std::string> data_files;
  for (int n = 1; n <= kMaxShards; ++n) {
    for (int i = 0; i < n; ++i) data_files.push_back(ckpt::DataFilename(kPrefix, i, n));
  }
  env.SetFiles(data_files, payload);
  ckpt::BundleReaderOptions options;
  options.env = &env;
  auto opened = ckpt::BundleReader::Open(kPrefix, options);
  if (!opened.ok()) return 0;
  const ckpt::BundleReader& r = **opened;

  // Files Open could not find are looked up again on first read.
  if (r.num_shards() > kMaxShards) {
    data_files.clear();
    for (int i = 0; i < kMaxShards; ++i) {
      data_files.push_back(ckpt::DataFilename(kPrefix, i, r.num_shards()));
    }
    env.SetFiles(data_files, payload);
  }

  const uint64_t data_bytes =
      payload.size() * static_cast<uint64_t>(std::min(r.num_shards(), kMaxShards));
  for (const std::string& key : r.RecordKeys()) {
    FUZZ_CHECK(r.GetRecord(key).ok(), "a listed record key cannot be fetched");
  }
  const auto& entries = r.entries();
  for (size_t i = 0; i < entries.size(); ++i) {
    FUZZ_CHECK(r.Contains(entries[i].name), "a listed entry is not contained");
    if (i < kMaxEntriesRead) ReadEntry(r, entries[i], data_bytes);
  }
  // The "did you mean" search on a miss runs over every name.
  r.GetEntry("fuzz/missing/tensor").status().IgnoreError();
  if (!entries.empty()) r.GetEntry(entries.front().name + "~").status().IgnoreError();
  return 0;
}
