// Math kernels run one at a time through the kernel harness: broadcasting
// arithmetic, integer division rules, comparisons, AddN, MatMul (against a
// triple loop, bit for bit), Cast, ArgMax/ArgMin, reductions, Range and
// Select, and every error they report.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/kernel_harness.h"

namespace ckpt {
namespace {

using ::ckpt::testing::AttrList;
using ::ckpt::testing::Bits;
using ::ckpt::testing::RunKernel;
using ::ckpt::testing::Scalar;
using ::ckpt::testing::StringTensor;
using ::ckpt::testing::TensorOf;
using ::ckpt::testing::Values;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// Runs a one-output op and returns its output (failing the test on error).
Tensor Run1(const std::string& op, std::vector<testing::KernelInput> inputs,
            const AttrList& attrs = AttrList()) {
  auto out = RunKernel(op, attrs, std::move(inputs));
  EXPECT_TRUE(out.ok()) << op << ": " << out.status();
  if (!out.ok() || out->empty()) return Tensor();
  return (*out)[0];
}

absl::Status RunError(const std::string& op, std::vector<testing::KernelInput> inputs,
                      const AttrList& attrs = AttrList()) {
  auto out = RunKernel(op, attrs, std::move(inputs));
  return out.status();
}

std::vector<float> RandomFloats(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

// ---------------------------------------------------------------------------
// Broadcasting arithmetic.

TEST(MathKernelsTest, AddSameShape) {
  Tensor z = Run1("Add", {TensorOf<float>({2, 3}, {1, 2, 3, 4, 5, 6}),
                          TensorOf<float>({2, 3}, {10, 20, 30, 40, 50, 60})});
  EXPECT_EQ(z.shape(), TensorShape({2, 3}));
  EXPECT_THAT(Values<float>(z), ElementsAre(11, 22, 33, 44, 55, 66));
}

TEST(MathKernelsTest, AddRowVectorBroadcast) {
  Tensor z = Run1("AddV2", {TensorOf<float>({2, 3}, {1, 2, 3, 4, 5, 6}),
                            TensorOf<float>({3}, {10, 20, 30})});
  EXPECT_EQ(z.shape(), TensorShape({2, 3}));
  EXPECT_THAT(Values<float>(z), ElementsAre(11, 22, 33, 14, 25, 36));
  // And with the operands swapped.
  z = Run1("AddV2", {TensorOf<float>({3}, {10, 20, 30}),
                     TensorOf<float>({2, 3}, {1, 2, 3, 4, 5, 6})});
  EXPECT_THAT(Values<float>(z), ElementsAre(11, 22, 33, 14, 25, 36));
}

TEST(MathKernelsTest, ColumnTimesRowBroadcastsBoth) {
  Tensor z = Run1("Add", {TensorOf<float>({2, 1}, {1, 2}), TensorOf<float>({1, 3}, {10, 20, 30})});
  EXPECT_EQ(z.shape(), TensorShape({2, 3}));
  EXPECT_THAT(Values<float>(z), ElementsAre(11, 21, 31, 12, 22, 32));
  z = Run1("Sub", {TensorOf<float>({1, 3}, {10, 20, 30}), TensorOf<float>({2, 1}, {1, 2})});
  EXPECT_THAT(Values<float>(z), ElementsAre(9, 19, 29, 8, 18, 28));
}

TEST(MathKernelsTest, ScalarOperandsKeepTheirSide) {
  Tensor z = Run1("Sub", {Scalar<float>(10), TensorOf<float>({3}, {1, 2, 3})});
  EXPECT_EQ(z.shape(), TensorShape({3}));
  EXPECT_THAT(Values<float>(z), ElementsAre(9, 8, 7));
  z = Run1("Sub", {TensorOf<float>({3}, {1, 2, 3}), Scalar<float>(10)});
  EXPECT_THAT(Values<float>(z), ElementsAre(-9, -8, -7));
  z = Run1("Mul", {Scalar<int32_t>(3), Scalar<int32_t>(-4)});
  EXPECT_EQ(z.shape(), TensorShape());
  EXPECT_THAT(Values<int32_t>(z), ElementsAre(-12));
  // A one-element operand of higher rank raises the output's rank.
  z = Run1("Add", {TensorOf<float>({1, 1}, {5}), TensorOf<float>({3}, {1, 2, 3})});
  EXPECT_EQ(z.shape(), TensorShape({1, 3}));
  EXPECT_THAT(Values<float>(z), ElementsAre(6, 7, 8));
  z = Run1("Add", {TensorOf<float>({3}, {1, 2, 3}), TensorOf<float>({1, 1}, {5})});
  EXPECT_EQ(z.shape(), TensorShape({1, 3}));
  EXPECT_THAT(Values<float>(z), ElementsAre(6, 7, 8));
}

// Reference broadcasting by explicit index arithmetic on rank-3 shapes.
std::vector<float> NaiveBroadcastMul(const std::vector<int64_t>& xd, const std::vector<float>& x,
                                     const std::vector<int64_t>& yd, const std::vector<float>& y,
                                     std::vector<int64_t>* out_dims) {
  out_dims->assign(3, 1);
  for (int i = 0; i < 3; ++i) (*out_dims)[i] = std::max(xd[i], yd[i]);
  const auto& od = *out_dims;
  std::vector<float> out;
  for (int64_t i = 0; i < od[0]; ++i) {
    for (int64_t j = 0; j < od[1]; ++j) {
      for (int64_t k = 0; k < od[2]; ++k) {
        auto at = [&](const std::vector<int64_t>& d, const std::vector<float>& v) {
          const int64_t a = d[0] == 1 ? 0 : i, b = d[1] == 1 ? 0 : j, c = d[2] == 1 ? 0 : k;
          return v[(a * d[1] + b) * d[2] + c];
        };
        out.push_back(at(xd, x) * at(yd, y));
      }
    }
  }
  return out;
}

TEST(MathKernelsTest, GeneralBroadcastsMatchIndexArithmetic) {
  const std::vector<std::vector<int64_t>> pairs[] = {
      {{2, 3, 4}, {2, 1, 4}}, {{3, 1, 2}, {1, 4, 1}}, {{1, 3, 5}, {4, 3, 1}},
      {{2, 1, 9}, {1, 7, 9}}, {{5, 6, 1}, {5, 1, 1}}, {{1, 1, 17}, {3, 2, 17}}};
  uint32_t seed = 1;
  for (const auto& p : pairs) {
    const auto& xd = p[0];
    const auto& yd = p[1];
    const std::vector<float> x = RandomFloats(xd[0] * xd[1] * xd[2], seed++);
    const std::vector<float> y = RandomFloats(yd[0] * yd[1] * yd[2], seed++);
    std::vector<int64_t> od;
    const std::vector<float> expected = NaiveBroadcastMul(xd, x, yd, y, &od);
    Tensor z = Run1("Mul", {TensorOf<float>(*TensorShape::FromDims(xd), x),
                            TensorOf<float>(*TensorShape::FromDims(yd), y)});
    EXPECT_EQ(z.shape(), *TensorShape::FromDims(od));
    EXPECT_EQ(Bits(Values<float>(z)), Bits(expected));
  }
}

TEST(MathKernelsTest, IncompatibleShapesAreInvalidArgument) {
  absl::Status s = RunError("Add", {TensorOf<float>({2, 3}, std::vector<float>(6, 1)),
                                    TensorOf<float>({4}, std::vector<float>(4, 1))});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("incompatible shapes: [2,3] vs. [4]"));
  s = RunError("Mul", {TensorOf<float>({2, 1, 3}, std::vector<float>(6, 1)),
                       TensorOf<float>({4, 2}, std::vector<float>(8, 1))});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

TEST(MathKernelsTest, EmptyOperandsGiveEmptyResults) {
  Tensor z = Run1("Add", {TensorOf<float>({0, 3}, {}), TensorOf<float>({3}, {1, 2, 3})});
  EXPECT_EQ(z.shape(), TensorShape({0, 3}));
  z = Run1("Add", {TensorOf<float>({2, 0}, {}), TensorOf<float>({2, 1}, {1, 2})});
  EXPECT_EQ(z.shape(), TensorShape({2, 0}));
}

TEST(MathKernelsTest, MixedDTypesAreRefused) {
  absl::Status s = RunError("Add", {Scalar<float>(1), Scalar<int32_t>(1)},
                            AttrList().Type("T", DT_FLOAT));
  EXPECT_FALSE(s.ok());
}

TEST(MathKernelsTest, IntegerDivisionRules) {
  const Tensor x = TensorOf<int32_t>({4}, {7, -7, 7, -7});
  const Tensor y = TensorOf<int32_t>({4}, {2, 2, -2, -2});
  EXPECT_THAT(Values<int32_t>(Run1("Div", {x, y})), ElementsAre(3, -3, -3, 3));
  EXPECT_THAT(Values<int32_t>(Run1("FloorDiv", {x, y})), ElementsAre(3, -4, -4, 3));
  EXPECT_THAT(Values<int32_t>(Run1("FloorMod", {x, y})), ElementsAre(1, 1, -1, -1));
  // The one overflowing quotient wraps instead of trapping.
  const int32_t min = std::numeric_limits<int32_t>::min();
  EXPECT_THAT(Values<int32_t>(Run1("Div", {Scalar<int32_t>(min), Scalar<int32_t>(-1)})),
              ElementsAre(min));
  EXPECT_THAT(Values<int32_t>(Run1("FloorDiv", {Scalar<int32_t>(min), Scalar<int32_t>(-1)})),
              ElementsAre(min));
  EXPECT_THAT(Values<int32_t>(Run1("FloorMod", {Scalar<int32_t>(min), Scalar<int32_t>(-1)})),
              ElementsAre(0));
  EXPECT_THAT(Values<int64_t>(Run1("FloorDiv", {TensorOf<int64_t>({2}, {9, -9}),
                                                Scalar<int64_t>(4)})),
              ElementsAre(2, -3));
}

TEST(MathKernelsTest, IntegerDivisionByZeroIsAnError) {
  for (const char* op : {"Div", "FloorDiv", "FloorMod"}) {
    absl::Status s = RunError(op, {TensorOf<int32_t>({3}, {1, 2, 3}),
                                   TensorOf<int32_t>({3}, {1, 0, 3})});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << op;
    EXPECT_THAT(s.message(), HasSubstr("integer division by zero")) << op;
    s = RunError(op, {Scalar<int64_t>(5), Scalar<int64_t>(0)});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << op;
  }
  // Floating point division by zero is IEEE: infinities and NaN.
  Tensor z = Run1("RealDiv", {TensorOf<float>({3}, {1, -1, 0}), Scalar<float>(0)});
  const std::vector<float> v = Values<float>(z);
  EXPECT_EQ(v[0], kInf);
  EXPECT_EQ(v[1], -kInf);
  EXPECT_TRUE(std::isnan(v[2]));
}

TEST(MathKernelsTest, FloatFloorDivAndMod) {
  const Tensor x = TensorOf<float>({4}, {7.5f, -7.5f, 7.5f, -7.5f});
  const Tensor y = TensorOf<float>({4}, {2, 2, -2, -2});
  EXPECT_THAT(Values<float>(Run1("FloorDiv", {x, y})), ElementsAre(3, -4, -4, 3));
  EXPECT_THAT(Values<float>(Run1("FloorMod", {x, y})), ElementsAre(1.5f, 0.5f, -0.5f, -1.5f));
  EXPECT_THAT(Values<double>(Run1("Div", {Scalar<double>(1), Scalar<double>(4)})),
              ElementsAre(0.25));
}

TEST(MathKernelsTest, MaximumMinimumPropagateNaN) {
  const Tensor x = TensorOf<float>({4}, {1, kNaN, 3, -1});
  const Tensor y = TensorOf<float>({4}, {2, 0, kNaN, -2});
  const std::vector<float> mx = Values<float>(Run1("Maximum", {x, y}));
  const std::vector<float> mn = Values<float>(Run1("Minimum", {x, y}));
  EXPECT_EQ(mx[0], 2);
  EXPECT_TRUE(std::isnan(mx[1]));
  EXPECT_TRUE(std::isnan(mx[2]));
  EXPECT_EQ(mx[3], -1);
  EXPECT_EQ(mn[0], 1);
  EXPECT_TRUE(std::isnan(mn[1]));
  EXPECT_TRUE(std::isnan(mn[2]));
  EXPECT_EQ(mn[3], -2);
  EXPECT_THAT(Values<int64_t>(Run1("Maximum", {TensorOf<int64_t>({2}, {1, 9}),
                                               Scalar<int64_t>(5)})),
              ElementsAre(5, 9));
}

TEST(MathKernelsTest, PowAndSquaredDifference) {
  EXPECT_THAT(Values<float>(Run1("Pow", {TensorOf<float>({3}, {2, 3, 4}),
                                         TensorOf<float>({3}, {3, 2, 0.5f})})),
              ElementsAre(8, 9, 2));
  EXPECT_THAT(Values<int32_t>(Run1("Pow", {TensorOf<int32_t>({5}, {3, 2, -2, 5, 0}),
                                           TensorOf<int32_t>({5}, {4, 10, 3, 0, 0})})),
              ElementsAre(81, 1024, -8, 1, 1));
  absl::Status s = RunError("Pow", {Scalar<int32_t>(2), Scalar<int32_t>(-1)});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("negative"));
  EXPECT_THAT(Values<float>(Run1("SquaredDifference", {TensorOf<float>({2}, {1, 5}),
                                                       TensorOf<float>({2}, {4, 2})})),
              ElementsAre(9, 9));
}

TEST(MathKernelsTest, IntegerOverflowWraps) {
  const int32_t max = std::numeric_limits<int32_t>::max();
  const int32_t min = std::numeric_limits<int32_t>::min();
  EXPECT_THAT(Values<int32_t>(Run1("Add", {Scalar<int32_t>(max), Scalar<int32_t>(1)})),
              ElementsAre(min));
  EXPECT_THAT(Values<int32_t>(Run1("Neg", {Scalar<int32_t>(min)})), ElementsAre(min));
  EXPECT_THAT(Values<int32_t>(Run1("Abs", {Scalar<int32_t>(min)})), ElementsAre(min));
  EXPECT_THAT(Values<int32_t>(Run1("Mul", {Scalar<int32_t>(65536), Scalar<int32_t>(65536)})),
              ElementsAre(0));
}

TEST(MathKernelsTest, StringAddConcatenates) {
  Tensor z = Run1("Add", {StringTensor({2}, {"ab", "c"}), StringTensor({}, {"!"})});
  EXPECT_THAT(Values<std::string>(z), ElementsAre("ab!", "c!"));
}

// ---------------------------------------------------------------------------
// Comparisons and logic.

TEST(MathKernelsTest, ComparisonsGiveBool) {
  const Tensor x = TensorOf<float>({3}, {1, 2, 3});
  const Tensor y = Scalar<float>(2);
  Tensor z = Run1("Less", {x, y});
  EXPECT_EQ(z.dtype(), DT_BOOL);
  EXPECT_THAT(Values<bool>(z), ElementsAre(true, false, false));
  EXPECT_THAT(Values<bool>(Run1("LessEqual", {x, y})), ElementsAre(true, true, false));
  EXPECT_THAT(Values<bool>(Run1("Greater", {x, y})), ElementsAre(false, false, true));
  EXPECT_THAT(Values<bool>(Run1("GreaterEqual", {x, y})), ElementsAre(false, true, true));
  EXPECT_THAT(Values<bool>(Run1("Equal", {x, y})), ElementsAre(false, true, false));
  EXPECT_THAT(Values<bool>(Run1("NotEqual", {x, y})), ElementsAre(true, false, true));
  // Broadcast comparison, [2,1] against [3].
  z = Run1("Greater", {TensorOf<int32_t>({2, 1}, {1, 5}), TensorOf<int32_t>({3}, {0, 3, 6})});
  EXPECT_EQ(z.shape(), TensorShape({2, 3}));
  EXPECT_THAT(Values<bool>(z), ElementsAre(true, false, false, true, true, false));
}

TEST(MathKernelsTest, EqualOnStringsAndBools) {
  EXPECT_THAT(Values<bool>(Run1("Equal", {StringTensor({3}, {"a", "b", "c"}),
                                          StringTensor({}, {"b"})})),
              ElementsAre(false, true, false));
  EXPECT_THAT(Values<bool>(Run1("NotEqual", {TensorOf<bool>({2}, {true, false}),
                                             TensorOf<bool>({2}, {true, true})})),
              ElementsAre(false, true));
}

TEST(MathKernelsTest, EqualityWithoutShapeErrors) {
  const Tensor x = TensorOf<float>({2}, {1, 2});
  const Tensor y = TensorOf<float>({3}, {1, 2, 3});
  EXPECT_EQ(RunError("Equal", {x, y}).code(), absl::StatusCode::kInvalidArgument);
  Tensor z = Run1("Equal", {x, y}, AttrList().Bool("incompatible_shape_error", false));
  EXPECT_EQ(z.shape(), TensorShape());
  EXPECT_THAT(Values<bool>(z), ElementsAre(false));
  z = Run1("NotEqual", {x, y}, AttrList().Bool("incompatible_shape_error", false));
  EXPECT_THAT(Values<bool>(z), ElementsAre(true));
}

TEST(MathKernelsTest, LogicalOps) {
  const Tensor a = TensorOf<bool>({4}, {false, false, true, true});
  const Tensor b = TensorOf<bool>({4}, {false, true, false, true});
  EXPECT_THAT(Values<bool>(Run1("LogicalAnd", {a, b})), ElementsAre(false, false, false, true));
  EXPECT_THAT(Values<bool>(Run1("LogicalOr", {a, b})), ElementsAre(false, true, true, true));
  EXPECT_THAT(Values<bool>(Run1("LogicalNot", {a})), ElementsAre(true, true, false, false));
  EXPECT_THAT(Values<bool>(Run1("LogicalAnd", {a, Scalar<bool>(true)})),
              ElementsAre(false, false, true, true));
}

// ---------------------------------------------------------------------------
// Unary ops.

TEST(MathKernelsTest, UnaryOps) {
  const Tensor x = TensorOf<float>({3}, {4, 1, 0.25f});
  EXPECT_THAT(Values<float>(Run1("Neg", {x})), ElementsAre(-4, -1, -0.25f));
  EXPECT_THAT(Values<float>(Run1("Square", {x})), ElementsAre(16, 1, 0.0625f));
  EXPECT_THAT(Values<float>(Run1("Sqrt", {x})), ElementsAre(2, 1, 0.5f));
  EXPECT_THAT(Values<float>(Run1("Rsqrt", {x})), ElementsAre(0.5f, 1, 2));
  EXPECT_THAT(Values<float>(Run1("Reciprocal", {x})), ElementsAre(0.25f, 1, 4));
  EXPECT_THAT(Values<float>(Run1("Log", {x})),
              ElementsAre(std::log(4.0f), 0, std::log(0.25f)));
  EXPECT_THAT(Values<float>(Run1("Exp", {TensorOf<float>({2}, {0, 1})})),
              ElementsAre(1, std::exp(1.0f)));
  EXPECT_THAT(Values<double>(Run1("Exp", {Scalar<double>(2)})), ElementsAre(std::exp(2.0)));
  EXPECT_THAT(Values<float>(Run1("Abs", {TensorOf<float>({3}, {-2, 0, 3})})),
              ElementsAre(2, 0, 3));
  EXPECT_THAT(Values<int64_t>(Run1("Abs", {TensorOf<int64_t>({2}, {-5, 5})})), ElementsAre(5, 5));
  EXPECT_THAT(Values<int32_t>(Run1("Square", {TensorOf<int32_t>({2}, {-3, 7})})),
              ElementsAre(9, 49));
  EXPECT_THAT(Values<int32_t>(Run1("Sign", {TensorOf<int32_t>({3}, {-7, 0, 9})})),
              ElementsAre(-1, 0, 1));
  const std::vector<float> sign =
      Values<float>(Run1("Sign", {TensorOf<float>({4}, {-2.5f, 0, 3, kNaN})}));
  EXPECT_EQ(sign[0], -1);
  EXPECT_EQ(sign[1], 0);
  EXPECT_EQ(sign[2], 1);
  EXPECT_TRUE(std::isnan(sign[3]));
  EXPECT_THAT(Values<float>(Run1("Floor", {TensorOf<float>({2}, {-1.5f, 1.5f})})),
              ElementsAre(-2, 1));
  EXPECT_THAT(Values<float>(Run1("Ceil", {TensorOf<float>({2}, {-1.5f, 1.5f})})),
              ElementsAre(-1, 2));
  // Round: halves to even.
  EXPECT_THAT(Values<float>(Run1("Round", {TensorOf<float>({4}, {0.5f, 1.5f, 2.5f, -0.5f})})),
              ElementsAre(0, 2, 2, -0.0f));
}

TEST(MathKernelsTest, UnaryOnLongInputUsesEveryElement) {
  // 8-element blocks plus a tail.
  std::vector<float> x(37);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) - 18;
  const std::vector<float> y = Values<float>(Run1("Neg", {TensorOf<float>({37}, x)}));
  ASSERT_EQ(y.size(), 37u);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], -x[i]) << i;
}

