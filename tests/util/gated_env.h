// An Env that holds every file creation at a gate while the gate is closed,
// so that a test can keep a background save in flight for as long as it
// needs (and check what the caller may do meanwhile).
#ifndef CKPT_TESTS_UTIL_GATED_ENV_H_
#define CKPT_TESTS_UTIL_GATED_ENV_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "util/fault_injection_env.h"

namespace ckpt {
namespace testing {

class GatedEnv final : public FaultInjectionEnv {
 public:
  GatedEnv() : FaultInjectionEnv(Env::Default()) {}

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    {
      std::unique_lock<std::mutex> l(mu_);
      ++held_;
      cv_.notify_all();
      cv_.wait(l, [&] { return open_; });
      --held_;
    }
    return FaultInjectionEnv::NewWritableFile(path);
  }

  void CloseGate() {
    std::lock_guard<std::mutex> l(mu_);
    open_ = false;
  }
  void OpenGate() {
    std::lock_guard<std::mutex> l(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Returns once a file creation is waiting at the closed gate.
  void AwaitHeld() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return held_ > 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  int held_ = 0;
};

}  // namespace testing
}  // namespace ckpt

#endif  // CKPT_TESTS_UTIL_GATED_ENV_H_
