#include "ckpt/tensor_slice.h"

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace ckpt {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kFull = TensorSlice::kFullExtent;

TensorSlice MustParse(const std::string& spec) {
  absl::StatusOr<TensorSlice> s = TensorSlice::Parse(spec);
  EXPECT_TRUE(s.ok()) << spec << ": " << s.status();
  return s.ok() ? *s : TensorSlice();
}

void ExpectInvalid(const absl::Status& s, const std::string& needle) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(std::string(s.message()).find(needle), std::string::npos)
      << "message \"" << s.message() << "\" lacks \"" << needle << "\"";
}

// ---- construction ------------------------------------------------------------

TEST(TensorSliceTest, DefaultIsRankZeroAndFull) {
  TensorSlice s;
  EXPECT_EQ(s.rank(), 0);
  EXPECT_TRUE(s.IsFull());
  EXPECT_EQ(s.ToString(), "");
}

TEST(TensorSliceTest, RankConstructorSpansEveryDimension) {
  TensorSlice s(3);
  EXPECT_EQ(s.rank(), 3);
  EXPECT_TRUE(s.IsFull());
  for (int d = 0; d < 3; ++d) {
    EXPECT_TRUE(s.IsFullAt(d));
    EXPECT_EQ(s.start(d), 0);
    EXPECT_EQ(s.length(d), kFull);
  }
  EXPECT_EQ(s.ToString(), "-:-:-");
  EXPECT_EQ(TensorSlice(-2).rank(), 0);
}

TEST(TensorSliceTest, FromExtentsAcceptsValidExtents) {
  auto s = TensorSlice::FromExtents({{0, kFull}, {3, 4}, {0, 1}, {kMax - 1, 1}});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->rank(), 4);
  EXPECT_TRUE(s->IsFullAt(0));
  EXPECT_FALSE(s->IsFullAt(1));
  EXPECT_FALSE(s->IsFull());
  EXPECT_EQ(s->start(1), 3);
  EXPECT_EQ(s->length(1), 4);
  EXPECT_EQ(s->Start(1), 3);
  EXPECT_EQ(s->End(1, 100), 7);
  EXPECT_EQ(s->End(0, 100), 100);
  EXPECT_EQ(s->End(3, 5), kMax);
  EXPECT_EQ(s->ToString(), "-:3,4:0,1:9223372036854775806,1");
}

TEST(TensorSliceTest, FromExtentsRejectsBadExtents) {
  ExpectInvalid(TensorSlice::FromExtents({{-1, 2}}).status(), "negative start");
  ExpectInvalid(TensorSlice::FromExtents({{0, 0}}).status(), "length 0");
  ExpectInvalid(TensorSlice::FromExtents({{0, -2}}).status(), "length -2");
  ExpectInvalid(TensorSlice::FromExtents({{0, 1}, {3, kFull}}).status(), "dimension 1");
  ExpectInvalid(TensorSlice::FromExtents({{kMax, 1}}).status(), "overflow");
  ExpectInvalid(TensorSlice::FromExtents({{1, kMax}}).status(), "overflow");
  EXPECT_TRUE(TensorSlice::FromExtents({{0, kMax}}).ok());
  ExpectInvalid(TensorSlice::FromExtents({{kMax, kFull}}).status(), "must be 0");
}

TEST(TensorSliceTest, FromExtentsLimitsRank) {
  std::vector<std::pair<int64_t, int64_t>> extents(TensorShape::kMaxRank, {0, kFull});
  EXPECT_TRUE(TensorSlice::FromExtents(extents).ok());
  extents.emplace_back(0, kFull);
  ExpectInvalid(TensorSlice::FromExtents(extents).status(), "exceeds");
}

// ---- text form -----------------------------------------------------------------

TEST(TensorSliceTest, ParseHeaderExample) {
  TensorSlice s = MustParse("2,4:-");
  EXPECT_EQ(s.rank(), 2);
  EXPECT_EQ(s.ToString(), "2,4:-");
  auto shape = s.SliceShape(TensorShape({8, 6}));
  ASSERT_TRUE(shape.ok()) << shape.status();
  EXPECT_EQ(*shape, TensorShape({4, 6}));
}