TEST(MathKernelsTest, GradientHelpersOfUnaryOps) {
  // SqrtGrad(y, dy) = dy / (2 y); RsqrtGrad = -dy y^3 / 2; ReciprocalGrad = -dy y^2.
  const Tensor y = TensorOf<float>({2}, {2, 0.5f});
  const Tensor dy = TensorOf<float>({2}, {4, 8});
  EXPECT_THAT(Values<float>(Run1("SqrtGrad", {y, dy})), ElementsAre(1, 8));
  EXPECT_THAT(Values<float>(Run1("RsqrtGrad", {y, dy})), ElementsAre(-16, -0.5f));
  EXPECT_THAT(Values<float>(Run1("ReciprocalGrad", {y, dy})), ElementsAre(-16, -2));
  EXPECT_EQ(RunError("SqrtGrad", {y, TensorOf<float>({1}, {1})}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MathKernelsTest, UnsupportedDTypeIsUnimplementedNamingIt) {
  absl::Status s = RunError("Sqrt", {Scalar<int32_t>(4)}, AttrList().Type("T", DT_INT32));
  // The OpDef may refuse int32 first; either way the dtype is named.
  EXPECT_TRUE(s.code() == absl::StatusCode::kUnimplemented ||
              s.code() == absl::StatusCode::kInvalidArgument)
      << s;
  EXPECT_THAT(s.message(), HasSubstr("int32"));
  s = RunError("Sub", {TensorOf<uint16_t>({1}, {1}), TensorOf<uint16_t>({1}, {1})});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << s;
  EXPECT_THAT(s.message(), HasSubstr("uint16"));
  s = RunError("MatMul", {TensorOf<int8_t>({1, 1}, {1}), TensorOf<int8_t>({1, 1}, {1})},
               AttrList().Type("T", DT_INT8));
  EXPECT_THAT(s.message(), HasSubstr("int8"));
}

// ---------------------------------------------------------------------------
// AddN.

TEST(MathKernelsTest, AddNSumsInputs) {
  Tensor z = Run1("AddN", {TensorOf<float>({2}, {1, 2}), TensorOf<float>({2}, {10, 20}),
                           TensorOf<float>({2}, {100, 200})});
  EXPECT_THAT(Values<float>(z), ElementsAre(111, 222));
  const Tensor only = TensorOf<int32_t>({3}, {1, 2, 3});
  z = Run1("AddN", {only});
  EXPECT_THAT(Values<int32_t>(z), ElementsAre(1, 2, 3));
  absl::Status s = RunError("AddN", {TensorOf<float>({2}, {1, 2}), TensorOf<float>({3}, {1, 2, 3})});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// MatMul.

TEST(MathKernelsTest, MatMulByHand) {
  // [[1,2,3],[4,5,6]] x [[7,8],[9,10],[11,12]] = [[58,64],[139,154]]
  const Tensor a = TensorOf<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b = TensorOf<float>({3, 2}, {7, 8, 9, 10, 11, 12});
  Tensor c = Run1("MatMul", {a, b});
  EXPECT_EQ(c.shape(), TensorShape({2, 2}));
  EXPECT_THAT(Values<float>(c), ElementsAre(58, 64, 139, 154));
  // a^T (a as [3,2]) x b^T (b as [2,3]).
  const Tensor at = TensorOf<float>({3, 2}, {1, 4, 2, 5, 3, 6});
  const Tensor bt = TensorOf<float>({2, 3}, {7, 9, 11, 8, 10, 12});
  EXPECT_THAT(Values<float>(Run1("MatMul", {at, b}, AttrList().Bool("transpose_a", true))),
              ElementsAre(58, 64, 139, 154));
  EXPECT_THAT(Values<float>(Run1("MatMul", {a, bt}, AttrList().Bool("transpose_b", true))),
              ElementsAre(58, 64, 139, 154));
  EXPECT_THAT(Values<float>(Run1("MatMul", {at, bt},
                                 AttrList().Bool("transpose_a", true).Bool("transpose_b", true))),
              ElementsAre(58, 64, 139, 154));
  EXPECT_THAT(Values<int32_t>(Run1("MatMul", {TensorOf<int32_t>({1, 2}, {2, 3}),
                                              TensorOf<int32_t>({2, 1}, {4, 5})})),
              ElementsAre(23));
}

// The product summed in order p = 0..k-1 from zero, the contract of every path.
std::vector<float> NaiveMatMul(const std::vector<float>& a, const std::vector<float>& b, int64_t m,
                               int64_t k, int64_t n, bool ta, bool tb) {
  std::vector<float> c(m * n);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0;
      for (int64_t p = 0; p < k; ++p) {
        const float av = ta ? a[p * m + i] : a[i * k + p];
        const float bv = tb ? b[j * k + p] : b[p * n + j];
        acc += av * bv;
      }
      c[i * n + j] = acc;
    }
  }
  return c;
}

TEST(MathKernelsTest, MatMulMatchesTripleLoopBitForBit) {
  struct Case {
    int64_t m, k, n;
  };
  // Shapes of the tutorial's forward and backward products, vector cases,
  // and one large enough to be split into panels.
  const Case cases[] = {{300, 1, 10}, {300, 10, 1}, {10, 300, 1}, {1, 300, 10}, {300, 10, 10},
                        {17, 9, 13},  {1, 1, 1},    {8, 5, 1},    {19, 7, 1},   {3, 0, 4},
                        {300, 300, 300}};
  uint32_t seed = 100;
  for (const Case& cs : cases) {
    for (int t = 0; t < 4; ++t) {
      const bool ta = (t & 1) != 0, tb = (t & 2) != 0;
      const std::vector<float> a = RandomFloats(cs.m * cs.k, seed++);
      const std::vector<float> b = RandomFloats(cs.k * cs.n, seed++);
      const TensorShape as = ta ? TensorShape({cs.k, cs.m}) : TensorShape({cs.m, cs.k});
      const TensorShape bs = tb ? TensorShape({cs.n, cs.k}) : TensorShape({cs.k, cs.n});
      Tensor c = Run1("MatMul", {TensorOf<float>(as, a), TensorOf<float>(bs, b)},
                      AttrList().Bool("transpose_a", ta).Bool("transpose_b", tb));
      ASSERT_EQ(c.shape(), TensorShape({cs.m, cs.n}));
      EXPECT_EQ(Bits(Values<float>(c)), Bits(NaiveMatMul(a, b, cs.m, cs.k, cs.n, ta, tb)))
          << cs.m << "x" << cs.k << "x" << cs.n << " ta=" << ta << " tb=" << tb;
    }
  }
}

TEST(MathKernelsTest, MatMulShapeErrors) {
  absl::Status s = RunError("MatMul", {TensorOf<float>({2, 3}, std::vector<float>(6)),
                                       TensorOf<float>({4, 5}, std::vector<float>(20))});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("[2,3]"));
  EXPECT_THAT(s.message(), HasSubstr("[4,5]"));
  s = RunError("MatMul", {TensorOf<float>({3}, {1, 2, 3}), TensorOf<float>({3, 1}, {1, 2, 3})});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("not a matrix"));
}

