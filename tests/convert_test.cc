// ckpt_convert's conversions: lossless round trips bundle -> npz -> bundle
// and bundle -> safetensors -> bundle for every dtype each format holds,
// what is skipped or refused, NumPy reading our .npz, and the binary's exit
// codes.
#include "common/convert.h"

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/bundle_writer.h"
#include "common/npz.h"
#include "common/safetensors.h"
#include "gtest/gtest.h"
#include "util/test_util.h"

namespace ckpt {
namespace tools {
namespace {

using namespace std::string_literals;
using testing::RunCommand;
using testing::ToolPath;

// Deterministic, awkward contents: every byte value for fixed-size types
// (NaN and denormal bit patterns included), 0/1 for bool.
Tensor Filled(DType dtype, const TensorShape& shape, int seed) {
  Tensor t(dtype, shape);
  if (dtype == DT_STRING) {
    for (size_t i = 0; i < t.strings().size(); ++i) {
      (*t.mutable_strings())[i] = absl::StrCat("s", seed, "-", i, std::string(i, 'x'));
    }
  } else if (dtype == DT_BOOL) {
    for (int64_t i = 0; i < t.NumElements(); ++i) t.mutable_raw_data()[i] = (i + seed) % 3 == 0;
  } else {
    char* p = t.mutable_raw_data();
    for (size_t i = 0; i < t.TotalBytes(); ++i) p[i] = static_cast<char>(i * 37 + seed * 11 + 5);
  }
  return t;
}

// Tensors of each dtype in `dtypes`, in the shapes that go wrong first:
// scalars, empty ([0], [3,0]), a matrix; names with '/' and UTF-8.
std::map<std::string, Tensor> Corpus(std::initializer_list<DType> dtypes) {
  std::map<std::string, Tensor> out;
  int seed = 0;
  for (DType d : dtypes) {
    const std::string base = DTypeName(d);
    out[base + "/scalar"] = Filled(d, TensorShape({}), ++seed);
    out[base + "/empty"] = Filled(d, TensorShape({0}), ++seed);
    out[base + "/empty_3x0"] = Filled(d, TensorShape({3, 0}), ++seed);
    out["layer_1/" + base + "/kernel"] = Filled(d, TensorShape({2, 3}), ++seed);
  }
  out["wärme/核/Ω"] = Filled(DT_FLOAT, TensorShape({4}), ++seed);
  return out;
}

void WriteBundle(const std::string& prefix, const std::map<std::string, Tensor>& tensors) {
  BundleWriter writer(prefix);
  for (const auto& [name, t] : tensors) ASSERT_TRUE(writer.Add(name, t).ok()) << name;
  ASSERT_TRUE(writer.Finish().ok());
}

std::map<std::string, Tensor> ReadBundle(const std::string& prefix) {
  std::map<std::string, Tensor> out;
  absl::StatusOr<std::unique_ptr<BundleReader>> reader = BundleReader::Open(prefix);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  for (const BundleEntryInfo& e : (*reader)->entries()) {
    absl::StatusOr<Tensor> t = (*reader)->Read(e.name);
    EXPECT_TRUE(t.ok()) << t.status();
    if (t.ok()) out[e.name] = *t;
  }
  return out;
}

void ExpectSameTensors(const std::map<std::string, Tensor>& want,
                       const std::map<std::string, Tensor>& got) {
  EXPECT_EQ(want.size(), got.size());
  for (const auto& [name, t] : want) {
    auto it = got.find(name);
    if (it == got.end()) {
      ADD_FAILURE() << "missing '" << name << "'";
      continue;
    }
    EXPECT_TRUE(it->second.Identical(t))
        << name << ": " << t.DebugString() << " came back as " << it->second.DebugString();
  }
}

struct Captured {
  std::vector<std::string> lines;
  SinkOptions Options() {
    SinkOptions o;
    o.progress = false;
    o.warn = [this](const std::string& line) { lines.push_back(line); };
    return o;
  }
};

constexpr std::initializer_list<DType> kNpzDTypes = {
    DT_HALF,   DT_FLOAT,  DT_DOUBLE, DT_INT8,  DT_INT16,     DT_INT32,      DT_INT64, DT_UINT8,
    DT_UINT16, DT_UINT32, DT_UINT64, DT_BOOL,  DT_COMPLEX64, DT_COMPLEX128, DT_STRING};
constexpr std::initializer_list<DType> kSafetensorsDTypes = {
    DT_BOOL,  DT_UINT8, DT_INT8,   DT_FLOAT8_E5M2, DT_FLOAT8_E4M3FN, DT_INT16, DT_UINT16, DT_HALF,
    DT_BFLOAT16, DT_INT32, DT_UINT32, DT_FLOAT,   DT_COMPLEX64,     DT_DOUBLE, DT_INT64, DT_UINT64};

TEST(ConvertTest, BundleToNpzToBundleIsLossless) {
  testing::ScratchDir dir;
  const std::map<std::string, Tensor> tensors = Corpus(kNpzDTypes);
  WriteBundle(dir.Join("src/model.ckpt"), tensors);
  for (bool compress : {false, true}) {
    Captured warnings;
    SinkOptions options = warnings.Options();
    options.compress = compress;
    const std::string npz = dir.Join(compress ? "deflated.npz" : "stored.npz");
    absl::StatusOr<ConvertStats> stats = Convert(dir.Join("src/model.ckpt"), npz, options);
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_EQ(stats->tensors, static_cast<int64_t>(tensors.size()));
    EXPECT_EQ(stats->skipped, 0);
    EXPECT_TRUE(warnings.lines.empty()) << warnings.lines[0];
    const std::string back = dir.Join(compress ? "back_deflated/model" : "back_stored/model");
    stats = Convert(npz, back, options);
    ASSERT_TRUE(stats.ok()) << stats.status();
    ExpectSameTensors(tensors, ReadBundle(back));
  }
}

TEST(ConvertTest, BundleToSafetensorsToBundleIsLossless) {
  testing::ScratchDir dir;
  const std::map<std::string, Tensor> tensors = Corpus(kSafetensorsDTypes);
  WriteBundle(dir.Join("model.ckpt"), tensors);
  Captured warnings;
  absl::StatusOr<ConvertStats> stats =
      Convert(dir.Join("model.ckpt"), dir.Join("m.safetensors"), warnings.Options());
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->tensors, static_cast<int64_t>(tensors.size()));
  EXPECT_TRUE(warnings.lines.empty());
  stats = Convert(dir.Join("m.safetensors"), dir.Join("back"), warnings.Options());
  ASSERT_TRUE(stats.ok()) << stats.status();
  ExpectSameTensors(tensors, ReadBundle(dir.Join("back")));
}

TEST(ConvertTest, NpzAndSafetensorsConvertToEachOther) {
  testing::ScratchDir dir;
  const std::map<std::string, Tensor> tensors =
      Corpus({DT_FLOAT, DT_INT64, DT_BOOL, DT_COMPLEX64, DT_UINT16});
  WriteBundle(dir.Join("model.ckpt"), tensors);
  Captured warnings;
  ASSERT_TRUE(Convert(dir.Join("model.ckpt"), dir.Join("a.npz"), warnings.Options()).ok());
  ASSERT_TRUE(Convert(dir.Join("a.npz"), dir.Join("b.safetensors"), warnings.Options()).ok());
  ASSERT_TRUE(Convert(dir.Join("b.safetensors"), dir.Join("c.npz"), warnings.Options()).ok());
  ASSERT_TRUE(Convert(dir.Join("c.npz"), dir.Join("back"), warnings.Options()).ok());
  EXPECT_TRUE(warnings.lines.empty());
  ExpectSameTensors(tensors, ReadBundle(dir.Join("back")));
}

TEST(ConvertTest, PartitionedTensorsAreWrittenWhole) {
  testing::ScratchDir dir;
  Tensor full = Filled(DT_FLOAT, TensorShape({4, 2}), 3);
  {
    BundleWriter writer(dir.Join("model.ckpt"));
    for (int part = 0; part < 2; ++part) {
      absl::StatusOr<TensorSlice> slice = TensorSlice::Parse(part == 0 ? "0,2:-" : "2,2:-");
      ASSERT_TRUE(slice.ok());
      Tensor half(DT_FLOAT, TensorShape({2, 2}));
      std::memcpy(half.mutable_raw_data(), full.raw_data() + part * 16, 16);
      ASSERT_TRUE(writer.AddSlice("emb", full.shape(), *slice, half).ok());
    }
    ASSERT_TRUE(writer.Finish().ok());
  }
  Captured warnings;
  ASSERT_TRUE(Convert(dir.Join("model.ckpt"), dir.Join("m.safetensors"), warnings.Options()).ok());
  ASSERT_TRUE(Convert(dir.Join("m.safetensors"), dir.Join("back"), warnings.Options()).ok());
  ExpectSameTensors({{"emb", full}}, ReadBundle(dir.Join("back")));
}

TEST(ConvertTest, WhatAFormatCannotHoldIsSkippedWithAWarningOrRefusedWhenStrict) {
  testing::ScratchDir dir;
  Tensor text(DT_STRING, TensorShape({2}));
  (*text.mutable_strings())[0] = "vocab";
  (*text.mutable_strings())[1] = "ends in NUL\0"s;
  WriteBundle(dir.Join("model.ckpt"), {{"w", Filled(DT_FLOAT, TensorShape({2}), 1)},
                                       {"text", text},
                                       {"f8", Filled(DT_FLOAT8_E4M3FN, TensorShape({3}), 2)},
                                       {"caf\xe9", Filled(DT_FLOAT, TensorShape({1}), 3)}});
  // safetensors: no strings; JSON needs UTF-8 names.
  Captured warnings;
  absl::StatusOr<ConvertStats> stats =
      Convert(dir.Join("model.ckpt"), dir.Join("m.safetensors"), warnings.Options());
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->tensors, 2);
  EXPECT_EQ(stats->skipped, 2);
  ASSERT_EQ(warnings.lines.size(), 2u);
  // In data-file order, which is the order they were added (by name here).
  EXPECT_EQ(warnings.lines[0], "skipped: " + dir.Join("model.ckpt") +
                                   ": tensor 'caf\xe9': the name is not UTF-8, which the JSON "
                                   "header needs");
  EXPECT_EQ(warnings.lines[1], "skipped: " + dir.Join("model.ckpt") +
                                   ": tensor 'text': safetensors has no type for string");
  // npz: no float8, '|S' would strip the trailing NUL, zip names are UTF-8.
  warnings.lines.clear();
  stats = Convert(dir.Join("model.ckpt"), dir.Join("m.npz"), warnings.Options());
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->tensors, 1);
  EXPECT_EQ(stats->skipped, 3);
  ASSERT_EQ(warnings.lines.size(), 3u);
  EXPECT_NE(warnings.lines[0].find("tensor 'caf\xe9': the name is not UTF-8"),
            std::string::npos) << warnings.lines[0];
  EXPECT_NE(warnings.lines[1].find("tensor 'f8': NumPy has no type for float8_e4m3fn"),
            std::string::npos) << warnings.lines[1];
  EXPECT_NE(warnings.lines[2].find("tensor 'text': string element 1 ends in a NUL byte"),
            std::string::npos) << warnings.lines[2];

