#include "ckpt/bundle/entry_codec.h"

#include "ckpt/io/coding.h"
#include "ckpt/tensor_shape.h"

namespace ckpt {
namespace {

// Protobuf wire types.
constexpr uint32_t kVarint = 0, kLengthDelimited = 2, kFixed32 = 5;

constexpr uint32_t Tag(uint32_t field, uint32_t wire_type) { return field << 3 | wire_type; }

size_t VarintLength(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

char* PutVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

}  // namespace

void AppendPlainEntry(DType dtype, absl::Span<const int64_t> dims, int32_t shard_id,
                      int64_t offset, int64_t size, uint32_t crc32c, std::string* out) {
  // Each Dim message is {size} (tag 0x08) when the size is not 0, else empty;
  // negative values of int32/int64 fields take ten bytes, as protobuf
  // encodes them (sign-extended to 64 bits).
  size_t shape_len = 0;
  for (int64_t d : dims) {
    const size_t dim_len = d == 0 ? 0 : 1 + VarintLength(static_cast<uint64_t>(d));
    shape_len += 1 + VarintLength(dim_len) + dim_len;
  }
  const size_t start = out->size();
  // Upper bound: 5 fields of at most 11 bytes, the shape's tag and length,
  // the shape itself, the crc's tag and 4 bytes.
  out->resize(start + 5 * 11 + 1 + 10 + shape_len + 5);
  char* p = out->data() + start;
  if (dtype != 0) {
    *p++ = Tag(1, kVarint);
    p = PutVarint(p, static_cast<uint64_t>(static_cast<int64_t>(dtype)));
  }
  *p++ = Tag(2, kLengthDelimited);
  p = PutVarint(p, shape_len);
  for (int64_t d : dims) {
    *p++ = Tag(2, kLengthDelimited);
    if (d == 0) {
      *p++ = 0;
    } else {
      p = PutVarint(p, 1 + VarintLength(static_cast<uint64_t>(d)));
      *p++ = Tag(1, kVarint);
      p = PutVarint(p, static_cast<uint64_t>(d));
    }
  }
  if (shard_id != 0) {
    *p++ = Tag(3, kVarint);
    p = PutVarint(p, static_cast<uint64_t>(static_cast<int64_t>(shard_id)));
  }
  if (offset != 0) {
    *p++ = Tag(4, kVarint);
    p = PutVarint(p, static_cast<uint64_t>(offset));
  }
  if (size != 0) {
    *p++ = Tag(5, kVarint);
    p = PutVarint(p, static_cast<uint64_t>(size));
  }
  if (crc32c != 0) {
    *p++ = Tag(6, kFixed32);
    EncodeFixed32(p, crc32c);
    p += 4;
  }
  out->resize(static_cast<size_t>(p - out->data()));
}

namespace {

// Tags below 128 are one byte; every tag the fast path accepts is.
inline bool ReadTag(const char** p, const char* limit, uint32_t* tag) {
  if (*p >= limit) return false;
  const auto b = static_cast<unsigned char>(**p);
  if (b >= 0x80) return false;
  *tag = b;
  ++*p;
  return true;
}

inline bool ReadVarint(const char** p, const char* limit, uint64_t* v) {
  // The common case, one byte, without a call.
  if (*p < limit && static_cast<unsigned char>(**p) < 0x80) {
    *v = static_cast<unsigned char>(**p);
    ++*p;
    return true;
  }
  const char* q = GetVarint64(*p, limit, v);
  if (q == nullptr) return false;
  *p = q;
  return true;
}

bool DecodeShape(const char* p, const char* limit, PlainEntry* e) {
  while (p < limit) {
    uint32_t tag;
    uint64_t len;
    if (!ReadTag(&p, limit, &tag) || tag != Tag(2, kLengthDelimited)) return false;
    if (!ReadVarint(&p, limit, &len) || len > static_cast<uint64_t>(limit - p)) return false;
    const char* dim_end = p + len;
    int64_t size = 0;
    bool seen = false;
    while (p < dim_end) {
      uint64_t v;
      if (!ReadTag(&p, dim_end, &tag) || tag != Tag(1, kVarint) || seen) return false;
      if (!ReadVarint(&p, dim_end, &v)) return false;
      size = static_cast<int64_t>(v);
      seen = true;
    }
    if (e->rank >= TensorShape::kMaxRank) return false;
    e->dims[e->rank++] = size;
  }
  return true;
}

}  // namespace

bool DecodePlainEntry(absl::string_view record, PlainEntry* e) {
  const char* p = record.data();
  const char* const limit = p + record.size();
  e->dtype = 0;
  e->rank = 0;
  e->shard_id = 0;
  e->offset = 0;
  e->size = 0;
  e->crc32c = 0;
  unsigned seen = 0;  // bit per field number
  bool has_shape = false;
  while (p < limit) {
    uint32_t tag;
    if (!ReadTag(&p, limit, &tag)) return false;
    const uint32_t field = tag >> 3;
    if (field < 1 || field > 6 || (seen & (1u << field)) != 0) return false;
    seen |= 1u << field;
    uint64_t v;
    switch (tag) {
      case Tag(1, kVarint):
        if (!ReadVarint(&p, limit, &v)) return false;
        e->dtype = static_cast<int32_t>(v);  // protobuf truncates enums to 32 bits
        break;
      case Tag(2, kLengthDelimited):
        if (!ReadVarint(&p, limit, &v) || v > static_cast<uint64_t>(limit - p)) return false;
        if (!DecodeShape(p, p + v, e)) return false;
        p += v;
        has_shape = true;
        break;
      case Tag(3, kVarint):
        if (!ReadVarint(&p, limit, &v)) return false;
        e->shard_id = static_cast<int32_t>(v);
        break;
      case Tag(4, kVarint):
        if (!ReadVarint(&p, limit, &v)) return false;
        e->offset = static_cast<int64_t>(v);
        break;
      case Tag(5, kVarint):
        if (!ReadVarint(&p, limit, &v)) return false;
        e->size = static_cast<int64_t>(v);
        break;
      case Tag(6, kFixed32):
        if (limit - p < 4) return false;
        e->crc32c = DecodeFixed32(p);
        p += 4;
        break;
      default:
        return false;  // a field with an unexpected wire type
    }
  }
  (void)has_shape;  // an absent shape is a scalar, as protobuf reads it
  return true;
}

}  // namespace ckpt
