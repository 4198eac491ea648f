#include "ckpt/bundle/slice_key.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace ckpt {
namespace {

namespace oc = ordered_code;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

std::string Hex(const std::string& s) { return absl::BytesToHexString(s); }

std::string Unsigned(uint64_t v) {
  std::string s;
  oc::WriteNumIncreasing(&s, v);
  return s;
}

std::string Signed(int64_t v) {
  std::string s;
  oc::WriteSignedNumIncreasing(&s, v);
  return s;
}

std::string Str(absl::string_view v) {
  std::string s;
  oc::WriteString(&s, v);
  return s;
}

// Bytewise unsigned comparison, the order of the index table.
int Compare(const std::string& a, const std::string& b) {
  const size_t n = std::min(a.size(), b.size());
  const int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  if (c != 0) return c < 0 ? -1 : 1;
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

// Random 64-bit values spread over every magnitude, not just huge ones.
int64_t SpreadInt64(std::mt19937_64& rng) {
  const uint64_t raw = rng() >> (rng() % 64);
  return (rng() & 1) ? static_cast<int64_t>(raw) : ~static_cast<int64_t>(raw);
}

TensorSlice Slice(const std::string& spec) {
  absl::StatusOr<TensorSlice> s = TensorSlice::Parse(spec);
  EXPECT_TRUE(s.ok()) << spec << ": " << s.status();
  return s.ok() ? *s : TensorSlice();
}

void ExpectBadKey(const std::string& key, const std::string& needle) {
  std::string name = "unchanged";
  TensorSlice slice = Slice("1,1");
  absl::Status s = DecodeTensorNameSlice(key, &name, &slice);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << Hex(key) << ": " << s;
  EXPECT_NE(std::string(s.message()).find(needle), std::string::npos)
      << Hex(key) << ": message \"" << s.message() << "\" lacks \"" << needle << "\"";
  EXPECT_EQ(name, "unchanged");
  EXPECT_EQ(slice.ToString(), "1,1");
}

// ---- unsigned numbers ----------------------------------------------------------

TEST(OrderedCodeTest, UnsignedSpecExamples) {
  EXPECT_EQ(Unsigned(0), Bytes({0x00}));
  EXPECT_EQ(Unsigned(2), Bytes({0x01, 0x02}));
  EXPECT_EQ(Unsigned(300), Bytes({0x02, 0x01, 0x2C}));
  EXPECT_EQ(Unsigned(255), Bytes({0x01, 0xFF}));
  EXPECT_EQ(Unsigned(256), Bytes({0x02, 0x01, 0x00}));
  EXPECT_EQ(Unsigned(std::numeric_limits<uint64_t>::max()),
            Bytes({0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
}

TEST(OrderedCodeTest, UnsignedRoundTripAndOrder) {
  std::mt19937_64 rng(1);
  std::vector<uint64_t> values = {0, 1, 255, 256, 65535, 65536,
                                  std::numeric_limits<uint64_t>::max()};
  for (int i = 0; i < 5000; ++i) values.push_back(rng() >> (rng() % 64));
  for (uint64_t v : values) {
    std::string enc = Unsigned(v) + "tail";
    absl::string_view src = enc;
    uint64_t got = 0;
    ASSERT_TRUE(oc::ReadNumIncreasing(&src, &got)) << v;
    EXPECT_EQ(got, v);
    EXPECT_EQ(src, "tail");
  }
  for (size_t i = 0; i + 1 < values.size(); ++i) {
    const uint64_t a = values[i], b = values[i + 1];
    const int expected = a < b ? -1 : (a > b ? 1 : 0);
    EXPECT_EQ(Compare(Unsigned(a), Unsigned(b)), expected) << a << " vs " << b;
  }
}

TEST(OrderedCodeTest, UnsignedRejectsMalformed) {
  for (const std::string& bad : {Bytes({}), Bytes({0x01}), Bytes({0x02, 0x01}),
                                 Bytes({0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9}),
                                 Bytes({0xFF}), Bytes({0x01, 0x00}),  // leading zero byte
                                 Bytes({0x02, 0x00, 0x05})}) {
    absl::string_view src = bad;
    uint64_t v = 77;
    EXPECT_FALSE(oc::ReadNumIncreasing(&src, &v)) << Hex(bad);
    EXPECT_EQ(v, 77u);
    EXPECT_EQ(src.size(), bad.size()) << "input must not be consumed on failure";
  }
}

// ---- strings -------------------------------------------------------------------

TEST(OrderedCodeTest, StringSpecExamples) {
  EXPECT_EQ(Str(""), Bytes({0x00, 0x01}));
  EXPECT_EQ(Str("w"), Bytes({0x77, 0x00, 0x01}));
  EXPECT_EQ(Str(std::string(1, '\0')), Bytes({0x00, 0xFF, 0x00, 0x01}));
  EXPECT_EQ(Str("\xff"), Bytes({0xFF, 0x00, 0x00, 0x01}));
  EXPECT_EQ(Str(std::string("a\0\xff" "b", 4)),
            Bytes({0x61, 0x00, 0xFF, 0xFF, 0x00, 0x62, 0x00, 0x01}));
}

TEST(OrderedCodeTest, StringRoundTripAndOrder) {
  std::mt19937_64 rng(2);
  const char alphabet[] = {'\0', '\x01', '\xff', '\xfe', 'a', 'b'};
  std::vector<std::string> values;
  for (int i = 0; i < 3000; ++i) {
    std::string s;
    const int n = static_cast<int>(rng() % 6);
    for (int j = 0; j < n; ++j) s.push_back(alphabet[rng() % sizeof(alphabet)]);
    values.push_back(s);
  }
  for (const std::string& v : values) {
    std::string enc = Str(v) + Bytes({0x00, 0x01, 0x42});
    absl::string_view src = enc;
    std::string got = "junk";
    ASSERT_TRUE(oc::ReadString(&src, &got)) << Hex(v);
    EXPECT_EQ(got, v);
    EXPECT_EQ(src, Bytes({0x00, 0x01, 0x42})) << "must stop at the first terminator";
  }
  for (size_t i = 0; i + 1 < values.size(); ++i) {
    EXPECT_EQ(Compare(Str(values[i]), Str(values[i + 1])),
              Compare(values[i], values[i + 1]))
        << Hex(values[i]) << " vs " << Hex(values[i + 1]);
  }
}

TEST(OrderedCodeTest, StringRejectsMalformed) {
  for (const std::string& bad :
       {Bytes({}), Bytes({0x61}), Bytes({0x61, 0x00}), Bytes({0x00}), Bytes({0xFF}),
        Bytes({0x00, 0x02}), Bytes({0x00, 0x00}), Bytes({0xFF, 0x01}),
        Bytes({0xFF, 0xFF}), Bytes({0x61, 0xFF, 0x00})}) {
    absl::string_view src = bad;
    std::string got = "unchanged";
    EXPECT_FALSE(oc::ReadString(&src, &got)) << Hex(bad);
    EXPECT_EQ(got, "unchanged");
    EXPECT_EQ(src.size(), bad.size());
  }
}

// ---- signed numbers ------------------------------------------------------------

TEST(OrderedCodeTest, SignedSpecExamples) {
  EXPECT_EQ(Hex(Signed(0)), "80");
  EXPECT_EQ(Hex(Signed(5)), "85");
  EXPECT_EQ(Hex(Signed(63)), "bf");
  EXPECT_EQ(Hex(Signed(64)), "c040");
  EXPECT_EQ(Hex(Signed(100)), "c064");
  EXPECT_EQ(Hex(Signed(8192)), "e02000");
  EXPECT_EQ(Hex(Signed(-1)), "7f");
  EXPECT_EQ(Hex(Signed(-64)), "40");
  EXPECT_EQ(Hex(Signed(-65)), "3fbf");
}

// Lengths follow x < 2^(7L-1); each boundary changes the length by one.
TEST(OrderedCodeTest, SignedLengthBoundaries) {
  EXPECT_EQ(Hex(Signed(8191)), "dfff");
  EXPECT_EQ(Hex(Signed(-8192)), "2000");
  EXPECT_EQ(Hex(Signed(-8193)), "1fdfff");
  // L = 8: first byte FF, second byte's top bit clear.
  EXPECT_EQ(Hex(Signed((int64_t{1} << 48))), "ff01000000000000");
  EXPECT_EQ(Hex(Signed((int64_t{1} << 55) - 1)), "ff7fffffffffffff");
  // L = 9: second byte XOR 80.
  EXPECT_EQ(Hex(Signed(int64_t{1} << 55)), "ff80800000000000" "00");
  EXPECT_EQ(Hex(Signed((int64_t{1} << 62) - 1)), "ffbfffffffffffffff");
  EXPECT_EQ(Hex(Signed(-(int64_t{1} << 62))), "004000000000000000");
  // L = 10: second byte XOR C0.
  EXPECT_EQ(Hex(Signed(int64_t{1} << 62)), "ffc04000000000000000");
  EXPECT_EQ(Hex(Signed(kMax)), "ffc07fffffffffffffff");
  EXPECT_EQ(Hex(Signed(kMin)), "003f8000000000000000");
  EXPECT_EQ(Hex(Signed(-(int64_t{1} << 62) - 1)), "003fbfffffffffffffff");

  for (int len = 1; len <= 10; ++len) {
    const int bits = 7 * len - 1;
    if (bits >= 63) break;
    const int64_t edge = int64_t{1} << bits;
    EXPECT_EQ(Signed(edge - 1).size(), static_cast<size_t>(len)) << edge - 1;
    EXPECT_EQ(Signed(edge).size(), static_cast<size_t>(len + 1)) << edge;
    EXPECT_EQ(Signed(-edge).size(), static_cast<size_t>(len)) << -edge;
    EXPECT_EQ(Signed(-edge - 1).size(), static_cast<size_t>(len + 1)) << -edge - 1;
  }
}

TEST(OrderedCodeTest, SignedRoundTripExtremesAndBoundaries) {
  std::vector<int64_t> values = {0, 1, -1, kMin, kMax, kMin + 1, kMax - 1};
  for (int bits = 6; bits < 63; bits += 7) {
    const int64_t edge = int64_t{1} << bits;
    for (int64_t v : {edge - 1, edge, edge + 1, -edge - 1, -edge, -edge + 1}) {
      values.push_back(v);
    }
  }
  for (int64_t v : values) {
    std::string enc = Signed(v) + "x";
    absl::string_view src = enc;
    int64_t got = 0;
    ASSERT_TRUE(oc::ReadSignedNumIncreasing(&src, &got)) << v << " " << Hex(enc);
    EXPECT_EQ(got, v);
    EXPECT_EQ(src, "x") << v;
  }
}

TEST(OrderedCodeTest, SignedOrderMatchesNumericOrder) {
  std::mt19937_64 rng(3);
  std::vector<int64_t> values = {kMin, kMax, 0, -1, 1};
  for (int i = 0; i < 20000; ++i) values.push_back(SpreadInt64(rng));
  for (int64_t v : values) {
    std::string enc = Signed(v);
    absl::string_view src = enc;
    int64_t got = 0;
    ASSERT_TRUE(oc::ReadSignedNumIncreasing(&src, &got)) << v;
    ASSERT_EQ(got, v);
    ASSERT_TRUE(src.empty());
  }
  for (size_t i = 0; i + 1 < values.size(); ++i) {
    const int64_t a = values[i], b = values[i + 1];
    const int expected = a < b ? -1 : (a > b ? 1 : 0);
    ASSERT_EQ(Compare(Signed(a), Signed(b)), expected)
        << a << " (" << Hex(Signed(a)) << ") vs " << b << " (" << Hex(Signed(b)) << ")";
  }
}

TEST(OrderedCodeTest, SignedRejectsMalformed) {
  for (const std::string& bad : {
           Bytes({}),
           Bytes({0xC0}),                          // L = 2, one byte
           Bytes({0x3F}),                          // negative L = 2, one byte
           Bytes({0xFF}),                          // needs a second byte
           Bytes({0xC0, 0x05}),                    // 5 spelled in two bytes
           Bytes({0x3F, 0xFF}),                    // -1 spelled in two bytes
           Bytes({0xE0, 0x00, 0x40}),              // 64 spelled in three bytes
           Bytes({0xFF, 0xE0, 0, 0, 0, 0, 0, 0, 0, 0, 0}),  // L = 11
           Bytes({0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
           Bytes({0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0}),  // negative, L > 10
           Bytes({0xFF, 0xC1, 0, 0, 0, 0, 0, 0, 0, 0}),     // > 64 bits
           Bytes({0xFF, 0xC0, 0x80, 0, 0, 0, 0, 0, 0, 0}),  // 2^63 does not fit
           Bytes({0x00, 0x3F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}),  // < INT64_MIN
           Bytes({0xFF, 0xC0, 0x00, 0, 0, 0, 0, 0, 0, 0}),  // 0 in ten bytes
           Bytes({0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0}),        // 0 in nine bytes
           Bytes({0xFF, 0xC0, 0x7F, 0xFF}),                 // truncated L = 10
       }) {
    absl::string_view src = bad;
    int64_t v = 77;
    EXPECT_FALSE(oc::ReadSignedNumIncreasing(&src, &v)) << Hex(bad);
    EXPECT_EQ(v, 77);
    EXPECT_EQ(src.size(), bad.size());
  }
}

// Whatever the bytes, a successful read consumed exactly the canonical
// encoding of the value it returned.
TEST(OrderedCodeTest, ReadersOnRandomBytes) {
  std::mt19937_64 rng(4);
  for (int i = 0; i < 200000; ++i) {
    std::string buf;
    const int n = static_cast<int>(rng() % 12);
    for (int j = 0; j < n; ++j) {
      // Bias toward the bytes that matter to the formats.
      const uint64_t r = rng();
      const unsigned char pick[] = {0x00, 0x01, 0xFF, 0x80, 0x7F, 0xC0, 0x3F};
      buf.push_back(static_cast<char>(r % 3 == 0 ? pick[(r >> 8) % 7] : (r >> 16) & 0xFF));
    }
    {
      absl::string_view src = buf;
      int64_t v = 0;
      if (oc::ReadSignedNumIncreasing(&src, &v)) {
        ASSERT_EQ(Signed(v), buf.substr(0, buf.size() - src.size())) << Hex(buf);
      }
    }
    {
      absl::string_view src = buf;
      uint64_t v = 0;
      if (oc::ReadNumIncreasing(&src, &v)) {
        ASSERT_EQ(Unsigned(v), buf.substr(0, buf.size() - src.size())) << Hex(buf);
      }
    }
    {
      absl::string_view src = buf;
      std::string v;
      if (oc::ReadString(&src, &v)) {
        ASSERT_EQ(Str(v), buf.substr(0, buf.size() - src.size())) << Hex(buf);
      }
    }
  }
}

// ---- slice keys ----------------------------------------------------------------

// FORMAT.md §5's example bytes end in "80 94", i.e. dimension 1 is (0, 20):
// TF1's explicit spelling "5,5:0,20". With a spanning second dimension
// ("5,5:-") the last extent is (0, -1) = "80 7F".
TEST(SliceKeyTest, SpecExampleTf1Spelling) {
  const std::string key = EncodeTensorNameSlice("w", Slice("5,5:0,20"));
  EXPECT_EQ(Hex(key), "00770001010285858094");
  std::string name;
  TensorSlice slice;
  ASSERT_TRUE(DecodeTensorNameSlice(key, &name, &slice).ok());
  EXPECT_EQ(name, "w");
  EXPECT_EQ(slice.ToString(), "5,5:0,20");
}

TEST(SliceKeyTest, SpecExampleSpanningSpelling) {
  const std::string key = EncodeTensorNameSlice("w", Slice("5,5:-"));
  EXPECT_EQ(Hex(key), "0077000101028585807f");
  std::string name;
  TensorSlice slice;
  ASSERT_TRUE(DecodeTensorNameSlice(key, &name, &slice).ok());
  EXPECT_EQ(name, "w");
  EXPECT_EQ(slice.ToString(), "5,5:-");
  EXPECT_TRUE(slice.IsFullAt(1));
}

TEST(SliceKeyTest, MoreKnownKeys) {
  EXPECT_EQ(Hex(EncodeTensorNameSlice("", Slice("-"))), "000001" "0101" "807f");
  EXPECT_EQ(Hex(EncodeTensorNameSlice(std::string("a\0b", 3), Slice("100,8192"))),
            "006100ff620001" "0101" "c064" "e02000");
}

TEST(SliceKeyTest, RoundTripRandom) {
  std::mt19937_64 rng(5);
  const char alphabet[] = {'\0', '\x01', '\xff', '/', 'a', 'Z', ':'};
  for (int i = 0; i < 5000; ++i) {
    std::string name;
    const int n = static_cast<int>(rng() % 10);
    for (int j = 0; j < n; ++j) name.push_back(alphabet[rng() % sizeof(alphabet)]);
    const int rank = 1 + static_cast<int>(rng() % 5);
    std::vector<std::pair<int64_t, int64_t>> extents;
    for (int d = 0; d < rank; ++d) {
      if (rng() % 3 == 0) {
        extents.emplace_back(0, TensorSlice::kFullExtent);
      } else {
        const int64_t start = static_cast<int64_t>(rng() >> (1 + rng() % 63));
        const int64_t length = 1 + static_cast<int64_t>((rng() >> 1) % (kMax - start));
        extents.emplace_back(start, length);
      }
    }
    const TensorSlice slice = *TensorSlice::FromExtents(extents);
    const std::string key = EncodeTensorNameSlice(name, slice);
    ASSERT_EQ(key[0], '\0') << "slice keys begin with 00";
    std::string got_name;
    TensorSlice got_slice;
    absl::Status s = DecodeTensorNameSlice(key, &got_name, &got_slice);
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_EQ(got_name, name);
    EXPECT_EQ(got_slice, slice) << slice.ToString();
  }
}

TEST(SliceKeyTest, SortsAfterHeaderAndBeforePrintableNames) {
  const std::string key = EncodeTensorNameSlice("zzz", Slice("9,1:-"));
  EXPECT_GT(Compare(key, ""), 0);
  for (const std::string& name :
       std::vector<std::string>{" ", "A", "a", "global_step", std::string("\x01", 1)}) {
    EXPECT_LT(Compare(key, name), 0) << name;
  }
  // Keys of one tensor sort by start, then length.
  EXPECT_LT(Compare(EncodeTensorNameSlice("w", Slice("0,5:-")),
                    EncodeTensorNameSlice("w", Slice("5,5:-"))), 0);
  EXPECT_LT(Compare(EncodeTensorNameSlice("w", Slice("5,4:-")),
                    EncodeTensorNameSlice("w", Slice("5,5:-"))), 0);
  EXPECT_LT(Compare(EncodeTensorNameSlice("w", Slice("5,5:-")),
                    EncodeTensorNameSlice("w", Slice("5,5:0,1"))), 0);
  EXPECT_LT(Compare(EncodeTensorNameSlice("w", Slice("99,1")),
                    EncodeTensorNameSlice("w0", Slice("0,1"))), 0);
}

TEST(SliceKeyTest, DecodeRejectsWrongLeadingNumber) {
  ExpectBadKey(Bytes({0x01, 0x01, 0x77, 0x00, 0x01, 0x01, 0x01, 0x80, 0x7F}),
               "leading number is 1");
  ExpectBadKey("", "leading number");
  ExpectBadKey("global_step", "leading number");
  ExpectBadKey(Bytes({0x01, 0x00}), "leading number");  // non-canonical 0
}

TEST(SliceKeyTest, DecodeRejectsRankZero) {
  // A TF V1 scalar key: 00 'Variable' 00 01 00.
  std::string v1 = Bytes({0x00}) + "Variable" + Bytes({0x00, 0x01, 0x00});
  ExpectBadKey(v1, "rank is 0");
}

TEST(SliceKeyTest, DecodeRejectsBadFields) {
  const std::string head = Bytes({0x00, 0x77, 0x00, 0x01});
  ExpectBadKey(Bytes({0x00, 0x77, 0x00}), "tensor name");
  ExpectBadKey(Bytes({0x00, 0x77, 0x00, 0x05}), "tensor name");
  ExpectBadKey(head, "rank");
  ExpectBadKey(head + Bytes({0x01, 0xFF}), "rank 255 exceeds");
  ExpectBadKey(head + Bytes({0x08, 1, 0, 0, 0, 0, 0, 0, 0}), "exceeds");
  ExpectBadKey(head + Bytes({0x01, 0x01}), "start of dimension 0");
  ExpectBadKey(head + Bytes({0x01, 0x01, 0x80}), "length of dimension 0");
  ExpectBadKey(head + Bytes({0x01, 0x02, 0x80, 0x85}), "start of dimension 1");
  ExpectBadKey(head + Bytes({0x01, 0x01, 0xC0, 0x05, 0x85}), "start of dimension 0");
  ExpectBadKey(head + Bytes({0x01, 0x01, 0x80, 0x85, 0x00}), "1 trailing byte");
  ExpectBadKey(head + Bytes({0x01, 0x01, 0x7B, 0x85}), "negative start -5");
  ExpectBadKey(head + Bytes({0x01, 0x01, 0x80, 0x80}), "length 0");
  ExpectBadKey(head + Bytes({0x01, 0x01, 0x80, 0x7E}), "length -2");
  ExpectBadKey(head + Bytes({0x01, 0x01, 0x83, 0x7F}), "start 3");  // spanning, start != 0
  ExpectBadKey(head + Bytes({0x01, 0x01}) + Signed(kMax) + Signed(1), "overflow");
}

TEST(SliceKeyTest, DecodeRejectsEveryTruncation) {
  const std::string key =
      EncodeTensorNameSlice(std::string("na\0me\xff", 6), Slice("300,8192:-:0,1"));
  for (size_t n = 0; n < key.size(); ++n) {
    std::string name;
    TensorSlice slice;
    absl::Status s = DecodeTensorNameSlice(key.substr(0, n), &name, &slice);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << n << ": " << s;
  }
  std::string name;
  TensorSlice slice;
  EXPECT_TRUE(DecodeTensorNameSlice(key, &name, &slice).ok());
}

TEST(SliceKeyTest, ErrorMessageShowsBoundedKey) {
  std::string long_key = Bytes({0x05}) + std::string(1000, 'x');
  std::string name;
  TensorSlice slice;
  absl::Status s = DecodeTensorNameSlice(long_key, &name, &slice);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_LT(s.message().size(), 400u) << s.message();
  EXPECT_NE(std::string(s.message()).find("..."), std::string::npos);
}

// Arbitrary bytes never crash the decoder, and whatever it accepts re-encodes
// to the same key (one key per slice).
TEST(SliceKeyTest, DecodeRandomAndMutatedBytes) {
  std::mt19937_64 rng(6);
  const std::string valid = EncodeTensorNameSlice("layer/kernel", Slice("0,5:-:7,3"));
  int accepted = 0;
  for (int i = 0; i < 100000; ++i) {
    std::string key;
    switch (i % 3) {
      case 0: {
        const int n = static_cast<int>(rng() % 24);
        key.push_back('\0');
        for (int j = 1; j < n; ++j) key.push_back(static_cast<char>(rng() & 0xFF));
        break;
      }
      case 1: {
        key = valid;
        const int flips = 1 + static_cast<int>(rng() % 3);
        for (int f = 0; f < flips; ++f) {
          key[rng() % key.size()] = static_cast<char>(rng() & 0xFF);
        }
        break;
      }
      default:
        key = valid.substr(0, rng() % (valid.size() + 1)) +
              std::string(rng() % 3, static_cast<char>(rng() & 0xFF));
        break;
    }
    std::string name;
    TensorSlice slice;
    absl::Status s = DecodeTensorNameSlice(key, &name, &slice);
    if (s.ok()) {
      ++accepted;
      ASSERT_EQ(EncodeTensorNameSlice(name, slice), key) << Hex(key);
      ASSERT_GE(slice.rank(), 1);
    } else {
      ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << Hex(key);
      ASSERT_FALSE(s.message().empty());
    }
  }
  EXPECT_GT(accepted, 0) << "the mutation mix should produce some valid keys";
}

}  // namespace
}  // namespace ckpt
