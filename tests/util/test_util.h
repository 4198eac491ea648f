// Helpers shared by the tests: scratch directories, the TensorFlow corpus,
// whole-file reads and writes, hashing.
#ifndef CKPT_TESTS_UTIL_TEST_UTIL_H_
#define CKPT_TESTS_UTIL_TEST_UTIL_H_

#include <string>
#include <vector>

namespace ckpt {
namespace testing {

// A fresh empty directory under the build tree's scratch area, removed by
// the destructor unless CKPT_KEEP_TEST_FILES is set.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// ../shared/tf-corpus beside the source tree (or $CKPT_TF_CORPUS); empty
// when absent, in which case corpus tests call GTEST_SKIP with a message.
std::string CorpusDir();
#define CKPT_REQUIRE_CORPUS(dir_var)                                              \
  const std::string dir_var = ::ckpt::testing::CorpusDir();                       \
  if (dir_var.empty()) {                                                          \
    GTEST_SKIP() << "TensorFlow corpus not found (expected ../shared/tf-corpus "  \
                    "beside the project, or $CKPT_TF_CORPUS): skipping";          \
  }

// Prefixes (path without .index) of every V2 checkpoint in the corpus that
// has a MANIFEST.json beside it.
std::vector<std::string> CorpusManifestPrefixes(const std::string& corpus);

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& data);
void CopyFile(const std::string& from, const std::string& to);
bool FileExists(const std::string& path);
// Lowercase hex SHA-256.
std::string Sha256Hex(const std::string& data);
// Path to a tool built by this tree (e.g. "ckpt_convert").
std::string ToolPath(const std::string& name);
// Runs a shell command; returns its exit status and fills stdout (stderr is
// merged into it when merge_stderr).
int RunCommand(const std::string& cmd, std::string* output, bool merge_stderr = true);

}  // namespace testing
}  // namespace ckpt

#endif  // CKPT_TESTS_UTIL_TEST_UTIL_H_
