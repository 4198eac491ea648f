// NumPy's .npz archives (np.savez / np.savez_compressed / np.load) as a
// TensorSource and as a sink.
//
//   CKPT_ASSIGN_OR_RETURN(auto src, OpenBundleSource("/tmp/run/model.ckpt-100"));
//   SinkOptions options;
//   options.compress = true;
//   CKPT_ASSIGN_OR_RETURN(ConvertStats stats, WriteNpz(*src, "/tmp/model.npz", options));
//   // python3 -c "import numpy as np; print(np.load('/tmp/model.npz')['dense/kernel'])"
//
// Format: a zip archive with one member "<tensor name>.npy" per array,
// holding that array's .npy file (npy.h). Names keep their '/' (np.savez
// does the same, and np.load looks members up by the full name). The zip
// container is libzip's: zip64 (members or archives past 4 GiB), deflate,
// CRC checks and the central directory of a hostile archive are far more
// than we would want to get right again by hand, and libzip has been
// fuzzed for years (OSS-Fuzz).
//
// Writing (WriteNpz): members are stored (as np.savez does) or deflated
// (options.compress, as np.savez_compressed does), in the source's order.
// Each member's data is produced while libzip writes the archive, from a
// zip source callback that reads its tensor on open and drops it on close,
// so memory stays about one tensor. The archive is written to a temporary
// file beside `path`, synced and renamed: `path` is either the old file or
// the whole new one. What NumPy cannot hold exactly:
//   bfloat16      written as its bits, '<u2', with a note (np.load gives
//                 uint16; `.view` it as bfloat16 with ml_dtypes), or as
//                 float32 with options.bf16_to_f32 (exact).
//   DT_STRING     '|S<n>' bytes, or '<U<n>' text with
//                 options.strings_as_unicode (a tensor whose elements are
//                 not all UTF-8 is written as bytes, with a note); a tensor
//                 with an element NumPy would strip (trailing NUL) is
//                 skipped with a warning, or an error with options.strict.
//   other dtypes  NumPy has no type for (float8, 4-bit, quantized,
//                 resource, variant), and names holding a NUL byte: skipped
//                 with a warning, or an error with options.strict.
//
// Reading (OpenNpzSource): members must be "<name>.npy" (directory entries
// are ignored), stored or deflated, not encrypted; each header is read and
// checked when the archive is opened, data when a tensor is read. Before a
// member's data is allocated, its size must agree with its header and be
// no more than its compressed size allows (stored: equal; deflate: at most
// 1032 times, deflate's limit), so a small archive cannot claim a huge
// array; the member's CRC-32 is checked at its end. Errors name the
// archive and member: InvalidArgument (not a zip archive, not an .npy
// member, malformed header), DataLoss (CRC mismatch, truncated data,
// sizes that disagree), Unimplemented (encryption, other compression
// methods, dtypes TensorFlow lacks).
#ifndef CKPT_TOOLS_COMMON_NPZ_H_
#define CKPT_TOOLS_COMMON_NPZ_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/tensor_source.h"

namespace ckpt {
namespace tools {

absl::StatusOr<std::unique_ptr<TensorSource>> OpenNpzSource(const std::string& path);

absl::StatusOr<ConvertStats> WriteNpz(const TensorSource& source, const std::string& path,
                                      const SinkOptions& options);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_NPZ_H_