// ---------------------------------------------------------------------------
// Cast.

TEST(MathKernelsTest, CastBetweenNumbers) {
  Tensor y = Run1("Cast", {TensorOf<float>({5}, {1.7f, -1.7f, 0, 3e9f, kNaN})},
                  AttrList().Type("DstT", DT_INT32));
  EXPECT_EQ(y.dtype(), DT_INT32);
  EXPECT_THAT(Values<int32_t>(y),
              ElementsAre(1, -1, 0, std::numeric_limits<int32_t>::max(), 0));
  y = Run1("Cast", {TensorOf<int64_t>({2}, {-3, 1LL << 40})}, AttrList().Type("DstT", DT_DOUBLE));
  EXPECT_THAT(Values<double>(y), ElementsAre(-3.0, 1099511627776.0));
  y = Run1("Cast", {TensorOf<bool>({2}, {true, false})}, AttrList().Type("DstT", DT_FLOAT));
  EXPECT_THAT(Values<float>(y), ElementsAre(1, 0));
  y = Run1("Cast", {TensorOf<float>({3}, {0, -0.5f, kNaN})}, AttrList().Type("DstT", DT_BOOL));
  EXPECT_THAT(Values<bool>(y), ElementsAre(false, true, true));
  y = Run1("Cast", {TensorOf<int32_t>({2}, {300, -1})}, AttrList().Type("DstT", DT_UINT8));
  EXPECT_THAT(Values<uint8_t>(y), ElementsAre(44, 255));
  // Same type: the input itself.
  const Tensor x = TensorOf<float>({2}, {1, 2});
  y = Run1("Cast", {x}, AttrList().Type("DstT", DT_FLOAT));
  EXPECT_EQ(y.raw_data(), x.raw_data());
}

