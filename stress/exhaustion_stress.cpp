// exhaustion_stress: the server at its limits (each part its own child server).
//   A. fd limit, reached deterministically: RLIMIT_NOFILE kFdLimit in the child, and header
//      and idle timeouts far longer than the run, so the server closes nothing by itself.
//      The program opens keep-alive connections that are served (one server fd each), then
//      connections that send nothing, and after each one waits until the server's own
//      /proc/<pid>/fd shows it, until the server holds exactly its RLIMIT_NOFILE. There: a
//      held connection asking for an existing file gets a 5xx or a 200, never a false 404
//      (regression emfile_answers_404); new clients, one at a time, each get a bounded answer,
//      an orderly close (EOF or reset: the spare-fd accept) or a 503, and the server is back
//      at its limit after each; while 20 more connects arrive (one per 100 ms) the server's
//      CPU time stays below kMaxCpuShare of one core (no busy loop around EMFILE). After the
//      held connections close, each of those 20 is served or was refused (close or 503),
//      the fds return to the baseline, and 20 fresh clients are all served.
//   B. queue full: -t 1 --queue 1 and many concurrent new-connection clients: backpressure,
//      nothing lost: every request gets its complete response (exact count).
//   C. --max-connections kMaxConn: holders fill it; extra clients wait in the backlog and
//      get no byte while the holders stay (checked over a window), the acceptor does not
//      spin meanwhile (CPU share), and every extra client is served once the holders close.
//
// Timing. No check waits for a race to go one way: each state (the limit reached, the spare
// descriptor retaken, the fds back) is read from the server's /proc and awaited with a
// deadline that is only a watchdog (30 s; a correct server gets there as soon as its threads
// run). The checks that measure time, and why a correct server passes them on a loaded
// machine:
//   - A, C: server CPU below 20 % of a core while at a limit. A correct server makes a few
//     system calls per knock and otherwise sleeps in poll/epoll_wait; load can only lower
//     its share (less CPU for it, the same or a longer wall interval). A busy loop around
//     EMFILE or the connection cap takes a whole core.
//   - A: "no answer within 30 s" is a hang: a correct server refuses within its 1 s
//     acceptor wait plus scheduling delay.
//   - B: all requests answered before the load client's 60 s deadline: they need well under
//     a second of server time; the deadline only ends a hung run.
//   - C: no byte for a waiting client during a 1 s window while the holders stay: a correct
//     server sends none however it is scheduled; load can only hide a defect from this
//     window, never fail a correct server.
#include <dirent.h>

#include <fstream>

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

// A: descriptor exhaustion, reached deterministically: the program opens connections and
// reads the server's own /proc/<pid>/fd until it holds exactly its RLIMIT_NOFILE, then checks
// what happens there. Nothing depends on how fast the server or this program runs.
struct FdLimit {
  ChildServer& server;
  const std::string& body;
  Failures& f;
  std::uint64_t& requests;
  long limit = -1;          // the server's RLIMIT_NOFILE (/proc/<pid>/limits)
  std::vector<int> served;  // keep-alive connections that got a 200 and stay open
  std::vector<int> silent;  // connections that sent nothing (the server holds them)
  std::size_t filled_served = 0, filled_silent = 0;  // how the limit was reached
  int held_status = 0, refused_closed = 0, refused_503 = 0;
};

// The soft "Max open files" of pid; -1 if unknown.
long nofile_limit(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max open files", 0) == 0) return std::atol(line.c_str() + 14);
  }
  return -1;
}

// Open descriptors of pid numbered below limit: the ones that count for EMFILE. A descriptor
// the server inherited above the limit (from whatever started this program) takes no slot.
long fds_below(pid_t pid, long limit) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return -1;
  long n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.' && std::atol(e->d_name) < limit) ++n;
  }
  closedir(d);
  return n;
}