TEST(TensorSliceTest, ParseEmptyIsRankZero) {
  TensorSlice s = MustParse("");
  EXPECT_EQ(s, TensorSlice());
  EXPECT_EQ(s.rank(), 0);
}

TEST(TensorSliceTest, ParseKeepsExplicitFullExtentsExplicit) {
  TensorSlice s = MustParse("0,20:-");
  EXPECT_FALSE(s.IsFullAt(0));
  EXPECT_EQ(s.length(0), 20);
  EXPECT_TRUE(s.IsFullAt(1));
  EXPECT_NE(s, MustParse("-:-"));
}

TEST(TensorSliceTest, ParseRejectsMalformedSpecs) {
  for (const char* bad :
       {"a", "1", "1,", ",1", "1,2,3", "1,2:", ":1,2", ":", "1,2::3,4", "--", "- ",
        " 1,2", "1,2 ", "1, 2", "+1,2", "1,+2", "0x1,2", "1.0,2", "1,2;3,4",
        "99999999999999999999,1", "1,99999999999999999999", "-,1", "1,-"}) {
    auto s = TensorSlice::Parse(bad);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << "\"" << bad << "\"";
  }
}

TEST(TensorSliceTest, ParseRejectsOutOfRangeNumbers) {
  ExpectInvalid(TensorSlice::Parse("-1,2").status(), "negative start");
  ExpectInvalid(TensorSlice::Parse("0,0").status(), "length 0");
  // The whole dimension is spelled "-" in text, never "0,-1".
  ExpectInvalid(TensorSlice::Parse("0,-1").status(), "length -1");
  ExpectInvalid(TensorSlice::Parse("1,2:3,-4").status(), "extent 1");
  ExpectInvalid(TensorSlice::Parse("9223372036854775807,1").status(), "overflow");
  TensorSlice edge = MustParse("9223372036854775806,1:0,9223372036854775807");
  EXPECT_EQ(edge.start(0), kMax - 1);
  EXPECT_EQ(edge.length(1), kMax);
}

TEST(TensorSliceTest, ToStringParseRoundTripRandom) {
  std::mt19937_64 rng(20240611);
  for (int iter = 0; iter < 2000; ++iter) {
    const int rank = static_cast<int>(rng() % 6);
    std::vector<std::pair<int64_t, int64_t>> extents;
    for (int d = 0; d < rank; ++d) {
      if (rng() % 3 == 0) {
        extents.emplace_back(0, kFull);
      } else {
        const int64_t start = static_cast<int64_t>(rng() >> (1 + rng() % 63));
        const int64_t room = kMax - start;
        const int64_t length = 1 + static_cast<int64_t>((rng() >> 1) % room);
        extents.emplace_back(start, length);
      }
    }
    auto s = TensorSlice::FromExtents(extents);
    ASSERT_TRUE(s.ok()) << s.status();
    auto back = TensorSlice::Parse(s->ToString());
    ASSERT_TRUE(back.ok()) << s->ToString() << ": " << back.status();
    EXPECT_EQ(*back, *s) << s->ToString();
    EXPECT_EQ(back->ToString(), s->ToString());
  }
}

// ---- proto form ----------------------------------------------------------------

