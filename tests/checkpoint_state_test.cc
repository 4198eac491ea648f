#include "ckpt/checkpoint_state.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "ckpt/env.h"
#include "ckpt/io/path.h"
#include "util/test_util.h"
#include "util/v1_writer.h"

namespace ckpt {
namespace {

using ::ckpt::testing::CorpusDir;
using ::ckpt::testing::ReadFile;
using ::ckpt::testing::ScratchDir;
using ::ckpt::testing::WriteFile;
using ::tensorflow::CheckpointState;

double FromBits(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

uint64_t ToBits(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof d);
  return bits;
}

// Field-by-field equality; doubles compare by bits so NaN and -0.0 count.
void ExpectSameState(const CheckpointState& a, const CheckpointState& b) {
  EXPECT_EQ(a.model_checkpoint_path(), b.model_checkpoint_path());
  ASSERT_EQ(a.all_model_checkpoint_paths_size(), b.all_model_checkpoint_paths_size());
  for (int i = 0; i < a.all_model_checkpoint_paths_size(); ++i) {
    EXPECT_EQ(a.all_model_checkpoint_paths(i), b.all_model_checkpoint_paths(i)) << i;
  }
  ASSERT_EQ(a.all_model_checkpoint_timestamps_size(),
            b.all_model_checkpoint_timestamps_size());
  for (int i = 0; i < a.all_model_checkpoint_timestamps_size(); ++i) {
    EXPECT_EQ(ToBits(a.all_model_checkpoint_timestamps(i)),
              ToBits(b.all_model_checkpoint_timestamps(i)))
        << i << ": " << a.all_model_checkpoint_timestamps(i) << " vs "
        << b.all_model_checkpoint_timestamps(i);
  }
  EXPECT_EQ(ToBits(a.last_preserved_timestamp()), ToBits(b.last_preserved_timestamp()));
}

void ExpectRoundTrip(const CheckpointState& state) {
  std::string text = FormatCheckpointState(state);
  absl::StatusOr<CheckpointState> parsed = ParseCheckpointState(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << text;
  ExpectSameState(state, *parsed);
  EXPECT_EQ(FormatCheckpointState(*parsed), text);
}

std::string FormatTimestamp(double t) {
  CheckpointState st;
  st.add_all_model_checkpoint_timestamps(t);
  std::string line = FormatCheckpointState(st);
  const std::string prefix = "all_model_checkpoint_timestamps: ";
  EXPECT_EQ(line.substr(0, prefix.size()), prefix);
  EXPECT_EQ(line.back(), '\n');
  return line.substr(prefix.size(), line.size() - prefix.size() - 1);
}

std::string FormatPath(const std::string& path) {
  CheckpointState st;
  st.set_model_checkpoint_path(path);
  return FormatCheckpointState(st);
}

// ---- FormatCheckpointState ------------------------------------------------

TEST(FormatCheckpointStateTest, FieldsInNumberOrderOneLineEach) {
  CheckpointState st;
  st.set_last_preserved_timestamp(1734403149.5);
  st.add_all_model_checkpoint_timestamps(1734403150.123);
  st.add_all_model_checkpoint_timestamps(1734403158.6545072);
  st.add_all_model_checkpoint_paths("ckpt-1");
  st.add_all_model_checkpoint_paths("ckpt-2");
  st.set_model_checkpoint_path("ckpt-2");
  EXPECT_EQ(FormatCheckpointState(st),
            "model_checkpoint_path: \"ckpt-2\"\n"
            "all_model_checkpoint_paths: \"ckpt-1\"\n"
            "all_model_checkpoint_paths: \"ckpt-2\"\n"
            "all_model_checkpoint_timestamps: 1734403150.123\n"
            "all_model_checkpoint_timestamps: 1734403158.6545072\n"
            "last_preserved_timestamp: 1734403149.5\n");
}

TEST(FormatCheckpointStateTest, OmitsProto3Defaults) {
  EXPECT_EQ(FormatCheckpointState(CheckpointState()), "");
  CheckpointState st;
  st.add_all_model_checkpoint_paths("");
  st.add_all_model_checkpoint_timestamps(0.0);
  // Repeated elements are written even when empty or zero.
  EXPECT_EQ(FormatCheckpointState(st),
            "all_model_checkpoint_paths: \"\"\n"
            "all_model_checkpoint_timestamps: 0.0\n");
}

TEST(FormatCheckpointStateTest, NegativeZeroLastPreservedIsWritten) {
  CheckpointState st;
  st.set_last_preserved_timestamp(-0.0);
  EXPECT_EQ(FormatCheckpointState(st), "last_preserved_timestamp: -0.0\n");
  ExpectRoundTrip(st);
}

TEST(FormatCheckpointStateTest, EscapesStringsLikePython) {
  EXPECT_EQ(FormatPath("a\"b"), "model_checkpoint_path: \"a\\\"b\"\n");
  EXPECT_EQ(FormatPath("a\\b"), "model_checkpoint_path: \"a\\\\b\"\n");
  EXPECT_EQ(FormatPath("it's"), "model_checkpoint_path: \"it\\'s\"\n");
  EXPECT_EQ(FormatPath("a\nb\rc\td"), "model_checkpoint_path: \"a\\nb\\rc\\td\"\n");
  EXPECT_EQ(FormatPath(std::string("\x00\x01\x1f\x7f", 4)),
            "model_checkpoint_path: \"\\000\\001\\037\\177\"\n");
  EXPECT_EQ(FormatPath("/tmp/caf\xc3\xa9/ckpt-1"),
            "model_checkpoint_path: \"/tmp/caf\\303\\251/ckpt-1\"\n");
  EXPECT_EQ(FormatPath("\xe2\x82\xac\xff"),
            "model_checkpoint_path: \"\\342\\202\\254\\377\"\n");
  // Printable ASCII other than quotes and backslash stays as is.
  EXPECT_EQ(FormatPath(" ~?#{}[]:"), "model_checkpoint_path: \" ~?#{}[]:\"\n");
}

TEST(FormatCheckpointStateTest, DoublesLikePythonRepr) {
  struct Case {
    double value;
    const char* repr;
  };
  // Expected strings are Python 3's repr() of the same doubles.
  const Case cases[] = {
      {1734403158.6545072, "1734403158.6545072"},
      {1734403149.5, "1734403149.5"},
      {1734403149.0, "1734403149.0"},
      {1734403157.484856, "1734403157.484856"},
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {0.1, "0.1"},
      {-2.5, "-2.5"},
      {100.0, "100.0"},
      {0.5, "0.5"},
      {123.456, "123.456"},
      {1.0 / 3.0, "0.3333333333333333"},
      {1e15, "1000000000000000.0"},
      {9999999999999998.0, "9999999999999998.0"},
      {1e16, "1e+16"},
      {1e22, "1e+22"},
      {1e100, "1e+100"},
      {123456789012345678.0, "1.2345678901234568e+17"},
      {0.0001, "0.0001"},
      {1e-5, "1e-05"},
      {1.5e-7, "1.5e-07"},
      {-1e-300, "-1e-300"},
      {5e-324, "5e-324"},
      {2.2250738585072014e-308, "2.2250738585072014e-308"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {std::numeric_limits<double>::infinity(), "inf"},
      {-std::numeric_limits<double>::infinity(), "-inf"},
      {std::numeric_limits<double>::quiet_NaN(), "nan"},
      {-std::numeric_limits<double>::quiet_NaN(), "nan"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FormatTimestamp(c.value), c.repr);
  }
}

TEST(FormatCheckpointStateTest, RandomDoublesMatchPythonRepr) {
  struct Case {
    uint64_t bits;
    const char* repr;
  };
  // Random bit patterns and random timestamps, with Python 3's repr().
  const Case cases[] = {
      {0xf2a74de452e6b438ULL, "-1.989032661366619e+244"},
      {0x6513270e269e0d37ULL, "7.761117632285041e+178"},
      {0x0c5c7fd0a6a3a450ULL, "3.980498358697587e-249"},
      {0xd23f0824128b2f33ULL, "-1.5432835417340557e+88"},
      {0x1818e811892f902bULL, "1.3647584518757569e-192"},
      {0x9531985d5d9dc9f8ULL, "-1.3701135617873088e-206"},
      {0xe8e25d940ed90475ULL, "-1.7160537630466207e+197"},
      {0x36f675cc81e74ef5ULL, "6.294675241195386e-44"},
      {0x1600a35a099950d8ULL, "1.0613447212142254e-202"},
      {0x6b0d549b6f03675aULL, "4.708325160387546e+207"},
      {0x3d9c172411e20b8fULL, "6.387016158513563e-12"},
      {0x8d116ece1738f7d9ULL, "-9.973130378568733e-246"},
      {0x0f21ddb66cad4a26ULL, "8.779753225680271e-236"},
      {0x90c192cfd3ac94afULL, "-5.795503248498993e-228"},
      {0xf28c105d1fb17c23ULL, "-5.988180159386011e+243"},
      {0xa170b33839263059ULL, "-1.306052388527796e-147"},
      {0x953f48f1a09f76b5ULL, "-2.436117699484841e-206"},
      {0x0fd630f1f29d0da9ULL, "2.233386999150174e-232"},
      {0x95e60af593bd04cfULL, "-3.51527970626667e-203"},
      {0x0cb1e29c658cda14ULL, "1.5987381841032883e-247"},
      {0x3898d190f9ebdaccULL, "4.6678633181812096e-36"},
      {0x8e81973e0becd7b0ULL, "-8.441872792105456e-239"},
      {0x2217beaddbc496cbULL, "1.9015657400796622e-144"},
      {0x6b4cb2424a23d596ULL, "7.370437700706684e+208"},
      {0x41d6ff21fb40767aULL, "1543276525.0072312"},
      {0x41d6e0d931db1accULL, "1535337671.4235106"},
      {0x41d7bb1348cec1d4ULL, "1592544547.2305803"},
      {0x41da000744ef1ac7ULL, "1744837907.7360094"},
      {0x41d728deee7e8a23ULL, "1554217913.9771812"},
      {0x41d8f3a26c4651c1ULL, "1674480049.0987399"},
      {0x41d935396e2b61fbULL, "1691674040.6778553"},
      {0x41d8043897b45584ULL, "1611719262.8177195"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FormatTimestamp(FromBits(c.bits)), c.repr) << std::hex << c.bits;
  }
}

// ---- ParseCheckpointState and round trips ---------------------------------

TEST(ParseCheckpointStateTest, RoundTripsAwkwardPaths) {
  const std::vector<std::string> paths = {
      "ckpt-1",
      "dir with \"quotes\"/model's.ckpt",
      "C:\\windows\\style\\path",
      "trailing backslash\\",
      "line\nbreak\rand\ttab",
      "/tmp/caf\xc3\xa9/\xe6\xa8\xa1\xe5\x9e\x8b.ckpt-7",
      std::string("nul\0inside", 10),
      "\x01\x1b\x7f",
      "",
  };
  for (const std::string& p : paths) {
    CheckpointState st;
    st.set_model_checkpoint_path(p);
    st.add_all_model_checkpoint_paths(p);
    st.add_all_model_checkpoint_paths(p + "-next");
    SCOPED_TRACE(p);
    ExpectRoundTrip(st);
  }
}

TEST(ParseCheckpointStateTest, RoundTripsTimestamps) {
  CheckpointState st;
  st.set_model_checkpoint_path("ckpt-3");
  for (double t : {1734403150.123, 1734403158.6545072, 1734403149.0, 0.0, -0.0, 1e16,
                   1e-5, 5e-324, 1.7976931348623157e308,
                   std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity()}) {
    st.add_all_model_checkpoint_timestamps(t);
  }
  st.set_last_preserved_timestamp(1734403157.484856);
  ExpectRoundTrip(st);
}

TEST(ParseCheckpointStateTest, NanRoundTripsAsNan) {
  CheckpointState st;
  st.add_all_model_checkpoint_timestamps(std::numeric_limits<double>::quiet_NaN());
  absl::StatusOr<CheckpointState> parsed = ParseCheckpointState(FormatCheckpointState(st));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->all_model_checkpoint_timestamps_size(), 1);
  EXPECT_TRUE(std::isnan(parsed->all_model_checkpoint_timestamps(0)));
}

TEST(ParseCheckpointStateTest, RandomDoublesRoundTripExactly) {
  std::mt19937_64 rng(20241217);
  CheckpointState st;
  for (int i = 0; i < 5000; ++i) {
    double d = FromBits(rng());
    if (std::isnan(d)) continue;
    st.add_all_model_checkpoint_timestamps(d);
  }
  std::uniform_real_distribution<double> recent(1.5e9, 1.8e9);
  for (int i = 0; i < 5000; ++i) st.add_all_model_checkpoint_timestamps(recent(rng));
  ExpectRoundTrip(st);
}

TEST(ParseCheckpointStateTest, AcceptsEmptyAndOtherLayouts) {
  absl::StatusOr<CheckpointState> empty = ParseCheckpointState("");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->model_checkpoint_path(), "");

  // Any valid text format is accepted, not only the canonical layout.
  absl::StatusOr<CheckpointState> st = ParseCheckpointState(
      "# comment\n all_model_checkpoint_paths: 'a' all_model_checkpoint_paths: \"b\"\n"
      "model_checkpoint_path:\"b\"  last_preserved_timestamp: 12\n");
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->model_checkpoint_path(), "b");
  ASSERT_EQ(st->all_model_checkpoint_paths_size(), 2);
  EXPECT_EQ(st->all_model_checkpoint_paths(0), "a");
  EXPECT_EQ(st->last_preserved_timestamp(), 12.0);
  EXPECT_EQ(FormatCheckpointState(*st),
            "model_checkpoint_path: \"b\"\n"
            "all_model_checkpoint_paths: \"a\"\n"
            "all_model_checkpoint_paths: \"b\"\n"
            "last_preserved_timestamp: 12.0\n");
}

TEST(ParseCheckpointStateTest, ErrorsNameSourceAndLine) {
  absl::StatusOr<CheckpointState> st = ParseCheckpointState(
      "model_checkpoint_path: \"a\"\nno_such_field: 1\n", "/some/dir/checkpoint");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.status().message().find("/some/dir/checkpoint"), std::string::npos)
      << st.status();
  EXPECT_NE(st.status().message().find("line 2"), std::string::npos) << st.status();
  EXPECT_NE(st.status().message().find("no_such_field"), std::string::npos) << st.status();
}

