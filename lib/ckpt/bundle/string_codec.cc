#include "ckpt/bundle/string_codec.h"

#include "absl/strings/str_cat.h"
#include "ckpt/crc32c.h"
#include "ckpt/io/coding.h"

namespace ckpt {
namespace {

// The checksum covers each length as a 4-byte integer, or 8 bytes when it
// does not fit in 32 bits, in the data's byte order.
uint32_t ExtendWithLength(uint32_t crc, uint64_t len, bool big_endian) {
  char buf[8];
  if (len <= 0xffffffffu) {
    uint32_t v = static_cast<uint32_t>(len);
    for (int i = 0; i < 4; ++i) buf[big_endian ? 3 - i : i] = static_cast<char>(v >> (8 * i));
    return crc32c::Extend(crc, buf, 4);
  }
  for (int i = 0; i < 8; ++i) buf[big_endian ? 7 - i : i] = static_cast<char>(len >> (8 * i));
  return crc32c::Extend(crc, buf, 8);
}

void EncodeU32(char* dst, uint32_t v, bool big_endian) {
  for (int i = 0; i < 4; ++i) dst[big_endian ? 3 - i : i] = static_cast<char>(v >> (8 * i));
}

uint32_t DecodeU32(const char* p, bool big_endian) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= uint32_t{static_cast<unsigned char>(p[big_endian ? 3 - i : i])} << (8 * i);
  }
  return v;
}

}  // namespace

void EncodeStringHeader(const std::vector<std::string>& elements, bool big_endian,
                        std::string* header, uint32_t* crc) {
  header->clear();
  uint32_t c = 0;
  for (const std::string& s : elements) {
    PutVarint64(header, s.size());
    c = ExtendWithLength(c, s.size(), big_endian);
  }
  char buf[4];
  EncodeU32(buf, crc32c::Mask(c), big_endian);
  header->append(buf, 4);
  *crc = crc32c::Extend(c, buf, 4);
}

absl::Status DecodeStringTensor(absl::string_view stored, int64_t n, bool big_endian,
                                uint32_t masked_crc, absl::string_view context,
                                std::vector<std::string>* out) {
  out->clear();
  if (n == 0 && stored.empty()) return absl::OkStatus();
  // Each element needs at least one length byte: a hostile element count
  // cannot make us allocate more than the payload justifies.
  if (n < 0 || static_cast<uint64_t>(n) > stored.size()) {
    return absl::DataLossError(absl::StrCat(context, ": invalid size in bundle entry: ",
                                            n, " strings cannot fit in ", stored.size(),
                                            " bytes"));
  }
  const char* p = stored.data();
  const char* limit = p + stored.size();
  std::vector<uint64_t> lengths(static_cast<size_t>(n));
  uint32_t c = 0;
  uint64_t total = 0;
  for (int64_t i = 0; i < n; ++i) {
    p = GetVarint64(p, limit, &lengths[i]);
    if (p == nullptr) {
      return absl::DataLossError(absl::StrCat(context, ": string length ", i,
                                              " is malformed or truncated"));
    }
    if (lengths[i] > stored.size() || total + lengths[i] > stored.size()) {
      return absl::DataLossError(absl::StrCat(context, ": string ", i, " claims ",
                                              lengths[i], " bytes, beyond the ",
                                              stored.size(), "-byte payload"));
    }
    total += lengths[i];
    c = ExtendWithLength(c, lengths[i], big_endian);
  }
  if (limit - p < 4) {
    return absl::DataLossError(absl::StrCat(context, ": string tensor truncated before its length checksum"));
  }
  uint32_t stored_len_crc = DecodeU32(p, big_endian);
  if (stored_len_crc != crc32c::Mask(c)) {
    return absl::DataLossError(absl::StrCat(context, ": string length checksum does not match (stored ",
                                            stored_len_crc, ", computed ", crc32c::Mask(c), ")"));
  }
  c = crc32c::Extend(c, p, 4);
  p += 4;
  if (static_cast<uint64_t>(limit - p) != total) {
    return absl::DataLossError(absl::StrCat(context, ": string bytes (", limit - p,
                                            ") do not match the lengths' total (", total, ")"));
  }
  c = crc32c::Extend(c, p, total);
  if (crc32c::Mask(c) != masked_crc) {
    return absl::DataLossError(absl::StrCat(context, ": checksum does not match (stored ",
                                            masked_crc, ", computed ", crc32c::Mask(c), ")"));
  }
  out->resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    (*out)[i].assign(p, lengths[i]);
    p += lengths[i];
  }
  return absl::OkStatus();
}

}  // namespace ckpt
