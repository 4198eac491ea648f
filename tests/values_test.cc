// Value printing and statistics for ckpt_dump. The expected strings are what
// NumPy 1.24 prints (str() of the same array, default print options); the
// expected statistics are NumPy's mean, std and histogram of the same data.
#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common/stats.h"
#include "common/values.h"
#include "gtest/gtest.h"

namespace ckpt {
namespace tools {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

template <typename T>
Tensor Filled(DType dtype, const TensorShape& shape, const std::vector<T>& values) {
  Tensor t(dtype, shape);
  absl::Span<T> v = t.mutable_flat<T>();
  EXPECT_EQ(v.size(), values.size()) << t.DebugString();
  for (size_t i = 0; i < v.size() && i < values.size(); ++i) v[i] = values[i];
  return t;
}

Tensor Floats(const TensorShape& shape, const std::vector<float>& values) {
  return Filled<float>(DT_FLOAT, shape, values);
}

Tensor Doubles(const TensorShape& shape, const std::vector<double>& values) {
  return Filled<double>(DT_DOUBLE, shape, values);
}

Tensor Strings(const TensorShape& shape, const std::vector<std::string>& values) {
  Tensor t(DT_STRING, shape);
  *t.mutable_strings() = values;
  return t;
}

// ---- floats ----------------------------------------------------------------

TEST(FormatValuesTest, FloatsPadToACommonWidth) {
  EXPECT_EQ(FormatValues(Floats({3}, {1, 2.5f, 3})), "[1.  2.5 3. ]");
  EXPECT_EQ(FormatValues(Floats({2}, {-0.0f, 1})), "[-0.  1.]");
}

TEST(FormatValuesTest, ShortestDigitsOfTheValuesOwnFormat) {
  EXPECT_EQ(FormatValues(Floats({2}, {0.1f, 1.0f / 3})), "[0.1        0.33333334]");
  EXPECT_EQ(FormatValues(Doubles({2}, {0.1, 1.0 / 3})), "[0.1        0.33333333]");
  EXPECT_EQ(FormatValues(Floats({3}, {1.1f, 2.2f, 3.3f})), "[1.1 2.2 3.3]");
  // At most 8 digits after the point.
  EXPECT_EQ(FormatValues(Doubles({1}, {123456.123456789})), "[123456.12345679]");
}

TEST(FormatValuesTest, TwoDimensional) {
  std::vector<float> v;
  for (int i = 0; i < 12; ++i) v.push_back((i - 4) / 4.0f);
  EXPECT_EQ(FormatValues(Floats({3, 4}, v)),
            "[[-1.   -0.75 -0.5  -0.25]\n"
            " [ 0.    0.25  0.5   0.75]\n"
            " [ 1.    1.25  1.5   1.75]]");
}

TEST(FormatValuesTest, LongRowsWrapBeforeColumn75) {
  std::vector<double> v;
  const double step = 1.0 / 39;  // np.linspace(0, 1, 40)
  for (int i = 0; i < 39; ++i) v.push_back(i * step);
  v.push_back(1.0);
  EXPECT_EQ(FormatValues(Doubles({2, 20}, v)),
            R"([[0.         0.02564103 0.05128205 0.07692308 0.1025641  0.12820513
  0.15384615 0.17948718 0.20512821 0.23076923 0.25641026 0.28205128
  0.30769231 0.33333333 0.35897436 0.38461538 0.41025641 0.43589744
  0.46153846 0.48717949]
 [0.51282051 0.53846154 0.56410256 0.58974359 0.61538462 0.64102564
  0.66666667 0.69230769 0.71794872 0.74358974 0.76923077 0.79487179
  0.82051282 0.84615385 0.87179487 0.8974359  0.92307692 0.94871795
  0.97435897 1.        ]])");
}

TEST(FormatValuesTest, BlankLinesBetweenBlocks) {
  std::vector<float> v;
  for (int i = 0; i < 24; ++i) v.push_back(i * 0.5f - 3);
  EXPECT_EQ(FormatValues(Floats({2, 3, 4}, v)),
            R"([[[-3.  -2.5 -2.  -1.5]
  [-1.  -0.5  0.   0.5]
  [ 1.   1.5  2.   2.5]]

 [[ 3.   3.5  4.   4.5]
  [ 5.   5.5  6.   6.5]
  [ 7.   7.5  8.   8.5]]])");

  std::vector<double> w;
  for (int i = 0; i < 16; ++i) w.push_back(i);
  EXPECT_EQ(FormatValues(Doubles({2, 2, 2, 2}, w)),
            R"([[[[ 0.  1.]
   [ 2.  3.]]

  [[ 4.  5.]
   [ 6.  7.]]]


 [[[ 8.  9.]
   [10. 11.]]

  [[12. 13.]
   [14. 15.]]]])");
}