TEST(ParseCheckpointStateTest, RejectsMalformedText) {
  const std::vector<std::string> bad = {
      "model_checkpoint_path: \"unterminated\n",
      "model_checkpoint_path: 12\n",
      "model_checkpoint_path \"missing colon\"\n",
      "model_checkpoint_path: \"a\"\nmodel_checkpoint_path: \"b\"\n",
      "all_model_checkpoint_timestamps: \"x\"\n",
      "last_preserved_timestamp: 1.5.5\n",
      "\x89PNG\r\n\x1a\n",
      std::string("model_checkpoint_path: \"a\"\0\n", 29),
      "{{{{",
  };
  for (const std::string& text : bad) {
    absl::StatusOr<CheckpointState> st = ParseCheckpointState(text, "src");
    if (st.ok()) {
      ADD_FAILURE() << "accepted: " << text;
      continue;
    }
    EXPECT_EQ(st.status().code(), absl::StatusCode::kInvalidArgument) << st.status();
    EXPECT_NE(st.status().message().find("src"), std::string::npos) << st.status();
    EXPECT_NE(st.status().message().find("line "), std::string::npos) << st.status();
  }
}

// ---- Golden: files written by TensorFlow ----------------------------------

TEST(CheckpointStateGoldenTest, TensorFlowFilesReformatByteForByte) {
  CKPT_REQUIRE_CORPUS(corpus);
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    const std::string path = JoinPath(entry.path().string(), kCheckpointStateFileName);
    if (!std::filesystem::is_regular_file(path)) continue;
    SCOPED_TRACE(path);
    const std::string text = ReadFile(path);
    absl::StatusOr<CheckpointState> st = ParseCheckpointState(text, path);
    ASSERT_TRUE(st.ok()) << st.status();
    EXPECT_FALSE(st->model_checkpoint_path().empty());
    EXPECT_EQ(FormatCheckpointState(*st), text);
    ++checked;
  }
  EXPECT_GE(checked, 3) << "expected several TensorFlow-written checkpoint files in " << corpus;
}

