#pragma once
// LoadClient: our own HTTP/1.1 load generator for the stress programs. One thread, one
// epoll set, non-blocking sockets; N concurrent connections, each carrying up to
// per_connection requests one after the other (keep-alive), then closing and being replaced
// (per_connection = 1: a new connection per request), optionally pipelined (`pipeline`
// requests written back to back, responses matched in request order: R4). Bounded in count (requests) and time
// (deadline). Every response is validated: status line, status, header block, Content-Length
// against the bytes received, the body against the expected bytes, Content-Range, and
// Connection: close followed by EOF.
//
// Outcome classes (C2): a complete valid response; an orderly close (EOF at a response
// boundary after "Connection: close"); and violations: a truncated body, a reset or EOF
// before the response to a request the server had received, an invalid response, anything
// unfinished at the deadline. In shutdown mode (signal_at set), a request fully sent before
// the signal may end with a complete response or with EOF before any response byte
// (counted as unanswered_eof); a reset is a violation. Requests sent after the signal may
// also be refused or reset (the listener is closed), counted as late.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <span>
#include <thread>
#include <string_view>
#include <vector>

#include "httpower/testsupport/net.hpp"
#include "stress_common.hpp"  // Summary, Failures

namespace httpower::stress {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Expect {
  int status = 200;
  bool head = false;           // HEAD: no body whatever Content-Length says
  bool check_body = false;     // body must equal `body`
  std::string_view body;       // (or, for HEAD, Content-Length must equal body.size())
  std::string content_range;   // expected Content-Range value when non-empty
  bool expect_close = false;   // the response must carry Connection: close
};

struct Request {
  std::string bytes;
  Expect expect;
};

// A GET of `path` whose response must be 200 with exactly `body` (a view: the caller keeps
// the bytes alive), with "Connection: close" on both sides when `close`.
inline Request get_expecting(const std::string& path, std::string_view body, bool close) {
  Request r;
  r.bytes = "GET " + path + " HTTP/1.1\r\nHost: stress\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n";
  r.expect.check_body = true;
  r.expect.body = body;
  r.expect.expect_close = close;
  return r;
}

// Makes the next request; index = requests already completed on this connection.
using Generator = std::function<Request(std::mt19937_64& rng, std::uint64_t index)>;

struct LoadOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  int connections = 16;
  std::uint64_t requests = 1000;     // requests started at most (bounded count)
  std::uint64_t per_connection = 100;
  // Requests written back to back before reading (R4: the responses must come in request
  // order). Generators for pipelined clients should not close the connection mid-batch.
  std::uint64_t pipeline = 1;
  Clock::time_point deadline = Clock::now() + 60s;  // bounded time
  int rcvbuf = 0;                    // SO_RCVBUF when > 0
  bool hold = false;                 // keep connections open after their last request
  const std::atomic<bool>* stop = nullptr;                // stop starting requests
  const std::atomic<std::int64_t>* signal_at = nullptr;  // shutdown mode (ns, steady clock)
  // Shutdown mode: an EOF before any response byte to a request sent before the signal is
  // a violation too (docs/server.md: "every request already received is answered").
  bool strict_shutdown = false;
  std::uint64_t seed = 1;
  Generator gen;
};

struct LoadResult {
  std::uint64_t started = 0;
  std::uint64_t sent = 0;            // requests fully written
  std::uint64_t complete = 0;        // complete, valid responses
  std::uint64_t failures = 0;        // violations (first one in first_error)
  std::uint64_t orderly_closes = 0;  // EOF after a Connection: close response
  std::uint64_t unanswered_eof = 0;  // shutdown: EOF before any byte of the answer
  std::uint64_t late = 0;            // shutdown: refused/reset/EOF for post-signal requests
  std::uint64_t connections = 0;     // connections opened
  double max_latency_ms = 0;
  std::vector<int> held;             // hold mode: the open connections (caller closes them)
  std::uint64_t held_closed = 0;     // hold mode: closed by the server while held
  std::string first_error;
};

inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// A parsed response head.
struct ResponseHead {
  int status = 0;
  std::size_t head_len = 0;
  bool has_length = false;
  std::uint64_t content_length = 0;
  bool close = false;
  std::string content_range;
  std::string etag;
};

