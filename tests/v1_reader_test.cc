// V1Reader on V1 files written here by LevelDB's TableBuilder (see
// util/v1_writer.h), on damaged and hostile variants of them, and on the
// V1 checkpoint TensorFlow wrote in the corpus.
#include "ckpt/v1_reader.h"

#include <complex>
#include <cstring>

#include "absl/strings/match.h"
#include "ckpt/checkpoint_state.h"
#include "gtest/gtest.h"
#include "util/test_util.h"
#include "util/v1_writer.h"

namespace ckpt {
namespace {

using ::tensorflow::TensorProto;
using testing::V1FileBuilder;
constexpr auto Floats = testing::FloatValues;

TensorProto Ints(std::initializer_list<int32_t> v) {
  TensorProto p;
  for (int32_t x : v) p.add_int_val(x);
  return p;
}

std::unique_ptr<V1Reader> MustOpen(const std::string& path) {
  auto r = V1Reader::Open(path);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : nullptr;
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  auto f = t.flat<T>();
  return std::vector<T>(f.begin(), f.end());
}

// The status of Open, or of reading `name` when Open succeeds.
absl::Status OpenAndRead(const std::string& path, const std::string& name) {
  auto r = V1Reader::Open(path);
  if (!r.ok()) return r.status();
  return (*r)->Read(name).status();
}

void ExpectError(const absl::Status& s, absl::StatusCode code,
                 std::initializer_list<const char*> parts) {
  EXPECT_EQ(s.code(), code) << s;
  for (const char* p : parts) EXPECT_TRUE(absl::StrContains(s.message(), p)) << p << " in " << s;
}

TEST(V1ReaderTest, EveryDtypeV1Stores) {
  testing::ScratchDir dir;
  V1FileBuilder b;
  b.Add("f32", DT_FLOAT, {2, 3}, "-:-", Floats({1.5f, -2.0f, 0.0f, 3.25f, 1e-30f, -0.0f}));
  TensorProto d;
  d.add_double_val(0.1);
  d.add_double_val(-1e300);
  b.Add("f64", DT_DOUBLE, {2}, "-", d);
  b.Add("i32", DT_INT32, {3}, "-", Ints({-2147483647 - 1, 0, 2147483647}));
  TensorProto i64;
  i64.add_int64_val(int64_t{1} << 62);
  i64.add_int64_val(-5);
  b.Add("i64", DT_INT64, {2}, "-", i64);
  TensorProto bools;
  bools.add_bool_val(true);
  bools.add_bool_val(false);
  bools.add_bool_val(true);
  b.Add("flags", DT_BOOL, {3}, "-", bools);
  TensorProto strs;
  strs.add_string_val(std::string("a\0b", 3));
  strs.add_string_val("\xc3\xa9t\xc3\xa9");
  b.Add("words", DT_STRING, {2, 1}, "-:-", strs);
  TensorProto half;  // half_val holds each value's 16 bits
  half.add_half_val(0x3c00);  // 1.0
  half.add_half_val(0xc000);  // -2.0
  b.Add("h", DT_HALF, {2}, "-", half);
  b.Add("u8", DT_UINT8, {2}, "-", Ints({0, 255}));
  b.Add("i8", DT_INT8, {2}, "-", Ints({-128, 127}));
  TensorProto c64;
  for (float x : {1.0f, -1.0f, 0.5f, 2.0f}) c64.add_scomplex_val(x);
  b.Add("c64", DT_COMPLEX64, {2}, "-", c64);
  b.Write(dir.Join("model.ckpt"));

  auto r = MustOpen(dir.Join("model.ckpt"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->files(), std::vector<std::string>{dir.Join("model.ckpt")});
  EXPECT_EQ(r->versions().producer(), 1);
  ASSERT_EQ(r->entries().size(), 10u);
  EXPECT_EQ(r->entries()[0].name, "c64");  // sorted by name
  auto e = r->GetEntry("f32");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->dtype, DT_FLOAT);
  EXPECT_EQ(e->shape, TensorShape({2, 3}));
  ASSERT_EQ(e->slices.size(), 1u);
  EXPECT_TRUE(e->slices[0].slice.IsFull());

  auto f32 = r->Read("f32");
  ASSERT_TRUE(f32.ok()) << f32.status();
  EXPECT_EQ(f32->shape(), TensorShape({2, 3}));
  EXPECT_EQ(Values<float>(*f32), (std::vector<float>{1.5f, -2.0f, 0.0f, 3.25f, 1e-30f, -0.0f}));
  EXPECT_TRUE(std::signbit(f32->flat<float>()[5]));
  EXPECT_EQ(Values<double>(*r->Read("f64")), (std::vector<double>{0.1, -1e300}));
  EXPECT_EQ(Values<int32_t>(*r->Read("i32")),
            (std::vector<int32_t>{-2147483647 - 1, 0, 2147483647}));
  EXPECT_EQ(Values<int64_t>(*r->Read("i64")), (std::vector<int64_t>{int64_t{1} << 62, -5}));
  EXPECT_EQ(Values<uint8_t>(*r->Read("flags")), (std::vector<uint8_t>{1, 0, 1}));
  auto words = r->Read("words");
  ASSERT_TRUE(words.ok()) << words.status();
  EXPECT_EQ(words->shape(), TensorShape({2, 1}));
  EXPECT_EQ(words->strings(), (std::vector<std::string>{std::string("a\0b", 3), "\xc3\xa9t\xc3\xa9"}));
  EXPECT_EQ(Values<uint16_t>(*r->Read("h")), (std::vector<uint16_t>{0x3c00, 0xc000}));
  EXPECT_EQ(Values<uint8_t>(*r->Read("u8")), (std::vector<uint8_t>{0, 255}));
  EXPECT_EQ(Values<int8_t>(*r->Read("i8")), (std::vector<int8_t>{-128, 127}));
  EXPECT_EQ(Values<std::complex<float>>(*r->Read("c64")),
            (std::vector<std::complex<float>>{{1.0f, -1.0f}, {0.5f, 2.0f}}));
  EXPECT_TRUE(r->CheckRecords().empty());
  ExpectError(r->Read("f3").status(), absl::StatusCode::kNotFound, {"'f3'", "model.ckpt"});
}

TEST(V1ReaderTest, SlicesAcrossShardsAssemble) {
  testing::ScratchDir dir;
  const std::string prefix = testing::WriteShardedV1Sample(dir.path());
  // Every spelling names the same pair of files.
  for (const std::string& path : {prefix, prefix + "-\?\?\?\?\?-of-00002", prefix + "-00001-of-00002"}) {
    SCOPED_TRACE(path);
    auto r = MustOpen(path);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->files(), (std::vector<std::string>{prefix + "-00000-of-00002",
                                                     prefix + "-00001-of-00002"}));
    ASSERT_EQ(r->entries().size(), 2u);
    auto e = r->GetEntry("w");
    ASSERT_TRUE(e.ok()) << e.status();
    ASSERT_EQ(e->slices.size(), 2u);
    EXPECT_EQ(e->slices[0].slice.ToString(), "0,2:-");
    EXPECT_EQ(e->slices[0].file, 0);
    EXPECT_EQ(e->slices[1].slice.ToString(), "2,2:-");
    EXPECT_EQ(e->slices[1].file, 1);
    auto w = r->Read("w");
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_EQ(w->shape(), TensorShape({4, 3}));
    EXPECT_EQ(Values<float>(*w), (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
    // Rows 1-2, columns 1-2: straddles both shards.
    auto part = r->ReadSlice("w", *TensorSlice::Parse("1,2:1,2"));
    ASSERT_TRUE(part.ok()) << part.status();
    EXPECT_EQ(part->shape(), TensorShape({2, 2}));
    EXPECT_EQ(Values<float>(*part), (std::vector<float>{4, 5, 7, 8}));
    EXPECT_EQ(Values<int64_t>(*r->Read("global_step")), std::vector<int64_t>{1000});
    ExpectError(r->ReadSlice("w", *TensorSlice::Parse("3,2:-")).status(),
                absl::StatusCode::kInvalidArgument, {"'w'", "runs past"});
  }
}

TEST(V1ReaderTest, MissingShardIsNotFoundNamingTheFile) {
  testing::ScratchDir dir;
  const std::string prefix = testing::WriteShardedV1Sample(dir.path());
  ASSERT_EQ(std::remove((prefix + "-00001-of-00002").c_str()), 0);
  for (const std::string& path : {prefix, prefix + "-\?\?\?\?\?-of-00002"}) {
    ExpectError(V1Reader::Open(path).status(), absl::StatusCode::kNotFound,
                {"missing shard 1 of 2", "model.ckpt-1000-00001-of-00002"});
  }
  ExpectError(V1Reader::Open(dir.Join("nothing")).status(), absl::StatusCode::kNotFound,
              {"no V1 checkpoint at", "nothing-00000-of-NNNNN"});
}

TEST(V1ReaderTest, ScalarAndEmptyTensors) {
  testing::ScratchDir dir;
  V1FileBuilder b;
  TensorProto step;
  step.add_int64_val(7);
  b.Add("step", DT_INT64, {}, "", step);
  b.Add("none", DT_FLOAT, {0, 3}, "-:-", TensorProto());
  b.Add("no_words", DT_STRING, {0}, "-", TensorProto());
  b.Write(dir.Join("v1"));
  auto r = MustOpen(dir.Join("v1"));
  ASSERT_NE(r, nullptr);
  auto s = r->Read("step");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->shape(), TensorShape({}));
  EXPECT_EQ(Values<int64_t>(*s), std::vector<int64_t>{7});
  auto none = r->Read("none");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->shape(), TensorShape({0, 3}));
  EXPECT_EQ(none->NumElements(), 0);
  auto words = r->Read("no_words");
  ASSERT_TRUE(words.ok()) << words.status();
  EXPECT_TRUE(words->strings().empty());
}

TEST(V1ReaderTest, SnappyCompressedBlocks) {
  testing::ScratchDir dir;
  V1FileBuilder b;
  TensorProto zeros;
  for (int i = 0; i < 4096; ++i) zeros.add_float_val(i % 7 == 0 ? 1.0f : 0.0f);
  b.Add("sparse", DT_FLOAT, {4096}, "-", zeros);
  b.Write(dir.Join("v1"), /*snappy=*/true);
  auto r = MustOpen(dir.Join("v1"));
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->compressed());
  auto t = r->Read("sparse");
  ASSERT_TRUE(t.ok()) << t.status();
  double sum = 0;
  for (float v : t->flat<float>()) sum += v;
  EXPECT_EQ(sum, 586.0);  // multiples of 7 below 4096: 0, 7, ..., 4095
}

