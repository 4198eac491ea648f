// Neural-network kernels through the kernel harness: activations and their
// gradients, softmax (stable for large logits), bias addition and its
// gradient, both cross-entropy losses, L2Loss, and their errors.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/kernel_harness.h"

namespace ckpt {
namespace {

using ::ckpt::testing::AttrList;
using ::ckpt::testing::RunKernel;
using ::ckpt::testing::Scalar;
using ::ckpt::testing::TensorOf;
using ::ckpt::testing::Values;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::FloatEq;
using ::testing::HasSubstr;
using ::testing::Pointwise;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<Tensor> RunAll(const std::string& op, std::vector<testing::KernelInput> inputs,
                        const AttrList& attrs = AttrList()) {
  auto out = RunKernel(op, attrs, std::move(inputs));
  EXPECT_TRUE(out.ok()) << op << ": " << out.status();
  return out.ok() ? *out : std::vector<Tensor>();
}

Tensor Run1(const std::string& op, std::vector<testing::KernelInput> inputs,
            const AttrList& attrs = AttrList()) {
  std::vector<Tensor> out = RunAll(op, std::move(inputs), attrs);
  return out.empty() ? Tensor() : out[0];
}

absl::Status RunError(const std::string& op, std::vector<testing::KernelInput> inputs,
                      const AttrList& attrs = AttrList()) {
  return RunKernel(op, attrs, std::move(inputs)).status();
}

TEST(NnKernelsTest, Relu) {
  const std::vector<float> y =
      Values<float>(Run1("Relu", {TensorOf<float>({5}, {-1, 0, 2, kNaN, -0.5f})}));
  ASSERT_EQ(y.size(), 5u);
  EXPECT_EQ(y[0], 0);
  EXPECT_EQ(y[1], 0);
  EXPECT_EQ(y[2], 2);
  EXPECT_TRUE(std::isnan(y[3]));
  EXPECT_EQ(y[4], 0);
  EXPECT_THAT(Values<int32_t>(Run1("Relu", {TensorOf<int32_t>({3}, {-3, 0, 3})})),
              ElementsAre(0, 0, 3));
}

TEST(NnKernelsTest, ReluGradPassesGradientWhereFeaturePositive) {
  Tensor z = Run1("ReluGrad", {TensorOf<float>({4}, {1, 2, 3, 4}),
                               TensorOf<float>({4}, {-1, 0, 5, 0.1f})});
  EXPECT_THAT(Values<float>(z), ElementsAre(0, 0, 3, 4));
  absl::Status s = RunError("ReluGrad", {TensorOf<float>({2}, {1, 2}),
                                         TensorOf<float>({1, 2}, {1, 2})});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

TEST(NnKernelsTest, SigmoidTanhAndGradients) {
  const std::vector<float> x = {0, 2, -3};
  const std::vector<float> s = Values<float>(Run1("Sigmoid", {TensorOf<float>({3}, x)}));
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], 0.5f);
  for (int i = 0; i < 3; ++i) EXPECT_FLOAT_EQ(s[i], 1.0 / (1.0 + std::exp(-x[i])));
  const std::vector<float> t = Values<float>(Run1("Tanh", {TensorOf<float>({3}, x)}));
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0], 0);
  for (int i = 0; i < 3; ++i) EXPECT_FLOAT_EQ(t[i], std::tanh(static_cast<double>(x[i])));
  // SigmoidGrad(y, dy) = dy * y * (1 - y); TanhGrad(y, dy) = dy * (1 - y^2).
  EXPECT_THAT(Values<float>(Run1("SigmoidGrad", {TensorOf<float>({2}, {0.5f, 0.25f}),
                                                 TensorOf<float>({2}, {2, 4})})),
              ElementsAre(0.5f, 0.75f));
  EXPECT_THAT(Values<float>(Run1("TanhGrad", {TensorOf<float>({2}, {0.5f, -1}),
                                              TensorOf<float>({2}, {2, 3})})),
              ElementsAre(1.5f, 0));
}