TEST(TensorSliceTest, ToProtoWritesSpanningAsEmptyExtent) {
  TensorSlice s = MustParse("0,5:-:3,2");
  tensorflow::TensorSliceProto proto;
  proto.add_extent()->set_start(99);  // must be cleared
  s.ToProto(&proto);
  ASSERT_EQ(proto.extent_size(), 3);
  using Extent = tensorflow::TensorSliceProto::Extent;
  EXPECT_EQ(proto.extent(0).start(), 0);
  EXPECT_EQ(proto.extent(0).has_length_case(), Extent::kLength);
  EXPECT_EQ(proto.extent(0).length(), 5);
  EXPECT_EQ(proto.extent(1).has_length_case(), Extent::HAS_LENGTH_NOT_SET);
  EXPECT_EQ(proto.extent(1).start(), 0);
  EXPECT_EQ(proto.extent(2).start(), 3);
  EXPECT_EQ(proto.extent(2).length(), 2);
  // Wire bytes: start 0 absent, spanning extent empty, length always present.
  const std::string expected("\x0a\x02\x10\x05"
                             "\x0a\x00"
                             "\x0a\x04\x08\x03\x10\x02",
                             12);
  std::string wire;
  ASSERT_TRUE(proto.SerializeToString(&wire));
  EXPECT_EQ(wire, expected);
}

TEST(TensorSliceTest, ProtoRoundTrip) {
  for (const char* spec : {"", "-", "0,1", "-:-", "5,5:0,20", "5,5:-", "1,2:-:3,4:0,7"}) {
    TensorSlice s = MustParse(spec);
    tensorflow::TensorSliceProto proto;
    s.ToProto(&proto);
    auto back = TensorSlice::FromProto(proto);
    ASSERT_TRUE(back.ok()) << spec << ": " << back.status();
    EXPECT_EQ(*back, s) << spec;
  }
}

TEST(TensorSliceTest, FromProtoValidates) {
  using Proto = tensorflow::TensorSliceProto;
  {
    Proto p;
    p.add_extent()->set_start(3);  // no length: spans, so start must be 0
    ExpectInvalid(TensorSlice::FromProto(p).status(), "start 3");
  }
  {
    Proto p;
    p.add_extent()->set_length(0);
    ExpectInvalid(TensorSlice::FromProto(p).status(), "length 0");
  }
  {
    Proto p;
    auto* e = p.add_extent();
    e->set_start(-4);
    e->set_length(2);
    ExpectInvalid(TensorSlice::FromProto(p).status(), "negative start");
  }
  {
    Proto p;
    auto* e = p.add_extent();
    e->set_start(kMax);
    e->set_length(kMax);
    ExpectInvalid(TensorSlice::FromProto(p).status(), "overflow");
  }
  {
    // TensorFlow reads an explicit length of -1 as spanning too.
    Proto p;
    p.add_extent()->set_length(-1);
    auto s = TensorSlice::FromProto(p);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_TRUE(s->IsFullAt(0));
  }
  {
    Proto p;
    for (int i = 0; i <= TensorShape::kMaxRank; ++i) p.add_extent();
    ExpectInvalid(TensorSlice::FromProto(p).status(), "exceeds");
  }
}

// ---- geometry ------------------------------------------------------------------

TEST(TensorSliceTest, SliceShape) {
  auto shape = MustParse("1,3:-:0,1").SliceShape(TensorShape({4, 7, 2}));
  ASSERT_TRUE(shape.ok()) << shape.status();
  EXPECT_EQ(*shape, TensorShape({3, 7, 1}));

  // Exactly reaching the end fits.
  shape = MustParse("1,3").SliceShape(TensorShape({4}));
  ASSERT_TRUE(shape.ok()) << shape.status();
  EXPECT_EQ(*shape, TensorShape({3}));

  // A spanning extent of a zero-sized dimension has size 0.
  shape = MustParse("-:0,2").SliceShape(TensorShape({0, 2}));
  ASSERT_TRUE(shape.ok()) << shape.status();
  EXPECT_EQ(*shape, TensorShape({0, 2}));

  shape = TensorSlice().SliceShape(TensorShape());
  ASSERT_TRUE(shape.ok()) << shape.status();
  EXPECT_EQ(*shape, TensorShape());
}

