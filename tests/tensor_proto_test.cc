// TensorProto decoding of every encoding TensorFlow writes, round trips of
// every fixed-size dtype, and refusal of hostile protos.
#include "ckpt/tensor_proto.h"

#include <complex>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ckpt {
namespace {

using ::tensorflow::TensorProto;

TensorProto Proto(DType dtype, std::vector<int64_t> dims) {
  TensorProto p;
  p.set_dtype(dtype);
  for (int64_t d : dims) p.mutable_tensor_shape()->add_dim()->set_size(d);
  return p;
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  auto f = t.flat<T>();
  return std::vector<T>(f.begin(), f.end());
}

Tensor Decode(const TensorProto& p) {
  absl::StatusOr<Tensor> t = TensorFromProto(p);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : Tensor();
}

TEST(TensorProtoTest, FloatValAndScalar) {
  TensorProto p = Proto(DT_FLOAT, {});
  p.add_float_val(3.5f);
  Tensor t = Decode(p);
  EXPECT_EQ(t.dtype(), DT_FLOAT);
  EXPECT_EQ(t.shape().rank(), 0);
  EXPECT_EQ(Values<float>(t), std::vector<float>{3.5f});

  TensorProto q = Proto(DT_FLOAT, {2, 2});
  for (float v : {1.f, -2.f, 0.25f, 8.f}) q.add_float_val(v);
  EXPECT_EQ(Values<float>(Decode(q)), (std::vector<float>{1.f, -2.f, 0.25f, 8.f}));
}

TEST(TensorProtoTest, AbbreviatedFormRepeatsTheLastValue) {
  TensorProto p = Proto(DT_FLOAT, {5});
  p.add_float_val(1.f);
  p.add_float_val(2.f);
  EXPECT_EQ(Values<float>(Decode(p)), (std::vector<float>{1, 2, 2, 2, 2}));

  // No values: zeros (zeros([1000]) is stored as one 0 or as nothing).
  TensorProto z = Proto(DT_INT64, {1000});
  Tensor zt = Decode(z);
  ASSERT_EQ(zt.NumElements(), 1000);
  for (int64_t v : zt.flat<int64_t>()) ASSERT_EQ(v, 0);

  // More values than elements: the first ones are used.
  TensorProto m = Proto(DT_INT32, {2});
  for (int v : {7, 8, 9}) m.add_int_val(v);
  EXPECT_EQ(Values<int32_t>(Decode(m)), (std::vector<int32_t>{7, 8}));

  TensorProto s = Proto(DT_STRING, {3});
  s.add_string_val("a");
  s.add_string_val("bc");
  EXPECT_EQ(Decode(s).strings(), (std::vector<std::string>{"a", "bc", "bc"}));
}

TEST(TensorProtoTest, IntValNarrowTypes) {
  TensorProto i8 = Proto(DT_INT8, {3});
  for (int v : {-128, 5, 127}) i8.add_int_val(v);
  EXPECT_EQ(Values<int8_t>(Decode(i8)), (std::vector<int8_t>{-128, 5, 127}));

  TensorProto u8 = Proto(DT_UINT8, {2});
  for (int v : {255, 1}) u8.add_int_val(v);
  EXPECT_EQ(Values<uint8_t>(Decode(u8)), (std::vector<uint8_t>{255, 1}));

  TensorProto i16 = Proto(DT_INT16, {2});
  for (int v : {-30000, 2}) i16.add_int_val(v);
  EXPECT_EQ(Values<int16_t>(Decode(i16)), (std::vector<int16_t>{-30000, 2}));

  TensorProto u16 = Proto(DT_UINT16, {1});
  u16.add_int_val(65535);
  EXPECT_EQ(Values<uint16_t>(Decode(u16)), (std::vector<uint16_t>{65535}));

  TensorProto q8 = Proto(DT_QUINT8, {2});
  q8.add_int_val(200);
  EXPECT_EQ(Values<uint8_t>(Decode(q8)), (std::vector<uint8_t>{200, 200}));

  TensorProto i32 = Proto(DT_INT32, {2});
  for (int v : {-5, 2147483647}) i32.add_int_val(v);
  EXPECT_EQ(Values<int32_t>(Decode(i32)), (std::vector<int32_t>{-5, 2147483647}));
}

TEST(TensorProtoTest, WideAndUnsignedFields) {
  TensorProto d = Proto(DT_DOUBLE, {2});
  d.add_double_val(0.1);
  d.add_double_val(-1e300);
  EXPECT_EQ(Values<double>(Decode(d)), (std::vector<double>{0.1, -1e300}));

  TensorProto i64 = Proto(DT_INT64, {2});
  i64.add_int64_val(int64_t{1} << 40);
  i64.add_int64_val(-3);
  EXPECT_EQ(Values<int64_t>(Decode(i64)), (std::vector<int64_t>{int64_t{1} << 40, -3}));

  TensorProto u32 = Proto(DT_UINT32, {1});
  u32.add_uint32_val(4000000000u);
  EXPECT_EQ(Values<uint32_t>(Decode(u32)), (std::vector<uint32_t>{4000000000u}));

  TensorProto u64 = Proto(DT_UINT64, {1});
  u64.add_uint64_val(18000000000000000000ull);
  EXPECT_EQ(Values<uint64_t>(Decode(u64)), (std::vector<uint64_t>{18000000000000000000ull}));
}

TEST(TensorProtoTest, BoolVal) {
  TensorProto b = Proto(DT_BOOL, {4});
  b.add_bool_val(true);
  b.add_bool_val(false);
  b.add_bool_val(true);
  EXPECT_EQ(Values<uint8_t>(Decode(b)), (std::vector<uint8_t>{1, 0, 1, 1}));
}

TEST(TensorProtoTest, HalfValForHalfAndBfloat16) {
  // 1.0 is 0x3C00 in half and 0x3F80 in bfloat16.
  TensorProto h = Proto(DT_HALF, {2});
  h.add_half_val(0x3C00);
  h.add_half_val(0xC000);  // -2
  EXPECT_EQ(Values<uint16_t>(Decode(h)), (std::vector<uint16_t>{0x3C00, 0xC000}));

  TensorProto bf = Proto(DT_BFLOAT16, {3});
  bf.add_half_val(0x3F80);
  EXPECT_EQ(Values<uint16_t>(Decode(bf)), (std::vector<uint16_t>{0x3F80, 0x3F80, 0x3F80}));

  // Older writers kept bfloat16 bits in int_val.
  TensorProto old = Proto(DT_BFLOAT16, {1});
  old.add_int_val(0x4000);
  EXPECT_EQ(Values<uint16_t>(Decode(old)), (std::vector<uint16_t>{0x4000}));
}

TEST(TensorProtoTest, ComplexPairs) {
  TensorProto c = Proto(DT_COMPLEX64, {3});
  for (float v : {1.f, 2.f, -3.f, 4.f}) c.add_scomplex_val(v);
  using C64 = std::complex<float>;
  EXPECT_EQ(Values<C64>(Decode(c)), (std::vector<C64>{{1, 2}, {-3, 4}, {-3, 4}}));

  TensorProto z = Proto(DT_COMPLEX128, {1});
  z.add_dcomplex_val(0.5);
  z.add_dcomplex_val(-0.25);
  using C128 = std::complex<double>;
  EXPECT_EQ(Values<C128>(Decode(z)), (std::vector<C128>{{0.5, -0.25}}));
}

TEST(TensorProtoTest, Float8Val) {
  TensorProto f8 = Proto(DT_FLOAT8_E4M3FN, {3});
  f8.set_float8_val(std::string("\x38\x40", 2));
  EXPECT_EQ(Values<uint8_t>(Decode(f8)), (std::vector<uint8_t>{0x38, 0x40, 0x40}));
}

TEST(TensorProtoTest, TensorContentIsLittleEndianElementBytes) {
  TensorProto p = Proto(DT_INT32, {2});
  // 0x01020304 and -2, little-endian.
  p.set_tensor_content(std::string("\x04\x03\x02\x01\xfe\xff\xff\xff", 8));
  p.add_int_val(99);  // ignored: tensor_content wins
  EXPECT_EQ(Values<int32_t>(Decode(p)), (std::vector<int32_t>{0x01020304, -2}));

  TensorProto f = Proto(DT_FLOAT, {1});
  f.set_tensor_content(std::string("\x00\x00\xc0\x3f", 4));  // 1.5f
  EXPECT_EQ(Values<float>(Decode(f)), std::vector<float>{1.5f});
}

// Any nonzero byte is true, stored as 1.
TEST(TensorProtoTest, BoolTensorContentIsNormalized) {
  TensorProto p = Proto(DT_BOOL, {3});
  p.set_tensor_content(std::string("\x00\x01\x07", 3));
  EXPECT_EQ(Values<uint8_t>(Decode(p)), (std::vector<uint8_t>{0, 1, 1}));
}

TEST(TensorProtoTest, StringTensorContentIsVarintLengthsThenBytes) {
  TensorProto p = Proto(DT_STRING, {3});
  p.set_tensor_content(std::string("\x02\x00\x03" "ab" "xyz", 8));
  EXPECT_EQ(Decode(p).strings(), (std::vector<std::string>{"ab", "", "xyz"}));

  TensorProto bad = Proto(DT_STRING, {2});
  bad.set_tensor_content(std::string("\x02\x05" "ab", 4));  // lengths say 7 bytes follow
  absl::StatusOr<Tensor> t = TensorFromProto(bad);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);

