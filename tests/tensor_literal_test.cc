// Command-line tensor literals, dtype conversion and shape fitting.
#include "common/tensor_literal.h"

#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace ckpt {
namespace tools {
namespace {

Tensor Parse(const std::string& text, DType dtype = DT_INVALID) {
  absl::StatusOr<Tensor> t = ParseTensorLiteral(text, dtype);
  EXPECT_TRUE(t.ok()) << text << ": " << t.status();
  return t.ok() ? *t : Tensor();
}

// The error for `text`, which must fail with InvalidArgument.
std::string Error(const std::string& text, DType dtype = DT_INVALID) {
  absl::StatusOr<Tensor> t = ParseTensorLiteral(text, dtype);
  EXPECT_FALSE(t.ok()) << text << " parsed as " << (t.ok() ? t->DebugString() : "");
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << t.status();
  return std::string(t.status().message());
}

TEST(TensorLiteralTest, NestedListsGiveShapes) {
  Tensor t = Parse("[[1],[2],[5]]", DT_FLOAT);
  ASSERT_EQ(t.dtype(), DT_FLOAT);
  EXPECT_EQ(t.shape(), TensorShape({3, 1}));
  EXPECT_EQ(t.flat<float>()[0], 1.0f);
  EXPECT_EQ(t.flat<float>()[1], 2.0f);
  EXPECT_EQ(t.flat<float>()[2], 5.0f);

  t = Parse(" [ [1, 2, 3] , [4,5,6,] ] ", DT_INT32);
  EXPECT_EQ(t.shape(), TensorShape({2, 3}));
  EXPECT_EQ(t.flat<int32_t>()[5], 6);

  t = Parse("3.5");
  EXPECT_EQ(t.dtype(), DT_FLOAT);  // inferred default
  EXPECT_EQ(t.shape(), TensorShape({}));
  EXPECT_EQ(t.flat<float>()[0], 3.5f);

  t = Parse("[1, 2, 3]");
  EXPECT_EQ(t.dtype(), DT_FLOAT);
  EXPECT_EQ(t.shape(), TensorShape({3}));

  t = Parse("[]");
  EXPECT_EQ(t.dtype(), DT_FLOAT);
  EXPECT_EQ(t.shape(), TensorShape({0}));
  t = Parse("[[], []]", DT_INT64);
  EXPECT_EQ(t.shape(), TensorShape({2, 0}));
  t = Parse("[[[1e3]]]", DT_DOUBLE);
  EXPECT_EQ(t.shape(), TensorShape({1, 1, 1}));
  EXPECT_EQ(t.flat<double>()[0], 1000.0);
}

TEST(TensorLiteralTest, SpecialFloatsBoolsAndStrings) {
  Tensor t = Parse("[nan, -inf, +Infinity, -0.0, .5, 5., 1E-2]", DT_DOUBLE);
  auto v = t.flat<double>();
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(v[1], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(v[2], std::numeric_limits<double>::infinity());
  EXPECT_TRUE(v[3] == 0.0 && std::signbit(v[3]));
  EXPECT_EQ(v[4], 0.5);
  EXPECT_EQ(v[5], 5.0);
  EXPECT_EQ(v[6], 0.01);
  t = Parse("-inf");
  EXPECT_EQ(t.flat<float>()[0], -std::numeric_limits<float>::infinity());
  // float32 values are rounded from the float64 NumPy would make first.
  t = Parse("0.1", DT_FLOAT);
  EXPECT_EQ(t.flat<float>()[0], static_cast<float>(0.1));

  t = Parse("[true, false, True]");
  ASSERT_EQ(t.dtype(), DT_BOOL);
  EXPECT_EQ(t.flat<uint8_t>()[0], 1);
  EXPECT_EQ(t.flat<uint8_t>()[1], 0);
  EXPECT_EQ(t.flat<uint8_t>()[2], 1);
  t = Parse("[1, 0]", DT_BOOL);
  EXPECT_EQ(t.flat<uint8_t>()[0], 1);
  t = Parse("[true, false]", DT_FLOAT);
  EXPECT_EQ(t.flat<float>()[0], 1.0f);

  t = Parse(R"(["a", 'b c', b"x\x00y\n", "it's", 'say \"hi\"'])");
  ASSERT_EQ(t.dtype(), DT_STRING);
  EXPECT_EQ(t.strings()[0], "a");
  EXPECT_EQ(t.strings()[1], "b c");
  EXPECT_EQ(t.strings()[2], std::string("x\0y\n", 4));
  EXPECT_EQ(t.strings()[3], "it's");
  EXPECT_EQ(t.strings()[4], "say \"hi\"");
}

TEST(TensorLiteralTest, ComplexNumbers) {
  Tensor t = Parse("[1+2j, 3j, (4-1.5j), -2]");
  ASSERT_EQ(t.dtype(), DT_COMPLEX64);
  auto v = t.flat<std::complex<float>>();
  EXPECT_EQ(v[0], std::complex<float>(1, 2));
  EXPECT_EQ(v[1], std::complex<float>(0, 3));
  EXPECT_EQ(v[2], std::complex<float>(4, -1.5));
  EXPECT_EQ(v[3], std::complex<float>(-2, 0));
  t = Parse("(1 + 2j)", DT_COMPLEX128);
  EXPECT_EQ(t.flat<std::complex<double>>()[0], std::complex<double>(1, 2));
  EXPECT_NE(Error("1+2j", DT_FLOAT).find("complex"), std::string::npos);
}

TEST(TensorLiteralTest, IntegerRangesAreExact) {
  EXPECT_EQ(Parse("9223372036854775807", DT_INT64).flat<int64_t>()[0],
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Parse("-9223372036854775808", DT_INT64).flat<int64_t>()[0],
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Parse("18446744073709551615", DT_UINT64).flat<uint64_t>()[0],
            std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(Parse("[255, 0]", DT_UINT8).flat<uint8_t>()[0], 255);
  EXPECT_EQ(Parse("[-128]", DT_INT8).flat<int8_t>()[0], -128);
  EXPECT_EQ(Parse("2.0", DT_INT32).flat<int32_t>()[0], 2);
  EXPECT_EQ(Parse("1e3", DT_INT16).flat<int16_t>()[0], 1000);

  std::string e = Error("[1, 300]", DT_UINT8);
  EXPECT_NE(e.find("'300' at character 5 is out of range (dtype uint8)"), std::string::npos) << e;
  e = Error("9223372036854775808", DT_INT64);
  EXPECT_NE(e.find("out of range"), std::string::npos) << e;
  e = Error("-1", DT_UINT32);
  EXPECT_NE(e.find("out of range"), std::string::npos) << e;
  e = Error("[2.5]", DT_INT32);
  EXPECT_NE(e.find("'2.5' at character 2 is not a whole number (dtype int32)"), std::string::npos) << e;
  e = Error("nan", DT_INT64);
  EXPECT_NE(e.find("not a whole number"), std::string::npos) << e;
  e = Error("[2]", DT_BOOL);
  EXPECT_NE(e.find("not true, false, 0 or 1"), std::string::npos) << e;
}

TEST(TensorLiteralTest, HalfAndBFloat16RoundToNearestEven) {
  Tensor t = Parse("[1, 0.1, -2, 65504, 65519, 65520, 5.960464477539063e-08, 2.9802322387695312e-08, "
                   "4.470348358154297e-08, 1e-10, nan, -inf]",
                   DT_HALF);
  auto v = t.flat<uint16_t>();
  EXPECT_EQ(v[0], 0x3c00);
  EXPECT_EQ(v[1], 0x2e66);   // 0.0999755859375
  EXPECT_EQ(v[2], 0xc000);
  EXPECT_EQ(v[3], 0x7bff);   // largest half
  EXPECT_EQ(v[4], 0x7bff);   // below the midpoint to 2^16
  EXPECT_EQ(v[5], 0x7c00);   // the midpoint rounds to even: infinity
  EXPECT_EQ(v[6], 0x0001);   // 2^-24, smallest subnormal
  EXPECT_EQ(v[7], 0x0000);   // 2^-25, a tie, rounds to even zero
  EXPECT_EQ(v[8], 0x0001);   // 1.5 * 2^-25 rounds up
  EXPECT_EQ(v[9], 0x0000);
  EXPECT_EQ(v[10] & 0x7c00, 0x7c00);
  EXPECT_NE(v[10] & 0x03ff, 0);
  EXPECT_EQ(v[11], 0xfc00);

  EXPECT_EQ(DoubleToBFloat16Bits(1.0), 0x3f80);
  EXPECT_EQ(DoubleToBFloat16Bits(0.1), 0x3dcd);   // float 0x3dcccccd rounded up
  EXPECT_EQ(DoubleToBFloat16Bits(-3.0), 0xc040);
  EXPECT_EQ(DoubleToBFloat16Bits(1.00390625), 0x3f80);  // 1 + 2^-8: a tie, to even
  EXPECT_EQ(DoubleToBFloat16Bits(1.01171875), 0x3f82);  // 1 + 3*2^-8: a tie, to even
  EXPECT_EQ(DoubleToBFloat16Bits(1e39), 0x7f80);
  EXPECT_EQ(DoubleToHalfBits(-0.0), 0x8000);
}

TEST(TensorLiteralTest, RaggedAndMalformedListsNameThePosition) {
  std::string e = Error("[[1,2],[3]]");
  EXPECT_NE(e.find("ragged list"), std::string::npos) << e;
  EXPECT_NE(e.find("shape [1] but the first one is shape [2] at character 8"), std::string::npos) << e;
  e = Error("[1, [2]]");
  EXPECT_NE(e.find("is shape [1] but the first one is a scalar at character 5"), std::string::npos) << e;
  e = Error("[[1], 2]");
  EXPECT_NE(e.find("character 7"), std::string::npos) << e;
  e = Error("[1, 2");
  EXPECT_NE(e.find("missing ']'"), std::string::npos) << e;
  e = Error("[1 2]");
  EXPECT_NE(e.find("expected ',' or ']' at character 4"), std::string::npos) << e;
  e = Error("[1,,2]");
  EXPECT_NE(e.find("character 4"), std::string::npos) << e;
  e = Error("[1] x");
  EXPECT_NE(e.find("unexpected 'x' at character 5"), std::string::npos) << e;
  e = Error("[abc]");
  EXPECT_NE(e.find("unknown word 'abc' (strings need quotes: \"abc\") at character 2"), std::string::npos) << e;
  e = Error("0x10");
  EXPECT_NE(e.find("character 2"), std::string::npos) << e;
  e = Error("'open");
  EXPECT_NE(e.find("unterminated string"), std::string::npos) << e;
  e = Error(R"("\q")");
  EXPECT_NE(e.find("unknown escape"), std::string::npos) << e;
  e = Error("1e");
  EXPECT_NE(e.find("exponent"), std::string::npos) << e;
  e = Error("   ");
  EXPECT_NE(e.find("empty"), std::string::npos) << e;
  e = Error("[1, \"a\"]");
  EXPECT_NE(e.find("mixes strings and numbers"), std::string::npos) << e;
  e = Error("[\"a\"]", DT_FLOAT);
  EXPECT_NE(e.find("is a string, not a number (dtype float32)"), std::string::npos) << e;
  e = Error("[1]", DT_STRING);
  EXPECT_NE(e.find("is not a quoted string"), std::string::npos) << e;
  // Nesting deeper than any tensor's rank is refused, not a stack overflow.
  e = Error(std::string(100000, '['));
  EXPECT_NE(e.find("nested too deeply"), std::string::npos) << e;
  EXPECT_EQ(ParseTensorLiteral("[1]", DT_QINT8).status().code(), absl::StatusCode::kUnimplemented);
}

TEST(TensorLiteralTest, FitToShapeChecksAndReshapesFlatValues) {
  Tensor flat = Parse("[1, 2, 5]");
  absl::StatusOr<Tensor> fit = FitToShape(flat, PartialShape({-1, 1}));
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_EQ(fit->shape(), TensorShape({3, 1}));
  EXPECT_EQ(fit->flat<float>()[2], 5.0f);

  fit = FitToShape(Parse("[1, 2, 3, 4]", DT_INT32), PartialShape({2, 2}));
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_EQ(fit->shape(), TensorShape({2, 2}));
  EXPECT_EQ(fit->flat<int32_t>()[3], 4);

  fit = FitToShape(Parse("7"), PartialShape({-1, 1}));
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_EQ(fit->shape(), TensorShape({1, 1}));

  fit = FitToShape(Parse("[\"a\", \"b\"]"), PartialShape({2, -1}));
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_EQ(fit->shape(), TensorShape({2, 1}));
  EXPECT_EQ(fit->strings()[1], "b");

  // Compatible values and unknown ranks pass unchanged.
  Tensor m = Parse("[[1, 2]]");
  fit = FitToShape(m, PartialShape({-1, 2}));
  ASSERT_TRUE(fit.ok());
  EXPECT_EQ(fit->shape(), TensorShape({1, 2}));
  fit = FitToShape(m, PartialShape());
  ASSERT_TRUE(fit.ok());
  EXPECT_EQ(fit->shape(), TensorShape({1, 2}));

  // Values that do not fit.
  for (const auto& [value, shape] : {std::make_pair(std::string("[[1, 2]]"), PartialShape({-1, 1})),
                                     std::make_pair(std::string("[1, 2, 3]"), PartialShape({-1, 2})),
                                     std::make_pair(std::string("[1, 2, 3]"), PartialShape({2, 2})),
                                     std::make_pair(std::string("[1, 2]"), PartialShape({-1, -1})),
                                     std::make_pair(std::string("[1, 2]"), PartialShape({0, -1}))}) {
    absl::StatusOr<Tensor> r = FitToShape(Parse(value), shape);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << value << " " << shape.DebugString();
    EXPECT_TRUE(absl::StrContains(r.status().message(), shape.DebugString())) << r.status();
  }
  absl::StatusOr<Tensor> r = ParseTensorLiteral("[[1], [2]]", DT_FLOAT, PartialShape({-1, 3}));
  EXPECT_EQ(r.status().message(), "a value of shape [2,1] does not fit shape [?,3]");
}

TEST(TensorLiteralTest, ConvertTensorKeepsValuesOrRefuses) {
  Tensor d(DT_DOUBLE, TensorShape({2}));
  d.mutable_flat<double>()[0] = 1.5;
  d.mutable_flat<double>()[1] = -2;
  absl::StatusOr<Tensor> f = ConvertTensor(d, DT_FLOAT);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->flat<float>()[0], 1.5f);
  EXPECT_EQ(f->flat<float>()[1], -2.0f);
  absl::StatusOr<Tensor> i = ConvertTensor(d, DT_INT32);
  EXPECT_EQ(i.status().message(), "1.5 at element 0 is not a whole number (dtype int32)");

  Tensor big(DT_INT64, TensorShape({2}));
  big.mutable_flat<int64_t>()[0] = 7;
  big.mutable_flat<int64_t>()[1] = int64_t{1} << 40;
  i = ConvertTensor(big, DT_INT32);
  EXPECT_EQ(i.status().message(), "1099511627776 at element 1 is out of range (dtype int32)");
  i = ConvertTensor(big, DT_UINT64);
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->flat<uint64_t>()[1], uint64_t{1} << 40);

  Tensor b(DT_BOOL, TensorShape({2}));
  b.mutable_flat<uint8_t>()[1] = 1;
  f = ConvertTensor(b, DT_FLOAT);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->flat<float>()[1], 1.0f);

  Tensor c(DT_COMPLEX64, TensorShape({1}));
  EXPECT_EQ(ConvertTensor(c, DT_FLOAT).status().code(), absl::StatusCode::kInvalidArgument);
  f = ConvertTensor(d, DT_COMPLEX128);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->flat<std::complex<double>>()[0], std::complex<double>(1.5, 0));
  Tensor s(DT_STRING, TensorShape({1}));
  EXPECT_EQ(ConvertTensor(s, DT_FLOAT).status().code(), absl::StatusCode::kInvalidArgument);
  // Same dtype: the value itself, shared.
  absl::StatusOr<Tensor> same = ConvertTensor(d, DT_DOUBLE);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->raw_data(), d.raw_data());
}

}  // namespace
}  // namespace tools
}  // namespace ckpt
