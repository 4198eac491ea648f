// Checksum repair for fuzz inputs.
//
// Every block of an index table and every tensor payload carries a CRC32C.
// A mutated input almost never has matching checksums, so without help a
// fuzzer spends its time on the first CRC check and never reaches the
// parsing behind it. (libFuzzer's comparison tracing cannot fix them: the
// files store the CRC masked, so the value compared is not the bytes in the
// input.) These functions rewrite the checksums of a mutated input to match
// its contents, best effort, so the targets can feed both the raw input
// (checksum rejection paths) and the repaired one (everything behind them).
//
// They are deliberately lenient and independent of the library's parsers:
// whatever they cannot make sense of is left as it is.
#ifndef CKPT_FUZZ_CHECKSUM_REPAIR_H_
#define CKPT_FUZZ_CHECKSUM_REPAIR_H_

#include <string>

namespace ckpt {
namespace fuzz {

// Recomputes the trailer CRC of the index block and of every data block the
// index block points at.
void RepairTableChecksums(std::string* table);

// Repairs a whole bundle: the table's block checksums, then each record's
// payload CRC over `data` (and a string tensor's length checksum inside
// `data`). Records are re-serialized and the table rewritten with the
// library's own writer when it can be read; otherwise only the blocks are
// repaired.
void RepairBundleChecksums(std::string* index, std::string* data);

}  // namespace fuzz
}  // namespace ckpt

#endif  // CKPT_FUZZ_CHECKSUM_REPAIR_H_
