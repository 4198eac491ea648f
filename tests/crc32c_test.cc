// Conformance suite for ckpt::crc32c, in the manner of google/crc32c: one set
// of checks run against every implementation (the dispatched `Extend`, which
// uses ISA-L, and `ExtendPortable`), plus cross-checks between them and
// against a bit-at-a-time reference that is simple enough to trust by
// reading it.
#include "ckpt/crc32c.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ckpt {
namespace crc32c {
namespace {

using ExtendFn = uint32_t (*)(uint32_t, const void*, size_t);

struct Impl {
  const char* name;
  ExtendFn extend;
};

// Straight from the definition (FORMAT.md §0): reflected polynomial
// 0x82F63B78, init and final XOR 0xFFFFFFFF. Extending means undoing the
// final XOR of the earlier CRC before continuing.
uint32_t ReferenceExtend(uint32_t init, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = ~init;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
  }
  return ~c;
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& ch : s) ch = static_cast<char>(rng() & 0xff);
  return s;
}

class Crc32cConformanceTest : public ::testing::TestWithParam<Impl> {
 protected:
  uint32_t Extend(uint32_t init, const void* data, size_t n) const {
    return GetParam().extend(init, data, n);
  }
  uint32_t Value(const void* data, size_t n) const { return Extend(0, data, n); }
  uint32_t Value(const std::string& s) const { return Value(s.data(), s.size()); }
};

// Vectors from RFC 3720 (iSCSI) appendix B.4 and the usual "check" value.
TEST_P(Crc32cConformanceTest, StandardVectors) {
  EXPECT_EQ(Value(std::string("123456789")), 0xE3069283u);

  std::string buf(32, '\0');
  EXPECT_EQ(Value(buf), 0x8A9136AAu);

  std::memset(buf.data(), 0xff, buf.size());
  EXPECT_EQ(Value(buf), 0x62A8AB43u);

  for (int i = 0; i < 32; ++i) buf[i] = static_cast<char>(i);
  EXPECT_EQ(Value(buf), 0x46DD794Eu);

  for (int i = 0; i < 32; ++i) buf[i] = static_cast<char>(31 - i);
  EXPECT_EQ(Value(buf), 0x113FDB5Cu);

  // An iSCSI SCSI Read (10) command PDU, RFC 3720 B.4.
  const unsigned char read_pdu[48] = {
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
      0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(Value(read_pdu, sizeof(read_pdu)), 0xD9963A56u);

  EXPECT_EQ(Value(std::string("The quick brown fox jumps over the lazy dog")), 0x22620404u);
}

TEST_P(Crc32cConformanceTest, EmptyInput) {
  EXPECT_EQ(Value(std::string()), 0u);
  // A zero-length range may have a null pointer (an empty string_view's data).
  EXPECT_EQ(Value(nullptr, 0), 0u);
  // Extending by nothing is the identity, whatever the starting CRC.
  for (uint32_t init : {0u, 1u, 0xE3069283u, 0xffffffffu, 0x80000000u}) {
    EXPECT_EQ(Extend(init, nullptr, 0), init);
    EXPECT_EQ(Extend(init, "x", 0), init);
  }
}

TEST_P(Crc32cConformanceTest, SingleBytes) {
  for (int b = 0; b < 256; ++b) {
    const unsigned char byte = static_cast<unsigned char>(b);
    EXPECT_EQ(Value(&byte, 1), ReferenceExtend(0, &byte, 1)) << "byte " << b;
  }
}

// Extend(Value(a), b) == Value(a ‖ b) at every split point, which is what
// lets callers checksum a tensor written in pieces.
TEST_P(Crc32cConformanceTest, EverySplitPoint) {
  std::mt19937_64 rng(301);
  const std::string data = RandomBytes(rng, 301);
  const uint32_t whole = Value(data);
  EXPECT_EQ(whole, ReferenceExtend(0, data.data(), data.size()));
  for (size_t i = 0; i <= data.size(); ++i) {
    const uint32_t head = Value(data.data(), i);
    EXPECT_EQ(Extend(head, data.data() + i, data.size() - i), whole) << "split at " << i;
  }
}

TEST_P(Crc32cConformanceTest, EveryTwoSplitPoints) {
  std::mt19937_64 rng(77);
  const std::string data = RandomBytes(rng, 67);
  const uint32_t whole = Value(data);
  for (size_t i = 0; i <= data.size(); ++i) {
    for (size_t j = i; j <= data.size(); ++j) {
      uint32_t c = Value(data.data(), i);
      c = Extend(c, data.data() + i, j - i);
      c = Extend(c, data.data() + j, data.size() - j);
      ASSERT_EQ(c, whole) << "splits at " << i << " and " << j;
    }
  }
}

TEST_P(Crc32cConformanceTest, ByteAtATime) {
  std::mt19937_64 rng(5);
  const std::string data = RandomBytes(rng, 1000);
  uint32_t c = 0;
  for (char ch : data) c = Extend(c, &ch, 1);
  EXPECT_EQ(c, Value(data));
}

// Lengths around the block sizes SIMD kernels switch on (16, 64, 256, 1024,
// ...), at every alignment, against the bit-at-a-time reference.
TEST_P(Crc32cConformanceTest, MatchesReferenceAtEveryAlignment) {
  std::mt19937_64 rng(11);
  const std::string data = RandomBytes(rng, 4200 + 16);
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 300; ++n) lengths.push_back(n);
  for (size_t base : {512u, 1024u, 2048u, 4096u}) {
    for (size_t n = base - 9; n <= base + 9; ++n) lengths.push_back(n);
  }
  for (size_t offset = 0; offset < 16; ++offset) {
    for (size_t n : lengths) {
      const char* p = data.data() + offset;
      ASSERT_EQ(Value(p, n), ReferenceExtend(0, p, n)) << "offset " << offset << " length " << n;
    }
  }
}