TEST(V1ReaderTest, DamagedTables) {
  testing::ScratchDir dir;
  V1FileBuilder b;
  b.Add("w", DT_FLOAT, {2}, "-", Floats({1, 2}));
  b.Write(dir.Join("good"));
  const std::string good = testing::ReadFile(dir.Join("good"));

  testing::WriteFile(dir.Join("short"), good.substr(0, good.size() - 10));
  ExpectError(V1Reader::Open(dir.Join("short")).status(), absl::StatusCode::kDataLoss,
              {"short"});
  std::string flipped = good;
  flipped[20] ^= 0x40;  // inside the data block: its CRC no longer matches
  testing::WriteFile(dir.Join("flipped"), flipped);
  ExpectError(V1Reader::Open(dir.Join("flipped")).status(), absl::StatusCode::kDataLoss,
              {"flipped"});
  testing::WriteFile(dir.Join("text"), "model_checkpoint_path: \"x\"\n");
  ExpectError(V1Reader::Open(dir.Join("text")).status(), absl::StatusCode::kDataLoss, {"text"});

  V1FileBuilder no_meta;
  no_meta.Add("w", DT_FLOAT, {2}, "-", Floats({1, 2}));
  no_meta.OmitMeta();
  no_meta.Write(dir.Join("no_meta"));
  ExpectError(V1Reader::Open(dir.Join("no_meta")).status(), absl::StatusCode::kDataLoss,
              {"no_meta", "no table of contents"});

  V1FileBuilder bad_meta;
  (*bad_meta.records())[""] = "\x0a\xff\xff\xff\x0f";  // a length far past the end
  bad_meta.Write(dir.Join("bad_meta"));
  ExpectError(V1Reader::Open(dir.Join("bad_meta")).status(), absl::StatusCode::kDataLoss,
              {"bad_meta", "does not parse"});

  V1FileBuilder too_new;
  too_new.meta()->mutable_versions()->set_min_consumer(7);
  too_new.Write(dir.Join("too_new"));
  ExpectError(V1Reader::Open(dir.Join("too_new")).status(),
              absl::StatusCode::kFailedPrecondition, {"too_new", "min_consumer 7"});
}

