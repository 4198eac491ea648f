// ckpt_diff: the comparison library (equality rules, statistics, ordering,
// reports) and the tool as a user runs it (exit codes, text, JSON).
#include <cmath>
#include <complex>
#include <cstring>
#include <limits>
#include <sstream>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/bundle_writer.h"
#include "common/diff.h"
#include "gtest/gtest.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using testing::RunCommand;
using testing::ToolPath;
using tools::CompareValues;
using tools::DiffOptions;
using tools::DiffReport;
using tools::DiffStatus;
using tools::ValueDiff;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

template <typename T>
Tensor Make(DType dtype, const TensorShape& shape, const std::vector<T>& values) {
  Tensor t(dtype, shape);
  absl::Span<T> v = t.mutable_flat<T>();
  EXPECT_EQ(v.size(), values.size());
  for (size_t i = 0; i < values.size() && i < v.size(); ++i) v[i] = values[i];
  return t;
}

Tensor Floats(const TensorShape& shape, const std::vector<float>& values) {
  return Make<float>(DT_FLOAT, shape, values);
}

Tensor Doubles(const std::vector<double>& values) {
  return Make<double>(DT_DOUBLE, TensorShape({static_cast<int64_t>(values.size())}), values);
}

Tensor Strings(const std::vector<std::string>& values) {
  Tensor t(DT_STRING, TensorShape({static_cast<int64_t>(values.size())}));
  *t.mutable_strings() = values;
  return t;
}

ValueDiff Compare(const Tensor& a, const Tensor& b, const DiffOptions& options = {}) {
  absl::StatusOr<ValueDiff> v = CompareValues(a, b, options);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : ValueDiff{};
}

DiffOptions Tolerance(double atol, double rtol = 0.0, bool equal_nan = false) {
  DiffOptions o;
  o.tolerant = true;
  o.atol = atol;
  o.rtol = rtol;
  o.equal_nan = equal_nan;
  return o;
}

// The 4x3 "w" used by the tool tests: w[r][c] = r + c / 10.
Tensor Weights() {
  std::vector<float> v;
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 3; ++c) v.push_back(static_cast<float>(r + c / 10.0));
  }
  return Floats(TensorShape({4, 3}), v);
}

void WriteBundle(const std::string& prefix,
                 const std::vector<std::pair<std::string, Tensor>>& tensors) {
  BundleWriterOptions options;
  options.sync = false;
  BundleWriter writer(prefix, options);
  for (const auto& [name, t] : tensors) ASSERT_TRUE(writer.Add(name, t).ok()) << name;
  ASSERT_TRUE(writer.Finish().ok());
}

// w first, so that its payload starts at byte 0 of the data file.
std::vector<std::pair<std::string, Tensor>> BaseTensors() {
  return {{"w", Weights()},
          {"b", Floats(TensorShape({3}), {0.5f, -1.5f, 2.0f})},
          {"step", Make<int64_t>(DT_INT64, TensorShape({}), {1000})},
          {"vocab", Strings({"a", "b"})}};
}

std::vector<std::pair<std::string, Tensor>> With(std::vector<std::pair<std::string, Tensor>> base,
                                                 const std::string& name, Tensor t) {
  for (auto& [n, v] : base) {
    if (n == name) v = std::move(t);
  }
  return base;
}

absl::StatusOr<DiffReport> DiffPrefixes(const std::string& a, const std::string& b,
                                        const DiffOptions& options = {}) {
  auto ra = BundleReader::Open(a);
  if (!ra.ok()) return ra.status();
  auto rb = BundleReader::Open(b);
  if (!rb.ok()) return rb.status();
  return tools::DiffCheckpoints(**ra, **rb, options);
}

int RunDiff(const std::string& args, std::string* out) {
  return RunCommand(ToolPath("ckpt_diff") + " " + args, out);
}

std::string Q(const std::string& path) { return "'" + path + "'"; }

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---- the library: element rules and statistics -----------------------------

TEST(CompareValuesTest, IdenticalTensorsHaveNoDifferences) {
  const ValueDiff v = Compare(Weights(), Weights());
  EXPECT_EQ(v.kind, tools::ValueKind::kNumeric);
  EXPECT_EQ(v.elements, 12);
  EXPECT_EQ(v.differing, 0);
  EXPECT_EQ(v.bitwise_differing, 0);
  EXPECT_EQ(v.first_diff, -1);
  EXPECT_EQ(v.max_abs_diff, 0.0);
  EXPECT_EQ(v.l2_diff, 0.0);
  const Tensor w = Weights();
  double sum = 0;
  for (float x : w.flat<float>()) sum += static_cast<double>(x) * x;
  EXPECT_NEAR(v.l2_a, std::sqrt(sum), 1e-12);
}