TEST_P(Crc32cConformanceTest, ExtendsFromArbitraryInit) {
  std::mt19937_64 rng(13);
  for (int trial = 0; trial < 2000; ++trial) {
    const uint32_t init = static_cast<uint32_t>(rng());
    const std::string data = RandomBytes(rng, rng() % 600);
    ASSERT_EQ(Extend(init, data.data(), data.size()),
              ReferenceExtend(init, data.data(), data.size()))
        << "init " << init << " length " << data.size();
  }
}

TEST_P(Crc32cConformanceTest, LargeBuffer) {
  std::mt19937_64 rng(17);
  const std::string data = RandomBytes(rng, (1 << 20) + 13);
  const uint32_t whole = Value(data);
  EXPECT_EQ(whole, ReferenceExtend(0, data.data(), data.size()));
  // Uneven pieces, as a writer that checksums each Append would see them.
  uint32_t c = 0;
  size_t pos = 0;
  for (size_t piece = 1; pos < data.size(); piece = piece * 3 + 1) {
    const size_t n = std::min(piece, data.size() - pos);
    c = Extend(c, data.data() + pos, n);
    pos += n;
  }
  EXPECT_EQ(c, whole);
}

// Constant input tends to expose table or folding-constant mistakes that
// random data averages out.
TEST_P(Crc32cConformanceTest, ConstantBuffers) {
  for (int fill : {0x00, 0x01, 0x80, 0xff}) {
    for (size_t n : {1u, 7u, 8u, 9u, 63u, 64u, 65u, 255u, 256u, 257u, 4096u}) {
      const std::string data(n, static_cast<char>(fill));
      ASSERT_EQ(Value(data), ReferenceExtend(0, data.data(), n))
          << "fill " << fill << " length " << n;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Implementations, Crc32cConformanceTest,
                         ::testing::Values(Impl{"Dispatched", &crc32c::Extend},
                                           Impl{"Portable", &crc32c::ExtendPortable}),
                         [](const ::testing::TestParamInfo<Impl>& info) {
                           return std::string(info.param.name);
                         });

// The two implementations agree on random buffers at every alignment offset
// 0..15 and every length 0..4100, from a random starting CRC.
TEST(Crc32cTest, ImplementationsAgree) {
  std::mt19937_64 rng(42);
  const std::string data = RandomBytes(rng, 4100 + 16);
  for (size_t offset = 0; offset < 16; ++offset) {
    const char* p = data.data() + offset;
    for (size_t n = 0; n <= 4100; ++n) {
      const uint32_t init = (n % 3 == 0) ? 0 : static_cast<uint32_t>(rng());
      ASSERT_EQ(crc32c::Extend(init, p, n), crc32c::ExtendPortable(init, p, n))
          << "offset " << offset << " length " << n << " init " << init;
    }
  }
}

TEST(Crc32cTest, ValueIsExtendFromZero) {
  const std::string s = "hello, checkpoint";
  EXPECT_EQ(crc32c::Value(s.data(), s.size()), crc32c::Extend(0, s.data(), s.size()));
  EXPECT_EQ(crc32c::Value(s.data(), s.size()), crc32c::ExtendPortable(0, s.data(), s.size()));
}

TEST(Crc32cTest, ImplementationIsNamed) {
  const std::string name = crc32c::Implementation();
  EXPECT_TRUE(name == "isa-l" || name == "portable") << name;
}

TEST(Crc32cMaskTest, EmptyStringMasksToDelta) {
  EXPECT_EQ(crc32c::Mask(crc32c::Value("", 0)), 0xA282EAD8u);
  EXPECT_EQ(crc32c::kMaskDelta, 0xA282EAD8u);
  EXPECT_EQ(crc32c::Unmask(0xA282EAD8u), 0u);
}

// ror32(0xE3069283, 15) = 0x2507C60D; + 0xA282EAD8 = 0xC78AB0E5, worked by
// hand from FORMAT.md §0 so that the formula is pinned independently of the
// header's expression.
TEST(Crc32cMaskTest, KnownMaskedValue) {
  EXPECT_EQ(crc32c::Mask(0xE3069283u), 0xC78AB0E5u);
  EXPECT_EQ(crc32c::Unmask(0xC78AB0E5u), 0xE3069283u);
}

TEST(Crc32cMaskTest, RoundTrip) {
  std::mt19937_64 rng(7);
  std::vector<uint32_t> values = {0u, 1u, 0x7fffu, 0x8000u, 0xffffffffu, 0x80000000u,
                                  0x5d7a4e13u, 0xA282EAD8u};
  for (int i = 0; i < 10000; ++i) values.push_back(static_cast<uint32_t>(rng()));
  for (uint32_t c : values) {
    ASSERT_EQ(crc32c::Unmask(crc32c::Mask(c)), c) << c;
    ASSERT_EQ(crc32c::Mask(crc32c::Unmask(c)), c) << c;
  }
}

// Masking must change the value (that is its purpose), also when applied
// twice, for the CRCs the files actually hold.
TEST(Crc32cMaskTest, MaskChangesValue) {
  const uint32_t crc = crc32c::Value("foo", 3);
  EXPECT_NE(crc, crc32c::Mask(crc));
  EXPECT_NE(crc, crc32c::Mask(crc32c::Mask(crc)));
  EXPECT_EQ(crc, crc32c::Unmask(crc32c::Mask(crc)));
  EXPECT_EQ(crc, crc32c::Unmask(crc32c::Unmask(crc32c::Mask(crc32c::Mask(crc)))));
}

}  // namespace
// Combine against the CRC of the concatenation, at every split point of a
// few hundred bytes and for parts far longer than any table covers.
TEST(Crc32cCombineTest, EverySplitPoint) {
  std::vector<unsigned char> data(300);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<unsigned char>(i * 37 + 11);
  const uint32_t whole = crc32c::Value(data.data(), data.size());
  for (size_t split = 0; split <= data.size(); ++split) {
    const uint32_t a = crc32c::Value(data.data(), split);
    const uint32_t b = crc32c::Value(data.data() + split, data.size() - split);
    ASSERT_EQ(crc32c::Combine(a, b, data.size() - split), whole) << "split " << split;
  }
}

TEST(Crc32cCombineTest, StandardVectorFromItsHalves) {
  // CRC32C("123456789") = 0xe3069283, the standard check value.
  const char* s = "123456789";
  EXPECT_EQ(crc32c::Combine(crc32c::Value(s, 4), crc32c::Value(s + 4, 5), 5), 0xe3069283u);
}

TEST(Crc32cParallelTest, MatchesSerialOnLargeBuffers) {
  for (size_t n : {crc32c::kParallelMinBytes - 1, crc32c::kParallelMinBytes,
                   crc32c::kParallelMinBytes + 4097, 3 * crc32c::kParallelMinBytes + 1}) {
    std::vector<unsigned char> data(n);
    uint32_t x = 12345;
    for (auto& c : data) {
      x = x * 1103515245u + 12345u;
      c = static_cast<unsigned char>(x >> 24);
    }
    EXPECT_EQ(crc32c::ExtendParallel(0x1234u, data.data(), n),
              crc32c::Extend(0x1234u, data.data(), n)) << n;
  }
}

}  // namespace crc32c
}  // namespace ckpt