TEST(V1ReaderTest, RecordsThatDisagreeWithTheTableOfContents) {
  testing::ScratchDir dir;
  // The values sit in int_val, but the table of contents says float.
  V1FileBuilder wrong_field;
  wrong_field.Add("w", DT_FLOAT, {2}, "-", Ints({1, 2}));
  wrong_field.Write(dir.Join("a"));
  ExpectError(OpenAndRead(dir.Join("a"), "w"), absl::StatusCode::kDataLoss,
              {"'w'", "holds 0 values of float32 for 2 elements"});

  V1FileBuilder short_values;
  short_values.Add("w", DT_FLOAT, {2, 3}, "-:-", Floats({1, 2, 3, 4, 5}));
  short_values.Write(dir.Join("b"));
  ExpectError(OpenAndRead(dir.Join("b"), "w"), absl::StatusCode::kDataLoss,
              {"'w'", "holds 5 values of float32 for 6 elements"});

  V1FileBuilder dtype_stamp;
  TensorProto stamped = Floats({1, 2});
  stamped.set_dtype(::tensorflow::DT_DOUBLE);
  dtype_stamp.Add("w", DT_FLOAT, {2}, "-", stamped);
  dtype_stamp.Write(dir.Join("c"));
  ExpectError(OpenAndRead(dir.Join("c"), "w"), absl::StatusCode::kDataLoss,
              {"holds float64", "says float32"});

  // The table of contents lists a slice whose record is not there.
  V1FileBuilder lost;
  lost.Add("w", DT_FLOAT, {2}, "-", Floats({1, 2}));
  lost.records()->clear();
  lost.Write(dir.Join("d"));
  ExpectError(OpenAndRead(dir.Join("d"), "w"), absl::StatusCode::kDataLoss,
              {"'w'", "has no record"});

  // The same for one of two slices.
  V1FileBuilder half_lost;
  half_lost.Add("w", DT_FLOAT, {2}, "0,1", Floats({1}));
  half_lost.Add("w", DT_FLOAT, {2}, "1,1", Floats({2}));
  half_lost.records()->erase(V1FileBuilder::Key("w", "1,1"));
  half_lost.Write(dir.Join("d2"));
  ExpectError(OpenAndRead(dir.Join("d2"), "w"), absl::StatusCode::kDataLoss,
              {"'w' slice \"1,1\"", "has no record"});

  // A record under w's key that holds another tensor's slice.
  V1FileBuilder renamed;
  renamed.Add("w", DT_FLOAT, {2}, "-", Floats({1, 2}));
  renamed.Add("v", DT_FLOAT, {2}, "-", Floats({3, 4}));
  (*renamed.records())[V1FileBuilder::Key("w", "-")] =
      (*renamed.records())[V1FileBuilder::Key("v", "-")];
  renamed.Write(dir.Join("e"));
  ExpectError(OpenAndRead(dir.Join("e"), "w"), absl::StatusCode::kDataLoss,
              {"'w'", "names tensor 'v'"});
  auto r = MustOpen(dir.Join("e"));
  ASSERT_NE(r, nullptr);
  std::vector<std::string> problems = r->CheckRecords();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(absl::StrContains(problems[0], "not what its key says")) << problems[0];

  // A record no table of contents lists.
  V1FileBuilder orphan;
  orphan.Add("w", DT_FLOAT, {2}, "-", Floats({1, 2}));
  orphan.Add("x", DT_FLOAT, {1}, "-", Floats({9}));
  orphan.meta()->mutable_tensor()->RemoveLast();
  orphan.Write(dir.Join("f"));
  r = MustOpen(dir.Join("f"));
  ASSERT_NE(r, nullptr);
  problems = r->CheckRecords();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(absl::StrContains(problems[0], "not listed")) << problems[0];
}

