#include "access_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "listener.hpp"

namespace httpower {

AccessLogFile::AccessLogFile(const std::string& target) {
  if (target.empty()) return;
  if (target == "-") {
    fd_ = STDOUT_FILENO;
    return;
  }
  owned_.reset(::open(target.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (!owned_) {
    throw StartupError("cannot open access log '" + target + "': " + std::strerror(errno));
  }
  fd_ = owned_.get();
}

namespace {

// Quoted CLF fields: '"' and '\' are escaped, control bytes and non-ASCII as \xHH, so a
// client cannot forge a log line.
void append_quoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (s.empty()) {
    out += '-';
    return;
  }
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
}

}  // namespace

void LogBuffer::append(const LogRecord& r, std::time_t now) {
  if (fd_ < 0) return;
  if (now != cached_second_) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(cached_time_, sizeof cached_time_, "[%d/%b/%Y:%H:%M:%S +0000]", &tm);
    cached_second_ = now;
  }
  buf_ += r.peer.empty() ? std::string_view("-") : r.peer;
  buf_ += " - - ";
  buf_ += cached_time_;
  buf_ += " \"";
  if (r.minor_version < 0) {
    buf_ += '-';
  } else {
    append_quoted(buf_, r.method);
    buf_ += ' ';
    append_quoted(buf_, r.target);
    buf_ += r.minor_version == 0 ? " HTTP/1.0" : " HTTP/1.1";
  }
  char num[48];
  std::snprintf(num, sizeof num, "\" %d %llu \"", r.status, static_cast<unsigned long long>(r.bytes));
  buf_ += num;
  append_quoted(buf_, r.referer);
  buf_ += "\" \"";
  append_quoted(buf_, r.user_agent);
  buf_ += "\"\n";
  if (buf_.size() >= kFlushBytes) flush();
}

void LogBuffer::flush() {
  std::size_t off = 0;
  while (off < buf_.size()) {
    const ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // a broken log must not stop serving: drop the rest
    off += static_cast<std::size_t>(n);
  }
  buf_.clear();
}

}  // namespace httpower
