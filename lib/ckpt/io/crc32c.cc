#include "ckpt/crc32c.h"

#include <array>
#include <climits>

#include <isa-l/crc.h>

#include <thread>

namespace ckpt {
namespace crc32c {
namespace {

// Slicing-by-8 tables for the reflected Castagnoli polynomial; the portable
// fallback when ISA-L is not usable.
struct Tables {
  uint32_t t[8][256];
  Tables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
    }
  }
};

const Tables& GetTables() {
  static const Tables* tables = new Tables();
  return *tables;
}

}  // namespace

uint32_t ExtendPortable(uint32_t init, const void* data, size_t n) {
  const Tables& tb = GetTables();
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = ~init;
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = tb.t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    --n;
  }
  while (n >= 8) {
    uint32_t lo = c ^ (uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
                       uint32_t{p[3]} << 24);
    uint32_t hi = uint32_t{p[4]} | uint32_t{p[5]} << 8 | uint32_t{p[6]} << 16 |
                  uint32_t{p[7]} << 24;
    c = tb.t[7][lo & 0xff] ^ tb.t[6][(lo >> 8) & 0xff] ^ tb.t[5][(lo >> 16) & 0xff] ^
        tb.t[4][lo >> 24] ^ tb.t[3][hi & 0xff] ^ tb.t[2][(hi >> 8) & 0xff] ^
        tb.t[1][(hi >> 16) & 0xff] ^ tb.t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = tb.t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}

uint32_t Extend(uint32_t init, const void* data, size_t n) {
  // ISA-L picks its fastest kernel for this CPU at run time (including its
  // own non-SIMD one); its length is an int, so feed it in pieces.
  auto* p = static_cast<unsigned char*>(const_cast<void*>(data));
  uint32_t c = init;
  constexpr size_t kMaxPiece = size_t{1} << 30;
  while (n > 0) {
    size_t piece = n < kMaxPiece ? n : kMaxPiece;
    c = crc32_iscsi(p, static_cast<int>(piece), c ^ 0xffffffffu) ^ 0xffffffffu;
    p += piece;
    n -= piece;
  }
  return c;
}

const char* Implementation() { return "isa-l"; }

// Combining CRCs is written here because neither ISA-L nor zlib offers it
// for this polynomial (zlib's crc32_combine is for CRC-32's). The math: a
// CRC is the message times x^32 modulo P over GF(2), so appending len_b
// bytes multiplies A's CRC by x^(8 len_b) mod P, and the CRCs of the two
// parts then simply add (xor); the pre- and post-inversion cancel out.
// Polynomials are kept bit-reflected, as the CRC itself is.
namespace {

constexpr uint32_t kPolyReflected = 0x82f63b78u;

// a * b mod P, both reflected (bit 31 is x^0).
uint32_t MultModP(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t m = 1u << 31; m != 0; m >>= 1) {
    if (a & m) product ^= b;
    b = (b & 1) ? (b >> 1) ^ kPolyReflected : b >> 1;  // b *= x
  }
  return product;
}

// kPow2[k] = x^(2^k) mod P.
struct PowersOfX {
  uint32_t p[64];
  PowersOfX() {
    p[0] = 1u << 30;  // x^1
    for (int k = 1; k < 64; ++k) p[k] = MultModP(p[k - 1], p[k - 1]);
  }
};

// x^(8 n) mod P.
uint32_t XPow8N(uint64_t n) {
  static const PowersOfX powers;
  uint32_t result = 1u << 31;  // x^0
  for (int k = 3; n != 0; n >>= 1, ++k) {
    if (n & 1) result = MultModP(powers.p[k & 63], result);
  }
  return result;
}

}  // namespace

uint32_t Combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b) {
  return MultModP(XPow8N(len_b), crc_a) ^ crc_b;
}

uint32_t ExtendParallel(uint32_t init, const void* data, size_t n) {
  static const bool two_cpus = std::thread::hardware_concurrency() >= 2;
  if (n < kParallelMinBytes || !two_cpus) return Extend(init, data, n);
  const size_t half = n / 2;
  const char* p = static_cast<const char*>(data);
  uint32_t second = 0;
  std::thread helper([&] { second = Extend(0, p + half, n - half); });
  const uint32_t first = Extend(init, p, half);
  helper.join();
  return Combine(first, second, n - half);
}

}  // namespace crc32c
}  // namespace ckpt
