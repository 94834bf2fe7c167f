#pragma once
// Shared by the server stress programs (stress/*_stress.cpp): scale and seed from the
// environment, the watchdog limit, failure counting, the httpower binary of this build as a
// child process, the summary line and the common checks. The watchdog, the /proc probes
// (fd count, RSS, CPU time), the document root and the child process itself are the
// helpers every test folder shares (testsupport/, target httpower_testing).
//
// Every program starts its own server as a child process (the binary of the same build, so
// the tsan/asan presets stress an instrumented server), drives it over 127.0.0.1 only,
// checks exact outcomes and prints one summary line:
//   <name>: requests=N failures=F fds=B->A rss_kb=B->A seconds=S [extra]
// and exits non-zero on any violation.

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "httpower/testsupport/child_server.hpp"
#include "httpower/testsupport/proc.hpp"
#include "httpower/testsupport/scale.hpp"
#include "httpower/testsupport/temp_dir.hpp"
#include "httpower/testsupport/watchdog.hpp"

#ifndef HTTPOWER_BIN
#error "HTTPOWER_BIN (path of the httpower binary) must be defined by stress/CMakeLists.txt"
#endif

namespace httpower::stress {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using testsupport::cpu_seconds;
using testsupport::fd_count;
using testsupport::rss_kb;
using testsupport::TempDir;
using testsupport::Watchdog;

// HTTPOWER_STRESS_SCALE if set, else HTTPOWER_TEST_SCALE (the presets set 0.3 for tsan and
// 0.5 for asan), else 1.
inline double scale() { return testsupport::stress_scale(); }
inline int scaled(double n, int min = 1) { return testsupport::scaled(n, min, scale()); }

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

// The httpower binary of this build as a child process; stderr is inherited so sanitizer
// reports reach the test log. wait_ready() waits up to 30 s (a sanitizer build starts slowly
// on a loaded machine).
class ChildServer : public testsupport::ChildServer {
 public:
  explicit ChildServer(std::vector<std::string> args, rlim_t max_fds = 0)
      : testsupport::ChildServer(options(max_fds), std::move(args)) {}

 private:
  static testsupport::ChildOptions options(rlim_t max_fds) {
    testsupport::ChildOptions o;
    o.binary = HTTPOWER_BIN;
    o.max_fds = max_fds;
    o.timeout = 30s;
    return o;
  }
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