TEST(CheckpointStateGoldenTest, TensorFlowTimestampsParseToExpectedValues) {
  CKPT_REQUIRE_CORPUS(corpus);
  absl::StatusOr<CheckpointState> st =
      ReadCheckpointState(nullptr, JoinPath(corpus, "tf2_object_graph"));
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->model_checkpoint_path(), "ckpt-1");
  ASSERT_EQ(st->all_model_checkpoint_timestamps_size(), 1);
  EXPECT_EQ(st->all_model_checkpoint_timestamps(0), 1734403158.6545072);
  EXPECT_EQ(st->last_preserved_timestamp(), 1734403157.484856);
}

// ---- ReadCheckpointState / WriteCheckpointState ---------------------------

TEST(ReadCheckpointStateTest, MissingFileIsNotFound) {
  ScratchDir dir;
  absl::StatusOr<CheckpointState> st = ReadCheckpointState(nullptr, dir.path());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), absl::StatusCode::kNotFound) << st.status();
}

TEST(ReadCheckpointStateTest, GarbageIsInvalidArgumentNamingTheFile) {
  ScratchDir dir;
  WriteFile(dir.Join("checkpoint"), "this is not a checkpoint state\n");
  absl::StatusOr<CheckpointState> st = ReadCheckpointState(nullptr, dir.path());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.status().message().find(dir.Join("checkpoint")), std::string::npos)
      << st.status();
}

