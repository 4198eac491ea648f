// .safetensors: the exact bytes we write, reading back, and hostile headers
// (each refused with an error naming the file and tensor, never a crash).
#include "common/safetensors.h"

#include <unistd.h>

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "ckpt/bundle_writer.h"
#include "gtest/gtest.h"
#include "util/test_util.h"

namespace ckpt {
namespace tools {
namespace {

std::string Le64(uint64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}

// A file with `header` as its JSON (unpadded) and `data` as its buffer.
std::string File(const std::string& header, const std::string& data) {
  return Le64(header.size()) + header + data;
}

TEST(SafetensorsTest, WritesTheFormatsExactBytes) {
  testing::ScratchDir dir;
  Tensor attn(DT_FLOAT, TensorShape({1, 2, 3}));
  for (int i = 0; i < 6; ++i) attn.mutable_flat<float>()[i] = static_cast<float>(i);
  Tensor b(DT_BFLOAT16, TensorShape({}));
  b.mutable_flat<uint16_t>()[0] = 0x3f80;  // 1.0
  {
    BundleWriter writer(dir.Join("model.ckpt"));
    ASSERT_TRUE(writer.Add("attn.0", attn).ok());
    ASSERT_TRUE(writer.Add("b", b).ok());
    ASSERT_TRUE(writer.Finish().ok());
  }
  absl::StatusOr<std::unique_ptr<TensorSource>> src = OpenBundleSource(dir.Join("model.ckpt"));
  ASSERT_TRUE(src.ok()) << src.status();
  SinkOptions options;
  options.progress = false;
  absl::StatusOr<ConvertStats> stats = WriteSafetensors(**src, dir.Join("m.safetensors"), options);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->tensors, 2);
  EXPECT_EQ(stats->bytes, 26);
  // 175 bytes of compact JSON, tensors in data-file order with their keys
  // in the reference's order, padded with one space to 176 (0xb0).
  const std::string json =
      "{\"__metadata__\":{\"source_format\":\"tensorflow_bundle_v2\"},"
      "\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]},"
      "\"b\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[24,26]}} ";
  const std::string data("\x00\x00\x00\x00\x00\x00\x80\x3f\x00\x00\x00\x40"
                         "\x00\x00\x40\x40\x00\x00\x80\x40\x00\x00\xa0\x40"
                         "\x80\x3f", 26);
  EXPECT_EQ(testing::ReadFile(dir.Join("m.safetensors")),
            std::string("\xb0\0\0\0\0\0\0\0", 8) + json + data);

  absl::StatusOr<std::unique_ptr<TensorSource>> back = OpenSafetensorsSource(dir.Join("m.safetensors"));
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ((*back)->tensors().size(), 2u);
  EXPECT_EQ((*back)->tensors()[0].name, "attn.0");
  EXPECT_EQ((*back)->tensors()[1].name, "b");
  EXPECT_EQ((*back)->tensors()[1].dtype, DT_BFLOAT16);
  absl::StatusOr<Tensor> t = (*back)->Read(0);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->Identical(attn));
  EXPECT_EQ((*back)->metadata().at("source_format"), "safetensors");
}

TEST(SafetensorsTest, ReadsAReferenceFileAndItsMetadata) {
  testing::ScratchDir dir;
  // As the reference writer lays it out: tensors sorted by alignment, not
  // by name; here the JSON lists them out of offset order too.
  const std::string header =
      "{\"z\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[8,10]},"
      "\"__metadata__\":{\"format\":\"pt\"},"
      "\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
      "\"e\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[10,10]},"
      "\"t\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[10,12]}}";
  testing::WriteFile(dir.Join("ref.safetensors"),
                     File(header, std::string("\xfe\xff\xff\xff\xff\xff\xff\xff\x07\x09\x00\x05", 12)));
  absl::StatusOr<std::unique_ptr<TensorSource>> src = OpenSafetensorsSource(dir.Join("ref.safetensors"));
  ASSERT_TRUE(src.ok()) << src.status();
  const auto& tensors = (*src)->tensors();
  ASSERT_EQ(tensors.size(), 4u);
  EXPECT_EQ(tensors[0].name, "a");
  EXPECT_EQ(tensors[1].name, "z");
  EXPECT_EQ(tensors[2].name, "e");
  EXPECT_EQ(tensors[3].name, "t");
  EXPECT_EQ((*src)->metadata().at("format"), "pt");
  absl::StatusOr<Tensor> a = (*src)->Read(0);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->flat<int64_t>()[0], -2);
  absl::StatusOr<Tensor> e = (*src)->Read(2);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->shape(), TensorShape({0, 5}));
  absl::StatusOr<Tensor> t = (*src)->Read(3);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->raw_data()[0], 0);
  EXPECT_EQ(t->raw_data()[1], 1);  // any non-zero byte is true
}