TEST(MathKernelsTest, CastToAndFromHalf) {
  // 65520 is the midpoint between half's largest finite value and 2^16.
  const std::vector<float> in = {1.0f, 0.1f, -2.0f, 65504.0f, 65519.0f, 65520.0f,
                                 6.0e-8f, 2.0e-8f, 1e-30f, kInf, 0.33325195f};
  Tensor h = Run1("Cast", {TensorOf<float>({11}, in)}, AttrList().Type("DstT", DT_HALF));
  ASSERT_EQ(h.dtype(), DT_HALF);
  absl::Span<const uint16_t> bits = h.flat<uint16_t>();
  const std::vector<uint16_t> expected = {0x3c00, 0x2e66, 0xc000, 0x7bff, 0x7bff, 0x7c00,
                                          0x0001, 0x0000, 0x0000, 0x7c00, 0x3555};
  EXPECT_EQ(std::vector<uint16_t>(bits.begin(), bits.end()), expected);
  Tensor back = Run1("Cast", {h}, AttrList().Type("DstT", DT_FLOAT));
  const std::vector<float> f = Values<float>(back);
  EXPECT_EQ(f[0], 1.0f);
  EXPECT_EQ(f[1], 0.0999755859375f);
  EXPECT_EQ(f[2], -2.0f);
  EXPECT_EQ(f[3], 65504.0f);
  EXPECT_EQ(f[5], kInf);
  EXPECT_EQ(f[6], std::ldexp(1.0f, -24));
  EXPECT_EQ(f[10], 0.33325195f);
  // bfloat16 keeps float's exponent and 8 bits of significand.
  Tensor bf = Run1("Cast", {TensorOf<float>({2}, {1.0f, 3.0f})}, AttrList().Type("DstT", DT_BFLOAT16));
  absl::Span<const uint16_t> bb = bf.flat<uint16_t>();
  EXPECT_EQ(bb[0], 0x3f80);
  EXPECT_EQ(bb[1], 0x4040);
}

