#pragma once
// Helpers for the server tests: a blocking HTTP client with a watchdog (every socket read
// has a deadline), the in-process server harness, and the binary of this build as a child
// process. Temporary document roots, the fd count (C3), scale and the child process itself
// are the helpers every test folder shares (testsupport/, target httpower_testing).
// Header-only, tests only.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "httpower/testsupport/child_server.hpp"
#include "httpower/testsupport/net.hpp"
#include "httpower/testsupport/proc.hpp"
#include "httpower/testsupport/scale.hpp"
#include "httpower/testsupport/temp_dir.hpp"
#include "server.hpp"

namespace httpower::test {

using namespace std::chrono_literals;
using TestClock = std::chrono::steady_clock;

using testsupport::fd_count;
using testsupport::random_bytes;
using testsupport::scaled;
using testsupport::TempDir;

// ---------------------------------------------------------------------------------------
// A blocking client. Every receive waits at most until the client's deadline (watchdog).

struct Response {
  int status = 0;
  std::string head;
  std::map<std::string, std::string> fields;  // lower-case names
  std::string body;
  bool complete = false;
  std::string field(const std::string& name) const {
    auto it = fields.find(name);
    return it == fields.end() ? std::string() : it->second;
  }
};

class Client {
 public:
  Client() = default;
  Client(const std::string& host, std::uint16_t port, std::chrono::milliseconds watchdog = 10s) {
    connect_to(host, port, watchdog);
  }
  Client(Client&& o) noexcept
      : fd_(std::exchange(o.fd_, -1)), buf_(std::move(o.buf_)), deadline_(o.deadline_) {}
  Client& operator=(Client&&) = delete;
  ~Client() { close(); }

  bool connect_to(const std::string& host, std::uint16_t port,
                  std::chrono::milliseconds watchdog = 10s, int rcvbuf = 0) {
    deadline_ = TestClock::now() + watchdog;
    testsupport::ConnectOptions o;
    o.rcvbuf = rcvbuf;
    int err = 0;
    fd_ = testsupport::tcp_connect(host, port, o, &err);
    return fd_ >= 0;
  }
  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void set_deadline(std::chrono::milliseconds from_now) { deadline_ = TestClock::now() + from_now; }

  bool send_all(std::string_view s) {
    while (!s.empty()) {
      const ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      s.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // One recv into buf_, waiting until the deadline. >0 bytes, 0 EOF, -1 error/timeout.
  // last_errno() tells ECONNRESET (a reset) from ETIMEDOUT (the watchdog).
  ssize_t fill(std::size_t max = 64 * 1024) {
    pollfd p{fd_, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - TestClock::now());
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      errno_ = ETIMEDOUT;
      return -1;
    }
    char tmp[64 * 1024];
    const ssize_t n = ::recv(fd_, tmp, std::min(max, sizeof tmp), 0);
    if (n < 0) {
      errno_ = errno;
      return -1;
    }
    buf_.append(tmp, static_cast<std::size_t>(n));
    return n;
  }
  int last_errno() const { return errno_; }

  // Reads one response. head_only: a HEAD response (no body whatever Content-Length says).
  std::optional<Response> read_response(bool head_only = false) {
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (fill() <= 0) return std::nullopt;
    }
    Response r;
    r.head = buf_.substr(0, end + 4);
    buf_.erase(0, end + 4);
    if (r.head.size() < 12 || r.head.compare(0, 9, "HTTP/1.1 ") != 0) return std::nullopt;
    r.status = std::atoi(r.head.c_str() + 9);
    std::size_t pos = r.head.find("\r\n") + 2;
    while (pos < r.head.size() - 2) {
      const std::size_t eol = r.head.find("\r\n", pos);
      const std::string line = r.head.substr(pos, eol - pos);
      const std::size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      r.fields[name] = line.substr(v);
      pos = eol + 2;
    }
    std::size_t length = 0;
    const bool no_body = head_only || r.status == 304 || r.status == 204 || r.status < 200;
    if (!no_body && r.fields.count("content-length")) {
      length = std::stoull(r.fields["content-length"]);
    }
    while (buf_.size() < length) {
      if (fill() <= 0) return std::nullopt;
    }
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    r.complete = true;
    return r;
  }

