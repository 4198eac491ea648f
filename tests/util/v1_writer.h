// Writes V1 checkpoint files (TensorFlow's pre-0.12 format) for tests, with
// LevelDB's own TableBuilder: an independent writer of the table format, so
// that the reader is not only ever tested against itself.
#ifndef CKPT_TESTS_UTIL_V1_WRITER_H_
#define CKPT_TESTS_UTIL_V1_WRITER_H_

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "ckpt/dtype.h"
#include "saved_tensor_slice.pb.h"
#include "tensor.pb.h"

namespace ckpt {
namespace testing {

class V1FileBuilder {
 public:
  V1FileBuilder();
  // Lists `name` (dtype, full shape) in the table of contents on first use,
  // adds slice `spec` (TensorSlice::Parse spelling: "-:0,2", "" for a
  // scalar) to it, and stores `values` (typed *_val fields, dtype and shape
  // unset, as TensorFlow wrote them) in that slice's record.
  void Add(const std::string& name, DType dtype, const std::vector<int64_t>& dims,
           const std::string& spec, const ::tensorflow::TensorProto& values);
  // For hostile variants: the table of contents and the records (by key;
  // a record under the empty key replaces the one Write makes from meta()).
  ::tensorflow::SavedTensorSliceMeta* meta() { return &meta_; }
  std::map<std::string, std::string>* records() { return &records_; }
  // Writes no record under the empty key (a table that is not a V1 file).
  void OmitMeta() { omit_meta_ = true; }
  // The record key of slice `spec` of `name`.
  static std::string Key(const std::string& name, const std::string& spec);
  // Writes the table (Snappy-compressing the blocks where that pays when
  // `snappy`). Fails the test on error.
  void Write(const std::string& path, bool snappy = false) const;

 private:
  ::tensorflow::SavedTensorSliceMeta meta_;
  std::map<std::string, std::string> records_;
  bool omit_meta_ = false;
};

// Float values for V1FileBuilder::Add.
::tensorflow::TensorProto FloatValues(std::initializer_list<float> values);

// A sharded V1 checkpoint `dir`/model.ckpt-1000 (returned), in two files:
// float32 w [4,3] = 0..11 row-major, saved as rows 0-1 in shard 0 and rows
// 2-3 in shard 1, and int64 global_step = 1000 in shard 1.
std::string WriteShardedV1Sample(const std::string& dir);

}  // namespace testing
}  // namespace ckpt

#endif  // CKPT_TESTS_UTIL_V1_WRITER_H_