// Parses a complete head in `in` (which holds at least the head); false if malformed.
inline bool parse_head(std::string_view in, std::size_t end, ResponseHead& h) {
  h.head_len = end + 4;
  if (end < 12 || in.compare(0, 9, "HTTP/1.1 ") != 0) return false;
  for (int i = 9; i < 12; ++i) {
    if (in[i] < '0' || in[i] > '9') return false;
  }
  h.status = (in[9] - '0') * 100 + (in[10] - '0') * 10 + (in[11] - '0');
  std::size_t pos = in.find("\r\n") + 2;
  while (pos < end + 2) {
    const std::size_t eol = in.find("\r\n", pos);
    const std::string_view line = in.substr(pos, eol - pos);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    if (name == "content-length") {
      if (h.has_length || v.empty()) return false;
      std::uint64_t n = 0;
      for (char c : v) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
      }
      h.has_length = true;
      h.content_length = n;
    } else if (name == "connection") {
      std::string lv(v);
      for (char& c : lv) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      h.close = lv.find("close") != std::string::npos;
    } else if (name == "content-range") {
      h.content_range = std::string(v);
    } else if (name == "etag") {
      h.etag = std::string(v);
    }
    pos = eol + 2;
  }
  return true;
}

// Opens a non-blocking TCP socket (TCP_NODELAY) and starts connecting; -1 with *err set on
// an immediate failure.
inline int start_connect(const std::string& host, std::uint16_t port, int rcvbuf, int* err) {
  testsupport::ConnectOptions o;
  o.nonblocking = true;
  o.nodelay = true;
  o.rcvbuf = rcvbuf;
  return testsupport::tcp_connect(host, port, o, err);
}

