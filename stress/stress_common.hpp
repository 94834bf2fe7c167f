#pragma once
// Shared by the server stress programs (stress/*_stress.cpp): scale and seed from the
// environment, a watchdog, /proc probes of the server process (fd count, RSS, CPU time),
// the httpower binary as a child process, a generated document root, and the summary line.
//
// Every program starts its own server as a child process (the binary of the same build, so
// the tsan/asan presets stress an instrumented server), drives it over 127.0.0.1 only,
// checks exact outcomes and prints one summary line:
//   <name>: requests=N failures=F fds=B->A rss_kb=B->A seconds=S [extra]
// and exits non-zero on any violation.

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#ifndef HTTPOWER_BIN
#error "HTTPOWER_BIN (path of the httpower binary) must be defined by stress/CMakeLists.txt"
#endif

namespace httpower::stress {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// HTTPOWER_STRESS_SCALE if set, else HTTPOWER_TEST_SCALE (the presets set 0.3 for tsan and
// 0.5 for asan), else 1.
inline double scale() {
  for (const char* name : {"HTTPOWER_STRESS_SCALE", "HTTPOWER_TEST_SCALE"}) {
    if (const char* s = std::getenv(name)) {
      const double v = std::atof(s);
      if (v > 0) return v;
    }
  }
  return 1.0;
}
inline int scaled(double n, int min = 1) {
  const int v = static_cast<int>(n * scale());
  return v < min ? min : v;
}

// HTTPOWER_SEED if set, else random; printed so a failing run can be repeated.
inline std::uint64_t seed(const char* program) {
  std::uint64_t s = 0;
  if (const char* e = std::getenv("HTTPOWER_SEED")) {
    s = std::strtoull(e, nullptr, 0);
  } else {
    s = (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  }
  std::printf("%s: seed %llu (HTTPOWER_SEED=%llu to repeat)\n", program,
              static_cast<unsigned long long>(s), static_cast<unsigned long long>(s));
  std::fflush(stdout);
  return s;
}

// Failures: counted, the first few printed.
class Failures {
 public:
  explicit Failures(const char* program) : program_(program) {}
  void add(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    if (n_.fetch_add(1) >= 20) return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    std::fprintf(stderr, "%s: FAIL %s\n", program_, buf);
  }
  void check(bool ok, const char* what) {
    if (!ok) add("%s", what);
  }
  int count() const { return n_.load(); }

 private:
  const char* program_;
  std::atomic<int> n_{0};
};

// The watchdog limit: base seconds at scale <= 1 (below the ctest TIMEOUT of 300 s set in
// stress/CMakeLists.txt), growing with larger scales for local full runs.
inline std::chrono::seconds watchdog_limit(int base_s = 180) {
  return std::chrono::seconds(static_cast<long long>(base_s * std::max(1.0, scale())));
}

// Aborts the program (and so the test) when the deadline passes: a hang is a failure.
class Watchdog {
 public:
  Watchdog(const char* program, std::chrono::seconds limit)
      : program_(program), deadline_(Clock::now() + limit), thread_([this] { watch(); }) {}
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

 private:
  void watch() {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_until(lock, deadline_, [this] { return released_; })) {
      std::fprintf(stderr, "%s: watchdog: deadline passed, aborting\n", program_);
      std::fflush(stderr);
      std::abort();  // the child server gets SIGKILL from PDEATHSIG
    }
  }
  const char* program_;
  Clock::time_point deadline_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  std::thread thread_;
};

// ---------------------------------------------------------------------------------------
// /proc probes.

inline int fd_count(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return pid == getpid() ? n - 1 : n;  // our own DIR fd
}

inline long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// utime + stime of every thread of pid, in seconds.
inline double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t rp = s.rfind(')');
  if (rp == std::string::npos) return -1;
  // Fields after ")": 3 state ... 14 utime 15 stime (1-based over the whole line).
  std::vector<std::string> f;
  std::size_t p = rp + 2;
  while (p < s.size() && f.size() < 13) {
    const std::size_t sp = s.find(' ', p);
    f.push_back(s.substr(p, sp - p));
    p = sp == std::string::npos ? s.size() : sp + 1;
  }
  if (f.size() < 13) return -1;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::atof(f[11].c_str()) + std::atof(f[12].c_str())) / ticks;
}

// Polls fn() until it holds or the deadline passes (a deadline, not a sleep: each probe is
// a /proc read; the 10 ms pause only paces the probing).
template <class Fn>
bool wait_until(Clock::time_point deadline, Fn fn) {
  for (;;) {
    if (fn()) return true;
    if (Clock::now() >= deadline) return false;
    ::poll(nullptr, 0, 10);
  }
}

// Raises our soft RLIMIT_NOFILE to min(want, hard); returns the limit in force.
inline rlim_t raise_nofile(rlim_t want) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  const rlim_t target = std::min(want, lim.rlim_max);
  if (lim.rlim_cur < target) {
    lim.rlim_cur = target;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur;
}

// ---------------------------------------------------------------------------------------
// Document root: deterministic file contents the load client validates against.

class DocRoot {
 public:
  DocRoot() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "httpower-stress-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~DocRoot() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  DocRoot(const DocRoot&) = delete;
  DocRoot& operator=(const DocRoot&) = delete;
  const std::string& path() const { return path_; }