TEST(ReadCheckpointStateTest, EmptyModelPathIsInvalidArgument) {
  ScratchDir dir;
  WriteFile(dir.Join("checkpoint"), "all_model_checkpoint_paths: \"ckpt-1\"\n");
  absl::StatusOr<CheckpointState> st = ReadCheckpointState(nullptr, dir.path());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.status().message().find(dir.Join("checkpoint")), std::string::npos)
      << st.status();

  WriteFile(dir.Join("checkpoint"), "");
  st = ReadCheckpointState(nullptr, dir.path());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ReadCheckpointStateTest, ReturnsPathsAsStored) {
  ScratchDir dir;
  WriteFile(dir.Join("checkpoint"),
            "model_checkpoint_path: \"ckpt-2\"\n"
            "all_model_checkpoint_paths: \"/abs/ckpt-1\"\n"
            "all_model_checkpoint_paths: \"ckpt-2\"\n");
  absl::StatusOr<CheckpointState> st = ReadCheckpointState(nullptr, dir.path());
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->model_checkpoint_path(), "ckpt-2");
  EXPECT_EQ(st->all_model_checkpoint_paths(0), "/abs/ckpt-1");
}

TEST(WriteCheckpointStateTest, WritesTensorFlowBytesAndReadsBack) {
  ScratchDir dir;
  CheckpointState st;
  st.set_model_checkpoint_path("ckpt-2");
  st.add_all_model_checkpoint_paths("ckpt-1");
  st.add_all_model_checkpoint_paths("ckpt-2");
  st.add_all_model_checkpoint_timestamps(1734403150.123);
  st.add_all_model_checkpoint_timestamps(1734403158.6545072);
  st.set_last_preserved_timestamp(1734403149.5);
  ASSERT_TRUE(WriteCheckpointState(nullptr, dir.path(), st).ok());
  EXPECT_EQ(ReadFile(dir.Join("checkpoint")), FormatCheckpointState(st));

  absl::StatusOr<CheckpointState> back = ReadCheckpointState(nullptr, dir.path());
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSameState(st, *back);

  // Only the state file is left behind: no temporary files.
  absl::StatusOr<std::vector<std::string>> children = Env::Default()->GetChildren(dir.path());
  ASSERT_TRUE(children.ok()) << children.status();
  EXPECT_EQ(*children, std::vector<std::string>{"checkpoint"});
}

