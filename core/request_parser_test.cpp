// RequestParser: P1..P6 (proofs/INVARIANTS.md, section parser).
//
// Three layers of cases, all run through the same harness (check_all_laws):
//  * the corpus core/testdata/requests/*.http: one raw request per file, with its expected
//    outcome (format below);
//  * kChecklist: one row per RFC 9112 message-syntax rule (docs/parser.md);
//  * generated inputs for the limits (414, 431, 8000-octet lines).
// check_all_laws runs a case whole, split at every offset (with the second part in a buffer
// at another address), byte by byte, every strict prefix, with trailing bytes, and against a
// guard page (the input ends exactly where an unreadable page begins, so an over-read
// crashes). A counting operator new proves parse() never allocates (P2).
//
// Corpus file format: leading lines starting with '#' are the header:
//   # expect: complete | incomplete | 400 | 413 | 414 | 431 | 501 | 505
//   # reason: <exact error_reason>                    (errors; optional)
//   # <key>: <value>   expectations on the head when complete: method (to_string), method_name,
//                      target, path, host, version (minor), keep_alive (0/1), body (none |
//                      content-length | chunked), content_length, consumed, headers (count),
//                      range, if_range, if_match, if_none_match, if_modified_since,
//                      if_unmodified_since; `header: Name: value` lines list all fields in order
//   # note: free text
// Every other line is raw request text; the file's own newlines are NOT part of the request.
// Escapes: \r \n \t \\ \xHH (so line ends are explicit and survive editors). Expectation
// values use the same escapes.
#include "httpower/request_parser.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <new>
#include <random>
#include <sstream>
#include <string>
#include <vector>

// ---- P2: a counting global operator new (counts every allocation in this binary).
// g++ 12 warns (-Wmismatched-new-delete) when it inlines a replaced new/delete pair that
// uses malloc/free; the pair is matched, so the warning is wrong here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
// clang's ThreadSanitizer runtime is a static archive that defines operator new itself, so
// the replacement cannot link there; P2 is checked in every other preset.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HTTPOWER_NO_COUNTING_NEW 1
#endif
#endif
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

#if !defined(HTTPOWER_NO_COUNTING_NEW)
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace httpower {
namespace {

constexpr std::size_t kSlots = 128;

std::string escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    const char e = s[++i];
    if (e == 'r') {
      out += '\r';
    } else if (e == 'n') {
      out += '\n';
    } else if (e == 't') {
      out += '\t';
    } else if (e == 'x' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += e;
    }
  }
  return out;
}

const char* body_name(BodyFraming b) {
  switch (b) {
    case BodyFraming::kNone: return "none";
    case BodyFraming::kContentLength: return "content-length";
    case BodyFraming::kChunked: return "chunked";
  }
  return "?";
}

// Everything observable about one parse, as owned strings (so results over different buffers
// compare equal), plus the P3 check done while the buffer is alive.
struct Observed {
  std::map<std::string, std::string> kv;
  std::vector<std::string> headers;
  std::string summary;  // one line; what the laws compare
};

bool inside(std::string_view v, std::string_view buf, std::size_t consumed) {
  if (v.empty()) return true;
  const auto* b = buf.data();
  return v.data() >= b && v.data() + v.size() <= b + consumed;
}

Observed observe(const ParseResult& r, const RequestHead& h, std::string_view buf) {
  Observed o;
  switch (r.status) {
    case ParseStatus::kIncomplete:
      EXPECT_EQ(r.consumed, 0u);
      EXPECT_EQ(r.error_status, 0);
      o.kv["expect"] = "incomplete";
      o.summary = "incomplete";
      return o;
    case ParseStatus::kError:
      EXPECT_EQ(r.consumed, 0u);
      EXPECT_FALSE(r.error_reason.empty());
      o.kv["expect"] = std::to_string(r.error_status);
      o.kv["reason"] = std::string(r.error_reason);
      o.summary = std::to_string(r.error_status) + " " + std::string(r.error_reason);
      return o;
    case ParseStatus::kComplete:
      break;
  }
  // P3: every view lies inside buf[0, consumed); path may be the static kRootPath.
  EXPECT_LE(r.consumed, buf.size());
  for (std::string_view v : {h.method_name, h.target, h.host, h.range, h.if_range, h.if_match,
                             h.if_none_match, h.if_modified_since, h.if_unmodified_since}) {
    EXPECT_TRUE(inside(v, buf, r.consumed)) << "P3: view outside the head: " << escape(v);
  }
  EXPECT_TRUE(inside(h.path, buf, r.consumed) ||
              h.path.data() == RequestParser::kRootPath.data());
  for (const HeaderField& f : h.headers) {
    EXPECT_TRUE(inside(f.name, buf, r.consumed) && inside(f.value, buf, r.consumed));
    EXPECT_FALSE(f.name.empty());
  }
  o.kv["expect"] = "complete";
  o.kv["consumed"] = std::to_string(r.consumed);
  o.kv["method"] = std::string(to_string(h.method));
  o.kv["method_name"] = std::string(h.method_name);
  o.kv["target"] = std::string(h.target);
  o.kv["path"] = std::string(h.path);
  o.kv["host"] = std::string(h.host);
  o.kv["version"] = std::to_string(h.minor_version);
  o.kv["keep_alive"] = h.keep_alive ? "1" : "0";
  o.kv["body"] = body_name(h.body);
  o.kv["content_length"] = std::to_string(h.content_length);
  o.kv["headers"] = std::to_string(h.headers.size());
  o.kv["range"] = std::string(h.range);
  o.kv["if_range"] = std::string(h.if_range);
  o.kv["if_match"] = std::string(h.if_match);
  o.kv["if_none_match"] = std::string(h.if_none_match);
  o.kv["if_modified_since"] = std::string(h.if_modified_since);
  o.kv["if_unmodified_since"] = std::string(h.if_unmodified_since);
  for (const HeaderField& f : h.headers) {
    o.headers.push_back(std::string(f.name) + ": " + std::string(f.value));
  }
  std::ostringstream s;
  for (const auto& [k, v] : o.kv) s << k << '=' << escape(v) << ' ';
  for (const auto& f : o.headers) s << '[' << escape(f) << ']';
  o.summary = s.str();
  return o;
}

