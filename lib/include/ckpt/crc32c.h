// ckpt/crc32c.h — CRC32C (Castagnoli), as every checksum in a checkpoint.
//
//   uint32_t c = ckpt::crc32c::Value(data, n);
//   c = ckpt::crc32c::Extend(c, more, m);           // CRC of data, then more
//   uint32_t stored = ckpt::crc32c::Mask(c);         // what files hold
//
// The implementation is chosen once at run time: ISA-L when it is linked and
// the CPU supports it, else a portable table-driven version. Both give the
// same results; `Implementation()` names the one in use.
#ifndef CKPT_CRC32C_H_
#define CKPT_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace ckpt {
namespace crc32c {

// CRC of data[0,n) continued from the CRC `init` of some earlier bytes.
uint32_t Extend(uint32_t init, const void* data, size_t n);
inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }

// Stored checksums are masked, so that a CRC over bytes that themselves hold
// CRCs stays well distributed.
constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline uint32_t Mask(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + kMaskDelta;
}
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

// The CRC of A followed by B, from Value(A) and Value(B) and B's length.
uint32_t Combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

// Extend for large buffers that are not in cache: one core cannot read
// memory as fast as two (here 6.5 GB/s alone, 12-14 GB/s together), so
// buffers of kParallelMinBytes or more are split in two, the second half
// checksummed on another thread, and the halves combined. Below that, or
// with one CPU, the same as Extend.
constexpr size_t kParallelMinBytes = size_t{8} << 20;
uint32_t ExtendParallel(uint32_t init, const void* data, size_t n);

// The portable version, always available (for tests and benchmarks).
uint32_t ExtendPortable(uint32_t init, const void* data, size_t n);
// "isa-l" or "portable".
const char* Implementation();

}  // namespace crc32c
}  // namespace ckpt

#endif  // CKPT_CRC32C_H_