TEST(FormatValuesTest, ScientificNotationWhenMagnitudesDiffer) {
  EXPECT_EQ(FormatValues(Doubles({3}, {1e-5, 1, 1000})), "[1.e-05 1.e+00 1.e+03]");
  EXPECT_EQ(FormatValues(Doubles({3}, {1.5e-5, 1, -2})), "[ 1.5e-05  1.0e+00 -2.0e+00]");
  EXPECT_EQ(FormatValues(Doubles({2}, {1e-100, 1})), "[1.e-100 1.e+000]");
  EXPECT_EQ(FormatValues(Doubles({2}, {0.5, 501})), "[5.00e-01 5.01e+02]");
  EXPECT_EQ(FormatValues(Floats({1}, {1e8f})), "[1.e+08]");
  EXPECT_EQ(FormatValues(Doubles({1}, {99999999.0})), "[99999999.]");
  // Padding to a common digit count continues with the exact digits of the
  // float32 0.3 (0.30000001192...), not with zeros.
  EXPECT_EQ(FormatValues(Floats({2}, {0.3f, 1.2345679e-5f})), "[3.0000001e-01 1.2345679e-05]");
}

TEST(FormatValuesTest, NanAndInfinity) {
  EXPECT_EQ(FormatValues(Doubles({4}, {kNaN, kInf, -kInf, 1.5})), "[ nan  inf -inf  1.5]");
  EXPECT_EQ(FormatValues(Floats({2}, {NAN, INFINITY})), "[nan inf]");
}

TEST(FormatValuesTest, HalfPrecision) {
  // 0.1, 1.1, -2.5, 65.5 as float16 bits.
  EXPECT_EQ(FormatValues(Filled<uint16_t>(DT_HALF, {4}, {0x2e66, 0x3c66, 0xc100, 0x5418})),
            "[ 0.1  1.1 -2.5 65.5]");
  // 0.1, 65504, 1.1, -2.5, 2^-14: scientific, padded with exact digits.
  EXPECT_EQ(FormatValues(Filled<uint16_t>(DT_HALF, {5}, {0x2e66, 0x7bff, 0x3c66, 0xc100, 0x0400})),
            "[ 9.998e-02  6.550e+04  1.100e+00 -2.500e+00  6.104e-05]");
  EXPECT_EQ(FormatValues(Filled<uint16_t>(DT_HALF, {3}, {0x7e00, 0x3c00, 0xfc00})),
            "[ nan   1. -inf]");
  EXPECT_EQ(FormatValues(Filled<uint16_t>(DT_HALF, {}, {0x2e66})), "0.1");
}

TEST(FormatValuesTest, BFloat16PrintsAsFloat32) {
  // 0.10009765625, 1, 2.5
  EXPECT_EQ(FormatValues(Filled<uint16_t>(DT_BFLOAT16, {3}, {0x3dcd, 0x3f80, 0x4020})),
            "[0.10009766 1.         2.5       ]");
  // ... -123.5, NaN
  EXPECT_EQ(FormatValues(Filled<uint16_t>(DT_BFLOAT16, {5}, {0x3dcd, 0x3f80, 0x4020, 0xc2f7, 0x7fc0})),
            "[ 1.00097656e-01  1.00000000e+00  2.50000000e+00 -1.23500000e+02\n"
            "             nan]");
}

TEST(FormatValuesTest, Float8PrintsAsFloat32) {
  // float8_e4m3fn: 0.4375, -448, 1, 2^-9
  EXPECT_EQ(FormatValues(Filled<uint8_t>(DT_FLOAT8_E4M3FN, {4}, {0x2e, 0xfe, 0x38, 0x01})),
            "[ 4.375000e-01 -4.480000e+02  1.000000e+00  1.953125e-03]");
}

// ---- other dtypes ------------------------------------------------------------

