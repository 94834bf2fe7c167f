#include "error_log.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace httpower {

bool RateLimiter::admit(Clock::time_point now) {
  if (!started_) {
    started_ = true;
    last_ = now;
  } else if (now > last_) {
    const std::chrono::duration<double> dt = now - last_;
    tokens_ = std::min(burst_, tokens_ + rate_ * dt.count());
    last_ = now;
  }
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

ErrorLog::ErrorLog(const std::string& target) : sink_(target, STDERR_FILENO, "error log") {}

namespace {

constexpr std::size_t kMaxWhat = 1024;  // a line stays well below PIPE_BUF

std::string format_line(std::string_view what, int err) {
  char stamp[40];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "[%d/%b/%Y:%H:%M:%S +0000]", &tm);
  std::string line = "httpower: ";
  line += stamp;
  line += ' ';
  line.append(what.substr(0, kMaxWhat));
  if (err != 0) {
    char buf[128];
    line += ": ";
    line += strerror_r(err, buf, sizeof buf);  // the GNU form returns the text
  }
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';  // one event, one line
  }
  line += '\n';
  return line;
}

}  // namespace

void ErrorLog::emit(std::string_view what, int err) {
  if (sink_.write(format_line(what, err)) == LogSink::Write::kOk) {
    ++written_;
  } else {
    ++suppressed_;
    ++pending_suppressed_;
  }
}

void ErrorLog::emit_suppressed() {
  if (pending_suppressed_ == 0) return;
  const std::string what = std::to_string(pending_suppressed_) +
                           " error-log lines suppressed (rate limit or a full sink)";
  if (sink_.write(format_line(what, 0)) == LogSink::Write::kOk) {
    ++written_;
    pending_suppressed_ = 0;
  }
}

void ErrorLog::report_at(Clock::time_point now, std::string_view what, int err) {
  MutexLock lock(mu_);
  if (!limiter_.admit(now)) {
    ++suppressed_;
    ++pending_suppressed_;
    return;
  }
  emit_suppressed();
  emit(what, err);
}

void ErrorLog::report_always(std::string_view what) {
  MutexLock lock(mu_);
  emit_suppressed();
  emit(what, 0);
}

void ErrorLog::finish() {
  MutexLock lock(mu_);
  emit_suppressed();
}

std::uint64_t ErrorLog::written() const {
  MutexLock lock(mu_);
  return written_;
}

std::uint64_t ErrorLog::suppressed() const {
  MutexLock lock(mu_);
  return suppressed_;
}

}  // namespace httpower
