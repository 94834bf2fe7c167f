#pragma once
// The runtime error log: failures after start-up (accept, epoll, sendfile, reads, log
// writes), one line per event, to stderr or --error-log FILE:
//
//   httpower: [29/Nov/2026:18:02:11 +0000] sendfile: Input/output error; connection closed
//
// Thread-safe: a line is formatted on the caller's stack and written with one write() under
// the log's mutex, through a LogSink, so it never blocks (a stalled stderr drops lines, which
// are counted as suppressed). Rate-limited by a token bucket (kBurst lines at once,
// kPerSecond sustained), so a flood of errors cannot fill a disk or bury the first ones: the
// lines the bucket refuses are counted, and the next line let through is preceded by
// "N error-log lines suppressed". Per-client events (a reset, a client that goes away) are
// client behaviour, not errors, and are not logged.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "httpower/thread_annotations.hpp"
#include "log_sink.hpp"

namespace httpower {

// A token bucket on an explicit clock (testable without sleeping).
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  RateLimiter(double per_second, double burst) : rate_(per_second), burst_(burst), tokens_(burst) {}
  // True when a line may be written at `now` (takes a token). Time never runs backwards.
  [[nodiscard]] bool admit(Clock::time_point now);

 private:
  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_{};
  bool started_ = false;
};

class ErrorLog {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr double kPerSecond = 1;
  static constexpr double kBurst = 20;

  // target: "-" = stderr, else a file opened for appending. Throws StartupError.
  explicit ErrorLog(const std::string& target = "-");

  // One line "what: strerror(err)" (err 0: just "what"), subject to the rate limit.
  void report(std::string_view what, int err = 0) EXCLUDES(mu_) { report_at(Clock::now(), what, err); }
  void report_at(Clock::time_point now, std::string_view what, int err) EXCLUDES(mu_);
  // Not rate-limited (the exit summary): writes any pending suppressed count, then the line.
  void report_always(std::string_view what) EXCLUDES(mu_);
  // Reopens a log file under its name (LogSink::reopen): "" or why not.
  [[nodiscard]] std::string reopen() { return sink_.reopen(); }
  // At exit: announces lines suppressed since the last announcement, if any.
  void finish() EXCLUDES(mu_);

  // Lines written, and lines refused by the rate limit or by a full sink (tests, summary).
  [[nodiscard]] std::uint64_t written() const EXCLUDES(mu_);
  [[nodiscard]] std::uint64_t suppressed() const EXCLUDES(mu_);

 private:
  void emit(std::string_view what, int err) REQUIRES(mu_);
  void emit_suppressed() REQUIRES(mu_);

  LogSink sink_;
  mutable Mutex mu_;
  RateLimiter limiter_ GUARDED_BY(mu_){kPerSecond, kBurst};
  std::uint64_t pending_suppressed_ GUARDED_BY(mu_) = 0;  // not yet announced
  std::uint64_t written_ GUARDED_BY(mu_) = 0;
  std::uint64_t suppressed_ GUARDED_BY(mu_) = 0;
};

}  // namespace httpower