TEST(V1ReaderTest, HostileTablesOfContents) {
  testing::ScratchDir dir;
  V1FileBuilder outside;
  outside.Add("w", DT_FLOAT, {4, 3}, "2,4:-", Floats({}));
  outside.Write(dir.Join("outside"));
  ExpectError(V1Reader::Open(dir.Join("outside")).status(), absl::StatusCode::kDataLoss,
              {"outside", "'w'", "outside the shape"});

  V1FileBuilder overlap;
  overlap.Add("w", DT_FLOAT, {4}, "0,3", Floats({1, 2, 3}));
  overlap.Add("w", DT_FLOAT, {4}, "2,2", Floats({4, 5}));
  overlap.Write(dir.Join("overlap"));
  ExpectError(V1Reader::Open(dir.Join("overlap")).status(), absl::StatusCode::kDataLoss,
              {"'w'", "overlapping slices \"0,3\"", "\"2,2\""});

  V1FileBuilder negative;
  negative.Add("w", DT_FLOAT, {2}, "-", Floats({1, 2}));
  negative.meta()->mutable_tensor(0)->mutable_shape()->mutable_dim(0)->set_size(-2);
  negative.Write(dir.Join("negative"));
  ExpectError(V1Reader::Open(dir.Join("negative")).status(), absl::StatusCode::kDataLoss,
              {"negative", "'w'"});

  V1FileBuilder ref_type;
  ref_type.Add("w", static_cast<DType>(101), {2}, "-", Floats({1, 2}));
  ref_type.Write(dir.Join("ref"));
  ExpectError(V1Reader::Open(dir.Join("ref")).status(), absl::StatusCode::kDataLoss,
              {"'w'", "dtype 101"});

  // 2^60 elements claimed, 8 bytes stored: refused before any allocation.
  V1FileBuilder huge;
  huge.Add("w", DT_FLOAT, {int64_t{1} << 30, int64_t{1} << 30}, "-:-", Floats({1, 2}));
  huge.Write(dir.Join("huge"));
  ExpectError(OpenAndRead(dir.Join("huge"), "w"), absl::StatusCode::kDataLoss,
              {"'w'", "cannot hold 1152921504606846976 elements"});
  // The same split into slices.
  V1FileBuilder huge_parts;
  huge_parts.Add("w", DT_INT64, {int64_t{1} << 40, 2}, "0,549755813888:-", TensorProto());
  huge_parts.Add("w", DT_INT64, {int64_t{1} << 40, 2}, "549755813888,549755813888:-",
                 TensorProto());
  huge_parts.Write(dir.Join("huge_parts"));
  ExpectError(OpenAndRead(dir.Join("huge_parts"), "w"), absl::StatusCode::kDataLoss,
              {"'w'", "cannot hold"});

  // Rows 0-1 of four saved: the error names the first missing element.
  V1FileBuilder partial;
  partial.Add("w", DT_FLOAT, {4, 3}, "0,2:-", Floats({0, 1, 2, 3, 4, 5}));
  partial.Add("w", DT_FLOAT, {4, 3}, "3,1:0,2", Floats({9, 10}));
  partial.Write(dir.Join("partial"));
  ExpectError(OpenAndRead(dir.Join("partial"), "w"), absl::StatusCode::kInvalidArgument,
              {"'w'", "hold 8 of the 12 elements", "element [2,0] is in none",
               "\"0,2:-\", \"3,1:0,2\""});
  auto r = MustOpen(dir.Join("partial"));
  ASSERT_NE(r, nullptr);
  auto top = r->ReadSlice("w", *TensorSlice::Parse("0,2:1,2"));
  ASSERT_TRUE(top.ok()) << top.status();
  EXPECT_EQ(Values<float>(*top), (std::vector<float>{1, 2, 4, 5}));
  ExpectError(r->ReadSlice("w", *TensorSlice::Parse("3,1:-")).status(),
              absl::StatusCode::kInvalidArgument, {"element [3,2] is in none"});

  // Two shards that disagree about a tensor's shape.
  V1FileBuilder s0, s1;
  s0.Add("w", DT_FLOAT, {4}, "0,2", Floats({1, 2}));
  s1.Add("w", DT_FLOAT, {5}, "2,2", Floats({3, 4}));
  s0.Write(dir.Join("x-00000-of-00002"));
  s1.Write(dir.Join("x-00001-of-00002"));
  ExpectError(V1Reader::Open(dir.Join("x")).status(), absl::StatusCode::kDataLoss,
              {"x-00001-of-00002", "'w'", "float32[5] here but float32[4] in",
               "x-00000-of-00002"});
}

