// Round trips through BundleWriter and BundleReader on real files.
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/bundle_writer.h"
#include "ckpt/crc32c.h"
#include "ckpt/naming.h"
#include "gtest/gtest.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using testing::ScratchDir;

// A tensor of `dtype` and `shape` filled with deterministic bytes (bool: 0/1).
Tensor Filled(DType dtype, const TensorShape& shape, uint32_t seed) {
  Tensor t(dtype, shape);
  EXPECT_TRUE(t.valid()) << DTypeName(dtype);
  std::mt19937 rng(seed);
  if (dtype == DT_STRING) {
    for (std::string& s : *t.mutable_strings()) {
      s.resize(rng() % 40);
      for (char& c : s) c = static_cast<char>(rng());
    }
    return t;
  }
  char* p = t.mutable_raw_data();
  for (size_t i = 0; i < t.TotalBytes(); ++i) {
    p[i] = static_cast<char>(dtype == DT_BOOL ? rng() & 1 : rng());
  }
  return t;
}

std::vector<DType> StorableDTypes() {
  std::vector<DType> out;
  for (int v = 1; v <= 33; ++v) {
    DType d = static_cast<DType>(v);
    if (DTypeIsFixedSize(d) || d == DT_STRING) out.push_back(d);
  }
  return out;
}

TEST(BundleTest, EveryDTypeScalarsAndEmptyTensorsRoundTrip) {
  ScratchDir dir;
  const std::string prefix = dir.Join("all/model.ckpt");
  std::vector<std::pair<std::string, Tensor>> saved;
  uint32_t seed = 1;
  for (DType d : StorableDTypes()) {
    for (const TensorShape& shape : {TensorShape({3, 5}), TensorShape({}), TensorShape({0, 4}),
                                     TensorShape({2, 0}), TensorShape({7})}) {
      saved.emplace_back(absl::StrCat(DTypeName(d), "/", shape.DebugString()),
                         Filled(d, shape, seed++));
    }
  }
  {
    BundleWriter writer(prefix);
    for (const auto& [name, t] : saved) ASSERT_TRUE(writer.Add(name, t).ok()) << name;
    ASSERT_TRUE(writer.Finish().ok());
  }
  auto reader = BundleReader::Open(prefix);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->entries().size(), saved.size());
  EXPECT_EQ((*reader)->num_shards(), 1);
  for (const auto& [name, t] : saved) {
    auto e = (*reader)->GetEntry(name);
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_EQ(e->dtype, t.dtype());
    EXPECT_EQ(e->shape, t.shape());
    auto got = (*reader)->Read(name);
    ASSERT_TRUE(got.ok()) << name << ": " << got.status();
    EXPECT_TRUE(got->Identical(t)) << name;
    if (t.NumElements() == 0) {
      // Zero elements: no payload for fixed sizes, 4 checksum bytes for strings.
      EXPECT_EQ(e->size, t.dtype() == DT_STRING ? 4 : 0) << name;
      if (t.dtype() != DT_STRING) {
        EXPECT_EQ(e->crc32c, 0xa282ead8u) << name;
      }
    }
  }
  // No temporary files are left behind.
  auto children = Env::Default()->GetChildren(dir.Join("all"));
  ASSERT_TRUE(children.ok());
  EXPECT_EQ(children->size(), 2u);
}

TEST(BundleTest, StringsOfEveryLength) {
  ScratchDir dir;
  const std::string prefix = dir.Join("s");
  Tensor t(DT_STRING, TensorShape({5}));
  auto& v = *t.mutable_strings();
  v[0] = "";
  v[1] = "x";
  v[2] = std::string(200, 'a');  // a two-byte varint length
  v[3].resize(1 << 20);
  for (size_t i = 0; i < v[3].size(); ++i) v[3][i] = static_cast<char>(i * 7 + (i >> 8));
  v[4] = std::string("\0\xff\n", 3);
  Tensor scalar(DT_STRING, TensorShape({}));
  (*scalar.mutable_strings())[0] = "only";
  Tensor empty(DT_STRING, TensorShape({0}));
  {
    BundleWriter writer(prefix);
    ASSERT_TRUE(writer.Add("strings", t).ok());
    ASSERT_TRUE(writer.Add("scalar", scalar).ok());
    ASSERT_TRUE(writer.Add("empty", empty).ok());
    ASSERT_TRUE(writer.Finish().ok());
  }
  auto reader = BundleReader::Open(prefix);
  ASSERT_TRUE(reader.ok()) << reader.status();
  for (const auto& [name, want] : std::vector<std::pair<std::string, Tensor>>{
           {"strings", t}, {"scalar", scalar}, {"empty", empty}}) {
    auto got = (*reader)->Read(name);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(got->Identical(want)) << name;
  }
  // Stored layout: varint lengths, then the 4-byte length checksum.
  auto raw = (*reader)->ReadStoredBytes("strings");
  ASSERT_TRUE(raw.ok());
  const unsigned char* b = reinterpret_cast<const unsigned char*>(raw->data());
  EXPECT_EQ(b[0], 0);          // ""
  EXPECT_EQ(b[1], 1);          // "x"
  EXPECT_EQ(b[2], 0xc8);       // 200 = 0xc8 0x01
  EXPECT_EQ(b[3], 0x01);
  EXPECT_EQ(b[4], 0x80);       // 1 MiB = 0x80 0x80 0x40
  EXPECT_EQ(b[5], 0x80);
  EXPECT_EQ(b[6], 0x40);
  EXPECT_EQ(b[7], 3);
  EXPECT_EQ(raw->size(), 8 + 4 + 0 + 1 + 200 + (1u << 20) + 3);
}

