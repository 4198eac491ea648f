// Philox4x32-10, the counter-based generator of the random kernels (Salmon,
// Moraes, Dror and Shaw, "Parallel random numbers: as easy as 1, 2, 3",
// SC 2011), and the conversions from its 32-bit words to numbers. Private to
// the runtime; a header so that tests can check the generator against the
// published known-answer vectors.
//
//   Philox gen(seed, seed2);
//   Philox::Block words = gen.Next();     // four words; the counter moves on
//   float u = UnitFloat(words[0]);         // [0, 1)
//
// A Philox is a value: copying it copies the stream position.
#ifndef CKPT_RUNTIME_KERNELS_PHILOX_H_
#define CKPT_RUNTIME_KERNELS_PHILOX_H_

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace ckpt {
namespace runtime {

class Philox {
 public:
  using Block = std::array<uint32_t, 4>;
  using Key = std::array<uint32_t, 2>;

  Philox() = default;
  // TensorFlow's keying from an op's (seed, seed2): the key is seed (low
  // word first), counter words 2 and 3 are seed2, words 0 and 1 start at 0.
  Philox(uint64_t seed, uint64_t seed2) {
    key_[0] = static_cast<uint32_t>(seed);
    key_[1] = static_cast<uint32_t>(seed >> 32);
    counter_[2] = static_cast<uint32_t>(seed2);
    counter_[3] = static_cast<uint32_t>(seed2 >> 32);
  }
  Philox(const Block& counter, const Key& key) : counter_(counter), key_(key) {}

  // Ten rounds over the counter; then the counter moves on by one.
  Block Next() {
    Block c = counter_;
    uint32_t k0 = key_[0], k1 = key_[1];
    for (int round = 0; round < 10; ++round) {
      if (round > 0) {
        k0 += kWeylA;
        k1 += kWeylB;
      }
      const uint64_t p0 = uint64_t{kMulA} * c[0];
      const uint64_t p1 = uint64_t{kMulB} * c[2];
      c = {static_cast<uint32_t>(p1 >> 32) ^ c[1] ^ k0, static_cast<uint32_t>(p1),
           static_cast<uint32_t>(p0 >> 32) ^ c[3] ^ k1, static_cast<uint32_t>(p0)};
    }
    if (++counter_[0] == 0 && ++counter_[1] == 0 && ++counter_[2] == 0) ++counter_[3];
    return c;
  }

  // Moves the counter on by `count` blocks. The carry rule (a carry out of
  // word 0 is added to the high half of count, which may itself wrap) is
  // TensorFlow's, kept so that reservations land where its do.
  void Skip(uint64_t count) {
    const uint32_t lo = static_cast<uint32_t>(count);
    uint32_t hi = static_cast<uint32_t>(count >> 32);
    counter_[0] += lo;
    if (counter_[0] < lo) ++hi;
    counter_[1] += hi;
    if (counter_[1] < hi && ++counter_[2] == 0) ++counter_[3];
  }

  const Block& counter() const { return counter_; }

 private:
  // The round multipliers and the key increments (the golden ratio and
  // sqrt(3) - 1 in 32-bit fixed point) of Philox4x32.
  static constexpr uint32_t kMulA = 0xD2511F53;
  static constexpr uint32_t kMulB = 0xCD9E8D57;
  static constexpr uint32_t kWeylA = 0x9E3779B9;
  static constexpr uint32_t kWeylB = 0xBB67AE85;

  Block counter_{};
  Key key_{};
};

// Hands out a generator's blocks one word at a time.
class PhiloxWordStream {
 public:
  explicit PhiloxWordStream(Philox* gen) : gen_(gen) {}
  uint32_t Next() {
    if (used_ == 4) {
      block_ = gen_->Next();
      used_ = 0;
    }
    return block_[used_++];
  }

 private:
  Philox* gen_;
  Philox::Block block_{};
  int used_ = 4;
};

// [0, 1) from the low 23 bits of x: the float in [1, 2) with those mantissa
// bits, minus 1.
inline float UnitFloat(uint32_t x) {
  const uint32_t bits = (uint32_t{127} << 23) | (x & 0x7fffffu);
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f - 1.0f;
}

// [0, 1) from 52 bits: the low 20 of x0 above all 32 of x1.
inline double UnitDouble(uint32_t x0, uint32_t x1) {
  const uint64_t bits =
      (uint64_t{1023} << 52) | (uint64_t{x0 & 0xfffffu} << 32) | uint64_t{x1};
  double d;
  std::memcpy(&d, &bits, sizeof(d));
  return d - 1.0;
}

// IEEE half bits of f, rounded to nearest even (as Eigen::half converts).
inline uint16_t HalfFromFloat(float f) {
  uint32_t x;
  std::memcpy(&x, &f, sizeof(x));
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf, or NaN (kept quiet)
    return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  }
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (abs < 0x38800000u) {
    // A subnormal half (or zero): the value in units of 2^-24, rounded.
    if (abs <= 0x33000000u) return sign;  // at most half the smallest subnormal
    const uint32_t exp = abs >> 23;
    const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - exp;  // 14..24
    uint32_t q = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (q & 1u))) ++q;
    return static_cast<uint16_t>(sign | q);
  }
  // Normal: rebias the exponent (127 -> 15) and round away 13 mantissa bits;
  // a carry out of the mantissa correctly bumps the exponent.
  uint32_t h = (abs >> 13) - (112u << 10);
  const uint32_t rem = abs & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

// bfloat16 bits of f, rounded to nearest even; a NaN stays a quiet NaN.
inline uint16_t Bfloat16FromFloat(float f) {
  uint32_t x;
  std::memcpy(&x, &f, sizeof(x));
  if (std::isnan(f)) return static_cast<uint16_t>((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

// Box-Muller: two standard normals from two words. u1 is clamped below at
// 1e-7 to keep the logarithm finite; 2*pi*u2 is formed in double and
// narrowed, the rest is float arithmetic.
inline void BoxMullerFloat(uint32_t x0, uint32_t x1, float* f0, float* f1) {
  float u1 = UnitFloat(x0);
  if (u1 < 1.0e-7f) u1 = 1.0e-7f;
  const float v = static_cast<float>(2.0 * M_PI * static_cast<double>(UnitFloat(x1)));
  const float r = std::sqrt(-2.0f * std::log(u1));
  float s, c;
  sincosf(v, &s, &c);
  *f0 = s * r;
  *f1 = c * r;
}

// The double version: each uniform from two words.
inline void BoxMullerDouble(uint32_t x0, uint32_t x1, uint32_t x2, uint32_t x3, double* d0,
                            double* d1) {
  double u1 = UnitDouble(x0, x1);
  if (u1 < 1.0e-7) u1 = 1.0e-7;
  const double v = 2 * M_PI * UnitDouble(x2, x3);
  const double r = std::sqrt(-2.0 * std::log(u1));
  double s, c;
  sincos(v, &s, &c);
  *d0 = s * r;
  *d1 = c * r;
}

}  // namespace runtime
}  // namespace ckpt

#endif  // CKPT_RUNTIME_KERNELS_PHILOX_H_
