// Fuzzes the .index table reader (our own sstable parser) on raw bytes.
//
// The input is the whole file, tried as it is and with its block checksums
// repaired (see checksum_repair.h), so that mutated blocks get parsed. Each
// is opened twice, once mapped and once through Read() into the table's own
// buffer; both must agree. When it
// opens, every entry is visited, keys must be strictly increasing, and
// LowerBound/Find must locate each key and a few probes around them.
#include <cstdint>
#include <memory>
#include <string>

#include "ckpt/bundle/index_table.h"
#include "checksum_repair.h"
#include "fuzz_util.h"
#include "memory_env.h"

namespace {

absl::StatusOr<std::unique_ptr<ckpt::IndexTable>> OpenTable(ckpt::fuzz::MemoryEnv* env) {
  auto file = env->NewReadOnlyFile("/fuzz/model.ckpt.index");
  FUZZ_CHECK(file.ok(), "the in-memory file is missing");
  return ckpt::IndexTable::Open(*std::move(file));
}

void CheckProbe(const ckpt::IndexTable& t, absl::string_view probe) {
  const size_t i = t.LowerBound(probe);
  FUZZ_CHECK(i <= t.size(), "LowerBound past the end");
  FUZZ_CHECK(i == t.size() || t.key(i) >= probe, "LowerBound key smaller than the probe");
  FUZZ_CHECK(i == 0 || t.key(i - 1) < probe, "LowerBound skipped a smaller key");
  const int64_t f = t.Find(probe);
  FUZZ_CHECK(f == -1 || (static_cast<size_t>(f) == i && t.key(i) == probe), "Find");
}

void Check(absl::string_view bytes) {
  ckpt::fuzz::MemoryEnv mapped_env(/*map_files=*/true), read_env(/*map_files=*/false);
  mapped_env.SetFile("/fuzz/model.ckpt.index", bytes);
  read_env.SetFile("/fuzz/model.ckpt.index", bytes);

  auto table = OpenTable(&mapped_env);
  auto copy = OpenTable(&read_env);
  FUZZ_CHECK(table.ok() == copy.ok(), "mapped and read tables disagree on opening");
  if (!table.ok()) {
    FUZZ_CHECK(absl::IsDataLoss(table.status()), "index error is not DataLoss");
    return;
  }
  const ckpt::IndexTable& t = **table;
  FUZZ_CHECK(t.size() == (*copy)->size(), "mapped and read tables differ in size");
  for (size_t i = 0; i < t.size(); ++i) {
    FUZZ_CHECK(t.key(i) == (*copy)->key(i) && t.value(i) == (*copy)->value(i),
               "mapped and read tables differ");
    if (i > 0) FUZZ_CHECK(t.key(i - 1) < t.key(i), "keys not strictly increasing");
    FUZZ_CHECK(t.Find(t.key(i)) == static_cast<int64_t>(i), "Find misses a key");
    // Touch every value byte so that a dangling view shows up under ASan.
    volatile char sink = 0;
    for (char c : t.value(i)) sink = sink ^ c;
    (void)sink;
  }
  CheckProbe(t, "");
  CheckProbe(t, "global_step");
  if (t.size() > 0) {
    const std::string first(t.key(0)), last(t.key(t.size() - 1));
    CheckProbe(t, first + std::string(1, '\0'));
    CheckProbe(t, last + "\xff");
    if (!last.empty()) CheckProbe(t, last.substr(0, last.size() - 1));
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ckpt::fuzz::SilenceProtobufLogging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string raw(reinterpret_cast<const char*>(data), size);
  Check(raw);
  std::string repaired = raw;
  ckpt::fuzz::RepairTableChecksums(&repaired);
  if (repaired != raw) Check(repaired);
  return 0;
}
