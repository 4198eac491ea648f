// The stored form of a DT_STRING tensor (FORMAT.md section 4):
//   varint64 length of each element | 4-byte length checksum | element bytes
// The entry CRC covers the lengths as fixed-width integers (not their varint
// bytes), then the length checksum, then the element bytes.
#ifndef CKPT_BUNDLE_STRING_CODEC_H_
#define CKPT_BUNDLE_STRING_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ckpt {

// Fills *header with the lengths and the length checksum, and sets *crc to
// the running (unmasked) CRC after them; the caller then writes the element
// bytes and extends *crc over them. `big_endian`: the data's byte order.
void EncodeStringHeader(const std::vector<std::string>& elements, bool big_endian,
                        std::string* header, uint32_t* crc);

// Decodes `n` elements from `stored` (exactly `stored.size()` bytes), checking
// the length checksum and the entry's masked CRC. Every length is bounded by
// the bytes that remain before anything is allocated. Errors are DataLoss and
// start with `context` (file and tensor).
absl::Status DecodeStringTensor(absl::string_view stored, int64_t n, bool big_endian,
                                uint32_t masked_crc, absl::string_view context,
                                std::vector<std::string>* out);

}  // namespace ckpt

#endif  // CKPT_BUNDLE_STRING_CODEC_H_
