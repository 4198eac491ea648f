// bundle_bench — how close BundleWriter/BundleReader come to what the
// machine can do, measured side by side in one run.
//
//   bundle_bench [--dir=PATH] [--gib=N] [--reps=N] [--check]
//
// Writes N GiB (default 1) of float32 tensors of mixed sizes through the page
// cache and prints one table: each ckpt figure next to the physical limit
// that bounds it (raw write()+fdatasync, raw pread(), CRC32C, memcpy, memory
// read), all measured in the same run on the same bytes, so that the ratio
// means something on any machine. Nothing is dropped from the page cache:
// this is the warm-cache case, where ckpt's own overhead (checksums, copies,
// syscall pattern) shows most.
//
// --check runs a tiny size and exits 1 unless everything read back equals
// what was written (the CI smoke test). Every mode compares the data after
// the timed part, so a fast figure can never come from reading nothing.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ckpt/bundle_reader.h"
#include "ckpt/bundle_writer.h"
#include "ckpt/crc32c.h"
#include "ckpt/naming.h"
#include "ckpt/tensor.h"

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr size_t kKiB = 1024, kMiB = 1024 * 1024;
// The raw write/read limits move this much per syscall: enough that syscall
// overhead vanishes, and the size of the writer's own buffer.
constexpr size_t kRawChunk = 4 * kMiB;
// The in-cache CRC figure checksums this buffer over and over: it fits in L2,
// like the pieces the writer and reader checksum right after touching them.
constexpr size_t kHotCrcBytes = 256 * kKiB;
constexpr const char* kPrefixName = "bench.ckpt";
constexpr const char* kRawName = "raw.bin";

// What to remove on the way out, including from Die(): a failed run must not
// leave a GiB behind in /tmp.
struct Workspace {
  std::string dir;
  bool own_dir = false;  // created by us: everything in it is ours
} g_ws;

void Cleanup() {
  if (g_ws.dir.empty()) return;
  if (DIR* d = ::opendir(g_ws.dir.c_str())) {
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      // In a directory we were given, touch only our own files (including a
      // writer's leftover "<prefix>...tempstate<n>" after a failure).
      if (g_ws.own_dir || name == kRawName || name.rfind(kPrefixName, 0) == 0) {
        ::unlink((g_ws.dir + "/" + name).c_str());
      }
    }
    ::closedir(d);
  }
  if (g_ws.own_dir && ::rmdir(g_ws.dir.c_str()) != 0) {
    std::fprintf(stderr, "bundle_bench: rmdir %s: %s\n", g_ws.dir.c_str(), std::strerror(errno));
  }
  g_ws.dir.clear();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "bundle_bench: %s\n", what.c_str());
  Cleanup();
  std::exit(1);
}

void CheckOk(const absl::Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.ToString());
}

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A fixed-seed generator, so that every run writes the same tensors.
struct SplitMix64 {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
};

// Page-aligned buffer, touched at allocation so that its page faults never
// land inside a timed region.
struct Buffer {
  char* p = nullptr;
  size_t n = 0;
  explicit Buffer(size_t bytes) : n(bytes) {
    size_t rounded = std::max<size_t>(4096, (bytes + 4095) / 4096 * 4096);
    p = static_cast<char*>(std::aligned_alloc(4096, rounded));
    if (p == nullptr) Die("out of memory");
    std::memset(p, 0, rounded);
  }
  ~Buffer() { std::free(p); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
};

// Finite floats in [-0.5, 0.5): realistic values, two per random draw.
void FillFloats(SplitMix64* rng, char* dst, size_t bytes) {
  size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    uint64_t r = rng->Next();
    float f[2];
    for (int k = 0; k < 2; ++k) {
      uint32_t bits = 0x3f800000u | static_cast<uint32_t>((r >> (32 * k)) & 0x7fffffu);
      std::memcpy(&f[k], &bits, 4);
      f[k] -= 1.5f;
    }
    std::memcpy(dst + i, f, 8);
  }
  for (; i < bytes; ++i) dst[i] = static_cast<char>(rng->Next());
}

// The best (highest) rate seen over the repetitions.
struct Best {
  double gbps = 0;
  void Add(double bytes, double seconds) { gbps = std::max(gbps, bytes / seconds / 1e9); }
};

void RemoveIfExists(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) Die(Errno("unlink", path));
}

