// .npz: the members we write (exact .npy bytes, names, stored or deflated)
// and hostile archives (refused with errors naming archive and member).
#include "common/npz.h"

#include <zip.h>

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "ckpt/bundle_writer.h"
#include "ckpt/status_macros.h"
#include "gtest/gtest.h"
#include "util/test_util.h"

namespace ckpt {
namespace tools {
namespace {

struct Member {
  std::string name;
  std::string bytes;
  int32_t method = -1;
};

// Every member of `path` as libzip reads it.
std::vector<Member> Members(const std::string& path) {
  std::vector<Member> out;
  int code = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  EXPECT_NE(za, nullptr) << path << " code " << code;
  if (za == nullptr) return out;
  for (zip_int64_t i = 0; i < zip_get_num_entries(za, 0); ++i) {
    zip_stat_t st;
    EXPECT_EQ(zip_stat_index(za, i, 0, &st), 0);
    Member m{st.name, std::string(st.size, '\0'), st.comp_method};
    zip_file_t* f = zip_fopen_index(za, i, 0);
    EXPECT_NE(f, nullptr);
    EXPECT_EQ(zip_fread(f, m.bytes.data(), m.bytes.size()), static_cast<zip_int64_t>(st.size));
    zip_fclose(f);
    out.push_back(std::move(m));
  }
  zip_discard(za);
  return out;
}

// An archive built directly with libzip from (name, bytes) pairs.
void WriteZip(const std::string& path, const std::vector<std::pair<std::string, std::string>>& files) {
  int code = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  ASSERT_NE(za, nullptr);
  for (const auto& [name, bytes] : files) {
    zip_source_t* src = zip_source_buffer(za, bytes.data(), bytes.size(), 0);
    ASSERT_GE(zip_file_add(za, name.c_str(), src, ZIP_FL_ENC_UTF_8), 0);
  }
  ASSERT_EQ(zip_close(za), 0);
}

// A version-1.0 .npy file whose 128-byte header holds `dict`, then `data`.
std::string Npy10(const std::string& dict, const std::string& data) {
  std::string out = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict;
  out.append(127 - out.size(), ' ');
  return out + "\n" + data;
}

std::string WriteCheckpoint(const testing::ScratchDir& dir) {
  const std::string prefix = dir.Join("model.ckpt");
  Tensor x(DT_FLOAT, TensorShape({3, 1}));
  x.mutable_flat<float>()[0] = 1;
  x.mutable_flat<float>()[1] = 2;
  x.mutable_flat<float>()[2] = 5;
  Tensor step(DT_INT64, TensorShape({}));
  step.mutable_flat<int64_t>()[0] = 42;
  BundleWriter writer(prefix);
  EXPECT_TRUE(writer.Add("layer/x", x).ok());
  EXPECT_TRUE(writer.Add("global_step", step).ok());
  EXPECT_TRUE(writer.Finish().ok());
  return prefix;
}

absl::StatusOr<ConvertStats> BundleToNpz(const std::string& prefix, const std::string& npz,
                                         bool compress) {
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<TensorSource> src, OpenBundleSource(prefix));
  SinkOptions options;
  options.progress = false;
  options.compress = compress;
  return WriteNpz(*src, npz, options);
}

TEST(NpzTest, MembersAreWhatNpSavezWrites) {
  testing::ScratchDir dir;
  const std::string prefix = WriteCheckpoint(dir);
  for (bool compress : {false, true}) {
    const std::string npz = dir.Join("m.npz");
    absl::StatusOr<ConvertStats> stats = BundleToNpz(prefix, npz, compress);
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_EQ(stats->tensors, 2);
    EXPECT_EQ(stats->bytes, 12 + 8);
    std::vector<Member> members = Members(npz);
    ASSERT_EQ(members.size(), 2u);
    // Data-file order; '/' kept in the member name.
    EXPECT_EQ(members[0].name, "layer/x.npy");
    EXPECT_EQ(members[1].name, "global_step.npy");
    EXPECT_EQ(members[0].method, compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE);
    // np.save(f, np.array([[1], [2], [5]], np.float32)): header length 0x76,
    // the dict, 20 spaces np.save leaves for the first axis to grow, padding
    // to 127 bytes, '\n', then the little-endian floats.
    EXPECT_EQ(members[0].bytes,
              Npy10("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1), }",
                    std::string("\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\xa0\x40", 12)));
    EXPECT_EQ(members[1].bytes, Npy10("{'descr': '<i8', 'fortran_order': False, 'shape': (), }",
                                      std::string("\x2a\0\0\0\0\0\0\0", 8)));
  }
}

TEST(NpzTest, ReadsArchivesOtherWritersMake) {
  testing::ScratchDir dir;
  // A big-endian member and a directory entry, as other tools may write.
  const std::string npy = Npy10("{'descr': '>i2', 'fortran_order': False, 'shape': (2,), }",
                                std::string("\x01\x02\xff\xfe", 4));
  const std::string path = dir.Join("other.npz");
  WriteZip(path, {{"sub/", ""}, {"sub/v.npy", npy}});
  absl::StatusOr<std::unique_ptr<TensorSource>> src = OpenNpzSource(path);
  ASSERT_TRUE(src.ok()) << src.status();
  ASSERT_EQ((*src)->tensors().size(), 1u);
  EXPECT_EQ((*src)->tensors()[0].name, "sub/v");
  EXPECT_EQ((*src)->tensors()[0].dtype, DT_INT16);
  absl::StatusOr<Tensor> t = (*src)->Read(0);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->flat<int16_t>()[0], 0x0102);
  EXPECT_EQ(t->flat<int16_t>()[1], -2);
}

TEST(NpzTest, RefusesHostileArchives) {
  testing::ScratchDir dir;
  const std::string prefix = WriteCheckpoint(dir);
  const std::string good = dir.Join("good.npz");
  ASSERT_TRUE(BundleToNpz(prefix, good, false).ok());
  const std::string bytes = testing::ReadFile(good);

  // Not a zip at all, and a zip cut short: refused at open.
  for (const std::string& junk : {std::string("hello, not a zip"), bytes.substr(0, bytes.size() / 2),
                                  std::string()}) {
    const std::string path = dir.Join("junk.npz");
    testing::WriteFile(path, junk);
    absl::StatusOr<std::unique_ptr<TensorSource>> src = OpenNpzSource(path);
    ASSERT_FALSE(src.ok());
    EXPECT_EQ(src.status().code(), absl::StatusCode::kInvalidArgument) << src.status();
    EXPECT_NE(src.status().message().find(path + ": not a readable .npz (zip) archive"),
              std::string::npos) << src.status();
  }
  absl::StatusOr<std::unique_ptr<TensorSource>> missing = OpenNpzSource(dir.Join("none.npz"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();

  // A flipped data byte: the member's CRC-32 no longer matches.
  {
    std::string corrupt = bytes;
    const size_t at = corrupt.find(std::string("\x00\x00\xa0\x40", 4));
    ASSERT_NE(at, std::string::npos);
    corrupt[at + 3] ^= 0x01;
    const std::string path = dir.Join("crc.npz");
    testing::WriteFile(path, corrupt);
    absl::StatusOr<std::unique_ptr<TensorSource>> src = OpenNpzSource(path);
    ASSERT_TRUE(src.ok()) << src.status();
    absl::StatusOr<Tensor> t = (*src)->Read(0);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(t.status().message().find(path + ", member 'layer/x.npy': CRC error"), std::string::npos)
        << t.status();
  }

  // Members that are not .npy arrays, or whose .npy is malformed.
  struct Case {
    std::string name;
    std::string data;
    std::string message;
  };
  std::string short_data = Members(good)[0].bytes;
  short_data.resize(short_data.size() - 4);
  for (const Case& c : std::vector<Case>{
           {"notes.txt", "hello", "member 'notes.txt': not an array"},
           {"x.npy", "\x93NUMPX", "member 'x.npy': not an .npy file"},
           {"x.npy", short_data, "member 'x.npy': .npy data is truncated"},
       }) {
    const std::string path = dir.Join("bad.npz");
    WriteZip(path, {{c.name, c.data}});
    absl::StatusOr<std::unique_ptr<TensorSource>> src = OpenNpzSource(path);
    ASSERT_FALSE(src.ok()) << c.name;
    EXPECT_NE(src.status().message().find(path + ", " + c.message), std::string::npos) << src.status();
  }
}

TEST(NpzTest, MemberClaimingMoreThanDeflateCanProduceIsRefused) {
  testing::ScratchDir dir;
  const std::string prefix = WriteCheckpoint(dir);
  const std::string path = dir.Join("bomb.npz");
  ASSERT_TRUE(BundleToNpz(prefix, path, true).ok());
  // Rewrite the first member's uncompressed size (local header offset 22,
  // central directory offset 24) to 1 GiB.
  std::string bytes = testing::ReadFile(path);
  const std::string huge("\x00\x00\x00\x40", 4);
  ASSERT_EQ(bytes.substr(0, 4), "PK\x03\x04");
  bytes.replace(22, 4, huge);
  const size_t central = bytes.find("PK\x01\x02");
  ASSERT_NE(central, std::string::npos);
  bytes.replace(central + 24, 4, huge);
  testing::WriteFile(path, bytes);
  absl::StatusOr<std::unique_ptr<TensorSource>> src = OpenNpzSource(path);
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.status().code(), absl::StatusCode::kDataLoss) << src.status();
  EXPECT_NE(src.status().message().find("member 'layer/x.npy': claims 1073741824 bytes from"),
            std::string::npos)
      << src.status();
}

TEST(NpzTest, ExistingFileIsReplacedWholeAndNoTemporaryFilesRemain) {
  testing::ScratchDir dir;
  const std::string prefix = WriteCheckpoint(dir);
  const std::string path = dir.Join("m.npz");
  testing::WriteFile(path, "old contents");
  ASSERT_TRUE(BundleToNpz(prefix, path, false).ok());
  EXPECT_EQ(Members(path).size(), 2u);
  absl::StatusOr<std::vector<std::string>> children = Env::Default()->GetChildren(dir.path());
  ASSERT_TRUE(children.ok());
  for (const std::string& name : *children) {
    EXPECT_EQ(name.find("tempstate"), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace tools
}  // namespace ckpt
