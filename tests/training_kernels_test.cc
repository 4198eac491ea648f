// Optimizer kernels on variable slots: TensorFlow's update formulas checked
// bit for bit against loops written here from the formulas, in-place versus
// copy-on-write updates, the reference output, and the errors.
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/kernel_harness.h"

namespace ckpt {
namespace {

using ::ckpt::runtime::VarSlot;
using ::ckpt::testing::AttrList;
using ::ckpt::testing::Bits;
using ::ckpt::testing::RunKernel;
using ::ckpt::testing::RunKernelSlots;
using ::ckpt::testing::Scalar;
using ::ckpt::testing::TensorOf;
using ::ckpt::testing::Values;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<float> RandomFloats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

void InitSlot(VarSlot* slot, const std::string& name, const std::vector<float>& values) {
  slot->name = name;
  slot->dtype = DT_FLOAT;
  slot->value = TensorOf<float>({static_cast<int64_t>(values.size())}, values);
}

TEST(TrainingKernelsTest, GradientDescentUpdatesInPlace) {
  VarSlot var;
  InitSlot(&var, "w", {1, 2, 3});
  const char* before = var.value.raw_data();
  auto out = RunKernelSlots("ApplyGradientDescent", AttrList(),
                            {&var, Scalar<float>(0.5f), TensorOf<float>({3}, {2, 4, 8})});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].ref, &var);
  EXPECT_THAT(Values<float>(var.value), ElementsAre(0, 0, -1));
  EXPECT_EQ(var.value.raw_data(), before);
}

TEST(TrainingKernelsTest, SharedValueIsCopiedNotChanged) {
  VarSlot var;
  InitSlot(&var, "w", {1, 2, 3});
  const Tensor snapshot = var.value;  // another holder of the buffer
  auto out = RunKernel("ApplyGradientDescent", AttrList(),
                       {&var, Scalar<float>(1.0f), TensorOf<float>({3}, {1, 1, 1})});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(Values<float>(snapshot), ElementsAre(1, 2, 3));
  EXPECT_THAT(Values<float>(var.value), ElementsAre(0, 1, 2));
  EXPECT_NE(var.value.raw_data(), snapshot.raw_data());
  EXPECT_THAT(Values<float>((*out)[0]), ElementsAre(0, 1, 2));
}

TEST(TrainingKernelsTest, GradientDescentErrors) {
  VarSlot uninitialized;
  uninitialized.name = "layer/weights";
  uninitialized.dtype = DT_FLOAT;
  absl::Status s = RunKernel("ApplyGradientDescent", AttrList().Type("T", DT_FLOAT),
                             {&uninitialized, Scalar<float>(0.1f), TensorOf<float>({1}, {1})})
                       .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("Attempting to use uninitialized value layer/weights"));

  VarSlot var;
  InitSlot(&var, "w", {1, 2, 3});
  s = RunKernel("ApplyGradientDescent", AttrList(),
                {&var, Scalar<float>(0.1f), TensorOf<float>({2}, {1, 1})})
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("[3]"));
  EXPECT_THAT(s.message(), HasSubstr("[2]"));
  s = RunKernel("ApplyGradientDescent", AttrList(),
                {&var, TensorOf<float>({1}, {0.1f}), TensorOf<float>({3}, {1, 1, 1})})
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("alpha is not a scalar"));
  // Nothing changed by the failed calls.
  EXPECT_THAT(Values<float>(var.value), ElementsAre(1, 2, 3));
}

TEST(TrainingKernelsTest, GradientDescentMatchesFormulaBitForBit) {
  const std::vector<float> w = RandomFloats(257, 1);
  const std::vector<float> g = RandomFloats(257, 2);
  const float lr = 0.1f;
  VarSlot var;
  InitSlot(&var, "w", w);
  ASSERT_TRUE(RunKernel("ApplyGradientDescent", AttrList(),
                        {&var, Scalar<float>(lr), TensorOf<float>({257}, g)})
                  .ok());
  std::vector<float> expected(w.size());
  for (size_t i = 0; i < w.size(); ++i) expected[i] = w[i] - g[i] * lr;
  EXPECT_EQ(Bits(Values<float>(var.value)), Bits(expected));
}