// A connected (non-blocking) socket to 127.0.0.1:port, or -1 if the connect did not
// complete within 5 s or failed.
inline int connect_within_5s(std::uint16_t port) {
  int err = 0;
  const int fd = start_connect("127.0.0.1", port, 0, &err);
  if (fd < 0) return -1;
  pollfd p{fd, POLLOUT, 0};
  socklen_t len = sizeof err;
  if (::poll(&p, 1, 5000) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

class LoadClient {
 public:
  explicit LoadClient(LoadOptions o) : o_(std::move(o)), rng_(o_.seed) {}

  LoadResult run() {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    fill_connections();
    std::vector<epoll_event> evs(256);
    while (active_ > 0 || can_start()) {
      const auto now = Clock::now();
      if (now >= o_.deadline) break;
      if (active_ == 0) {  // every connection ended: open more (e.g. after refusals)
        if (!fill_connections()) break;
        continue;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(o_.deadline - now).count();
      const int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()),
                               static_cast<int>(std::min<long long>(left, 50)) + 1);
      for (int i = 0; i < n; ++i) {
        auto* c = static_cast<Conn*>(evs[i].data.ptr);
        on_event(*c, evs[i].events);
      }
      reap();
      fill_connections();
    }
    for (auto& c : conns_) {
      if (c->fd < 0) continue;
      if (c->st == St::kHeld) {
        epoll_ctl(ep_, EPOLL_CTL_DEL, c->fd, nullptr);
        r_.held.push_back(c->fd);
        c->fd = -1;
        continue;
      }
      fail(*c, "unfinished at the deadline (state %d, %zu bytes in)", static_cast<int>(c->st), c->in.size());
      finish(*c);
    }
    conns_.clear();
    ::close(ep_);
    return r_;
  }

 private:
  enum class St { kConnecting, kSending, kReading, kAwaitEof, kHeld, kDone };
  struct Conn {
    int fd = -1;
    St st = St::kConnecting;
    std::string out;
    std::size_t out_off = 0;
    std::string in;
    std::deque<Expect> pending;  // the requests sent and not yet answered, in order
    std::uint64_t done = 0;
    Clock::time_point began;
    std::int64_t sent_ns = 0;
    bool got_byte = false;
  };

  bool stopped() const { return o_.stop != nullptr && o_.stop->load(); }
  // After a refused connect during shutdown the listener is gone: start nothing more.
  bool can_start() const { return !stopped() && !refused_ && r_.started < o_.requests; }
  bool strict(const Conn& c) const {
    if (o_.signal_at == nullptr) return true;
    const std::int64_t s = o_.signal_at->load();
    return s == 0 || (c.sent_ns != 0 && c.sent_ns < s);
  }
  bool signalled() const { return o_.signal_at != nullptr && o_.signal_at->load() != 0; }

  void fail(const Conn&, const char* fmt, ...) __attribute__((format(printf, 3, 4))) {
    ++r_.failures;
    if (!r_.first_error.empty()) return;
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    r_.first_error = buf;
  }

  // Opens connections up to the concurrency while requests remain. False if none could be.
  bool fill_connections() {
    bool any = false;
    while (active_ < o_.connections && can_start() &&
           static_cast<std::uint64_t>(active_) < o_.requests - r_.started) {
      int err = 0;
      const int fd = start_connect(o_.host, o_.port, o_.rcvbuf, &err);
      if (fd < 0) {
        if (err == ECONNREFUSED && signalled()) {
          ++r_.late;
          ++r_.started;  // the request this connection was for is given up
          refused_ = true;
          return any;
        }
        ++r_.started;
        ++r_.failures;
        if (r_.first_error.empty()) r_.first_error = std::string("connect: ") + std::strerror(err);
        return any;
      }
      auto c = std::make_unique<Conn>();
      c->fd = fd;
      epoll_event ev{};
      ev.events = EPOLLOUT | EPOLLIN;
      ev.data.ptr = c.get();
      epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
      conns_.push_back(std::move(c));
      ++active_;
      ++r_.connections;
      any = true;
    }
    return any;
  }

  void set_events(Conn& c, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = &c;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void finish(Conn& c) {
    if (c.fd >= 0) {
      epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
      c.fd = -1;
    }
    if (c.st != St::kHeld) --active_;
    c.st = St::kDone;
  }

  void reap() {
    conns_.erase(std::remove_if(conns_.begin(), conns_.end(),
                                [](const std::unique_ptr<Conn>& c) { return c->st == St::kDone; }),
                 conns_.end());
  }

  void on_event(Conn& c, std::uint32_t events) {
    if (c.st == St::kDone) return;
    if (c.st == St::kConnecting) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        ++r_.started;  // the request this connection was for ends here, in one class
        if (err == ECONNREFUSED && signalled()) {
          // The listener closed: nothing was sent, nothing is owed. A reset here (ECONNRESET)
          // stays a violation: REGRESSION listener_close_resets_handshake (the kernel reset
          // handshakes that completed between the drain's last accept and the close; fixed
          // in c9f74d7 by a drop-all socket filter attached before the drain).
          ++r_.late;
          refused_ = true;
        } else {
          fail(c, "connect: %s", std::strerror(err));
        }
        finish(c);
        return;
      }
      if (!(events & EPOLLOUT)) return;
      next_request(c);
      return;
    }
    if (c.st == St::kSending && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) write_some(c);
    if (c.st != St::kDone && (events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))) read_some(c);
  }

  void next_request(Conn& c) {
    if (!can_start() || c.done >= o_.per_connection) {
      if (o_.hold && c.done > 0) {
        c.st = St::kHeld;
        --active_;
        set_events(c, EPOLLIN | EPOLLRDHUP);
        return;
      }
      finish(c);
      return;
    }
    const std::uint64_t batch = std::min({std::max<std::uint64_t>(o_.pipeline, 1), o_.per_connection - c.done,
                                          o_.requests - r_.started});
    c.out.clear();
    c.out_off = 0;
    c.pending.clear();
    for (std::uint64_t i = 0; i < batch; ++i) {
      Request req = o_.gen(rng_, c.done + i);
      ++r_.started;
      c.out += req.bytes;
      c.pending.push_back(std::move(req.expect));
    }
    c.in.clear();
    c.got_byte = false;
    c.sent_ns = 0;
    c.began = Clock::now();
    c.st = St::kSending;
    set_events(c, EPOLLOUT | EPOLLIN | EPOLLRDHUP);
    write_some(c);
  }

  void write_some(Conn& c) {
    while (c.out_off < c.out.size()) {
      const ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_off += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0 && errno == EINTR) continue;
      // The request was not fully sent: nothing is owed to it after the signal.
      if (signalled()) {
        ++r_.late;
      } else {
        fail(c, "send: %s", std::strerror(errno));
      }
      finish(c);
      return;
    }
    r_.sent += c.pending.size();
    c.sent_ns = now_ns();
    c.st = St::kReading;
    set_events(c, EPOLLIN | EPOLLRDHUP);
  }

  void read_some(Conn& c) {
    char buf[64 * 1024];
    for (;;) {
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        if (c.st == St::kHeld || c.st == St::kAwaitEof) {
          fail(c, "%zd unexpected bytes in state %d", n, static_cast<int>(c.st));
          finish(c);
          return;
        }
        c.got_byte = true;
        c.in.append(buf, static_cast<std::size_t>(n));
        if (!try_response(c)) return;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0 && errno == EINTR) continue;
      on_close(c, n == 0 ? 0 : errno);
      return;
    }
  }

  // EOF (err 0) or an error (ECONNRESET) from recv.
  void on_close(Conn& c, int err) {
    switch (c.st) {
      case St::kAwaitEof:
        ++r_.orderly_closes;  // after a complete Connection: close response
        break;
      case St::kHeld:
        ++r_.held_closed;
        break;
      case St::kReading:
      case St::kSending: {
        // Every request still pending ends in the same class (one, unless pipelined).
        const std::uint64_t k = std::max<std::uint64_t>(c.pending.size(), 1);
        if (c.got_byte) {
          fail(c, "%s after %zu bytes of a response (truncated)", err ? std::strerror(err) : "EOF", c.in.size());
          r_.failures += k - 1;
        } else if (c.st == St::kSending || !strict(c)) {
          r_.late += k;  // the request was not fully sent before the signal
        } else if (err == 0 && o_.signal_at != nullptr && !o_.strict_shutdown) {
          r_.unanswered_eof += k;  // orderly close of a received request during shutdown
        } else {
          fail(c, "%s before any response byte to a request sent in full", err ? std::strerror(err) : "EOF");
          r_.failures += k - 1;
        }
        break;
      }
      default:
        break;
    }
    finish(c);
  }

  // Takes the complete responses in c.in, in request order. Returns false if the connection
  // is done or went on to its next request, true to keep reading.
  bool try_response(Conn& c) {
    for (;;) {
      const std::size_t end = c.in.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (c.in.size() > 16384) {
          fail(c, "response head over 16 KiB");
          finish(c);
        }
        return c.st != St::kDone;
      }
      ResponseHead h;
      if (!parse_head(c.in, end, h)) {
        fail(c, "malformed response head: %.80s", c.in.c_str());
        finish(c);
        return false;
      }
      const Expect& e = c.pending.front();
      const bool no_body = e.head || h.status == 304 || h.status == 204;
      if (!no_body && !h.has_length) {
        fail(c, "status %d without Content-Length", h.status);
        finish(c);
        return false;
      }
      const std::uint64_t body_len = no_body ? 0 : h.content_length;
      const std::size_t total = h.head_len + static_cast<std::size_t>(body_len);
      if (c.in.size() < total) return true;  // more to come
      if (c.in.size() > total && (c.pending.size() == 1 || h.close)) {
        fail(c, "%zu bytes beyond Content-Length %llu", c.in.size() - total, static_cast<unsigned long long>(body_len));
        finish(c);
        return false;
      }
      validate(c, h, std::string_view(c.in).substr(h.head_len, static_cast<std::size_t>(body_len)));
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - c.began).count();
      r_.max_latency_ms = std::max(r_.max_latency_ms, ms);
      ++c.done;
      const bool expect_close = e.expect_close;
      c.pending.pop_front();
      c.in.erase(0, total);
      c.got_byte = !c.in.empty();
      if (h.close) {
        if (!c.pending.empty()) {
          if (!strict(c)) {
            r_.late += c.pending.size();  // the batch was sent after the signal
          } else {
            fail(c, "%zu pipelined requests unanswered after a Connection: close response", c.pending.size());
            r_.failures += c.pending.size() - 1;
          }
          c.pending.clear();
        }
        c.st = St::kAwaitEof;
        return true;  // keep reading: EOF must follow
      }
      if (expect_close) fail(c, "status %d without Connection: close", h.status);
      if (c.pending.empty()) {
        next_request(c);
        return false;
      }
    }
  }

  void validate(Conn& c, const ResponseHead& h, std::string_view body) {
    const Expect& e = c.pending.front();
    if (h.status != e.status) {
      fail(c, "status %d, expected %d", h.status, e.status);
      return;
    }
    if (e.check_body) {
      if (e.head) {
        if (!h.has_length || h.content_length != e.body.size()) {
          fail(c, "HEAD Content-Length %llu, expected %zu", static_cast<unsigned long long>(h.content_length), e.body.size());
          return;
        }
      } else if (body != e.body) {
        fail(c, "status %d body differs from the expected %zu bytes (got %zu)", h.status, e.body.size(), body.size());
        return;
      }
    }
    if (!e.content_range.empty() && h.content_range != e.content_range) {
      fail(c, "Content-Range '%s', expected '%s'", h.content_range.c_str(), e.content_range.c_str());
      return;
    }
    ++r_.complete;
  }

  LoadOptions o_;
  std::mt19937_64 rng_;
  LoadResult r_;
  int ep_ = -1;
  int active_ = 0;
  bool refused_ = false;
  std::vector<std::unique_ptr<Conn>> conns_;
};

