// A child process forked by a test to run part of it (a trainer to be killed,
// a writer racing the test's readers), with a pipe on which the child sends
// small fixed-size reports back.
//
//   auto child = ckpt::testing::ChildProcess::Start([&](int report_fd) {
//     for (int64_t step = 0;; ++step) {
//       ... save step ...
//       ckpt::testing::SendReport(report_fd, {kSaved, step});
//     }
//     return 0;
//   });
//   ...
//   int status = child->Kill();                 // SIGKILL, then reaped
//   std::vector<ChildReport> reports = child->DrainReports();
//
// The child is forked without exec, so the test binary must be
// single-threaded when Start is called. The child never returns into the
// test: it leaves through _exit with what the body returns (no atexit
// handlers, no stdio flush, no leak check). The destructor kills and reaps a
// child still running, so a test that fails half way leaves no orphan, and
// the child is SIGKILLed when the test process dies (PR_SET_PDEATHSIG).
#ifndef CKPT_TESTS_UTIL_CHILD_PROCESS_H_
#define CKPT_TESTS_UTIL_CHILD_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace ckpt {
namespace testing {

struct ChildReport {
  int64_t kind = 0;
  int64_t value = 0;
};

// In the child: writes one report (atomically: it is smaller than PIPE_BUF,
// so a kill never leaves half of one).
void SendReport(int fd, ChildReport report);

class ChildProcess {
 public:
  // Forks a child that runs body(report_fd) and _exits with its result.
  // Returns null (after printing why) when the pipe or fork fails.
  static std::unique_ptr<ChildProcess> Start(const std::function<int(int report_fd)>& body);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // SIGKILLs the child unless it has been reaped already, reaps it and
  // returns its wait status. Later calls return the same status.
  int Kill();
  // Waits up to `seconds` for the child to exit on its own; true (and its
  // wait status in *status) when it did.
  bool WaitFor(double seconds, int* status);
  // The next report, waiting up to `seconds`; false on timeout or when the
  // child has exited and every report has been read.
  bool NextReport(double seconds, ChildReport* report);
  // Every report not read yet (call after Kill or WaitFor: reads to EOF).
  std::vector<ChildReport> DrainReports();

 private:
  ChildProcess(pid_t pid, int fd) : pid_(pid), fd_(fd) {}
  pid_t pid_;
  int fd_;
  bool reaped_ = false;
  int status_ = 0;
};

}  // namespace testing
}  // namespace ckpt

#endif  // CKPT_TESTS_UTIL_CHILD_PROCESS_H_
