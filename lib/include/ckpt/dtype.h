// ckpt/dtype.h — TensorFlow element types: numbers, names and sizes.
//
// `DType` is TensorFlow's own DataType enum (same numbers on disk), so a
// BundleEntryProto's dtype needs no translation.
//
//   ckpt::DType t = ckpt::DT_FLOAT;
//   ckpt::DTypeName(t);            // "float32", as NumPy and TensorFlow say
//   ckpt::DTypeSize(t);            // 4 bytes per element
//   auto u = ckpt::DTypeFromName("bfloat16");   // StatusOr<DType>
#ifndef CKPT_DTYPE_H_
#define CKPT_DTYPE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "types.pb.h"

namespace ckpt {

using DType = ::tensorflow::DataType;
using ::tensorflow::DT_BFLOAT16;
using ::tensorflow::DT_BOOL;
using ::tensorflow::DT_COMPLEX128;
using ::tensorflow::DT_COMPLEX64;
using ::tensorflow::DT_DOUBLE;
using ::tensorflow::DT_FLOAT;
using ::tensorflow::DT_FLOAT4_E2M1FN;
using ::tensorflow::DT_FLOAT8_E4M3B11FNUZ;
using ::tensorflow::DT_FLOAT8_E4M3FN;
using ::tensorflow::DT_FLOAT8_E4M3FNUZ;
using ::tensorflow::DT_FLOAT8_E5M2;
using ::tensorflow::DT_FLOAT8_E5M2FNUZ;
using ::tensorflow::DT_HALF;
using ::tensorflow::DT_INT16;
using ::tensorflow::DT_INT2;
using ::tensorflow::DT_INT32;
using ::tensorflow::DT_INT4;
using ::tensorflow::DT_INT64;
using ::tensorflow::DT_INT8;
using ::tensorflow::DT_INVALID;
using ::tensorflow::DT_QINT16;
using ::tensorflow::DT_QINT32;
using ::tensorflow::DT_QINT8;
using ::tensorflow::DT_QUINT16;
using ::tensorflow::DT_QUINT8;
using ::tensorflow::DT_RESOURCE;
using ::tensorflow::DT_STRING;
using ::tensorflow::DT_UINT16;
using ::tensorflow::DT_UINT2;
using ::tensorflow::DT_UINT32;
using ::tensorflow::DT_UINT4;
using ::tensorflow::DT_UINT64;
using ::tensorflow::DT_UINT8;
using ::tensorflow::DT_VARIANT;

// Bytes per element for fixed-size types; 0 for DT_STRING, DT_VARIANT,
// DT_RESOURCE, DT_INVALID, reference types and unknown numbers. Sub-byte
// types (int4, uint4, int2, uint2, float4) take one byte per element on disk.
size_t DTypeSize(DType dtype);

// True for the types whose elements have a fixed width (DTypeSize > 0).
inline bool DTypeIsFixedSize(DType dtype) { return DTypeSize(dtype) > 0; }

// Size of one byte-swappable unit (2, 4 or 8; complex types swap each
// component), 1 when no swap is needed, 0 when the type cannot be swapped
// (variant, float8, 4- and 2-bit types, strings handled separately).
size_t DTypeSwapUnit(DType dtype);

// A DataType value read from a file may be any integer; true for the values
// this library knows (0..33 and their reference types).
bool DTypeIsKnown(int value);

// NumPy/TensorFlow spelling: "float32", "float16", "bfloat16", "int64",
// "string", "complex64", "qint8", "float8_e4m3fn", ... ; "float32_ref" for
// reference types; "invalid" for 0; "dtype(N)" for unknown numbers.
std::string DTypeName(DType dtype);

// The inverse of DTypeName; also accepts TensorFlow's enum names ("DT_FLOAT")
// and the aliases "half", "float", "double". InvalidArgument when unknown.
absl::StatusOr<DType> DTypeFromName(absl::string_view name);

}  // namespace ckpt

#endif  // CKPT_DTYPE_H_
