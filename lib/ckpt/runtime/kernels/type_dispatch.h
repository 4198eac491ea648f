// Dtype dispatch and element arithmetic shared by the numeric kernels.
//
// A kernel states the element types it supports as a mask and writes its
// body once as a generic lambda; DispatchType instantiates the body only for
// the types in the mask and turns any other dtype into an Unimplemented
// error naming the op and the dtype:
//
//   return DispatchType<kRealNumberTypes>(x.dtype(), "Relu", [&](auto tag) {
//     using T = typename decltype(tag)::type;
//     ...
//     return absl::OkStatus();
//   });
//
// Integer arithmetic wraps modulo 2^bits (as TensorFlow's does on every
// platform) rather than being undefined on overflow.
#ifndef CKPT_RUNTIME_KERNELS_TYPE_DISPATCH_H_
#define CKPT_RUNTIME_KERNELS_TYPE_DISPATCH_H_

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "ckpt/dtype.h"
#include "ckpt/tensor.h"

namespace ckpt {
namespace runtime {

template <typename T>
struct TypeTag {
  using type = T;
};

// Storage types for the 16-bit floating point dtypes (conversions are in
// the Cast kernel; no arithmetic kernel takes them).
struct Half {
  uint16_t bits;
};
struct BFloat16 {
  uint16_t bits;
};

enum TypeMask : uint32_t {
  kFloatBit = 1u << 0,
  kDoubleBit = 1u << 1,
  kInt32Bit = 1u << 2,
  kInt64Bit = 1u << 3,
  kBoolBit = 1u << 4,
  kUint8Bit = 1u << 5,
  kInt8Bit = 1u << 6,
  kInt16Bit = 1u << 7,
  kUint16Bit = 1u << 8,
  kStringBit = 1u << 9,
  kHalfBit = 1u << 10,
  kBFloat16Bit = 1u << 11,
};

constexpr uint32_t kFloatTypes = kFloatBit | kDoubleBit;
constexpr uint32_t kIntTypes = kInt32Bit | kInt64Bit;
// What the arithmetic kernels accept.
constexpr uint32_t kRealNumberTypes = kFloatTypes | kIntTypes;

inline absl::Status UnsupportedDType(absl::string_view op, DType dtype) {
  return absl::UnimplementedError(
      absl::StrCat(op, " has no CPU kernel for dtype ", DTypeName(dtype)));
}

// Calls fn(TypeTag<T>()) for the C++ type T of `dtype` when `dtype` is in
// kMask; fn returns absl::Status.
template <uint32_t kMask, typename Fn>
absl::Status DispatchType(DType dtype, absl::string_view op, Fn&& fn) {
  switch (dtype) {
    case DT_FLOAT:
      if constexpr ((kMask & kFloatBit) != 0) return fn(TypeTag<float>());
      break;
    case DT_DOUBLE:
      if constexpr ((kMask & kDoubleBit) != 0) return fn(TypeTag<double>());
      break;
    case DT_INT32:
      if constexpr ((kMask & kInt32Bit) != 0) return fn(TypeTag<int32_t>());
      break;
    case DT_INT64:
      if constexpr ((kMask & kInt64Bit) != 0) return fn(TypeTag<int64_t>());
      break;
    case DT_BOOL:
      if constexpr ((kMask & kBoolBit) != 0) return fn(TypeTag<bool>());
      break;
    case DT_UINT8:
      if constexpr ((kMask & kUint8Bit) != 0) return fn(TypeTag<uint8_t>());
      break;
    case DT_INT8:
      if constexpr ((kMask & kInt8Bit) != 0) return fn(TypeTag<int8_t>());
      break;
    case DT_INT16:
      if constexpr ((kMask & kInt16Bit) != 0) return fn(TypeTag<int16_t>());
      break;
    case DT_UINT16:
      if constexpr ((kMask & kUint16Bit) != 0) return fn(TypeTag<uint16_t>());
      break;
    case DT_STRING:
      if constexpr ((kMask & kStringBit) != 0) return fn(TypeTag<std::string>());
      break;
    case DT_HALF:
      if constexpr ((kMask & kHalfBit) != 0) return fn(TypeTag<Half>());
      break;
    case DT_BFLOAT16:
      if constexpr ((kMask & kBFloat16Bit) != 0) return fn(TypeTag<BFloat16>());
      break;
    default:
      break;
  }
  return UnsupportedDType(op, dtype);
}

// The DType of a C++ element type.
template <typename T>
constexpr DType DTypeOf() {
  if constexpr (std::is_same_v<T, float>) return DT_FLOAT;
  if constexpr (std::is_same_v<T, double>) return DT_DOUBLE;
  if constexpr (std::is_same_v<T, int32_t>) return DT_INT32;
  if constexpr (std::is_same_v<T, int64_t>) return DT_INT64;
  if constexpr (std::is_same_v<T, bool>) return DT_BOOL;
  if constexpr (std::is_same_v<T, uint8_t>) return DT_UINT8;
  if constexpr (std::is_same_v<T, int8_t>) return DT_INT8;
  if constexpr (std::is_same_v<T, int16_t>) return DT_INT16;
  if constexpr (std::is_same_v<T, uint16_t>) return DT_UINT16;
  if constexpr (std::is_same_v<T, std::string>) return DT_STRING;
  if constexpr (std::is_same_v<T, Half>) return DT_HALF;
  if constexpr (std::is_same_v<T, BFloat16>) return DT_BFLOAT16;
  return DT_INVALID;
}

// Typed element pointers. The dtype has been checked by the caller (these
// do no checking, unlike Tensor::flat, so they cost nothing per call).
template <typename T>
const T* Data(const Tensor& t) {
  if constexpr (std::is_same_v<T, std::string>) {
    return t.strings().data();
  } else {
    return reinterpret_cast<const T*>(t.raw_data());
  }
}
template <typename T>
T* MutableData(Tensor* t) {
  if constexpr (std::is_same_v<T, std::string>) {
    return t->mutable_strings()->data();
  } else {
    return reinterpret_cast<T*>(t->mutable_raw_data());
  }
}

// Wrapping integer arithmetic; plain arithmetic for floating point.
template <typename T>
inline T WrapAdd(T a, T b) {
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
  } else {
    return static_cast<T>(a + b);
  }
}
template <typename T>
inline T WrapSub(T a, T b) {
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
  } else {
    return static_cast<T>(a - b);
  }
}
template <typename T>
inline T WrapMul(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // Unsigned types narrower than int promote to (signed) int, so multiply
    // in a type at least as wide as unsigned int.
    using U = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned,
                                 std::make_unsigned_t<T>>;
    return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
  } else {
    return static_cast<T>(a * b);
  }
}
template <typename T>
inline T WrapNeg(T a) {
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(U(0) - static_cast<U>(a));
  } else {
    return -a;
  }
}

template <typename T>
inline bool IsNan(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::isnan(v);
  } else {
    return false;
  }
}

}  // namespace runtime
}  // namespace ckpt

#endif  // CKPT_RUNTIME_KERNELS_TYPE_DISPATCH_H_