TEST(CompareValuesTest, StatisticsOfChangedElements) {
  const Tensor a = Doubles({1.0, 2.0, 4.0, 8.0});
  const Tensor b = Doubles({1.0, 2.5, 4.0, 7.0});
  const ValueDiff v = Compare(a, b);
  EXPECT_EQ(v.differing, 2);
  EXPECT_EQ(v.bitwise_differing, 2);
  EXPECT_EQ(v.first_diff, 1);
  EXPECT_DOUBLE_EQ(v.max_abs_diff, 1.0);
  EXPECT_DOUBLE_EQ(v.max_rel_diff, 0.5 / 2.5);  // relative to B, as NumPy's rtol
  EXPECT_DOUBLE_EQ(v.l2_diff, std::sqrt(0.25 + 1.0));
  EXPECT_DOUBLE_EQ(v.l2_a, std::sqrt(1.0 + 4.0 + 16.0 + 64.0));
}

TEST(CompareValuesTest, ToleranceFollowsNumpyIsclose) {
  const Tensor a = Doubles({100.0, 1.0});
  const Tensor b = Doubles({100.5, 1.001});
  EXPECT_EQ(Compare(a, b).differing, 2);
  EXPECT_EQ(Compare(a, b, Tolerance(1e-2)).differing, 1);          // 0.5 > 0.01
  EXPECT_EQ(Compare(a, b, Tolerance(0.0, 1e-2)).differing, 0);     // 0.5 <= 1.005
  EXPECT_EQ(Compare(a, b, Tolerance(1e-3, 4e-3)).differing, 1);    // 0.5 > 0.403
  const ValueDiff close = Compare(a, b, Tolerance(1.0));
  EXPECT_EQ(close.differing, 0);
  EXPECT_EQ(close.bitwise_differing, 2);
  EXPECT_EQ(close.first_diff, -1);
  EXPECT_DOUBLE_EQ(close.max_abs_diff, 0.5);
}

TEST(CompareValuesTest, SignedZerosDifferBitwiseButNotByValue) {
  const Tensor a = Doubles({0.0});
  const Tensor b = Doubles({-0.0});
  EXPECT_EQ(Compare(a, b).differing, 1);
  EXPECT_EQ(Compare(a, b, Tolerance(0.0)).differing, 0);
}

TEST(CompareValuesTest, NaNRules) {
  const Tensor nan = Doubles({kNaN});
  const Tensor other_nan = Doubles({-kNaN});  // different bits
  const Tensor one = Doubles({1.0});
  DiffOptions exact_equal_nan;
  exact_equal_nan.equal_nan = true;
  // Exact: equal bits are equal, even for NaN.
  EXPECT_EQ(Compare(nan, nan).differing, 0);
  EXPECT_EQ(Compare(nan, other_nan).differing, 1);
  EXPECT_EQ(Compare(nan, other_nan, exact_equal_nan).differing, 0);
  // With tolerances NaN equals nothing unless equal_nan.
  EXPECT_EQ(Compare(nan, nan, Tolerance(1.0)).differing, 0);  // bitwise equal first
  EXPECT_EQ(Compare(nan, other_nan, Tolerance(1.0)).differing, 1);
  EXPECT_EQ(Compare(nan, other_nan, Tolerance(1.0, 0.0, true)).differing, 0);
  // NaN against a number never matches.
  const ValueDiff v = Compare(nan, one, Tolerance(1e9, 0.0, true));
  EXPECT_EQ(v.differing, 1);
  EXPECT_EQ(v.nonfinite_differing, 1);
  EXPECT_EQ(v.max_abs_diff, 0.0);  // taken over finite pairs only
}

TEST(CompareValuesTest, InfinitiesEqualOnlyThemselves) {
  const Tensor a = Doubles({kInf, kInf, -kInf});
  const Tensor b = Doubles({kInf, -kInf, 5.0});
  const ValueDiff v = Compare(a, b, Tolerance(1e300));
  EXPECT_EQ(v.differing, 2);
  EXPECT_EQ(v.nonfinite_differing, 2);
  EXPECT_EQ(v.first_diff, 1);
  EXPECT_EQ(tools::ChangeScore(v), kInf);
}

