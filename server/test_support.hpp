#pragma once
// Helpers for the server tests: temporary document roots, a blocking HTTP client with a
// watchdog (every socket read has a deadline), the in-process server harness, the child
// process harness, and the fd-count check (C3). Header-only, tests only.

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

#include "server.hpp"

namespace httpower::test {

using namespace std::chrono_literals;
using TestClock = std::chrono::steady_clock;

inline double scale() {
  const char* s = std::getenv("HTTPOWER_TEST_SCALE");
  const double v = s != nullptr ? std::atof(s) : 1.0;
  return v > 0 ? v : 1.0;
}
inline int scaled(int n, int min = 1) {
  const int v = static_cast<int>(n * scale());
  return v < min ? min : v;
}

inline int fd_count() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n - 1;  // the DIR's own fd
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "httpower-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& rel) const { return path_ + "/" + rel; }
  void write(const std::string& rel, const std::string& content) const {
    std::filesystem::create_directories(std::filesystem::path(file(rel)).parent_path());
    std::ofstream(file(rel), std::ios::binary) << content;
  }
  void mkdir(const std::string& rel) const { std::filesystem::create_directories(file(rel)); }

 private:
  std::string path_;
};

inline std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

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
    const bool v6 = host.find(':') != std::string::npos;
    fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rcvbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (v6) {
      auto& a = reinterpret_cast<sockaddr_in6&>(ss);
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(port);
      inet_pton(AF_INET6, host.c_str(), &a.sin6_addr);
      len = sizeof a;
    } else {
      auto& a = reinterpret_cast<sockaddr_in&>(ss);
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      inet_pton(AF_INET, host.c_str(), &a.sin_addr);
      len = sizeof a;
    }
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      close();
      return false;
    }
    return true;
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
    if (c.bind.empty()) c.bind = "127.0.0.1";
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
    return Client(server_->config().bind == "::1" ? "::1" : "127.0.0.1", port(), watchdog);
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
// The binary as a child process. stdout is a pipe: the start-up line gives the port.

class ChildServer {
 public:
  explicit ChildServer(std::vector<std::string> args, bool capture_stderr = true,
                       rlim_t max_fds = 0) {
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      if (capture_stderr) dup2(err[1], 2);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      if (max_fds > 0) {
        rlimit lim{max_fds, max_fds};
        setrlimit(RLIMIT_NOFILE, &lim);
      }
      std::vector<char*> argv;
      static std::string bin = HTTPOWER_BINARY;
      argv.push_back(bin.data());
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }
  ~ChildServer() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
    if (err_ >= 0) ::close(err_);
  }
  pid_t pid() const { return pid_; }

  // Reads one line of stdout within the deadline.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = TestClock::now() + timeout;
    for (;;) {
      const std::size_t nl = out_buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = out_buf_.substr(0, nl);
        out_buf_.erase(0, nl + 1);
        return line;
      }
      if (!read_some(out_, out_buf_, deadline)) return std::nullopt;
    }
  }
  // The whole of stderr until EOF (the child exited), within the deadline.
  std::string read_stderr(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = TestClock::now() + timeout;
    std::string s;
    while (read_some(err_, s, deadline)) {
    }
    return s;
  }
  // Port from "httpower: serving ROOT on http://HOST:PORT/ (N workers)".
  std::optional<std::uint16_t> wait_ready(std::string* line_out = nullptr) {
    auto line = read_line();
    if (!line) return std::nullopt;
    if (line_out) *line_out = *line;
    const std::size_t slash = line->rfind("/ (");
    const std::size_t colon = line->rfind(':', slash);
    if (slash == std::string::npos || colon == std::string::npos) return std::nullopt;
    return static_cast<std::uint16_t>(std::stoi(line->substr(colon + 1, slash - colon - 1)));
  }
  void signal(int sig) { kill(pid_, sig); }
  // Exit status (or 128 + signal), or -1 if it did not exit within the deadline. Waits on
  // a pidfd (readable when the child exits): an event, not a polling loop.
  int wait_exit(std::chrono::milliseconds timeout = 10s) {
    if (reaped_) return status_;
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd < 0) return -1;
    pollfd p{pidfd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
    ::close(pidfd);
    if (ready <= 0) return -1;
    int st = 0;
    if (waitpid(pid_, &st, 0) != pid_) return -1;
    reaped_ = true;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return status_;
  }

 private:
  static bool read_some(int fd, std::string& into, TestClock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - TestClock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char tmp[4096];
    const ssize_t n = ::read(fd, tmp, sizeof tmp);
    if (n <= 0) return false;
    into.append(tmp, static_cast<std::size_t>(n));
    return true;
  }
  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  std::string out_buf_;
  bool reaped_ = false;
  int status_ = -1;
};

// True when nothing listens on 127.0.0.1:port any more (connect refused).
inline bool connect_refused(std::uint16_t port, const std::string& host = "127.0.0.1") {
  Client c;
  return !c.connect_to(host, port, 2s);
}

}  // namespace httpower::test