// ---------------------------------------------------------------------------
// ArgMax / ArgMin.

TEST(MathKernelsTest, ArgMaxArgMin) {
  const Tensor x = TensorOf<float>({2, 3}, {1, 5, 5, 7, 2, 0});
  Tensor y = Run1("ArgMax", {x, Scalar<int32_t>(1)});
  EXPECT_EQ(y.dtype(), DT_INT64);
  EXPECT_EQ(y.shape(), TensorShape({2}));
  EXPECT_THAT(Values<int64_t>(y), ElementsAre(1, 0));  // ties: the first
  EXPECT_THAT(Values<int64_t>(Run1("ArgMin", {x, Scalar<int32_t>(1)})), ElementsAre(0, 2));
  EXPECT_THAT(Values<int64_t>(Run1("ArgMax", {x, Scalar<int64_t>(0)})), ElementsAre(1, 0, 0));
  EXPECT_THAT(Values<int64_t>(Run1("ArgMin", {x, Scalar<int32_t>(-2)})), ElementsAre(0, 1, 1));
  y = Run1("ArgMax", {x, Scalar<int32_t>(-1)}, AttrList().Type("output_type", DT_INT32));
  EXPECT_EQ(y.dtype(), DT_INT32);
  EXPECT_THAT(Values<int32_t>(y), ElementsAre(1, 0));
  EXPECT_THAT(Values<int64_t>(Run1("ArgMax", {TensorOf<bool>({3}, {false, true, true}),
                                              Scalar<int32_t>(0)})),
              ElementsAre(1));
  EXPECT_THAT(Values<int64_t>(Run1("ArgMax", {TensorOf<int32_t>({4}, {3, -1, 8, 8}),
                                              Scalar<int32_t>(0)})),
              ElementsAre(2));
}