// Each hostile file and the words its error must contain.
TEST(SafetensorsTest, RefusesHostileFiles) {
  testing::ScratchDir dir;
  const std::string f32 = "\"dtype\":\"F32\",\"shape\":[2]";
  struct Case {
    const char* what;
    std::string bytes;
    absl::StatusCode code;
    std::string message;
  };
  const std::string big_len = Le64(uint64_t{1} << 62);
  std::vector<Case> cases = {
      {"short", "abc", absl::StatusCode::kInvalidArgument,
       "not a safetensors file (3 bytes, shorter than the 8-byte header length)"},
      {"length past end", Le64(100) + "{}", absl::StatusCode::kInvalidArgument,
       "header length 100 runs past the end of the file (10 bytes)"},
      {"huge length", big_len, absl::StatusCode::kInvalidArgument,
       "header length 4611686018427387904 runs past the end"},
      {"not json", File("{\"a\":", ""), absl::StatusCode::kInvalidArgument, "header is not valid JSON"},
      {"not object", File("[1,2]", ""), absl::StatusCode::kInvalidArgument,
       "header is not a JSON object"},
      {"not utf8", File("{\"\xff\":1}", ""), absl::StatusCode::kInvalidArgument,
       "header is not UTF-8 text"},
      {"overlap",
       File("{\"a\":{" + f32 + ",\"data_offsets\":[0,8]},\"b\":{" + f32 + ",\"data_offsets\":[4,12]}}",
            std::string(12, '\0')),
       absl::StatusCode::kInvalidArgument,
       "tensor 'b': data_offsets [4, 12) overlap tensor 'a' [0, 8)"},
      {"gap",
       File("{\"a\":{" + f32 + ",\"data_offsets\":[0,8]},\"b\":{" + f32 + ",\"data_offsets\":[9,17]}}",
            std::string(17, '\0')),
       absl::StatusCode::kInvalidArgument, "tensor 'b': data bytes [8, 9) before it belong to no tensor"},
      {"past end", File("{\"a\":{" + f32 + ",\"data_offsets\":[0,8]}}", std::string(4, '\0')),
       absl::StatusCode::kInvalidArgument,
       "tensor 'a': data_offsets [0, 8) run past the data buffer (4 bytes)"},
      {"trailing data", File("{\"a\":{" + f32 + ",\"data_offsets\":[0,8]}}", std::string(9, '\0')),
       absl::StatusCode::kInvalidArgument, "data buffer has 1 bytes after the last tensor"},
      {"size mismatch", File("{\"a\":{" + f32 + ",\"data_offsets\":[0,6]}}", std::string(6, '\0')),
       absl::StatusCode::kInvalidArgument,
       "tensor 'a': F32[2] needs 8 bytes but data_offsets [0, 6) hold 6"},
      {"reversed", File("{\"a\":{" + f32 + ",\"data_offsets\":[8,0]}}", std::string(8, '\0')),
       absl::StatusCode::kInvalidArgument, "tensor 'a': data_offsets [8, 0) end before they begin"},
      {"overflowing shape",
       File("{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", ""),
       absl::StatusCode::kInvalidArgument, "tensor 'a': shape [4294967296,4294967296] is not valid"},
      {"negative dim", File("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", ""),
       absl::StatusCode::kInvalidArgument, "tensor 'a': shape [-1] is not a list of non-negative integers"},
      {"unknown dtype", File("{\"a\":{\"dtype\":\"Q7\",\"shape\":[],\"data_offsets\":[0,1]}}", "x"),
       absl::StatusCode::kInvalidArgument, "tensor 'a': unknown dtype \"Q7\""},
      {"foreign dtype", File("{\"a\":{\"dtype\":\"F8_E8M0\",\"shape\":[],\"data_offsets\":[0,1]}}", "x"),
       absl::StatusCode::kUnimplemented, "tensor 'a': dtype F8_E8M0 has no TensorFlow type"},
      {"missing field", File("{\"a\":{\"dtype\":\"F32\",\"shape\":[]}}", ""),
       absl::StatusCode::kInvalidArgument,
       "tensor 'a': needs \"dtype\", \"shape\" and \"data_offsets\""},
      {"repeated name",
       File("{\"a\":{" + f32 + ",\"data_offsets\":[0,8]},\"a\":{" + f32 + ",\"data_offsets\":[0,8]}}",
            std::string(8, '\0')),
       absl::StatusCode::kInvalidArgument, "tensor 'a': appears twice in the header"},
      {"bad metadata", File("{\"__metadata__\":{\"k\":1}}", ""), absl::StatusCode::kInvalidArgument,
       "__metadata__ value of 'k' is not a string"},
      {"deep nesting", File("{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}", ""),
       absl::StatusCode::kInvalidArgument, "header nests deeper than 4 levels"},
      {"brackets in names do not count",
       File("{\"[[[[[\\\"{{{{\":{\"dtype\":\"Q7\",\"shape\":[],\"data_offsets\":[0,1]}}", "x"),
       absl::StatusCode::kInvalidArgument, "tensor '[[[[[\"{{{{': unknown dtype \"Q7\""},
  };
  for (const Case& c : cases) {
    const std::string path = dir.Join("hostile.safetensors");
    testing::WriteFile(path, c.bytes);
    absl::StatusOr<std::unique_ptr<TensorSource>> src = OpenSafetensorsSource(path);
    ASSERT_FALSE(src.ok()) << c.what;
    EXPECT_EQ(src.status().code(), c.code) << c.what << ": " << src.status();
    EXPECT_NE(src.status().message().find(path + ": " + c.message), std::string::npos)
        << c.what << ": " << src.status();
  }
}