  SinkOptions strict = warnings.Options();
  strict.strict = true;
  for (const char* dst : {"strict.safetensors", "strict.npz"}) {
    stats = Convert(dir.Join("model.ckpt"), dir.Join(dst), strict);
    ASSERT_FALSE(stats.ok()) << dst;
    EXPECT_TRUE(IsStrictRefusal(stats.status())) << stats.status();
    EXPECT_TRUE(absl::EndsWith(stats.status().message(), "(--strict)")) << stats.status();
    EXPECT_FALSE(testing::FileExists(dir.Join(dst))) << dst;
  }
  // Other errors are not refusals.
  stats = Convert(dir.Join("nothing"), dir.Join("x.npz"), strict);
  ASSERT_FALSE(stats.ok());
  EXPECT_FALSE(IsStrictRefusal(stats.status()));
}

TEST(ConvertTest, Bfloat16GoesToNpzAsBitsWithANoteOrAsFloat32) {
  testing::ScratchDir dir;
  Tensor bf16(DT_BFLOAT16, TensorShape({3}));
  // 1.0, -2.5, the smallest subnormal: float32 bits are these shifted left 16.
  const uint16_t bits[] = {0x3f80, 0xc020, 0x0001};
  std::memcpy(bf16.mutable_raw_data(), bits, sizeof bits);
  WriteBundle(dir.Join("model.ckpt"), {{"b", bf16}});

  Captured warnings;
  ASSERT_TRUE(Convert(dir.Join("model.ckpt"), dir.Join("bits.npz"), warnings.Options()).ok());
  ASSERT_EQ(warnings.lines.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(warnings.lines[0], "note: 1 bfloat16 tensor(s) written as their raw bits"))
      << warnings.lines[0];
  ASSERT_TRUE(Convert(dir.Join("bits.npz"), dir.Join("bits"), warnings.Options()).ok());
  Tensor as_u16(DT_UINT16, TensorShape({3}));
  std::memcpy(as_u16.mutable_raw_data(), bits, sizeof bits);
  ExpectSameTensors({{"b", as_u16}}, ReadBundle(dir.Join("bits")));

  SinkOptions f32 = warnings.Options();
  f32.bf16_to_f32 = true;
  ASSERT_TRUE(Convert(dir.Join("model.ckpt"), dir.Join("f32.npz"), f32).ok());
  ASSERT_TRUE(Convert(dir.Join("f32.npz"), dir.Join("f32"), f32).ok());
  Tensor want(DT_FLOAT, TensorShape({3}));
  want.mutable_flat<float>()[0] = 1.0f;
  want.mutable_flat<float>()[1] = -2.5f;
  const uint32_t subnormal = 0x00010000;
  std::memcpy(&want.mutable_flat<float>()[2], &subnormal, 4);
  ExpectSameTensors({{"b", want}}, ReadBundle(dir.Join("f32")));
}