TEST(BundleTest, PartitionedVariableWholeAndSubSlice) {
  ScratchDir dir;
  const std::string prefix = dir.Join("p");
  const TensorShape full({8, 6});
  Tensor whole(DT_FLOAT, full);
  auto w = whole.mutable_flat<float>();
  for (int i = 0; i < 48; ++i) w[i] = static_cast<float>(i) + 0.5f;
  const char* specs[] = {"0,4:0,3", "0,4:3,3", "4,4:0,3", "4,4:3,3"};
  {
    BundleWriter writer(prefix);
    Tensor other(DT_INT32, TensorShape({2}));
    ASSERT_TRUE(writer.Add("a_plain", other).ok());
    for (const char* spec : specs) {
      auto slice = TensorSlice::Parse(spec);
      ASSERT_TRUE(slice.ok()) << slice.status();
      Tensor part(DT_FLOAT, *slice->SliceShape(full));
      auto p = part.mutable_flat<float>();
      int k = 0;
      for (int r = slice->start(0); r < slice->start(0) + slice->length(0); ++r) {
        for (int c = slice->start(1); c < slice->start(1) + slice->length(1); ++c) p[k++] = w[r * 6 + c];
      }
      ASSERT_TRUE(writer.AddSlice("var", full, *slice, part).ok());
    }
    ASSERT_TRUE(writer.Finish().ok());
  }
  auto reader = BundleReader::Open(prefix);
  ASSERT_TRUE(reader.ok()) << reader.status();
  // The listing shows the partitioned tensor once, not its slice records.
  ASSERT_EQ((*reader)->entries().size(), 2u);
  EXPECT_EQ((*reader)->entries()[1].name, "var");
  EXPECT_EQ((*reader)->entries()[1].slices.size(), 4u);
  EXPECT_EQ((*reader)->RecordKeys().size(), 6u);

  auto got = (*reader)->Read("var");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->Identical(whole));

  auto sub = (*reader)->ReadSlice("var", *TensorSlice::Parse("2,4:1,3"));
  ASSERT_TRUE(sub.ok()) << sub.status();
  ASSERT_EQ(sub->shape(), TensorShape({4, 3}));
  auto s = sub->flat<float>();
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 3; ++c) EXPECT_EQ(s[r * 3 + c], w[(r + 2) * 6 + c + 1]);
  }
  // A plain tensor can be read as a slice too.
  auto plain = (*reader)->ReadSlice("a_plain", *TensorSlice::Parse("1,1"));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->shape(), TensorShape({1}));
  // Out of range.
  EXPECT_FALSE((*reader)->ReadSlice("var", *TensorSlice::Parse("6,4:-")).ok());
}

TEST(BundleTest, SlicesThatDoNotCoverAreRefused) {
  ScratchDir dir;
  const std::string prefix = dir.Join("p");
  const TensorShape full({4, 2});
  {
    BundleWriter writer(prefix);
    Tensor part(DT_FLOAT, TensorShape({2, 2}));
    ASSERT_TRUE(writer.AddSlice("v", full, *TensorSlice::Parse("0,2:-"), part).ok());
    // Wrong shape for the slice.
    EXPECT_EQ(writer.AddSlice("v", full, *TensorSlice::Parse("2,1:-"), part).code(),
              absl::StatusCode::kInvalidArgument);
    ASSERT_TRUE(writer.Finish().ok());
  }
  auto reader = BundleReader::Open(prefix);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->Read("v").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE((*reader)->ReadSlice("v", *TensorSlice::Parse("1,1:-")).ok());
}