// write() the buffer in kRawChunk pieces to a new file, then one fdatasync:
// the least the kernel and disk can spend on the writer's data file.
double RawWrite(const std::string& path, const char* data, size_t n) {
  RemoveIfExists(path);  // a fresh file every time, as the writer's temp file is
  double t0 = Now();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) Die(Errno("create", path));
  for (size_t off = 0; off < n;) {
    ssize_t w = ::write(fd, data + off, std::min(kRawChunk, n - off));
    if (w < 0) {
      if (errno == EINTR) continue;
      Die(Errno("write", path));
    }
    off += static_cast<size_t>(w);
  }
  if (::fdatasync(fd) != 0) Die(Errno("fdatasync", path));  // what the writer's Sync() calls
  ::close(fd);
  return Now() - t0;
}

// pread() the whole file into a buffer whose pages are already mapped: the
// least it costs to get cached file bytes into user memory.
double RawRead(const std::string& path, char* dst, size_t n) {
  double t0 = Now();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) Die(Errno("open", path));
  for (size_t off = 0; off < n;) {
    ssize_t r = ::pread(fd, dst + off, std::min(kRawChunk, n - off), static_cast<off_t>(off));
    if (r < 0) {
      if (errno == EINTR) continue;
      Die(Errno("read", path));
    }
    if (r == 0) Die("read " + path + ": unexpected end of file");
    off += static_cast<size_t>(r);
  }
  ::close(fd);
  return Now() - t0;
}

using CrcFn = uint32_t (*)(uint32_t, const void*, size_t);

// Checksums `total` bytes by running over buf[0, len) repeatedly; the CRC
// goes to *crc so that the work cannot be optimized away (and can be checked).
double TimeCrc(CrcFn fn, const char* buf, size_t len, size_t total, uint32_t* crc) {
  double t0 = Now();
  uint32_t c = 0;
  for (size_t done = 0; done < total; done += len) c = fn(c, buf, len);
  double t = Now() - t0;
  *crc = c;
  return t;
}

volatile uint64_t g_sink;

// Reads every byte of the buffer once: the memory read bandwidth that bounds
// any checksum over data that is not in cache.
double TimeMemoryRead(const char* buf, size_t n) {
  double t0 = Now();
  uint64_t acc[8] = {};  // independent accumulators, so loads are not serialized
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    for (int k = 0; k < 8; ++k) {
      uint64_t v;
      std::memcpy(&v, buf + i + 8 * k, 8);
      acc[k] ^= v;
    }
  }
  for (; i < n; ++i) acc[0] ^= static_cast<unsigned char>(buf[i]);
  double t = Now() - t0;
  uint64_t x = 0;
  for (uint64_t a : acc) x ^= a;
  g_sink = x;
  return t;
}

// "66 KiB", "31.99 MiB", "1.00 GiB": sizes as people read them.
std::string HumanBytes(double b) {
  char s[32];
  if (b >= kGiB) std::snprintf(s, sizeof s, "%.2f GiB", b / kGiB);
  else if (b >= kMiB) std::snprintf(s, sizeof s, "%.4g MiB", b / kMiB);
  else std::snprintf(s, sizeof s, "%.4g KiB", b / kKiB);
  return s;
}

struct Options {
  std::string dir;
  double gib = 1.0;
  int reps = 3;
  bool check = false;
};

Options ParseArgs(int argc, char** argv) {
  Options o;
  bool gib_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* flag) -> const char* {
      size_t n = std::strlen(flag);
      if (a.compare(0, n, flag) == 0 && a.size() > n && a[n] == '=') return argv[i] + n + 1;
      return nullptr;
    };
    if (const char* v = value("--dir")) {
      o.dir = v;
      if (o.dir.empty()) Die("--dir wants a path");
    } else if (const char* v = value("--gib")) {
      char* end;
      o.gib = std::strtod(v, &end);
      if (*end != '\0' || !(o.gib > 0) || o.gib > 64) Die("--gib wants a number in (0, 64]");
      gib_given = true;
    } else if (const char* v = value("--reps")) {
      o.reps = std::atoi(v);
      if (o.reps < 1 || o.reps > 100) Die("--reps wants 1..100");
    } else if (a == "--check") {
      o.check = true;
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: bundle_bench [--dir=PATH] [--gib=N] [--reps=N] [--check]\n"
          "  --dir=PATH  where to write (default: a fresh directory under /tmp, removed\n"
          "              at the end; in a given directory only our files are removed)\n"
          "  --gib=N     tensor data in GiB (default 1; e.g. 0.25 for a quick run)\n"
          "  --reps=N    repetitions of every measurement, best reported (default 3)\n"
          "  --check     smoke test: 8 MiB (unless --gib), exit 1 unless the data\n"
          "              reads back exactly as written\n");
      std::exit(0);
    } else {
      Die("unknown argument '" + a + "' (try --help)");
    }
  }
  if (o.check && !gib_given) o.gib = 8.0 / 1024;  // 8 MiB
  return o;
}