TEST(CompareValuesTest, RelativeDifferenceAgainstZeroIsInfinite) {
  const ValueDiff v = Compare(Doubles({1.0, 2.0}), Doubles({0.0, 2.0}));
  EXPECT_EQ(v.max_rel_diff, kInf);
  EXPECT_DOUBLE_EQ(v.max_abs_diff, 1.0);
}

TEST(CompareValuesTest, ComplexComparesBothParts) {
  using C = std::complex<float>;
  const TensorShape shape({2});
  const Tensor a = Make<C>(DT_COMPLEX64, shape, {C(1, 2), C(3, 4)});
  const Tensor b = Make<C>(DT_COMPLEX64, shape, {C(1, 2), C(3, 4.5f)});
  ValueDiff v = Compare(a, b);
  EXPECT_EQ(v.differing, 1);
  EXPECT_EQ(v.first_diff, 1);
  EXPECT_DOUBLE_EQ(v.max_abs_diff, 0.5);
  // NumPy's complex isclose: |a-b| = 0.5 against atol + rtol * |b| (|b| ~ 5.41).
  EXPECT_EQ(Compare(a, b, Tolerance(0.0, 0.09)).differing, 1);
  EXPECT_EQ(Compare(a, b, Tolerance(0.0, 0.1)).differing, 0);
  using Z = std::complex<double>;
  const Tensor c = Make<Z>(DT_COMPLEX128, shape, {Z(0, 0), Z(3, 4)});
  const Tensor d = Make<Z>(DT_COMPLEX128, shape, {Z(0, 0), Z(0, 0)});
  v = Compare(c, d);
  EXPECT_DOUBLE_EQ(v.max_abs_diff, 5.0);
  EXPECT_DOUBLE_EQ(v.l2_diff, 5.0);
}

TEST(CompareValuesTest, Int64IsExactBeyondDoublePrecision) {
  const int64_t big = (int64_t{1} << 60) + 1;
  const TensorShape shape({1});
  const ValueDiff v = Compare(Make<int64_t>(DT_INT64, shape, {big}),
                              Make<int64_t>(DT_INT64, shape, {big + 1}), Tolerance(0.5));
  EXPECT_EQ(v.differing, 1);
  EXPECT_EQ(v.max_abs_diff, 1.0);
  const uint64_t top = std::numeric_limits<uint64_t>::max();
  const ValueDiff u = Compare(Make<uint64_t>(DT_UINT64, shape, {top}),
                              Make<uint64_t>(DT_UINT64, shape, {0}));
  EXPECT_EQ(u.max_abs_diff, static_cast<double>(top));
}

TEST(CompareValuesTest, NarrowTypes) {
  const TensorShape shape({2});
  // float16 1.0 = 0x3c00, 1.0009765625 = 0x3c01.
  const ValueDiff h = Compare(Make<uint16_t>(DT_HALF, shape, {0x3c00, 0x3c00}),
                              Make<uint16_t>(DT_HALF, shape, {0x3c00, 0x3c01}));
  EXPECT_EQ(h.differing, 1);
  EXPECT_EQ(h.first_diff, 1);
  EXPECT_DOUBLE_EQ(h.max_abs_diff, 1.0 / 1024);
  // bfloat16 1.0 = 0x3f80, 2.0 = 0x4000.
  const ValueDiff bf = Compare(Make<uint16_t>(DT_BFLOAT16, shape, {0x3f80, 0x3f80}),
                               Make<uint16_t>(DT_BFLOAT16, shape, {0x4000, 0x3f80}));
  EXPECT_EQ(bf.first_diff, 0);
  EXPECT_DOUBLE_EQ(bf.max_abs_diff, 1.0);
  // int4 values live in the low nibble; the high bits carry nothing.
  EXPECT_EQ(Compare(Make<uint8_t>(DT_INT4, shape, {0x07, 0x0f}),
                    Make<uint8_t>(DT_INT4, shape, {0xf7, 0x0f}))
                .differing,
            0);
  const ValueDiff i4 = Compare(Make<uint8_t>(DT_INT4, shape, {0x07, 0x0f}),
                               Make<uint8_t>(DT_INT4, shape, {0x07, 0x01}));
  EXPECT_DOUBLE_EQ(i4.max_abs_diff, 2.0);  // -1 against 1
  EXPECT_EQ(Compare(Make<uint8_t>(DT_BOOL, shape, {1, 0}), Make<uint8_t>(DT_BOOL, shape, {1, 1}))
                .differing,
            1);
}