TEST(TrainingKernelsTest, MomentumMatchesFormulaBitForBit) {
  for (bool nesterov : {false, true}) {
    const size_t n = 100;
    std::vector<float> w = RandomFloats(n, 3), accum = RandomFloats(n, 4);
    VarSlot var, acc;
    InitSlot(&var, "w", w);
    InitSlot(&acc, "w/Momentum", accum);
    const float lr = 0.05f, momentum = 0.9f;
    for (int step = 0; step < 3; ++step) {
      const std::vector<float> g = RandomFloats(n, 10 + step);
      auto out = RunKernelSlots(
          "ApplyMomentum", AttrList().Bool("use_nesterov", nesterov),
          {&var, &acc, Scalar<float>(lr), TensorOf<float>({static_cast<int64_t>(n)}, g),
           Scalar<float>(momentum)});
      ASSERT_TRUE(out.ok()) << out.status();
      EXPECT_EQ((*out)[0].ref, &var);
      for (size_t i = 0; i < n; ++i) {
        accum[i] = accum[i] * momentum + g[i];
        if (nesterov) {
          w[i] = w[i] - (g[i] * lr + accum[i] * momentum * lr);
        } else {
          w[i] = w[i] - accum[i] * lr;
        }
      }
      EXPECT_EQ(Bits(Values<float>(acc.value)), Bits(accum)) << "nesterov " << nesterov;
      EXPECT_EQ(Bits(Values<float>(var.value)), Bits(w)) << "nesterov " << nesterov;
    }
  }
}

TEST(TrainingKernelsTest, AdamMatchesFormulaBitForBit) {
  for (bool nesterov : {false, true}) {
    const size_t n = 75;
    std::vector<float> w = RandomFloats(n, 5), m(n, 0.0f), v(n, 0.0f);
    VarSlot var, m_slot, v_slot;
    InitSlot(&var, "w", w);
    InitSlot(&m_slot, "w/Adam", m);
    InitSlot(&v_slot, "w/Adam_1", v);
    const float lr = 0.001f, beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-8f;
    float beta1_power = beta1, beta2_power = beta2;
    for (int step = 0; step < 5; ++step) {
      const std::vector<float> g = RandomFloats(n, 20 + step);
      auto out = RunKernelSlots(
          "ApplyAdam", AttrList().Bool("use_nesterov", nesterov),
          {&var, &m_slot, &v_slot, Scalar<float>(beta1_power), Scalar<float>(beta2_power),
           Scalar<float>(lr), Scalar<float>(beta1), Scalar<float>(beta2), Scalar<float>(epsilon),
           TensorOf<float>({static_cast<int64_t>(n)}, g)});
      ASSERT_TRUE(out.ok()) << out.status();
      EXPECT_EQ((*out)[0].ref, &var);
      const float alpha = lr * std::sqrt(1.0f - beta2_power) / (1.0f - beta1_power);
      for (size_t i = 0; i < n; ++i) {
        m[i] = m[i] + (g[i] - m[i]) * (1.0f - beta1);
        v[i] = v[i] + (g[i] * g[i] - v[i]) * (1.0f - beta2);
        const float numerator =
            nesterov ? (g[i] * (1.0f - beta1) + beta1 * m[i]) * alpha : m[i] * alpha;
        w[i] = w[i] - numerator / (std::sqrt(v[i]) + epsilon);
      }
      EXPECT_EQ(Bits(Values<float>(m_slot.value)), Bits(m)) << "step " << step;
      EXPECT_EQ(Bits(Values<float>(v_slot.value)), Bits(v)) << "step " << step;
      EXPECT_EQ(Bits(Values<float>(var.value)), Bits(w)) << "step " << step;
      beta1_power *= beta1;
      beta2_power *= beta2;
    }
  }
}