  TensorProto too_short = Proto(DT_STRING, {3});
  too_short.set_tensor_content(std::string("\x00", 1));
  EXPECT_EQ(TensorFromProto(too_short).status().code(), absl::StatusCode::kInvalidArgument);

  TensorProto unterminated = Proto(DT_STRING, {2});
  unterminated.set_tensor_content(std::string("\x80\x80", 2));
  EXPECT_EQ(TensorFromProto(unterminated).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TensorProtoTest, EmptyTensorIgnoresValues) {
  TensorProto p = Proto(DT_FLOAT, {0, 3});
  p.add_float_val(1.f);
  Tensor t = Decode(p);
  EXPECT_EQ(t.shape(), TensorShape({0, 3}));
  EXPECT_EQ(t.NumElements(), 0);
}

TEST(TensorProtoTest, RoundTripEveryFixedSizeDType) {
  for (int v = 1; v <= DT_FLOAT4_E2M1FN; ++v) {
    DType dtype = static_cast<DType>(v);
    if (!DTypeIsFixedSize(dtype)) continue;
    Tensor t(dtype, TensorShape({2, 3}));
    ASSERT_TRUE(t.valid()) << DTypeName(dtype);
    char* raw = t.mutable_raw_data();
    // Bools are 0 or 1 (BoolTensorContentIsNormalized covers other bytes).
    for (size_t i = 0; i < t.TotalBytes(); ++i) {
      raw[i] = static_cast<char>(dtype == DT_BOOL ? i % 2 : i * 37 + v);
    }
    TensorProto p;
    ASSERT_TRUE(TensorToProto(t, &p).ok()) << DTypeName(dtype);
    EXPECT_EQ(p.dtype(), dtype);
    ASSERT_EQ(p.tensor_shape().dim_size(), 2);
    EXPECT_EQ(p.tensor_shape().dim(0).size(), 2);
    EXPECT_EQ(p.tensor_shape().dim(1).size(), 3);
    EXPECT_EQ(p.tensor_content(), std::string(raw, t.TotalBytes())) << DTypeName(dtype);
    // Wire round trip, so nothing depends on the in-memory message.
    TensorProto parsed;
    ASSERT_TRUE(parsed.ParseFromString(p.SerializeAsString()));
    Tensor back = Decode(parsed);
    EXPECT_TRUE(back.Identical(t)) << DTypeName(dtype);
  }
}

TEST(TensorProtoTest, StringRoundTripUsesStringVal) {
  Tensor t(DT_STRING, TensorShape({2}));
  (*t.mutable_strings())[0] = std::string("a\0b", 3);
  (*t.mutable_strings())[1] = "hello";
  TensorProto p;
  ASSERT_TRUE(TensorToProto(t, &p).ok());
  EXPECT_TRUE(p.tensor_content().empty());
  ASSERT_EQ(p.string_val_size(), 2);
  EXPECT_EQ(p.string_val(0), std::string("a\0b", 3));
  EXPECT_TRUE(Decode(p).Identical(t));
}

TEST(TensorProtoTest, ScalarRoundTrip) {
  Tensor t(DT_DOUBLE, TensorShape({}));
  t.mutable_flat<double>()[0] = 2.75;
  TensorProto p;
  ASSERT_TRUE(TensorToProto(t, &p).ok());
  EXPECT_EQ(p.tensor_shape().dim_size(), 0);
  EXPECT_EQ(p.tensor_content().size(), 8u);
  EXPECT_TRUE(Decode(p).Identical(t));
}

TEST(TensorProtoTest, ToProtoRefusesInvalidTensor) {
  TensorProto p;
  EXPECT_EQ(TensorToProto(Tensor(), &p).code(), absl::StatusCode::kInvalidArgument);
}

void ExpectInvalid(const TensorProto& p, const std::string& needle) {
  absl::StatusOr<Tensor> t = TensorFromProto(p);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << t.status();
  EXPECT_NE(std::string(t.status().message()).find(needle), std::string::npos)
      << t.status();
}

TEST(TensorProtoTest, HostileProtos) {
  // Element count overflows int64.
  ExpectInvalid(Proto(DT_FLOAT, {int64_t{1} << 40, int64_t{1} << 40}), "overflow");
  // Negative and unknown dimensions.
  ExpectInvalid(Proto(DT_FLOAT, {-2}), "negative");
  ExpectInvalid(Proto(DT_FLOAT, {-1, 3}), "negative");
  TensorProto unknown_rank = Proto(DT_FLOAT, {});
  unknown_rank.mutable_tensor_shape()->set_unknown_rank(true);
  ExpectInvalid(unknown_rank, "unknown rank");
  // A single value expanded to 2^30 floats (4 GiB) is refused before
  // allocating; so is 2^60 elements.
  TensorProto big = Proto(DT_FLOAT, {int64_t{1} << 30});
  big.add_float_val(1.f);
  ExpectInvalid(big, "exceeds the limit");
  ExpectInvalid(Proto(DT_INT8, {int64_t{1} << 60}), "exceeds the limit");
  TensorProto big_strings = Proto(DT_STRING, {int64_t{1} << 28});
  big_strings.add_string_val("x");
  ExpectInvalid(big_strings, "exceeds the limit");
  // Just under the limit in count but long strings repeated past it.
  TensorProto long_strings = Proto(DT_STRING, {1 << 20});
  long_strings.add_string_val(std::string(4096, 'y'));
  ExpectInvalid(long_strings, "exceeds");
  // Content size mismatches.
  TensorProto short_content = Proto(DT_FLOAT, {3});
  short_content.set_tensor_content(std::string(8, '\0'));
  ExpectInvalid(short_content, "tensor_content has 8 bytes");
  TensorProto long_content = Proto(DT_INT64, {1});
  long_content.set_tensor_content(std::string(9, '\0'));
  ExpectInvalid(long_content, "needs 8");
  // dtypes.
  ExpectInvalid(Proto(DT_INVALID, {1}), "dtype is not set");
  ExpectInvalid(Proto(static_cast<DType>(77), {1}), "unknown dtype 77");
  ExpectInvalid(Proto(static_cast<DType>(101), {1}), "reference dtype");
  EXPECT_EQ(TensorFromProto(Proto(DT_RESOURCE, {1})).status().code(),
            absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace ckpt
