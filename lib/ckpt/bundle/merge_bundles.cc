// MergeBundles: several bundles (one per worker) become one multi-shard
// checkpoint. Unlike TensorFlow, the merged index is committed by rename.
#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "ckpt/bundle/index_table.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/bundle_writer.h"
#include "ckpt/io/path.h"
#include "ckpt/naming.h"
#include "ckpt/status_macros.h"

namespace ckpt {

absl::Status MergeBundles(Env* env, absl::Span<const std::string> prefixes,
                          const std::string& merged_prefix, bool delete_old_dirs) {
  if (env == nullptr) env = Env::Default();
  if (prefixes.empty()) return absl::InvalidArgumentError("MergeBundles: no bundles to merge");
  ::tensorflow::BundleHeaderProto merged_header;
  std::map<std::string, ::tensorflow::BundleEntryProto> merged;
  std::map<std::pair<size_t, int32_t>, int32_t> global_id;  // (part, shard) -> new shard
  std::vector<std::string> renames_from;

  for (size_t p = 0; p < prefixes.size(); ++p) {
    absl::StatusOr<std::unique_ptr<BundleReader>> reader = BundleReader::Open(prefixes[p], {env});
    if (!reader.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("MergeBundles: cannot open input ",
                                                     prefixes[p], ": ", reader.status().message()));
    }
    const auto& h = (*reader)->header();
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
        if (it->second.slices_size() == 0 || e.slices_size() == 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              "MergeBundles: duplicate tensor '", absl::CHexEscape(key), "' in ", prefixes[p]));
        }
        for (const auto& s : e.slices()) *it->second.add_slices() = s;
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
      merged.emplace(key, std::move(e));
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
    for (const auto& [key, entry] : merged) {
      entry.SerializeToString(&value);
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

  for (const std::string& p : prefixes) {
    if (p == merged_prefix) continue;
    env->DeleteFile(IndexFilename(p)).IgnoreError();
    std::string part_dir = DirName(p);
    if (delete_old_dirs && part_dir != dir && !part_dir.empty()) {
      env->DeleteDir(part_dir).IgnoreError();
    }
  }
  return absl::OkStatus();
}

}  // namespace ckpt