TEST(TrainingKernelsTest, AdamFirstStepByHand) {
  // From zero slots, the first Adam step moves each weight by about lr
  // against the gradient's sign: m = 0.1 g, v = 0.001 g^2,
  // alpha = lr * sqrt(0.001) / 0.1, step = alpha * m / sqrt(v) = lr * sign(g).
  VarSlot var, m, v;
  InitSlot(&var, "w", {1, 1});
  InitSlot(&m, "m", {0, 0});
  InitSlot(&v, "v", {0, 0});
  auto out = RunKernel("ApplyAdam", AttrList(),
                       {&var, &m, &v, Scalar<float>(0.9f), Scalar<float>(0.999f),
                        Scalar<float>(0.01f), Scalar<float>(0.9f), Scalar<float>(0.999f),
                        Scalar<float>(0.0f), TensorOf<float>({2}, {4, -0.5f})});
  ASSERT_TRUE(out.ok()) << out.status();
  const std::vector<float> w = Values<float>(var.value);
  EXPECT_NEAR(w[0], 0.99, 1e-6);
  EXPECT_NEAR(w[1], 1.01, 1e-6);
  EXPECT_THAT(Values<float>(m.value), ElementsAre(::testing::FloatNear(0.4f, 1e-6), ::testing::FloatNear(-0.05f, 1e-6)));
}

TEST(TrainingKernelsTest, CopyOnWriteForEverySlot) {
  VarSlot var, m, v;
  InitSlot(&var, "w", {1, 2});
  InitSlot(&m, "m", {0, 0});
  InitSlot(&v, "v", {0, 0});
  const Tensor m_snapshot = m.value;  // only m is shared
  const char* var_before = var.value.raw_data();
  auto out = RunKernel("ApplyAdam", AttrList(),
                       {&var, &m, &v, Scalar<float>(0.9f), Scalar<float>(0.999f),
                        Scalar<float>(0.01f), Scalar<float>(0.9f), Scalar<float>(0.999f),
                        Scalar<float>(1e-8f), TensorOf<float>({2}, {1, 1})});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(Values<float>(m_snapshot), ElementsAre(0, 0));
  EXPECT_NE(Values<float>(m.value), (std::vector<float>{0, 0}));
  EXPECT_EQ(var.value.raw_data(), var_before);
}

TEST(TrainingKernelsTest, MomentumAndAdamErrors) {
  VarSlot var, accum;
  InitSlot(&var, "w", {1, 2});
  InitSlot(&accum, "w/Momentum", {0, 0, 0});
  absl::Status s = RunKernel("ApplyMomentum", AttrList(),
                             {&var, &accum, Scalar<float>(0.1f), TensorOf<float>({2}, {1, 1}),
                              Scalar<float>(0.9f)})
                       .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("accum"));

  VarSlot m, v;
  InitSlot(&m, "w/Adam", {0, 0});
  v.name = "w/Adam_1";
  v.dtype = DT_FLOAT;
  s = RunKernel("ApplyAdam", AttrList().Type("T", DT_FLOAT),
                {&var, &m, &v, Scalar<float>(0.9f), Scalar<float>(0.999f), Scalar<float>(0.01f),
                 Scalar<float>(0.9f), Scalar<float>(0.999f), Scalar<float>(1e-8f),
                 TensorOf<float>({2}, {1, 1})})
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("w/Adam_1"));
  // No partial update happened.
  EXPECT_THAT(Values<float>(var.value), ElementsAre(1, 2));
  EXPECT_THAT(Values<float>(m.value), ElementsAre(0, 0));
}

TEST(TrainingKernelsTest, DoubleVariables) {
  VarSlot var;
  var.name = "d";
  var.dtype = DT_DOUBLE;
  var.value = TensorOf<double>({2}, {1.0, -1.0});
  ASSERT_TRUE(RunKernel("ApplyGradientDescent", AttrList(),
                        {&var, Scalar<double>(0.25), TensorOf<double>({2}, {2.0, 4.0})})
                  .ok());
  EXPECT_THAT(Values<double>(var.value), ElementsAre(0.5, -2.0));
}

}  // namespace
}  // namespace ckpt
