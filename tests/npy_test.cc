// .npy reading and writing: bytes np.save would write, every dtype round
// trip, big-endian and text files, and hostile headers.
#include "common/npy.h"

#include <complex>
#include <cstring>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "util/test_util.h"

namespace ckpt {
namespace tools {
namespace {

// The preamble of a version-1.0 file: magic, version, header length.
std::string Preamble10(uint16_t header_len) {
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header_len & 0xff));
  out.push_back(static_cast<char>(header_len >> 8));
  return out;
}

// A whole version-1.0 file with `dict` as header, padded with spaces to
// `total_header` bytes (preamble included) and ended by '\n'.
std::string File10(const std::string& dict, size_t total_header, const std::string& data) {
  if (total_header < 10 + dict.size() + 1) {
    ADD_FAILURE() << "header of " << total_header << " bytes cannot hold " << dict;
    return "";
  }
  std::string header = dict;
  header.append(total_header - 10 - dict.size() - 1, ' ');
  header.push_back('\n');
  return Preamble10(static_cast<uint16_t>(header.size())) + header + data;
}

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

TEST(NpyTest, WritesExactlyWhatNpSaveWrites) {
  // np.save of np.array([[1], [2], [5]], np.float32): a 128-byte header whose
  // length field is 0x76 = 118, the dict, 20 spare spaces for growing the
  // first axis, padding, '\n', then the little-endian floats.
  Tensor t(DT_FLOAT, TensorShape({3, 1}));
  t.mutable_flat<float>()[0] = 1;
  t.mutable_flat<float>()[1] = 2;
  t.mutable_flat<float>()[2] = 5;
  absl::StatusOr<std::string> bytes = EncodeNpy(t);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1), }";
  std::string want = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict;
  want.append(20, ' ');  // 21 - len("3")
  want.append(127 - want.size(), ' ');
  want += "\n";
  want += Bytes({0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0xa0, 0x40});
  EXPECT_EQ(*bytes, want);
  EXPECT_EQ(bytes->size(), 128u + 12u);

  // np.save of np.array([True, False]): one-byte types say '|', a 1-D shape
  // is "(2,)".
  Tensor b(DT_BOOL, TensorShape({2}));
  b.mutable_flat<uint8_t>()[0] = 1;
  bytes = EncodeNpy(b);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, File10("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }" +
                               std::string(20, ' '),
                           128, Bytes({1, 0})));

  // A scalar has shape () and no spare spaces; the header still pads to 128
  // because 10 + 56 bytes pass 64.
  Tensor s(DT_INT64, TensorShape({}));
  s.mutable_flat<int64_t>()[0] = -2;
  bytes = EncodeNpy(s);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, File10("{'descr': '<i8', 'fortran_order': False, 'shape': (), }", 128,
                           Bytes({0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})));

  // Strings: '|S<longest>', each element NUL-padded.
  Tensor str(DT_STRING, TensorShape({2}));
  (*str.mutable_strings())[0] = "abc";
  (*str.mutable_strings())[1] = "d";
  bytes = EncodeNpy(str);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, File10("{'descr': '|S3', 'fortran_order': False, 'shape': (2,), }" +
                               std::string(20, ' '),
                           128, std::string("abcd\0\0", 6)));
}

// One tensor of every dtype .npy can hold, with awkward values.
std::vector<Tensor> EveryDType() {
  std::vector<Tensor> out;
  auto fill = [&](DType dtype, TensorShape shape) {
    Tensor t(dtype, shape);
    if (dtype == DT_STRING) {
      for (size_t i = 0; i < t.strings().size(); ++i) {
        (*t.mutable_strings())[i] = std::string(i, static_cast<char>('a' + i)) + "\x01\xff";
      }
    } else if (dtype == DT_BOOL) {
      for (int64_t i = 0; i < t.NumElements(); ++i) t.mutable_flat<uint8_t>()[i] = i % 3 == 0;
    } else {
      char* p = t.mutable_raw_data();
      for (size_t i = 0; i < t.TotalBytes(); ++i) p[i] = static_cast<char>(i * 37 + 11);
    }
    out.push_back(t);
  };
  for (DType d : {DT_HALF, DT_FLOAT, DT_DOUBLE, DT_INT8, DT_INT16, DT_INT32, DT_INT64, DT_UINT8,
                  DT_UINT16, DT_UINT32, DT_UINT64, DT_BOOL, DT_COMPLEX64, DT_COMPLEX128,
                  DT_STRING}) {
    fill(d, TensorShape({2, 3}));
    fill(d, TensorShape({}));
    fill(d, TensorShape({0, 4}));
    fill(d, TensorShape({5}));
  }
  return out;
}

