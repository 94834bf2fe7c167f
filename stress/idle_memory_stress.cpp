// idle_memory_stress: M1, the memory an idle keep-alive connection holds whatever it fetched
// before. For each kind of response (a 1200-byte file, a 64 KiB file, a 3000-entry listing)
// a fresh httpower child (-t 2, --listing, --idle-timeout 120) is warmed up with that
// response on closed connections, then N connections each make one keep-alive request of
// that kind, read the whole response and stay open and idle.
// Checks:
//   - every response is a complete 200 (bodies checked for the files), and the server holds
//     exactly baseline + N fds while they idle;
//   - RSS per idle connection = (server RSS with the N idle - RSS before) / N is at most
//     kBoundBytes for every kind (the figures are printed);
//   - after they close the fd count returns to its baseline (C3) and SIGTERM exits 0.
// A connection that kept its 20 KiB input buffer, its plan's grown buffers or its
// read-ahead would cost 8 KiB (small file) to 560 KiB (listing) here. Under the sanitizers
// (the server is built with them too) freed memory sits in quarantine or shadow, so the
// figures are printed but the bound is not checked.
#include <algorithm>

#include "httpower/testsupport/sanitizers.hpp"
#include "load_client.hpp"
#include "stress_common.hpp"

namespace {

using namespace httpower::stress;

constexpr const char* kName = "idle_memory_stress";
// sizeof(Connection) is 1544 bytes (x86-64) plus the allocator's header, and the poller's
// bookkeeping per parked connection; the rest is slack for RSS noise spread over N.
constexpr double kBoundBytes = 4096;
constexpr int kListingEntries = 3000;

using httpower::testsupport::kSanitized;

struct Kind {
  const char* name;
  std::string path;
  std::string body;  // checked when non-empty
  int connections;
  int warm_up;
  double response_bytes;  // about: the body each response carries
};

// A worker builds a response's transient buffers (a listing's HTML and the plan's copy of it,
// or a file's read-ahead) and frees them, and glibc may keep that memory resident in the
// worker's arena. The warm-up usually touches both workers' arenas, but on a loaded machine
// one worker may have served it all, and the other's arena then grows during the measured
// phase: up to two buffers of a response per worker, shared by all N connections, not held
// by any. It is subtracted before dividing by N (seen: 8.8 KB per connection for 150
// listings of 570 KB under a CPU hog without it; a connection that kept its listing would
// still show 570 KB).
constexpr double kWorkers = 2;

Request get_kind(const Kind& k, bool close) {
  Request r = get_expecting(k.path, k.body, close);
  r.expect.check_body = !k.body.empty();
  return r;
}

// Returns RSS bytes per idle connection after `k`, or -1 on a failure (counted in f).
double measure(const Kind& k, const TempDir& root, std::uint64_t seed, rlim_t limit,
               Failures& f, Summary& sum) {
  const Clock::time_point t0 = Clock::now();
  ChildServer server({root.path(), "-p", "0", "-t", "2", "--quiet", "--listing", "--idle-timeout",
                      "120", "--max-connections", std::to_string(k.connections + 100)},
                     limit);
  if (!server.wait_ready()) {
    f.add("%s: server did not start", k.name);
    return -1;
  }
  const int fd_idle = fd_count(server.pid());
  {  // warm-up: the workers' arenas reach their size for this response
    LoadOptions o;
    o.port = server.port();
    o.connections = 4;
    o.requests = static_cast<std::uint64_t>(k.warm_up);
    o.per_connection = 1;
    o.seed = seed;
    o.gen = [&k](std::mt19937_64&, std::uint64_t) { return get_kind(k, true); };
    const LoadResult w = LoadClient(o).run();
    sum.requests += w.complete;
    if (w.failures != 0 || w.complete != o.requests) f.add("%s warm-up: %s", k.name, w.first_error.c_str());
  }
  if (!wait_until(Clock::now() + 30s, [&] { return fd_count(server.pid()) <= fd_idle; })) {
    f.add("%s: warm-up connections not closed", k.name);
  }
  const int fds_before = fd_count(server.pid());
  const long rss_before = rss_kb(server.pid());

  LoadOptions ho;
  ho.port = server.port();
  ho.connections = 32;
  ho.requests = static_cast<std::uint64_t>(k.connections);
  ho.per_connection = 1;
  ho.hold = true;
  ho.deadline = Clock::now() + 120s;
  ho.seed = seed + 1;
  ho.gen = [&k](std::mt19937_64&, std::uint64_t) { return get_kind(k, false); };
  LoadResult h = LoadClient(ho).run();
  sum.requests += h.complete;
  if (h.failures != 0) f.add("%s: %llu violations, first: %s", k.name, static_cast<unsigned long long>(h.failures), h.first_error.c_str());
  if (static_cast<int>(h.held.size()) != k.connections) f.add("%s: %zu of %d connections held", k.name, h.held.size(), k.connections);
  const int expected = fds_before + static_cast<int>(h.held.size());
  if (!wait_until(Clock::now() + 30s, [&] { return fd_count(server.pid()) == expected; })) {
    f.add("%s: server holds %d fds, expected %d", k.name, fd_count(server.pid()), expected);
  }
  const long rss_idle = rss_kb(server.pid());
  for (int fd : h.held) ::close(fd);
  struct {
    int fds_before = 0, fds_after = 0;
    long rss_before = 0, rss_after = 0;
  } rec;
  rec.fds_before = fds_before;
  expect_fds_back(server, rec, f, 30s, k.name);
  expect_clean_stop(server, f, 60s, k.name);
  sum.fds_before = fds_before;
  sum.fds_after = rec.fds_after;
  sum.rss_before = rss_before;
  sum.rss_after = rec.rss_after;
  if (h.held.empty()) return -1;
  const double transient = kWorkers * 2 * k.response_bytes;
  const double delta = static_cast<double>(rss_idle - rss_before) * 1024.0;
  const double per_conn = std::max(0.0, delta - transient) / static_cast<double>(h.held.size());
  std::printf("%s: %s: idle=%zu rss_kb=%ld->%ld transient_allowance=%.0f bytes_per_idle_conn=%.0f "
              "(bound %.0f) seconds=%.1f\n",
              kName, k.name, h.held.size(), rss_before, rss_idle, transient, per_conn, kBoundBytes,
              std::chrono::duration<double>(Clock::now() - t0).count());
  std::fflush(stdout);
  if (per_conn > kBoundBytes && !kSanitized) {
    f.add("M1: %s: %.0f bytes of RSS per idle connection, bound %.0f", k.name, per_conn, kBoundBytes);
  }
  return per_conn;
}

}  // namespace

