#pragma once
// Access log in Combined Log Format, one line per response:
//   host - - [26/Nov/2026:13:00:52 +0000] "GET /a HTTP/1.1" 200 1234 "referer" "user-agent"
//
// Every line is whole and parses as CLF, whatever the sink and whatever the request (L1):
//   - quoted fields are escaped ('"', '\', control and non-ASCII bytes as \xHH), so a client
//     cannot forge a line or a field;
//   - quoted fields are capped (kMaxMethod, kMaxTarget, kMaxReferer, kMaxUserAgent bytes of
//     escaped text); a longer one ends in "...[truncated]" inside its quotes, so a line is
//     at most kMaxLineBytes, below PIPE_BUF;
//   - lines reach the sink in writes of whole lines of at most PIPE_BUF bytes, which a pipe
//     takes whole or not at all, and which an O_APPEND file appends whole (LogSink).
//
// No sink can stall the server (L2): each worker appends lines to its own LogBuffer and
// writes them when the buffer passes kFlushBytes or when the worker is about to wait for
// work, without ever blocking (LogSink). When the sink is full the lines stay in the buffer
// (at most kMaxHeldBytes per worker) and are retried; past that, new lines are dropped. A
// worker that waits for work while holding lines retries every kRetry. At exit each worker
// waits for the sink at most until a shared deadline, then drops what it still holds.
// Dropped lines are counted (AccessLog::dropped()), reported on the error log at most once
// a second, and in the exit summary.
//
// Times are UTC. The byte count is the body bytes actually sent: a line is written when its
// response ends, so a response cut short (the drain deadline, a send timeout, a client that
// went away) shows fewer bytes than its Content-Length announced. A line is formatted when the
// response is planned, with its byte count left out (PendingLine), and completed at the end.
//
// A line whose response ends outside a worker (closed by the poller or at the drain deadline)
// is written by AccessLog::write_now, one non-blocking write, counted as dropped if the sink
// is full.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "error_log.hpp"
#include "log_sink.hpp"

namespace httpower {

// The sink and what happened to it, shared by every worker.
class AccessLog {
 public:
  // "-" = stdout; "" = off; else a file (LogSink). Throws StartupError.
  AccessLog(const std::string& target, ErrorLog& errors)
      : sink_(target, 1, "access log"), errors_(errors) {}
  [[nodiscard]] bool enabled() const noexcept { return sink_.enabled(); }
  [[nodiscard]] LogSink& sink() noexcept { return sink_; }
  // Reopens a log file under its name (LogSink::reopen): "" or why not.
  [[nodiscard]] std::string reopen() { return sink_.reopen(); }
  // Counts lines that will never be written; reports them on the error log (at most once a
  // second). why: kWouldBlock (the sink is full) or kFailed (err: the write's errno).
  void count_dropped(std::uint64_t lines, LogSink::Write why, int err) noexcept;
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_.load(); }
  // Writes one whole line at once from any thread (never blocks); a full sink drops it.
  void write_now(std::string_view line) noexcept;

 private:
  LogSink sink_;
  ErrorLog& errors_;
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::int64_t> last_report_{0};  // steady clock, ns; 0 = never
};

struct LogRecord {
  std::string_view peer;
  std::string_view method;
  std::string_view target;
  int minor_version = 1;  // < 0: no parsable request line ("-" is logged)
  int status = 0;
  std::uint64_t bytes = 0;
  std::string_view referer;
  std::string_view user_agent;
};

// A formatted line waiting for its response to end: bytes_at is where the byte count goes.
struct PendingLine {
  std::string text;
  std::size_t bytes_at = 0;
  [[nodiscard]] bool empty() const noexcept { return text.empty(); }
  // The whole line with `bytes`, into out (cleared first).
  void complete(std::uint64_t bytes, std::string& out) const;
};

class LogBuffer {
 public:
  static constexpr std::size_t kMaxMethod = 32;
  static constexpr std::size_t kMaxTarget = 2048;
  static constexpr std::size_t kMaxReferer = 512;
  static constexpr std::size_t kMaxUserAgent = 512;
  static constexpr std::string_view kTruncated = "...[truncated]";
  // Every line is shorter than this (the fixed parts take at most 200 bytes).
  static constexpr std::size_t kMaxLineBytes =
      200 + kMaxMethod + kMaxTarget + kMaxReferer + kMaxUserAgent + 4 * kTruncated.size();
  static_assert(kMaxLineBytes < LogSink::kAtomicBytes, "a line must fit one atomic write");
  static constexpr std::size_t kFlushBytes = 3584;
  static constexpr std::size_t kMaxHeldBytes = 64 * 1024;
  static constexpr std::chrono::milliseconds kRetry{100};

  explicit LogBuffer(AccessLog* log) : log_(log != nullptr && log->enabled() ? log : nullptr) {}
  [[nodiscard]] bool enabled() const noexcept { return log_ != nullptr; }
  [[nodiscard]] bool holding() const noexcept { return !buf_.empty(); }
  void append(const LogRecord& r, std::time_t now);
  // The line for r, less its byte count (r.bytes is ignored), into out.
  void format_pending(const LogRecord& r, std::time_t now, PendingLine& out);
  // Appends a whole line as append() does.
  void append_line(std::string_view line);
  // Appends p completed with `bytes`, straight into the buffer (no intermediate line).
  void append_completed(const PendingLine& p, std::uint64_t bytes);
  // Writes held lines, whole lines at most PIPE_BUF bytes a write, until the sink is full.
  // Never blocks.
  void flush();
  // At exit: flushes, waiting for the sink until the deadline, then drops what is left.
  void finish(std::chrono::steady_clock::time_point deadline);

 private:
  void format(const LogRecord& r, std::time_t now);
  void format_head(const LogRecord& r, std::time_t now, std::string& l);  // up to the status
  static void format_tail(const LogRecord& r, std::string& l);            // after the bytes

  AccessLog* log_;
  std::string buf_;   // whole lines, each ending in '\n'
  std::string line_;  // the line being formatted
  std::time_t cached_second_ = -1;
  char cached_time_[40] = {};
};

}  // namespace httpower
