#include "common/tensor_source.h"

#include <algorithm>
#include <iostream>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/bundle_writer.h"
#include "ckpt/env.h"
#include "ckpt/meta_graph.h"
#include "ckpt/naming.h"
#include "ckpt/status_macros.h"
#include "common/checkpoint_path.h"
#include "common/format.h"
#include "common/npz.h"
#include "common/progress.h"
#include "common/safetensors.h"
#include "common/v1_source.h"

namespace ckpt {
namespace tools {
namespace {

// Marks the errors SkipOrRefuse returns under --strict.
constexpr char kStrictPayload[] = "type.ckpt/tools.StrictRefusal";

class BundleSource : public TensorSource {
 public:
  static absl::StatusOr<std::unique_ptr<TensorSource>> Open(const std::string& prefix) {
    CKPT_ASSIGN_OR_RETURN(std::unique_ptr<BundleReader> reader, BundleReader::Open(prefix));
    std::unique_ptr<BundleSource> source(new BundleSource(prefix, std::move(reader)));
    CKPT_RETURN_IF_ERROR(source->List());
    return std::unique_ptr<TensorSource>(std::move(source));
  }

  const std::string& path() const override { return prefix_; }
  std::map<std::string, std::string> metadata() const override { return metadata_; }
  const std::vector<SourceTensor>& tensors() const override { return tensors_; }
  absl::StatusOr<Tensor> Read(size_t i) const override {
    if (i >= tensors_.size()) return absl::OutOfRangeError(absl::StrCat(prefix_, ": no tensor ", i));
    return reader_->Read(tensors_[i].name);
  }

 private:
  BundleSource(std::string prefix, std::unique_ptr<BundleReader> reader)
      : prefix_(std::move(prefix)), reader_(std::move(reader)) {}

  absl::Status List() {
    // Data-file order, so that the data files are read front to back; a
    // partitioned tensor comes where its first saved slice is.
    struct Item {
      int32_t shard;
      int64_t offset;
      const BundleEntryInfo* entry;
    };
    std::vector<Item> items;
    for (const BundleEntryInfo& e : reader_->entries()) {
      Item item{e.shard_id, e.offset, &e};
      if (!e.slices.empty()) {
        CKPT_ASSIGN_OR_RETURN(BundleEntryInfo part, reader_->GetSliceEntry(e.name, e.slices[0]));
        item.shard = part.shard_id;
        item.offset = part.offset;
      }
      items.push_back(item);
    }
    std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
      return std::tie(a.shard, a.offset) < std::tie(b.shard, b.offset);
    });
    for (const Item& item : items) {
      const BundleEntryInfo& e = *item.entry;
      const uint64_t bytes = DTypeIsFixedSize(e.dtype)
                                 ? static_cast<uint64_t>(e.shape.num_elements()) * DTypeSize(e.dtype)
                                 : static_cast<uint64_t>(e.size);
      tensors_.push_back({e.name, e.dtype, e.shape, bytes});
    }
    metadata_["source_format"] = "tensorflow_bundle_v2";
    // A TF1 Saver writes its graph beside the checkpoint; it records the
    // TensorFlow version that wrote both. Its absence is no error.
    absl::StatusOr<::tensorflow::MetaGraphDef> meta = ReadMetaGraph(prefix_ + ".meta");
    if (meta.ok() && !meta->meta_info_def().tensorflow_version().empty()) {
      metadata_["tensorflow_version"] = meta->meta_info_def().tensorflow_version();
    }
    return absl::OkStatus();
  }

  std::string prefix_;
  std::unique_ptr<BundleReader> reader_;
  std::map<std::string, std::string> metadata_;
  std::vector<SourceTensor> tensors_;
};

}  // namespace

TensorFileFormat FormatOfPath(absl::string_view path) {
  const std::string lower = absl::AsciiStrToLower(path);
  if (absl::EndsWith(lower, ".npz")) return TensorFileFormat::kNpz;
  if (absl::EndsWith(lower, ".safetensors")) return TensorFileFormat::kSafetensors;
  return TensorFileFormat::kBundle;
}

const char* FormatName(TensorFileFormat format) {
  switch (format) {
    case TensorFileFormat::kNpz: return "npz";
    case TensorFileFormat::kSafetensors: return "safetensors";
    case TensorFileFormat::kBundle: break;
  }
  return "bundle";
}

absl::StatusOr<std::unique_ptr<TensorSource>> OpenBundleSource(const std::string& prefix) {
  return BundleSource::Open(prefix);
}

absl::StatusOr<std::unique_ptr<TensorSource>> OpenTensorSource(const std::string& path) {
  switch (FormatOfPath(path)) {
    case TensorFileFormat::kNpz: return OpenNpzSource(path);
    case TensorFileFormat::kSafetensors: return OpenSafetensorsSource(path);
    case TensorFileFormat::kBundle: break;
  }
  CKPT_ASSIGN_OR_RETURN(std::string prefix, ResolveCheckpointPrefix(path));
  // A prefix without an .index file resolved as a legacy V1 checkpoint.
  if (!Env::Default()->FileExists(IndexFilename(prefix))) return OpenV1Source(prefix);
  return OpenBundleSource(prefix);
}

void Warn(const SinkOptions& options, const std::string& message) {
  if (options.warn) {
    options.warn(message);
  } else {
    std::cerr << DisplayName(message) << "\n";
  }
}

absl::Status SkipOrRefuse(const SinkOptions& options, const std::string& what,
                          ConvertStats* stats) {
  if (options.strict) {
    absl::Status s = absl::FailedPreconditionError(absl::StrCat(what, " (--strict)"));
    s.SetPayload(kStrictPayload, absl::Cord("1"));
    return s;
  }
  Warn(options, absl::StrCat("skipped: ", what));
  ++stats->skipped;
  return absl::OkStatus();
}

bool IsStrictRefusal(const absl::Status& status) {
  return status.GetPayload(kStrictPayload).has_value();
}

absl::Status RenameIntoPlace(const std::string& tmp, const std::string& path) {
  Env* env = Env::Default();
  CKPT_RETURN_IF_ERROR(env->RenameFile(tmp, path));
  const size_t slash = path.rfind('/');
  return env->SyncDir(slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash));
}

absl::StatusOr<ConvertStats> WriteBundleFrom(const TensorSource& source,
                                             const std::string& prefix,
                                             const SinkOptions& options) {
  BundleWriter writer(prefix);
  CKPT_RETURN_IF_ERROR(writer.status());
  uint64_t total = 0;
  for (const SourceTensor& t : source.tensors()) total += t.bytes;
  Progress progress("converting", static_cast<int64_t>(source.tensors().size()), total);
  ConvertStats stats;
  uint64_t done_bytes = 0;
  for (size_t i = 0; i < source.tensors().size(); ++i) {
    const SourceTensor& info = source.tensors()[i];
    CKPT_ASSIGN_OR_RETURN(Tensor t, source.Read(i));
    absl::Status s = writer.Add(info.name, t);
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat(source.path(), ": tensor '", info.name,
                                                 "' cannot be written to ", prefix, ": ",
                                                 s.message()));
    }
    ++stats.tensors;
    stats.bytes += static_cast<int64_t>(t.TotalBytes());
    done_bytes += info.bytes;
    if (options.progress) progress.Update(stats.tensors, done_bytes);
  }
  progress.Done();
  CKPT_RETURN_IF_ERROR(writer.Finish());
  return stats;
}

}  // namespace tools
}  // namespace ckpt