TEST(NnKernelsTest, SoftmaxRows) {
  // Rows [1,2,3] and [0,0,0]: e^(x - max) / sum.
  Tensor y = Run1("Softmax", {TensorOf<float>({2, 3}, {1, 2, 3, 0, 0, 0})});
  EXPECT_EQ(y.shape(), TensorShape({2, 3}));
  const double e1 = std::exp(-2.0), e2 = std::exp(-1.0), sum = e1 + e2 + 1;
  EXPECT_THAT(Values<float>(y), Pointwise(DoubleNear(1e-7), std::vector<float>{
                                    static_cast<float>(e1 / sum), static_cast<float>(e2 / sum),
                                    static_cast<float>(1 / sum), 1.0f / 3, 1.0f / 3, 1.0f / 3}));
  // Huge logits do not overflow.
  y = Run1("Softmax", {TensorOf<float>({1, 2}, {1000, 1000})});
  EXPECT_THAT(Values<float>(y), ElementsAre(0.5f, 0.5f));
  y = Run1("Softmax", {TensorOf<float>({3}, {-1000, 0, -1000})});
  EXPECT_THAT(Values<float>(y), ElementsAre(0, 1, 0));
}

TEST(NnKernelsTest, LogSoftmax) {
  Tensor y = Run1("LogSoftmax", {TensorOf<float>({1, 2}, {0, 0})});
  EXPECT_THAT(Values<float>(y), ElementsAre(FloatEq(-std::log(2.0f)), FloatEq(-std::log(2.0f))));
  y = Run1("LogSoftmax", {TensorOf<double>({3}, {1000, 0, 1000})});
  const double l2 = std::log(2.0);
  EXPECT_THAT(Values<double>(y), Pointwise(DoubleNear(1e-12), std::vector<double>{
                                     -l2, -1000 - l2, -l2}));
  absl::Status s = RunError("Softmax", {Scalar<float>(1)});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

TEST(NnKernelsTest, BiasAddOnLastDimension) {
  Tensor y = Run1("BiasAdd", {TensorOf<float>({2, 3}, {1, 2, 3, 4, 5, 6}),
                              TensorOf<float>({3}, {10, 20, 30})});
  EXPECT_EQ(y.shape(), TensorShape({2, 3}));
  EXPECT_THAT(Values<float>(y), ElementsAre(11, 22, 33, 14, 25, 36));
  // Rank 3, NHWC: channels last.
  y = Run1("BiasAdd", {TensorOf<float>({1, 2, 2}, {1, 2, 3, 4}), TensorOf<float>({2}, {10, 20})});
  EXPECT_THAT(Values<float>(y), ElementsAre(11, 22, 13, 24));
  // NCHW: channels in dimension 1.
  y = Run1("BiasAdd", {TensorOf<float>({1, 2, 2}, {1, 2, 3, 4}), TensorOf<float>({2}, {10, 20})},
           AttrList().Str("data_format", "NCHW"));
  EXPECT_THAT(Values<float>(y), ElementsAre(11, 12, 23, 24));
}

TEST(NnKernelsTest, BiasAddErrors) {
  absl::Status s = RunError("BiasAdd", {TensorOf<float>({2, 3}, std::vector<float>(6)),
                                        TensorOf<float>({2}, {1, 2})});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("[2,3]"));
  s = RunError("BiasAdd", {TensorOf<float>({3}, {1, 2, 3}), TensorOf<float>({3}, {1, 2, 3})});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  s = RunError("BiasAdd", {TensorOf<float>({1, 3}, {1, 2, 3}), TensorOf<float>({1, 3}, {1, 2, 3})});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

TEST(NnKernelsTest, BiasAddGradSumsAllButChannels) {
  Tensor g = Run1("BiasAddGrad", {TensorOf<float>({2, 3}, {1, 2, 3, 4, 5, 6})});
  EXPECT_EQ(g.shape(), TensorShape({3}));
  EXPECT_THAT(Values<float>(g), ElementsAre(5, 7, 9));
  g = Run1("BiasAddGrad", {TensorOf<float>({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8})},
           AttrList().Str("data_format", "NCHW"));
  // Channel 0: 1+2+5+6, channel 1: 3+4+7+8.
  EXPECT_THAT(Values<float>(g), ElementsAre(14, 22));
}

TEST(NnKernelsTest, SoftmaxCrossEntropy) {
  // Row 0: logits [0,0], labels [1,0]: loss ln 2, backprop [-0.5, 0.5].
  std::vector<Tensor> out = RunAll("SoftmaxCrossEntropyWithLogits",
                                {TensorOf<float>({2, 2}, {0, 0, 1000, 0}),
                                 TensorOf<float>({2, 2}, {1, 0, 0, 1})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].shape(), TensorShape({2}));
  EXPECT_EQ(out[1].shape(), TensorShape({2, 2}));
  // Row 1: logits [1000, 0] with label on class 1: loss 1000, backprop [1, -1].
  EXPECT_THAT(Values<float>(out[0]), ElementsAre(FloatEq(std::log(2.0f)), 1000));
  EXPECT_THAT(Values<float>(out[1]), ElementsAre(-0.5f, 0.5f, 1, -1));

  // Soft labels, against the definition in double.
  const std::vector<double> logits = {1, 2, 3};
  const std::vector<double> labels = {0.2, 0.3, 0.5};
  double z = 0;
  for (double l : logits) z += std::exp(l);
  double loss = 0;
  std::vector<double> backprop;
  for (int j = 0; j < 3; ++j) {
    loss -= labels[j] * std::log(std::exp(logits[j]) / z);
    backprop.push_back(std::exp(logits[j]) / z - labels[j]);
  }
  out = RunAll("SoftmaxCrossEntropyWithLogits",
            {TensorOf<double>({1, 3}, logits), TensorOf<double>({1, 3}, labels)});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_THAT(Values<double>(out[0]), ElementsAre(DoubleNear(loss, 1e-12)));
  EXPECT_THAT(Values<double>(out[1]), Pointwise(DoubleNear(1e-12), backprop));
}

TEST(NnKernelsTest, SoftmaxCrossEntropyBroadcastsLabels) {
  // One row of labels for a batch of two.
  std::vector<Tensor> out = RunAll("SoftmaxCrossEntropyWithLogits",
                                {TensorOf<float>({2, 2}, {0, 0, 0, 0}),
                                 TensorOf<float>({1, 2}, {0, 1})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_THAT(Values<float>(out[0]), ElementsAre(FloatEq(std::log(2.0f)), FloatEq(std::log(2.0f))));
  EXPECT_THAT(Values<float>(out[1]), ElementsAre(0.5f, -0.5f, 0.5f, -0.5f));
  absl::Status s = RunError("SoftmaxCrossEntropyWithLogits",
                            {TensorOf<float>({2, 3}, std::vector<float>(6)),
                             TensorOf<float>({2, 4}, std::vector<float>(8))});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("broadcastable"));
  s = RunError("SoftmaxCrossEntropyWithLogits",
               {TensorOf<float>({3}, {1, 2, 3}), TensorOf<float>({3}, {1, 0, 0})});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

TEST(NnKernelsTest, SparseSoftmaxCrossEntropy) {
  std::vector<Tensor> out = RunAll("SparseSoftmaxCrossEntropyWithLogits",
                                {TensorOf<float>({2, 3}, {0, 0, 0, 0, 1000, 0}),
                                 TensorOf<int32_t>({2}, {1, 1})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_THAT(Values<float>(out[0]), ElementsAre(FloatEq(std::log(3.0f)), 0));
  EXPECT_THAT(Values<float>(out[1]),
              ElementsAre(FloatEq(1.0f / 3), FloatEq(-2.0f / 3), FloatEq(1.0f / 3), 0, 0, 0));
  out = RunAll("SparseSoftmaxCrossEntropyWithLogits",
            {TensorOf<double>({1, 2}, {0, 0}), TensorOf<int64_t>({1}, {0})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_THAT(Values<double>(out[0]), ElementsAre(DoubleNear(std::log(2.0), 1e-15)));
  EXPECT_THAT(Values<double>(out[1]), ElementsAre(-0.5, 0.5));
}

TEST(NnKernelsTest, SparseLabelOutOfRange) {
  for (int32_t bad : {3, -1}) {
    absl::Status s = RunError("SparseSoftmaxCrossEntropyWithLogits",
                              {TensorOf<float>({2, 3}, std::vector<float>(6)),
                               TensorOf<int32_t>({2}, {0, bad})});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("[0, 3)"));
  }
  absl::Status s = RunError("SparseSoftmaxCrossEntropyWithLogits",
                            {TensorOf<float>({2, 3}, std::vector<float>(6)),
                             TensorOf<int32_t>({3}, {0, 0, 0})});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

TEST(NnKernelsTest, L2Loss) {
  EXPECT_THAT(Values<float>(Run1("L2Loss", {TensorOf<float>({3}, {1, 2, 3})})), ElementsAre(7));
}

}  // namespace
}  // namespace ckpt