TEST(MathKernelsTest, ArgMaxErrors) {
  const Tensor x = TensorOf<float>({2, 3}, std::vector<float>(6));
  absl::Status s = RunError("ArgMax", {x, Scalar<int32_t>(2)});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("out of range"));
  s = RunError("ArgMax", {TensorOf<float>({2, 0}, {}), Scalar<int32_t>(1)});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("empty"));
}

// ---------------------------------------------------------------------------
// Reductions.

TEST(MathKernelsTest, SumOverAxes) {
  const Tensor x = TensorOf<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor y = Run1("Sum", {x, TensorOf<int32_t>({1}, {1})});
  EXPECT_EQ(y.shape(), TensorShape({2}));
  EXPECT_THAT(Values<float>(y), ElementsAre(6, 15));
  y = Run1("Sum", {x, Scalar<int32_t>(0)});
  EXPECT_EQ(y.shape(), TensorShape({3}));
  EXPECT_THAT(Values<float>(y), ElementsAre(5, 7, 9));
  y = Run1("Sum", {x, TensorOf<int64_t>({2}, {-1, 0})});
  EXPECT_EQ(y.shape(), TensorShape());
  EXPECT_THAT(Values<float>(y), ElementsAre(21));
  // Duplicated axes count once.
  y = Run1("Sum", {x, TensorOf<int32_t>({3}, {1, 1, -1})});
  EXPECT_THAT(Values<float>(y), ElementsAre(6, 15));
  // No axes: no reduction.
  y = Run1("Sum", {x, TensorOf<int32_t>({0}, {})});
  EXPECT_EQ(y.shape(), TensorShape({2, 3}));
  EXPECT_THAT(Values<float>(y), ElementsAre(1, 2, 3, 4, 5, 6));
  y = Run1("Sum", {x, TensorOf<int32_t>({1}, {1})}, AttrList().Bool("keep_dims", true));
  EXPECT_EQ(y.shape(), TensorShape({2, 1}));
  EXPECT_THAT(Values<float>(y), ElementsAre(6, 15));
  y = Run1("Sum", {x, TensorOf<int32_t>({2}, {0, 1})}, AttrList().Bool("keep_dims", true));
  EXPECT_EQ(y.shape(), TensorShape({1, 1}));
  // Reducing only a size-1 dimension reshapes.
  y = Run1("Sum", {TensorOf<float>({3, 1}, {1, 2, 3}), Scalar<int32_t>(1)});
  EXPECT_EQ(y.shape(), TensorShape({3}));
  EXPECT_THAT(Values<float>(y), ElementsAre(1, 2, 3));
}

