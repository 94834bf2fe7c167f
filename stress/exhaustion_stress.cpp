// exhaustion_stress: the server at its limits (each part its own child server).
//   A. fd limit: RLIMIT_NOFILE kFdLimit in the child. Holders open keep-alive connections
//      until the server runs out of descriptors; every client gets a complete response or
//      a close (EOF or reset: the server accepts with its spare fd and closes), never a
//      hang. While it is at the limit and new connects keep arriving (one per 20 ms), the
//      server's CPU time over the interval stays below kMaxCpuShare of one core (no busy
//      loop around an EMFILE accept). After the holders close, accept works again: fresh
//      clients are all served. fds return to the baseline.
//   B. queue full: -t 1 --queue 1 and many concurrent new-connection clients: backpressure,
//      nothing lost: every request gets its complete response (exact count).
//   C. --max-connections kMaxConn: holders fill it; extra clients wait in the backlog and
//      get no byte while the holders stay (checked over a window), the acceptor does not
//      spin meanwhile (CPU share), and every extra client is served once the holders close.
#include "load_client.hpp"
#include "stress_common.hpp"

namespace {

using namespace httpower::stress;

constexpr const char* kName = "exhaustion_stress";
constexpr rlim_t kFdLimit = 48;
constexpr double kMaxCpuShare = 0.20;
constexpr int kMaxConn = 8;
const std::string kGet = "GET /small.bin HTTP/1.1\r\nHost: stress\r\n\r\n";
const std::string kGetClose = "GET /small.bin HTTP/1.1\r\nHost: stress\r\nConnection: close\r\n\r\n";

enum class Outcome { kServed, kOtherStatus, kClosed, kTimeout, kBad };

// Sends req and waits for one complete response of `body` (kServed), or EOF/reset before
// any byte (kClosed), until the deadline.
Outcome exchange(int fd, const std::string& req, const std::string& body, Clock::time_point deadline,
                 int* status = nullptr) {
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return Outcome::kClosed;
  std::string in;
  char buf[16384];
  for (;;) {
    const std::size_t end = in.find("\r\n\r\n");
    if (end != std::string::npos) {
      ResponseHead h;
      if (!parse_head(in, end, h)) return Outcome::kBad;
      if (in.size() >= h.head_len + h.content_length) {
        if (status != nullptr) *status = h.status;
        if (h.status == 200 && in.compare(h.head_len, std::string::npos, body) == 0) return Outcome::kServed;
        return h.status != 200 && in.size() == h.head_len + h.content_length ? Outcome::kOtherStatus : Outcome::kBad;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) != 1) return Outcome::kTimeout;
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      in.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EAGAIN) continue;
    return in.empty() ? Outcome::kClosed : Outcome::kBad;
  }
}

std::string cpu_share(pid_t pid, Clock::time_point t0, double cpu0, double* share) {
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  *share = (cpu_seconds(pid) - cpu0) / wall;
  char b[64];
  std::snprintf(b, sizeof b, "%.3f", *share);
  return b;
}

struct Part {
  int fds_before = -1, fds_after = -1;
  long rss_before = -1, rss_after = -1;
};

void finish_part(ChildServer& server, Part& p, Failures& f, const char* part) {
  const std::string when = std::string(" (part ") + part + ")";
  expect_fds_back(server, p, f, 10s, when.c_str());
  expect_clean_stop(server, f, 30s, when.c_str());
}

