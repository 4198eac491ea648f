// MergeBundles: several bundles (one per worker) become one multi-shard
// checkpoint. Unlike TensorFlow, the merged index is committed by rename.
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "ckpt/bundle/index_table.h"
#include "ckpt/bundle/slice_key.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/bundle_writer.h"
#include "ckpt/dtype.h"
#include "ckpt/io/path.h"
#include "ckpt/naming.h"
#include "ckpt/status_macros.h"

namespace ckpt {
namespace {

// A record of the merged index and the input it came from (for messages).
// For a partitioned tensor, also its slices so far and their inputs.
struct MergedRecord {
  ::tensorflow::BundleEntryProto entry;
  size_t part = 0;
  std::vector<std::pair<TensorSlice, size_t>> slices;
};

// An index key as a reader of an error message wants it: slice records'
// keys are binary (OrderedCode), so they are decoded.
std::string KeyName(absl::string_view key) {
  std::string name;
  TensorSlice slice;
  if (!key.empty() && key[0] == '\0' && DecodeTensorNameSlice(key, &name, &slice).ok()) {
    return absl::StrCat("slice ", slice.ToString(), " of '", absl::CHexEscape(name), "'");
  }
  return absl::StrCat("tensor '", absl::CHexEscape(key), "'");
}

std::string DescribeRecord(const ::tensorflow::BundleEntryProto& e) {
  absl::StatusOr<TensorShape> shape = TensorShape::FromProto(e.shape());
  return absl::StrCat(DTypeName(static_cast<DType>(e.dtype())), " ",
                      shape.ok() ? shape->DebugString() : "(invalid shape)");
}

// Adds the slices of `e` (a partitioned tensor's record from input `part`)
// to `into`, refusing a different dtype or shape and slices that overlap
// ones already there: two workers must never both claim an element.
absl::Status AddSlices(absl::string_view name, const ::tensorflow::BundleEntryProto& e,
                       size_t part, absl::Span<const std::string> prefixes,
                       MergedRecord* into) {
  if (e.dtype() != into->entry.dtype() ||
      e.shape().SerializeAsString() != into->entry.shape().SerializeAsString()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MergeBundles: partitioned tensor '", absl::CHexEscape(name), "' is ",
        DescribeRecord(into->entry), " in ", prefixes[into->part], " but ", DescribeRecord(e),
        " in ", prefixes[part]));
  }
  for (const ::tensorflow::TensorSliceProto& proto : e.slices()) {
    absl::StatusOr<TensorSlice> slice = TensorSlice::FromProto(proto);
    if (!slice.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("MergeBundles: a slice of '", absl::CHexEscape(name), "' in ",
                       prefixes[part], ": ", slice.status().message()));
    }
    for (const auto& [other, other_part] : into->slices) {
      TensorSlice overlap;
      if (slice->Intersect(other, &overlap)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "MergeBundles: slice ", slice->ToString(), " of '", absl::CHexEscape(name), "' in ",
            prefixes[part], " overlaps slice ", other.ToString(), " in ", prefixes[other_part]));
      }
    }
    into->slices.emplace_back(*std::move(slice), part);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MergeBundles(Env* env, absl::Span<const std::string> prefixes,
                          const std::string& merged_prefix, bool delete_old_dirs) {
  if (env == nullptr) env = Env::Default();
  if (prefixes.empty()) return absl::InvalidArgumentError("MergeBundles: no bundles to merge");
  ::tensorflow::BundleHeaderProto merged_header;
  std::map<std::string, MergedRecord> merged;
  std::map<std::pair<size_t, int32_t>, int32_t> global_id;  // (part, shard) -> new shard
  std::vector<std::string> renames_from;
  std::vector<int32_t> part_shards(prefixes.size(), 0);

  for (size_t p = 0; p < prefixes.size(); ++p) {
    absl::StatusOr<std::unique_ptr<BundleReader>> reader = BundleReader::Open(prefixes[p], {env});
    if (!reader.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("MergeBundles: cannot open input ",
                                                     prefixes[p], ": ", reader.status().message()));
    }
    const auto& h = (*reader)->header();
    part_shards[p] = h.num_shards();
    if (p == 0) {
      merged_header = h;
    } else if (h.endianness() != merged_header.endianness() ||
               h.version().SerializeAsString() != merged_header.version().SerializeAsString()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "MergeBundles: ", prefixes[p], " differs from ", prefixes[0],
          " in byte order or version"));
    }
    for (const std::string& key : (*reader)->RecordKeys()) {
      CKPT_ASSIGN_OR_RETURN(::tensorflow::BundleEntryProto e, (*reader)->GetRecord(key));
      auto it = merged.find(key);
      if (it != merged.end()) {
        MergedRecord& prev = it->second;
        if (prev.entry.slices_size() == 0 || e.slices_size() == 0) {
          return absl::InvalidArgumentError(absl::StrCat("MergeBundles: ", KeyName(key),
                                                         " is saved in both ", prefixes[prev.part],
                                                         " and ", prefixes[p]));
        }
        CKPT_RETURN_IF_ERROR(AddSlices(key, e, p, prefixes, &prev));
        for (const auto& s : e.slices()) *prev.entry.add_slices() = s;
        continue;
      }
      if (e.slices_size() == 0) {
        auto [id, inserted] = global_id.emplace(std::make_pair(p, e.shard_id()),
                                                static_cast<int32_t>(renames_from.size()));
        if (inserted) {
          renames_from.push_back(DataFilename(prefixes[p], e.shard_id(), h.num_shards()));
        }
        e.set_shard_id(id->second);
      }
      MergedRecord record;
      record.part = p;
      record.entry = std::move(e);
      if (record.entry.slices_size() > 0) {
        // Checks the input's own slices against each other, too.
        CKPT_RETURN_IF_ERROR(AddSlices(key, record.entry, p, prefixes, &record));
      }
      merged.emplace(key, std::move(record));
    }
  }

  // A bundle with no tensors still needs one (empty) data file to be valid.
  const int32_t num_shards = std::max<int32_t>(1, static_cast<int32_t>(renames_from.size()));
  merged_header.set_num_shards(num_shards);
  const std::string dir = DirName(merged_prefix);
  if (!dir.empty()) CKPT_RETURN_IF_ERROR(CreateDirRecursively(env, dir));

  const std::string index_path = IndexFilename(merged_prefix);
  const std::string index_tmp = absl::StrCat(index_path, ".tempstate", env->Random64());
  absl::Status s = [&]() -> absl::Status {
    CKPT_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, env->NewWritableFile(index_tmp));
    IndexTableWriter table(f.get());
    CKPT_RETURN_IF_ERROR(table.Add("", merged_header.SerializeAsString()));
    std::string value;
    for (const auto& [key, record] : merged) {
      record.entry.SerializeToString(&value);
      CKPT_RETURN_IF_ERROR(table.Add(key, value));
    }
    CKPT_RETURN_IF_ERROR(table.Finish());
    CKPT_RETURN_IF_ERROR(f->Sync());
    return f->Close();
  }();
  if (!s.ok()) {
    env->DeleteFile(index_tmp).IgnoreError();
    return s;
  }

  // Commit: retire any older index at the target, move the data files, then
  // the index, syncing the directory between so the index never outlives a
  // data file rename on power loss.
  s = [&]() -> absl::Status {
    if (env->FileExists(index_path)) CKPT_RETURN_IF_ERROR(env->DeleteFile(index_path));
    if (renames_from.empty()) {
      CKPT_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> empty,
                            env->NewWritableFile(DataFilename(merged_prefix, 0, 1)));
      CKPT_RETURN_IF_ERROR(empty->Close());
    }
    for (size_t i = 0; i < renames_from.size(); ++i) {
      CKPT_RETURN_IF_ERROR(env->RenameFile(
          renames_from[i], DataFilename(merged_prefix, static_cast<int64_t>(i), num_shards)));
    }
    CKPT_RETURN_IF_ERROR(env->SyncDir(dir));
    CKPT_RETURN_IF_ERROR(env->RenameFile(index_tmp, index_path));
    return env->SyncDir(dir);
  }();
  if (!s.ok()) {
    env->DeleteFile(index_tmp).IgnoreError();
    return s;
  }

  // The inputs are spent. Their data files that held no payload (a worker
  // that saved nothing still writes an empty one) are not part of the merged
  // checkpoint; removing them lets the inputs' directories go too.
  for (size_t i = 0; i < prefixes.size(); ++i) {
    const std::string& p = prefixes[i];
    if (p == merged_prefix) continue;
    env->DeleteFile(IndexFilename(p)).IgnoreError();
    for (int32_t shard = 0; shard < part_shards[i]; ++shard) {
      if (global_id.count({i, shard}) == 0) {
        env->DeleteFile(DataFilename(p, shard, part_shards[i])).IgnoreError();
      }
    }
    std::string part_dir = DirName(p);
    if (delete_old_dirs && part_dir != dir && !part_dir.empty()) {
      env->DeleteDir(part_dir).IgnoreError();
    }
  }
  return absl::OkStatus();
}

}  // namespace ckpt