TEST(NpyTest, EveryDTypeRoundTrips) {
  for (const Tensor& t : EveryDType()) {
    absl::StatusOr<std::string> bytes = EncodeNpy(t);
    ASSERT_TRUE(bytes.ok()) << t.DebugString() << " " << bytes.status();
    EXPECT_EQ(bytes->find('\n') + 1, 128u) << t.DebugString();  // data aligned
    absl::StatusOr<Tensor> back = ParseNpy(*bytes, "mem.npy");
    ASSERT_TRUE(back.ok()) << t.DebugString() << " " << back.status();
    EXPECT_TRUE(back->Identical(t)) << t.DebugString() << " came back as " << back->DebugString();
    if (t.dtype() == DT_STRING) {
      EXPECT_EQ(back->strings(), t.strings());
    }
  }
}

TEST(NpyTest, FilesRoundTripThroughEnv) {
  testing::ScratchDir dir;
  for (const Tensor& t : EveryDType()) {
    const std::string path = dir.Join("t.npy");
    ASSERT_TRUE(WriteNpyFile(path, t).ok());
    absl::StatusOr<Tensor> back = ReadNpyFile(path);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_TRUE(back->Identical(t)) << t.DebugString();
    if (t.dtype() == DT_STRING) {
      EXPECT_EQ(back->strings(), t.strings());
    }
  }
  absl::StatusOr<Tensor> missing = ReadNpyFile(dir.Join("none.npy"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "none.npy")) << missing.status();
}

TEST(NpyTest, DescrNamesTheNumPyTypes) {
  EXPECT_EQ(*NpyDescr(DT_FLOAT), "<f4");
  EXPECT_EQ(*NpyDescr(DT_HALF), "<f2");
  EXPECT_EQ(*NpyDescr(DT_UINT8), "|u1");
  EXPECT_EQ(*NpyDescr(DT_INT8), "|i1");
  EXPECT_EQ(*NpyDescr(DT_COMPLEX128), "<c16");
  EXPECT_EQ(NpyDescr(DT_BFLOAT16).status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(EncodeNpy(Tensor(DT_BFLOAT16, TensorShape({2}))).status().code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(EncodeNpy(Tensor(DT_QINT8, TensorShape({2}))).status().code(),
            absl::StatusCode::kUnimplemented);
}

TEST(NpyTest, ReadsBigEndianAndConvertsToHostOrder) {
  const std::string tail = ", 'fortran_order': False, 'shape': (2,), }";
  absl::StatusOr<Tensor> t =
      ParseNpy(File10("{'descr': '>i4'" + tail, 128, Bytes({0, 0, 0, 1, 0, 0, 1, 0})), "be.npy");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->dtype(), DT_INT32);
  EXPECT_EQ(t->flat<int32_t>()[0], 1);
  EXPECT_EQ(t->flat<int32_t>()[1], 256);

  // 1.5 and -2.0 as big-endian doubles.
  t = ParseNpy(File10("{'descr': '>f8'" + tail, 128,
                      Bytes({0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0})),
               "be.npy");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->flat<double>()[0], 1.5);
  EXPECT_EQ(t->flat<double>()[1], -2.0);

  // complex64 swaps each component separately: (1+2j).
  t = ParseNpy(File10("{'descr': '>c8', 'fortran_order': False, 'shape': (), }", 128,
                      Bytes({0x3f, 0x80, 0, 0, 0x40, 0, 0, 0})),
               "be.npy");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->flat<std::complex<float>>()[0], std::complex<float>(1, 2));

  // Any non-zero byte of a bool is true.
  t = ParseNpy(File10("{'descr': '|b1'" + tail, 128, Bytes({0, 7})), "b.npy");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->flat<uint8_t>()[0], 0);
  EXPECT_EQ(t->flat<uint8_t>()[1], 1);
}