TEST(WriteCheckpointStateTest, AppendsModelPathWhenNotLast) {
  ScratchDir dir;
  CheckpointState st;
  st.set_model_checkpoint_path("ckpt-3");
  ASSERT_TRUE(WriteCheckpointState(nullptr, dir.path(), st).ok());
  EXPECT_EQ(ReadFile(dir.Join("checkpoint")),
            "model_checkpoint_path: \"ckpt-3\"\n"
            "all_model_checkpoint_paths: \"ckpt-3\"\n");

  st.add_all_model_checkpoint_paths("ckpt-3");
  st.add_all_model_checkpoint_paths("ckpt-1");
  ASSERT_TRUE(WriteCheckpointState(nullptr, dir.path(), st).ok());
  EXPECT_EQ(ReadFile(dir.Join("checkpoint")),
            "model_checkpoint_path: \"ckpt-3\"\n"
            "all_model_checkpoint_paths: \"ckpt-3\"\n"
            "all_model_checkpoint_paths: \"ckpt-1\"\n"
            "all_model_checkpoint_paths: \"ckpt-3\"\n");
}

TEST(WriteCheckpointStateTest, CustomStateFileName) {
  ScratchDir dir;
  CheckpointState st;
  st.set_model_checkpoint_path("model.ckpt-5");
  ASSERT_TRUE(WriteCheckpointState(nullptr, dir.path(), st, "latest").ok());
  EXPECT_FALSE(testing::FileExists(dir.Join("checkpoint")));
  absl::StatusOr<CheckpointState> back = ReadCheckpointState(nullptr, dir.path(), "latest");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->model_checkpoint_path(), "model.ckpt-5");
}

