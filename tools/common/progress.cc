#include "common/progress.h"

#include <unistd.h>

#include <cstdio>

#include "common/format.h"

namespace ckpt {
namespace tools {

Progress::Progress(std::string what, int64_t total_items, uint64_t total_bytes)
    : what_(std::move(what)),
      total_items_(total_items),
      total_bytes_(total_bytes),
      enabled_(::isatty(STDERR_FILENO) == 1),
      last_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { Done(); }

void Progress::Update(int64_t items_done, uint64_t bytes_done) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  drawn_ = true;
  int pct = total_bytes_ > 0 ? static_cast<int>(100.0 * bytes_done / total_bytes_)
                             : (total_items_ > 0 ? static_cast<int>(100 * items_done / total_items_) : 0);
  std::fprintf(stderr, "\r%s %lld/%lld tensors, %s of %s (%d%%)\033[K", what_.c_str(),
               static_cast<long long>(items_done), static_cast<long long>(total_items_),
               HumanBytes(bytes_done).c_str(), HumanBytes(total_bytes_).c_str(), pct);
  std::fflush(stderr);
}

void Progress::Done() {
  if (enabled_ && drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }
}

}  // namespace tools
}  // namespace ckpt
