#include "ckpt/tensor/byte_swap.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace ckpt {

namespace {

template <typename Word, Word (*kSwap)(Word)>
void CopySwappedWords(char* dst, const char* src, size_t n) {
  for (size_t i = 0; i < n; i += sizeof(Word)) {
    Word v;
    std::memcpy(&v, src + i, sizeof(Word));
    v = kSwap(v);
    std::memcpy(dst + i, &v, sizeof(Word));
  }
}

uint16_t Swap16(uint16_t v) { return __builtin_bswap16(v); }
uint32_t Swap32(uint32_t v) { return __builtin_bswap32(v); }
uint64_t Swap64(uint64_t v) { return __builtin_bswap64(v); }

}  // namespace

void CopySwapped(char* dst, const char* src, size_t n, size_t unit) {
  switch (unit) {
    case 2: CopySwappedWords<uint16_t, Swap16>(dst, src, n); break;
    case 4: CopySwappedWords<uint32_t, Swap32>(dst, src, n); break;
    case 8: CopySwappedWords<uint64_t, Swap64>(dst, src, n); break;
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