TEST(ConvertTest, UnicodeStringsFallBackToBytesWhenNotUtf8) {
  testing::ScratchDir dir;
  Tensor text(DT_STRING, TensorShape({2}));
  (*text.mutable_strings())[0] = "héllo";
  (*text.mutable_strings())[1] = "";
  Tensor binary(DT_STRING, TensorShape({1}));
  (*binary.mutable_strings())[0] = "\xff\xfe";
  WriteBundle(dir.Join("model.ckpt"), {{"text", text}, {"binary", binary}});
  Captured warnings;
  SinkOptions options = warnings.Options();
  options.strings_as_unicode = true;
  ASSERT_TRUE(Convert(dir.Join("model.ckpt"), dir.Join("m.npz"), options).ok());
  ASSERT_EQ(warnings.lines.size(), 1u);
  EXPECT_NE(warnings.lines[0].find("tensor 'binary': written as bytes ('|S'), not unicode: "
                                   "string element 0 is not valid UTF-8"),
            std::string::npos) << warnings.lines[0];
  ASSERT_TRUE(Convert(dir.Join("m.npz"), dir.Join("back"), options).ok());
  ExpectSameTensors({{"text", text}, {"binary", binary}}, ReadBundle(dir.Join("back")));
}

TEST(ConvertTest, EmptyCheckpointGivesAnEmptyArchive) {
  testing::ScratchDir dir;
  WriteBundle(dir.Join("model.ckpt"), {});
  Captured warnings;
  ASSERT_TRUE(Convert(dir.Join("model.ckpt"), dir.Join("m.npz"), warnings.Options()).ok());
  // The end-of-central-directory record alone, as np.savez() writes.
  EXPECT_EQ(testing::ReadFile(dir.Join("m.npz")), std::string("PK\x05\x06", 4) + std::string(18, '\0'));
  absl::StatusOr<std::unique_ptr<TensorSource>> src = OpenNpzSource(dir.Join("m.npz"));
  ASSERT_TRUE(src.ok()) << src.status();
  EXPECT_TRUE((*src)->tensors().empty());
  ASSERT_TRUE(Convert(dir.Join("model.ckpt"), dir.Join("m.safetensors"), warnings.Options()).ok());
  ASSERT_TRUE(Convert(dir.Join("m.safetensors"), dir.Join("back"), warnings.Options()).ok());
  EXPECT_TRUE(ReadBundle(dir.Join("back")).empty());
}

