#include "ckpt/background_thread.h"

#include <utility>

namespace ckpt {

BackgroundJobThread::~BackgroundJobThread() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BackgroundJobThread::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    cv_.wait(l, [&] { return job_ != nullptr || stop_; });
    // A queued job runs even when stopping: the destructor waits for it.
    if (job_ == nullptr) return;
    std::function<absl::Status()> job = std::move(job_);
    job_ = nullptr;
    running_ = true;
    l.unlock();
    absl::Status s = job();
    // Its captures (snapshots, references to the caller's buffers) go
    // before the job counts as finished.
    job = nullptr;
    l.lock();
    if (unreported_.ok()) unreported_ = std::move(s);
    running_ = false;
    cv_.notify_all();
  }
}

void BackgroundJobThread::Start(std::function<absl::Status()> job) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return job_ == nullptr && !running_; });
  job_ = std::move(job);
  if (!thread_.joinable()) thread_ = std::thread(&BackgroundJobThread::Loop, this);
  cv_.notify_all();
}

absl::Status BackgroundJobThread::Wait() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return job_ == nullptr && !running_; });
  return std::exchange(unreported_, absl::OkStatus());
}

void BackgroundJobThread::WaitIdle() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return job_ == nullptr && !running_; });
}

}  // namespace ckpt