TEST(MathKernelsTest, MeanProdMaxMin) {
  const Tensor x = TensorOf<float>({2, 3}, {1, 2, 6, -4, 5, 8});
  EXPECT_THAT(Values<float>(Run1("Mean", {x, Scalar<int32_t>(1)})), ElementsAre(3, 3));
  EXPECT_THAT(Values<float>(Run1("Mean", {x, Scalar<int32_t>(0)})), ElementsAre(-1.5f, 3.5f, 7));
  EXPECT_THAT(Values<float>(Run1("Prod", {x, Scalar<int32_t>(1)})), ElementsAre(12, -160));
  EXPECT_THAT(Values<float>(Run1("Max", {x, Scalar<int32_t>(1)})), ElementsAre(6, 8));
  EXPECT_THAT(Values<float>(Run1("Min", {x, Scalar<int32_t>(0)})), ElementsAre(-4, 2, 6));
  // Integer mean truncates.
  EXPECT_THAT(Values<int32_t>(Run1("Mean", {TensorOf<int32_t>({3}, {1, 2, 4}),
                                            Scalar<int32_t>(0)})),
              ElementsAre(2));
  EXPECT_THAT(Values<int64_t>(Run1("Max", {TensorOf<int64_t>({2, 2}, {1, 9, 7, 3}),
                                           TensorOf<int32_t>({2}, {0, 1})})),
              ElementsAre(9));
  EXPECT_THAT(Values<bool>(Run1("All", {TensorOf<bool>({2, 2}, {true, true, true, false}),
                                        Scalar<int32_t>(1)})),
              ElementsAre(true, false));
  EXPECT_THAT(Values<bool>(Run1("Any", {TensorOf<bool>({2, 2}, {false, false, true, false}),
                                        Scalar<int32_t>(1)})),
              ElementsAre(false, true));
}

TEST(MathKernelsTest, ReductionsOfNothing) {
  const Tensor empty = TensorOf<float>({0, 2}, {});
  EXPECT_THAT(Values<float>(Run1("Sum", {empty, Scalar<int32_t>(0)})), ElementsAre(0, 0));
  EXPECT_THAT(Values<float>(Run1("Prod", {empty, Scalar<int32_t>(0)})), ElementsAre(1, 1));
  EXPECT_THAT(Values<float>(Run1("Max", {empty, Scalar<int32_t>(0)})), ElementsAre(-kInf, -kInf));
  EXPECT_THAT(Values<float>(Run1("Min", {empty, Scalar<int32_t>(0)})), ElementsAre(kInf, kInf));
  const std::vector<float> mean = Values<float>(Run1("Mean", {empty, Scalar<int32_t>(0)}));
  ASSERT_EQ(mean.size(), 2u);
  EXPECT_TRUE(std::isnan(mean[0]));
  EXPECT_THAT(Values<int32_t>(Run1("Mean", {TensorOf<int32_t>({0}, {}), Scalar<int32_t>(0)})),
              ElementsAre(0));
  EXPECT_EQ(Run1("Sum", {empty, Scalar<int32_t>(1)}).shape(), TensorShape({0}));
  EXPECT_EQ(Run1("Max", {TensorOf<float>({2, 0}, {}), Scalar<int32_t>(0)}).shape(),
            TensorShape({0}));
  EXPECT_EQ(Run1("Sum", {TensorOf<float>({2, 0, 3}, {}), TensorOf<int32_t>({2}, {0, 2})}).shape(),
            TensorShape({0}));
}