TEST(V1ReaderTest, TensorFlowWrittenCorpusFile) {
  CKPT_REQUIRE_CORPUS(corpus);
  const std::string dir = corpus + "/v1_half_plus_two";
  // Its `checkpoint` file names /tmp/bad_half_plus_two/00000123/export from
  // the machine that wrote it; the file beside it is the one meant.
  auto latest = LatestCheckpoint(dir);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(*latest, dir + "/export");
  auto r = MustOpen(*latest);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->versions().producer(), 1);
  EXPECT_FALSE(r->compressed());
  ASSERT_EQ(r->entries().size(), 2u);
  EXPECT_EQ(r->entries()[0].name, "Variable");
  EXPECT_EQ(r->entries()[1].name, "Variable_1");
  for (const V1EntryInfo& e : r->entries()) {
    EXPECT_EQ(e.dtype, DT_FLOAT);
    EXPECT_EQ(e.shape, TensorShape({}));
    ASSERT_EQ(e.slices.size(), 1u);
    EXPECT_EQ(e.slices[0].slice.rank(), 0);
  }
  auto a = r->Read("Variable");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(Values<float>(*a), std::vector<float>{0.5f});
  auto b = r->Read("Variable_1");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(Values<float>(*b), std::vector<float>{2.0f});
  EXPECT_TRUE(r->CheckRecords().empty());
}

}  // namespace
}  // namespace ckpt
