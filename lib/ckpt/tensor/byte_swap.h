// Byte-order conversion of element buffers (checkpoints written on a host of
// the other endianness).
#ifndef CKPT_TENSOR_BYTE_SWAP_H_
#define CKPT_TENSOR_BYTE_SWAP_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "ckpt/dtype.h"
#include "ckpt/bundle_writer.h"

namespace ckpt {

constexpr bool kHostIsLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

// True when `order` differs from the host's.
inline bool IsForeign(ByteOrder order) {
  return (order == ByteOrder::kBig && kHostIsLittleEndian) ||
         (order == ByteOrder::kLittle && !kHostIsLittleEndian);
}

// Reverses the bytes of each `unit`-byte word of data[0, n); unit is 1, 2, 4
// or 8 (1 does nothing). n must be a multiple of unit.
void SwapBytesInPlace(char* data, size_t n, size_t unit);
// Same, copying src to dst (which may not overlap).
void CopySwapped(char* dst, const char* src, size_t n, size_t unit);

// The swap unit for `dtype`, or Unimplemented (naming the dtype) for types
// TensorFlow cannot convert between byte orders.
absl::StatusOr<size_t> SwapUnitOrError(DType dtype);

}  // namespace ckpt

#endif  // CKPT_TENSOR_BYTE_SWAP_H_
