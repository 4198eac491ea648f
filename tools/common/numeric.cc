#include "common/numeric.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace ckpt {
namespace tools {
namespace {

template <typename T>
T Load(const Tensor& t, int64_t i, int c = 0) {
  T v;
  std::memcpy(&v, t.raw_data() + (i * Components(t.dtype()) + c) * sizeof(T), sizeof(T));
  return v;
}

// A minifloat with `exp_bits` exponent and `man_bits` mantissa bits, bias
// `bias`. Variants differ in how they spend the top codes:
//   ieee:  all-ones exponent = Inf (mantissa 0) or NaN
//   fn:    no Inf; all-ones exponent and mantissa = NaN
//   fnuz:  no Inf, no negative zero; the code 0x80 (sign only) = NaN
//   none:  every code is finite
enum class Special { kIeee, kFn, kFnuz, kNone };

double Minifloat(uint32_t bits, int exp_bits, int man_bits, int bias, Special special) {
  const int total = 1 + exp_bits + man_bits;
  const bool sign = (bits >> (total - 1)) & 1;
  const uint32_t exp = (bits >> man_bits) & ((1u << exp_bits) - 1);
  const uint32_t man = bits & ((1u << man_bits) - 1);
  const uint32_t exp_max = (1u << exp_bits) - 1;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (special == Special::kFnuz && sign && exp == 0 && man == 0) return nan;
  if (special == Special::kIeee && exp == exp_max) {
    if (man != 0) return nan;
    return sign ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (special == Special::kFn && exp == exp_max && man == (1u << man_bits) - 1) return nan;
  double v;
  if (exp == 0) {
    v = std::ldexp(static_cast<double>(man), 1 - bias - man_bits);
  } else {
    v = std::ldexp(static_cast<double>(man | (1u << man_bits)), static_cast<int>(exp) - bias - man_bits);
  }
  return sign ? -v : v;
}

}  // namespace

double HalfToDouble(uint16_t bits) { return Minifloat(bits, 5, 10, 15, Special::kIeee); }

double BFloat16ToDouble(uint16_t bits) {
  uint32_t f = static_cast<uint32_t>(bits) << 16;
  float v;
  std::memcpy(&v, &f, 4);
  return v;
}

double Float8ToDouble(DType dtype, uint8_t bits) {
  switch (dtype) {
    case DT_FLOAT8_E5M2: return Minifloat(bits, 5, 2, 15, Special::kIeee);
    case DT_FLOAT8_E4M3FN: return Minifloat(bits, 4, 3, 7, Special::kFn);
    case DT_FLOAT8_E4M3FNUZ: return Minifloat(bits, 4, 3, 8, Special::kFnuz);
    case DT_FLOAT8_E4M3B11FNUZ: return Minifloat(bits, 4, 3, 11, Special::kFnuz);
    case DT_FLOAT8_E5M2FNUZ: return Minifloat(bits, 5, 2, 16, Special::kFnuz);
    default: return std::numeric_limits<double>::quiet_NaN();
  }
}

double Float4E2M1ToDouble(uint8_t bits) { return Minifloat(bits & 0xf, 2, 1, 1, Special::kNone); }

bool IsNumeric(DType dtype) { return DTypeIsFixedSize(dtype); }

bool IsComplex(DType dtype) { return dtype == DT_COMPLEX64 || dtype == DT_COMPLEX128; }

int Components(DType dtype) { return IsComplex(dtype) ? 2 : 1; }

bool IsIntegral(DType dtype) {
  switch (dtype) {
    case DT_INT8: case DT_INT16: case DT_INT32: case DT_INT64:
    case DT_UINT8: case DT_UINT16: case DT_UINT32: case DT_UINT64:
    case DT_BOOL: case DT_QINT8: case DT_QUINT8: case DT_QINT16: case DT_QUINT16:
    case DT_QINT32: case DT_INT4: case DT_UINT4: case DT_INT2: case DT_UINT2:
      return true;
    default:
      return false;
  }
}

int64_t IntegralValue(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DT_INT8: case DT_QINT8: return Load<int8_t>(t, i);
    case DT_INT16: case DT_QINT16: return Load<int16_t>(t, i);
    case DT_INT32: case DT_QINT32: return Load<int32_t>(t, i);
    case DT_INT64: return Load<int64_t>(t, i);
    case DT_UINT8: case DT_QUINT8: case DT_BOOL: return Load<uint8_t>(t, i);
    case DT_UINT16: case DT_QUINT16: return Load<uint16_t>(t, i);
    case DT_UINT32: return Load<uint32_t>(t, i);
    case DT_UINT64: return static_cast<int64_t>(Load<uint64_t>(t, i));
    // Sub-byte integers occupy a byte each; sign-extend the low bits.
    case DT_INT4: return static_cast<int8_t>(static_cast<uint8_t>(Load<uint8_t>(t, i) << 4)) >> 4;
    case DT_UINT4: return Load<uint8_t>(t, i) & 0xf;
    case DT_INT2: return static_cast<int8_t>(static_cast<uint8_t>(Load<uint8_t>(t, i) << 6)) >> 6;
    case DT_UINT2: return Load<uint8_t>(t, i) & 0x3;
    default: return 0;
  }
}

uint64_t UnsignedValue(const Tensor& t, int64_t i) {
  if (t.dtype() == DT_UINT64) return Load<uint64_t>(t, i);
  return static_cast<uint64_t>(IntegralValue(t, i));
}

double ComponentAsDouble(const Tensor& t, int64_t i, int c) {
  switch (t.dtype()) {
    case DT_FLOAT: return Load<float>(t, i);
    case DT_DOUBLE: return Load<double>(t, i);
    case DT_COMPLEX64: return Load<float>(t, i, c);
    case DT_COMPLEX128: return Load<double>(t, i, c);
    case DT_HALF: return HalfToDouble(Load<uint16_t>(t, i));
    case DT_BFLOAT16: return BFloat16ToDouble(Load<uint16_t>(t, i));
    case DT_FLOAT8_E5M2: case DT_FLOAT8_E4M3FN: case DT_FLOAT8_E4M3FNUZ:
    case DT_FLOAT8_E4M3B11FNUZ: case DT_FLOAT8_E5M2FNUZ:
      return Float8ToDouble(t.dtype(), Load<uint8_t>(t, i));
    case DT_FLOAT4_E2M1FN: return Float4E2M1ToDouble(Load<uint8_t>(t, i));
    case DT_UINT64: return static_cast<double>(Load<uint64_t>(t, i));
    default:
      if (IsIntegral(t.dtype())) return static_cast<double>(IntegralValue(t, i));
      return std::numeric_limits<double>::quiet_NaN();
  }
}

}  // namespace tools
}  // namespace ckpt