bool readable_now(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

// The server's descriptors that count against its limit.
long used(const FdLimit& a) { return fds_below(a.server.pid(), a.limit); }

// Waits until the server's fd count is exactly n (the deadline is a watchdog: a correct
// server gets there in microseconds once its threads run).
bool server_fds_reach(FdLimit& a, long n) {
  return wait_until(Clock::now() + 30s, [&] { return used(a) == n; });
}

// Fills the server's descriptor table: keep-alive clients that are served (each takes one
// fd; below limit - 1 the file's own fd always fits) up to limit - 2, then silent connections
// (no request, so no file to open) up to the limit, each confirmed in /proc before the next.
bool fill_to_limit(FdLimit& a) {
  for (long i = 0; i < a.limit && used(a) < a.limit - 2; ++i) {
    const long before = used(a);
    const int fd = connect_within_5s(a.server.port());
    ++a.requests;
    const Outcome o = fd < 0 ? Outcome::kClosed : exchange(fd, kGet, a.body, Clock::now() + 30s);
    if (fd >= 0) a.served.push_back(fd);
    if (o != Outcome::kServed) {
      a.f.add("A: a client was not served while the server held %ld of %ld fds", before, a.limit);
      return false;
    }
    if (!server_fds_reach(a, before + 1)) {
      a.f.add("A: server fd count %ld after serving a held connection, expected %ld", used(a), before + 1);
      return false;
    }
  }
  // Exactly the free slots, counted once while the server is still below its limit: once the
  // last slot is taken, the acceptor's next accept4 fails with EMFILE even with an empty
  // backlog and it lends out its spare descriptor for a moment (one fewer in /proc), so a
  // count taken then would add a client too many.
  const long free_slots = a.limit - used(a);
  for (long i = 0; i < free_slots && i < 8; ++i) {
    const long expect = a.limit - free_slots + i + 1;
    const int fd = connect_within_5s(a.server.port());
    if (fd < 0) break;
    a.silent.push_back(fd);
    if (!wait_until(Clock::now() + 30s, [&] { return used(a) == expect || readable_now(fd); })) break;
  }
  a.filled_served = a.served.size();
  a.filled_silent = a.silent.size();
  if (server_fds_reach(a, a.limit)) return true;
  a.f.add("A: the fd limit was never reached (server holds %ld of %ld fds; %zu served and %zu silent clients)",
          used(a), a.limit, a.served.size(), a.silent.size());
  return false;
}

// At the limit a held keep-alive connection asks for an existing file: opening it fails with
// EMFILE. The answer is a 5xx (or a 200 if the server found a descriptor), never a false 404.
//
// REGRESSION emfile_answers_404 (found by this program, fixed in 03f8aba): when openat2
// failed with EMFILE or ENFILE, FileRoot mapped the errno to kMissing and an existing file
// was answered "404 Not Found" (cacheable, and false).
void request_at_limit(FdLimit& a) {
  const int fd = a.served.back();
  a.served.pop_back();
  ++a.requests;
  const Outcome o = exchange(fd, kGet, a.body, Clock::now() + 30s, &a.held_status);
  if (o == Outcome::kOtherStatus && a.held_status == 404) {
    a.f.add("A: REGRESSION emfile_answers_404: an existing file answered 404 at the fd limit");
  } else if (o == Outcome::kOtherStatus && a.held_status < 500) {
    a.f.add("A: status %d for an existing file at the fd limit", a.held_status);
  } else if (o != Outcome::kServed && o != Outcome::kOtherStatus) {
    a.f.add("A: a held connection asking for a file at the fd limit got %s",
            o == Outcome::kTimeout ? "no answer within 30 s" : "an invalid answer or a close");
  }
  // Closing it frees one fd; a silent connection takes it back, so the server is at its
  // limit again before the next step.
  ::close(fd);
  const int refill = connect_within_5s(a.server.port());
  if (refill >= 0) a.silent.push_back(refill);
  if (!server_fds_reach(a, a.limit)) a.f.add("A: the server did not return to its fd limit after a close");
}

// New clients while the server holds every fd it may open: each gets a bounded answer, an
// orderly close (EOF or reset: the spare-descriptor accept) or a 503, one after the other,
// and the server is back at its limit after each (it retook its spare).
void knock_at_limit(FdLimit& a, int knocks) {
  for (int i = 0; i < knocks; ++i) {
    const int fd = connect_within_5s(a.server.port());
    ++a.requests;
    int status = 0;
    const Outcome o = fd < 0 ? Outcome::kClosed : exchange(fd, kGet, a.body, Clock::now() + 30s, &status);
    if (o == Outcome::kClosed) {
      ++a.refused_closed;
    } else if (o == Outcome::kOtherStatus && status == 503) {
      ++a.refused_503;
    } else if (o == Outcome::kServed) {
      a.f.add("A: a new client was served while the server held all %ld fds", a.limit);
    } else {
      a.f.add("A: a new client at the fd limit got %s", o == Outcome::kTimeout ? "no answer within 30 s (a hang)"
                                                                               : "neither a close nor a 503");
      ::close(fd);
      return;  // one hang is the verdict; more would only cost 30 s each
    }
    if (fd >= 0) ::close(fd);
    if (!server_fds_reach(a, a.limit)) a.f.add("A: the server did not return to its fd limit after refusing a client");
  }
}

// While at the limit, connects keep arriving (the listener stays readable): the server's CPU
// time over the interval stays below kMaxCpuShare of one core (no busy loop around EMFILE).
// These knockers stay connected; they are answered after the release.
std::vector<int> knockers_cpu(FdLimit& a, std::string& share_s) {
  const auto t0 = Clock::now();
  const double cpu0 = cpu_seconds(a.server.pid());
  std::vector<int> knockers;
  for (int i = 0; i < 20; ++i) {
    int err = 0;
    const int fd = start_connect("127.0.0.1", a.server.port(), 0, &err);
    if (fd >= 0) knockers.push_back(fd);
    ::poll(nullptr, 0, 100);  // pacing: one new connect per 100 ms
  }
  double share = 0;
  share_s = cpu_share(a.server.pid(), t0, cpu0, &share);
  if (share > kMaxCpuShare) a.f.add("A: server CPU %.0f%% of a core while at the fd limit (busy loop?)", share * 100);
  return knockers;
}

// After the release every knocker is served, or was refused (close or 503) while the server
// was at the limit; none is left without an answer.
void answer_knockers(FdLimit& a, const std::vector<int>& knockers, int& served, int& refused) {
  for (int fd : knockers) {
    ++a.requests;
    pollfd w{fd, POLLOUT, 0};
    int status = 0;
    const Outcome o =
        ::poll(&w, 1, 30000) == 1 ? exchange(fd, kGetClose, a.body, Clock::now() + 30s, &status) : Outcome::kTimeout;
    if (o == Outcome::kServed) {
      ++served;
    } else if (o == Outcome::kClosed || (o == Outcome::kOtherStatus && status == 503)) {
      ++refused;
    } else {
      a.f.add("A: a client that connected at the fd limit got %s after the limit cleared",
              o == Outcome::kTimeout ? "no answer" : "a bad answer");
    }
    ::close(fd);
  }
}

std::string part_fd_limit(const TempDir& root, const std::string& body, Failures& f, std::uint64_t& requests, Part& p) {
  // Header and idle timeouts far beyond the program's run: no connection the program holds
  // is closed by a timer, so the fd count moves only when the program acts.
  // --max-connections above what 48 descriptors allow: the default would keep the server
  // below its fd limit (it leaves a descriptor per connection for files), and part A is about
  // what happens at the limit.
  ChildServer server({root.path(), "-p", "0", "-t", "2", "--quiet", "--header-timeout", "600",
                      "--idle-timeout", "600", "--max-connections", "10000"},
                     kFdLimit);
  if (!server.wait_ready()) {
    f.add("A: server did not start");
    return "";
  }
  take_baseline(server, kGet, p, f, body);
  FdLimit a{server, body, f, requests, -1, {}, {}};
  a.limit = nofile_limit(server.pid());
  const bool room = a.limit > 0 && used(a) + 4 < a.limit;
  if (!room) f.add("A: server fd limit %ld, %ld fds in use: no room to test", a.limit, used(a));
  std::string share_s = "-";
  std::vector<int> knockers;
  if (room && fill_to_limit(a)) {
    request_at_limit(a);
    knock_at_limit(a, 3);
    knockers = knockers_cpu(a, share_s);
  }
  for (int fd : a.served) ::close(fd);
  for (int fd : a.silent) ::close(fd);
  int knock_served = 0, knock_refused = 0;
  answer_knockers(a, knockers, knock_served, knock_refused);
  if (!wait_until(Clock::now() + 30s, [&] { return fd_count(server.pid()) <= p.fds_before; })) {
    f.add("A: connections not released after the limit cleared (server holds %d fds, baseline %d)",
          fd_count(server.pid()), p.fds_before);
  }
  int after = 0;
  for (int i = 0; i < 20; ++i) {
    const int fd = connect_within_5s(server.port());
    ++requests;
    if (fd >= 0 && exchange(fd, kGetClose, body, Clock::now() + 30s) == Outcome::kServed) ++after;
    if (fd >= 0) ::close(fd);
  }
  if (after != 20) f.add("A: after the limit cleared, %d of 20 fresh clients served", after);
  finish_part(server, p, f, "A");
  return "fdlimit=" + std::to_string(a.limit) + " fdlimit_held=" + std::to_string(a.filled_served) + "+" +
         std::to_string(a.filled_silent) + " fdlimit_file_status=" + std::to_string(a.held_status) +
         " fdlimit_refused=" + std::to_string(a.refused_closed) + "close+" + std::to_string(a.refused_503) +
         "x503 knockers_served=" + std::to_string(knock_served) + " knockers_refused=" + std::to_string(knock_refused) +
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