TEST(NpyTest, ReadsTextAndBytesStrings) {
  // '<U2' is UTF-32: "a" (padded with a NUL code point) and "\u00e9z".
  absl::StatusOr<Tensor> t = ParseNpy(
      File10("{'descr': '<U2', 'fortran_order': False, 'shape': (2,), }", 128,
             Bytes({'a', 0, 0, 0, 0, 0, 0, 0, 0xe9, 0, 0, 0, 'z', 0, 0, 0})),
      "u.npy");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->dtype(), DT_STRING);
  EXPECT_EQ(t->strings()[0], "a");
  EXPECT_EQ(t->strings()[1], "\xc3\xa9z");
  // Big-endian UTF-32 with a code point above the BMP (U+1F600).
  t = ParseNpy(File10("{'descr': '>U1', 'fortran_order': False, 'shape': (), }", 128,
                      Bytes({0, 1, 0xf6, 0})),
               "u.npy");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->strings()[0], "\xf0\x9f\x98\x80");
  // A surrogate is not a character.
  t = ParseNpy(File10("{'descr': '<U1', 'fortran_order': False, 'shape': (), }", 128,
                      Bytes({0x00, 0xd8, 0, 0})),
               "u.npy");
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  // Bytes: trailing NULs are padding, inner ones are kept.
  t = ParseNpy(File10("{'descr': '|S4', 'fortran_order': False, 'shape': (2,), }", 128,
                      std::string("a\0b\0cd\0\0", 8)),
               "s.npy");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->strings()[0], std::string("a\0b", 3));
  EXPECT_EQ(t->strings()[1], "cd");
}

TEST(NpyTest, ReadsOtherWritersHeaders) {
  const std::string data = Bytes({1, 0, 2, 0, 3, 0});
  // Old NumPy: 16-byte alignment, no spare spaces; double quotes; Python 2
  // long suffix; keys in another order; no trailing comma.
  for (const std::string& dict :
       {std::string("{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }"),
        std::string("{\"descr\": \"<i2\", \"fortran_order\": False, \"shape\": (3L,)}"),
        std::string("{'shape': (3,), 'fortran_order': False, 'descr': '<i2'}")}) {
    absl::StatusOr<Tensor> t = ParseNpy(File10(dict, 80, data), "old.npy");
    ASSERT_TRUE(t.ok()) << dict << " " << t.status();
    EXPECT_EQ(t->shape(), TensorShape({3}));
    EXPECT_EQ(t->flat<int16_t>()[2], 3);
  }
  // Versions 2.0 and 3.0 have a 4-byte header length.
  for (char major : {'\x02', '\x03'}) {
    std::string header = "{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }";
    header.append(128 - 12 - header.size() - 1, ' ');
    header += "\n";
    std::string file = std::string("\x93NUMPY", 6) + major + '\0' +
                       Bytes({static_cast<int>(header.size()), 0, 0, 0}) + header + data;
    absl::StatusOr<Tensor> t = ParseNpy(file, "v2.npy");
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->flat<int16_t>()[1], 2);
  }
}

void ExpectRefused(const std::string& bytes, absl::StatusCode code, const std::string& needle) {
  absl::StatusOr<Tensor> t = ParseNpy(bytes, "evil.npy");
  ASSERT_FALSE(t.ok()) << needle;
  EXPECT_EQ(t.status().code(), code) << t.status();
  EXPECT_TRUE(absl::StrContains(t.status().message(), "evil.npy")) << t.status();
  EXPECT_TRUE(absl::StrContains(t.status().message(), needle)) << t.status();
}