TEST(BundleTest, BigEndianDataIsSwappedBothWays) {
  ScratchDir dir;
  const std::string prefix = dir.Join("be");
  Tensor f(DT_FLOAT, TensorShape({2}));
  f.mutable_flat<float>()[0] = 1.0f;
  f.mutable_flat<float>()[1] = -2.5f;
  Tensor c(DT_COMPLEX128, TensorShape({1}));
  std::memcpy(c.mutable_raw_data(), "\x01\x02\x03\x04\x05\x06\x07\x08\x11\x12\x13\x14\x15\x16\x17\x18", 16);
  Tensor s(DT_STRING, TensorShape({2}));
  (*s.mutable_strings())[0] = "big";
  (*s.mutable_strings())[1] = "endian";
  BundleWriterOptions options;
  options.byte_order = ByteOrder::kBig;
  {
    BundleWriter writer(prefix, options);
    ASSERT_TRUE(writer.Add("f", f).ok());
    ASSERT_TRUE(writer.Add("c", c).ok());
    ASSERT_TRUE(writer.Add("s", s).ok());
    EXPECT_EQ(writer.Add("f8", Tensor(DT_FLOAT8_E4M3FN, TensorShape({1}))).code(),
              absl::StatusCode::kUnimplemented);
    ASSERT_TRUE(writer.Finish().ok());
  }
  std::string data = testing::ReadFile(DataFilename(prefix, 0, 1));
  EXPECT_EQ(data.substr(0, 8), std::string("\x3f\x80\x00\x00\xc0\x20\x00\x00", 8));
  EXPECT_EQ(data.substr(8, 16), std::string("\x08\x07\x06\x05\x04\x03\x02\x01\x18\x17\x16\x15\x14\x13\x12\x11", 16));
  auto reader = BundleReader::Open(prefix);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_TRUE((*reader)->foreign_byte_order());
  EXPECT_TRUE((*reader)->Read("f")->Identical(f));
  EXPECT_TRUE((*reader)->Read("c")->Identical(c));
  EXPECT_TRUE((*reader)->Read("s")->Identical(s));
  // A view cannot alias foreign-order bytes: it falls back to a swapped copy.
  auto view = (*reader)->ReadView("f");
  ASSERT_TRUE(view.ok());
  EXPECT_FALSE(view->is_view());
  EXPECT_TRUE(view->Identical(f));
}

TEST(BundleTest, AlignmentPadsEveryPayload) {
  ScratchDir dir;
  const std::string prefix = dir.Join("a");
  BundleWriterOptions options;
  options.data_alignment = 64;
  Tensor a(DT_INT8, TensorShape({3}));
  Tensor b(DT_DOUBLE, TensorShape({5}));
  b.mutable_flat<double>()[4] = 3.25;
  {
    BundleWriter writer(prefix, options);
    ASSERT_TRUE(writer.Add("a", a).ok());
    ASSERT_TRUE(writer.Add("b", b).ok());
    ASSERT_TRUE(writer.Finish().ok());
  }
  EXPECT_EQ(testing::ReadFile(DataFilename(prefix, 0, 1)).size(), 128u);
  auto reader = BundleReader::Open(prefix);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->GetEntry("b")->offset, 64);
  EXPECT_EQ((*reader)->GetEntry("b")->size, 40);
  auto view = (*reader)->ReadView("b");
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->is_view());  // 64-aligned inside a page-aligned mapping
  EXPECT_EQ(view->flat<double>()[4], 3.25);
}

TEST(BundleTest, ReadIntoAndViews) {
  ScratchDir dir;
  const std::string prefix = dir.Join("v");
  Tensor t = Filled(DT_FLOAT, TensorShape({1000}), 9);
  {
    BundleWriter writer(prefix);
    ASSERT_TRUE(writer.Add("t", t).ok());
    ASSERT_TRUE(writer.Finish().ok());
  }
  auto reader = BundleReader::Open(prefix);
  ASSERT_TRUE(reader.ok());
  Tensor dst(DT_FLOAT, TensorShape({1000}));
  ASSERT_TRUE((*reader)->ReadInto("t", &dst).ok());
  EXPECT_TRUE(dst.Identical(t));
  Tensor wrong(DT_FLOAT, TensorShape({999}));
  auto s = (*reader)->ReadInto("t", &wrong);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("[999]"), std::string::npos) << s;
  Tensor wrong_type(DT_INT32, TensorShape({1000}));
  EXPECT_EQ((*reader)->ReadInto("t", &wrong_type).code(), absl::StatusCode::kInvalidArgument);
  // A caller's raw buffer of exactly the right size.
  std::vector<float> raw(1000);
  ASSERT_TRUE((*reader)->ReadInto("t", raw.data(), raw.size() * sizeof(float)).ok());
  EXPECT_EQ(std::memcmp(raw.data(), t.raw_data(), t.TotalBytes()), 0);
  EXPECT_EQ((*reader)->ReadInto("t", raw.data(), 3996).code(), absl::StatusCode::kInvalidArgument);
  Tensor view;
  {
    auto v = (*reader)->ReadView("t");
    ASSERT_TRUE(v.ok());
    view = *v;
  }
  reader->reset();  // the view keeps the mapping alive
  EXPECT_TRUE(view.is_view());
  EXPECT_TRUE(view.Identical(t));
}

