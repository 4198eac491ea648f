// The BundleEntryProto records of the .index file, encoded and decoded
// without building protobuf messages.
//
// Why by hand: a checkpoint of 100,000 small tensors has 100,000 records,
// and going through protobuf objects (a BundleEntryProto with its nested
// TensorShapeProto and Dim messages, each allocated, then serialized into a
// fresh string) cost about 1.5 us per record on each side, more than all the
// rest of saving or opening such a checkpoint. The wire format of these six
// scalar fields is small and fixed (FORMAT.md section 3), so the writer
// encodes them directly and the reader decodes them directly.
//
// The encoder produces exactly the bytes protobuf's serializer produces for
// the same record (fields in number order, proto3 defaults left out, the
// shape message always present): tests compare the two on many records.
//
// The decoder is a fast path, not a second parser: it accepts only records
// made of the fields 1..6 with their proper wire types, the shape holding
// nothing but dimension sizes, each field at most once. Anything else (a
// partitioned tensor's `slices`, dimension names, unknown fields, a repeated
// field, a malformed varint, a rank above the limit) makes it return false,
// and the caller parses that record with protobuf instead. So for every
// input either both agree or the fast path stays out of it (tested on
// mutated records).
#ifndef CKPT_BUNDLE_ENTRY_CODEC_H_
#define CKPT_BUNDLE_ENTRY_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ckpt/dtype.h"
#include "ckpt/tensor_shape.h"

namespace ckpt {

// The fields of a record of an unpartitioned tensor.
struct PlainEntry {
  int32_t dtype = 0;  // as stored: may be a value this build does not know
  int rank = 0;
  int64_t dims[TensorShape::kMaxRank];  // the first `rank` are set
  int32_t shard_id = 0;
  int64_t offset = 0;
  int64_t size = 0;
  uint32_t crc32c = 0;  // masked, as stored
};

// Appends the serialized BundleEntryProto {dtype, shape{dims}, shard_id,
// offset, size, crc32c} to *out.
void AppendPlainEntry(DType dtype, absl::Span<const int64_t> dims, int32_t shard_id,
                      int64_t offset, int64_t size, uint32_t crc32c, std::string* out);

// Decodes `record` into *entry when it is a plain record (see above);
// false when the caller must use protobuf.
bool DecodePlainEntry(absl::string_view record, PlainEntry* entry);

}  // namespace ckpt

#endif  // CKPT_BUNDLE_ENTRY_CODEC_H_
