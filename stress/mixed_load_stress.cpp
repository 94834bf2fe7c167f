// mixed_load_stress: at least 200k requests at scale 1 (HTTPOWER_STRESS_SCALE, else
// HTTPOWER_TEST_SCALE, else 1) against the httpower binary (child, -t 2): one client thread
// on keep-alive connections (up to 100 requests each, 60 %), one pipelining batches of 10
// on keep-alive connections (20 %; responses matched in request order, R4), and one opening
// a new connection per request (20 %; Connection: close, so the server closes first and
// the TIME_WAITs are its own).
// The mix: GET small (pre-read path) and medium (sendfile path) files, HEAD, single ranges
// (206 + Content-Range), If-None-Match with the file's ETag (304, no body), 404s, malformed
// requests (400, Connection: close, then EOF). Every response is validated byte for byte
// (LoadClient); every request started gets a complete valid response or, after a
// Connection: close response, an orderly close (C2: exact counts).
// C3 / memory: after a warm-up, the server's fd count and RSS are taken; after the load the
// fd count must return to that baseline (deadline), and RSS may grow by at most
// kRssTolerance (8 MiB + 10 %; the sanitizer builds keep freed memory in quarantine or
// shadow, so there the bound is 512 MiB: a gross-leak guard only).
//
// Timing. No check measures time: counts, bytes and order are exact; the 240 s load deadline
// and the 10 s fd deadline are watchdogs against a hang (the load takes seconds, under TSan
// with a CPU hog well under a minute).
#include "load_client.hpp"
#include "stress_common.hpp"

namespace {

using namespace httpower::stress;

constexpr const char* kName = "mixed_load_stress";
constexpr std::size_t kSmall = 1500;
constexpr std::size_t kMedium = 200 * 1024;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr long kRssSlackKb = 512 * 1024;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr long kRssSlackKb = 512 * 1024;
#else
constexpr long kRssSlackKb = 8 * 1024;
#endif
#else
constexpr long kRssSlackKb = 8 * 1024;
#endif

struct Site {
  std::string small, medium, etag;
};

std::string req(const std::string& method, const std::string& path, const std::string& extra) {
  return method + " " + path + " HTTP/1.1\r\nHost: stress\r\nUser-Agent: mixed_load\r\n" + extra + "\r\n";
}

enum class Shape { kKeepAlive, kPipelined, kNewConnection };

Request make_request(const Site& site, std::mt19937_64& rng, Shape shape) {
  const bool new_connection = shape == Shape::kNewConnection;
  const std::string close = new_connection ? "Connection: close\r\n" : "";
  Request r;
  r.expect.expect_close = new_connection;
  // Pipelined batches carry no malformed request: its 400 closes the connection and the
  // rest of the batch is (rightly) never answered.
  const unsigned k = static_cast<unsigned>(rng() % (shape == Shape::kPipelined ? 93 : 100));
  if (k < 30) {
    r.bytes = req("GET", "/small.bin", close);
    r.expect.check_body = true;
    r.expect.body = site.small;
  } else if (k < 40) {
    r.bytes = req("GET", "/medium.bin", close);
    r.expect.check_body = true;
    r.expect.body = site.medium;
  } else if (k < 50) {
    r.bytes = req("HEAD", "/small.bin", close);
    r.expect.head = true;
    r.expect.check_body = true;
    r.expect.body = site.small;
  } else if (k < 65) {
    const std::size_t a = rng() % kMedium;
    const std::size_t b = a + rng() % (kMedium - a);
    r.bytes = req("GET", "/medium.bin", "Range: bytes=" + std::to_string(a) + "-" + std::to_string(b) + "\r\n" + close);
    r.expect.status = 206;
    r.expect.check_body = true;
    r.expect.body = std::string_view(site.medium).substr(a, b - a + 1);
    r.expect.content_range = "bytes " + std::to_string(a) + "-" + std::to_string(b) + "/" + std::to_string(kMedium);
  } else if (k < 80) {
    r.bytes = req("GET", "/small.bin", "If-None-Match: " + site.etag + "\r\n" + close);
    r.expect.status = 304;
  } else if (k < 93) {
    r.bytes = req("GET", "/missing-" + std::to_string(rng() % 1000) + ".html", close);
    r.expect.status = 404;
  } else {
    // A header line without a colon: 400, Connection: close, then the server half-closes.
    r.bytes = "GET /small.bin HTTP/1.1\r\nHost: stress\r\nThisLineHasNoColon\r\n\r\n";
    r.expect.status = 400;
    r.expect.expect_close = true;
  }
  return r;
}

LoadResult drive(const Site& site, std::uint16_t port, std::uint64_t requests, Shape shape,
                 std::uint64_t seed, Clock::time_point deadline) {
  LoadOptions o;
  o.port = port;
  o.connections = shape == Shape::kNewConnection ? 16 : shape == Shape::kPipelined ? 8 : 32;
  o.requests = requests;
  o.per_connection = shape == Shape::kNewConnection ? 1 : 100;
  o.pipeline = shape == Shape::kPipelined ? 10 : 1;
  o.deadline = deadline;
  o.seed = seed;
  o.gen = [&site, shape](std::mt19937_64& rng, std::uint64_t) { return make_request(site, rng, shape); };
  return LoadClient(o).run();
}

void account(const char* what, const LoadResult& r, Failures& f, Summary& s) {
  std::printf("%s: %s: started=%llu complete=%llu orderly_closes=%llu connections=%llu max_latency_ms=%.1f\n",
              kName, what, static_cast<unsigned long long>(r.started), static_cast<unsigned long long>(r.complete),
              static_cast<unsigned long long>(r.orderly_closes), static_cast<unsigned long long>(r.connections),
              r.max_latency_ms);
  s.requests += r.complete;
  if (r.failures != 0) f.add("%s: %llu violations, first: %s", what, static_cast<unsigned long long>(r.failures), r.first_error.c_str());
  // C2, exact: every request started was answered completely and validly.
  if (r.complete != r.started) {
    f.add("%s: %llu requests started, %llu complete valid responses", what,
          static_cast<unsigned long long>(r.started), static_cast<unsigned long long>(r.complete));
  }
}

}  // namespace

