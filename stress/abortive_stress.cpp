// abortive_stress: hundreds of clients that leave badly, against the httpower binary (child,
// -t 2), from 4 client threads, each client one of (seeded):
//   kResetMidDownload    GET a 16 MiB file, read a random part of it, then SO_LINGER 0 and
//                        close (RST) while the server is in sendfile or parked for write;
//   kResetAfterRequest   send a request and reset at once, before any response byte;
//   kResetWhileIdle      one complete keep-alive exchange, then reset (the poller holds it);
//   kHalfCloseSmall      send a request, shutdown(SHUT_WR): the server must still answer
//                        completely (validated byte for byte) and then close orderly (EOF),
//                        or close orderly without answering; a reset is a violation;
//   kHalfCloseLarge      the same for a 16 MiB download (sendfile).
// Then: the server is still running (no SIGPIPE: sendfile has no MSG_NOSIGNAL), a normal
// request is answered, the fd count returns to its baseline within a deadline (C3), and
// SIGTERM gives exit status 0.
//
// Timing. No check measures time: the client's reads have a kClientTimeout deadline and the
// fd count a 15 s one, both watchdogs against a hang (a correct server answers or closes in
// milliseconds, and sees each reset on its next event).
#include "load_client.hpp"
#include "stress_common.hpp"

namespace {

using namespace httpower::stress;

constexpr const char* kName = "abortive_stress";
constexpr int kClients = 600;
constexpr std::uint64_t kLarge = 16ull << 20;
constexpr auto kClientTimeout = 20s;

enum Kind { kResetMidDownload, kResetAfterRequest, kResetWhileIdle, kHalfCloseSmall, kHalfCloseLarge, kKinds };
const char* const kKindNames[kKinds] = {"reset_mid_download", "reset_after_request", "reset_while_idle",
                                        "half_close_small", "half_close_large"};

bool send_all(int fd, std::string_view s) {
  while (!s.empty()) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 5000) != 1) return false;
    const ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Reads until `limit` bytes, EOF (returns 0) or error (returns errno); -1 on the deadline.
int read_into(int fd, std::string& into, std::size_t limit, Clock::time_point deadline, bool keep = true) {
  char buf[65536];
  std::size_t total = into.size();
  while (total < limit) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) != 1) return -1;
    const ssize_t n = ::recv(fd, buf, std::min(sizeof buf, limit - total), MSG_DONTWAIT);
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EAGAIN) continue;
      return errno;
    }
    total += static_cast<std::size_t>(n);
    if (keep) into.append(buf, static_cast<std::size_t>(n));
  }
  return -2;  // limit reached
}

void reset_close(int fd) {
  const linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

// Checks a half-closed exchange: a complete response with exactly `body` then EOF, or EOF
// with nothing. Returns an error description, or "" if fine.
std::string check_half_close(int fd, std::string_view body_expected, std::uint64_t body_len, bool zeros,
                             std::uint64_t& answered) {
  const auto deadline = Clock::now() + kClientTimeout;
  std::string in;
  const int r = read_into(fd, in, 64 * 1024, deadline);
  if (r == 0 && in.empty()) return "";  // orderly close without an answer
  const std::size_t end = in.find("\r\n\r\n");
  ResponseHead h;
  if (end == std::string::npos || !parse_head(in, end, h)) return "no complete response head (rc " + std::to_string(r) + ")";
  if (h.status != 200 || h.content_length != body_len) return "status " + std::to_string(h.status) + " length " + std::to_string(h.content_length);
  std::string body = in.substr(h.head_len);
  std::uint64_t got = body.size();
  bool bad = zeros ? body.find_first_not_of('\0') != std::string::npos : false;
  int rc = r;
  if (rc == -2) {  // more to read
    char buf[65536];
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) != 1) {
        rc = -1;
        break;
      }
      const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0) {
        rc = 0;
        break;
      }
      if (n < 0) {
        if (errno == EAGAIN) continue;
        rc = errno;
        break;
      }
      if (zeros) {
        for (ssize_t i = 0; i < n; ++i) bad = bad || buf[i] != 0;
      } else {
        body.append(buf, static_cast<std::size_t>(n));
      }
      got += static_cast<std::uint64_t>(n);
    }
  }
  if (got != body_len) return "body " + std::to_string(got) + " of " + std::to_string(body_len) + " bytes (rc " + std::to_string(rc) + ")";
  if (rc != 0) return "no EOF after the response (rc " + std::to_string(rc) + ")";
  if (bad || (!zeros && body != body_expected)) return "body bytes differ";
  ++answered;
  return "";
}