TEST(WriteCheckpointStateTest, RejectsModelPathEqualToStateFile) {
  ScratchDir dir;
  CheckpointState st;
  st.set_model_checkpoint_path(dir.Join("checkpoint"));
  absl::Status s = WriteCheckpointState(nullptr, dir.path(), st);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find(dir.Join("checkpoint")), std::string::npos) << s;

  st.set_model_checkpoint_path("checkpoint");  // relative: dir/checkpoint
  s = WriteCheckpointState(nullptr, dir.path(), st);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;

  st.set_model_checkpoint_path(dir.Join("latest"));
  s = WriteCheckpointState(nullptr, dir.path(), st, "latest");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_FALSE(testing::FileExists(dir.Join("checkpoint")));
  EXPECT_FALSE(testing::FileExists(dir.Join("latest")));
}

TEST(WriteCheckpointStateTest, RejectsEmptyModelPath) {
  ScratchDir dir;
  CheckpointState st;
  st.add_all_model_checkpoint_paths("ckpt-1");
  absl::Status s = WriteCheckpointState(nullptr, dir.path(), st);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_FALSE(testing::FileExists(dir.Join("checkpoint")));
}

TEST(WriteCheckpointStateTest, RejectsTimestampsNotMatchingPaths) {
  ScratchDir dir;
  CheckpointState st;
  st.set_model_checkpoint_path("ckpt-2");
  st.add_all_model_checkpoint_paths("ckpt-1");
  st.add_all_model_checkpoint_timestamps(1.0);
  // After ckpt-2 is appended there are two paths but one timestamp.
  absl::Status s = WriteCheckpointState(nullptr, dir.path(), st);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_FALSE(testing::FileExists(dir.Join("checkpoint")));

  st.add_all_model_checkpoint_paths("ckpt-2");
  st.add_all_model_checkpoint_timestamps(2.0);
  EXPECT_TRUE(WriteCheckpointState(nullptr, dir.path(), st).ok());
}

TEST(WriteCheckpointStateTest, MissingDirectoryFails) {
  ScratchDir dir;
  CheckpointState st;
  st.set_model_checkpoint_path("ckpt-1");
  absl::Status s = WriteCheckpointState(nullptr, dir.Join("no/such/dir"), st);
  EXPECT_FALSE(s.ok());
}