TEST(FormatValuesTest, Integers) {
  EXPECT_EQ(FormatValues(Filled<int32_t>(DT_INT32, {3}, {-5, 10, 300})), "[ -5  10 300]");
  EXPECT_EQ(FormatValues(Filled<int64_t>(DT_INT64, {3},
                                         {std::numeric_limits<int64_t>::min(), 0,
                                          std::numeric_limits<int64_t>::max()})),
            "[-9223372036854775808                    0  9223372036854775807]");
  EXPECT_EQ(FormatValues(Filled<uint64_t>(DT_UINT64, {2}, {~uint64_t{0}, 7})),
            "[18446744073709551615                    7]");
  EXPECT_EQ(FormatValues(Filled<int8_t>(DT_INT8, {2, 2}, {-128, 5, 127, -1})),
            "[[-128    5]\n"
            " [ 127   -1]]");
}

TEST(FormatValuesTest, Bool) {
  EXPECT_EQ(FormatValues(Filled<uint8_t>(DT_BOOL, {3}, {1, 0, 1})), "[ True False  True]");
  EXPECT_EQ(FormatValues(Filled<uint8_t>(DT_BOOL, {1, 2}, {1, 1})), "[[ True  True]]");
}

TEST(FormatValuesTest, Complex) {
  EXPECT_EQ(FormatValues(Filled<std::complex<float>>(DT_COMPLEX64, {2},
                                                     {{1, 2}, {-0.0f, -1}})),
            "[ 1.+2.j -0.-1.j]");
  EXPECT_EQ(FormatValues(Filled<std::complex<double>>(DT_COMPLEX128, {3},
                                                      {{1.5, 0}, {kNaN, kInf}, {0.25, -3}})),
            "[1.5  +0.j  nan+infj 0.25 -3.j]");
}

TEST(FormatValuesTest, StringsAsPythonBytes) {
  EXPECT_EQ(FormatValues(Strings({5}, {"abc", "it's", "a\"b'c", std::string("\0\n\t\r\\\xff\x7f", 7), ""})),
            R"([b'abc' b"it's" b'a"b\'c' b'\x00\n\t\r\\\xff\x7f' b''])");
  EXPECT_EQ(FormatValues(Strings({}, {"x"})), "b'x'");
  EXPECT_EQ(PythonBytesRepr("tab\there"), R"(b'tab\there')");
  EXPECT_EQ(PythonBytesRepr("\x1f\x20\x7e\x80"), R"(b'\x1f ~\x80')");
}

TEST(FormatValuesTest, EmptyArrays) {
  EXPECT_EQ(FormatValues(Floats({0}, {})), "[]");
  EXPECT_EQ(FormatValues(Floats({2, 0, 3}, {})), "[]");
  EXPECT_EQ(FormatValues(Strings({0}, {})), "[]");
}

TEST(FormatValuesTest, ScalarsPrintBare) {
  EXPECT_EQ(FormatValues(Floats({}, {0.5f})), "0.5");
  EXPECT_EQ(FormatValues(Floats({}, {1.0f / 3})), "0.33333334");
  EXPECT_EQ(FormatValues(Floats({}, {NAN})), "nan");
  EXPECT_EQ(FormatValues(Doubles({}, {1e16})), "1e+16");
  EXPECT_EQ(FormatValues(Doubles({}, {1.5e-5})), "1.5e-05");
  EXPECT_EQ(FormatValues(Doubles({}, {2.0})), "2.0");
  EXPECT_EQ(FormatValues(Filled<int32_t>(DT_INT32, {}, {-7})), "-7");
  EXPECT_EQ(FormatValues(Filled<uint8_t>(DT_BOOL, {}, {1})), "True");
  EXPECT_EQ(FormatValues(Filled<std::complex<double>>(DT_COMPLEX128, {}, {{1, 2}})), "(1+2j)");
  EXPECT_EQ(FormatValues(Filled<std::complex<float>>(DT_COMPLEX64, {}, {{0, 2.5f}})), "2.5j");
}

// ---- summarization -----------------------------------------------------------

TEST(FormatValuesTest, SummarizesLongVector) {
  std::vector<double> v;
  for (int i = 0; i < 2000; ++i) v.push_back(i);
  // The format is fitted to the shown elements only.
  EXPECT_EQ(FormatValues(Doubles({2000}, v)),
            "[0.000e+00 1.000e+00 2.000e+00 ... 1.997e+03 1.998e+03 1.999e+03]");
  EXPECT_EQ(FormatValues(Filled<int64_t>(DT_INT64, {10}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), 5),
            "[0 1 2 ... 7 8 9]");
  // Negative: never summarize.
  EXPECT_EQ(FormatValues(Filled<int64_t>(DT_INT64, {10}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), -1),
            "[0 1 2 3 4 5 6 7 8 9]");
}