struct Counts {
  std::uint64_t by_kind[kKinds] = {};
  std::uint64_t answered = 0;  // half-close clients answered completely
  std::uint64_t requests = 0;
};

void client(std::uint16_t port, const std::string& small, std::uint64_t seed, int n, Counts& c, Failures& f) {
  std::mt19937_64 rng(seed);
  const std::string get_large = "GET /large.bin HTTP/1.1\r\nHost: stress\r\n\r\n";
  const std::string get_small = "GET /small.bin HTTP/1.1\r\nHost: stress\r\n\r\n";
  for (int i = 0; i < n; ++i) {
    const Kind kind = static_cast<Kind>(rng() % kKinds);
    const int fd = connect_within_5s(port);
    if (fd < 0) {
      f.add("connect failed");
      continue;
    }
    ++c.by_kind[kind];
    ++c.requests;
    std::string in;
    switch (kind) {
      case kResetMidDownload: {
        if (!send_all(fd, get_large)) f.add("send failed");
        const std::size_t want = 1 + rng() % (4u << 20);
        const int r = read_into(fd, in, want, Clock::now() + kClientTimeout, false);
        if (r != -2) f.add("reset_mid_download: read ended early (rc %d)", r);
        reset_close(fd);
        break;
      }
      case kResetAfterRequest:
        if (!send_all(fd, rng() % 2 ? get_large : get_small)) f.add("send failed");
        reset_close(fd);
        break;
      case kResetWhileIdle: {
        if (!send_all(fd, get_small)) f.add("send failed");
        const auto deadline = Clock::now() + kClientTimeout;
        for (;;) {
          const std::size_t end = in.find("\r\n\r\n");
          if (end != std::string::npos && in.size() >= end + 4 + small.size()) break;
          if (read_into(fd, in, in.size() + 1, deadline) != -2) break;  // one byte at least
        }
        if (in.size() < small.size() || in.compare(in.size() - small.size(), small.size(), small) != 0) {
          f.add("reset_while_idle: response incomplete (%zu bytes)", in.size());
        }
        reset_close(fd);
        break;
      }
      case kHalfCloseSmall:
      case kHalfCloseLarge: {
        const bool large = kind == kHalfCloseLarge;
        if (!send_all(fd, large ? get_large : get_small)) f.add("send failed");
        ::shutdown(fd, SHUT_WR);
        const std::string e = check_half_close(fd, small, large ? kLarge : small.size(), large, c.answered);
        if (!e.empty()) f.add("%s: %s", kKindNames[kind], e.c_str());
        ::close(fd);
        break;
      }
      default:
        break;
    }
  }
}

}  // namespace

int main() {
  Watchdog watchdog(kName, watchdog_limit());
  Failures failures(kName);
  Summary sum{kName};
  const std::uint64_t s = seed(kName);
  TempDir root;
  const std::string small = root.write_random("small.bin", 5000, static_cast<std::uint32_t>(s));
  root.write_sparse("large.bin", kLarge);
  ChildServer server({root.path(), "-p", "0", "-t", "2", "--quiet"});
  if (!server.wait_ready()) {
    std::fprintf(stderr, "%s: server did not start\n", kName);
    return 1;
  }
  take_baseline(server, "GET /small.bin HTTP/1.1\r\nHost: x\r\n\r\n", sum, failures);

  const int n = scaled(kClients, 50);
  constexpr int kThreads = 4;
  Counts counts[kThreads];
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      client(server.port(), small, s + static_cast<std::uint64_t>(t), n / kThreads, counts[t], failures);
    });
  }
  for (auto& t : threads) t.join();

  Counts total;
  for (const Counts& c : counts) {
    for (int k = 0; k < kKinds; ++k) total.by_kind[k] += c.by_kind[k];
    total.answered += c.answered;
    total.requests += c.requests;
  }
  if (!server.running()) failures.add("the server died (SIGPIPE from sendfile to a reset peer?)");
  ResponseHead h;
  if (fetch(server.port(), "GET /small.bin HTTP/1.1\r\nHost: x\r\n\r\n", 5s, &h).empty() || h.status != 200) {
    failures.add("a normal request after the aborts was not answered");
  }
  // C3: every aborted connection is closed by the server (a deadline, not a sleep).
  expect_fds_back(server, sum, failures, 15s, " after 15 s");
  expect_clean_stop(server, failures, 30s);
  sum.requests = total.requests + 1;
  sum.failures = failures.count();
  std::string extra;
  for (int k = 0; k < kKinds; ++k) extra += std::string(kKindNames[k]) + "=" + std::to_string(total.by_kind[k]) + " ";
  extra += "half_close_answered=" + std::to_string(total.answered);
  sum.extra = extra;
  return sum.print();
}
