#include "util/v1_writer.h"

#include <memory>

#include "ckpt/bundle/slice_key.h"
#include "ckpt/tensor_slice.h"
#include "gtest/gtest.h"
#include "leveldb/env.h"
#include "leveldb/options.h"
#include "leveldb/table_builder.h"

namespace ckpt {
namespace testing {

V1FileBuilder::V1FileBuilder() { meta_.mutable_versions()->set_producer(1); }

std::string V1FileBuilder::Key(const std::string& name, const std::string& spec) {
  absl::StatusOr<TensorSlice> slice = TensorSlice::Parse(spec);
  EXPECT_TRUE(slice.ok()) << spec << ": " << slice.status();
  return EncodeTensorNameSlice(name, slice.ok() ? *slice : TensorSlice());
}

void V1FileBuilder::Add(const std::string& name, DType dtype, const std::vector<int64_t>& dims,
                        const std::string& spec, const ::tensorflow::TensorProto& values) {
  ::tensorflow::SavedSliceMeta* m = nullptr;
  for (auto& t : *meta_.mutable_tensor()) {
    if (t.name() == name) m = &t;
  }
  if (m == nullptr) {
    m = meta_.add_tensor();
    m->set_name(name);
    m->set_type(dtype);
    for (int64_t d : dims) m->mutable_shape()->add_dim()->set_size(d);
  }
  absl::StatusOr<TensorSlice> slice = TensorSlice::Parse(spec);
  ASSERT_TRUE(slice.ok()) << spec << ": " << slice.status();
  slice->ToProto(m->add_slice());
  ::tensorflow::SavedTensorSlices record;
  record.mutable_data()->set_name(name);
  slice->ToProto(record.mutable_data()->mutable_slice());
  *record.mutable_data()->mutable_data() = values;
  records_[EncodeTensorNameSlice(name, *slice)] = record.SerializeAsString();
}

void V1FileBuilder::Write(const std::string& path, bool snappy) const {
  leveldb::WritableFile* raw = nullptr;
  ASSERT_TRUE(leveldb::Env::Default()->NewWritableFile(path, &raw).ok()) << path;
  std::unique_ptr<leveldb::WritableFile> file(raw);
  leveldb::Options options;
  options.compression = snappy ? leveldb::kSnappyCompression : leveldb::kNoCompression;
  leveldb::TableBuilder builder(options, file.get());
  ::tensorflow::SavedTensorSlices head;
  *head.mutable_meta() = meta_;
  // "" sorts first; the records' keys all start with byte 0 and follow it.
  if (records_.count("") == 0 && !omit_meta_) builder.Add("", head.SerializeAsString());
  for (const auto& [key, value] : records_) builder.Add(key, value);
  ASSERT_TRUE(builder.Finish().ok()) << path;
  ASSERT_TRUE(file->Close().ok()) << path;
}

::tensorflow::TensorProto FloatValues(std::initializer_list<float> values) {
  ::tensorflow::TensorProto p;
  for (float v : values) p.add_float_val(v);
  return p;
}

std::string WriteShardedV1Sample(const std::string& dir) {
  V1FileBuilder s0, s1;
  s0.Add("w", DT_FLOAT, {4, 3}, "0,2:-", FloatValues({0, 1, 2, 3, 4, 5}));
  s1.Add("w", DT_FLOAT, {4, 3}, "2,2:-", FloatValues({6, 7, 8, 9, 10, 11}));
  ::tensorflow::TensorProto step;
  step.add_int64_val(1000);
  s1.Add("global_step", DT_INT64, {}, "", step);
  const std::string prefix = dir + "/model.ckpt-1000";
  s0.Write(prefix + "-00000-of-00002");
  s1.Write(prefix + "-00001-of-00002");
  return prefix;
}

}  // namespace testing
}  // namespace ckpt
