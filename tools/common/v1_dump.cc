#include "common/v1_dump.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/format.h"

namespace ckpt {
namespace tools {
namespace {

uint64_t StoredBytes(const V1EntryInfo& e) {
  uint64_t bytes = 0;
  for (const V1SliceInfo& s : e.slices) bytes += s.bytes;
  return bytes;
}

// The file name shown in the header: the prefix of a sharded set.
std::string CheckpointName(const V1Reader& reader) {
  const std::string& first = reader.files()[0];
  if (reader.files().size() == 1) return first;
  return first.substr(0, first.rfind('-', first.rfind("-of-") - 1));
}

}  // namespace

std::vector<BundleEntryInfo> V1Entries(const V1Reader& reader) {
  std::vector<BundleEntryInfo> out;
  for (const V1EntryInfo& e : reader.entries()) {
    BundleEntryInfo b;
    b.name = e.name;
    b.dtype = e.dtype;
    b.shape = e.shape;
    b.size = static_cast<int64_t>(StoredBytes(e));
    if (e.slices.size() > 1) {
      for (const V1SliceInfo& s : e.slices) b.slices.push_back(s.slice);
    }
    out.push_back(std::move(b));
  }
  return out;
}

std::string V1ListingText(const V1Reader& reader) {
  int64_t params = 0;
  uint64_t bytes = 0;
  size_t name_width = 4, type_width = 5, shape_width = 5;
  for (const V1EntryInfo& e : reader.entries()) {
    params += e.shape.num_elements();
    bytes += StoredBytes(e);
    name_width = std::max(name_width, DisplayName(e.name).size());
    type_width = std::max(type_width, DTypeName(e.dtype).size());
    shape_width = std::max(shape_width, e.shape.DebugString().size());
  }
  const size_t files = reader.files().size();
  std::string out = absl::StrFormat(
      "checkpoint: %s\nformat:     V1 (TensorFlow < 0.12 table of tensor slices)%s, %d file%s\n"
      "version:    producer %d, min_consumer %d\ntensors:    %d (%d parameters, %s)\n\n",
      DisplayName(CheckpointName(reader)), reader.compressed() ? " (Snappy-compressed)" : "",
      files, files == 1 ? "" : "s", reader.versions().producer(),
      reader.versions().min_consumer(), reader.entries().size(), params, HumanBytes(bytes));
  absl::StrAppend(&out, absl::StrFormat("%-*s  %-*s  %-*s  %s\n", name_width, "name", type_width,
                                        "dtype", shape_width, "shape", "size"));
  for (const V1EntryInfo& e : reader.entries()) {
    const std::string size = e.slices.size() > 1 ? absl::StrCat(e.slices.size(), " slices")
                                                 : HumanBytes(StoredBytes(e));
    absl::StrAppend(&out, absl::StrFormat("%-*s  %-*s  %-*s  %s\n", name_width, DisplayName(e.name),
                                          type_width, DTypeName(e.dtype), shape_width,
                                          e.shape.DebugString(), size));
  }
  return out;
}

nlohmann::ordered_json V1ListingJson(const V1Reader& reader) {
  nlohmann::ordered_json doc;
  doc["prefix"] = CheckpointName(reader);
  doc["format"] = "V1";
  doc["files"] = reader.files();
  doc["version"] = {{"producer", reader.versions().producer()},
                    {"min_consumer", reader.versions().min_consumer()}};
  int64_t params = 0;
  uint64_t bytes = 0;
  nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
  for (const V1EntryInfo& e : reader.entries()) {
    params += e.shape.num_elements();
    bytes += StoredBytes(e);
    nlohmann::ordered_json t;
    t["name"] = e.name;
    t["dtype"] = DTypeName(e.dtype);
    t["shape"] = e.shape.dims();
    t["size"] = StoredBytes(e);
    nlohmann::ordered_json slices = nlohmann::ordered_json::array(),
                           slice_files = nlohmann::ordered_json::array();
    for (const V1SliceInfo& s : e.slices) {
      slices.push_back(s.slice.ToString());
      slice_files.push_back(s.file);
    }
    t["slices"] = slices;
    t["slice_files"] = slice_files;
    tensors.push_back(t);
  }
  doc["num_tensors"] = reader.entries().size();
  doc["total_parameters"] = params;
  doc["total_bytes"] = bytes;
  doc["tensors"] = tensors;
  return doc;
}

VerifyReport VerifyV1Checkpoint(const V1Reader& reader) {
  VerifyReport report;
  report.structural_errors = reader.CheckRecords();
  uint64_t total = 0;
  for (const V1EntryInfo& e : reader.entries()) total += StoredBytes(e);
  VerdictTally tally(&report, static_cast<int64_t>(reader.entries().size()), total);
  for (const V1EntryInfo& e : reader.entries()) {
    absl::StatusOr<Tensor> t = reader.Read(e.name);
    if (absl::IsUnimplemented(t.status())) {
      tally.Unchecked(e.name, StoredBytes(e));
    } else {
      tally.Checked(e.name, t.status(), StoredBytes(e));
    }
  }
  tally.Done();
  return report;
}

}  // namespace tools
}  // namespace ckpt