// Payloads of 1 MiB and more are checksummed on a second thread while they
// are written; small ones in the writer's buffer. Every stored CRC must be
// the CRC32C of the payload computed here, whatever the path and however the
// payload straddles the writer's 1 MiB write pieces; and a payload copied
// out in pieces (ReadInto) or viewed must read back whole.
TEST(BundleTest, LargePayloadsChecksumWhileWritten) {
  ScratchDir dir;
  const std::string prefix = dir.Join("big");
  const int64_t sizes[] = {7, (1 << 18) + 1, 1 << 18, (3 << 18) + 5, (1 << 20) + 3, 13, 1 << 21};
  std::vector<Tensor> ts;
  {
    BundleWriter writer(prefix);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; ++i) {
      ts.push_back(Filled(DT_FLOAT, TensorShape({sizes[i]}), static_cast<int>(i) + 1));
      ASSERT_TRUE(writer.Add(absl::StrCat("t", i), ts.back()).ok());
    }
    ASSERT_TRUE(writer.Finish().ok());
  }
  auto reader = BundleReader::Open(prefix);
  ASSERT_TRUE(reader.ok()) << reader.status();
  for (size_t i = 0; i < ts.size(); ++i) {
    const std::string name = absl::StrCat("t", i);
    auto e = (*reader)->GetEntry(name);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->crc32c, crc32c::Mask(crc32c::Value(ts[i].raw_data(), ts[i].TotalBytes())))
        << name;
    Tensor into(DT_FLOAT, ts[i].shape());
    ASSERT_TRUE((*reader)->ReadInto(name, &into).ok()) << name;
    EXPECT_TRUE(into.Identical(ts[i])) << name;
    auto view = (*reader)->ReadView(name);
    ASSERT_TRUE(view.ok()) << name;
    EXPECT_TRUE(view->Identical(ts[i])) << name;
  }
  EXPECT_EQ((*reader)->num_tensors(), ts.size());
  EXPECT_EQ((*reader)->tensor_name(0), "t0");
  EXPECT_EQ((*reader)->tensor_name(ts.size() - 1), absl::StrCat("t", ts.size() - 1));
}

