#include "ckpt/tensor/byte_swap.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace ckpt {

void CopySwapped(char* dst, const char* src, size_t n, size_t unit) {
  switch (unit) {
    case 2:
      for (size_t i = 0; i < n; i += 2) {
        uint16_t v;
        std::memcpy(&v, src + i, 2);
        v = __builtin_bswap16(v);
        std::memcpy(dst + i, &v, 2);
      }
      break;
    case 4:
      for (size_t i = 0; i < n; i += 4) {
        uint32_t v;
        std::memcpy(&v, src + i, 4);
        v = __builtin_bswap32(v);
        std::memcpy(dst + i, &v, 4);
      }
      break;
    case 8:
      for (size_t i = 0; i < n; i += 8) {
        uint64_t v;
        std::memcpy(&v, src + i, 8);
        v = __builtin_bswap64(v);
        std::memcpy(dst + i, &v, 8);
      }
      break;
    default:
      if (dst != src) std::memcpy(dst, src, n);
  }
}

void SwapBytesInPlace(char* data, size_t n, size_t unit) {
  if (unit > 1) CopySwapped(data, data, n, unit);
}

absl::StatusOr<size_t> SwapUnitOrError(DType dtype) {
  size_t unit = DTypeSwapUnit(dtype);
  if (unit == 0) {
    return absl::UnimplementedError(absl::StrCat(
        "cannot convert ", DTypeName(dtype), " values between byte orders"));
  }
  return unit;
}

}  // namespace ckpt