TEST(NpyTest, RefusesHostileAndMalformedFiles) {
  using absl::StatusCode;
  const auto file = [](const std::string& dict, const std::string& data = "") {
    return File10(dict, 128, data);
  };
  ExpectRefused("", StatusCode::kInvalidArgument, "not an .npy file");
  ExpectRefused("PK\x03\x04 this is a zip file", StatusCode::kInvalidArgument, "magic");
  ExpectRefused(std::string("\x93NUMPY\x04\x00\x10\x00{}", 12), StatusCode::kUnimplemented,
                "version 4.0");
  // A header length running past the end of the file.
  ExpectRefused(Preamble10(0xfff0) + "{'descr': '<f4'", StatusCode::kInvalidArgument,
                "past the end");
  // A shape whose element count overflows, one far larger than the data,
  // and one just one element short: all refused before allocating.
  ExpectRefused(file("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }"),
                StatusCode::kInvalidArgument, "shape");
  ExpectRefused(file("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }",
                     "12345678"),
                StatusCode::kDataLoss, "truncated");
  ExpectRefused(file("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", "12345678"),
                StatusCode::kDataLoss, "truncated");
  ExpectRefused(file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", "12345678"),
                StatusCode::kDataLoss, "4 bytes after the data");
  ExpectRefused(file("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }"),
                StatusCode::kInvalidArgument, "too large");
  ExpectRefused(file("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"),
                StatusCode::kInvalidArgument, "negative");
  ExpectRefused(file("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", "1234"),
                StatusCode::kInvalidArgument, "Fortran");
  ExpectRefused(file("{'descr': '<f4', 'shape': (1,), }", "1234"),
                StatusCode::kInvalidArgument, "lacks 'fortran_order'");
  ExpectRefused(file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", "1234"),
                StatusCode::kInvalidArgument, "unexpected key 'x'");
  ExpectRefused(file("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", "1234"),
                StatusCode::kUnimplemented, "structured");
  ExpectRefused(file("{'descr': '<M8[s]', 'fortran_order': False, 'shape': (1,), }", "12345678"),
                StatusCode::kUnimplemented, "<M8[s]");
  ExpectRefused(file("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "12345678"),
                StatusCode::kUnimplemented, "|O");
  ExpectRefused(file("{'descr': '<f3', 'fortran_order': False, 'shape': (1,), }", "123"),
                StatusCode::kUnimplemented, "<f3");
  ExpectRefused(file("{'descr': '|S0', 'fortran_order': False, 'shape': (1,), }"),
                StatusCode::kInvalidArgument, "width");
  ExpectRefused(file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)"),
                StatusCode::kInvalidArgument, "malformed");
  ExpectRefused(file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk"),
                StatusCode::kInvalidArgument, "malformed");
  ExpectRefused(file("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}"),
                StatusCode::kInvalidArgument, "repeated");
}

TEST(NpyTest, HostileFileOnDiskIsRefusedWithItsPath) {
  testing::ScratchDir dir;
  const std::string path = dir.Join("huge.npy");
  testing::WriteFile(path, File10("{'descr': '<f4', 'fortran_order': False, 'shape': (1073741824, 1024), }",
                                  128, "1234"));
  absl::StatusOr<Tensor> t = ReadNpyFile(path);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(t.status().message(), path)) << t.status();
  EXPECT_TRUE(absl::StrContains(t.status().message(), "[1073741824,1024]")) << t.status();
}