TEST(BundleTest, WriterRefusesBadInput) {
  ScratchDir dir;
  BundleWriter writer(dir.Join("w"));
  Tensor t(DT_FLOAT, TensorShape({1}));
  EXPECT_EQ(writer.Add("", t).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(writer.Add("x", t).ok());
  auto dup = writer.Add("x", t);
  EXPECT_EQ(dup.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(dup.message().find("duplicate"), std::string::npos);
  EXPECT_EQ(writer.Add("bad", Tensor()).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(writer.Add("shape", Tensor(DT_FLOAT, TensorShape({-1}))).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(writer.Finish().ok());
  EXPECT_FALSE(writer.Finish().ok());
}

TEST(BundleTest, AbandonedWriterLeavesNothing) {
  ScratchDir dir;
  {
    BundleWriter writer(dir.Join("gone"));
    ASSERT_TRUE(writer.Add("x", Tensor(DT_FLOAT, TensorShape({100}))).ok());
  }
  auto children = Env::Default()->GetChildren(dir.path());
  ASSERT_TRUE(children.ok());
  EXPECT_TRUE(children->empty());
}

TEST(BundleTest, MissingNameSuggestsNearest) {
  ScratchDir dir;
  const std::string prefix = dir.Join("n");
  {
    BundleWriter writer(prefix);
    for (const char* n : {"dense/kernel", "dense/bias", "dense_1/kernel", "global_step"}) {
      ASSERT_TRUE(writer.Add(n, Tensor(DT_FLOAT, TensorShape({1}))).ok());
    }
    ASSERT_TRUE(writer.Finish().ok());
  }
  auto reader = BundleReader::Open(prefix);
  ASSERT_TRUE(reader.ok());
  auto s = (*reader)->Read("dense/kernal").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("'dense/kernel'"), std::string::npos) << s;
  EXPECT_EQ(s.message().find("global_step"), std::string::npos) << s;
  EXPECT_FALSE((*reader)->Contains("dense"));
  EXPECT_TRUE((*reader)->Contains("dense/bias"));
}

TEST(BundleTest, EmptyBundleIsValid) {
  ScratchDir dir;
  {
    BundleWriter writer(dir.Join("e"));
    ASSERT_TRUE(writer.Finish().ok());
  }
  auto reader = BundleReader::Open(dir.Join("e"));
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_TRUE((*reader)->entries().empty());
}

TEST(BundleTest, RewritingAPrefixReplacesTheCheckpoint) {
  ScratchDir dir;
  const std::string prefix = dir.Join("r");
  for (int round = 0; round < 3; ++round) {
    BundleWriter writer(prefix);
    Tensor t(DT_INT64, TensorShape({}));
    t.mutable_flat<int64_t>()[0] = round;
    ASSERT_TRUE(writer.Add("step", t).ok());
    ASSERT_TRUE(writer.Finish().ok());
    auto reader = BundleReader::Open(prefix);
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ((*reader)->Read("step")->flat<int64_t>()[0], round);
  }
}

TEST(MergeBundlesTest, ThreeWorkersBecomeOneThreeShardCheckpoint) {
  ScratchDir dir;
  const std::string merged = dir.Join("model.ckpt");
  std::vector<std::string> parts;
  std::vector<Tensor> values;
  for (int w = 0; w < 3; ++w) {
    std::string part = absl::StrCat(merged, "_temp_abc/part-0000", w, "-of-00003");
    parts.push_back(part);
    BundleWriter writer(part);
    Tensor t = Filled(DT_FLOAT, TensorShape({4, w + 1}), 100 + w);
    values.push_back(t);
    ASSERT_TRUE(writer.Add(absl::StrCat("worker", w, "/w"), t).ok());
    ASSERT_TRUE(writer.Add(absl::StrCat("worker", w, "/step"), Tensor(DT_INT64, TensorShape({}))).ok());
    // Each worker saves a different slice of one partitioned variable.
    Tensor part_t = Filled(DT_FLOAT, TensorShape({1, 5}), 200 + w);
    ASSERT_TRUE(writer.AddSlice("shared", TensorShape({3, 5}),
                                *TensorSlice::Parse(absl::StrCat(w, ",1:-")), part_t).ok());
    ASSERT_TRUE(writer.Finish().ok());
  }
  ASSERT_TRUE(MergeBundles(Env::Default(), parts, merged).ok());
  auto reader = BundleReader::Open(merged);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->num_shards(), 3);
  EXPECT_EQ((*reader)->entries().size(), 7u);
  for (int w = 0; w < 3; ++w) {
    auto e = (*reader)->GetEntry(absl::StrCat("worker", w, "/w"));
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->shard_id, w);
    auto t = (*reader)->Read(e->name);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_TRUE(t->Identical(values[w]));
    EXPECT_TRUE(testing::FileExists(DataFilename(merged, w, 3)));
    EXPECT_FALSE(testing::FileExists(IndexFilename(parts[w])));
  }
  auto shared = (*reader)->Read("shared");
  ASSERT_TRUE(shared.ok()) << shared.status();
  EXPECT_EQ(shared->shape(), TensorShape({3, 5}));
  EXPECT_EQ((*reader)->GetEntry("shared")->slices.size(), 3u);
  // The part directory is gone (it was empty after the renames).
  EXPECT_FALSE(testing::FileExists(merged + "_temp_abc"));
}

TEST(MergeBundlesTest, DuplicateTensorIsRefused) {
  ScratchDir dir;
  std::vector<std::string> parts = {dir.Join("p0"), dir.Join("p1")};
  for (const std::string& p : parts) {
    BundleWriter writer(p);
    ASSERT_TRUE(writer.Add("same", Tensor(DT_FLOAT, TensorShape({1}))).ok());
    ASSERT_TRUE(writer.Finish().ok());
  }
  auto s = MergeBundles(Env::Default(), parts, dir.Join("m"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("same"), std::string::npos);
  EXPECT_EQ(MergeBundles(Env::Default(), {dir.Join("missing")}, dir.Join("m")).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ckpt
