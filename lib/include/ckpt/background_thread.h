// ckpt/background_thread.h — one job at a time on a background thread.
//
//   ckpt::BackgroundJobThread worker;
//   worker.Start([&] { return WriteEverything(); });   // returns at once
//   // ... other work meanwhile ...
//   CKPT_RETURN_IF_ERROR(worker.Wait());                // the job's outcome
//
// The engine of AsyncCheckpointManager, Saver::SaveAsync and BundleWriter's
// checksumming of large payloads. Each job's status is reported once, by a
// later Wait (Start reports nothing: Wait before Start and act on what it
// returns). One thread at a time drives a worker; the destructor waits for
// the job in flight.
#ifndef CKPT_BACKGROUND_THREAD_H_
#define CKPT_BACKGROUND_THREAD_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/status/status.h"

namespace ckpt {

// One job at a time on a background thread started by the first Start: the
// engine of AsyncCheckpointManager and the runtime's Saver::SaveAsync, and
// the thread on which BundleWriter checksums a large payload while writing it. A job's captured state is destroyed on the thread before
// the job counts as finished, so whatever it referenced is released when
// Wait returns. The destructor waits for the job in flight.
//
// Thread safety: one thread at a time calls Start, Wait and WaitIdle.
class BackgroundJobThread {
 public:
  BackgroundJobThread() = default;
  ~BackgroundJobThread();
  BackgroundJobThread(const BackgroundJobThread&) = delete;
  BackgroundJobThread& operator=(const BackgroundJobThread&) = delete;

  // Runs `job` in the background. Waits first for the job in flight. Of the
  // statuses not reported yet, Wait returns the first error: callers Wait
  // before they Start, and act on what it returns.
  void Start(std::function<absl::Status()> job);
  // Waits for the job in flight and returns the status of the last finished
  // job not reported yet (OK when there is none); each status is returned
  // once.
  absl::Status Wait();
  // Waits for the job in flight, leaving its status for the next Wait.
  void WaitIdle();

 private:
  void Loop();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::function<absl::Status()> job_;  // queued, not yet taken by the thread
  bool running_ = false;
  bool stop_ = false;
  absl::Status unreported_;
  std::thread thread_;
};

}  // namespace ckpt

#endif  // CKPT_BACKGROUND_THREAD_H_