int main() {
  Watchdog watchdog(kName, watchdog_limit());
  Failures failures(kName);
  Summary sum{kName};
  const std::uint64_t s = seed(kName);
  const int conns = scaled(2000, 600);
  const rlim_t limit = raise_nofile(static_cast<rlim_t>(conns) + 1000);
  if (static_cast<int>(limit) < conns + 300) {
    std::fprintf(stderr, "%s: RLIMIT_NOFILE %llu is below %d\n", kName, static_cast<unsigned long long>(limit), conns + 300);
    return 1;
  }
  TempDir root;
  const std::string small = root.write_random("small.bin", 1200, static_cast<std::uint32_t>(s));
  const std::string big = root.write_random("big.bin", 64 * 1024, static_cast<std::uint32_t>(s + 1));
  for (int i = 0; i < kListingEntries; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "list/entry-%05d-with-a-longish-name.txt", i);
    root.write(name, "x");
  }
  const Kind kinds[] = {
      {"small file", "/small.bin", small, conns, 64, static_cast<double>(small.size())},
      {"64 KiB file", "/big.bin", big, conns, 64, static_cast<double>(big.size())},
      // Fewer: each listing is 3000 opens and 570 KB; the effect measured is 100x larger.
      // 400 of them spread the transient allowance (2.4 MB) to 6 KB each: a connection that
      // kept even 10 KB of its listing fails here (ConnectionMemory.M1_* checks the exact
      // bound). Under the sanitizers (bound unchecked) a few suffice for the functional checks.
      {"3000-entry listing", "/list/", "", kSanitized ? 30 : std::max(400, conns / 5),
       kSanitized ? 4 : 16, 200.0 * kListingEntries},
  };
  std::string extra;
  for (const Kind& k : kinds) {
    const double per_conn = measure(k, root, s, limit, failures, sum);
    char part[96];
    std::snprintf(part, sizeof part, "%s%s=%.0f", extra.empty() ? "bytes_per_idle_conn:" : " ",
                  k.path.c_str(), per_conn);
    extra += part;
  }
  char bound[48];
  std::snprintf(bound, sizeof bound, " bound=%.0f%s", kBoundBytes, kSanitized ? "(unchecked)" : "");
  extra += bound;
  sum.failures = failures.count();
  sum.extra = extra;
  return sum.print();
}