// A: descriptor exhaustion.
//
// REGRESSION emfile_answers_404 (found by this program, fixed in 03f8aba): when openat2
// failed with EMFILE or ENFILE, FileRoot mapped the errno to kMissing and an existing file
// was answered "404 Not Found" (cacheable, and false). Now a 5xx (503, closing) is the
// answer; a 404 is a failure.
std::string part_fd_limit(const TempDir& root, const std::string& body, Failures& f, std::uint64_t& requests, Part& p) {
  ChildServer server({root.path(), "-p", "0", "-t", "2", "--quiet", "--header-timeout", "3"}, kFdLimit);
  if (!server.wait_ready()) {
    f.add("A: server did not start");
    return "";
  }
  take_baseline(server, kGet, p, f, body);
  std::vector<int> holders;
  int served = 0, closed = 0, emfile_404 = 0, emfile_5xx = 0;
  // Hold every answered connection until the server runs out of descriptors: then the next
  // clients must be closed (spare-fd accept), not left hanging. At most 2 such closes: each
  // costs the acceptor up to 1 s (documented: it waits for a connection to close).
  for (rlim_t i = 0; i < kFdLimit + 8 && closed < 2; ++i) {
    const int fd = connect_within_5s(server.port());
    if (fd < 0) {
      f.add("A: connect failed");
      continue;
    }
    ++requests;
    int status = 0;
    switch (exchange(fd, kGet, body, Clock::now() + 5s, &status)) {
      case Outcome::kServed:
        ++served;
        holders.push_back(fd);
        continue;
      case Outcome::kOtherStatus:
        if (status == 404) {
          ++emfile_404;
          f.add("A: REGRESSION emfile_answers_404: an existing file answered 404 at the fd limit");
        } else if (status >= 500) {
          ++emfile_5xx;
        } else {
          f.add("A: status %d at the fd limit", status);
        }
        holders.push_back(fd);
        continue;
      case Outcome::kClosed:
        ++closed;
        break;
      case Outcome::kTimeout:
        f.add("A: a client at the fd limit got neither a response nor a close within 5 s");
        break;
      case Outcome::kBad:
        f.add("A: invalid or truncated response at the fd limit");
        break;
    }
    ::close(fd);
  }
  if (closed == 0) f.add("A: the fd limit was never reached (%d served)", served);
  // At the limit, connects keep arriving (the listener stays readable): no busy loop.
  const auto t0 = Clock::now();
  const double cpu0 = cpu_seconds(server.pid());
  std::vector<int> knockers;
  const int knocks = 20;
  for (int i = 0; i < knocks; ++i) {
    int err = 0;
    const int fd = start_connect("127.0.0.1", server.port(), 0, &err);
    if (fd >= 0) knockers.push_back(fd);
    ::poll(nullptr, 0, 100);  // pacing: one new connect per 100 ms
  }
  double share = 0;
  const std::string share_s = cpu_share(server.pid(), t0, cpu0, &share);
  if (share > kMaxCpuShare) f.add("A: server CPU %.0f%% of a core while at the fd limit (busy loop?)", share * 100);
  for (int fd : holders) ::close(fd);
  // Descriptors are free again: every knocker is now served or was closed orderly.
  int knock_served = 0, knock_closed = 0;
  for (int fd : knockers) {
    ++requests;
    pollfd w{fd, POLLOUT, 0};
    Outcome o = ::poll(&w, 1, 5000) == 1 ? exchange(fd, kGetClose, body, Clock::now() + 15s) : Outcome::kTimeout;
    if (o == Outcome::kServed) {
      ++knock_served;
    } else if (o == Outcome::kClosed) {
      ++knock_closed;
    } else {
      f.add("A: a client that connected at the fd limit got %s after the limit cleared",
            o == Outcome::kTimeout ? "no answer" : "a bad answer");
    }
    ::close(fd);
  }
  if (!wait_until(Clock::now() + 10s, [&] { return fd_count(server.pid()) <= p.fds_before; })) {
    f.add("A: connections not released after the limit cleared");
  }
  int after = 0;
  for (int i = 0; i < 20; ++i) {
    const int fd = connect_within_5s(server.port());
    ++requests;
    if (fd >= 0 && exchange(fd, kGetClose, body, Clock::now() + 5s) == Outcome::kServed) ++after;
    if (fd >= 0) ::close(fd);
  }
  if (after != 20) f.add("A: after the limit cleared, %d of 20 fresh clients served", after);
  finish_part(server, p, f, "A");
  return "fdlimit_served=" + std::to_string(served) + " fdlimit_closed=" + std::to_string(closed) +
         " emfile_404=" + std::to_string(emfile_404) + " emfile_5xx=" + std::to_string(emfile_5xx) +
         " knockers_served=" + std::to_string(knock_served) + " knockers_closed=" + std::to_string(knock_closed) +
         " fdlimit_cpu_share=" + share_s;
}

// B: -t 1 --queue 1, many concurrent clients.
std::string part_queue_full(const TempDir& root, const std::string& body, std::uint64_t seed, Failures& f,
                            std::uint64_t& requests, Part& p) {
  ChildServer server({root.path(), "-p", "0", "-t", "1", "--queue", "1", "--quiet"});
  if (!server.wait_ready()) {
    f.add("B: server did not start");
    return "";
  }
  take_baseline(server, kGet, p, f, body);
  const int clients = scaled(300, 60);
  LoadOptions o;
  o.port = server.port();
  o.connections = clients;
  o.requests = static_cast<std::uint64_t>(clients) * 4;
  o.per_connection = 1;
  o.deadline = Clock::now() + 60s;
  o.seed = seed;
  o.gen = [&body](std::mt19937_64&, std::uint64_t) {
    Request r;
    r.bytes = kGetClose;
    r.expect.check_body = true;
    r.expect.body = body;
    r.expect.expect_close = true;
    return r;
  };
  const LoadResult r = LoadClient(o).run();
  requests += r.complete;
  if (r.failures != 0) f.add("B: %llu violations, first: %s", static_cast<unsigned long long>(r.failures), r.first_error.c_str());
  if (r.complete != o.requests) f.add("B: %llu of %llu requests answered", static_cast<unsigned long long>(r.complete), static_cast<unsigned long long>(o.requests));
  finish_part(server, p, f, "B");
  char b[96];
  std::snprintf(b, sizeof b, "queue1_clients=%d queue1_max_latency_ms=%.0f", clients, r.max_latency_ms);
  return b;
}