// Parses `input` in one call with a fresh parser.
Observed parse_once(std::string_view input, const ParserLimits& limits = {},
                    std::size_t slots = kSlots) {
  RequestParser parser(limits);
  std::vector<HeaderField> fields(slots);
  RequestHead head;
  const ParseResult r = parser.parse(input, fields, head);
  return observe(r, head, input);
}

// ---- Guard page: `input` copied so that its last byte is the last readable byte.
class GuardedCopy {
 public:
  explicit GuardedCopy(std::string_view input) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    data_pages_ = (input.size() + page - 1) / page + 1;
    size_ = (data_pages_ + 1) * page;
    void* m = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) std::abort();
    base_ = static_cast<char*>(m);
    if (mprotect(base_ + data_pages_ * page, page, PROT_NONE) != 0) std::abort();
    char* end = base_ + data_pages_ * page;
    std::memcpy(end - input.size(), input.data(), input.size());
    view_ = std::string_view(end - input.size(), input.size());
  }
  GuardedCopy(const GuardedCopy&) = delete;
  GuardedCopy& operator=(const GuardedCopy&) = delete;
  ~GuardedCopy() { munmap(base_, size_); }
  std::string_view view() const { return view_; }
  // The last k bytes of the readable area hold input[0, k): a prefix that ends at the guard.
  std::string_view prefix_at_guard(std::string_view input, std::size_t k) {
    char* end = base_ + data_pages_ * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    std::memmove(end - k, input.data(), k);
    return std::string_view(end - k, k);
  }

 private:
  char* base_ = nullptr;
  std::size_t size_ = 0;
  std::size_t data_pages_ = 0;
  std::string_view view_;
};

// Runs every law on one input; `expected` is the one-shot result (already checked by the
// caller against the case's expectations). step > 1 samples the offsets of big inputs.
void check_all_laws(const std::string& input, const ParserLimits& limits = {},
                    std::size_t step = 1) {
  const Observed whole = parse_once(input, limits);
  const std::string& expected = whole.summary;
  const bool complete = whole.kv.at("expect") == "complete";
  const std::size_t consumed = complete ? std::stoul(whole.kv.at("consumed")) : 0;
  std::vector<HeaderField> fields(kSlots);

  // P4: split at every offset k: parse(input[0,k)), then parse(input) from another address.
  for (std::size_t k = 0; k <= input.size(); k += step) {
    RequestParser parser(limits);
    RequestHead head;
    const std::string first(input.substr(0, k));
    const ParseResult r1 = parser.parse(first, fields, head);
    if (r1.status != ParseStatus::kIncomplete) {
      ASSERT_EQ(observe(r1, head, first).summary, expected) << "P4: decided at split " << k;
      continue;
    }
    const std::string second(input);  // a different buffer: the parser keeps offsets only
    const ParseResult r2 = parser.parse(second, fields, head);
    ASSERT_EQ(observe(r2, head, second).summary, expected) << "P4: split at " << k;
    // Sticky: a second call returns the same.
    const ParseResult r3 = parser.parse(second, fields, head);
    ASSERT_EQ(r3, r2);
  }

  // P4: byte by byte, against the guard page (each prefix ends at the guard: P1).
  {
    GuardedCopy guard(input);
    RequestParser parser(limits);
    RequestHead head;
    std::string got = "incomplete";
    for (std::size_t k = 0; k <= input.size(); k += (k + step <= input.size() ? step : 1)) {
      const std::string_view at_guard = guard.prefix_at_guard(input, k);
      const ParseResult r = parser.parse(at_guard, fields, head);
      got = observe(r, head, at_guard).summary;
      if (r.status != ParseStatus::kIncomplete) break;
      if (k == input.size()) break;
    }
    ASSERT_EQ(got, expected) << "P4: byte by byte at the guard page";
    // One shot at the guard page.
    GuardedCopy whole_guard(input);
    RequestParser p2(limits);
    const ParseResult r = p2.parse(whole_guard.view(), fields, head);
    ASSERT_EQ(observe(r, head, whole_guard.view()).summary, expected) << "P1: guard page";
  }

  // P4: every strict prefix of a complete head is Incomplete; of an error, Incomplete or the
  // same error (an error is decided by a prefix and never changes).
  for (std::size_t k = 0; k < (complete ? consumed : input.size()); k += step) {
    const Observed o = parse_once(std::string_view(input).substr(0, k), limits);
    if (complete) {
      ASSERT_EQ(o.summary, "incomplete") << "P4: strict prefix of length " << k;
    } else if (o.summary != "incomplete") {
      ASSERT_EQ(o.summary, expected) << "P4: prefix of length " << k;
    }
  }

  // P4: trailing bytes after a complete head change nothing.
  if (complete) {
    const std::string tails[] = {"GET / HTTP/1.1\r\n", "\r", std::string("\0\xff garbage", 10),
                                 " \t\n", input};
    for (const std::string& tail : tails) {
      const std::string longer = input.substr(0, consumed) + tail;
      ASSERT_EQ(parse_once(longer, limits).summary, expected) << "P4: trailing bytes";
    }
  }
}