TEST(NpyTest, StringsAsUnicodeAreUtf32AndRoundTrip) {
  Tensor t(DT_STRING, TensorShape({3}));
  (*t.mutable_strings())[0] = "a";
  (*t.mutable_strings())[1] = "\xc3\xa9\xf0\x9f\x98\x80";  // U+00E9 U+1F600
  (*t.mutable_strings())[2] = "";
  absl::StatusOr<NpyStrings> s = EncodeNpyStrings(t, NpyStringType::kUnicode, /*lossless=*/true);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->descr, "<U2");
  EXPECT_EQ(s->data, Bytes({0x61, 0, 0, 0, 0, 0, 0, 0,                  // "a", padding
                            0xe9, 0, 0, 0, 0x00, 0xf6, 0x01, 0,         // U+00E9 U+1F600
                            0, 0, 0, 0, 0, 0, 0, 0}));                  // ""
  const std::string file = NpyHeader(s->descr, t.shape()) + s->data;
  EXPECT_EQ(file.substr(0, 128),
            File10("{'descr': '<U2', 'fortran_order': False, 'shape': (3,), }" + std::string(20, ' '),
                   128, ""));
  absl::StatusOr<Tensor> back = ParseNpy(file, "mem.npy");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->strings(), t.strings());
}

TEST(NpyTest, LosslessStringEncodingRefusesWhatNumPyWouldChange) {
  Tensor nul(DT_STRING, TensorShape({2}));
  (*nul.mutable_strings())[0] = "ok";
  (*nul.mutable_strings())[1] = std::string("x\0", 2);
  absl::StatusOr<NpyStrings> s = EncodeNpyStrings(nul, NpyStringType::kBytes, /*lossless=*/true);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "string element 1 ends in a NUL byte, which NumPy's fixed-width bytes ('|S') cannot "
            "hold (it strips trailing NULs)");
  // Without `lossless` it is what np.save would write for b'x\0': '|S2'.
  s = EncodeNpyStrings(nul, NpyStringType::kBytes, /*lossless=*/false);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->descr, "|S2");
  EXPECT_EQ(s->data, std::string("okx\0", 4));
  s = EncodeNpyStrings(nul, NpyStringType::kUnicode, /*lossless=*/true);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "string element 1 ends in U+0000, which NumPy unicode ('<U') strips");

  Tensor binary(DT_STRING, TensorShape({1}));
  (*binary.mutable_strings())[0] = "\xc0\x80";  // an overlong NUL
  s = EncodeNpyStrings(binary, NpyStringType::kUnicode, /*lossless=*/false);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "string element 0 is not valid UTF-8, so NumPy unicode ('<U') cannot hold it");
}

TEST(NpyTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("w\xc3\xa4rme/\xe6\xa0\xb8/\xf0\x9f\x98\x80"));
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));   // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));       // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));       // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xc3"));                 // cut short
  EXPECT_FALSE(IsValidUtf8("\x80"));                 // a lone continuation byte
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

TEST(NpyTest, StreamedHeaderReadingMatchesWholeFileReading) {
  Tensor t(DT_INT32, TensorShape({2, 2}));
  for (int i = 0; i < 4; ++i) t.mutable_flat<int32_t>()[i] = 1000 * i - 1;
  absl::StatusOr<std::string> bytes = EncodeNpy(t);
  ASSERT_TRUE(bytes.ok());
  // A forward-only reader, as an .npz member's stream is.
  uint64_t next = 0;
  NpyReadFn read = [&](uint64_t offset, size_t n) -> absl::StatusOr<absl::string_view> {
    EXPECT_GE(offset, next);
    next = offset + n;
    return absl::string_view(*bytes).substr(offset, n);
  };
  absl::StatusOr<NpyLayout> layout = ReadNpyLayout(read, bytes->size(), "stream.npy");
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->dtype, DT_INT32);
  EXPECT_EQ(layout->shape, TensorShape({2, 2}));
  EXPECT_EQ(layout->data_offset, 128u);
  EXPECT_EQ(layout->data_bytes, 16u);
  Tensor back(DT_INT32, layout->shape);
  std::memcpy(back.mutable_raw_data(), bytes->data() + layout->data_offset, layout->data_bytes);
  FinishNpyFixed(*layout, &back);
  EXPECT_TRUE(back.Identical(t));
}

}  // namespace
}  // namespace tools
}  // namespace ckpt
