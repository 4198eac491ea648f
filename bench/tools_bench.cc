// Speed of the inspection tools, each figure beside a limit measured in the
// same run:
//   - ckpt_dump listing a checkpoint of 100,000 tensors (target: < 1 s),
//   - ckpt_dump --verify and ckpt_diff of 1 GiB checkpoints, as GB/s beside
//     raw read() bandwidth of the same files through the page cache
//     (target: >= 0.5x).
// Usage: tools_bench [--gib=1] [--tensors=100000] [--dir=DIR]
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ckpt/bundle_writer.h"
#include "ckpt/naming.h"

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Best wall time of `reps` runs of a shell command (output discarded).
double TimeCommand(const std::string& cmd, int reps, int* exit_code) {
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    double t0 = Now();
    int rc = std::system((cmd + " > /dev/null").c_str());
    best = std::min(best, Now() - t0);
    *exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  return best;
}

// read() of whole files into one touched buffer, best of `reps`.
double RawReadSeconds(const std::vector<std::string>& files, int reps) {
  std::vector<char> buf(4 << 20, 1);
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    double t0 = Now();
    for (const std::string& f : files) {
      int fd = ::open(f.c_str(), O_RDONLY);
      if (fd < 0) return -1;
      while (::read(fd, buf.data(), buf.size()) > 0) {
      }
      ::close(fd);
    }
    best = std::min(best, Now() - t0);
  }
  return best;
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

bool WriteBig(const std::string& prefix, uint64_t bytes, bool perturb) {
  std::mt19937 rng(7);
  ckpt::BundleWriterOptions options;
  options.sync = false;
  ckpt::BundleWriter writer(prefix, options);
  uint64_t done = 0;
  int i = 0;
  while (done < bytes) {
    int64_t n = (int64_t{16} << 10) << (rng() % 10);  // 64 KiB .. 32 MiB of floats
    n = std::min<int64_t>(n, static_cast<int64_t>((bytes - done) / 4) + 1);
    ckpt::Tensor t(ckpt::DT_FLOAT, ckpt::TensorShape({n}));
    auto v = t.mutable_flat<float>();
    for (int64_t k = 0; k < n; ++k) v[k] = static_cast<float>((k * 2654435761u + i) % 1000) * 0.001f;
    if (perturb && i % 50 == 7) v[n / 2] += 1e-3f;
    if (!writer.Add("layer" + std::to_string(i++) + "/kernel", t).ok()) return false;
    done += static_cast<uint64_t>(n) * 4;
  }
  return writer.Finish().ok();
}

}  // namespace

int main(int argc, char** argv) {
  double gib = 1.0;
  int tensors = 100000;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--gib=", 0) == 0) gib = std::atof(a.c_str() + 6);
    else if (a.rfind("--tensors=", 0) == 0) tensors = std::atoi(a.c_str() + 10);
    else if (a.rfind("--dir=", 0) == 0) dir = a.substr(6);
    else {
      std::fprintf(stderr, "usage: tools_bench [--gib=1] [--tensors=100000] [--dir=DIR]\n");
      return 2;
    }
  }
  const bool own_dir = dir.empty();
  if (own_dir) {
    char templ[] = "/tmp/ckpt_tools_bench.XXXXXX";
    dir = ::mkdtemp(templ);
  }
  const std::string bin = CKPT_BINARY_DIR;

  // 1. Many small tensors.
  const std::string many = dir + "/many";
  {
    ckpt::BundleWriterOptions options;
    options.sync = false;
    ckpt::BundleWriter writer(many, options);
    ckpt::Tensor t(ckpt::DT_FLOAT, ckpt::TensorShape({16}));
    char name[64];
    for (int i = 0; i < tensors; ++i) {
      std::snprintf(name, sizeof name, "model/block_%05d/dense/kernel", i);
      if (!writer.Add(name, t).ok()) return 1;
    }
    if (!writer.Finish().ok()) return 1;
  }
  int rc = 0;
  const double list_s = TimeCommand(bin + "/ckpt_dump " + many, 3, &rc);
  const double json_s = TimeCommand(bin + "/ckpt_dump --json " + many, 3, &rc);

  // 2. Two 1 GiB checkpoints differing in a few elements.
  const uint64_t bytes = static_cast<uint64_t>(gib * (1 << 30));
  const std::string a = dir + "/a", b = dir + "/b";
  if (!WriteBig(a, bytes, false) || !WriteBig(b, bytes, true)) return 1;
  const std::string da = ckpt::DataFilename(a, 0, 1), db = ckpt::DataFilename(b, 0, 1);
  const uint64_t size = FileSize(da);
  const double raw1 = RawReadSeconds({da}, 3);
  const double raw2 = RawReadSeconds({da, db}, 3);
  int verify_rc = 0, diff_rc = 0, same_rc = 0;
  const double verify_s = TimeCommand(bin + "/ckpt_dump --verify " + a, 3, &verify_rc);
  const double diff_s = TimeCommand(bin + "/ckpt_diff " + a + " " + b, 3, &diff_rc);
  const double same_s = TimeCommand(bin + "/ckpt_diff " + a + " " + a, 1, &same_rc);

  const double gb = static_cast<double>(size) / 1e9;
  std::printf("ckpt tools benchmark (warm page cache, best of 3; GB/s = 1e9 B/s)\n");
  std::printf("%-40s %12s %22s %7s %s\n", "figure", "ckpt", "limit (same run)", "ratio", "target");
  std::printf("%-40s %10.3f s %22s %7s %s\n", ("ckpt_dump list, " + std::to_string(tensors) + " tensors").c_str(),
              list_s, "-", "-", "< 1 s");
  std::printf("%-40s %10.3f s %22s %7s %s\n", "ckpt_dump --json, same", json_s, "-", "-", "");
  std::printf("%-40s %8.2f GB/s %13.2f (read()) %7.2f %s\n", "ckpt_dump --verify, 1 file",
              gb / verify_s, gb / raw1, raw1 / verify_s, ">= 0.5");
  std::printf("%-40s %8.2f GB/s %13.2f (read()) %7.2f %s\n", "ckpt_diff, 2 files (bytes of both)",
              2 * gb / diff_s, 2 * gb / raw2, raw2 / diff_s, ">= 0.5");
  std::printf("%-40s %8.2f GB/s %22s %7s\n", "ckpt_diff A A (same file twice)", 2 * gb / same_s, "", "");
  std::printf("data: %.2f GiB per checkpoint; exit codes: verify %d (want 0), diff %d (want 1), diff A A %d (want 0)\n",
              static_cast<double>(size) / (1 << 30), verify_rc, diff_rc, same_rc);
  if (own_dir) std::system(("rm -rf " + dir).c_str());
  return (verify_rc == 0 && diff_rc == 1 && same_rc == 0) ? 0 : 1;
}