struct Row {
  std::string figure;
  double ckpt;         // GB/s; < 0 for a row that only shows a limit
  double limit;        // GB/s
  std::string what;    // which limit
  double ratio;        // < 0: none
  std::string target;  // empty: none
  bool met;
};

void PrintTable(const std::vector<Row>& rows) {
  std::printf("%-34s %9s %11s %-22s %6s  %s\n", "figure", "ckpt GB/s", "limit GB/s", "(what)",
              "ratio", "target");
  for (const Row& r : rows) {
    char ckpt[32], ratio[32];
    if (r.ckpt >= 0) std::snprintf(ckpt, sizeof ckpt, "%9.2f", r.ckpt);
    else std::snprintf(ckpt, sizeof ckpt, "%9s", "-");
    if (r.ratio >= 0) std::snprintf(ratio, sizeof ratio, "%6.2f", r.ratio);
    else std::snprintf(ratio, sizeof ratio, "%6s", "-");
    const std::string what = "(" + r.what + ")";
    const std::string target = r.target.empty() ? "-" : r.target + (r.met ? "  ok" : "  MISSED");
    std::printf("%-34s %s %11.2f %-22s %s  %s\n", r.figure.c_str(), ckpt, r.limit, what.c_str(),
                ratio, target.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = ParseArgs(argc, argv);

  // ---- working directory ---------------------------------------------------
  if (opt.dir.empty()) {
    char tmpl[] = "/tmp/ckpt_bundle_bench.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) Die(Errno("mkdtemp", tmpl));
    g_ws.dir = tmpl;
    g_ws.own_dir = true;
  } else {
    g_ws.dir = opt.dir;
    if (::mkdir(opt.dir.c_str(), 0755) == 0) {
      g_ws.own_dir = true;  // we made it, so it goes at the end
    } else if (errno != EEXIST) {
      Die(Errno("mkdir", opt.dir));
    }
  }
  const std::string dir = g_ws.dir;
  const std::string prefix = dir + "/" + kPrefixName;
  const std::string index_path = ckpt::IndexFilename(prefix);
  const std::string data_path = ckpt::DataFilename(prefix, 0, 1);
  const std::string raw_path = dir + "/" + kRawName;

  // ---- the tensors: sizes log-uniform in [64 KiB, max], fixed seed ---------
  // The largest size shrinks for small runs so that even --check gets several
  // tensors of different sizes. Sizes are multiples of 4 bytes, not of pages,
  // so payloads sit at arbitrary (4-aligned) offsets as in real checkpoints.
  const size_t total_target = static_cast<size_t>(opt.gib * kGiB) / 4 * 4;
  const size_t min_size = 64 * kKiB;
  const size_t max_size =
      std::max(min_size, std::min<size_t>(32 * kMiB, total_target / 8 / 4 * 4));
  SplitMix64 rng{0x636b707462656e63ull};  // "ckptbenc"
  std::vector<ckpt::Tensor> tensors;
  std::vector<std::string> names;
  size_t total = 0;
  while (total_target - total >= min_size) {
    const size_t left = total_target - total;
    const double lo = std::log2(double(min_size)), hi = std::log2(double(max_size));
    size_t bytes = static_cast<size_t>(std::exp2(lo + rng.Uniform() * (hi - lo))) / 4 * 4;
    bytes = std::clamp(bytes, min_size, max_size);
    // Use up the budget exactly, never leaving a remainder too small for a
    // tensor of its own.
    if (bytes >= left) {
      bytes = left;
    } else if (left - bytes < min_size) {
      bytes = left <= max_size ? left : left - min_size;
    }
    absl::StatusOr<ckpt::Tensor> t = ckpt::Tensor::AllocateUninitialized(
        ckpt::DT_FLOAT, ckpt::TensorShape({static_cast<int64_t>(bytes / 4)}));
    CheckOk(t.status(), "allocate tensor");
    FillFloats(&rng, t->mutable_raw_data(), bytes);
    char name[64];
    std::snprintf(name, sizeof name, "model/layer_%04zu/weights", tensors.size());
    names.emplace_back(name);
    tensors.push_back(*std::move(t));
    total += bytes;
  }
  if (tensors.empty()) Die("--gib is too small for one 64 KiB tensor");
  size_t smallest = SIZE_MAX, largest = 0;
  for (const ckpt::Tensor& t : tensors) {
    smallest = std::min(smallest, t.TotalBytes());
    largest = std::max(largest, t.TotalBytes());
  }
  const double bytes = static_cast<double>(total);

  // The limits get the best case: one contiguous source (`arena`, the same
  // bytes as the tensors) and one contiguous, already touched destination.
  // ReadInto gets destinations allocated and touched up front, as its
  // contract (no allocation) intends.
  Buffer arena(total), dst(total);
  {
    size_t off = 0;
    for (const ckpt::Tensor& t : tensors) {
      std::memcpy(arena.p + off, t.raw_data(), t.TotalBytes());
      off += t.TotalBytes();
    }
  }
  std::vector<ckpt::Tensor> outs;
  outs.reserve(tensors.size());
  for (const ckpt::Tensor& t : tensors) outs.emplace_back(ckpt::DT_FLOAT, t.shape());  // zeroed
  Buffer hot(kHotCrcBytes);
  std::memcpy(hot.p, arena.p, std::min(kHotCrcBytes, total));
  // At least 256 MiB of in-cache CRC per repetition, so that it is not timer
  // noise.
  const size_t hot_total = std::max<size_t>(total, 256 * kMiB) / kHotCrcBytes * kHotCrcBytes;

  Best raw_write, raw_read, memcpy_best, memread_best, ckpt_write, ckpt_read, ckpt_view;
  Best crc_hot_isal, crc_hot_portable, crc_cold_isal, crc_cold_portable;
  bool data_ok = true;
  auto mismatch = [&](const std::string& what) {
    std::fprintf(stderr, "bundle_bench: MISMATCH: %s\n", what.c_str());
    data_ok = false;
  };

  // ---- the runs ------------------------------------------------------------
  // Each repetition takes every measurement once, so that a slow spell of the
  // machine (writeback, a busy neighbour) is spread over all figures instead
  // of sinking one of them.
  for (int rep = 0; rep < opt.reps; ++rep) {
    {
      double t0 = Now();
      std::memcpy(dst.p, arena.p, total);
      memcpy_best.Add(bytes, Now() - t0);
    }
    memread_best.Add(bytes, TimeMemoryRead(arena.p, total));

    // Raw write + read of one file holding the same bytes.
    raw_write.Add(bytes, RawWrite(raw_path, arena.p, total));
    std::memset(dst.p, 0, total);
    raw_read.Add(bytes, RawRead(raw_path, dst.p, total));
    if (std::memcmp(dst.p, arena.p, total) != 0) mismatch("raw read differs from raw write");
    RemoveIfExists(raw_path);  // keep one file's worth in the page cache, not two

    // BundleWriter with default options (sync on). The previous checkpoint
    // is removed untimed, so every repetition writes fresh files and Finish's
    // rename never has to free an old data file.
    RemoveIfExists(index_path);
    RemoveIfExists(data_path);
    {
      double t0 = Now();
      ckpt::BundleWriter writer(prefix);
      for (size_t i = 0; i < tensors.size(); ++i) CheckOk(writer.Add(names[i], tensors[i]), "Add");
      CheckOk(writer.Finish(), "Finish");
      ckpt_write.Add(bytes, Now() - t0);
    }

    // Open + ReadInto every tensor (each CRC verified). The destinations are
    // cleared first so that the comparison below checks this repetition.
    for (ckpt::Tensor& o : outs) std::memset(o.mutable_raw_data(), 0, o.TotalBytes());
    {
      double t0 = Now();
      auto reader = ckpt::BundleReader::Open(prefix);
      CheckOk(reader.status(), "Open");
      for (size_t i = 0; i < tensors.size(); ++i) {
        CheckOk((*reader)->ReadInto(names[i], &outs[i]), "ReadInto");
      }
      ckpt_read.Add(bytes, Now() - t0);
    }
    for (size_t i = 0; i < tensors.size(); ++i) {
      if (!outs[i].Identical(tensors[i])) mismatch("ReadInto of " + names[i]);
    }

    // Open + ReadView every tensor (zero-copy, each CRC verified).
    {
      std::vector<ckpt::Tensor> views;
      views.reserve(tensors.size());
      double t0 = Now();
      auto reader = ckpt::BundleReader::Open(prefix);
      CheckOk(reader.status(), "Open");
      for (size_t i = 0; i < tensors.size(); ++i) {
        absl::StatusOr<ckpt::Tensor> v = (*reader)->ReadView(names[i]);
        CheckOk(v.status(), "ReadView");
        views.push_back(*std::move(v));
      }
      ckpt_view.Add(bytes, Now() - t0);
      if ((*reader)->entries().size() != tensors.size()) mismatch("number of entries in the index");
      for (size_t i = 0; i < tensors.size(); ++i) {
        if (!views[i].Identical(tensors[i])) mismatch("ReadView of " + names[i]);
      }
    }

    // CRC32C on a buffer in cache and over the whole arena (cold when large).
    uint32_t c_isal, c_portable;
    crc_hot_isal.Add(hot_total, TimeCrc(ckpt::crc32c::Extend, hot.p, kHotCrcBytes, hot_total, &c_isal));
    crc_hot_portable.Add(hot_total, TimeCrc(ckpt::crc32c::ExtendPortable, hot.p, kHotCrcBytes,
                                            hot_total, &c_portable));
    if (c_isal != c_portable) mismatch("ISA-L and portable CRC32C disagree (in cache)");
    crc_cold_isal.Add(bytes, TimeCrc(ckpt::crc32c::Extend, arena.p, total, total, &c_isal));
    crc_cold_portable.Add(bytes, TimeCrc(ckpt::crc32c::ExtendPortable, arena.p, total, total,
                                         &c_portable));
    if (c_isal != c_portable) mismatch("ISA-L and portable CRC32C disagree (cold)");
  }

  // ---- the table -----------------------------------------------------------
  // The load average is printed because on a shared machine it, more than
  // anything ckpt does, decides how far apart repeated runs land.
  double load = -1;
  if (::getloadavg(&load, 1) != 1) load = -1;
  std::printf("ckpt bundle benchmark: %s in %zu float32 tensors (%s..%s), best of %d, "
              "warm page cache\n",
              HumanBytes(bytes).c_str(), tensors.size(), HumanBytes(double(smallest)).c_str(),
              HumanBytes(double(largest)).c_str(), opt.reps);
  std::printf("dir %s, crc32c %s, %ld CPUs, load average %.2f; GB/s = 1e9 bytes/s\n",
              dir.c_str(), ckpt::crc32c::Implementation(), ::sysconf(_SC_NPROCESSORS_ONLN),
              load);
  const double w = ckpt_write.gbps, lw = raw_write.gbps;
  const double r = ckpt_read.gbps, lr = raw_read.gbps;
  const double v = ckpt_view.gbps;
  const double hi = crc_hot_isal.gbps, hp = crc_hot_portable.gbps;
  const double ci = crc_cold_isal.gbps, cp = crc_cold_portable.gbps;
  const double mr = memread_best.gbps;
  const bool cold = total >= 64 * kMiB;  // well past any last-level cache
  std::vector<Row> rows = {
      {"write (BundleWriter+Finish, sync)", w, lw, "raw write()+fsync", w / lw, ">= 0.80",
       w / lw >= 0.80},
      {"read+verify (Open+ReadInto)", r, lr, "raw pread()", r / lr, ">= 0.80", r / lr >= 0.80},
      {"read view+verify (Open+ReadView)", v, lr, "raw pread()", v / lr, "", true},
      {"crc32c 256 KiB in cache (isa-l)", hi, hp, "portable", hi / hp, ">= 10 GB/s", hi >= 10},
      {"crc32c " + HumanBytes(bytes) + (cold ? " cold" : " buffer") + " (isa-l)", ci, cp,
       "portable", ci / cp, ">= 10 GB/s", ci >= 10},
      {"memcpy (large buffers)", -1, memcpy_best.gbps, "memcpy", -1, "", true},
      {"memory read (one pass)", -1, mr, "read every byte", -1, "", true},
  };
  if (opt.check) {
    // At smoke-test size fixed costs (four fsyncs per checkpoint, caches)
    // dominate, so the bandwidth targets would only mislead.
    for (Row& row : rows) row.target.clear();
  }
  PrintTable(rows);
  std::printf("ratio = ckpt / limit; for the crc32c rows, isa-l / portable%s\n",
              opt.check ? "; targets apply to full-size runs only" : "");
  // A checksum over data that is not in cache cannot beat the memory read
  // bandwidth; say so rather than leave a bare MISSED.
  if (!opt.check && cold && ci < 10 && mr < 10) {
    std::printf("note: cold crc32c cannot beat memory read bandwidth, %.2f GB/s here "
                "(isa-l: %.2f GB/s)\n", mr, ci);
  }

  Cleanup();
  if (!data_ok) {
    std::printf("check: FAILED, data read back differs from data written\n");
    return 1;
  }
  std::printf("check: all %zu tensors read back identical (ReadInto, ReadView, raw pread)\n",
              tensors.size());
  return 0;
}