TEST(MathKernelsTest, ReductionsOverSeveralAxesMatchLoops) {
  // [4,3,5,2] reduced over every subset of axes, against nested loops.
  const std::vector<int64_t> dims = {4, 3, 5, 2};
  std::vector<float> x(4 * 3 * 5 * 2);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7) % 11) - 5;
  for (int mask = 0; mask < 16; ++mask) {
    std::vector<int32_t> axes;
    for (int a = 0; a < 4; ++a) {
      if ((mask >> a) & 1) axes.push_back(a);
    }
    std::vector<int64_t> out_dims;
    for (int a = 0; a < 4; ++a) out_dims.push_back(((mask >> a) & 1) ? 1 : dims[a]);
    std::vector<float> sum(out_dims[0] * out_dims[1] * out_dims[2] * out_dims[3], 0.0f);
    std::vector<float> max(sum.size(), -kInf);
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 3; ++j)
        for (int64_t k = 0; k < 5; ++k)
          for (int64_t l = 0; l < 2; ++l) {
            const float v = x[((i * 3 + j) * 5 + k) * 2 + l];
            const int64_t oi = (mask & 1) ? 0 : i, oj = (mask & 2) ? 0 : j;
            const int64_t ok = (mask & 4) ? 0 : k, ol = (mask & 8) ? 0 : l;
            const int64_t o = ((oi * out_dims[1] + oj) * out_dims[2] + ok) * out_dims[3] + ol;
            sum[o] += v;  // integer-valued: exact in any order
            max[o] = std::max(max[o], v);
          }
    const Tensor in = TensorOf<float>({4, 3, 5, 2}, x);
    const Tensor ax = TensorOf<int32_t>({static_cast<int64_t>(axes.size())}, axes);
    Tensor s = Run1("Sum", {in, ax}, AttrList().Bool("keep_dims", true));
    EXPECT_EQ(s.shape(), *TensorShape::FromDims(out_dims)) << mask;
    EXPECT_EQ(Values<float>(s), sum) << "axes mask " << mask;
    EXPECT_EQ(Values<float>(Run1("Max", {in, ax}, AttrList().Bool("keep_dims", true))), max)
        << "axes mask " << mask;
  }
}

TEST(MathKernelsTest, ReductionErrors) {
  const Tensor x = TensorOf<float>({2, 3}, std::vector<float>(6));
  absl::Status s = RunError("Sum", {x, Scalar<int32_t>(2)});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("invalid reduction axis 2"));
  s = RunError("Mean", {x, Scalar<int32_t>(-3)});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  s = RunError("Sum", {x, TensorOf<int32_t>({1, 1}, {0})});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Range and Select.

TEST(MathKernelsTest, Range) {
  EXPECT_THAT(Values<int32_t>(Run1("Range", {Scalar<int32_t>(0), Scalar<int32_t>(10),
                                             Scalar<int32_t>(3)})),
              ElementsAre(0, 3, 6, 9));
  EXPECT_THAT(Values<int64_t>(Run1("Range", {Scalar<int64_t>(10), Scalar<int64_t>(0),
                                             Scalar<int64_t>(-3)})),
              ElementsAre(10, 7, 4, 1));
  EXPECT_THAT(Values<float>(Run1("Range", {Scalar<float>(0), Scalar<float>(1),
                                           Scalar<float>(0.25f)})),
              ElementsAre(0, 0.25f, 0.5f, 0.75f));
  Tensor empty = Run1("Range", {Scalar<int32_t>(5), Scalar<int32_t>(5), Scalar<int32_t>(1)});
  EXPECT_EQ(empty.shape(), TensorShape({0}));
  absl::Status s = RunError("Range", {Scalar<int32_t>(0), Scalar<int32_t>(5), Scalar<int32_t>(0)});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("delta != 0"));
  s = RunError("Range", {Scalar<int32_t>(5), Scalar<int32_t>(0), Scalar<int32_t>(1)});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("start <= limit"));
  s = RunError("Range", {Scalar<int32_t>(0), Scalar<int32_t>(5), Scalar<int32_t>(-1)});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

TEST(MathKernelsTest, Select) {
  const Tensor t = TensorOf<float>({2, 2}, {1, 2, 3, 4});
  const Tensor e = TensorOf<float>({2, 2}, {-1, -2, -3, -4});
  EXPECT_THAT(Values<float>(Run1("Select", {TensorOf<bool>({2, 2}, {true, false, false, true}), t, e})),
              ElementsAre(1, -2, -3, 4));
  // A vector condition picks whole rows.
  EXPECT_THAT(Values<float>(Run1("Select", {TensorOf<bool>({2}, {false, true}), t, e})),
              ElementsAre(-1, -2, 3, 4));
  EXPECT_THAT(Values<float>(Run1("Select", {Scalar<bool>(false), t, e})),
              ElementsAre(-1, -2, -3, -4));
  EXPECT_THAT(Values<std::string>(Run1("Select", {TensorOf<bool>({2}, {true, false}),
                                                  StringTensor({2}, {"a", "b"}),
                                                  StringTensor({2}, {"x", "y"})})),
              ElementsAre("a", "y"));
  absl::Status s = RunError("Select", {TensorOf<bool>({3}, {true, true, true}), t, e});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  s = RunError("Select", {Scalar<bool>(true), t, TensorOf<float>({4}, {1, 2, 3, 4})});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

TEST(MathKernelsTest, SelectV2Broadcasts) {
  Tensor z = Run1("SelectV2", {TensorOf<bool>({2, 1}, {true, false}),
                               TensorOf<int32_t>({1, 3}, {1, 2, 3}), Scalar<int32_t>(0)},
                  AttrList().Type("T", DT_INT32));
  EXPECT_EQ(z.shape(), TensorShape({2, 3}));
  EXPECT_THAT(Values<int32_t>(z), ElementsAre(1, 2, 3, 0, 0, 0));
}

}  // namespace
}  // namespace ckpt