TEST(TensorSliceTest, SliceShapeErrors) {
  ExpectInvalid(MustParse("1,3").SliceShape(TensorShape({4, 4})).status(), "rank");
  ExpectInvalid(MustParse("-:-").SliceShape(TensorShape({4})).status(), "rank");
  ExpectInvalid(MustParse("2,3").SliceShape(TensorShape({4})).status(), "runs past");
  ExpectInvalid(MustParse("4,1").SliceShape(TensorShape({4})).status(), "runs past");
  ExpectInvalid(MustParse("-:0,1").SliceShape(TensorShape({3, 0})).status(), "runs past");
  ExpectInvalid(MustParse("9223372036854775806,1").SliceShape(TensorShape({5})).status(),
                "runs past");
  ExpectInvalid(MustParse("0,1").SliceShape(TensorShape({-3})).status(), "invalid");
}

TEST(TensorSliceTest, IntersectOverlapping) {
  TensorSlice r;
  ASSERT_TRUE(MustParse("0,5:2,6").Intersect(MustParse("3,4:0,4"), &r));
  EXPECT_EQ(r.ToString(), "3,2:2,2");
  ASSERT_TRUE(MustParse("3,4:0,4").Intersect(MustParse("0,5:2,6"), &r));
  EXPECT_EQ(r.ToString(), "3,2:2,2");
  // Contained slice.
  ASSERT_TRUE(MustParse("0,10").Intersect(MustParse("4,2"), &r));
  EXPECT_EQ(r.ToString(), "4,2");
  // A one-element overlap.
  ASSERT_TRUE(MustParse("0,5").Intersect(MustParse("4,5"), &r));
  EXPECT_EQ(r.ToString(), "4,1");
}

TEST(TensorSliceTest, IntersectSpanningAndExplicit) {
  TensorSlice r;
  ASSERT_TRUE(MustParse("-:1,2").Intersect(MustParse("3,4:-"), &r));
  EXPECT_EQ(r.ToString(), "3,4:1,2");
  ASSERT_TRUE(MustParse("-:-").Intersect(MustParse("-:0,20"), &r));
  EXPECT_EQ(r.ToString(), "-:0,20");
  EXPECT_FALSE(r.IsFullAt(1));
  // Only where both span does the result span.
  ASSERT_TRUE(MustParse("-:-").Intersect(MustParse("-:-"), &r));
  EXPECT_TRUE(r.IsFull());
  EXPECT_EQ(r.rank(), 2);
}

TEST(TensorSliceTest, IntersectTouchingDoesNotOverlap) {
  TensorSlice r = MustParse("7,7");
  const TensorSlice before = r;
  EXPECT_FALSE(MustParse("0,5").Intersect(MustParse("5,5"), &r));
  EXPECT_FALSE(MustParse("5,5").Intersect(MustParse("0,5"), &r));
  EXPECT_FALSE(MustParse("0,5:0,5").Intersect(MustParse("0,5:5,5"), &r));
  EXPECT_FALSE(MustParse("-:0,5").Intersect(MustParse("1,1:5,1"), &r));
  EXPECT_FALSE(MustParse("0,1").Intersect(MustParse("9,1"), &r));
  EXPECT_EQ(r, before) << "a failed Intersect must leave *result alone";
}

TEST(TensorSliceTest, IntersectRankMismatchAndScalars) {
  TensorSlice r;
  EXPECT_FALSE(MustParse("-").Intersect(MustParse("-:-"), &r));
  EXPECT_FALSE(MustParse("0,1").Intersect(TensorSlice(), &r));
  EXPECT_TRUE(TensorSlice().Intersect(TensorSlice(), &r));
  EXPECT_EQ(r.rank(), 0);
  EXPECT_TRUE(MustParse("0,5").Intersect(MustParse("2,1"), nullptr));
  EXPECT_FALSE(MustParse("0,5").Intersect(MustParse("5,1"), nullptr));
}

TEST(TensorSliceTest, IntersectNearInt64Max) {
  TensorSlice r;
  ASSERT_TRUE(MustParse("9223372036854775800,7").Intersect(
      MustParse("9223372036854775805,2"), &r));
  EXPECT_EQ(r.ToString(), "9223372036854775805,2");
  EXPECT_FALSE(MustParse("0,9223372036854775807").Intersect(
      MustParse("9223372036854775806,1:-"), &r));  // rank differs
}

