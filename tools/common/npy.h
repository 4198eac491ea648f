// NumPy's .npy files: one array each, as np.save writes and np.load reads.
//
//   CKPT_ASSIGN_OR_RETURN(ckpt::Tensor x, ckpt::tools::ReadNpyFile("x.npy"));
//   CKPT_RETURN_IF_ERROR(ckpt::tools::WriteNpyFile("y.npy", y));
//
// Format (numpy.lib.format, versions 1.0, 2.0 and 3.0): the magic
// "\x93NUMPY", a major and a minor version byte, the header length
// (little-endian uint16 in 1.0, uint32 in 2.0 and 3.0), then the header: the
// text of a Python dict literal {'descr': ..., 'fortran_order': ...,
// 'shape': (...)} padded with spaces and ended by '\n' (latin-1 in 1.0/2.0,
// UTF-8 in 3.0). The array's bytes follow, exactly
// prod(shape) * itemsize of them.
//
// Element types (`descr`), '<' little-endian, '>' big-endian (converted to
// host order on read), '|' or '=' where order does not matter or is the
// host's:
//   f2 f4 f8         float16 / float32 / float64
//   i1 i2 i4 i8      int8 .. int64
//   u1 u2 u4 u8      uint8 .. uint64
//   b1               bool (any non-zero byte is read as true)
//   c8 c16           complex64 / complex128
//   S<n>             fixed-width bytes -> DT_STRING; trailing NUL bytes of
//                    each element are dropped, as NumPy drops them
//   U<n>             UTF-32 text <-> DT_STRING holding UTF-8
// Anything else (structured dtypes, objects, datetimes) is Unimplemented.
// Only C (row-major) order is read: fortran_order True is InvalidArgument.
//
// Hostile files: the header length, the shape and the element size are
// checked against the file's size, with overflow-safe arithmetic, before
// anything is allocated, so a 10-byte file claiming a [2^40, 2^40] array
// fails fast. Errors name the file and say what is wrong:
//   InvalidArgument  not an .npy file (magic), malformed header, Fortran order
//   Unimplemented    an element type with no TensorFlow equivalent, a format
//                    version other than 1, 2, 3
//   DataLoss         the data is shorter or longer than the header says
//
// Writing produces what np.save writes for the same array, byte for byte:
// version 1.0 (2.0 when the header needs more than 65535 bytes), keys in
// sorted order, the spare spaces np.save leaves for growing the first axis,
// data aligned to 64 bytes, little-endian data. EncodeNpy writes DT_STRING
// as '|S<n>' with n the longest element (at least 1), so elements that end
// in NUL bytes lose them, as in NumPy; EncodeNpyStrings can refuse that
// instead, or write NumPy unicode. Dtypes NumPy has no type for (bfloat16,
// float8, qint8, resource, ...) are Unimplemented.
//
// The pieces (ReadNpyLayout, NpyHeader, ...) serve readers and writers that
// stream an array's data themselves, as the .npz members of npz.h do.
//
// Thread-safe: no shared state.
#ifndef CKPT_TOOLS_COMMON_NPY_H_
#define CKPT_TOOLS_COMMON_NPY_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ckpt/env.h"
#include "ckpt/tensor.h"

namespace ckpt {
namespace tools {

// The NumPy type string np.save writes for `dtype` ("<f4", "|b1", ...).
// DT_STRING has no fixed one ("|S<n>" depends on the data): Unimplemented,
// as for dtypes NumPy lacks.
absl::StatusOr<std::string> NpyDescr(DType dtype);

// Decodes a whole .npy file held in memory; `filename` is only for messages.
absl::StatusOr<Tensor> ParseNpy(absl::string_view bytes, absl::string_view filename);
// The bytes of the .npy file for `tensor`.
absl::StatusOr<std::string> EncodeNpy(const Tensor& tensor);

// What an .npy header says about the array that follows it.
struct NpyLayout {
  enum class Kind { kFixed, kBytes, kUtf32 };
  DType dtype = DT_INVALID;  // DT_STRING for 'S' and 'U'
  Kind kind = Kind::kFixed;
  bool swap = false;      // stored in the other byte order than the host's
  uint64_t itemsize = 0;  // bytes per element in the file
  TensorShape shape;
  uint64_t data_offset = 0;  // where the data starts in the file
  uint64_t data_bytes = 0;   // prod(shape) * itemsize, checked against the file size
};

// Reads n bytes at offset of the file; calls come in increasing offset
// order, so a forward-only stream (a compressed .npz member) serves.
using NpyReadFn = std::function<absl::StatusOr<absl::string_view>(uint64_t offset, size_t n)>;
// Reads and checks the preamble and header of a file of `file_size` bytes;
// nothing larger than the header is read before the sizes are known to
// agree. Errors as listed above, naming `filename`.
absl::StatusOr<NpyLayout> ReadNpyLayout(const NpyReadFn& read, uint64_t file_size,
                                        absl::string_view filename);
// For fixed-size layouts: `t` (layout.dtype, layout.shape) holds the data
// bytes exactly as stored; puts them into host form (byte order, bools 0/1).
void FinishNpyFixed(const NpyLayout& layout, Tensor* t);
// For 'S' and 'U' layouts: the data_bytes of stored elements as DT_STRING
// (trailing NULs dropped, text as UTF-8).
absl::StatusOr<Tensor> DecodeNpyStrings(const NpyLayout& layout, absl::string_view data,
                                        absl::string_view filename);

// The magic, version, header length and header (ending in '\n') that
// np.save writes before the data of an array of type `descr` and `shape`.
std::string NpyHeader(absl::string_view descr, const TensorShape& shape);

enum class NpyStringType { kBytes, kUnicode };
struct NpyStrings {
  std::string descr;  // "|S<n>", or "<U<n>" on a little-endian host
  std::string data;   // the fixed-width elements
};
// DT_STRING `tensor` as NumPy bytes (each element padded with NULs to the
// longest) or unicode (UTF-32 code points; every element must be valid
// UTF-8, else InvalidArgument). With `lossless`, an element NumPy would
// read back differently (one ending in a NUL byte, or in U+0000 for
// unicode) is InvalidArgument naming its index.
absl::StatusOr<NpyStrings> EncodeNpyStrings(const Tensor& tensor, NpyStringType type,
                                            bool lossless);

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or
// values past U+10FFFF): what NumPy unicode and JSON text can hold.
bool IsValidUtf8(absl::string_view text);

// Reads `path` without reading more than its header before the checks.
absl::StatusOr<Tensor> ReadNpyFile(const std::string& path, Env* env = nullptr);
// Writes `path` atomically (temporary file, fsync, rename).
absl::Status WriteNpyFile(const std::string& path, const Tensor& tensor,
                          Env* env = nullptr);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_NPY_H_