TEST(WriteCheckpointStateTest, ReplacesExistingFile) {
  ScratchDir dir;
  WriteFile(dir.Join("checkpoint"), "old contents that are much longer than the new ones\n");
  CheckpointState st;
  st.set_model_checkpoint_path("a");
  ASSERT_TRUE(WriteCheckpointState(nullptr, dir.path(), st).ok());
  EXPECT_EQ(ReadFile(dir.Join("checkpoint")),
            "model_checkpoint_path: \"a\"\nall_model_checkpoint_paths: \"a\"\n");
}

// ---- CheckpointExists / LatestCheckpoint -----------------------------------

TEST(CheckpointExistsTest, IndexFileOrV1File) {
  ScratchDir dir;
  EXPECT_FALSE(CheckpointExists(nullptr, dir.Join("ckpt-1")));
  WriteFile(dir.Join("ckpt-1.index"), "");
  EXPECT_TRUE(CheckpointExists(nullptr, dir.Join("ckpt-1")));

  WriteFile(dir.Join("v1"), "table");
  EXPECT_TRUE(CheckpointExists(nullptr, dir.Join("v1")));

  // A directory named like the prefix is not a V1 checkpoint.
  std::filesystem::create_directory(dir.Join("adir"));
  EXPECT_FALSE(CheckpointExists(nullptr, dir.Join("adir")));
  EXPECT_FALSE(CheckpointExists(nullptr, ""));
}

TEST(LatestCheckpointTest, ShardedV1FromAnotherMachine) {
  ScratchDir dir;
  const std::string prefix = testing::WriteShardedV1Sample(dir.path());
  EXPECT_TRUE(CheckpointExists(nullptr, prefix + "-\?\?\?\?\?-of-00002"));
  EXPECT_TRUE(CheckpointExists(nullptr, prefix));
  EXPECT_FALSE(CheckpointExists(nullptr, prefix + "-\?\?\?\?\?-of-00003"));
  CheckpointState st;
  st.set_model_checkpoint_path("/elsewhere/train/model.ckpt-1000"
                               "-\?\?\?\?\?-of-00002");
  ASSERT_TRUE(WriteCheckpointState(nullptr, dir.path(), st).ok());
  absl::StatusOr<std::string> latest = LatestCheckpoint(dir.path());
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(*latest, prefix + "-\?\?\?\?\?-of-00002");
}

TEST(LatestCheckpointTest, RelativePathIsJoinedToDir) {
  ScratchDir dir;
  WriteFile(dir.Join("checkpoint"),
            "model_checkpoint_path: \"ckpt-2\"\nall_model_checkpoint_paths: \"ckpt-2\"\n");
  WriteFile(dir.Join("ckpt-2.index"), "");
  absl::StatusOr<std::string> latest = LatestCheckpoint(dir.path());
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(*latest, dir.Join("ckpt-2"));
}

TEST(LatestCheckpointTest, AbsolutePathIsUsedAsIs) {
  ScratchDir dir;
  ScratchDir other;
  CheckpointState st;
  st.set_model_checkpoint_path(other.Join("model.ckpt-100"));
  ASSERT_TRUE(WriteCheckpointState(nullptr, dir.path(), st).ok());
  WriteFile(other.Join("model.ckpt-100.index"), "");
  absl::StatusOr<std::string> latest = LatestCheckpoint(dir.path());
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(*latest, other.Join("model.ckpt-100"));
}

TEST(LatestCheckpointTest, MovedDirectoryFindsCheckpointBesideStateFile) {
  ScratchDir dir;
  CheckpointState st;
  st.set_model_checkpoint_path("/nonexistent/old/place/model.ckpt-7");
  ASSERT_TRUE(WriteCheckpointState(nullptr, dir.path(), st).ok());
  WriteFile(dir.Join("model.ckpt-7.index"), "");
  absl::StatusOr<std::string> latest = LatestCheckpoint(dir.path());
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(*latest, dir.Join("model.ckpt-7"));
}

