// Hugging Face's .safetensors files as a TensorSource and as a sink.
//
//   CKPT_ASSIGN_OR_RETURN(auto src, OpenBundleSource("/tmp/run/model.ckpt-100"));
//   CKPT_ASSIGN_OR_RETURN(ConvertStats stats,
//                         WriteSafetensors(*src, "/tmp/model.safetensors", SinkOptions()));
//
// Format (huggingface/safetensors): an 8-byte little-endian header length
// N, N bytes of UTF-8 JSON, then the data buffer. The JSON is an object:
// per tensor {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin,
// end]} with offsets relative to the start of the data buffer, and an
// optional "__metadata__" object of string values. Data is little-endian,
// row-major; the tensors cover the buffer exactly, in offset order, with no
// gaps or overlaps. dtype names and the TensorFlow types they hold:
//   BOOL bool   U8 uint8   I8 int8   I16 int16   U16 uint16   I32 int32
//   U32 uint32   I64 int64   U64 uint64   F16 float16   BF16 bfloat16
//   F32 float32   F64 float64   C64 complex64   F8_E5M2 float8_e5m2
//   F8_E4M3 float8_e4m3fn
// (C64 arrived in safetensors 0.6; older readers refuse it.) The format's
// F4, F6_E2M3, F6_E3M2 and F8_E8M0 have no TensorFlow type (and F4/F6 are
// packed below a byte): reading them is Unimplemented.
//
// Writing (WriteSafetensors): tensors contiguous, larger element types
// first and otherwise in the source's order; the header is compact JSON
// ("__metadata__" first: the source's metadata(), e.g. source_format and
// tensorflow_version) padded with spaces to a multiple of 8 bytes. So every
// tensor starts aligned to its element size, as with the reference writer. The file is written to a
// temporary file, synced and renamed. DT_STRING, complex128, float8 types
// other than the two above, 4-bit, quantized, resource and variant tensors
// and names that are not UTF-8 cannot be represented: skipped with a
// warning, or an error with options.strict. Memory: one tensor.
//
// Reading (OpenSafetensorsSource) treats the file as hostile: the header
// length is checked against the file size and a 100 MB limit (the
// reference's) before it is read; the JSON must parse; every tensor needs a
// known dtype, a shape of non-negative integers and offsets with
// end - begin = prod(shape) * itemsize (overflow-checked); the offsets must
// tile the data buffer exactly. Errors name the file and the tensor:
// InvalidArgument for a malformed header or layout (overlapping, gapped or
// out-of-range offsets), Unimplemented for a dtype TensorFlow lacks.
// Values are read with pread (Env::ReadCopy), one tensor at a time.
#ifndef CKPT_TOOLS_COMMON_SAFETENSORS_H_
#define CKPT_TOOLS_COMMON_SAFETENSORS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/tensor_source.h"

namespace ckpt {
namespace tools {

// The safetensors name of `dtype`, or an empty view when it has none.
absl::string_view SafetensorsDTypeName(DType dtype);

absl::StatusOr<std::unique_ptr<TensorSource>> OpenSafetensorsSource(const std::string& path);

absl::StatusOr<ConvertStats> WriteSafetensors(const TensorSource& source,
                                              const std::string& path,
                                              const SinkOptions& options);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_SAFETENSORS_H_
