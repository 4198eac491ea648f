#include "common/listing.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/format.h"

namespace ckpt {
namespace tools {

std::string ListingText(const BundleReader& reader) {
  const auto& h = reader.header();
  int64_t params = 0, bytes = 0;
  size_t name_width = 4, type_width = 5, shape_width = 5;
  for (const BundleEntryInfo& e : reader.entries()) {
    params += e.shape.num_elements();
    bytes += e.size;
    name_width = std::max(name_width, DisplayName(e.name).size());
    type_width = std::max(type_width, DTypeName(e.dtype).size());
    shape_width = std::max(shape_width, e.shape.DebugString().size());
  }
  std::string out = absl::StrFormat(
      "checkpoint: %s\nformat:     V2 tensor bundle%s, %d shard%s, %s endian\n"
      "version:    producer %d, min_consumer %d\ntensors:    %d (%d parameters, %s)\n\n",
      reader.prefix(), reader.index_compressed() ? " (Snappy-compressed index)" : "",
      reader.num_shards(), reader.num_shards() == 1 ? "" : "s",
      h.endianness() == ::tensorflow::BundleHeaderProto::BIG ? "big" : "little",
      h.version().producer(), h.version().min_consumer(), reader.entries().size(), params,
      HumanBytes(static_cast<uint64_t>(bytes)));
  absl::StrAppend(&out, absl::StrFormat("%-*s  %-*s  %-*s  %s\n", name_width, "name", type_width,
                                        "dtype", shape_width, "shape", "size"));
  for (const BundleEntryInfo& e : reader.entries()) {
    std::string size = e.slices.empty()
                           ? HumanBytes(static_cast<uint64_t>(e.size))
                           : absl::StrCat(e.slices.size(), " slices");
    absl::StrAppend(&out, absl::StrFormat("%-*s  %-*s  %-*s  %s\n", name_width, DisplayName(e.name),
                                          type_width, DTypeName(e.dtype), shape_width,
                                          e.shape.DebugString(), size));
  }
  return out;
}

nlohmann::ordered_json ListingJson(const BundleReader& reader) {
  const auto& h = reader.header();
  nlohmann::ordered_json doc;
  doc["prefix"] = reader.prefix();
  doc["format"] = "V2";
  doc["num_shards"] = reader.num_shards();
  doc["endianness"] = h.endianness() == ::tensorflow::BundleHeaderProto::BIG ? "big" : "little";
  doc["version"] = {{"producer", h.version().producer()},
                    {"min_consumer", h.version().min_consumer()}};
  int64_t params = 0, bytes = 0;
  for (const BundleEntryInfo& e : reader.entries()) {
    params += e.shape.num_elements();
    bytes += e.size;
  }
  doc["num_tensors"] = reader.entries().size();
  doc["total_parameters"] = params;
  doc["total_bytes"] = bytes;
  nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
  for (const BundleEntryInfo& e : reader.entries()) {
    nlohmann::ordered_json t;
    t["name"] = e.name;
    t["dtype"] = DTypeName(e.dtype);
    t["shape"] = e.shape.dims();
    t["size"] = e.size;
    t["shard"] = e.shard_id;
    t["offset"] = e.offset;
    nlohmann::ordered_json slices = nlohmann::ordered_json::array();
    for (const TensorSlice& s : e.slices) slices.push_back(s.ToString());
    t["slices"] = slices;
    tensors.push_back(t);
  }
  doc["tensors"] = tensors;
  return doc;
}

}  // namespace tools
}  // namespace ckpt
