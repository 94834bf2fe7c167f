#pragma once
// Watchdog: aborts the whole process, with one line naming `what` (the test or the program),
// unless it is destroyed (released) before its deadline. A hung concurrent test must fail
// loudly and quickly, not hang CI until the ctest TIMEOUT. Optionally it also aborts when a
// progress counter has not moved for a stall limit: a lost wake-up shows as a stall long
// before the deadline.
//
// It aborts (no unwinding, no destructors): the hung threads would block any orderly exit. A
// child server started through child_server.hpp dies with us (PR_SET_PDEATHSIG).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace httpower::testsupport {

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;

  // Aborts unless destroyed within `limit`.
  Watchdog(std::string what, std::chrono::seconds limit) : Watchdog(std::move(what), limit, nullptr, limit) {}
  // Also aborts when `progress` has not changed for `stall` (looked at every 250 ms).
  Watchdog(std::string what, std::chrono::seconds limit, const std::atomic<std::uint64_t>& progress,
           std::chrono::seconds stall)
      : Watchdog(std::move(what), limit, &progress, stall) {}
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
  Watchdog(std::string what, std::chrono::seconds limit, const std::atomic<std::uint64_t>* progress,
           std::chrono::seconds stall)
      : what_(std::move(what)),
        limit_(limit),
        stall_(stall),
        progress_(progress),
        start_(Clock::now()),
        thread_([this] { watch(); }) {}

  void watch() {
    std::unique_lock<std::mutex> lock(mu_);
    if (progress_ == nullptr) {
      if (!cv_.wait_until(lock, start_ + limit_, [this] { return released_; })) expire_deadline();
      return;
    }
    auto last_change = start_;
    std::uint64_t last = progress_->load();
    while (!cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return released_; })) {
      const auto now = Clock::now();
      const std::uint64_t p = progress_->load();
      if (p != last) {
        last = p;
        last_change = now;
      }
      if (now - start_ > limit_) expire_deadline();
      if (now - last_change > stall_) {
        char why[120];
        std::snprintf(why, sizeof why, "no progress for %llds after %llu operations",
                      static_cast<long long>(stall_.count()), static_cast<unsigned long long>(p));
        expire(why);
      }
    }
  }

  [[noreturn]] void expire_deadline() {
    char why[120];
    std::snprintf(why, sizeof why, "still running after %llds", static_cast<long long>(limit_.count()));
    expire(why);
  }
  [[noreturn]] void expire(const char* why) {
    std::fprintf(stderr, "%s: watchdog: %s (lost wake-up or deadlock?), aborting\n", what_.c_str(), why);
    std::fflush(stderr);
    std::abort();
  }

  const std::string what_;
  const std::chrono::seconds limit_;
  const std::chrono::seconds stall_;
  const std::atomic<std::uint64_t>* const progress_;  // null: deadline only
  const Clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  std::thread thread_;  // last: starts after the members it uses exist
};

}  // namespace httpower::testsupport
