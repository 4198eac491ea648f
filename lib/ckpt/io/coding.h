// Little-endian fixed-width and protobuf-style varint encodings, as used by
// the index table and string tensors. Decoders never read past `limit`.
#ifndef CKPT_IO_CODING_H_
#define CKPT_IO_CODING_H_

#include <cstdint>
#include <cstring>
#include <string>

namespace ckpt {

inline void EncodeFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline uint32_t DecodeFixed32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} | (uint32_t{u[1]} << 8) | (uint32_t{u[2]} << 16) |
         (uint32_t{u[3]} << 24);
}
inline uint64_t DecodeFixed64(const char* p) {
  return uint64_t{DecodeFixed32(p)} | (uint64_t{DecodeFixed32(p + 4)} << 32);
}
inline void PutFixed32(std::string* dst, uint32_t v) {
  char buf[4];
  EncodeFixed32(buf, v);
  dst->append(buf, 4);
}

inline void PutVarint64(std::string* dst, uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  dst->append(buf, n);
}

// Returns the byte after the varint, or nullptr if it is malformed (more than
// 10 bytes, or overflowing 64 bits) or runs into `limit`.
inline const char* GetVarint64(const char* p, const char* limit, uint64_t* value) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && p < limit; shift += 7) {
    uint64_t byte = static_cast<unsigned char>(*p++);
    if (shift == 63 && byte > 1) return nullptr;
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return p;
    }
  }
  return nullptr;
}

inline const char* GetVarint32(const char* p, const char* limit, uint32_t* value) {
  uint64_t v;
  p = GetVarint64(p, limit, &v);
  if (p == nullptr || v > 0xffffffffu) return nullptr;
  *value = static_cast<uint32_t>(v);
  return p;
}

}  // namespace ckpt

#endif  // CKPT_IO_CODING_H_