// C: --max-connections.
std::string part_max_connections(const TempDir& root, const std::string& body, Failures& f, std::uint64_t& requests, Part& p) {
  ChildServer server({root.path(), "-p", "0", "-t", "2", "--quiet", "--max-connections", std::to_string(kMaxConn)});
  if (!server.wait_ready()) {
    f.add("C: server did not start");
    return "";
  }
  take_baseline(server, kGet, p, f, body);
  std::vector<int> holders;
  for (int i = 0; i < kMaxConn; ++i) {
    const int fd = connect_within_5s(server.port());
    ++requests;
    if (fd < 0 || exchange(fd, kGet, body, Clock::now() + 5s) != Outcome::kServed) f.add("C: holder not served");
    holders.push_back(fd);
  }
  const int extra = scaled(40, 10);
  std::vector<int> waiting;
  for (int i = 0; i < extra; ++i) {
    const int fd = connect_within_5s(server.port());  // completes: the kernel's backlog
    if (fd < 0 || ::send(fd, kGetClose.data(), kGetClose.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(kGetClose.size())) {
      f.add("C: extra client could not connect and send");
    }
    waiting.push_back(fd);
  }
  // While the holders stay, no extra client may get a byte (a deadline-bounded window).
  const auto t0 = Clock::now();
  const double cpu0 = cpu_seconds(server.pid());
  std::vector<pollfd> pf;
  for (int fd : waiting) pf.push_back({fd, POLLIN, 0});
  const auto window_end = Clock::now() + 1000ms;
  int early = 0;
  while (Clock::now() < window_end) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(window_end - Clock::now()).count();
    if (::poll(pf.data(), pf.size(), static_cast<int>(std::max<long long>(left, 1))) > 0) {
      early = 1;
      break;
    }
  }
  if (early) f.add("C: an extra client was answered while %d connections were open (limit %d)", kMaxConn, kMaxConn);
  double share = 0;
  const std::string share_s = cpu_share(server.pid(), t0, cpu0, &share);
  if (share > kMaxCpuShare) f.add("C: server CPU %.0f%% of a core while at --max-connections", share * 100);
  for (int fd : holders) ::close(fd);
  int served = 0;
  for (int fd : waiting) {
    if (fd < 0) continue;
    // The request was sent already: exchange() with an empty request only reads.
    std::string in;
    const auto deadline = Clock::now() + 10s;
    Outcome o = Outcome::kTimeout;
    char buf[16384];
    for (;;) {
      const std::size_t end = in.find("\r\n\r\n");
      ResponseHead h;
      if (end != std::string::npos && parse_head(in, end, h) && in.size() >= h.head_len + h.content_length) {
        o = h.status == 200 && in.compare(h.head_len, std::string::npos, body) == 0 ? Outcome::kServed : Outcome::kBad;
        break;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      pollfd q{fd, POLLIN, 0};
      if (left <= 0 || ::poll(&q, 1, static_cast<int>(left)) != 1) break;
      const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) {
        o = Outcome::kBad;
        break;
      }
      in.append(buf, static_cast<std::size_t>(n));
    }
    ++requests;
    if (o == Outcome::kServed) ++served;
    ::close(fd);
  }
  if (served != extra) f.add("C: %d of %d clients waiting in the backlog were served after the holders closed", served, extra);
  finish_part(server, p, f, "C");
  return "maxconn_waiting_served=" + std::to_string(served) + " maxconn_cpu_share=" + share_s;
}

}  // namespace

int main() {
  Watchdog watchdog(kName, watchdog_limit());
  Failures failures(kName);
  Summary sum{kName};
  const std::uint64_t s = seed(kName);
  TempDir root;
  const std::string body = root.write_random("small.bin", 2000, static_cast<std::uint32_t>(s));
  Part a, b, c;
  std::string extra = part_fd_limit(root, body, failures, sum.requests, a);
  extra += " " + part_queue_full(root, body, s, failures, sum.requests, b);
  extra += " " + part_max_connections(root, body, failures, sum.requests, c);
  // The summary's fds/RSS are part B's (the most traffic); each part checked its own.
  sum.fds_before = b.fds_before;
  sum.fds_after = b.fds_after;
  sum.rss_before = b.rss_before;
  sum.rss_after = b.rss_after;
  sum.failures = failures.count();
  sum.extra = extra + " fds_A=" + std::to_string(a.fds_before) + "->" + std::to_string(a.fds_after) +
              " fds_C=" + std::to_string(c.fds_before) + "->" + std::to_string(c.fds_after);
  return sum.print();
}
