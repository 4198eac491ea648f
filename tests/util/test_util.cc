#include "util/test_util.h"

#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ckpt {
namespace testing {

namespace fs = std::filesystem;

ScratchDir::ScratchDir() {
  std::string base = std::string(CKPT_BINARY_DIR) + "/test_scratch";
  fs::create_directories(base);
  std::string templ = base + "/t.XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = templ;
}

ScratchDir::~ScratchDir() {
  if (std::getenv("CKPT_KEEP_TEST_FILES") == nullptr) {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
}

std::string CorpusDir() {
  const char* env = std::getenv("CKPT_TF_CORPUS");
  std::string dir = env != nullptr ? env : std::string(CKPT_SOURCE_DIR) + "/../shared/tf-corpus";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return "";
  return fs::canonical(dir).string();
}

std::vector<std::string> CorpusManifestPrefixes(const std::string& corpus) {
  std::vector<std::string> out;
  const std::string suffix = ".MANIFEST.json";
  for (const auto& e : fs::recursive_directory_iterator(corpus)) {
    std::string p = e.path().string();
    if (p.size() > suffix.size() && p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(p.substr(0, p.size() - suffix.size()));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

void CopyFile(const std::string& from, const std::string& to) { WriteFile(to, ReadFile(from)); }

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(hex[md[i] >> 4]);
    out.push_back(hex[md[i] & 15]);
  }
  return out;
}

std::string ToolPath(const std::string& name) { return std::string(CKPT_BINARY_DIR) + "/" + name; }

int RunCommand(const std::string& cmd, std::string* output, bool merge_stderr) {
  std::string full = merge_stderr ? cmd + " 2>&1" : cmd;
  FILE* p = ::popen(full.c_str(), "r");
  if (p == nullptr) return -1;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  if (output != nullptr) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace testing
}  // namespace ckpt
