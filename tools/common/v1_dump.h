// ckpt_dump on a legacy V1 checkpoint: the listing (text and JSON) and
// --verify, in the same shapes as for V2 so that the other sections (values,
// statistics) and scripts reading --json work on both.
#ifndef CKPT_TOOLS_COMMON_V1_DUMP_H_
#define CKPT_TOOLS_COMMON_V1_DUMP_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ckpt/bundle_reader.h"
#include "ckpt/v1_reader.h"
#include "common/verify.h"

namespace ckpt {
namespace tools {

// The tensors as BundleEntryInfo (name, dtype, shape; `size` the bytes of
// the records; `slices` only for a tensor saved in several slices), in
// entries() order: what the value printers take.
std::vector<BundleEntryInfo> V1Entries(const V1Reader& reader);

// Header lines ("format: V1 ..."), then one row per tensor: name, dtype,
// shape, size (or the number of slices).
std::string V1ListingText(const V1Reader& reader);
// {"prefix", "format": "V1", "files", "version": {"producer",
// "min_consumer"}, "num_tensors", "total_parameters", "total_bytes",
// "tensors": [{"name", "dtype", "shape", "size", "slices", "slice_files"}]}.
nlohmann::ordered_json V1ListingJson(const V1Reader& reader);

// What V1 can check: every block's CRC (Open did), every record parses and
// is where its key says (file errors), and every tensor's slices decode and
// cover it (per tensor).
VerifyReport VerifyV1Checkpoint(const V1Reader& reader);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_V1_DUMP_H_