// Compares Intersect with a brute-force check over a small grid.
TEST(TensorSliceTest, IntersectMatchesBruteForce) {
  std::mt19937 rng(7);
  const TensorShape shape({6, 5});
  auto random_slice = [&]() {
    std::vector<std::pair<int64_t, int64_t>> ext;
    for (int d = 0; d < 2; ++d) {
      if (rng() % 4 == 0) {
        ext.emplace_back(0, kFull);
      } else {
        const int64_t size = shape.dim(d);
        const int64_t start = rng() % size;
        ext.emplace_back(start, 1 + rng() % (size - start));
      }
    }
    return *TensorSlice::FromExtents(ext);
  };
  auto contains = [&](const TensorSlice& s, int64_t i, int64_t j) {
    return s.Start(0) <= i && i < s.End(0, 6) && s.Start(1) <= j && j < s.End(1, 5);
  };
  for (int iter = 0; iter < 3000; ++iter) {
    const TensorSlice a = random_slice();
    const TensorSlice b = random_slice();
    TensorSlice r;
    const bool overlap = a.Intersect(b, &r);
    TensorSlice r2;
    EXPECT_EQ(overlap, b.Intersect(a, &r2));
    if (overlap) {
      EXPECT_EQ(r, r2);
    }
    bool any = false;
    for (int64_t i = 0; i < 6; ++i) {
      for (int64_t j = 0; j < 5; ++j) {
        const bool both = contains(a, i, j) && contains(b, i, j);
        any |= both;
        if (overlap) {
          EXPECT_EQ(both, contains(r, i, j)) << a.ToString() << " ^ " << b.ToString();
        }
      }
    }
    EXPECT_EQ(any, overlap) << a.ToString() << " ^ " << b.ToString();
  }
}

