#pragma once
// ChildServer: the httpower binary as a child process. Its stdout is a pipe: the start-up
// line "httpower: serving ROOT on http://HOST:PORT/ (N workers)" gives the port. Its stderr
// is either a pipe (capture_stderr, for tests that check the error line) or inherited, so
// that sanitizer reports reach the test log. Every read and wait has a deadline.
//
// The child dies with the thread that started it (PR_SET_PDEATHSIG): a watchdog abort leaves
// no server behind. Start children from a thread that outlives them (the main thread).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace httpower::testsupport {

struct ChildOptions {
  std::string binary;           // path of the httpower binary
  bool capture_stderr = false;  // stderr to a pipe (read_stderr) instead of inherited
  // RLIMIT_NOFILE of the child, soft and hard (so it cannot raise it), when > 0; never above
  // our own hard limit.
  rlim_t max_fds = 0;
  // The deadline of read_line, read_stderr, wait_ready and wait_exit when none is given.
  std::chrono::milliseconds timeout{10'000};
};

class ChildServer {
 public:
  using Clock = std::chrono::steady_clock;

  ChildServer(ChildOptions o, std::vector<std::string> args) : timeout_(o.timeout) {
    // argv is built before fork: the child calls only async-signal-safe functions.
    std::vector<std::string> all;
    all.push_back(std::move(o.binary));
    for (auto& a : args) all.push_back(std::move(a));
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    int out[2];
    int err[2] = {-1, -1};
    if (pipe2(out, O_CLOEXEC) != 0) return;
    if (o.capture_stderr && pipe2(err, O_CLOEXEC) != 0) {
      ::close(out[0]);
      ::close(out[1]);
      return;
    }
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(126);  // the parent died before prctl
      dup2(out[1], 1);
      if (err[1] >= 0) dup2(err[1], 2);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      if (o.max_fds > 0) {
        rlimit lim{};
        getrlimit(RLIMIT_NOFILE, &lim);
        lim.rlim_cur = std::min(o.max_fds, lim.rlim_max);
        lim.rlim_max = lim.rlim_cur;
        setrlimit(RLIMIT_NOFILE, &lim);
      }
      execv(argv[0], argv.data());
      _exit(127);
    }
    ::close(out[1]);
    out_ = out[0];
    if (err[1] >= 0) ::close(err[1]);
    err_ = err[0];
  }
  ~ChildServer() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
    if (err_ >= 0) ::close(err_);
  }
  ChildServer(const ChildServer&) = delete;
  ChildServer& operator=(const ChildServer&) = delete;

  pid_t pid() const { return pid_; }
  // The port wait_ready() read; 0 before.
  std::uint16_t port() const { return port_; }

  // One line of stdout, within the deadline.
  std::optional<std::string> read_line() { return read_line(timeout_); }
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      const std::size_t nl = out_buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = out_buf_.substr(0, nl);
        out_buf_.erase(0, nl + 1);
        return line;
      }
      if (!read_some(out_, out_buf_, deadline)) return std::nullopt;
    }
  }
  // Bytes of stdout read but not returned as a line yet (after EOF: an unterminated last
  // line); clears them.
  std::string take_unread_stdout() { return std::exchange(out_buf_, std::string()); }
  // The whole of stderr until EOF (the child exited), within the deadline; "" if stderr is
  // not captured.
  std::string read_stderr() { return read_stderr(timeout_); }
  std::string read_stderr(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::string s;
    while (err_ >= 0 && read_some(err_, s, deadline)) {
    }
    return s;
  }
  // Reads the start-up line and returns the port in it (also kept for port()); nullopt on
  // timeout, EOF or another line. line_out, when given, receives the line.
  std::optional<std::uint16_t> wait_ready(std::string* line_out = nullptr) { return wait_ready(timeout_, line_out); }
  std::optional<std::uint16_t> wait_ready(std::chrono::milliseconds timeout, std::string* line_out = nullptr) {
    const auto line = read_line(timeout);
    if (!line) return std::nullopt;
    if (line_out != nullptr) *line_out = *line;
    const std::size_t slash = line->rfind("/ (");
    const std::size_t colon = line->rfind(':', slash);
    if (slash == std::string::npos || colon == std::string::npos) return std::nullopt;
    const int port = std::atoi(line->c_str() + colon + 1);
    if (port <= 0 || port > 65535) return std::nullopt;
    port_ = static_cast<std::uint16_t>(port);
    return port_;
  }

  void signal(int sig) { kill(pid_, sig); }
  // True until the child has exited (reaps it when it has).
  bool running() {
    if (reaped_) return false;
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) record(st);
    return !reaped_;
  }
  // Exit status (128 + signal when killed), or -1 if it did not exit within the deadline.
  // Waits on a pidfd (readable when the child exits): an event, not a polling loop.
  int wait_exit() { return wait_exit(timeout_); }
  int wait_exit(std::chrono::milliseconds timeout) {
    if (reaped_) return status_;
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd < 0) return -1;
    pollfd p{pidfd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
    ::close(pidfd);
    if (ready <= 0) return -1;
    int st = 0;
    if (waitpid(pid_, &st, 0) != pid_) return -1;
    record(st);
    return status_;
  }

 private:
  static bool read_some(int fd, std::string& into, Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char tmp[4096];
    const ssize_t n = ::read(fd, tmp, sizeof tmp);
    if (n <= 0) return false;
    into.append(tmp, static_cast<std::size_t>(n));
    return true;
  }
  void record(int st) {
    reaped_ = true;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }

  const std::chrono::milliseconds timeout_;
  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  std::string out_buf_;
  std::uint16_t port_ = 0;
  bool reaped_ = false;
  int status_ = -1;
};

}  // namespace httpower::testsupport
