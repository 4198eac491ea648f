// Progress for long work, shown on a terminal and silent when stderr is
// piped or redirected (Unix habit: scripts get clean output).
#ifndef CKPT_TOOLS_COMMON_PROGRESS_H_
#define CKPT_TOOLS_COMMON_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <string>

namespace ckpt {
namespace tools {

class Progress {
 public:
  // `what` is the verb shown ("verifying"); total_bytes may be 0 if unknown.
  Progress(std::string what, int64_t total_items, uint64_t total_bytes);
  ~Progress();
  // Redraws at most ten times a second.
  void Update(int64_t items_done, uint64_t bytes_done);
  // Clears the line.
  void Done();
  bool enabled() const { return enabled_; }

 private:
  std::string what_;
  int64_t total_items_;
  uint64_t total_bytes_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_PROGRESS_H_
