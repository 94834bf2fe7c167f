#pragma once
// LogSink: where the access log and the error log go. Its one promise: a write never blocks
// a thread for long, whatever the sink is, and a chunk of whole lines of at most PIPE_BUF
// bytes reaches it whole or not at all.
//
//   - A regular file is opened O_APPEND and written with plain write(): the kernel appends
//     each write whole, and a disk does not stall for ever.
//   - Anything else (a pipe, FIFO, terminal, character device) is written through a
//     descriptor of its own in O_NONBLOCK mode. For an inherited descriptor (stdout for
//     "-", stderr for the error log) that is a fresh open of /proc/self/fd/N, which creates
//     a new open file description: the O_NONBLOCK flag stays ours and never reaches the
//     shell or the parent that shares the original one. A write to a full pipe then fails
//     with EAGAIN instead of sleeping; a write of at most PIPE_BUF bytes to a pipe is
//     atomic, so it is all or nothing.
//   - A socket is written with send(MSG_DONTWAIT | MSG_NOSIGNAL).
//
// Terminals and sockets may take part of a write. The rest is kept (under a mutex shared by
// every writer of the sink) and written before anything else, so a line is never cut or
// interleaved; until it is gone, new chunks are refused (kWouldBlock).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "httpower/thread_annotations.hpp"
#include "unique_fd.hpp"

namespace httpower {

class LogSink {
 public:
  static constexpr std::size_t kAtomicBytes = 4096;  // PIPE_BUF on Linux
  enum class Kind { kOff, kFile, kStream, kSocket };
  enum class Write { kOk, kWouldBlock, kFailed };

  LogSink() = default;
  // target: "" = off; "-" = the inherited descriptor std_fd; else a file, opened
  // O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC. what names the log in the StartupError thrown
  // when it cannot be opened ("access log", "error log").
  LogSink(const std::string& target, int std_fd, const char* what);
  LogSink(const LogSink&) = delete;
  LogSink& operator=(const LogSink&) = delete;

  [[nodiscard]] bool enabled() const noexcept { return kind_ != Kind::kOff; }
  [[nodiscard]] Kind kind() const noexcept { return kind_; }
  [[nodiscard]] int fd() const noexcept { return fd_; }

  // Writes data (whole lines, at most kAtomicBytes) without blocking: kOk once all of it is
  // written or committed; kWouldBlock when the sink is full (nothing of data was written);
  // kFailed on an error (errno is left set; nothing of data will be written).
  [[nodiscard]] Write write(std::string_view data) noexcept EXCLUDES(mu_);
  // A file target opened again under its name, for a log renamed away (logrotate, then
  // SIGUSR1). The new file takes the old one's descriptor number (dup3), which the kernel
  // swaps atomically: a write in flight goes whole to the old file, every later one whole to
  // the new, and no writer ever sees a closed descriptor, so no line is lost or cut. Other
  // sinks (stdout, a pipe, a FIFO, a terminal) have nothing to reopen. Returns "" or why
  // not, one line; the old file then stays in use.
  [[nodiscard]] std::string reopen();
  // Waits until the sink may accept a write, or the deadline. True when it may.
  [[nodiscard]] bool wait_writable(std::chrono::steady_clock::time_point deadline) const noexcept;

 private:
  Write write_stream(std::string_view data) noexcept REQUIRES(mu_);
  ssize_t write_once(std::string_view data) const noexcept;

  UniqueFd owned_;
  std::string target_;  // the file name, for reopen()
  const char* what_ = "log";
  int fd_ = -1;
  Kind kind_ = Kind::kOff;
  Mutex mu_;
  std::string rest_ GUARDED_BY(mu_);  // the unwritten tail of a partly written chunk
};

}  // namespace httpower
