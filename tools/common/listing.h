// The checkpoint listing printed by ckpt_dump, as text and as JSON.
#ifndef CKPT_TOOLS_COMMON_LISTING_H_
#define CKPT_TOOLS_COMMON_LISTING_H_

#include <nlohmann/json.hpp>
#include <string>

#include "ckpt/bundle_reader.h"

namespace ckpt {
namespace tools {

// Header lines, then one aligned row per tensor: name, dtype, shape, size.
std::string ListingText(const BundleReader& reader);
// {"prefix", "format", "num_shards", "endianness", "version": {"producer",
// "min_consumer"}, "num_tensors", "total_parameters", "total_bytes",
// "tensors": [{"name", "dtype", "shape", "size", "shard", "offset",
// "slices"}]}; tensors in entries() order, so sections can extend them.
nlohmann::ordered_json ListingJson(const BundleReader& reader);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_LISTING_H_