// NumPy itself reads what we write: '/' names, unicode and bytes strings,
// bool, complex, an empty array and a scalar.
TEST(ConvertTest, NumPyLoadsOurNpz) {
  if (RunCommand("/usr/bin/python3 -c 'import numpy' 2>/dev/null", nullptr, false) != 0) {
    GTEST_SKIP() << "/usr/bin/python3 with numpy (Debian python3-numpy) not found: skipping";
  }
  testing::ScratchDir dir;
  Tensor text(DT_STRING, TensorShape({2}));
  (*text.mutable_strings())[0] = "naïve";
  (*text.mutable_strings())[1] = "日本";
  Tensor flags(DT_BOOL, TensorShape({3}));
  flags.mutable_raw_data()[1] = 1;
  Tensor z(DT_COMPLEX64, TensorShape({2}));
  const float parts[] = {1.5f, -2.0f, 0.0f, 3.25f};
  std::memcpy(z.mutable_raw_data(), parts, sizeof parts);
  Tensor kernel(DT_FLOAT, TensorShape({2, 3}));
  for (int i = 0; i < 6; ++i) kernel.mutable_flat<float>()[i] = 0.5f * i;
  Tensor step(DT_INT64, TensorShape({}));
  step.mutable_flat<int64_t>()[0] = -7;
  WriteBundle(dir.Join("model.ckpt"), {{"dense/kernel", kernel},
                                       {"text", text},
                                       {"flags", flags},
                                       {"z", z},
                                       {"global_step", step},
                                       {"empty", Tensor(DT_DOUBLE, TensorShape({3, 0}))}});
  for (bool compress : {false, true}) {
    SCOPED_TRACE(compress ? "compressed" : "stored");
    Captured warnings;
    SinkOptions options = warnings.Options();
    options.compress = compress;
    options.strings_as_unicode = true;
    ASSERT_TRUE(Convert(dir.Join("model.ckpt"), dir.Join("m.npz"), options).ok());
    testing::WriteFile(dir.Join("check.py"),
                       "import sys, numpy as np\n"
                       "d = np.load(sys.argv[1])\n"
                       "print(sorted(d.files))\n"
                       "print(d['dense/kernel'].dtype, d['dense/kernel'].tolist())\n"
                       "print(d['text'].dtype, d['text'].tolist() == ['na\\u00efve', '\\u65e5\\u672c'])\n"
                       "print(d['flags'].dtype, d['flags'].tolist())\n"
                       "print(d['z'].dtype, d['z'].tolist())\n"
                       "print(d['global_step'].shape, int(d['global_step']))\n"
                       "print(d['empty'].dtype, d['empty'].shape)\n");
    std::string out;
    ASSERT_EQ(RunCommand("/usr/bin/python3 '" + dir.Join("check.py") + "' '" + dir.Join("m.npz") + "'",
                         &out),
              0)
        << out;
    EXPECT_EQ(out,
              "['dense/kernel', 'empty', 'flags', 'global_step', 'text', 'z']\n"
              "float32 [[0.0, 0.5, 1.0], [1.5, 2.0, 2.5]]\n"
              "<U5 True\n"
              "bool [False, True, False]\n"
              "complex64 [(1.5-2j), 3.25j]\n"
              "() -7\n"
              "float64 (3, 0)\n");
  }
}