// ---- Corpus.
struct CorpusCase {
  std::string name;
  std::vector<std::pair<std::string, std::string>> expect;  // key, value (unescaped)
  std::vector<std::string> headers;                         // `# header:` lines
  std::string input;
};

std::filesystem::path corpus_dir() {
  // From the build (core/CMakeLists.txt), not __FILE__: ccache's base_dir makes __FILE__
  // relative to the build directory, which is not where ctest runs the test.
  return std::filesystem::path(HTTPOWER_CORE_TESTDATA) / "requests";
}

std::vector<CorpusCase> load_corpus() {
  std::vector<CorpusCase> cases;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(corpus_dir())) {
    if (e.path().extension() == ".http") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    CorpusCase c;
    c.name = f.stem().string();
    std::ifstream in(f);
    std::string line;
    bool in_header = true;
    while (std::getline(in, line)) {
      if (in_header && !line.empty() && line[0] == '#') {
        const std::size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        const std::string key = line.substr(2, colon - 2);
        std::string value = line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        if (key == "note") continue;
        if (key == "header") {
          c.headers.push_back(unescape(value));
        } else {
          c.expect.emplace_back(key, unescape(value));
        }
        continue;
      }
      in_header = false;
      c.input += unescape(line);
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

TEST(RequestParserCorpus, P6_EveryCaseHasItsExpectedOutcome) {
  const auto cases = load_corpus();
  ASSERT_GE(cases.size(), 60u) << "corpus not found in " << corpus_dir();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name + ": " + escape(c.input));
    const Observed o = parse_once(c.input);
    ASSERT_FALSE(c.expect.empty()) << "no '# expect:' line";
    for (const auto& [key, value] : c.expect) {
      ASSERT_TRUE(o.kv.count(key)) << "unknown or inapplicable key " << key << " (got "
                                   << o.summary << ")";
      EXPECT_EQ(o.kv.at(key), value) << "key " << key;
    }
    if (!c.headers.empty()) {
      std::vector<std::string> trimmed;
      for (const auto& h : o.headers) {
        trimmed.push_back(h.back() == ' ' ? h.substr(0, h.size() - 1) : h);
      }
      std::vector<std::string> want;
      for (const auto& h : c.headers) want.push_back(h.back() == ' ' ? h.substr(0, h.size() - 1) : h);
      EXPECT_EQ(trimmed, want);
    }
  }
}

TEST(RequestParserCorpus, P1_P3_P4_EveryCaseObeysTheSplitPrefixTrailingAndGuardLaws) {
  for (const auto& c : load_corpus()) {
    SCOPED_TRACE(c.name);
    check_all_laws(c.input);
    if (HasFatalFailure()) return;
  }
}

TEST(RequestParserCorpus, P2_ParseNeverAllocates) {
#if defined(HTTPOWER_NO_COUNTING_NEW)
  GTEST_SKIP() << "no counting operator new under TSan (see above)";
#endif
  const auto cases = load_corpus();
  RequestParser parser;
  std::vector<HeaderField> fields(kSlots);
  RequestHead head;
  std::vector<std::string> inputs;
  for (const auto& c : cases) inputs.push_back(c.input);
  long total = 0;
  for (const auto& in : inputs) {
    for (std::size_t k = 0; k <= in.size(); ++k) {  // incremental calls too
      parser.reset();
      const long before = g_allocations.load();
      const ParseResult r1 = parser.parse(std::string_view(in).substr(0, k), fields, head);
      const ParseResult r2 = parser.parse(in, fields, head);
      const long after = g_allocations.load();
      total += after - before;
      (void)r1;
      (void)r2;
    }
  }
  // The check can fail: this binary's operator new counts (see CountingNewCountsAllocations).
  EXPECT_EQ(total, 0) << "P2: parse() allocated";
}

TEST(RequestParserCorpus, P2_CountingNewCountsAllocations) {
#if defined(HTTPOWER_NO_COUNTING_NEW)
  GTEST_SKIP() << "no counting operator new under TSan (see above)";
#endif
  const long before = g_allocations.load();
  auto* p = new std::string(100, 'x');
  const long after = g_allocations.load();
  delete p;
  EXPECT_GE(after - before, 1);  // otherwise P2_ParseNeverAllocates could not fail
}

// ---- The RFC 9112 message-syntax rules, one row each (P6, docs/parser.md).
struct Row {
  const char* rule;
  std::string input;
  int status;  // 0: complete
  const char* reason;
};

const std::string kH = "Host: x\r\n";

