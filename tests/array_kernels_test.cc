// Array kernels through the kernel harness: shape queries, reshapes (and
// that Reshape does not copy), creation, tiling, joining, slicing with every
// StridedSlice mask, transposes, BroadcastGradientArgs' reduction indices,
// gathers and one-hot, on numbers, strings and other fixed-size dtypes;
// every expected value is worked out by hand from the op's definition.
#include <complex>
#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/kernel_harness.h"

namespace ckpt {
namespace {

using ::ckpt::testing::AttrList;
using ::ckpt::testing::KernelInput;
using ::ckpt::testing::RunKernel;
using ::ckpt::testing::Scalar;
using ::ckpt::testing::StringTensor;
using ::ckpt::testing::TensorOf;
using ::ckpt::testing::Values;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Tensor Run1(const std::string& op, std::vector<KernelInput> inputs,
            const AttrList& attrs = AttrList()) {
  auto out = RunKernel(op, attrs, std::move(inputs));
  EXPECT_TRUE(out.ok()) << op << ": " << out.status();
  if (!out.ok() || out->empty()) return Tensor();
  return (*out)[0];
}

absl::Status RunError(const std::string& op, std::vector<KernelInput> inputs,
                      const AttrList& attrs = AttrList()) {
  return RunKernel(op, attrs, std::move(inputs)).status();
}

Tensor I32(std::vector<int32_t> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return TensorOf<int32_t>(TensorShape({n}), v);
}
Tensor I64(std::vector<int64_t> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return TensorOf<int64_t>(TensorShape({n}), v);
}
// 0, 1, ..., n-1 as floats in `shape`.
Tensor Iota(const TensorShape& shape) {
  std::vector<float> v(static_cast<size_t>(shape.num_elements()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return TensorOf<float>(shape, v);
}

// ---------------------------------------------------------------------------
// Shape queries.

TEST(ArrayKernelsTest, ShapeSizeRank) {
  Tensor x = Iota(TensorShape({2, 3}));
  Tensor s = Run1("Shape", {x});
  EXPECT_EQ(s.dtype(), DT_INT32);
  EXPECT_THAT(Values<int32_t>(s), ElementsAre(2, 3));
  Tensor s64 = Run1("Shape", {x}, AttrList().Type("out_type", DT_INT64));
  EXPECT_EQ(s64.dtype(), DT_INT64);
  EXPECT_THAT(Values<int64_t>(s64), ElementsAre(2, 3));
  Tensor n = Run1("Size", {x});
  EXPECT_EQ(n.shape().rank(), 0);
  EXPECT_THAT(Values<int32_t>(n), ElementsAre(6));
  EXPECT_THAT(Values<int64_t>(Run1("Size", {x}, AttrList().Type("out_type", DT_INT64))),
              ElementsAre(6));
  EXPECT_THAT(Values<int32_t>(Run1("Rank", {x})), ElementsAre(2));
  EXPECT_THAT(Values<int32_t>(Run1("Rank", {Scalar<float>(1)})), ElementsAre(0));
  EXPECT_EQ(Run1("Shape", {Scalar<float>(1)}).shape(), TensorShape({0}));
  // Strings have shapes too.
  EXPECT_THAT(Values<int32_t>(Run1("Shape", {StringTensor(TensorShape({4}), {"a", "b", "c", "d"})})),
              ElementsAre(4));
}

// ---------------------------------------------------------------------------
// Reshape, ExpandDims, Squeeze, StopGradient.

TEST(ArrayKernelsTest, ReshapeInfersOneDimensionAndDoesNotCopy) {
  Tensor x = Iota(TensorShape({2, 3}));
  Tensor y = Run1("Reshape", {x, I32({3, -1})});
  EXPECT_EQ(y.shape(), TensorShape({3, 2}));
  EXPECT_THAT(Values<float>(y), ElementsAre(0, 1, 2, 3, 4, 5));
  EXPECT_EQ(y.raw_data(), x.raw_data());  // the same buffer
  EXPECT_EQ(Run1("Reshape", {x, I64({6})}).shape(), TensorShape({6}));
  EXPECT_EQ(Run1("Reshape", {x, I32({-1})}).shape(), TensorShape({6}));
  EXPECT_EQ(Run1("Reshape", {Scalar<float>(2), I32({1, 1})}).shape(), TensorShape({1, 1}));
  EXPECT_EQ(Run1("Reshape", {Iota(TensorShape({1})), TensorOf<int32_t>(TensorShape({0}), {})})
                .shape(),
            TensorShape({}));
  // A requested 0 leaves the input's zero dimensions out of the inference.
  EXPECT_EQ(Run1("Reshape", {Iota(TensorShape({0, 3})), I32({0, -1})}).shape(),
            TensorShape({0, 3}));
  Tensor s = Run1("Reshape", {StringTensor(TensorShape({2, 2}), {"a", "b", "c", "d"}), I32({4})});
  EXPECT_THAT(Values<std::string>(s), ElementsAre("a", "b", "c", "d"));
}

TEST(ArrayKernelsTest, ReshapeErrors) {
  Tensor x = Iota(TensorShape({2, 3}));
  absl::Status st = RunError("Reshape", {x, I32({4})});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("cannot reshape a tensor of 6 elements to shape [4]"));
  EXPECT_THAT(std::string(RunError("Reshape", {x, I32({4, -1})}).message()),
              HasSubstr("cannot reshape a tensor of 6 elements to shape [4,-1]"));
  EXPECT_THAT(std::string(RunError("Reshape", {x, I32({-1, -1})}).message()),
              HasSubstr("only one dimension"));
  EXPECT_EQ(RunError("Reshape", {x, I32({-2, -3})}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunError("Reshape", {x, TensorOf<int32_t>(TensorShape({2, 1}), {6, 1})}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ArrayKernelsTest, ExpandDimsSqueezeStopGradient) {
  Tensor x = Iota(TensorShape({2, 3}));
  EXPECT_EQ(Run1("ExpandDims", {x, Scalar<int32_t>(0)}).shape(), TensorShape({1, 2, 3}));
  EXPECT_EQ(Run1("ExpandDims", {x, Scalar<int32_t>(-1)}).shape(), TensorShape({2, 3, 1}));
  EXPECT_EQ(Run1("ExpandDims", {x, Scalar<int64_t>(1)}).shape(), TensorShape({2, 1, 3}));
  Tensor e = Run1("ExpandDims", {x, Scalar<int32_t>(2)});
  EXPECT_EQ(e.shape(), TensorShape({2, 3, 1}));
  EXPECT_THAT(Values<float>(e), ElementsAre(0, 1, 2, 3, 4, 5));
  EXPECT_EQ(RunError("ExpandDims", {x, Scalar<int32_t>(3)}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunError("ExpandDims", {x, Scalar<int32_t>(-4)}).code(),
            absl::StatusCode::kInvalidArgument);

  Tensor y = Iota(TensorShape({1, 2, 1, 3}));
  EXPECT_EQ(Run1("Squeeze", {y}).shape(), TensorShape({2, 3}));
  EXPECT_EQ(Run1("Squeeze", {y}, AttrList().IntList("squeeze_dims", {2})).shape(),
            TensorShape({1, 2, 3}));
  EXPECT_EQ(Run1("Squeeze", {y}, AttrList().IntList("squeeze_dims", {0, -2})).shape(),
            TensorShape({2, 3}));
  absl::Status st = RunError("Squeeze", {y}, AttrList().IntList("squeeze_dims", {1}));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr("dimension 1"));

  Tensor g = Run1("StopGradient", {x});
  EXPECT_TRUE(g.Identical(x));
}

// ---------------------------------------------------------------------------
// Fill, ZerosLike, OnesLike.

TEST(ArrayKernelsTest, FillZerosOnes) {
  Tensor f = Run1("Fill", {I32({2, 2}), Scalar<int32_t>(7)});
  EXPECT_EQ(f.shape(), TensorShape({2, 2}));
  EXPECT_THAT(Values<int32_t>(f), ElementsAre(7, 7, 7, 7));
  Tensor fs = Run1("Fill", {I64({3}), StringTensor(TensorShape(), {"ab"})});
  EXPECT_THAT(Values<std::string>(fs), ElementsAre("ab", "ab", "ab"));
  EXPECT_EQ(RunError("Fill", {I32({2}), I32({1, 2})}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunError("Fill", {I32({-1}), Scalar<float>(1)}).code(),
            absl::StatusCode::kInvalidArgument);
  // A hostile graph's Fill whose size overflows is an error, not a crash or
  // a wrapped-around small allocation.
  EXPECT_NE(RunError("Fill", {I64({int64_t{1} << 40, int64_t{1} << 40}), Scalar<float>(1)}).code(),
            absl::StatusCode::kOk);
  EXPECT_NE(RunError("Fill", {I64({int64_t{1} << 62, 8}), Scalar<float>(1)}).code(),
            absl::StatusCode::kOk);

  Tensor x = TensorOf<float>(TensorShape({3}), {4, -5, 6});
  EXPECT_THAT(Values<float>(Run1("ZerosLike", {x})), ElementsAre(0, 0, 0));
  EXPECT_THAT(Values<float>(Run1("OnesLike", {x})), ElementsAre(1, 1, 1));
  Tensor b = TensorOf<bool>(TensorShape({2}), {true, false});
  EXPECT_THAT(Values<bool>(Run1("ZerosLike", {b})), ElementsAre(false, false));
  EXPECT_THAT(Values<bool>(Run1("OnesLike", {b})), ElementsAre(true, true));
  EXPECT_THAT(Values<int64_t>(Run1("OnesLike", {I64({9, 9})})), ElementsAre(1, 1));
  Tensor h(DT_HALF, TensorShape({2}));
  Tensor h1 = Run1("OnesLike", {h});
  EXPECT_THAT(std::vector<uint16_t>(h1.flat<uint16_t>().begin(), h1.flat<uint16_t>().end()),
              ElementsAre(0x3C00, 0x3C00));
  Tensor c(DT_COMPLEX64, TensorShape({1}));
  EXPECT_EQ(Run1("OnesLike", {c}).flat<std::complex<float>>()[0], std::complex<float>(1, 0));
}

// ---------------------------------------------------------------------------
// Tile, Concat, Pack, Unpack.

TEST(ArrayKernelsTest, Tile) {
  Tensor x = TensorOf<int32_t>(TensorShape({2, 2}), {1, 2, 3, 4});
  Tensor t = Run1("Tile", {x, I32({2, 3})});
  EXPECT_EQ(t.shape(), TensorShape({4, 6}));
  EXPECT_THAT(Values<int32_t>(t), ElementsAre(1, 2, 1, 2, 1, 2,  //
                                              3, 4, 3, 4, 3, 4,  //
                                              1, 2, 1, 2, 1, 2,  //
                                              3, 4, 3, 4, 3, 4));
  Tensor s = Run1("Tile", {StringTensor(TensorShape({2}), {"a", "b"}), I64({2})});
  EXPECT_THAT(Values<std::string>(s), ElementsAre("a", "b", "a", "b"));
  EXPECT_EQ(Run1("Tile", {x, I32({0, 1})}).shape(), TensorShape({0, 2}));
  EXPECT_EQ(RunError("Tile", {x, I32({2})}).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ArrayKernelsTest, ConcatBothForms) {
  Tensor a = TensorOf<float>(TensorShape({2, 2}), {1, 2, 3, 4});
  Tensor b = TensorOf<float>(TensorShape({2, 1}), {5, 6});
  Tensor c1 = Run1("ConcatV2", {a, b, Scalar<int32_t>(1)});
  EXPECT_EQ(c1.shape(), TensorShape({2, 3}));
  EXPECT_THAT(Values<float>(c1), ElementsAre(1, 2, 5, 3, 4, 6));
  EXPECT_THAT(Values<float>(Run1("ConcatV2", {a, b, Scalar<int64_t>(-1)})),
              ElementsAre(1, 2, 5, 3, 4, 6));
  Tensor row = TensorOf<float>(TensorShape({1, 2}), {5, 6});
  Tensor c0 = Run1("ConcatV2", {a, row, a, Scalar<int32_t>(0)});
  EXPECT_EQ(c0.shape(), TensorShape({5, 2}));
  EXPECT_THAT(Values<float>(c0), ElementsAre(1, 2, 3, 4, 5, 6, 1, 2, 3, 4));
  // The old Concat takes the axis first.
  EXPECT_THAT(Values<float>(Run1("Concat", {Scalar<int32_t>(1), a, b})),
              ElementsAre(1, 2, 5, 3, 4, 6));
  Tensor s = Run1("ConcatV2", {StringTensor(TensorShape({1}), {"x"}),
                               StringTensor(TensorShape({2}), {"y", "z"}), Scalar<int32_t>(0)});
  EXPECT_THAT(Values<std::string>(s), ElementsAre("x", "y", "z"));
  absl::Status st = RunError("ConcatV2", {a, b, Scalar<int32_t>(0)});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunError("ConcatV2", {a, a, Scalar<int32_t>(2)}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunError("ConcatV2", {Scalar<float>(1), Scalar<float>(2), Scalar<int32_t>(0)}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ArrayKernelsTest, PackUnpack) {
  Tensor a = TensorOf<int32_t>(TensorShape({2}), {1, 2});
  Tensor b = TensorOf<int32_t>(TensorShape({2}), {3, 4});
  Tensor c = TensorOf<int32_t>(TensorShape({2}), {5, 6});
  Tensor p0 = Run1("Pack", {a, b, c});
  EXPECT_EQ(p0.shape(), TensorShape({3, 2}));
  EXPECT_THAT(Values<int32_t>(p0), ElementsAre(1, 2, 3, 4, 5, 6));
  Tensor p1 = Run1("Pack", {a, b, c}, AttrList().Int("axis", 1));
  EXPECT_EQ(p1.shape(), TensorShape({2, 3}));
  EXPECT_THAT(Values<int32_t>(p1), ElementsAre(1, 3, 5, 2, 4, 6));
  EXPECT_THAT(Values<int32_t>(Run1("Pack", {a, b, c}, AttrList().Int("axis", -1))),
              ElementsAre(1, 3, 5, 2, 4, 6));
  Tensor ps = Run1("Pack", {StringTensor(TensorShape(), {"p"}), StringTensor(TensorShape(), {"q"})});
  EXPECT_EQ(ps.shape(), TensorShape({2}));
  EXPECT_THAT(Values<std::string>(ps), ElementsAre("p", "q"));
  EXPECT_EQ(RunError("Pack", {a, I32({1, 2, 3})}).code(), absl::StatusCode::kInvalidArgument);

  Tensor m = TensorOf<int32_t>(TensorShape({2, 3}), {1, 2, 3, 4, 5, 6});
  auto cols = RunKernel("Unpack", AttrList().Int("num", 3).Int("axis", 1), {m});
  ASSERT_TRUE(cols.ok()) << cols.status();
  ASSERT_EQ(cols->size(), 3u);
  EXPECT_THAT(Values<int32_t>((*cols)[0]), ElementsAre(1, 4));
  EXPECT_THAT(Values<int32_t>((*cols)[1]), ElementsAre(2, 5));
  EXPECT_THAT(Values<int32_t>((*cols)[2]), ElementsAre(3, 6));
  auto rows = RunKernel("Unpack", AttrList().Int("num", 2), {m});
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ((*rows)[1].shape(), TensorShape({3}));
  EXPECT_THAT(Values<int32_t>((*rows)[1]), ElementsAre(4, 5, 6));
  EXPECT_EQ(RunKernel("Unpack", AttrList().Int("num", 2).Int("axis", 1), {m}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Slice and StridedSlice.

TEST(ArrayKernelsTest, Slice) {
  Tensor x = Iota(TensorShape({3, 4}));
  Tensor s = Run1("Slice", {x, I32({1, 1}), I32({2, -1})});
  EXPECT_EQ(s.shape(), TensorShape({2, 3}));
  EXPECT_THAT(Values<float>(s), ElementsAre(5, 6, 7, 9, 10, 11));
  EXPECT_THAT(Values<float>(Run1("Slice", {x, I64({0, 2}), I64({3, 1})})), ElementsAre(2, 6, 10));
  EXPECT_EQ(Run1("Slice", {x, I32({3, 0}), I32({0, 4})}).shape(), TensorShape({0, 4}));
  EXPECT_EQ(RunError("Slice", {x, I32({2, 0}), I32({2, 1})}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunError("Slice", {x, I32({-1, 0}), I32({1, 1})}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunError("Slice", {x, I32({0}), I32({1})}).code(), absl::StatusCode::kInvalidArgument);
}

Tensor StridedSlice(const Tensor& x, std::vector<int32_t> begin, std::vector<int32_t> end,
                    std::vector<int32_t> strides, AttrList masks = AttrList()) {
  return Run1("StridedSlice", {x, I32(begin), I32(end), I32(strides)}, masks);
}

TEST(ArrayKernelsTest, StridedSliceRangesAndMasks) {
  Tensor x = Iota(TensorShape({3, 4}));  // rows 0..3, 4..7, 8..11
  // x[1:3, ::2]
  Tensor a = StridedSlice(x, {1, 0}, {3, 0}, {1, 2}, AttrList().Int("end_mask", 2));
  EXPECT_EQ(a.shape(), TensorShape({2, 2}));
  EXPECT_THAT(Values<float>(a), ElementsAre(4, 6, 8, 10));
  // x[::-1]: rows reversed.
  Tensor b = StridedSlice(x, {0}, {0}, {-1}, AttrList().Int("begin_mask", 1).Int("end_mask", 1));
  EXPECT_EQ(b.shape(), TensorShape({3, 4}));
  EXPECT_THAT(Values<float>(b), ElementsAre(8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3));
  // x[-1]: the last row, rank reduced.
  Tensor c = StridedSlice(x, {-1}, {0}, {1}, AttrList().Int("shrink_axis_mask", 1));
  EXPECT_EQ(c.shape(), TensorShape({4}));
  EXPECT_THAT(Values<float>(c), ElementsAre(8, 9, 10, 11));
  // x[:, -1]
  Tensor d = StridedSlice(x, {0, -1}, {0, 0}, {1, 1},
                          AttrList().Int("begin_mask", 1).Int("end_mask", 1).Int(
                              "shrink_axis_mask", 2));
  EXPECT_EQ(d.shape(), TensorShape({3}));
  EXPECT_THAT(Values<float>(d), ElementsAre(3, 7, 11));
  // x[..., 1]
  Tensor e = StridedSlice(x, {0, 1}, {0, 2}, {1, 1},
                          AttrList().Int("ellipsis_mask", 1).Int("shrink_axis_mask", 2));
  EXPECT_EQ(e.shape(), TensorShape({3}));
  EXPECT_THAT(Values<float>(e), ElementsAre(1, 5, 9));
  // x[tf.newaxis, 0]
  Tensor f = StridedSlice(x, {0, 0}, {0, 1}, {1, 1},
                          AttrList().Int("new_axis_mask", 1).Int("shrink_axis_mask", 2));
  EXPECT_EQ(f.shape(), TensorShape({1, 4}));
  EXPECT_THAT(Values<float>(f), ElementsAre(0, 1, 2, 3));
  // x[1:2, tf.newaxis, 1:3] -> [1,1,2]
  Tensor g = StridedSlice(x, {1, 0, 1}, {2, 0, 3}, {1, 1, 1}, AttrList().Int("new_axis_mask", 2));
  EXPECT_EQ(g.shape(), TensorShape({1, 1, 2}));
  EXPECT_THAT(Values<float>(g), ElementsAre(5, 6));
}

TEST(ArrayKernelsTest, StridedSliceStridesAndBounds) {
  Tensor y = Iota(TensorShape({10}));
  EXPECT_THAT(Values<float>(StridedSlice(y, {8}, {2}, {-2})), ElementsAre(8, 6, 4));
  // y[-2::-3]: from 8 down past the start.
  EXPECT_THAT(Values<float>(StridedSlice(y, {-2}, {0}, {-3}, AttrList().Int("end_mask", 1))),
              ElementsAre(8, 5, 2));
  // Out-of-range bounds clamp.
  EXPECT_THAT(Values<float>(StridedSlice(y, {3}, {100}, {3})), ElementsAre(3, 6, 9));
  EXPECT_THAT(Values<float>(StridedSlice(y, {-100}, {2}, {1})), ElementsAre(0, 1));
  // Empty ranges.
  EXPECT_EQ(StridedSlice(y, {5}, {2}, {1}).shape(), TensorShape({0}));
  EXPECT_EQ(StridedSlice(y, {2}, {5}, {-1}).shape(), TensorShape({0}));
  Tensor s = Run1("StridedSlice", {StringTensor(TensorShape({3}), {"a", "b", "c"}), I64({2}),
                                   I64({0}), I64({-1})});
  EXPECT_THAT(Values<std::string>(s), ElementsAre("c", "b"));

  auto err = [&](std::vector<int32_t> b, std::vector<int32_t> e, std::vector<int32_t> st,
                 AttrList masks) {
    return RunError("StridedSlice", {y, I32(b), I32(e), I32(st)}, masks).code();
  };
  EXPECT_EQ(err({0}, {1}, {0}, AttrList()), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(err({10}, {11}, {1}, AttrList().Int("shrink_axis_mask", 1)),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(err({-11}, {0}, {1}, AttrList().Int("shrink_axis_mask", 1)),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(err({0, 0}, {1, 1}, {1, 1}, AttrList()), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(err({0, 0}, {1, 1}, {1, 1}, AttrList().Int("ellipsis_mask", 3)),
            absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Transpose.

TEST(ArrayKernelsTest, Transpose) {
  Tensor x = Iota(TensorShape({2, 3}));
  Tensor t = Run1("Transpose", {x, I32({1, 0})});
  EXPECT_EQ(t.shape(), TensorShape({3, 2}));
  EXPECT_THAT(Values<float>(t), ElementsAre(0, 3, 1, 4, 2, 5));
  // out[i][j][k] = x[j][k][i] = 4j + 2k + i.
  Tensor c = Iota(TensorShape({2, 2, 2}));
  EXPECT_THAT(Values<float>(Run1("Transpose", {c, I64({2, 0, 1})})),
              ElementsAre(0, 2, 4, 6, 1, 3, 5, 7));
  // Bytes of any width move: half values by their bits.
  Tensor h(DT_HALF, TensorShape({2, 2}));
  auto hv = h.mutable_flat<uint16_t>();
  hv[0] = 0x3C00;
  hv[1] = 0x4000;
  hv[2] = 0x4200;
  hv[3] = 0x4400;
  Tensor ht = Run1("Transpose", {h, I32({1, 0})});
  EXPECT_EQ(ht.dtype(), DT_HALF);
  EXPECT_THAT(std::vector<uint16_t>(ht.flat<uint16_t>().begin(), ht.flat<uint16_t>().end()),
              ElementsAre(0x3C00, 0x4200, 0x4000, 0x4400));
  Tensor s = Run1("Transpose", {StringTensor(TensorShape({1, 2}), {"a", "b"}), I32({1, 0})});
  EXPECT_EQ(s.shape(), TensorShape({2, 1}));
  EXPECT_EQ(RunError("Transpose", {x, I32({0, 0})}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunError("Transpose", {x, I32({0})}).code(), absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// BroadcastGradientArgs: TensorFlow's reduction indices.

void ExpectGradArgs(std::vector<int32_t> s0, std::vector<int32_t> s1, std::vector<int32_t> r0,
                    std::vector<int32_t> r1) {
  auto out = RunKernel("BroadcastGradientArgs", AttrList(), {I32(s0), I32(s1)});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Values<int32_t>((*out)[0]), r0);
  EXPECT_EQ(Values<int32_t>((*out)[1]), r1);
}

TEST(ArrayKernelsTest, BroadcastGradientArgs) {
  ExpectGradArgs({2, 3, 5}, {5}, {}, {0, 1});
  ExpectGradArgs({5}, {2, 3, 5}, {0, 1}, {});
  ExpectGradArgs({2, 1}, {1, 3}, {1}, {0});
  // A dimension of 1 on both sides is reduced on both ...
  ExpectGradArgs({1}, {2, 1}, {0, 1}, {1});
  ExpectGradArgs({300, 1}, {1, 1}, {1}, {0, 1});
  // ... unless the shapes are equal: nothing is broadcast at all.
  ExpectGradArgs({2, 1}, {2, 1}, {}, {});
  ExpectGradArgs({}, {3}, {0}, {});
  ExpectGradArgs({}, {}, {}, {});

  auto out = RunKernel("BroadcastGradientArgs", AttrList(), {I64({4, 1}), I64({3})});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].dtype(), DT_INT64);
  EXPECT_THAT(Values<int64_t>((*out)[0]), ElementsAre(1));
  EXPECT_THAT(Values<int64_t>((*out)[1]), ElementsAre(0));

  absl::Status st = RunKernel("BroadcastGradientArgs", AttrList(), {I32({2, 3}), I32({4})}).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr("[2,3] vs. [4]"));
}

// ---------------------------------------------------------------------------
// Gather and OneHot.

TEST(ArrayKernelsTest, Gather) {
  Tensor p = TensorOf<float>(TensorShape({3, 2}), {1, 2, 3, 4, 5, 6});
  Tensor g = Run1("Gather", {p, I32({2, 0})});
  EXPECT_EQ(g.shape(), TensorShape({2, 2}));
  EXPECT_THAT(Values<float>(g), ElementsAre(5, 6, 1, 2));
  Tensor g2 = Run1("GatherV2", {p, I64({1}), Scalar<int32_t>(1)});
  EXPECT_EQ(g2.shape(), TensorShape({3, 1}));
  EXPECT_THAT(Values<float>(g2), ElementsAre(2, 4, 6));
  Tensor v = TensorOf<int64_t>(TensorShape({2}), {10, 20});
  Tensor g3 = Run1("GatherV2", {v, TensorOf<int32_t>(TensorShape({2, 2}), {0, 1, 1, 0}),
                                Scalar<int32_t>(0)});
  EXPECT_EQ(g3.shape(), TensorShape({2, 2}));
  EXPECT_THAT(Values<int64_t>(g3), ElementsAre(10, 20, 20, 10));
  Tensor gs = Run1("Gather", {StringTensor(TensorShape({3}), {"a", "b", "c"}), I32({2, 2, 0})});
  EXPECT_THAT(Values<std::string>(gs), ElementsAre("c", "c", "a"));
  absl::Status st = RunError("Gather", {p, I32({0, 3})});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), HasSubstr("indices[1] = 3 is not in [0, 3)"));
  EXPECT_EQ(RunError("Gather", {p, I32({-1})}).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ArrayKernelsTest, OneHot) {
  Tensor idx = TensorOf<int32_t>(TensorShape({4}), {0, 2, -1, 1});
  Tensor oh = Run1("OneHot", {idx, Scalar<int32_t>(3), Scalar<float>(5), Scalar<float>(0)});
  EXPECT_EQ(oh.shape(), TensorShape({4, 3}));
  EXPECT_THAT(Values<float>(oh), ElementsAre(5, 0, 0, 0, 0, 5, 0, 0, 0, 0, 5, 0));
  Tensor oh0 = Run1("OneHot", {idx, Scalar<int32_t>(3), Scalar<float>(5), Scalar<float>(0)},
                    AttrList().Int("axis", 0));
  EXPECT_EQ(oh0.shape(), TensorShape({3, 4}));
  EXPECT_THAT(Values<float>(oh0), ElementsAre(5, 0, 0, 0, 0, 0, 0, 5, 0, 5, 0, 0));
  Tensor ohi = Run1("OneHot", {TensorOf<int64_t>(TensorShape({2}), {1, 7}), Scalar<int32_t>(2),
                               Scalar<int32_t>(1), Scalar<int32_t>(-1)});
  EXPECT_THAT(Values<int32_t>(ohi), ElementsAre(-1, 1, -1, -1));
  EXPECT_EQ(RunError("OneHot", {idx, Scalar<int32_t>(-1), Scalar<float>(1), Scalar<float>(0)})
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ckpt