TEST(CompareValuesTest, StringsCountDifferingElements) {
  const ValueDiff v = Compare(Strings({"a", "b", "c", ""}), Strings({"a", "x", "c", "y"}),
                              Tolerance(100));
  EXPECT_EQ(v.kind, tools::ValueKind::kString);
  EXPECT_EQ(v.differing, 2);
  EXPECT_EQ(v.first_diff, 1);
  EXPECT_DOUBLE_EQ(tools::ChangeScore(v), 0.5);
  EXPECT_EQ(Compare(Strings({std::string("a\0b", 3)}), Strings({std::string("a\0c", 3)})).differing,
            1);
}

TEST(CompareValuesTest, RefusesMismatchedTensors) {
  EXPECT_EQ(CompareValues(Doubles({1}), Floats(TensorShape({1}), {1}), {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CompareValues(Doubles({1}), Doubles({1, 2}), {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CompareValuesTest, NormsOfHugeValuesDoNotOverflow) {
  const ValueDiff v = Compare(Doubles({3e200, 4e200}), Doubles({0.0, 0.0}));
  EXPECT_NEAR(v.l2_a / 5e200, 1.0, 1e-15);
  EXPECT_NEAR(v.l2_diff / 5e200, 1.0, 1e-15);
}

TEST(DiffLibraryTest, UnflattenIndex) {
  EXPECT_EQ(tools::UnflattenIndex(TensorShape({4, 3}), 10), (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(tools::UnflattenIndex(TensorShape({2, 3, 4}), 23), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(tools::UnflattenIndex(TensorShape({}), 0), (std::vector<int64_t>{}));
}

TEST(DiffLibraryTest, NameSelection) {
  DiffOptions o;
  EXPECT_TRUE(tools::NameSelected("anything", o));
  o.include = {"layer1/*", "bias_?"};
  EXPECT_TRUE(tools::NameSelected("layer1/dense/kernel", o));  // '*' crosses '/'
  EXPECT_TRUE(tools::NameSelected("bias_0", o));
  EXPECT_FALSE(tools::NameSelected("bias_10", o));
  EXPECT_FALSE(tools::NameSelected("layer2/kernel", o));
  o.exclude = {"*/kernel"};
  EXPECT_FALSE(tools::NameSelected("layer1/dense/kernel", o));
  EXPECT_TRUE(tools::NameSelected("layer1/dense/bias", o));
}

TEST(DiffLibraryTest, ChangeScoreIsRelativeToTheScaleOfA) {
  ValueDiff v = Compare(Doubles({100.0, 100.0}), Doubles({100.0, 101.0}));
  EXPECT_DOUBLE_EQ(tools::ChangeScore(v), 0.01);
  v = Compare(Doubles({0.0, 0.0}), Doubles({0.0, 1e-9}));
  EXPECT_EQ(tools::ChangeScore(v), kInf);
  EXPECT_EQ(tools::ChangeScore(Compare(Doubles({1.0}), Doubles({1.0}))), 0.0);
}

TEST(DiffLibraryTest, SortPutsTheBiggestChangeFirst) {
  auto make = [](const std::string& name, DiffStatus status, double a, double b) {
    tools::TensorDiff d;
    d.name = name;
    d.status = status;
    d.values_compared = status == DiffStatus::kValuesDiffer || status == DiffStatus::kIdentical;
    if (d.values_compared) d.values = Compare(Doubles({a, 1.0}), Doubles({b, 1.0}));
    return d;
  };
  std::vector<tools::TensorDiff> t = {
      make("same", DiffStatus::kIdentical, 1, 1),
      make("small", DiffStatus::kValuesDiffer, 10, 10.01),
      make("gone", DiffStatus::kOnlyInA, 0, 0),
      make("big", DiffStatus::kValuesDiffer, 10, 20),
      make("new", DiffStatus::kOnlyInB, 0, 0),
      make("reshaped", DiffStatus::kShapeChanged, 0, 0),
      make("recast", DiffStatus::kDtypeChanged, 0, 0),
  };
  tools::SortByChange(&t);
  std::vector<std::string> names;
  for (const auto& d : t) names.push_back(d.name);
  EXPECT_EQ(names, (std::vector<std::string>{"recast", "reshaped", "gone", "new", "big", "small",
                                             "same"}));
}

// ---- the library on checkpoints ---------------------------------------------

TEST(DiffCheckpointsTest, ClassifiesEveryName) {
  testing::ScratchDir dir;
  WriteBundle(dir.Join("a"), {{"same", Weights()},
                              {"values", Doubles({1, 2, 3})},
                              {"recast", Doubles({1})},
                              {"reshaped", Doubles({1, 2})},
                              {"old_name", Doubles({7})}});
  WriteBundle(dir.Join("b"), {{"same", Weights()},
                              {"values", Doubles({1, 2, 3.5})},
                              {"recast", Floats(TensorShape({1}), {1})},
                              {"reshaped", Doubles({1, 2, 3})},
                              {"new_name", Doubles({7})}});
  absl::StatusOr<DiffReport> r = DiffPrefixes(dir.Join("a"), dir.Join("b"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->tensors.size(), 6u);
  const std::vector<std::pair<std::string, DiffStatus>> expected = {
      {"recast", DiffStatus::kDtypeChanged}, {"reshaped", DiffStatus::kShapeChanged},
      {"old_name", DiffStatus::kOnlyInA},    {"new_name", DiffStatus::kOnlyInB},
      {"values", DiffStatus::kValuesDiffer}, {"same", DiffStatus::kIdentical}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(r->tensors[i].name, expected[i].first);
    EXPECT_EQ(r->tensors[i].status, expected[i].second) << expected[i].first;
  }
  EXPECT_EQ(r->tensors[2].dtype_b, DT_INVALID);
  EXPECT_EQ(r->tensors[4].values.first_diff, 2);
  EXPECT_FALSE(r->equal());
  EXPECT_EQ(tools::SummaryLine(*r), "1 identical, 3 changed, 1 only in A, 1 only in B");

  DiffOptions names_only;
  names_only.names_only = true;
  r = DiffPrefixes(dir.Join("a"), dir.Join("b"), names_only);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->tensors.back().values_compared);
  EXPECT_EQ(tools::SummaryLine(*r),
            "2 identical, 2 changed, 1 only in A, 1 only in B (names, dtypes and shapes only)");
}

TEST(DiffCheckpointsTest, PartitionedTensorsCompareWhole) {
  testing::ScratchDir dir;
  const TensorShape full({4, 3});
  for (const char* side : {"a", "b"}) {
    BundleWriterOptions options;
    options.sync = false;
    BundleWriter writer(dir.Join(side), options);
    Tensor top = Floats(TensorShape({2, 3}), {0, 1, 2, 3, 4, 5});
    Tensor bottom = Floats(TensorShape({2, 3}), {6, 7, 8, 9, 10, 11});
    if (std::string(side) == "b") bottom.mutable_flat<float>()[4] = 10.5f;  // element [3,1]
    ASSERT_TRUE(writer.AddSlice("part", full, *TensorSlice::Parse("0,2:-"), top).ok());
    ASSERT_TRUE(writer.AddSlice("part", full, *TensorSlice::Parse("2,2:-"), bottom).ok());
    ASSERT_TRUE(writer.Finish().ok());
  }
  absl::StatusOr<DiffReport> r = DiffPrefixes(dir.Join("a"), dir.Join("b"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->tensors.size(), 1u);
  EXPECT_EQ(r->tensors[0].status, DiffStatus::kValuesDiffer);
  EXPECT_EQ(tools::UnflattenIndex(full, r->tensors[0].values.first_diff),
            (std::vector<int64_t>{3, 1}));
  EXPECT_DOUBLE_EQ(r->tensors[0].values.max_abs_diff, 0.5);
}

TEST(DiffCheckpointsTest, WithinToleranceIsEqualButReported) {
  testing::ScratchDir dir;
  WriteBundle(dir.Join("a"), {{"x", Doubles({1.0, 2.0})}, {"y", Doubles({3.0})}});
  WriteBundle(dir.Join("b"), {{"x", Doubles({1.0, 2.001})}, {"y", Doubles({3.0})}});
  absl::StatusOr<DiffReport> r = DiffPrefixes(dir.Join("a"), dir.Join("b"), Tolerance(1e-2));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->equal());
  EXPECT_EQ(r->tensors[0].status, DiffStatus::kWithinTolerance);
  EXPECT_EQ(tools::SummaryLine(*r),
            "1 identical, 1 within tolerance, 0 changed, 0 only in A, 0 only in B");
  const std::string all = tools::DiffText(*r, /*list_all=*/true);
  EXPECT_TRUE(Contains(all, "close      x")) << all;
  EXPECT_TRUE(Contains(all, "1 of 2 elements differ, all within tolerance")) << all;
  EXPECT_FALSE(Contains(tools::DiffText(*r, /*list_all=*/false), "close")) << all;
}

TEST(DiffCheckpointsTest, TextFitsEightyColumns) {
  testing::ScratchDir dir;
  const std::string long_name(60, 'n');
  WriteBundle(dir.Join("a"), {{"short", Doubles({1.0})},
                              {"model/layer_3/attention/output/dense/kernel", Doubles({1, 2})},
                              {long_name, Doubles({1.0})}});
  WriteBundle(dir.Join("b"), {{"short", Doubles({1.5})},
                              {"model/layer_3/attention/output/dense/kernel", Doubles({1, 3})},
                              {long_name, Doubles({2.0})}});
  absl::StatusOr<DiffReport> r = DiffPrefixes(dir.Join("a"), dir.Join("b"));
  ASSERT_TRUE(r.ok()) << r.status();
  const std::string text = tools::DiffText(*r, false);
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("A: ", 0) == 0 || line.rfind("B: ", 0) == 0) continue;  // paths
    EXPECT_LE(line.size(), 80u) << line;
  }
  EXPECT_TRUE(Contains(text, "changed    model/layer_3/attention/output/dense/kernel  float64[2]"))
      << text;
}

// ---- the tool ---------------------------------------------------------------

class DiffToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = dir_.Join("a/model.ckpt");
    WriteBundle(a_, BaseTensors());
  }
  // A checkpoint beside A holding `tensors`.
  std::string Write(const std::string& name,
                    const std::vector<std::pair<std::string, Tensor>>& tensors) {
    const std::string prefix = dir_.Join(name);
    WriteBundle(prefix, tensors);
    return prefix;
  }
  // A copy of A whose w[3,1] is larger by 1e-3.
  std::string Nudged() {
    Tensor w = Weights();
    w.mutable_flat<float>()[3 * 3 + 1] += 1e-3f;
    return Write("nudged", With(BaseTensors(), "w", w));
  }

  testing::ScratchDir dir_;
  std::string a_;
};

TEST_F(DiffToolTest, CheckpointEqualsItself) {
  std::string out;
  EXPECT_EQ(RunDiff(Q(a_) + " " + Q(a_), &out), 0) << out;
  EXPECT_TRUE(Contains(out, "4 identical, 0 changed, 0 only in A, 0 only in B")) << out;
  // Any path form works: the directory's files and the prefix's index file.
  EXPECT_EQ(RunDiff(Q(a_ + ".index") + " " + Q(a_ + ".data-00000-of-00001"), &out), 0) << out;
}

TEST_F(DiffToolTest, ReportsTheChangedElement) {
  const std::string b = Nudged();
  std::string out;
  EXPECT_EQ(RunDiff(Q(a_) + " " + Q(b), &out), 1) << out;
  EXPECT_TRUE(Contains(out, "changed    w  float32[4,3]")) << out;
  EXPECT_TRUE(Contains(out, "1 of 12 elements differ (8.33%), first at [3,1]")) << out;
  EXPECT_TRUE(Contains(out, "max abs diff 0.000999927521")) << out;
  EXPECT_TRUE(Contains(out, "3 identical, 1 changed, 0 only in A, 0 only in B")) << out;

  EXPECT_EQ(RunCommand(ToolPath("ckpt_diff") + " --json " + Q(a_) + " " + Q(b), &out, false), 1);
  const nlohmann::json doc = nlohmann::json::parse(out);
  ASSERT_EQ(doc["tensors"].size(), 4u);
  const nlohmann::json& w = doc["tensors"][0];
  EXPECT_EQ(w["name"], "w");
  EXPECT_EQ(w["status"], "values_differ");
  EXPECT_EQ(w["a"]["dtype"], "float32");
  EXPECT_EQ(w["b"]["shape"], nlohmann::json::array({4, 3}));
  EXPECT_EQ(w["values"]["kind"], "numeric");
  EXPECT_EQ(w["values"]["differing"], 1);
  EXPECT_EQ(w["values"]["first_diff_index"], nlohmann::json::array({3, 1}));
  EXPECT_NEAR(w["values"]["max_abs_diff"].get<double>(), 1e-3, 1e-6);
  EXPECT_NEAR(w["values"]["max_rel_diff"].get<double>(), 1e-3 / 3.101, 1e-6);
  EXPECT_NEAR(w["values"]["l2_diff"].get<double>(), 1e-3, 1e-6);
  EXPECT_EQ(doc["tensors"][1]["status"], "identical");
  EXPECT_EQ(doc["summary"]["changed"], 1);
  EXPECT_EQ(doc["summary"]["identical"], 3);
  EXPECT_EQ(doc["summary"]["equal"], false);
  EXPECT_EQ(doc["options"]["atol"], nullptr);
}

TEST_F(DiffToolTest, ToleranceAcceptsTheChange) {
  const std::string b = Nudged();
  std::string out;
  EXPECT_EQ(RunDiff("--atol 1e-2 " + Q(a_) + " " + Q(b), &out), 0) << out;
  EXPECT_TRUE(Contains(out, "3 identical, 1 within tolerance, 0 changed")) << out;
  EXPECT_EQ(RunDiff("--atol=1e-4 " + Q(a_) + " " + Q(b), &out), 1) << out;
  EXPECT_EQ(RunDiff("--rtol 1e-3 " + Q(a_) + " " + Q(b), &out), 0) << out;  // 1e-3 <= 3.1e-3
  EXPECT_EQ(RunDiff("--atol 1e-2 --json " + Q(a_) + " " + Q(b), &out), 0) << out;
  EXPECT_TRUE(Contains(out, "\"within_tolerance\"")) << out;
}

TEST_F(DiffToolTest, RenamedTensorIsOnlyOnOneSide) {
  auto tensors = BaseTensors();
  tensors[1].first = "bias";  // was "b"
  const std::string b = Write("renamed", tensors);
  std::string out;
  EXPECT_EQ(RunDiff(Q(a_) + " " + Q(b), &out), 1) << out;
  EXPECT_TRUE(Contains(out, "only in A  b ")) << out;
  EXPECT_TRUE(Contains(out, "only in B  bias")) << out;
  EXPECT_TRUE(Contains(out, "3 identical, 0 changed, 1 only in A, 1 only in B")) << out;
}

TEST_F(DiffToolTest, DtypeAndShapeChanges) {
  auto tensors = With(BaseTensors(), "step", Make<int32_t>(DT_INT32, TensorShape({}), {1000}));
  tensors = With(tensors, "b", Floats(TensorShape({1, 3}), {0.5f, -1.5f, 2.0f}));
  const std::string b = Write("retyped", tensors);
  std::string out;
  EXPECT_EQ(RunDiff(Q(a_) + " " + Q(b), &out), 1) << out;
  EXPECT_TRUE(Contains(out, "dtype      step  int64[] -> int32[]")) << out;
  EXPECT_TRUE(Contains(out, "shape      b     float32[3] -> float32[1,3]")) << out;
  EXPECT_TRUE(Contains(out, "2 identical, 2 changed, 0 only in A, 0 only in B")) << out;
  EXPECT_EQ(RunDiff("--json " + Q(a_) + " " + Q(b), &out), 1);
  EXPECT_TRUE(Contains(out, "\"status\": \"dtype_changed\"")) << out;
  EXPECT_TRUE(Contains(out, "\"status\": \"shape_changed\"")) << out;
}

TEST_F(DiffToolTest, NaNHandling) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor with_nan = Weights();
  with_nan.mutable_flat<float>()[5] = nan;
  const std::string a = Write("nan_a", With(BaseTensors(), "w", with_nan));
  const std::string b = Write("nan_b", With(BaseTensors(), "w", with_nan));
  std::string out;
  // Exact: the same NaN bits are equal.
  EXPECT_EQ(RunDiff(Q(a) + " " + Q(b), &out), 0) << out;
  // Bitwise-equal NaNs stay equal under tolerances too...
  EXPECT_EQ(RunDiff("--atol 1 " + Q(a) + " " + Q(b), &out), 0) << out;
  // ...but NaNs with different bits are unequal unless --equal_nan.
  Tensor other_nan = with_nan.Clone();
  const uint32_t bits = 0x7fc00001u;
  std::memcpy(&other_nan.mutable_flat<float>()[5], &bits, 4);
  const std::string c = Write("nan_c", With(BaseTensors(), "w", other_nan));
  EXPECT_EQ(RunDiff(Q(a) + " " + Q(c), &out), 1) << out;
  EXPECT_EQ(RunDiff("--atol 1 " + Q(a) + " " + Q(c), &out), 1) << out;
  EXPECT_TRUE(Contains(out, "first at [1,2]")) << out;
  EXPECT_TRUE(Contains(out, "1 of them involve NaN or Inf")) << out;
  EXPECT_EQ(RunDiff("--atol 1 --equal_nan " + Q(a) + " " + Q(c), &out), 0) << out;
  EXPECT_EQ(RunDiff("--equal_nan " + Q(a) + " " + Q(c), &out), 0) << out;
  // A NaN never equals a number.
  EXPECT_EQ(RunDiff("--atol 1e30 --equal_nan " + Q(a) + " " + Q(a_), &out), 1) << out;
}

TEST_F(DiffToolTest, IncludeAndExclude) {
  const std::string b = Nudged();
  std::string out;
  EXPECT_EQ(RunDiff("--exclude w " + Q(a_) + " " + Q(b), &out), 0) << out;
  EXPECT_TRUE(Contains(out, "3 identical, 0 changed")) << out;
  EXPECT_EQ(RunDiff("--include 'w*' --include 's?ep' " + Q(a_) + " " + Q(b), &out), 1) << out;
  EXPECT_TRUE(Contains(out, "1 identical, 1 changed, 0 only in A, 0 only in B")) << out;
  EXPECT_EQ(RunDiff("--include '*' --exclude '?' " + Q(a_) + " " + Q(b), &out), 0) << out;
  EXPECT_TRUE(Contains(out, "2 identical, 0 changed")) << out;
}

TEST_F(DiffToolTest, NamesOnlyIgnoresValues) {
  const std::string b = Nudged();
  std::string out;
  EXPECT_EQ(RunDiff("--names_only " + Q(a_) + " " + Q(b), &out), 0) << out;
  EXPECT_TRUE(Contains(out, "4 identical, 0 changed, 0 only in A, 0 only in B (names, dtypes"))
      << out;
  EXPECT_EQ(RunDiff("--names_only --json " + Q(a_) + " " + Q(b), &out), 0) << out;
  EXPECT_TRUE(Contains(out, "\"values\": null")) << out;
  // A corrupt data file goes unnoticed: no data is read.
  std::string data = testing::ReadFile(b + ".data-00000-of-00001");
  data[0] ^= 0x10;
  testing::WriteFile(b + ".data-00000-of-00001", data);
  EXPECT_EQ(RunDiff("--names_only " + Q(a_) + " " + Q(b), &out), 0) << out;
}

TEST_F(DiffToolTest, CorruptTensorIsAnErrorNamingIt) {
  const std::string b = Write("corrupt", BaseTensors());
  std::string data = testing::ReadFile(b + ".data-00000-of-00001");
  data[3] ^= 0x10;  // inside w, the first payload
  testing::WriteFile(b + ".data-00000-of-00001", data);
  std::string out;
  EXPECT_EQ(RunDiff(Q(a_) + " " + Q(b), &out), 2) << out;
  EXPECT_TRUE(Contains(out, "cannot compare tensor 'w'")) << out;
  EXPECT_TRUE(Contains(out, "checksum does not match")) << out;
  EXPECT_TRUE(Contains(out, b)) << out;
  EXPECT_EQ(RunDiff("--json " + Q(a_) + " " + Q(b), &out), 2) << out;
}

TEST_F(DiffToolTest, UsageErrors) {
  std::string out;
  EXPECT_EQ(RunDiff("--help", &out), 0);
  EXPECT_TRUE(Contains(out, "Usage: ckpt_diff")) << out;
  EXPECT_EQ(RunDiff(Q(a_), &out), 2) << out;
  EXPECT_EQ(RunDiff("--atol -1 " + Q(a_) + " " + Q(a_), &out), 2) << out;
  EXPECT_EQ(RunDiff("--rtol abc " + Q(a_) + " " + Q(a_), &out), 2) << out;
  EXPECT_EQ(RunDiff(Q(a_) + " " + Q(dir_.Join("missing")), &out), 2) << out;
}

TEST(DiffCorpusTest, DisjointCorpusCheckpoints) {
  CKPT_REQUIRE_CORPUS(corpus);
  const std::string dir = corpus + "/udacity_save_restore/";
  std::string out;
  EXPECT_EQ(RunDiff(Q(dir + "model.ckpt") + " " + Q(dir + "train_model.ckpt"), &out), 1) << out;
  EXPECT_TRUE(Contains(out, "only in A  bias_0")) << out;
  EXPECT_TRUE(Contains(out, "only in B  Variable ")) << out;
  EXPECT_TRUE(Contains(out, "0 identical, 0 changed, 2 only in A, 2 only in B")) << out;
  const std::string tf2 = Q(corpus + "/tf2_object_graph/ckpt-1");
  EXPECT_EQ(RunDiff(tf2 + " " + tf2, &out), 0) << out;
  EXPECT_TRUE(Contains(out, "15 identical")) << out;
}

}  // namespace
}  // namespace ckpt