TEST(ConvertTest, SafetensorsPackageLoadsOurFile) {
  if (RunCommand("/usr/bin/python3 -c 'import numpy, safetensors.numpy' 2>/dev/null", nullptr,
                 false) != 0) {
    GTEST_SKIP() << "python3 package 'safetensors' not installed: skipping the check with the "
                    "reference reader";
  }
  testing::ScratchDir dir;
  Tensor kernel(DT_FLOAT, TensorShape({2, 2}));
  for (int i = 0; i < 4; ++i) kernel.mutable_flat<float>()[i] = 1.0f + i;
  WriteBundle(dir.Join("model.ckpt"), {{"dense/kernel", kernel}});
  Captured warnings;
  ASSERT_TRUE(Convert(dir.Join("model.ckpt"), dir.Join("m.safetensors"), warnings.Options()).ok());
  std::string out;
  ASSERT_EQ(RunCommand("/usr/bin/python3 -c \"import sys; from safetensors.numpy import load_file; "
                       "print(load_file(sys.argv[1])['dense/kernel'].tolist())\" '" +
                           dir.Join("m.safetensors") + "'",
                       &out),
            0)
      << out;
  EXPECT_EQ(out, "[[1.0, 2.0], [3.0, 4.0]]\n");
}

TEST(ConvertTest, BinaryExitCodes) {
  testing::ScratchDir dir;
  Tensor text(DT_STRING, TensorShape({1}));
  (*text.mutable_strings())[0] = "a";
  WriteBundle(dir.Join("run/model.ckpt"), {{"w", Filled(DT_FLOAT, TensorShape({2, 2}), 1)}, {"text", text}});
  const std::string tool = ToolPath("ckpt_convert");
  std::string out;
  EXPECT_EQ(RunCommand(tool + " '" + dir.Join("run/model.ckpt") + "' '" + dir.Join("m.safetensors") + "'", &out), 0);
  EXPECT_EQ(out, "skipped: " + dir.Join("run/model.ckpt") +
                     ": tensor 'text': safetensors has no type for string\n"
                     "wrote " + dir.Join("m.safetensors") + ": 1 tensors, 16 bytes, 1 skipped\n");
  EXPECT_EQ(RunCommand(tool + " --strict '" + dir.Join("run/model.ckpt.index") + "' '" +
                           dir.Join("s.safetensors") + "'", &out),
            1);
  EXPECT_NE(out.find("(--strict)"), std::string::npos) << out;
  EXPECT_EQ(RunCommand(tool + " --quiet --compress --strings=unicode '" + dir.Join("run/model.ckpt") +
                           "' '" + dir.Join("m.npz") + "'", &out),
            0);
  EXPECT_EQ(out, "");
  EXPECT_EQ(RunCommand(tool + " '" + dir.Join("m.npz") + "' '" + dir.Join("back/model") + "'", &out), 0);
  EXPECT_EQ(out, "wrote " + dir.Join("back/model") + ": 2 tensors, 16 bytes\n");
  EXPECT_EQ(RunCommand(tool + " --strings=latin1 a.npz b", &out), 2);
  EXPECT_NE(out.find("--strings must be 'bytes' or 'unicode'"), std::string::npos) << out;
  // Names from the file reach the terminal escaped.
  WriteBundle(dir.Join("evil"), {{"title\x1b]0;pwned\x07", text}});
  EXPECT_EQ(RunCommand(tool + " '" + dir.Join("evil") + "' '" + dir.Join("e.safetensors") + "'", &out), 0);
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  EXPECT_NE(out.find("tensor 'title\\x1b]0;pwned\\x07'"), std::string::npos) << out;
  testing::WriteFile(dir.Join("junk.npz"), "not a zip archive at all");
  EXPECT_EQ(RunCommand(tool + " '" + dir.Join("junk.npz") + "' '" + dir.Join("x") + "'", &out), 2);
  EXPECT_NE(out.find(dir.Join("junk.npz") + ": not a readable .npz (zip) archive"), std::string::npos) << out;
}

}  // namespace
}  // namespace tools
}  // namespace ckpt