TEST(LatestCheckpointTest, MissingStateFileIsNotFound) {
  ScratchDir dir;
  WriteFile(dir.Join("ckpt-1.index"), "");
  absl::StatusOr<std::string> latest = LatestCheckpoint(dir.path());
  ASSERT_FALSE(latest.ok());
  EXPECT_EQ(latest.status().code(), absl::StatusCode::kNotFound) << latest.status();
}

TEST(LatestCheckpointTest, GarbageStateFileIsInvalidArgument) {
  ScratchDir dir;
  WriteFile(dir.Join("checkpoint"), std::string("\x00\x01garbage{", 10));
  absl::StatusOr<std::string> latest = LatestCheckpoint(dir.path());
  ASSERT_FALSE(latest.ok());
  EXPECT_EQ(latest.status().code(), absl::StatusCode::kInvalidArgument) << latest.status();
  EXPECT_NE(latest.status().message().find(dir.Join("checkpoint")), std::string::npos)
      << latest.status();
}

TEST(LatestCheckpointTest, StateNamingMissingCheckpointIsNotFound) {
  ScratchDir dir;
  CheckpointState st;
  st.set_model_checkpoint_path("/nonexistent/elsewhere/ckpt-9");
  ASSERT_TRUE(WriteCheckpointState(nullptr, dir.path(), st).ok());
  WriteFile(dir.Join("ckpt-8.index"), "");  // a different checkpoint
  absl::StatusOr<std::string> latest = LatestCheckpoint(dir.path());
  ASSERT_FALSE(latest.ok());
  EXPECT_EQ(latest.status().code(), absl::StatusCode::kNotFound) << latest.status();
  const std::string msg(latest.status().message());
  EXPECT_NE(msg.find("/nonexistent/elsewhere/ckpt-9.index"), std::string::npos) << msg;
  EXPECT_NE(msg.find(dir.Join("ckpt-9")), std::string::npos) << msg;

  // Relative path: only one place to look.
  st.set_model_checkpoint_path("ckpt-9");
  ASSERT_TRUE(WriteCheckpointState(nullptr, dir.path(), st).ok());
  latest = LatestCheckpoint(dir.path());
  ASSERT_FALSE(latest.ok());
  EXPECT_EQ(latest.status().code(), absl::StatusCode::kNotFound) << latest.status();
  EXPECT_NE(latest.status().message().find(dir.Join("ckpt-9.index")), std::string::npos)
      << latest.status();
}

TEST(LatestCheckpointTest, CustomStateFileName) {
  ScratchDir dir;
  CheckpointState st;
  st.set_model_checkpoint_path("m-1");
  ASSERT_TRUE(WriteCheckpointState(nullptr, dir.path(), st, "latest_state").ok());
  WriteFile(dir.Join("m-1.index"), "");
  absl::StatusOr<std::string> latest = LatestCheckpoint(dir.path(), nullptr, "latest_state");
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(*latest, dir.Join("m-1"));
  EXPECT_EQ(LatestCheckpoint(dir.path()).status().code(), absl::StatusCode::kNotFound);
}

TEST(LatestCheckpointTest, CorpusV1CheckpointFromAnotherMachine) {
  CKPT_REQUIRE_CORPUS(corpus);
  const std::string dir = JoinPath(corpus, "v1_half_plus_two");
  absl::StatusOr<std::string> latest = LatestCheckpoint(dir);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(*latest, JoinPath(dir, "export"));
}

TEST(LatestCheckpointTest, CorpusTf1SaverRelativePath) {
  CKPT_REQUIRE_CORPUS(corpus);
  const std::string dir = JoinPath(corpus, "udacity_save_restore");
  absl::StatusOr<std::string> latest = LatestCheckpoint(dir, Env::Default());
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(*latest, JoinPath(dir, "model.ckpt"));
}

TEST(LatestCheckpointTest, CorpusTf2Checkpoint) {
  CKPT_REQUIRE_CORPUS(corpus);
  const std::string dir = JoinPath(corpus, "tf2_object_graph");
  absl::StatusOr<std::string> latest = LatestCheckpoint(dir);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(*latest, JoinPath(dir, "ckpt-1"));
}

}  // namespace
}  // namespace ckpt
