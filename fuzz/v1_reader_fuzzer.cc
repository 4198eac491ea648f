// Fuzzes the legacy V1 checkpoint reader on raw bytes.
//
// The input is one V1 table file, tried as it is and with its block
// checksums repaired (see checksum_repair.h) so that mutated records get
// parsed. Opening may fail only with DataLoss (a damaged file) or
// FailedPrecondition (a version stamp we do not read). When it opens, every
// tensor is read whole and through a slice of its first half; a read may
// fail with DataLoss, InvalidArgument (slices that do not cover) or
// Unimplemented (a dtype V1 cannot hold), and what it returns must have the
// dtype and shape the table of contents promised. CheckRecords must not
// crash. Claimed shapes are not trusted: ASan's allocation limit catches a
// read that allocates what the file cannot back.
#include <cstdint>
#include <memory>
#include <string>

#include "checksum_repair.h"
#include "ckpt/v1_reader.h"
#include "fuzz_util.h"
#include "memory_env.h"

namespace {

void CheckRead(const ckpt::V1EntryInfo& e, const absl::StatusOr<ckpt::Tensor>& t,
               const ckpt::TensorShape& want) {
  if (!t.ok()) {
    FUZZ_CHECK(absl::IsDataLoss(t.status()) || absl::IsInvalidArgument(t.status()) ||
                   absl::IsUnimplemented(t.status()),
               "unexpected error code from a V1 read");
    return;
  }
  FUZZ_CHECK(t->dtype() == e.dtype, "read returned another dtype");
  FUZZ_CHECK(t->shape() == want, "read returned another shape");
  if (e.dtype == ckpt::DT_STRING) {
    FUZZ_CHECK(static_cast<int64_t>(t->strings().size()) == want.num_elements(), "string count");
  } else {
    FUZZ_CHECK(t->TotalBytes() == static_cast<size_t>(want.num_elements()) * ckpt::DTypeSize(e.dtype),
               "byte count");
    volatile char sink = 0;  // touch every byte: uninitialized or freed memory shows up
    for (char c : t->bytes()) sink = sink ^ c;
    (void)sink;
  }
}

void Check(absl::string_view bytes, bool mapped) {
  ckpt::fuzz::MemoryEnv env(mapped);
  env.SetFile("/fuzz/model.ckpt", bytes);
  auto reader = ckpt::V1Reader::Open("/fuzz/model.ckpt", {&env});
  if (!reader.ok()) {
    FUZZ_CHECK(absl::IsDataLoss(reader.status()) || absl::IsFailedPrecondition(reader.status()),
               "V1 open error is neither DataLoss nor FailedPrecondition");
    return;
  }
  const ckpt::V1Reader& r = **reader;
  for (size_t i = 1; i < r.entries().size(); ++i) {
    FUZZ_CHECK(r.entries()[i - 1].name < r.entries()[i].name, "entries not sorted by name");
  }
  for (const ckpt::V1EntryInfo& e : r.entries()) {
    FUZZ_CHECK(r.Contains(e.name), "a listed tensor is not found");
    CheckRead(e, r.Read(e.name), e.shape);
    if (e.shape.rank() > 0 && e.shape.dim(0) > 1) {
      std::vector<std::pair<int64_t, int64_t>> extents(e.shape.rank(), {0, -1});
      extents[0] = {0, e.shape.dim(0) / 2};
      auto half = ckpt::TensorSlice::FromExtents(extents);
      FUZZ_CHECK(half.ok(), "a valid slice was refused");
      auto shape = half->SliceShape(e.shape);
      FUZZ_CHECK(shape.ok(), "slice shape");
      CheckRead(e, r.ReadSlice(e.name, *half), *shape);
    }
  }
  (void)r.CheckRecords();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ckpt::fuzz::SilenceProtobufLogging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string raw(reinterpret_cast<const char*>(data), size);
  Check(raw, size % 2 == 0);
  std::string repaired = raw;
  ckpt::fuzz::RepairTableChecksums(&repaired);
  if (repaired != raw) Check(repaired, size % 2 == 1);
  return 0;
}