int main() {
  Watchdog watchdog(kName, watchdog_limit());
  Failures failures(kName);
  Summary sum{kName};
  const std::uint64_t s = seed(kName);
  TempDir root;
  Site site;
  site.small = root.write_random("small.bin", kSmall, static_cast<std::uint32_t>(s));
  site.medium = root.write_random("medium.bin", kMedium, static_cast<std::uint32_t>(s >> 32));

  ChildServer server({root.path(), "-p", "0", "-t", "2", "--quiet"});
  if (!server.wait_ready()) {
    std::fprintf(stderr, "%s: server did not start\n", kName);
    return 1;
  }
  ResponseHead h;
  if (fetch(server.port(), req("HEAD", "/small.bin", ""), 5s, &h).empty() || h.etag.empty()) {
    std::fprintf(stderr, "%s: no ETag for /small.bin\n", kName);
    return 1;
  }
  site.etag = h.etag;

  const int fd_idle = fd_count(server.pid());  // no connection yet
  const std::uint64_t total = static_cast<std::uint64_t>(scaled(200'000, 2000));
  const auto deadline = Clock::now() + 240s;
  // Warm-up with the same mix: allocator arenas and per-connection buffers reach their
  // working size, so the baseline is the steady state, not the empty process.
  {
    LoadResult w1 = drive(site, server.port(), 2000, Shape::kKeepAlive, s + 1, deadline);
    LoadResult w2 = drive(site, server.port(), 500, Shape::kNewConnection, s + 2, deadline);
    account("warm-up keep-alive", w1, failures, sum);
    account("warm-up new-connection", w2, failures, sum);
  }
  // The warm-up's last connections may still be closing on the server's side.
  if (!wait_until(Clock::now() + 10s, [&] { return fd_count(server.pid()) <= fd_idle; })) {
    failures.add("C3: after the warm-up the server holds %d fds, %d before it", fd_count(server.pid()), fd_idle);
  }
  sum.fds_before = fd_count(server.pid());
  sum.rss_before = rss_kb(server.pid());

  LoadResult ka, pl, nc;
  std::thread t1([&] { nc = drive(site, server.port(), total / 5, Shape::kNewConnection, s + 3, deadline); });
  std::thread t2([&] { pl = drive(site, server.port(), total / 5, Shape::kPipelined, s + 5, deadline); });
  ka = drive(site, server.port(), total - 2 * (total / 5), Shape::kKeepAlive, s + 4, deadline);
  t1.join();
  t2.join();
  account("keep-alive", ka, failures, sum);
  account("pipelined", pl, failures, sum);
  account("new-connection", nc, failures, sum);

  // C3: every connection the load opened is closed (the clients closed theirs or saw EOF).
  expect_fds_back(server, sum, failures, 10s, " after 10 s");
  const long rss_limit = sum.rss_before + sum.rss_before / 10 + kRssSlackKb;
  if (sum.rss_after > rss_limit) failures.add("RSS grew from %ld to %ld kB (limit %ld)", sum.rss_before, sum.rss_after, rss_limit);
  if (!server.running()) failures.add("server exited during the load");
  server.signal(SIGTERM);
  const int status = server.wait_exit(30s);
  if (status != 0) failures.add("exit status %d after SIGTERM (S3)", status);
  sum.failures = failures.count();
  sum.extra = "rss_tolerance_kb=" + std::to_string(rss_limit - sum.rss_before);
  return sum.print();
}