  // Reads until EOF (true) or error/deadline (false); what was read stays in buffered().
  bool read_to_eof() {
    for (;;) {
      const ssize_t n = fill();
      if (n == 0) return true;
      if (n < 0) return false;
    }
  }
  std::string& buffered() { return buf_; }

 private:
  int fd_ = -1;
  std::string buf_;
  TestClock::time_point deadline_{};
  int errno_ = 0;
};

inline std::string get_request(const std::string& path, const std::string& extra = "",
                               const std::string& method = "GET") {
  return method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n" + extra + "\r\n";
}

inline std::size_t count_occurrences(const std::string& s, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

// ---------------------------------------------------------------------------------------
// The in-process server: start() binds port 0; run() on its own thread; stop() joins.

class ServerHarness {
 public:
  explicit ServerHarness(Config c) {
    c.port = 0;
    if (c.bind.empty()) c.bind = {"127.0.0.1"};
    c.access_log.clear();
    server_ = std::make_unique<Server>(std::move(c));
  }
  ~ServerHarness() { stop(); }
  void start() {
    server_->start();
    thread_ = std::thread([this] { exit_status_ = server_->run(); });
  }
  int stop() {
    if (thread_.joinable()) {
      server_->request_stop();
      thread_.join();
    }
    return exit_status_;
  }
  Server& server() { return *server_; }
  std::uint16_t port() const { return server_->port(); }
  Client client(std::chrono::milliseconds watchdog = 10s) {
    return Client(server_->config().bind.front() == "::1" ? "::1" : "127.0.0.1", port(), watchdog);
  }
  // One request on a fresh connection.
  std::optional<Response> get(const std::string& path, const std::string& extra = "",
                              const std::string& method = "GET") {
    Client c = client();
    if (!c.send_all(get_request(path, extra, method))) return std::nullopt;
    return c.read_response(method == "HEAD");
  }

 private:
  std::unique_ptr<Server> server_;
  std::thread thread_;
  int exit_status_ = -1;
};

inline Config test_config(const std::string& root, unsigned threads = 2, std::size_t queue = 16) {
  Config c;
  c.root = root;
  c.threads = threads;
  c.queue_capacity = queue;
  c.access_log.clear();
  return c;
}

// ---------------------------------------------------------------------------------------
// The binary of this build as a child process (testsupport/child_server.hpp), stderr captured
// by default so that the CLI tests can read the error line; every wait defaults to 10 s.

class ChildServer : public testsupport::ChildServer {
 public:
  explicit ChildServer(std::vector<std::string> args, bool capture_stderr = true, rlim_t max_fds = 0)
      : testsupport::ChildServer(options(capture_stderr, max_fds), std::move(args)) {}

 private:
  static testsupport::ChildOptions options(bool capture_stderr, rlim_t max_fds) {
    testsupport::ChildOptions o;
    o.binary = HTTPOWER_BINARY;
    o.capture_stderr = capture_stderr;
    o.max_fds = max_fds;
    o.timeout = 10s;
    return o;
  }
};

// stderr without the line a server started as root prints when it has no --user (tests
// run as root in CI and as anyone elsewhere; the line itself is checked by ops_test.sh).
inline std::string without_root_warning(std::string err) {
  const std::string line = "httpower: warning: running as root";
  const std::size_t at = err.find(line);
  if (at != std::string::npos) err.erase(at, err.find('\n', at) + 1 - at);
  return err;
}

// True when nothing listens on 127.0.0.1:port any more (connect refused).
inline bool connect_refused(std::uint16_t port, const std::string& host = "127.0.0.1") {
  Client c;
  return !c.connect_to(host, port, 2s);
}

}  // namespace httpower::test