TEST(FormatValuesTest, SummarizesMatrix) {
  std::vector<int32_t> v;
  for (int i = 0; i < 2500; ++i) v.push_back(i);
  EXPECT_EQ(FormatValues(Filled<int32_t>(DT_INT32, {50, 50}, v)),
            R"([[   0    1    2 ...   47   48   49]
 [  50   51   52 ...   97   98   99]
 [ 100  101  102 ...  147  148  149]
 ...
 [2350 2351 2352 ... 2397 2398 2399]
 [2400 2401 2402 ... 2447 2448 2449]
 [2450 2451 2452 ... 2497 2498 2499]])");

  std::vector<float> f;
  for (int i = 0; i < 2500; ++i) f.push_back(static_cast<float>(i) / 7.0f);
  EXPECT_EQ(FormatValues(Floats({50, 50}, f)),
            R"([[0.0000000e+00 1.4285715e-01 2.8571430e-01 ... 6.7142859e+00
  6.8571429e+00 7.0000000e+00]
 [7.1428571e+00 7.2857141e+00 7.4285712e+00 ... 1.3857142e+01
  1.4000000e+01 1.4142858e+01]
 [1.4285714e+01 1.4428572e+01 1.4571428e+01 ... 2.1000000e+01
  2.1142857e+01 2.1285715e+01]
 ...
 [3.3571429e+02 3.3585715e+02 3.3600000e+02 ... 3.4242856e+02
  3.4257144e+02 3.4271429e+02]
 [3.4285715e+02 3.4300000e+02 3.4314285e+02 ... 3.4957144e+02
  3.4971429e+02 3.4985715e+02]
 [3.5000000e+02 3.5014285e+02 3.5028571e+02 ... 3.5671429e+02
  3.5685715e+02 3.5700000e+02]])");
}

TEST(FormatValuesTest, SummarizesEveryLongDimension) {
  std::vector<int16_t> v;
  for (int i = 0; i < 2000; ++i) v.push_back(static_cast<int16_t>(i));
  const std::string out = FormatValues(Filled<int16_t>(DT_INT16, {10, 10, 20}, v));
  const std::string head =
      "[[[   0    1    2 ...   17   18   19]\n"
      "  [  20   21   22 ...   37   38   39]\n"
      "  [  40   41   42 ...   57   58   59]\n"
      "  ...\n";
  EXPECT_EQ(out.substr(0, head.size()), head);
  EXPECT_NE(out.find("  [ 580  581  582 ...  597  598  599]]\n\n ...\n\n [[1400 1401 1402"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.substr(out.size() - 37), "[1980 1981 1982 ... 1997 1998 1999]]]");
}

TEST(FormatValuesTest, InvalidTensorGivesANote) {
  EXPECT_EQ(FormatValues(Tensor()), "<invalid tensor>");
}

// ---- statistics --------------------------------------------------------------

TEST(StatsTest, CountsNonFiniteAndZerosSeparately) {
  absl::StatusOr<TensorStats> s =
      ComputeStats(Floats({8}, {1, 2, 3, 4, NAN, INFINITY, -INFINITY, 0}));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->count, 8);
  EXPECT_EQ(s->nan, 1);
  EXPECT_EQ(s->inf, 2);
  EXPECT_EQ(s->zeros, 1);
  EXPECT_EQ(s->min, 0);
  EXPECT_EQ(s->max, 4);
  EXPECT_DOUBLE_EQ(s->mean, 2);
  EXPECT_DOUBLE_EQ(s->std, std::sqrt(2.0));
  std::vector<int64_t> expected(20, 0);
  expected[0] = expected[5] = expected[10] = expected[15] = expected[19] = 1;
  EXPECT_EQ(s->histogram, expected);
}