  // A file of n pseudo-random bytes; returns its content (kept by the caller for checks).
  std::string write_random(const std::string& name, std::size_t n, std::uint32_t s) const {
    std::mt19937 rng(s);
    std::string content(n, '\0');
    for (char& c : content) c = static_cast<char>(rng() & 0xff);
    std::ofstream(path_ + "/" + name, std::ios::binary) << content;
    return content;
  }
  // A sparse file of n zero bytes (large downloads without writing them).
  void write_sparse(const std::string& name, std::uint64_t n) const {
    const int fd = ::open((path_ + "/" + name).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd >= 0) {
      (void)!::ftruncate(fd, static_cast<off_t>(n));
      ::close(fd);
    }
  }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------------------
// The httpower binary as a child process. stdout is a pipe (the start-up line gives the
// port); stderr is inherited so sanitizer reports reach the test log. The child dies with
// us (PR_SET_PDEATHSIG), so a watchdog abort leaves no server behind.

class ChildServer {
 public:
  ChildServer(std::vector<std::string> args, rlim_t max_fds = 0) {
    std::vector<std::string> all;
    all.push_back(HTTPOWER_BIN);
    for (auto& a : args) all.push_back(std::move(a));
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return;
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {  // async-signal-safe calls only until execv
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(126);
      dup2(out[1], 1);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      if (max_fds > 0) {
        rlimit lim{};
        getrlimit(RLIMIT_NOFILE, &lim);
        lim.rlim_cur = std::min(max_fds, lim.rlim_max);
        setrlimit(RLIMIT_NOFILE, &lim);
      }
      execv(argv[0], argv.data());
      _exit(127);
    }
    ::close(out[1]);
    out_ = out[0];
  }
  ~ChildServer() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }
  ChildServer(const ChildServer&) = delete;
  ChildServer& operator=(const ChildServer&) = delete;

  pid_t pid() const { return pid_; }
  std::uint16_t port() const { return port_; }

  // Waits for "httpower: serving ROOT on http://HOST:PORT/ (N workers)"; false on timeout.
  bool wait_ready(std::chrono::milliseconds timeout = 30s) {
    const auto deadline = Clock::now() + timeout;
    std::string buf;
    while (buf.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd p{out_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char tmp[512];
      const ssize_t n = ::read(out_, tmp, sizeof tmp);
      if (n <= 0) return false;
      buf.append(tmp, static_cast<std::size_t>(n));
    }
    const std::size_t slash = buf.rfind("/ (");
    const std::size_t colon = buf.rfind(':', slash);
    if (slash == std::string::npos || colon == std::string::npos) return false;
    port_ = static_cast<std::uint16_t>(std::atoi(buf.c_str() + colon + 1));
    return port_ != 0;
  }

  void signal(int sig) { kill(pid_, sig); }
  bool running() {
    if (reaped_) return false;
    int st = 0;
    const pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) record(st);
    return !reaped_;
  }
  // Exit status (128 + signal when killed), or -1 if it did not exit within the timeout.
  // Waits on a pidfd: an event, not polling.
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
  void record(int st) {
    reaped_ = true;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  pid_t pid_ = -1;
  int out_ = -1;
  std::uint16_t port_ = 0;
  bool reaped_ = false;
  int status_ = -1;
};


// One summary line per program (docs/stress.md quotes them).
struct Summary {
  explicit Summary(const char* n) : name(n) {}
  const char* name;
  std::uint64_t requests = 0;
  int failures = 0;
  int fds_before = -1, fds_after = -1;
  long rss_before = -1, rss_after = -1;
  Clock::time_point start = Clock::now();
  std::string extra;
  int print() const {
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("%s: requests=%llu failures=%d fds=%d->%d rss_kb=%ld->%ld seconds=%.1f scale=%g %s\n",
                name, static_cast<unsigned long long>(requests), failures, fds_before, fds_after,
                rss_before, rss_after, secs, scale(), extra.c_str());
    std::fflush(stdout);
    return failures == 0 ? 0 : 1;
  }
};

// C3, the common ending of every program: waits (a deadline, not a sleep) until the server's
// fd count is back to rec.fds_before, then records rec.fds_after and rec.rss_after. `Record`
// is a Summary or a per-part record with the same fields. `when` ends the failure line.
template <typename Record>
void expect_fds_back(const ChildServer& server, Record& rec, Failures& f,
                     std::chrono::seconds wait, const char* when = "") {
  const bool back = wait_until(Clock::now() + wait, [&] { return fd_count(server.pid()) <= rec.fds_before; });
  rec.fds_after = fd_count(server.pid());
  rec.rss_after = rss_kb(server.pid());
  if (!back) f.add("C3: server fd count %d, baseline %d%s", rec.fds_after, rec.fds_before, when);
}

// S3: SIGTERM, then exit status 0 within `wait`. `when` ends the failure line.
inline void expect_clean_stop(ChildServer& server, Failures& f, std::chrono::seconds wait,
                              const char* when = "") {
  server.signal(SIGTERM);
  if (const int st = server.wait_exit(wait); st != 0) f.add("exit status %d after SIGTERM%s", st, when);
}

}  // namespace httpower::stress
