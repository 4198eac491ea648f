#include "util/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

namespace ckpt {
namespace testing {

void SendReport(int fd, ChildReport report) {
  static_assert(sizeof(ChildReport) <= PIPE_BUF, "reports must be written atomically");
  ssize_t n;
  do {
    n = ::write(fd, &report, sizeof report);
  } while (n < 0 && errno == EINTR);
}

std::unique_ptr<ChildProcess> ChildProcess::Start(const std::function<int(int)>& body) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    std::perror("pipe2");
    return nullptr;
  }
  std::fflush(nullptr);  // nothing buffered is written twice
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("fork");
    ::close(fds[0]);
    ::close(fds[1]);
    return nullptr;
  }
  if (pid == 0) {
    // Die with the test even when it is killed itself (a ctest timeout).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    ::close(fds[0]);
    int code = 125;
    try {
      code = body(fds[1]);
    } catch (...) {
      std::fprintf(stderr, "child process %d: uncaught exception\n", static_cast<int>(::getpid()));
    }
    ::_exit(code);
  }
  ::close(fds[1]);
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, fds[0]));
}

ChildProcess::~ChildProcess() {
  Kill();
  ::close(fd_);
}

int ChildProcess::Kill() {
  if (reaped_) return status_;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  return status_;
}

bool ChildProcess::WaitFor(double seconds, int* status) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!reaped_) {
    const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      break;
    }
    if (r < 0 && errno != EINTR) return false;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  *status = status_;
  return true;
}

bool ChildProcess::NextReport(double seconds, ChildReport* report) {
  char* out = reinterpret_cast<char*>(report);
  size_t got = 0;
  while (got < sizeof *report) {
    pollfd p = {fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(seconds * 1000));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    const ssize_t n = ::read(fd_, out + got, sizeof *report - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

std::vector<ChildReport> ChildProcess::DrainReports() {
  std::vector<ChildReport> out;
  ChildReport r;
  while (NextReport(5.0, &r)) out.push_back(r);
  return out;
}

}  // namespace testing
}  // namespace ckpt