TEST(StatsTest, MatchesNumpy) {
  std::vector<double> v;
  for (int i = 0; i < 100; ++i) v.push_back(std::sqrt(static_cast<double>(i)));
  absl::StatusOr<TensorStats> s = ComputeStats(Doubles({10, 10}, v));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_NEAR(s->mean, 6.6146294710314795, 1e-12);
  EXPECT_NEAR(s->std, 2.3972227599791047, 1e-12);
  EXPECT_EQ(s->histogram,
            (std::vector<int64_t>{1, 0, 2, 1, 3, 2, 4, 3, 5, 4, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10}));
}

TEST(StatsTest, ConstantValuesFallInTheMiddleBin) {
  absl::StatusOr<TensorStats> s = ComputeStats(Doubles({3}, {7, 7, 7}));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->min, 7);
  EXPECT_EQ(s->max, 7);
  EXPECT_EQ(s->std, 0);
  std::vector<int64_t> expected(20, 0);
  expected[10] = 3;
  EXPECT_EQ(s->histogram, expected);
}

TEST(StatsTest, IntegersBoolAndComplex) {
  absl::StatusOr<TensorStats> ints = ComputeStats(Filled<int32_t>(DT_INT32, {4}, {-3, -1, 0, 2}));
  ASSERT_TRUE(ints.ok()) << ints.status();
  EXPECT_EQ(ints->min, -3);
  EXPECT_EQ(ints->max, 2);
  EXPECT_DOUBLE_EQ(ints->mean, -0.5);
  EXPECT_EQ(ints->zeros, 1);

  absl::StatusOr<TensorStats> bools = ComputeStats(Filled<uint8_t>(DT_BOOL, {4}, {1, 0, 1, 1}));
  ASSERT_TRUE(bools.ok()) << bools.status();
  EXPECT_DOUBLE_EQ(bools->mean, 0.75);
  EXPECT_EQ(bools->zeros, 1);

  absl::StatusOr<TensorStats> c = ComputeStats(Filled<std::complex<float>>(
      DT_COMPLEX64, {4}, {{3, 4}, {0, 0}, {NAN, 1}, {INFINITY, 0}}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->count, 4);
  EXPECT_EQ(c->nan, 1);
  EXPECT_EQ(c->inf, 1);
  EXPECT_EQ(c->zeros, 1);
  EXPECT_EQ(c->max, 5);  // |3+4j|
  EXPECT_DOUBLE_EQ(c->mean, 2.5);

  // 1, 1.1, -2.5 as float16 bits.
  absl::StatusOr<TensorStats> h = ComputeStats(Filled<uint16_t>(DT_HALF, {3}, {0x3c00, 0x3c66, 0xc100}));
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->min, -2.5);
  EXPECT_EQ(h->max, 1.099609375);
}

TEST(StatsTest, NoFiniteValues) {
  for (const Tensor& t : {Floats({2}, {NAN, INFINITY}), Floats({0}, {})}) {
    absl::StatusOr<TensorStats> s = ComputeStats(t);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_TRUE(std::isnan(s->min));
    EXPECT_TRUE(std::isnan(s->max));
    EXPECT_TRUE(std::isnan(s->mean));
    EXPECT_TRUE(std::isnan(s->std));
    EXPECT_TRUE(s->histogram.empty());
  }
}

TEST(StatsTest, BinsAndUnsupportedDtypes) {
  absl::StatusOr<TensorStats> s = ComputeStats(Floats({2}, {1, 2}), 0);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->histogram.empty());
  EXPECT_DOUBLE_EQ(s->mean, 1.5);

  s = ComputeStats(Floats({2}, {1, 2}), 4);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->histogram, (std::vector<int64_t>{1, 0, 0, 1}));

  EXPECT_EQ(ComputeStats(Floats({2}, {1, 2}), -1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ComputeStats(Strings({1}, {"a"})).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ComputeStats(Tensor()).status().code(), absl::StatusCode::kUnimplemented);
}

TEST(SparklineTest, ScalesToTheLargestBin) {
  EXPECT_EQ(Sparkline({0, 1, 2, 4, 8}), " ▁▂▄█");
  EXPECT_EQ(Sparkline({5, 10, 15, 20, 25, 30, 35, 40}), "▁▂▃▄▅▆▇█");
  // A single element among many still shows.
  EXPECT_EQ(Sparkline({1, 1000000}), "▁█");
  EXPECT_EQ(Sparkline({3}), "█");
  EXPECT_EQ(Sparkline({0, 0}), "  ");
  EXPECT_EQ(Sparkline({}), "");
}

}  // namespace
}  // namespace tools
}  // namespace ckpt