TEST(TensorSliceTest, Resolved) {
  const TensorShape shape({10, 20, 0});
  TensorSlice r = MustParse("-:3,4:-").Resolved(shape);
  EXPECT_EQ(r.ToString(), "0,10:3,4:-");
  // A zero-sized dimension cannot be an explicit positive extent.
  EXPECT_TRUE(r.IsFullAt(2));
  EXPECT_EQ(MustParse("-:-").Resolved(TensorShape({2, 3})).ToString(), "0,2:0,3");
  EXPECT_EQ(MustParse("1,1:2,2").Resolved(TensorShape({2, 4})).ToString(), "1,1:2,2");
  // Rank mismatch leaves the slice as it is.
  EXPECT_EQ(MustParse("-:-").Resolved(TensorShape({2})).ToString(), "-:-");
  EXPECT_EQ(TensorSlice().Resolved(TensorShape()), TensorSlice());
  // Resolving keeps SliceShape.
  auto a = MustParse("-:1,2").SliceShape(TensorShape({3, 4}));
  auto b = MustParse("-:1,2").Resolved(TensorShape({3, 4})).SliceShape(TensorShape({3, 4}));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

TEST(TensorSliceTest, CoversAll) {
  const TensorShape shape({10, 20});
  EXPECT_TRUE(MustParse("-:-").CoversAll(shape));
  EXPECT_TRUE(MustParse("0,10:0,20").CoversAll(shape));
  EXPECT_TRUE(MustParse("-:0,20").CoversAll(shape));
  EXPECT_FALSE(MustParse("0,9:-").CoversAll(shape));
  EXPECT_FALSE(MustParse("1,9:-").CoversAll(shape));
  EXPECT_FALSE(MustParse("0,11:-").CoversAll(shape));
  EXPECT_FALSE(MustParse("-").CoversAll(shape));
  EXPECT_FALSE(MustParse("-:-:-").CoversAll(shape));
  EXPECT_TRUE(TensorSlice().CoversAll(TensorShape()));
  EXPECT_TRUE(MustParse("-:-").CoversAll(TensorShape({0, 3})));
  EXPECT_FALSE(MustParse("0,1:-").CoversAll(TensorShape({0, 3})));
  EXPECT_FALSE(MustParse("-").CoversAll(TensorShape({-1})));
}

// ---- shape_and_slice -----------------------------------------------------------

TEST(ParseShapeAndSliceTest, SpecExample) {
  TensorShape shape;
  TensorSlice slice;
  ASSERT_TRUE(ParseShapeAndSlice("10 20 0,5:-", &shape, &slice).ok());
  EXPECT_EQ(shape, TensorShape({10, 20}));
  EXPECT_EQ(slice.ToString(), "0,5:-");
  EXPECT_FALSE(slice.IsFullAt(0));
  EXPECT_TRUE(slice.IsFullAt(1));
}

TEST(ParseShapeAndSliceTest, EmptyMeansWholeTensor) {
  TensorShape shape({3});
  TensorSlice slice = MustParse("-");
  ASSERT_TRUE(ParseShapeAndSlice("", &shape, &slice).ok());
  EXPECT_EQ(shape, TensorShape());
  EXPECT_EQ(slice, TensorSlice());
}

TEST(ParseShapeAndSliceTest, Tf1SpellingStaysExplicit) {
  TensorShape shape;
  TensorSlice slice;
  ASSERT_TRUE(ParseShapeAndSlice("10 20 5,5:0,20", &shape, &slice).ok());
  EXPECT_EQ(shape, TensorShape({10, 20}));
  EXPECT_FALSE(slice.IsFullAt(1));
  EXPECT_EQ(slice.start(1), 0);
  EXPECT_EQ(slice.length(1), 20);
  EXPECT_FALSE(slice.CoversAll(TensorShape({10, 20})));
}

TEST(ParseShapeAndSliceTest, MoreShapes) {
  TensorShape shape;
  TensorSlice slice;
  ASSERT_TRUE(ParseShapeAndSlice("7 -", &shape, &slice).ok());
  EXPECT_EQ(shape, TensorShape({7}));
  EXPECT_TRUE(slice.IsFull());
  ASSERT_TRUE(ParseShapeAndSlice("0 4 -:1,3", &shape, &slice).ok());
  EXPECT_EQ(shape, TensorShape({0, 4}));
  EXPECT_EQ(slice.ToString(), "-:1,3");
}

TEST(ParseShapeAndSliceTest, Errors) {
  struct Case {
    const char* input;
    const char* needle;
  };
  for (const Case& c : std::vector<Case>{
           {"10", "expected the dimensions"},
           {"0,5:-", "expected the dimensions"},
           {"10 20", "extent"},                    // "20" is taken as the slice spec
           {"10 20 0,5", "rank"},                  // rank mismatch
           {"10 0,5:-", "rank"},
           {"10 20 ", "rank"},                     // empty spec = rank 0
           {"10 20 8,5:-", "runs past"},
           {"10 20 0,5:15,6", "runs past"},
           {"-10 0,5", "dimension 0"},
           {"10 x 0,5:-", "dimension 1"},
           {"10  20 0,5:-", "dimension 1"},        // double space
           {" 10 20 0,5:-", "dimension 0"},
           {"10 20 0,0:-", "length 0"},
           {"10 20 -1,5:-", "negative start"},
           {"4294967296 4294967296 4294967296 -:-:-", "overflow"},
           {"99999999999999999999 -", "dimension 0"},
       }) {
    TensorShape shape({1, 2, 3});
    TensorSlice slice = MustParse("1,1");
    absl::Status s = ParseShapeAndSlice(c.input, &shape, &slice);
    ExpectInvalid(s, c.needle);
    EXPECT_NE(std::string(s.message()).find(c.input), std::string::npos)
        << "message should quote the input: " << s.message();
    EXPECT_EQ(shape, TensorShape({1, 2, 3})) << "outputs untouched on error: " << c.input;
    EXPECT_EQ(slice.ToString(), "1,1") << c.input;
  }
}

}  // namespace
}  // namespace ckpt
