// Random kernels: the Philox4x32-10 generator against Random123's published
// known-answer vectors, the bit conversions, and the kernels' streams —
// keying from (seed, seed2), the 256-steps-per-element reservation that
// makes each Run draw new numbers, moments of 100k draws, the truncation
// bound, determinism for fixed seeds and difference between seeds.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/kernel.h"
#include "ckpt/runtime/kernels/philox.h"
#include "ckpt/runtime/session.h"
#include "ckpt/tensor_proto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/kernel_harness.h"

namespace ckpt {
namespace {

using ::ckpt::runtime::Bfloat16FromFloat;
using ::ckpt::runtime::BoxMullerFloat;
using ::ckpt::runtime::HalfFromFloat;
using ::ckpt::runtime::Philox;
using ::ckpt::runtime::UnitDouble;
using ::ckpt::runtime::UnitFloat;
using ::ckpt::testing::AttrList;
using ::ckpt::testing::KernelRunOptions;
using ::ckpt::testing::RunKernel;
using ::ckpt::testing::TensorOf;
using ::ckpt::testing::Values;
using ::testing::ElementsAre;

// ---------------------------------------------------------------------------
// The generator and conversions.

TEST(PhiloxTest, Random123KnownAnswers) {
  EXPECT_THAT(Philox({0, 0, 0, 0}, {0, 0}).Next(),
              ElementsAre(0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u));
  EXPECT_THAT(Philox({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                     {0xffffffffu, 0xffffffffu})
                  .Next(),
              ElementsAre(0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu));
  EXPECT_THAT(Philox({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                     {0xa4093822u, 0x299f31d0u})
                  .Next(),
              ElementsAre(0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u));
}

TEST(PhiloxTest, SeedingCounterAndSkip) {
  // (seed, seed2) is key = seed, counter = {0, 0, lo(seed2), hi(seed2)}.
  Philox keyed(0x299f31d0a4093822ull, 0x0000000500000007ull);
  Philox explicit_form({0, 0, 7, 5}, {0xa4093822u, 0x299f31d0u});
  EXPECT_EQ(keyed.Next(), explicit_form.Next());
  EXPECT_THAT(keyed.counter(), ElementsAre(1u, 0u, 7u, 5u));
  // Next carries across words; Skip adds to the low 64 bits with carry.
  Philox wrap({0xffffffffu, 0xffffffffu, 0xffffffffu, 3}, {1, 2});
  wrap.Next();
  EXPECT_THAT(wrap.counter(), ElementsAre(0u, 0u, 0u, 4u));
  Philox skip({0xfffffff0u, 0, 9, 9}, {1, 2});
  skip.Skip(0x100000020ull);
  EXPECT_THAT(skip.counter(), ElementsAre(0x10u, 2u, 9u, 9u));
  Philox a({0, 0, 0, 0}, {3, 4}), b({0, 0, 0, 0}, {3, 4});
  a.Next();
  a.Next();
  b.Skip(2);
  EXPECT_EQ(a.Next(), b.Next());
}

TEST(PhiloxTest, BitConversions) {
  EXPECT_EQ(UnitFloat(0), 0.0f);
  EXPECT_EQ(UnitFloat(0xff800000u), 0.0f);  // only the low 23 bits count
  EXPECT_EQ(UnitFloat(0x7fffffu), 1.0f - std::ldexp(1.0f, -23));
  EXPECT_EQ(UnitFloat(0x400000u), 0.5f);
  EXPECT_EQ(UnitDouble(0, 0), 0.0);
  EXPECT_EQ(UnitDouble(0x80000u, 0), 0.5);
  EXPECT_EQ(UnitDouble(0xfffffu, 0xffffffffu), 1.0 - std::ldexp(1.0, -52));

  EXPECT_EQ(HalfFromFloat(1.0f), 0x3C00);
  EXPECT_EQ(HalfFromFloat(-2.0f), 0xC000);
  EXPECT_EQ(HalfFromFloat(65504.0f), 0x7BFF);
  EXPECT_EQ(HalfFromFloat(65520.0f), 0x7C00);  // the tie above the largest rounds to inf
  EXPECT_EQ(HalfFromFloat(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(HalfFromFloat(std::ldexp(1.0f, -25)), 0x0000);          // tie to even (0)
  EXPECT_EQ(HalfFromFloat(std::ldexp(3.0f, -26)), 0x0001);          // 0.75 ulp
  EXPECT_EQ(HalfFromFloat(std::ldexp(3.0f, -25)), 0x0002);          // tie 1.5 -> 2
  EXPECT_EQ(HalfFromFloat(std::ldexp(1.0f, -14)), 0x0400);          // smallest normal
  EXPECT_EQ(HalfFromFloat(1.0f + std::ldexp(1.0f, -11)), 0x3C00);   // tie to even
  EXPECT_EQ(HalfFromFloat(1.0f + std::ldexp(3.0f, -11)), 0x3C02);   // tie to even
  EXPECT_EQ(HalfFromFloat(INFINITY), 0x7C00);
  EXPECT_EQ(HalfFromFloat(NAN) & 0x7C00, 0x7C00);
  EXPECT_NE(HalfFromFloat(NAN) & 0x3FF, 0);
  EXPECT_EQ(Bfloat16FromFloat(1.0f), 0x3F80);
  EXPECT_EQ(Bfloat16FromFloat(1.0f + std::ldexp(1.0f, -8)), 0x3F80);  // tie to even
  EXPECT_EQ(Bfloat16FromFloat(1.0f + std::ldexp(3.0f, -8)), 0x3F82);

  // Box-Muller with angle 2 pi u2 = pi/2 (u2 = 0.25): x0 = r, x1 = 0.
  float f0, f1;
  BoxMullerFloat(0x000000u, 0x200000u, &f0, &f1);  // u1 = 0 is clamped to 1e-7
  EXPECT_NEAR(f0, std::sqrt(-2.0 * std::log(1e-7)), 1e-4);
  BoxMullerFloat(0x400000u, 0x200000u, &f0, &f1);  // u1 = 0.5: r = sqrt(2 ln 2)
  EXPECT_NEAR(f0, std::sqrt(2.0 * std::log(2.0)), 1e-6);
  EXPECT_NEAR(f1, 0.0, 1e-6);
}

// ---------------------------------------------------------------------------
// The kernels.

Tensor Shape1(int64_t n) { return TensorOf<int64_t>(TensorShape({1}), {n}); }

Tensor Draw(const std::string& op, DType dtype, int64_t n, int64_t seed, int64_t seed2) {
  auto out = RunKernel(op, AttrList().Type("dtype", dtype).Int("seed", seed).Int("seed2", seed2),
                       {Shape1(n)});
  EXPECT_TRUE(out.ok()) << op << ": " << out.status();
  return out.ok() ? (*out)[0] : Tensor();
}

struct Moments {
  double mean = 0, var = 0, min = INFINITY, max = -INFINITY;
};
template <typename T>
Moments MomentsOf(const Tensor& t) {
  Moments m;
  auto v = t.flat<T>();
  for (T x : v) {
    m.mean += x;
    m.min = std::min<double>(m.min, x);
    m.max = std::max<double>(m.max, x);
  }
  m.mean /= v.size();
  for (T x : v) m.var += (x - m.mean) * (x - m.mean);
  m.var /= v.size();
  return m;
}

constexpr int64_t kDraws = 100000;

TEST(RandomKernelsTest, UniformStreamAndMoments) {
  Tensor u = Draw("RandomUniform", DT_FLOAT, kDraws, 1, 2);
  ASSERT_EQ(u.NumElements(), kDraws);
  // The first values are the first Philox block, four floats from it.
  Philox gen(1, 2);
  Philox::Block b = gen.Next();
  EXPECT_THAT(std::vector<float>(u.flat<float>().begin(), u.flat<float>().begin() + 4),
              ElementsAre(UnitFloat(b[0]), UnitFloat(b[1]), UnitFloat(b[2]), UnitFloat(b[3])));
  Moments m = MomentsOf<float>(u);
  // Uniform [0,1): mean 1/2, variance 1/12; the mean of 1e5 draws has a
  // standard deviation of 0.0009.
  EXPECT_NEAR(m.mean, 0.5, 0.005);
  EXPECT_NEAR(m.var, 1.0 / 12, 0.002);
  EXPECT_GE(m.min, 0.0);
  EXPECT_LT(m.max, 1.0);

  Tensor d = Draw("RandomUniform", DT_DOUBLE, kDraws, 1, 2);
  Philox dgen(1, 2);
  Philox::Block db = dgen.Next();
  EXPECT_EQ(d.flat<double>()[0], UnitDouble(db[0], db[1]));
  EXPECT_EQ(d.flat<double>()[1], UnitDouble(db[2], db[3]));
  Moments md = MomentsOf<double>(d);
  EXPECT_NEAR(md.mean, 0.5, 0.005);
  EXPECT_NEAR(md.var, 1.0 / 12, 0.002);
}

TEST(RandomKernelsTest, NormalStreamAndMoments) {
  Tensor x = Draw("RandomStandardNormal", DT_FLOAT, kDraws, 7, 0);
  Philox gen(7, 0);
  Philox::Block b = gen.Next();
  float f[4];
  BoxMullerFloat(b[0], b[1], &f[0], &f[1]);
  BoxMullerFloat(b[2], b[3], &f[2], &f[3]);
  EXPECT_THAT(std::vector<float>(x.flat<float>().begin(), x.flat<float>().begin() + 4),
              ElementsAre(f[0], f[1], f[2], f[3]));
  Moments m = MomentsOf<float>(x);
  EXPECT_NEAR(m.mean, 0.0, 0.015);
  EXPECT_NEAR(m.var, 1.0, 0.02);
  EXPECT_GT(m.max, 3.0);  // 1e5 draws reach beyond 3 sigma (P(miss) ~ 1e-59)
  EXPECT_LT(m.min, -3.0);

  Tensor d = Draw("RandomStandardNormal", DT_DOUBLE, kDraws, 0, 7);
  Moments md = MomentsOf<double>(d);
  EXPECT_NEAR(md.mean, 0.0, 0.015);
  EXPECT_NEAR(md.var, 1.0, 0.02);

  // Half: the float values narrowed.
  Tensor h = Draw("RandomStandardNormal", DT_HALF, 4, 7, 0);
  EXPECT_THAT(std::vector<uint16_t>(h.flat<uint16_t>().begin(), h.flat<uint16_t>().end()),
              ElementsAre(HalfFromFloat(f[0]), HalfFromFloat(f[1]), HalfFromFloat(f[2]),
                          HalfFromFloat(f[3])));
}

TEST(RandomKernelsTest, TruncatedNormalStaysWithinTwoStddevs) {
  Tensor x = Draw("TruncatedNormal", DT_FLOAT, kDraws, 3, 4);
  Moments m = MomentsOf<float>(x);
  EXPECT_LT(m.max, 2.0);
  EXPECT_GT(m.min, -2.0);
  EXPECT_GT(m.max, 1.99);  // the bound is reached, not a narrower one
  EXPECT_LT(m.min, -1.99);
  // The standard normal truncated to (-2, 2) has variance
  // 1 - 4 phi(2) / (2 Phi(2) - 1) = 0.773741.
  EXPECT_NEAR(m.mean, 0.0, 0.012);
  EXPECT_NEAR(m.var, 0.773741, 0.015);

  // Group g of four values starts at counter step 256 g; values outside the
  // bound are skipped.
  Philox base(3, 4);
  for (int g : {0, 1, 1000}) {
    Philox local = base;
    local.Skip(256 * static_cast<uint64_t>(g));
    runtime::PhiloxWordStream words(&local);
    std::vector<float> want;
    while (want.size() < 4) {
      const uint32_t w0 = words.Next();
      const uint32_t w1 = words.Next();
      float f[2];
      BoxMullerFloat(w0, w1, &f[0], &f[1]);
      for (float v : f) {
        if (std::fabs(v) < 2.0f && want.size() < 4) want.push_back(v);
      }
    }
    std::vector<float> got(x.flat<float>().begin() + 4 * g, x.flat<float>().begin() + 4 * g + 4);
    EXPECT_EQ(got, want) << "group " << g;
  }

  Tensor d = Draw("TruncatedNormal", DT_DOUBLE, kDraws, 3, 4);
  Moments md = MomentsOf<double>(d);
  EXPECT_LT(md.max, 2.0);
  EXPECT_GT(md.min, -2.0);
  EXPECT_NEAR(md.var, 0.773741, 0.015);
  // A shape that is not a multiple of the group still fills every value.
  Tensor odd = Draw("TruncatedNormal", DT_FLOAT, 7, 3, 4);
  EXPECT_THAT(std::vector<float>(odd.flat<float>().begin(), odd.flat<float>().end()),
              ElementsAre(x.flat<float>()[0], x.flat<float>()[1], x.flat<float>()[2],
                          x.flat<float>()[3], x.flat<float>()[4], x.flat<float>()[5],
                          x.flat<float>()[6]));
}

TEST(RandomKernelsTest, FixedSeedsAreDeterministicAndSeedsDiffer) {
  for (const char* op : {"RandomUniform", "RandomStandardNormal", "TruncatedNormal"}) {
    Tensor a = Draw(op, DT_FLOAT, 1000, 42, 9);
    Tensor b = Draw(op, DT_FLOAT, 1000, 42, 9);
    EXPECT_TRUE(a.Identical(b)) << op;
    Tensor c = Draw(op, DT_FLOAT, 1000, 43, 9);
    Tensor d = Draw(op, DT_FLOAT, 1000, 42, 10);
    EXPECT_FALSE(a.Identical(c)) << op;
    EXPECT_FALSE(a.Identical(d)) << op;
    EXPECT_FALSE(c.Identical(d)) << op;
  }
}

TEST(RandomKernelsTest, UnseededUsesTheSessionSeedElseIsNondeterministic) {
  runtime::SessionState seeded(12345);
  KernelRunOptions opts;
  opts.state = &seeded;
  auto draw = [&](const KernelRunOptions& o) {
    auto out = RunKernel("RandomUniform", AttrList().Type("dtype", DT_FLOAT), {Shape1(64)}, o);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? (*out)[0] : Tensor();
  };
  EXPECT_TRUE(draw(opts).Identical(draw(opts)));
  // No session seed: two kernels draw different numbers.
  EXPECT_FALSE(draw(KernelRunOptions()).Identical(draw(KernelRunOptions())));
}

TEST(RandomKernelsTest, ShapeInputErrors) {
  auto err = [](Tensor shape) {
    return RunKernel("RandomUniform", AttrList().Type("dtype", DT_FLOAT), {shape}).status().code();
  };
  EXPECT_EQ(err(TensorOf<int32_t>(TensorShape({2}), {2, -1})), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(err(TensorOf<int32_t>(TensorShape({}), {3})), absl::StatusCode::kInvalidArgument);
  auto zero = RunKernel("RandomUniform", AttrList().Type("dtype", DT_FLOAT),
                        {TensorOf<int32_t>(TensorShape({2}), {0, 5})});
  ASSERT_TRUE(zero.ok()) << zero.status();
  EXPECT_EQ((*zero)[0].shape(), TensorShape({0, 5}));
}

// In a session the kernel lives across Runs: each Run draws the next numbers,
// starting 256 counter steps per element after the previous Run's start.
TEST(RandomKernelsTest, EachRunDrawsNewNumbers) {
  Graph g;
  ::tensorflow::NodeDef shape;
  shape.set_name("shape");
  shape.set_op("Const");
  (*shape.mutable_attr())["dtype"].set_type(DT_INT32);
  ASSERT_TRUE(TensorToProto(TensorOf<int32_t>(TensorShape({1}), {8}),
                            (*shape.mutable_attr())["value"].mutable_tensor())
                  .ok());
  ASSERT_TRUE(g.AddNode(shape).ok());
  ::tensorflow::NodeDef r;
  r.set_name("r");
  r.set_op("RandomUniform");
  r.add_input("shape");
  (*r.mutable_attr())["dtype"].set_type(DT_FLOAT);
  (*r.mutable_attr())["T"].set_type(DT_INT32);
  (*r.mutable_attr())["seed"].set_i(5);
  (*r.mutable_attr())["seed2"].set_i(6);
  auto added = g.AddNode(r);
  ASSERT_TRUE(added.ok()) << added.status();

  Session session(&g);
  auto first = session.Run(std::vector<std::pair<std::string, Tensor>>{}, {"r:0"});
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = session.Run(std::vector<std::pair<std::string, Tensor>>{}, {"r:0"});
  ASSERT_TRUE(second.ok()) << second.status();

  auto expect_run = [](const Tensor& t, Philox gen) {
    std::vector<float> want;
    for (int k = 0; k < 2; ++k) {
      for (uint32_t w : gen.Next()) want.push_back(UnitFloat(w));
    }
    EXPECT_EQ(Values<float>(t), want);
  };
  expect_run((*first)[0], Philox(5, 6));
  Philox later(5, 6);
  later.Skip(8 * 256);
  expect_run((*second)[0], later);
  EXPECT_FALSE((*first)[0].Identical((*second)[0]));

  // A second session starts the stream over.
  Session again(&g);
  auto repeat = again.Run(std::vector<std::pair<std::string, Tensor>>{}, {"r:0"});
  ASSERT_TRUE(repeat.ok()) << repeat.status();
  EXPECT_TRUE((*repeat)[0].Identical((*first)[0]));
}

}  // namespace
}  // namespace ckpt
