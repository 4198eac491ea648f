// DType names and sizes, shape validation, Tensor ownership and views, and
// checkpoint file naming.
#include <limits>

#include "ckpt/dtype.h"
#include "ckpt/naming.h"
#include "ckpt/tensor.h"
#include "gtest/gtest.h"

namespace ckpt {
namespace {

TEST(DTypeTest, SizesAndNamesOfEveryType) {
  struct Row {
    DType d;
    size_t size;
    const char* name;
  };
  const Row rows[] = {
      {DT_FLOAT, 4, "float32"},      {DT_DOUBLE, 8, "float64"},       {DT_INT32, 4, "int32"},
      {DT_UINT8, 1, "uint8"},        {DT_INT16, 2, "int16"},          {DT_INT8, 1, "int8"},
      {DT_STRING, 0, "string"},      {DT_COMPLEX64, 8, "complex64"},  {DT_INT64, 8, "int64"},
      {DT_BOOL, 1, "bool"},          {DT_QINT8, 1, "qint8"},          {DT_QUINT8, 1, "quint8"},
      {DT_QINT32, 4, "qint32"},      {DT_BFLOAT16, 2, "bfloat16"},    {DT_QINT16, 2, "qint16"},
      {DT_QUINT16, 2, "quint16"},    {DT_UINT16, 2, "uint16"},        {DT_COMPLEX128, 16, "complex128"},
      {DT_HALF, 2, "float16"},       {DT_RESOURCE, 0, "resource"},    {DT_VARIANT, 0, "variant"},
      {DT_UINT32, 4, "uint32"},      {DT_UINT64, 8, "uint64"},        {DT_FLOAT8_E5M2, 1, "float8_e5m2"},
      {DT_FLOAT8_E4M3FN, 1, "float8_e4m3fn"}, {DT_FLOAT8_E4M3FNUZ, 1, "float8_e4m3fnuz"},
      {DT_FLOAT8_E4M3B11FNUZ, 1, "float8_e4m3b11fnuz"}, {DT_FLOAT8_E5M2FNUZ, 1, "float8_e5m2fnuz"},
      {DT_INT4, 1, "int4"},          {DT_UINT4, 1, "uint4"},          {DT_INT2, 1, "int2"},
      {DT_UINT2, 1, "uint2"},        {DT_FLOAT4_E2M1FN, 1, "float4_e2m1fn"},
  };
  EXPECT_EQ(sizeof(rows) / sizeof(rows[0]), 33u);
  for (const Row& r : rows) {
    EXPECT_EQ(DTypeSize(r.d), r.size) << r.name;
    EXPECT_EQ(DTypeName(r.d), r.name);
    auto back = DTypeFromName(r.name);
    ASSERT_TRUE(back.ok()) << r.name;
    EXPECT_EQ(*back, r.d);
    EXPECT_TRUE(DTypeIsKnown(r.d));
  }
  EXPECT_EQ(*DTypeFromName("DT_HALF"), DT_HALF);
  EXPECT_EQ(*DTypeFromName("half"), DT_HALF);
  EXPECT_EQ(DTypeName(static_cast<DType>(101)), "float32_ref");
  EXPECT_EQ(DTypeName(static_cast<DType>(77)), "dtype(77)");
  EXPECT_FALSE(DTypeIsKnown(77));
  EXPECT_FALSE(DTypeFromName("float33").ok());
  // Complex types swap per component; float8 cannot be swapped.
  EXPECT_EQ(DTypeSwapUnit(DT_COMPLEX128), 8u);
  EXPECT_EQ(DTypeSwapUnit(DT_FLOAT8_E5M2), 0u);
}

TEST(TensorShapeTest, Validation) {
  EXPECT_EQ(TensorShape().num_elements(), 1);
  EXPECT_EQ(TensorShape({2, 3}).num_elements(), 6);
  EXPECT_EQ(TensorShape({0, 5}).num_elements(), 0);
  EXPECT_FALSE(TensorShape({-1}).valid());
  EXPECT_FALSE(TensorShape::FromDims({-3}).ok());
  const int64_t big = std::numeric_limits<int64_t>::max() / 2;
  EXPECT_FALSE(TensorShape::FromDims({big, 3}).ok());
  EXPECT_FALSE(TensorShape::FromDims(std::vector<int64_t>(255, 1)).ok());
  EXPECT_TRUE(TensorShape::FromDims(std::vector<int64_t>(254, 1)).ok());
  tensorflow::TensorShapeProto p;
  TensorShape({3, 0}).ToProto(&p);
  // Canonical bytes: a size of 0 is omitted, the Dim is still present.
  EXPECT_EQ(p.SerializeAsString(), std::string("\x12\x02\x08\x03\x12\x00", 6));
  p.set_unknown_rank(true);
  EXPECT_FALSE(TensorShape::FromProto(p).ok());
  EXPECT_EQ(TensorShape({2, 3}).DebugString(), "[2,3]");
}

TEST(TensorTest, OwningCopiesShareAndCloneSeparates) {
  Tensor a(DT_INT32, TensorShape({4}));
  ASSERT_TRUE(a.valid());
  for (int32_t x : a.flat<int32_t>()) EXPECT_EQ(x, 0);
  Tensor b = a;
  b.mutable_flat<int32_t>()[0] = 7;
  EXPECT_EQ(a.flat<int32_t>()[0], 7);
  Tensor c = a.Clone();
  c.mutable_flat<int32_t>()[0] = 8;
  EXPECT_EQ(a.flat<int32_t>()[0], 7);
  EXPECT_FALSE(c.Identical(a));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.raw_data()) % 64, 0u);
  EXPECT_TRUE(a.flat<int64_t>().empty());  // wrong element width
}

