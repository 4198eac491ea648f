// Where ckpt_convert reads tensors from: a TensorSource lists every tensor
// of one file (name, dtype, shape) up front and reads them one at a time, so
// that a conversion holds about one tensor in memory whatever the format on
// either side. The sinks (WriteBundleFrom below, WriteNpz in npz.h,
// WriteSafetensors in safetensors.h) each take any source.
//
//   CKPT_ASSIGN_OR_RETURN(std::unique_ptr<TensorSource> src, OpenTensorSource(path));
//   for (size_t i = 0; i < src->tensors().size(); ++i) {
//     CKPT_ASSIGN_OR_RETURN(Tensor t, src->Read(i));   // src->tensors()[i]'s values
//     ...
//   }
//
// Adding a source (the legacy V1 format, say) means implementing the four
// methods below and recognizing the file in OpenTensorSource:
//  - tensors() is fixed when the source is opened, in the order that reads
//    the file front to back (sinks write in this order), names unique;
//  - Read(i) returns the whole tensor i, verified as far as the format
//    allows, with exactly the dtype and shape tensors()[i] announced, in
//    host byte order; an error names the file and the tensor;
//  - Read may be called more than once for the same i (a sink that must
//    look at string values before writing reads them twice).
//
// Not thread-safe: one thread reads a source at a time.
#ifndef CKPT_TOOLS_COMMON_TENSOR_SOURCE_H_
#define CKPT_TOOLS_COMMON_TENSOR_SOURCE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ckpt/tensor.h"

namespace ckpt {
namespace tools {

struct SourceTensor {
  std::string name;
  DType dtype = DT_INVALID;
  TensorShape shape;
  // Bytes the values take in the source (for progress; 0 if unknown).
  uint64_t bytes = 0;
};

class TensorSource {
 public:
  virtual ~TensorSource() = default;
  // The path as given, for messages.
  virtual const std::string& path() const = 0;
  // Facts about the file kept as string pairs, e.g. {"source_format":
  // "tensorflow_bundle_v2", "tensorflow_version": "2.15.0"}; sinks that
  // can store metadata (safetensors' __metadata__) do.
  virtual std::map<std::string, std::string> metadata() const = 0;
  virtual const std::vector<SourceTensor>& tensors() const = 0;
  virtual absl::StatusOr<Tensor> Read(size_t i) const = 0;
};

// The container formats ckpt_convert knows, by file name: "x.npz" and
// "x.safetensors" (case-insensitive endings); anything else is a bundle
// prefix (or a path that ResolveCheckpointPrefix turns into one).
enum class TensorFileFormat { kBundle, kNpz, kSafetensors };
TensorFileFormat FormatOfPath(absl::string_view path);
const char* FormatName(TensorFileFormat format);  // "bundle", "npz", "safetensors"

// Opens `path` as the source its ending says.
absl::StatusOr<std::unique_ptr<TensorSource>> OpenTensorSource(const std::string& path);
// A V2 bundle at `prefix` (already resolved), in data-file order.
absl::StatusOr<std::unique_ptr<TensorSource>> OpenBundleSource(const std::string& prefix);

// How sinks treat what their format cannot hold and how they report it.
struct SinkOptions {
  // npz: deflate members (zlib) instead of storing them.
  bool compress = false;
  // npz: DT_STRING as NumPy unicode ('<U<n>') when every element is valid
  // UTF-8 with no trailing NUL, else as bytes ('|S<n>'); default bytes,
  // which is what TensorFlow's strings are.
  bool strings_as_unicode = false;
  // npz: bfloat16 as float32 (exact) instead of its bits as '<u2'.
  bool bf16_to_f32 = false;
  // A tensor the destination cannot hold losslessly is an error instead of
  // being skipped with a warning.
  bool strict = false;
  // Draw progress on stderr when it is a terminal.
  bool progress = true;
  // Receives warnings and notes (one line each, no newline; names in them
  // are raw bytes); null: stderr, control bytes escaped (DisplayName).
  std::function<void(const std::string&)> warn;
};

struct ConvertStats {
  int64_t tensors = 0;  // tensors (or saved slices) written
  int64_t skipped = 0;  // tensors the destination could not hold
  int64_t bytes = 0;    // payload bytes written
};

// Reports `message` through options.warn (or stderr, escaped).
void Warn(const SinkOptions& options, const std::string& message);
// For a tensor the destination cannot hold: with options.strict, the error
// FailedPrecondition(`what` + " (--strict)"), marked so that
// IsStrictRefusal recognizes it (ckpt_convert exits 1 for it: a failed
// check); otherwise a warning "skipped: <what>" and ++stats->skipped.
absl::Status SkipOrRefuse(const SinkOptions& options, const std::string& what,
                          ConvertStats* stats);
bool IsStrictRefusal(const absl::Status& status);

// Renames the finished (synced) temporary file `tmp` to `path` and syncs
// the directory: a reader sees the old file or the whole new one.
absl::Status RenameIntoPlace(const std::string& tmp, const std::string& path);

// Writes every tensor of `source` to a new V2 bundle at `prefix`
// (BundleWriter: crash-safe, nothing at `prefix` until it is complete).
absl::StatusOr<ConvertStats> WriteBundleFrom(const TensorSource& source,
                                             const std::string& prefix,
                                             const SinkOptions& options);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_TENSOR_SOURCE_H_
