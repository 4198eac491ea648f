#include "ckpt/bundle/slice_key.h"

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace ckpt {
namespace ordered_code {
namespace {

// Format facts (TensorFlow's OrderedCode, increasing order):
//  - unsigned: one byte holding the count n (0..8) of value bytes, then the
//    value big-endian in n bytes with no leading zero byte (0 is just "00");
//  - string: 00 -> 00 FF, FF -> FF 00, every other byte as is, then 00 01;
//  - signed: L bytes (1..10), the value's two's complement truncated to its
//    last L bytes of a 10-byte sign extension, with the top L bits inverted,
//    so the run of leading ones (leading zeros for negatives) tells L.
// Both number forms sort bytewise in numeric order, and every value has
// exactly one encoding; the readers refuse any other spelling.

constexpr unsigned char kEscape0 = 0x00;
constexpr unsigned char kEscapeFF = 0xFF;
constexpr unsigned char kEscaped0 = 0xFF;   // 00 is written 00 FF
constexpr unsigned char kEscapedFF = 0x00;  // FF is written FF 00
constexpr unsigned char kTerminator = 0x01; // a string ends with 00 01

constexpr int kMaxSignedLength = 10;

// Least L in 1..10 with x < 2^(7L-1), where x is v for v >= 0 and ~v
// otherwise: L bytes hold L header bits and 7L payload bits whose top bit
// must equal the sign.
int SignedLength(uint64_t x) {
  int len = 1;
  while (len < kMaxSignedLength && (x >> (7 * len - 1)) != 0) ++len;
  return len;
}

// The L header one-bits, spread over the first two bytes of an encoding.
void SignedHeader(int len, unsigned char* first, unsigned char* second) {
  const uint32_t bits = (0xFFFFu << (16 - len)) & 0xFFFFu;
  *first = static_cast<unsigned char>(bits >> 8);
  *second = static_cast<unsigned char>(bits);
}

int LeadingOnes(unsigned char b) {
  if (b == 0xFF) return 8;
  return __builtin_clz(static_cast<uint32_t>(b ^ 0xFFu) << 24);
}

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

void WriteNumIncreasing(std::string* dest, uint64_t value) {
  unsigned char buf[9];
  int n = 0;
  for (uint64_t v = value; v != 0; v >>= 8) ++n;
  buf[0] = static_cast<unsigned char>(n);
  for (int i = 0; i < n; ++i) {
    buf[1 + i] = static_cast<unsigned char>(value >> (8 * (n - 1 - i)));
  }
  dest->append(reinterpret_cast<const char*>(buf), 1 + n);
}

bool ReadNumIncreasing(absl::string_view* src, uint64_t* value) {
  if (src->empty()) return false;
  const unsigned char* p = Bytes(*src);
  const size_t n = p[0];
  if (n > 8 || src->size() < 1 + n) return false;
  if (n > 0 && p[1] == 0) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | p[1 + i];
  *value = v;
  src->remove_prefix(1 + n);
  return true;
}

void WriteSignedNumIncreasing(std::string* dest, int64_t value) {
  const uint64_t bits = static_cast<uint64_t>(value);
  const bool negative = value < 0;
  const int len = SignedLength(negative ? ~bits : bits);
  unsigned char buf[kMaxSignedLength];
  buf[0] = buf[1] = negative ? 0xFF : 0x00;
  for (int i = 0; i < 8; ++i) buf[2 + i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
  unsigned char* begin = buf + kMaxSignedLength - len;
  unsigned char first, second;
  SignedHeader(len, &first, &second);
  begin[0] ^= first;
  if (len > 1) begin[1] ^= second;
  dest->append(reinterpret_cast<const char*>(begin), len);
}

bool ReadSignedNumIncreasing(absl::string_view* src, int64_t* value) {
  if (src->empty()) return false;
  const unsigned char* p = Bytes(*src);
  // Negative values are stored inverted; flipping them back makes the header
  // a run of ones for either sign.
  const unsigned char flip = (p[0] & 0x80) ? 0x00 : 0xFF;
  int len = LeadingOnes(p[0] ^ flip);
  if (len == 8) {
    if (src->size() < 2) return false;
    len += LeadingOnes(p[1] ^ flip);
    if (len > kMaxSignedLength) return false;
  }
  if (src->size() < static_cast<size_t>(len)) return false;
  unsigned char t[kMaxSignedLength];
  for (int i = 0; i < len; ++i) t[i] = p[i] ^ flip;
  uint64_t x = 0;
  if (len <= 8) {
    for (int i = 0; i < len; ++i) x = (x << 8) | t[i];
    // Clears the header; the bit below it is already 0 (it ended the run).
    x &= (uint64_t{1} << (7 * len)) - 1;
  } else {
    if (len == 10 && (t[1] != 0xC0 || t[2] >= 0x80)) return false;  // past 64 bits
    for (int i = len - 8; i < len; ++i) x = (x << 8) | t[i];
    if (len == 9) x &= ~(uint64_t{1} << 63);
  }
  if (SignedLength(x) != len) return false;
  *value = static_cast<int64_t>(flip ? ~x : x);
  src->remove_prefix(len);
  return true;
}

void WriteString(std::string* dest, absl::string_view s) {
  for (unsigned char c : s) {
    if (c == kEscape0) {
      dest->push_back(static_cast<char>(kEscape0));
      dest->push_back(static_cast<char>(kEscaped0));
    } else if (c == kEscapeFF) {
      dest->push_back(static_cast<char>(kEscapeFF));
      dest->push_back(static_cast<char>(kEscapedFF));
    } else {
      dest->push_back(static_cast<char>(c));
    }
  }
  dest->push_back(static_cast<char>(kEscape0));
  dest->push_back(static_cast<char>(kTerminator));
}

bool ReadString(absl::string_view* src, std::string* result) {
  const unsigned char* p = Bytes(*src);
  const size_t n = src->size();
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = p[i];
    if (c != kEscape0 && c != kEscapeFF) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    if (i + 1 >= n) return false;
    const unsigned char next = p[++i];
    if (c == kEscape0 && next == kTerminator) {
      *result = std::move(out);
      src->remove_prefix(i + 1);
      return true;
    }
    if (c == kEscape0 && next == kEscaped0) {
      out.push_back(static_cast<char>(kEscape0));
    } else if (c == kEscapeFF && next == kEscapedFF) {
      out.push_back(static_cast<char>(kEscapeFF));
    } else {
      return false;
    }
  }
  return false;
}

}  // namespace ordered_code

namespace {

absl::Status BadKey(absl::string_view key, absl::string_view problem) {
  // Keys are binary and may be long: show a bounded, escaped prefix.
  constexpr size_t kShown = 64;
  std::string shown = absl::CHexEscape(key.substr(0, kShown));
  if (key.size() > kShown) absl::StrAppend(&shown, "...");
  return absl::InvalidArgumentError(
      absl::StrCat("invalid tensor slice key \"", shown, "\": ", problem));
}

}  // namespace

std::string EncodeTensorNameSlice(absl::string_view name, const TensorSlice& slice) {
  std::string key;
  // The leading 0 sorts every slice key after the header's empty key and
  // before any name starting with a printable character.
  ordered_code::WriteNumIncreasing(&key, 0);
  ordered_code::WriteString(&key, name);
  ordered_code::WriteNumIncreasing(&key, static_cast<uint64_t>(slice.rank()));
  for (int d = 0; d < slice.rank(); ++d) {
    // A spanning extent is (0, kFullExtent) = (0, -1), which is the key's spelling.
    ordered_code::WriteSignedNumIncreasing(&key, slice.start(d));
    ordered_code::WriteSignedNumIncreasing(&key, slice.length(d));
  }
  return key;
}

absl::Status DecodeTensorNameSlice(absl::string_view key, std::string* name,
                                   TensorSlice* slice) {
  absl::string_view src = key;
  uint64_t leading = 0;
  if (!ordered_code::ReadNumIncreasing(&src, &leading)) {
    return BadKey(key, "cannot decode the leading number");
  }
  if (leading != 0) {
    return BadKey(key, absl::StrCat("leading number is ", leading, ", expected 0"));
  }
  std::string decoded_name;
  if (!ordered_code::ReadString(&src, &decoded_name)) {
    return BadKey(key, "cannot decode the tensor name (bad escape or no 00 01 terminator)");
  }
  uint64_t rank = 0;
  if (!ordered_code::ReadNumIncreasing(&src, &rank)) {
    return BadKey(key, "cannot decode the rank");
  }
  if (rank == 0) return BadKey(key, "rank is 0; a slice key needs rank >= 1");
  if (rank > static_cast<uint64_t>(TensorShape::kMaxRank)) {
    return BadKey(key, absl::StrCat("rank ", rank, " exceeds ", TensorShape::kMaxRank));
  }
  std::vector<std::pair<int64_t, int64_t>> extents;
  extents.reserve(rank);
  for (uint64_t d = 0; d < rank; ++d) {
    int64_t start = 0;
    int64_t length = 0;
    if (!ordered_code::ReadSignedNumIncreasing(&src, &start)) {
      return BadKey(key, absl::StrCat("cannot decode the start of dimension ", d, " of ",
                                      rank));
    }
    if (!ordered_code::ReadSignedNumIncreasing(&src, &length)) {
      return BadKey(key, absl::StrCat("cannot decode the length of dimension ", d, " of ",
                                      rank));
    }
    extents.emplace_back(start, length);
  }
  if (!src.empty()) {
    return BadKey(key, absl::StrCat(src.size(), " trailing byte(s) after the last extent"));
  }
  absl::StatusOr<TensorSlice> decoded = TensorSlice::FromExtents(extents);
  if (!decoded.ok()) return BadKey(key, decoded.status().message());
  *name = std::move(decoded_name);
  *slice = *std::move(decoded);
  return absl::OkStatus();
}

}  // namespace ckpt
