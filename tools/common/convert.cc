#include "common/convert.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/bundle_writer.h"
#include "ckpt/env.h"
#include "ckpt/naming.h"
#include "ckpt/status_macros.h"
#include "common/checkpoint_path.h"
#include "common/npz.h"
#include "common/safetensors.h"

namespace ckpt {
namespace tools {

absl::StatusOr<ConvertStats> CopyBundle(const std::string& src, const std::string& dst) {
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<BundleReader> reader, BundleReader::Open(src));
  // One item per payload: a plain tensor, or one saved slice of a
  // partitioned tensor. Writing them in stored order reproduces the source.
  struct Item {
    int32_t shard;
    int64_t offset;
    const BundleEntryInfo* entry;
    int slice;  // index into entry->slices, or -1 for a plain tensor
  };
  std::vector<Item> items;
  for (const BundleEntryInfo& e : reader->entries()) {
    if (e.slices.empty()) {
      items.push_back({e.shard_id, e.offset, &e, -1});
      continue;
    }
    for (size_t i = 0; i < e.slices.size(); ++i) {
      CKPT_ASSIGN_OR_RETURN(BundleEntryInfo part, reader->GetSliceEntry(e.name, e.slices[i]));
      items.push_back({part.shard_id, part.offset, &e, static_cast<int>(i)});
    }
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return std::tie(a.shard, a.offset) < std::tie(b.shard, b.offset);
  });

  BundleWriterOptions options;
  options.byte_order = reader->header().endianness() == ::tensorflow::BundleHeaderProto::BIG
                           ? ByteOrder::kBig
                           : ByteOrder::kLittle;
  BundleWriter writer(dst, options);
  CKPT_RETURN_IF_ERROR(writer.status());
  ConvertStats stats;
  for (const Item& item : items) {
    const BundleEntryInfo& e = *item.entry;
    if (item.slice < 0) {
      CKPT_ASSIGN_OR_RETURN(Tensor t, reader->Read(e.name));
      CKPT_RETURN_IF_ERROR(writer.Add(e.name, t));
      stats.bytes += e.size;
    } else {
      const TensorSlice& s = e.slices[item.slice];
      CKPT_ASSIGN_OR_RETURN(Tensor t, reader->ReadSlice(e.name, s));
      CKPT_RETURN_IF_ERROR(writer.AddSlice(e.name, e.shape, s, t));
      stats.bytes += static_cast<int64_t>(t.TotalBytes());
    }
    ++stats.tensors;
  }
  CKPT_RETURN_IF_ERROR(writer.Finish());
  return stats;
}

absl::StatusOr<ConvertStats> Convert(const std::string& src, const std::string& dst,
                                     const SinkOptions& options) {
  const TensorFileFormat to = FormatOfPath(dst);
  if (FormatOfPath(src) == TensorFileFormat::kBundle && to == TensorFileFormat::kBundle) {
    CKPT_ASSIGN_OR_RETURN(std::string prefix, ResolveCheckpointPrefix(src));
    // V2 -> V2 copies record by record, keeping the source's layout; a V1
    // source goes through the generic path below.
    if (Env::Default()->FileExists(IndexFilename(prefix))) return CopyBundle(prefix, dst);
  }
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<TensorSource> source, OpenTensorSource(src));
  switch (to) {
    case TensorFileFormat::kNpz: return WriteNpz(*source, dst, options);
    case TensorFileFormat::kSafetensors: return WriteSafetensors(*source, dst, options);
    case TensorFileFormat::kBundle: break;
  }
  return WriteBundleFrom(*source, dst, options);
}

}  // namespace tools
}  // namespace ckpt
