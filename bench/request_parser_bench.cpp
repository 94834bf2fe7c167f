// RequestParser vs http-parser 2.9 (Debian's libhttp-parser, the parser Node.js used until
// v12), per request head. Three heads: a browser GET (Firefox-like, ~500 bytes, 12 fields),
// a curl GET and a minimal wrk GET. Both sides do the work a server needs: find the method,
// target, version and every field (http-parser through callbacks that record the spans in a
// fixed array, no allocation). Reported: ns per request (Time) and bytes/s.
//   cmake --preset release -B build/p-release && cmake --build build/p-release --target request_parser_bench
//   build/p-release/bench/request_parser_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// The HTTPower runs also count allocations (allocs/req) with a counting operator new.
#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <new>
#include <string_view>

#include "httpower/request_parser.hpp"

#ifdef HTTPOWER_HAVE_HTTP_PARSER
#include <http_parser.h>
#endif

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

constexpr std::string_view kBrowserGet =
    "GET /docs/index.html?lang=en HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Referer: https://www.example.com/\r\n"
    "Connection: keep-alive\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
    "If-None-Match: \"5f3a-1b2c4d\"\r\n"
    "\r\n";
constexpr std::string_view kCurlGet =
    "GET /index.html HTTP/1.1\r\n"
    "Host: localhost:8080\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "\r\n";
constexpr std::string_view kWrkGet = "GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n";

void run_httpower(benchmark::State& state, std::string_view req) {
  httpower::RequestParser parser;
  std::array<httpower::HeaderField, 100> slots{};
  httpower::RequestHead head;
  const long before = g_allocations.load();
  for (auto _ : state) {
    parser.reset();
    const httpower::ParseResult r = parser.parse(req, slots, head);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(head);
    if (r.status != httpower::ParseStatus::kComplete) state.SkipWithError("not complete");
  }
  state.counters["allocs/req"] = benchmark::Counter(
      static_cast<double>(g_allocations.load() - before) / static_cast<double>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * req.size()));
}

#ifdef HTTPOWER_HAVE_HTTP_PARSER
struct Spans {  // what a server records: pointers and lengths, no copies
  std::string_view url;
  std::array<std::string_view, 100> names{};
  std::array<std::string_view, 100> values{};
  std::size_t n = 0;
  bool done = false;
};

int hp_url(http_parser* p, const char* at, std::size_t len) {
  static_cast<Spans*>(p->data)->url = std::string_view(at, len);
  return 0;
}
int hp_field(http_parser* p, const char* at, std::size_t len) {
  auto* s = static_cast<Spans*>(p->data);
  if (s->n < s->names.size()) s->names[s->n] = std::string_view(at, len);
  return 0;
}
int hp_value(http_parser* p, const char* at, std::size_t len) {
  auto* s = static_cast<Spans*>(p->data);
  if (s->n < s->values.size()) s->values[s->n++] = std::string_view(at, len);
  return 0;
}
int hp_headers_complete(http_parser* p) {
  static_cast<Spans*>(p->data)->done = true;
  return 0;
}

void run_http_parser(benchmark::State& state, std::string_view req) {
  http_parser_settings settings;
  http_parser_settings_init(&settings);
  settings.on_url = hp_url;
  settings.on_header_field = hp_field;
  settings.on_header_value = hp_value;
  settings.on_headers_complete = hp_headers_complete;
  http_parser parser;
  Spans spans;
  for (auto _ : state) {
    http_parser_init(&parser, HTTP_REQUEST);
    spans.n = 0;
    spans.done = false;
    parser.data = &spans;
    const std::size_t n = http_parser_execute(&parser, &settings, req.data(), req.size());
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(spans);
    if (!spans.done || n != req.size()) state.SkipWithError("http-parser did not finish");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * req.size()));
}
#endif

void BM_HTTPower_BrowserGet(benchmark::State& s) { run_httpower(s, kBrowserGet); }
void BM_HTTPower_CurlGet(benchmark::State& s) { run_httpower(s, kCurlGet); }
void BM_HTTPower_WrkGet(benchmark::State& s) { run_httpower(s, kWrkGet); }
BENCHMARK(BM_HTTPower_BrowserGet);
BENCHMARK(BM_HTTPower_CurlGet);
BENCHMARK(BM_HTTPower_WrkGet);
#ifdef HTTPOWER_HAVE_HTTP_PARSER
void BM_HttpParser_BrowserGet(benchmark::State& s) { run_http_parser(s, kBrowserGet); }
void BM_HttpParser_CurlGet(benchmark::State& s) { run_http_parser(s, kCurlGet); }
void BM_HttpParser_WrkGet(benchmark::State& s) { run_http_parser(s, kWrkGet); }
BENCHMARK(BM_HttpParser_BrowserGet);
BENCHMARK(BM_HttpParser_CurlGet);
BENCHMARK(BM_HttpParser_WrkGet);
#endif

}  // namespace

BENCHMARK_MAIN();
