#include "ckpt/dtype.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace ckpt {
namespace {

struct DTypeInfo {
  DType dtype;
  const char* name;   // NumPy / TensorFlow `tf.dtypes.DType.name` spelling
  size_t size;        // bytes per element, 0 when variable or not stored
  size_t swap_unit;   // see DTypeSwapUnit
};

// One row per base type; the order is the enum's.
constexpr DTypeInfo kInfos[] = {
    {DT_INVALID, "invalid", 0, 0},
    {DT_FLOAT, "float32", 4, 4},
    {DT_DOUBLE, "float64", 8, 8},
    {DT_INT32, "int32", 4, 4},
    {DT_UINT8, "uint8", 1, 1},
    {DT_INT16, "int16", 2, 2},
    {DT_INT8, "int8", 1, 1},
    {DT_STRING, "string", 0, 0},
    {DT_COMPLEX64, "complex64", 8, 4},
    {DT_INT64, "int64", 8, 8},
    {DT_BOOL, "bool", 1, 1},
    {DT_QINT8, "qint8", 1, 1},
    {DT_QUINT8, "quint8", 1, 1},
    {DT_QINT32, "qint32", 4, 4},
    {DT_BFLOAT16, "bfloat16", 2, 2},
    {DT_QINT16, "qint16", 2, 2},
    {DT_QUINT16, "quint16", 2, 2},
    {DT_UINT16, "uint16", 2, 2},
    {DT_COMPLEX128, "complex128", 16, 8},
    {DT_HALF, "float16", 2, 2},
    {DT_RESOURCE, "resource", 0, 0},
    {DT_VARIANT, "variant", 0, 0},
    {DT_UINT32, "uint32", 4, 4},
    {DT_UINT64, "uint64", 8, 8},
    // TensorFlow refuses to byte-swap the 8-, 4- and 2-bit float/int types.
    {DT_FLOAT8_E5M2, "float8_e5m2", 1, 0},
    {DT_FLOAT8_E4M3FN, "float8_e4m3fn", 1, 0},
    {DT_FLOAT8_E4M3FNUZ, "float8_e4m3fnuz", 1, 0},
    {DT_FLOAT8_E4M3B11FNUZ, "float8_e4m3b11fnuz", 1, 0},
    {DT_FLOAT8_E5M2FNUZ, "float8_e5m2fnuz", 1, 0},
    {DT_INT4, "int4", 1, 0},
    {DT_UINT4, "uint4", 1, 0},
    {DT_INT2, "int2", 1, 0},
    {DT_UINT2, "uint2", 1, 0},
    {DT_FLOAT4_E2M1FN, "float4_e2m1fn", 1, 0},
};
constexpr int kNumBase = sizeof(kInfos) / sizeof(kInfos[0]);
constexpr int kRefOffset = 100;

const DTypeInfo* Find(DType dtype) {
  int v = static_cast<int>(dtype);
  if (v >= 0 && v < kNumBase) return &kInfos[v];
  return nullptr;
}

}  // namespace

size_t DTypeSize(DType dtype) {
  const DTypeInfo* info = Find(dtype);
  return info ? info->size : 0;
}

size_t DTypeSwapUnit(DType dtype) {
  const DTypeInfo* info = Find(dtype);
  return info ? info->swap_unit : 0;
}

bool DTypeIsKnown(int value) {
  return (value >= 0 && value < kNumBase) ||
         (value > kRefOffset && value < kRefOffset + kNumBase);
}

std::string DTypeName(DType dtype) {
  int v = static_cast<int>(dtype);
  if (v >= 0 && v < kNumBase) return kInfos[v].name;
  if (v > kRefOffset && v < kRefOffset + kNumBase) {
    return absl::StrCat(kInfos[v - kRefOffset].name, "_ref");
  }
  return absl::StrCat("dtype(", v, ")");
}

absl::StatusOr<DType> DTypeFromName(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(name);
  if (lower == "half") return DT_HALF;
  if (lower == "float") return DT_FLOAT;
  if (lower == "double") return DT_DOUBLE;
  for (int v = 1; v < kNumBase; ++v) {
    if (lower == kInfos[v].name) return kInfos[v].dtype;
  }
  DType parsed;
  if (::tensorflow::DataType_Parse(std::string(name), &parsed)) return parsed;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown dtype name '", name, "'"));
}

}  // namespace ckpt