TEST(TensorTest, ViewsAreReadOnlyAndKeepTheirOwnerAlive) {
  auto owner = std::make_shared<std::vector<float>>(std::vector<float>{1, 2, 3});
  auto view = Tensor::View(DT_FLOAT, TensorShape({3}), owner->data(), owner);
  ASSERT_TRUE(view.ok());
  std::weak_ptr<std::vector<float>> weak = owner;
  owner.reset();
  EXPECT_FALSE(weak.expired());
  EXPECT_EQ(view->flat<float>()[2], 3.0f);
  EXPECT_EQ(view->mutable_raw_data(), nullptr);
  EXPECT_TRUE(view->mutable_flat<float>().empty());
  EXPECT_FALSE(Tensor::View(DT_STRING, TensorShape({1}), nullptr, nullptr).ok());
}

TEST(TensorTest, RefusesWhatItCannotHold) {
  EXPECT_FALSE(Tensor(DT_VARIANT, TensorShape({1})).valid());
  EXPECT_EQ(Tensor::Allocate(DT_VARIANT, TensorShape({1})).status().code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_FALSE(Tensor::Allocate(DT_FLOAT, TensorShape({-1})).ok());
  EXPECT_EQ(Tensor::Allocate(DT_DOUBLE, TensorShape({int64_t{1} << 60, 2})).status().code(),
            absl::StatusCode::kResourceExhausted);
  Tensor s(DT_STRING, TensorShape({2, 2}));
  EXPECT_EQ(s.strings().size(), 4u);
  EXPECT_EQ(s.TotalBytes(), 0u);
}

TEST(NamingTest, FileNames) {
  EXPECT_EQ(IndexFilename("d/m"), "d/m.index");
  EXPECT_EQ(DataFilename("d/m", 0, 1), "d/m.data-00000-of-00001");
  EXPECT_EQ(DataFilename("m", 12, 100000), "m.data-00012-of-100000");
  EXPECT_EQ(MetaFilename("d/model.ckpt-1000"), "d/model.ckpt-1000.meta");
  EXPECT_EQ(MetaFilename("d/model.ckpt-00001-of-00004"), "d/model.ckpt.meta");
  EXPECT_EQ(MetaFilename("d/model.ckpt-?\?\?\?\?-of-00004"), "d/model.ckpt.meta");
  EXPECT_EQ(MetaFilename("d/model-of-x"), "d/model-of-x.meta");
}

}  // namespace
}  // namespace ckpt
