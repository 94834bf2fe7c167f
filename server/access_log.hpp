#pragma once
// Access log in Combined Log Format, one line per response:
//   host - - [26/Nov/2026:13:00:52 +0000] "GET /a HTTP/1.1" 200 1234 "referer" "user-agent"
//
// Workers never share a lock for logging: each worker appends lines to its own LogBuffer and
// writes whole lines with one write() to the log fd (opened O_APPEND), when the buffer passes
// kFlushBytes or when the worker is about to wait for work. write() of whole lines to an
// O_APPEND file keeps lines intact across workers; to a pipe, writes up to PIPE_BUF (4 KiB)
// are atomic, so the flush threshold stays below it. Times are UTC. The byte count is the
// planned body length (what Content-Length announced), not re-counted after a client abort.

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "unique_fd.hpp"

namespace httpower {

class AccessLogFile {
 public:
  AccessLogFile() = default;
  // "-" = stdout; "" = off; else a file opened O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC.
  // Throws StartupError on failure.
  explicit AccessLogFile(const std::string& target);
  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] bool enabled() const noexcept { return fd_ >= 0; }

 private:
  UniqueFd owned_;
  int fd_ = -1;
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

class LogBuffer {
 public:
  static constexpr std::size_t kFlushBytes = 3584;  // < PIPE_BUF: atomic on pipes too
  explicit LogBuffer(int fd) : fd_(fd) {}
  [[nodiscard]] bool enabled() const noexcept { return fd_ >= 0; }
  void append(const LogRecord& r, std::time_t now);
  void flush();

 private:
  int fd_;
  std::string buf_;
  std::time_t cached_second_ = -1;
  char cached_time_[40] = {};
};

}  // namespace httpower