const std::vector<Row>& checklist() {
  static const std::vector<Row> rows = {
      {"no Host in HTTP/1.1 -> 400", "GET / HTTP/1.1\r\n\r\n", 400, "HTTP/1.1 request without Host"},
      {"two Host fields -> 400", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400, "more than one Host field"},
      {"invalid Host value -> 400", "GET / HTTP/1.1\r\nHost: a>b\r\n\r\n", 400, "invalid Host value"},
      {"empty Host with origin-form -> accepted", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 0, ""},
      {"absolute-form accepted", "GET http://example.com/a HTTP/1.1\r\n" + kH + "\r\n", 0, ""},
      {"whitespace before colon -> 400", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, "whitespace between field name and colon"},
      {"obs-fold -> 400", "GET / HTTP/1.1\r\n" + kH + "A: b\r\n\tc\r\n\r\n", 400, "obs-fold (field line starting with whitespace)"},
      {"whitespace before the first field -> 400", "GET / HTTP/1.1\r\n\tHost: x\r\n\r\n", 400, "whitespace between the start line and the first field"},
      {"CR in a field value -> 400", "GET / HTTP/1.1\r\n" + kH + "A: b\rc\r\n\r\n", 400, "bare CR (not followed by LF)"},
      {"NUL in a field value -> 400", std::string("GET / HTTP/1.1\r\n") + kH + "A: b" + std::string(1, '\0') + "c\r\n\r\n", 400, "invalid character in field value"},
      {"LF in a field value ends the line (bare LF policy)", "GET / HTTP/1.1\r\n" + kH + "A: b\nc\r\n\r\n", 400, "field line without a colon"},
      {"bare CR in the request line -> 400", "GET /\r HTTP/1.1\r\n" + kH + "\r\n", 400, "request line without an HTTP version"},
      {"bare CR after the version -> 400", "GET / HTTP/1.1\r" + kH + "\r\n", 400, "bare CR (not followed by LF)"},
      {"bare LF line ends accepted", "GET / HTTP/1.1\nHost: x\n\n", 0, ""},
      {"one empty line before the request line ignored", "\r\nGET / HTTP/1.1\r\n" + kH + "\r\n", 0, ""},
      {"method longer than any implemented -> 501", "MKCALENDAR / HTTP/1.1\r\n" + kH + "\r\n", 501, "method longer than any implemented"},
      {"malformed version -> 400", "GET / HTTP/1.x\r\n" + kH + "\r\n", 400, "malformed HTTP version"},
      {"major version 2 -> 505", "GET / HTTP/2.0\r\n" + kH + "\r\n", 505, "HTTP major version not supported"},
      {"TE with CL -> 400", "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n", 400, "Transfer-Encoding together with Content-Length"},
      {"TE final coding not chunked -> 400", "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: deflate\r\n\r\n", 400, "final transfer coding is not chunked"},
      {"unknown coding -> 501", "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: zstd\r\n\r\n", 501, "unknown transfer coding"},
      {"TE in HTTP/1.0 -> 400", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "Transfer-Encoding in an HTTP/1.0 request"},
      {"CL +1 -> 400", "POST / HTTP/1.1\r\n" + kH + "Content-Length: +1\r\n\r\n", 400, "invalid Content-Length"},
      {"CL 1,2 -> 400", "POST / HTTP/1.1\r\n" + kH + "Content-Length: 1,2\r\n\r\n", 400, "invalid Content-Length"},
      {"CL non-digits -> 400", "POST / HTTP/1.1\r\n" + kH + "Content-Length: ten\r\n\r\n", 400, "invalid Content-Length"},
      {"CL differing duplicates -> 400", "POST / HTTP/1.1\r\n" + kH + "Content-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "differing Content-Length values"},
      {"CL identical duplicates -> accepted", "POST / HTTP/1.1\r\n" + kH + "Content-Length: 2\r\nContent-Length: 2\r\n\r\n", 0, ""},
      {"HTTP/1.0 persistent only with keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0, ""},
  };
  return rows;
}

TEST(RequestParserChecklist, P6_EveryMessageSyntaxRowHolds) {
  for (const Row& row : checklist()) {
    SCOPED_TRACE(row.rule);
    const Observed o = parse_once(row.input);
    if (row.status == 0) {
      EXPECT_EQ(o.kv.at("expect"), "complete") << o.summary;
    } else {
      EXPECT_EQ(o.kv.at("expect"), std::to_string(row.status)) << o.summary;
      EXPECT_EQ(o.kv.count("reason") ? o.kv.at("reason") : "", row.reason);
    }
  }
}

TEST(RequestParserChecklist, P4_EveryRowObeysTheLaws) {
  for (const Row& row : checklist()) {
    SCOPED_TRACE(row.rule);
    check_all_laws(row.input);
    if (HasFatalFailure()) return;
  }
}

TEST(RequestParserChecklist, P6_ErrorReasonsAreDistinctPerKindOfFailure) {
  std::map<std::string, int> status_of;
  for (const auto& c : load_corpus()) {
    const Observed o = parse_once(c.input);
    if (!o.kv.count("reason")) continue;
    const int st = std::stoi(o.kv.at("expect"));
    auto [it, fresh] = status_of.emplace(o.kv.at("reason"), st);
    EXPECT_EQ(it->second, st) << "one reason, two statuses: " << it->first;
  }
  EXPECT_GE(status_of.size(), 40u);
}

// ---- Semantics details (P6).
Observed complete_or_fail(const std::string& input) {
  Observed o = parse_once(input);
  EXPECT_EQ(o.kv.at("expect"), "complete") << o.summary;
  return o;
}

TEST(RequestParserSemantics, P6_KeepAlivePerVersionAndConnectionTokens) {
  struct K { std::string version, connection; const char* keep; };
  const K table[] = {
      {"1.1", "", "1"},           {"1.1", "close", "0"},      {"1.1", "Close", "0"},
      {"1.1", "keep-alive", "1"}, {"1.1", "a, close , b", "0"}, {"1.1", "closed", "1"},
      {"1.0", "", "0"},           {"1.0", "keep-alive", "1"}, {"1.0", "KEEP-ALIVE", "1"},
      {"1.0", "close", "0"},      {"1.0", "keep-alive, close", "0"}, {"1.0", "keep-alives", "0"},
  };
  for (const K& k : table) {
    std::string in = "GET / HTTP/" + k.version + "\r\n" + kH;
    if (!k.connection.empty()) in += "Connection: " + k.connection + "\r\n";
    in += "\r\n";
    EXPECT_EQ(complete_or_fail(in).kv.at("keep_alive"), k.keep) << escape(in);
  }
}

TEST(RequestParserSemantics, P6_ChunkedRequestIsNotKeptAlive) {
  const Observed o = complete_or_fail("POST / HTTP/1.1\r\n" + kH +
                                      "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(o.kv.at("body"), "chunked");
  EXPECT_EQ(o.kv.at("keep_alive"), "0");
}

TEST(RequestParserSemantics, P6_MethodMapping) {
  const std::pair<const char*, Method> table[] = {
      {"GET", Method::kGet},         {"HEAD", Method::kHead},   {"OPTIONS", Method::kOptions},
      {"POST", Method::kPost},       {"PUT", Method::kPut},     {"DELETE", Method::kDelete},
      {"PATCH", Method::kPatch},     {"TRACE", Method::kTrace}, {"FOO", Method::kUnknown},
      {"GETS", Method::kUnknown},    {"Get", Method::kUnknown}, {"OPTIONZ", Method::kUnknown},
  };
  for (const auto& [name, method] : table) {
    const Observed o = complete_or_fail(std::string(name) + " /x HTTP/1.1\r\n" + kH + "\r\n");
    EXPECT_EQ(o.kv.at("method"), to_string(method)) << name;
    EXPECT_EQ(o.kv.at("method_name"), name);
  }
  EXPECT_EQ(to_string(Method::kConnect), "CONNECT");
}

TEST(RequestParserSemantics, P6_AbsoluteFormAuthorityReplacesHost) {
  const Observed o = complete_or_fail("GET http://a.example:81/p?q HTTP/1.1\r\nHost: b\r\n\r\n");
  EXPECT_EQ(o.kv.at("host"), "a.example:81");
  EXPECT_EQ(o.kv.at("path"), "/p?q");
}

TEST(RequestParserSemantics, P6_AbsoluteFormEmptyPathIsRootEvenWithAQuery) {
  // RFC 9110 §4.2.3: "http://h?x" is "/?x"; the query of the empty path is dropped.
  const struct {
    const char* target;
    const char* path;
    const char* host;
  } table[] = {
      {"http://h?x", "/", "h"},           {"http://h:8080?a=b&c", "/", "h:8080"},
      {"HTTP://h?", "/", "h"},            {"http://[::1]?q", "/", "[::1]"},
      {"http://h?\?/x", "/", "h"},        {"http://h", "/", "h"},
      {"http://h/?x", "/?x", "h"},        {"https://h/a?b", "/a?b", "h"},
  };
  for (const auto& row : table) {
    Observed o =
        complete_or_fail(std::string("GET ") + row.target + " HTTP/1.1\r\n" + kH + "\r\n");
    EXPECT_EQ(o.kv["path"], row.path) << row.target;
    EXPECT_EQ(o.kv["host"], row.host) << row.target;
    EXPECT_EQ(o.kv["target"], row.target);
  }
  // Still 400: characters outside the query's set after the empty path.
  EXPECT_EQ(parse_once("GET http://h?a#b HTTP/1.1\r\n" + kH + "\r\n").kv.at("expect"), "400");
}

// One validator for the Host field and the absolute-form authority: each row is checked both
// ways, and the verdicts must agree.
TEST(RequestParserSemantics, P6_HostAndAbsoluteFormAuthorityShareOneValidator) {
  const struct {
    const char* host;
    bool ok;
  } table[] = {
      // reg-names and dotted-decimal IPv4
      {"example.com", true}, {"localhost", true}, {"a-b.c", true}, {"127.0.0.1", true},
      {"0.0.0.0", true}, {"255.255.255.255", true}, {"1.2.3.4:80", true}, {"1a.example", true},
      {"example.123a", true}, {"0xg.example", true}, {"x.0xg", true}, {"%41.b", true},
      // a numeric last label: only canonical dotted decimal (Apache strict mode)
      {"017700000001", false}, {"2130706433", false}, {"0x7f.1", false}, {"0x7f000001", false},
      {"127.01.0.1", false}, {"127.0.0.01", false}, {"127.1", false}, {"1.2.3", false},
      {"1.2.3.4.5", false}, {"256.0.0.1", false}, {"1.2.3.4.", false}, {"0x", false},
      {"example.123", false}, {"a.0X1F", false}, {"0127.0.0.1:80", false}, {"1..2.3", false},
      // IPv6 and IPvFuture literals
      {"[::1]", true}, {"[::]", true}, {"[2001:db8::1]:8080", true},
      {"[1:2:3:4:5:6:7:8]", true}, {"[1:2:3:4:5:6:7::]", true}, {"[::2:3:4:5:6:7:8]", true},
      {"[::ffff:127.0.0.1]", true}, {"[1:2:3:4:5:6:1.2.3.4]", true}, {"[v1.a:b]", true},
      {"[4712::abcd::]", false}, {"[1:2:3:4:5:6:7:8:9]", false}, {"[1:2:3:4:5:6:7]", false},
      {"[12345::]", false}, {"[:1::]", false}, {"[1:]", false}, {"[1::2:]", false},
      {"[::1%25eth0]", false}, {"[::ffff:127.0.0.01]", false}, {"[::1.2.3]", false},
      {"[1:2:3:4:5:6:7:1.2.3.4]", false}, {"[]", false}, {"[g::]", false}, {"[v1.]", false},
      {"[v.a]", false}, {"[::1", false}, {"[::1]x", false},
  };
  for (const auto& row : table) {
    SCOPED_TRACE(row.host);
    const std::string host = row.host;
    Observed as_host = parse_once("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    Observed as_target = parse_once("GET http://" + host + "/ HTTP/1.1\r\n" + kH + "\r\n");
    EXPECT_EQ(as_host.kv.at("expect"), row.ok ? "complete" : "400") << as_host.summary;
    EXPECT_EQ(as_target.kv.at("expect"), row.ok ? "complete" : "400") << as_target.summary;
    if (!row.ok) {
      EXPECT_EQ(as_host.kv["reason"], "invalid Host value");
      EXPECT_EQ(as_target.kv["reason"], "invalid authority in the request-target");
    }
  }
}

TEST(RequestParserSemantics, P3_RootPathOfAbsoluteFormIsTheStaticSlash) {
  RequestParser parser;
  std::vector<HeaderField> fields(4);
  RequestHead head;
  for (const std::string target : {"http://a", "http://a?q"}) {
    const std::string in = "GET " + target + " HTTP/1.1\r\n" + kH + "\r\n";
    parser.reset();
    ASSERT_EQ(parser.parse(in, fields, head).status, ParseStatus::kComplete) << target;
    EXPECT_EQ(head.path, "/");
    EXPECT_EQ(head.path.data(), RequestParser::kRootPath.data());
  }
}

// ---- Limits (P3, P6).
std::string request_with_target_length(std::size_t target_len) {
  return "GET /" + std::string(target_len - 1, 'a') + " HTTP/1.1\r\n" + kH + "\r\n";
}

TEST(RequestParserLimits, P6_AcceptsAnEightThousandOctetRequestLine) {
  // RFC 9112 §3: at least 8000 octets. "GET " + target + " HTTP/1.1" = 8000.
  const std::string in = request_with_target_length(8000 - 13);
  EXPECT_EQ(parse_once(in).kv.at("expect"), "complete");
}

TEST(RequestParserLimits, P6_RequestLineLongerThanTheLimitIs414) {
  ParserLimits limits;
  const std::size_t max = limits.max_request_line;
  const std::string at_limit = request_with_target_length(max - 13);  // line == max octets
  const std::string over = request_with_target_length(max - 12);     // line == max + 1
  EXPECT_EQ(parse_once(at_limit).kv.at("expect"), "complete");
  EXPECT_EQ(parse_once(over).summary, "414 request line too long");
  // 414 is decided as soon as byte max + 1 of the line arrives, before any line end.
  EXPECT_EQ(parse_once(over.substr(0, max + 1)).summary, "414 request line too long");
  EXPECT_EQ(parse_once(over.substr(0, max)).summary, "incomplete");
  // Also in the absolute-form authority, the scheme and the version.
  const std::string long_authority = "GET http://" + std::string(max, 'a') + "/ HTTP/1.1\r\n\r\n";
  EXPECT_EQ(parse_once(long_authority).summary, "414 request line too long");
  const std::string long_scheme = "GET " + std::string(max, 'h') + "://a/ HTTP/1.1\r\n\r\n";
  EXPECT_EQ(parse_once(long_scheme).summary, "414 request line too long");
  const std::string version_over = request_with_target_length(max - 8);  // SP before max
  EXPECT_EQ(parse_once(version_over.substr(0, version_over.find("\r\n") + 1)).summary,
            "414 request line too long");
}

TEST(RequestParserLimits, P4_LimitBoundariesObeyTheLaws) {
  ParserLimits small;
  small.max_request_line = 100;
  small.max_header_bytes = 200;
  small.max_headers = 3;
  const std::string line_at = "GET /" + std::string(100 - 14, 'a') + " HTTP/1.1\r\n" + kH + "\r\n";
  const std::string line_over = "GET /" + std::string(100 - 13, 'a') + " HTTP/1.1\r\n" + kH + "\r\n";
  EXPECT_EQ(parse_once(line_at, small).kv.at("expect"), "complete");
  EXPECT_EQ(parse_once(line_over, small).kv.at("expect"), "414");
  const std::string three = "GET / HTTP/1.1\r\n" + kH + "A: 1\r\nB: 2\r\n\r\n";
  const std::string four = "GET / HTTP/1.1\r\n" + kH + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n";
  EXPECT_EQ(parse_once(three, small).kv.at("expect"), "complete");
  EXPECT_EQ(parse_once(four, small).summary, "431 too many header fields");
  std::string head_at_ = "GET / HTTP/1.1\r\n" + kH + "X: ";
  head_at_ += std::string(200 - head_at_.size() - 4, 'v') + "\r\n\r\n";
  const std::string head_at = head_at_;
  ASSERT_EQ(head_at.size(), 200u);
  const std::string head_over = head_at.substr(0, 30) + "v" + head_at.substr(30);
  EXPECT_EQ(parse_once(head_at, small).kv.at("expect"), "complete");
  EXPECT_EQ(parse_once(head_over, small).summary, "431 request header section too large");
  for (const std::string* in : {&line_at, &line_over, &three, &four, &head_at, &head_over}) {
    check_all_laws(*in, small);
  }
}

TEST(RequestParserLimits, P6_HeaderSectionOverTheLimitIs431) {
  std::string in = "GET / HTTP/1.1\r\n" + kH;
  while (in.size() < 16384) in += "X-Filler: " + std::string(1000, 'f') + "\r\n";
  in += "\r\n";
  EXPECT_EQ(parse_once(in).summary, "431 request header section too large");
  check_all_laws(in, {}, 97);
}

TEST(RequestParserLimits, P6_TooManyFieldsIs431) {
  std::string hundred = "GET / HTTP/1.1\r\n" + kH;
  for (int k = 1; k < 100; ++k) hundred += "X-" + std::to_string(k) + ": v\r\n";
  const std::string over = hundred + "X-last: v\r\n\r\n";
  hundred += "\r\n";
  EXPECT_EQ(parse_once(hundred).kv.at("headers"), "100");
  EXPECT_EQ(parse_once(over).summary, "431 too many header fields");
  // Fewer slots than fields: also 431, never a write past the caller's slots.
  EXPECT_EQ(parse_once(hundred, {}, 99).summary, "431 too many header fields");
  EXPECT_EQ(parse_once(hundred, {}, 100).kv.at("expect"), "complete");
}

TEST(RequestParserLimits, P6_FloodOfEmptyLinesIsBoundedBy431) {
  std::string in;
  while (in.size() < 20000) in += "\r\n";
  EXPECT_EQ(parse_once(in).summary, "431 request header section too large");
}

TEST(RequestParserLimits, P6_MethodOfSevenOctetsIsATokenEightIs501) {
  EXPECT_EQ(parse_once("ABCDEFG / HTTP/1.1\r\n" + kH + "\r\n").kv.at("method"), "UNKNOWN");
  EXPECT_EQ(parse_once("ABCDEFGH").summary, "501 method longer than any implemented");
  EXPECT_EQ(parse_once("ABCDEFG").summary, "incomplete");
}

TEST(RequestParserLimits, P6_ContentLengthLimitIs413AndConfigurable) {
  ParserLimits limits;
  limits.max_content_length = 10;
  const std::string ok = "POST / HTTP/1.1\r\n" + kH + "Content-Length: 10\r\n\r\n";
  const std::string over = "POST / HTTP/1.1\r\n" + kH + "Content-Length: 11\r\n\r\n";
  EXPECT_EQ(parse_once(ok, limits).kv.at("content_length"), "10");
  EXPECT_EQ(parse_once(over, limits).kv.at("expect"), "413");
  EXPECT_EQ(parse_once("POST / HTTP/1.1\r\n" + kH + "Content-Length: 1073741824\r\n\r\n")
                .kv.at("expect"),
            "complete");
}

// ---- API behaviour (P4).
TEST(RequestParserApi, P4_PipelinedRequestsParseAfterReset) {
  const std::string two = "GET /a HTTP/1.1\r\n" + kH + "\r\nHEAD /b HTTP/1.1\r\n" + kH + "\r\n";
  RequestParser parser;
  std::vector<HeaderField> fields(8);
  RequestHead head;
  const ParseResult r1 = parser.parse(two, fields, head);
  ASSERT_EQ(r1.status, ParseStatus::kComplete);
  EXPECT_EQ(head.path, "/a");
  parser.reset();
  const std::string_view rest = std::string_view(two).substr(r1.consumed);
  const ParseResult r2 = parser.parse(rest, fields, head);
  ASSERT_EQ(r2.status, ParseStatus::kComplete);
  EXPECT_EQ(head.method, Method::kHead);
  EXPECT_EQ(head.path, "/b");
  EXPECT_EQ(r2.consumed, rest.size());
}

TEST(RequestParserApi, P4_ResultsAreStickyUntilReset) {
  RequestParser parser;
  std::vector<HeaderField> fields(8);
  RequestHead head;
  const std::string bad = "GET / HTTP/1.1\r\nHost : x\r\n\r\n";
  const ParseResult r1 = parser.parse(bad, fields, head);
  ASSERT_EQ(r1.status, ParseStatus::kError);
  EXPECT_EQ(parser.parse(bad + "more", fields, head), r1);
  parser.reset();
  const std::string good = "GET / HTTP/1.1\r\n" + kH + "\r\n";
  EXPECT_EQ(parser.parse(good, fields, head).status, ParseStatus::kComplete);
}

TEST(RequestParserApi, P1_ShorterBufferThanBeforeIsAnErrorNotUb) {
  RequestParser parser;
  std::vector<HeaderField> fields(8);
  RequestHead head;
  const std::string in = "GET / HTTP/1.1\r\nHo";
  ASSERT_EQ(parser.parse(in, fields, head).status, ParseStatus::kIncomplete);
  const ParseResult r = parser.parse(std::string_view(in).substr(0, 5), fields, head);
  EXPECT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.error_status, 400);
}

// A complete result is sticky and re-filled from the caller's buffer; a buffer shorter than
// the head it held is refused, never read past.
TEST(RequestParserApi, P1_CompleteHeadFromAShorterBufferIsAnError) {
  RequestParser parser;
  std::vector<HeaderField> fields(8);
  RequestHead head;
  const std::string in = "GET /a HTTP/1.1\r\n" + kH + "\r\n";
  ASSERT_EQ(parser.parse(in, fields, head).status, ParseStatus::kComplete);
  const std::string moved = in + "next";  // the same head, in a longer buffer
  EXPECT_EQ(parser.parse(moved, fields, head).status, ParseStatus::kComplete);
  EXPECT_EQ(head.path.data(), moved.data() + 4);
  const ParseResult r = parser.parse(std::string_view(in).substr(0, in.size() - 1), fields, head);
  EXPECT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.error_status, 400);
}

// Limits outside [kMinLimit, kMaxHeadBytes] are clamped, and max_headers to kMaxHeaderFields.
TEST(RequestParserLimits, P6_LimitsAreClampedToTheirRange) {
  ParserLimits tiny;
  tiny.max_request_line = 1;
  const std::string at = "GET /" + std::string(RequestParser::kMinLimit - 14, 'a') + " HTTP/1.1\r\n" + kH + "\r\n";
  const std::string over = "GET /" + std::string(RequestParser::kMinLimit - 13, 'a') + " HTTP/1.1\r\n" + kH + "\r\n";
  EXPECT_EQ(parse_once(at, tiny).kv.at("expect"), "complete");
  EXPECT_EQ(parse_once(over, tiny).kv.at("expect"), "414");
  ParserLimits huge;
  huge.max_request_line = huge.max_header_bytes = std::size_t{1} << 40;
  huge.max_headers = 1000;
  std::string fields = "GET / HTTP/1.1\r\n" + kH;
  for (std::size_t k = 1; k < RequestParser::kMaxHeaderFields; ++k) fields += "X-" + std::to_string(k) + ": v\r\n";
  EXPECT_EQ(parse_once(fields + "\r\n", huge, 200).kv.at("expect"), "complete");
  EXPECT_EQ(parse_once(fields + "X-last: v\r\n\r\n", huge, 200).summary, "431 too many header fields");
  const std::string long_line = "GET /" + std::string(RequestParser::kMaxHeadBytes, 'a') + " HTTP/1.1\r\n";
  EXPECT_EQ(parse_once(long_line, huge).kv.at("expect"), "414");
}

TEST(RequestParserApi, P3_HeadFieldsFromAPreviousRequestDoNotLeak) {
  RequestParser parser;
  std::vector<HeaderField> fields(8);
  RequestHead head;
  const std::string first = "GET / HTTP/1.1\r\n" + kH + "Range: bytes=1-2\r\nContent-Length: 3\r\n\r\n";
  ASSERT_EQ(parser.parse(first, fields, head).status, ParseStatus::kComplete);
  parser.reset();
  const std::string second = "GET / HTTP/1.0\r\n\r\n";
  ASSERT_EQ(parser.parse(second, fields, head).status, ParseStatus::kComplete);
  EXPECT_TRUE(head.range.empty());
  EXPECT_EQ(head.body, BodyFraming::kNone);
  EXPECT_EQ(head.content_length, 0u);
  EXPECT_TRUE(head.headers.empty());
  EXPECT_TRUE(head.host.empty());
}

// ---- P1: random inputs (seeded) get an answer and obey the laws.
TEST(RequestParserRandom, P1_P4_RandomMutationsOfCorpusCasesObeyTheLaws) {
  const char* seed_env = std::getenv("HTTPOWER_SEED");
  const unsigned seed = seed_env ? static_cast<unsigned>(std::strtoul(seed_env, nullptr, 10))
                                 : std::random_device{}();
  const char* scale_env = std::getenv("HTTPOWER_TEST_SCALE");
  const double scale = scale_env ? std::atof(scale_env) : 1.0;
  std::printf("RequestParserRandom seed=%u (rerun with HTTPOWER_SEED=%u)\n", seed, seed);
  std::mt19937 rng(seed);
  const auto cases = load_corpus();
  const std::string alphabet = std::string("\r\n :\t,;/\0\x7f\x80GETHOST", 18) + "aZ09-";
  const int iterations = std::max(50, static_cast<int>(400 * scale));
  for (int it = 0; it < iterations; ++it) {
    std::string in = cases[rng() % cases.size()].input;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !in.empty(); ++e) {
      const std::size_t at = rng() % in.size();
      switch (rng() % 3) {
        case 0: in[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: in.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
        default: in.erase(at, 1); break;
      }
    }
    SCOPED_TRACE("seed " + std::to_string(seed) + " input " + escape(in));
    check_all_laws(in);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace httpower
