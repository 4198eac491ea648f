#include "checksum_repair.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "ckpt/bundle/index_table.h"
#include "ckpt/bundle/string_codec.h"
#include "ckpt/crc32c.h"
#include "ckpt/dtype.h"
#include "ckpt/io/coding.h"
#include "memory_env.h"
#include "tensor_bundle.pb.h"

namespace ckpt {
namespace fuzz {
namespace {

struct Handle {
  uint64_t offset = 0, size = 0;
};

const char* DecodeHandle(const char* p, const char* limit, Handle* h) {
  p = GetVarint64(p, limit, &h->offset);
  return p == nullptr ? nullptr : GetVarint64(p, limit, &h->size);
}

// Rewrites the 5-byte trailer's CRC (over the block and its type byte).
void RepairBlock(std::string* t, const Handle& h, uint64_t limit) {
  if (h.offset > limit || h.size > limit - h.offset ||
      kBlockTrailerSize > limit - h.offset - h.size) {
    return;
  }
  char* block = t->data() + h.offset;
  uint32_t crc = crc32c::Extend(crc32c::Value(block, h.size), block + h.size, 1);
  EncodeFixed32(block + h.size + 1, crc32c::Mask(crc));
}

// The handles stored as values of an (uncompressed) index block.
std::vector<Handle> IndexBlockHandles(const std::string& t, const Handle& h, uint64_t limit) {
  std::vector<Handle> out;
  if (h.offset > limit || h.size > limit - h.offset || h.size < 4) return out;
  const char* base = t.data() + h.offset;
  const uint32_t restarts = DecodeFixed32(base + h.size - 4);
  if (restarts > (h.size - 4) / 4) return out;
  const char* limit_p = base + h.size - 4 - 4 * uint64_t{restarts};
  for (const char* p = base; p < limit_p;) {
    uint32_t shared, non_shared, value_len;
    const char* q = GetVarint32(p, limit_p, &shared);
    if (q) q = GetVarint32(q, limit_p, &non_shared);
    if (q) q = GetVarint32(q, limit_p, &value_len);
    if (q == nullptr || uint64_t{non_shared} + value_len > static_cast<uint64_t>(limit_p - q)) break;
    const char* v = q + non_shared;
    Handle d;
    if (DecodeHandle(v, v + value_len, &d) != nullptr) out.push_back(d);
    p = v + value_len;
  }
  return out;
}

// A string tensor's stored form made self-consistent: the length checksum
// in `stored` is rewritten, and the entry CRC returned. False when the
// lengths do not describe the bytes.
bool RepairStrings(char* stored, uint64_t size, int64_t n, bool big_endian, uint32_t* masked) {
  if (n < 0 || static_cast<uint64_t>(n) > size) return false;
  const char* p = stored;
  const char* limit = stored + size;
  std::vector<uint64_t> lengths(static_cast<size_t>(n));
  uint64_t total = 0;
  for (auto& len : lengths) {
    p = GetVarint64(p, limit, &len);
    if (p == nullptr || len > size || total + len > size) return false;
    total += len;
  }
  if (limit - p < 4 || static_cast<uint64_t>(limit - p - 4) != total) return false;
  std::vector<std::string> elements;
  const char* bytes = p + 4;
  for (uint64_t len : lengths) {
    elements.emplace_back(bytes, len);
    bytes += len;
  }
  std::string header;
  uint32_t crc = 0;
  EncodeStringHeader(elements, big_endian, &header, &crc);
  std::memcpy(const_cast<char*>(p), header.data() + header.size() - 4, 4);
  crc = crc32c::Extend(crc, p + 4, total);
  *masked = crc32c::Mask(crc);
  return true;
}

}  // namespace

void RepairTableChecksums(std::string* table) {
  if (table->size() < kFooterSize) return;
  const uint64_t body = table->size() - kFooterSize;
  const char* footer = table->data() + body;
  Handle meta, index;
  const char* p = DecodeHandle(footer, footer + 40, &meta);
  if (p == nullptr || DecodeHandle(p, footer + 40, &index) == nullptr) return;
  for (const Handle& d : IndexBlockHandles(*table, index, body)) RepairBlock(table, d, body);
  RepairBlock(table, index, body);  // last: a data trailer may lie inside it
}

void RepairBundleChecksums(std::string* index, std::string* data) {
  RepairTableChecksums(index);
  MemoryEnv env;
  env.SetFile("/repair/in.index", *index);
  auto file = env.NewReadOnlyFile("/repair/in.index");
  if (!file.ok()) return;
  auto table = IndexTable::Open(*std::move(file));
  if (!table.ok() || (*table)->size() == 0) return;

  tensorflow::BundleHeaderProto header;
  header.ParseFromArray((*table)->value(0).data(), static_cast<int>((*table)->value(0).size()));
  const bool big = header.endianness() == tensorflow::BundleHeaderProto::BIG;

  auto out = env.NewWritableFile("/repair/out.index");
  if (!out.ok()) return;
  {
    IndexTableWriter writer(out->get());
    for (size_t i = 0; i < (*table)->size(); ++i) {
      std::string value((*table)->value(i));
      tensorflow::BundleEntryProto e;
      if (i > 0 && e.ParseFromString(value) && e.offset() >= 0 && e.size() >= 0 &&
          static_cast<uint64_t>(e.offset()) <= data->size() &&
          static_cast<uint64_t>(e.size()) <= data->size() - e.offset()) {
        char* payload = data->data() + e.offset();
        if (e.dtype() == DT_STRING) {
          int64_t n = 1;
          bool ok = true;
          for (const auto& d : e.shape().dim()) {
            if (d.size() < 0 || (d.size() > 0 && n > (int64_t{1} << 40) / d.size())) ok = false;
            n *= ok ? d.size() : 1;
          }
          uint32_t masked = 0;
          if (ok && RepairStrings(payload, e.size(), n, big, &masked)) e.set_crc32c(masked);
        } else {
          e.set_crc32c(crc32c::Mask(crc32c::Value(payload, e.size())));
        }
        value = e.SerializeAsString();
      }
      if (!writer.Add((*table)->key(i), value).ok()) return;
    }
    if (!writer.Finish().ok()) return;
  }
  auto written = ReadFileToString(&env, "/repair/out.index");
  if (written.ok()) *index = *std::move(written);
}

}  // namespace fuzz
}  // namespace ckpt