TEST(SafetensorsTest, HeaderLengthAboveTheLimitIsRefusedBeforeReading) {
  testing::ScratchDir dir;
  const std::string path = dir.Join("sparse.safetensors");
  testing::WriteFile(path, Le64(100'000'001));
  // A sparse file long enough to hold the claimed header.
  ASSERT_EQ(::truncate(path.c_str(), 8 + 100'000'001), 0);
  absl::StatusOr<std::unique_ptr<TensorSource>> src = OpenSafetensorsSource(path);
  ASSERT_FALSE(src.ok());
  EXPECT_NE(src.status().message().find(
                path + ": header length 100000001 exceeds the limit of 100000000 bytes"),
            std::string::npos)
      << src.status();
}

TEST(SafetensorsTest, FileTruncatedAfterOpenIsAnErrorOnRead) {
  testing::ScratchDir dir;
  const std::string path = dir.Join("m.safetensors");
  testing::WriteFile(path, File("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
                                std::string(16, '\x01')));
  absl::StatusOr<std::unique_ptr<TensorSource>> src = OpenSafetensorsSource(path);
  ASSERT_TRUE(src.ok()) << src.status();
  ASSERT_EQ(::truncate(path.c_str(), 20), 0);
  absl::StatusOr<Tensor> t = (*src)->Read(0);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find(path + ": tensor 'a'"), std::string::npos) << t.status();
}

TEST(SafetensorsTest, LargerElementsComeFirstSoEveryTensorIsAligned) {
  testing::ScratchDir dir;
  {
    BundleWriter writer(dir.Join("model.ckpt"));
    ASSERT_TRUE(writer.Add("flags", Tensor(DT_BOOL, TensorShape({3}))).ok());
    ASSERT_TRUE(writer.Add("half", Tensor(DT_HALF, TensorShape({1}))).ok());
    ASSERT_TRUE(writer.Add("wide", Tensor(DT_DOUBLE, TensorShape({1}))).ok());
    ASSERT_TRUE(writer.Finish().ok());
  }
  absl::StatusOr<std::unique_ptr<TensorSource>> src = OpenBundleSource(dir.Join("model.ckpt"));
  ASSERT_TRUE(src.ok()) << src.status();
  SinkOptions options;
  options.progress = false;
  ASSERT_TRUE(WriteSafetensors(**src, dir.Join("m.safetensors"), options).ok());
  const std::string bytes = testing::ReadFile(dir.Join("m.safetensors"));
  EXPECT_NE(bytes.find("\"wide\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                       "\"half\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[8,10]},"
                       "\"flags\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[10,13]}}"),
            std::string::npos)
      << bytes;
}

TEST(SafetensorsTest, DTypeNamesAreTheFormats) {
  EXPECT_EQ(SafetensorsDTypeName(DT_FLOAT), "F32");
  EXPECT_EQ(SafetensorsDTypeName(DT_BFLOAT16), "BF16");
  EXPECT_EQ(SafetensorsDTypeName(DT_HALF), "F16");
  EXPECT_EQ(SafetensorsDTypeName(DT_BOOL), "BOOL");
  EXPECT_EQ(SafetensorsDTypeName(DT_FLOAT8_E4M3FN), "F8_E4M3");
  EXPECT_EQ(SafetensorsDTypeName(DT_FLOAT8_E5M2), "F8_E5M2");
  EXPECT_EQ(SafetensorsDTypeName(DT_COMPLEX64), "C64");
  EXPECT_EQ(SafetensorsDTypeName(DT_COMPLEX128), "");
  EXPECT_EQ(SafetensorsDTypeName(DT_STRING), "");
  EXPECT_EQ(SafetensorsDTypeName(DT_FLOAT8_E4M3FNUZ), "");
}

}  // namespace
}  // namespace tools
}  // namespace ckpt