// One blocking request on a fresh connection (set-up: ETags, warm-up). Returns the whole
// response text ("" on failure) within the timeout.
inline std::string fetch(std::uint16_t port, const std::string& request,
                         std::chrono::milliseconds timeout = 5s, ResponseHead* head = nullptr) {
  int err = 0;
  const int fd = start_connect("127.0.0.1", port, 0, &err);
  if (fd < 0) return {};
  const auto deadline = Clock::now() + timeout;
  std::string in;
  std::size_t off = 0;
  bool eof = false;
  while (Clock::now() < deadline && !eof) {
    pollfd p{fd, static_cast<short>(off < request.size() ? POLLOUT | POLLIN : POLLIN), 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 1))) <= 0) break;
    if (off < request.size() && (p.revents & POLLOUT)) {
      const ssize_t n = ::send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
      if (n > 0) off += static_cast<std::size_t>(n);
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[65536];
      const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) in.append(buf, static_cast<std::size_t>(n));
      if (n == 0 || (n < 0 && errno != EAGAIN)) eof = true;
    }
    const std::size_t end = in.find("\r\n\r\n");
    if (end != std::string::npos) {
      ResponseHead h;
      if (!parse_head(in, end, h)) break;
      const bool head_req = request.rfind("HEAD ", 0) == 0;
      const std::uint64_t len = head_req || h.status == 304 ? 0 : h.content_length;
      if (in.size() >= h.head_len + len) {
        if (head) *head = h;
        ::close(fd);
        return in;
      }
    }
  }
  ::close(fd);
  return {};
}

