// Fuzzes the decoder of stored DT_STRING tensors, and round-trips the
// encoder through it.
//
// Input layout (little-endian):
//   u8 flags | i64 n | u32 masked_crc | stored bytes
// flags bit 0: the data's byte order is big-endian.
// flags bit 1: round-trip mode: instead of decoding the stored bytes, split
//   them at each 0xff byte into elements, encode those, and decode the result
//   (n and crc unused).
// Whenever a decode succeeds, re-encoding its elements and decoding again
// must give the same elements: whatever the decoder accepts, the encoder can
// reproduce.
#include <cstdint>
#include <string>
#include <vector>

#include "ckpt/bundle/string_codec.h"
#include "ckpt/crc32c.h"
#include "fuzz_util.h"

namespace {

// The stored form of `elements`, as BundleWriter writes it.
std::string Encode(const std::vector<std::string>& elements, bool big_endian,
                   uint32_t* masked_crc) {
  std::string stored;
  uint32_t crc = 0;
  ckpt::EncodeStringHeader(elements, big_endian, &stored, &crc);
  for (const std::string& s : elements) {
    stored += s;
    crc = ckpt::crc32c::Extend(crc, s.data(), s.size());
  }
  *masked_crc = ckpt::crc32c::Mask(crc);
  return stored;
}

void CheckRoundTrip(const std::vector<std::string>& elements, bool big_endian) {
  uint32_t crc = 0;
  const std::string stored = Encode(elements, big_endian, &crc);
  std::vector<std::string> decoded;
  absl::Status s = ckpt::DecodeStringTensor(stored, static_cast<int64_t>(elements.size()),
                                            big_endian, crc, "fuzz", &decoded);
  FUZZ_CHECK(s.ok(), std::string(s.message()).c_str());
  FUZZ_CHECK(decoded == elements, "decoding the encoded elements changed them");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ckpt::fuzz::SilenceProtobufLogging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 13) return 0;
  const bool big_endian = (data[0] & 1) != 0;
  const bool round_trip = (data[0] & 2) != 0;
  const int64_t n = static_cast<int64_t>(ckpt::fuzz::Load64(data + 1));
  const uint32_t crc = ckpt::fuzz::Load32(data + 9);
  const absl::string_view stored(reinterpret_cast<const char*>(data) + 13, size - 13);

  if (round_trip) {
    std::vector<std::string> elements(1);
    for (char c : stored) {
      if (static_cast<unsigned char>(c) == 0xff) {
        elements.emplace_back();
      } else {
        elements.back().push_back(c);
      }
    }
    CheckRoundTrip(elements, big_endian);
    return 0;
  }

  std::vector<std::string> out;
  absl::Status s = ckpt::DecodeStringTensor(stored, n, big_endian, crc, "fuzz", &out);
  if (!s.ok()) {
    FUZZ_CHECK(absl::IsDataLoss(s), "a decode error that is not DataLoss");
    return 0;
  }
  FUZZ_CHECK(static_cast<int64_t>(out.size()) == n, "decoded another element count");
  CheckRoundTrip(out, big_endian);
  return 0;
}
