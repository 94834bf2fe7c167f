#include "access_log.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace httpower {

void AccessLog::count_dropped(std::uint64_t lines, LogSink::Write why, int err) noexcept {
  const std::uint64_t total = dropped_.fetch_add(lines) + lines;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
  std::int64_t last = last_report_.load();
  if (last != 0 && now - last < 1'000'000'000) return;
  if (!last_report_.compare_exchange_strong(last, now)) return;  // another worker reports
  try {
    std::string what = "access log: " + std::to_string(total) + " lines dropped so far (";
    if (why == LogSink::Write::kFailed) {
      what += "write: ";
      what += std::strerror(err);
    } else {
      what += "the sink is full: nobody reads it fast enough";
    }
    what += ')';
    errors_.report(what);
  } catch (...) {  // out of memory: the count stays, the report is lost
  }
}

namespace {

// Appends s as the inside of a quoted CLF field: '"' and '\' escaped, control bytes and
// non-ASCII as \xHH, so a client cannot forge a line or a field. At most cap bytes of
// escaped text; a longer value is cut at an escape boundary and marked.
void append_quoted(std::string& out, std::string_view s, std::size_t cap) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (s.empty()) {
    out += '-';
    return;
  }
  std::size_t used = 0;
  for (unsigned char c : s) {
    const bool escape = c == '"' || c == '\\';
    const bool hex = c < 0x20 || c >= 0x7f;
    const std::size_t need = escape ? 2 : hex ? 4 : 1;
    if (used + need > cap) {
      out += LogBuffer::kTruncated;
      return;
    }
    used += need;
    if (escape) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (hex) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
}

std::uint64_t count_lines(std::string_view s) {
  return static_cast<std::uint64_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

void LogBuffer::format_head(const LogRecord& r, std::time_t now, std::string& l) {
  if (now != cached_second_) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(cached_time_, sizeof cached_time_, "[%d/%b/%Y:%H:%M:%S +0000]", &tm);
    cached_second_ = now;
  }
  l.clear();
  l += r.peer.empty() ? std::string_view("-") : r.peer.substr(0, 64);
  l += " - - ";
  l += cached_time_;
  l += " \"";
  if (r.minor_version < 0) {
    l += '-';
  } else {
    append_quoted(l, r.method, kMaxMethod);
    l += ' ';
    append_quoted(l, r.target, kMaxTarget);
    l += r.minor_version == 0 ? " HTTP/1.0" : " HTTP/1.1";
  }
  char num[24];
  std::snprintf(num, sizeof num, "\" %d ", r.status);
  l += num;
}

void LogBuffer::format_tail(const LogRecord& r, std::string& l) {
  l += " \"";
  append_quoted(l, r.referer, kMaxReferer);
  l += "\" \"";
  append_quoted(l, r.user_agent, kMaxUserAgent);
  l += "\"\n";
}

void LogBuffer::format(const LogRecord& r, std::time_t now) {
  format_head(r, now, line_);
  line_ += std::to_string(r.bytes);
  format_tail(r, line_);
}

void LogBuffer::format_pending(const LogRecord& r, std::time_t now, PendingLine& out) {
  format_head(r, now, out.text);
  out.bytes_at = out.text.size();
  format_tail(r, out.text);
}

void PendingLine::complete(std::uint64_t bytes, std::string& out) const {
  out.assign(text, 0, bytes_at);
  out += std::to_string(bytes);
  out.append(text, bytes_at, std::string::npos);
}

void AccessLog::write_now(std::string_view line) noexcept {
  const LogSink::Write w = sink_.write(line);
  if (w != LogSink::Write::kOk) count_dropped(1, w, errno);
}

void LogBuffer::append_completed(const PendingLine& p, std::uint64_t bytes) {
  if (log_ == nullptr) return;
  const std::string count = std::to_string(bytes);  // short: no allocation
  const std::size_t size = p.text.size() + count.size();
  if (buf_.size() + size > kMaxHeldBytes) flush();
  if (buf_.size() + size > kMaxHeldBytes) {
    log_->count_dropped(1, LogSink::Write::kWouldBlock, 0);  // the sink has been full a while
    return;
  }
  buf_.append(p.text, 0, p.bytes_at);
  buf_ += count;
  buf_.append(p.text, p.bytes_at, std::string::npos);
  if (buf_.size() >= kFlushBytes) flush();
}

void LogBuffer::append_line(std::string_view line) {
  if (log_ == nullptr) return;
  if (buf_.size() + line.size() > kMaxHeldBytes) flush();
  if (buf_.size() + line.size() > kMaxHeldBytes) {
    log_->count_dropped(1, LogSink::Write::kWouldBlock, 0);  // the sink has been full a while
    return;
  }
  buf_ += line;
  if (buf_.size() >= kFlushBytes) flush();
}

void LogBuffer::append(const LogRecord& r, std::time_t now) {
  if (log_ == nullptr) return;
  format(r, now);
  append_line(line_);
}

void LogBuffer::flush() {
  if (log_ == nullptr) return;
  std::size_t off = 0;
  while (off < buf_.size()) {
    // As many whole lines as fit in one atomic write (every line does, kMaxLineBytes).
    std::size_t end = buf_.size();
    if (end - off > LogSink::kAtomicBytes) {
      end = buf_.rfind('\n', off + LogSink::kAtomicBytes - 1) + 1;
      if (end <= off) end = buf_.find('\n', off) + 1;
    }
    const std::string_view chunk(buf_.data() + off, end - off);
    const std::size_t len = chunk.size();
    const LogSink::Write w = log_->sink().write(chunk);
    if (w == LogSink::Write::kWouldBlock) break;  // kept: retried at the next flush
    if (w == LogSink::Write::kFailed) log_->count_dropped(count_lines(chunk), w, errno);
    off += len;
  }
  buf_.erase(0, off);
}

void LogBuffer::finish(std::chrono::steady_clock::time_point deadline) {
  if (log_ == nullptr) return;
  for (;;) {
    flush();
    if (buf_.empty() || !log_->sink().wait_writable(deadline)) break;
  }
  if (!buf_.empty()) log_->count_dropped(count_lines(buf_), LogSink::Write::kWouldBlock, 0);
  buf_.clear();
}

}  // namespace httpower