// C3 baseline: one warm-up request that must be answered (and contain `body` when given);
// once the server's fd count is back to its idle value (within 5 s), records
// rec.fds_before and rec.rss_before. `Record` is a Summary or a per-part record.
template <typename Record>
void take_baseline(const ChildServer& server, const std::string& warm_up, Record& rec, Failures& f,
                   const std::string& body = "") {
  const int fd_idle = fd_count(server.pid());
  const std::string r = fetch(server.port(), warm_up);
  if (r.empty() || r.find(body) == std::string::npos) f.add("warm-up request failed");
  wait_until(Clock::now() + 5s, [&] { return fd_count(server.pid()) <= fd_idle; });
  rec.fds_before = fd_count(server.pid());
  rec.rss_before = rss_kb(server.pid());
}

// Starts the clients that must keep being served while hostile ones are connected, one
// thread each, until `stop` is set (or 120 s pass): normal[0] keep-alive (2 connections, 50
// requests each), normal[1] a new connection per request with "Connection: close".
// gen(rng, close) makes each request. The caller joins the threads before reading normal.
inline std::vector<std::thread> start_normal_clients(std::uint16_t port, std::uint64_t seed,
                                                     const std::atomic<bool>& stop, std::span<LoadResult, 2> normal,
                                                     std::function<Request(std::mt19937_64&, bool close)> gen) {
  std::vector<std::thread> clients;
  for (int k = 0; k < 2; ++k) {
    clients.emplace_back([=, &stop] {
      LoadOptions o;
      o.port = port;
      o.connections = 2;
      o.requests = 1'000'000;  // bounded by the stop flag and the deadline
      o.per_connection = k == 0 ? 50 : 1;
      o.deadline = Clock::now() + 120s;
      o.stop = &stop;
      o.seed = seed + static_cast<std::uint64_t>(k);
      o.gen = [gen, close = k == 1](std::mt19937_64& rng, std::uint64_t) { return gen(rng, close); };
      normal[static_cast<std::size_t>(k)] = LoadClient(o).run();
    });
  }
  return clients;
}

// Clients that must keep being served while hostile ones (dribblers, slow readers) are
// connected: every request complete and valid, at least one served, each answered within
// bound_ms. Adds their requests to sum; returns the largest latency seen.
inline double expect_normal_clients_served(std::span<const LoadResult> normal, Summary& sum,
                                         Failures& f, double bound_ms, const char* meanwhile) {
  double max_latency = 0;
  for (const LoadResult& r : normal) {
    sum.requests += r.complete;
    max_latency = std::max(max_latency, r.max_latency_ms);
    if (r.failures != 0) f.add("normal client: %llu violations, first: %s", static_cast<unsigned long long>(r.failures), r.first_error.c_str());
    if (r.complete != r.started) f.add("normal client: %llu started, %llu complete", static_cast<unsigned long long>(r.started), static_cast<unsigned long long>(r.complete));
    if (r.complete == 0) f.add("normal client served nothing while %s", meanwhile);
  }
  if (max_latency > bound_ms) f.add("a normal request took %.0f ms (bound %.0f)", max_latency, bound_ms);
  return max_latency;
}

}  // namespace httpower::stress
