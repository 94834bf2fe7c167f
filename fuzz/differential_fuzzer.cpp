// differential_fuzzer: RequestParser against Debian's http-parser 2.9 (nodejs/http-parser).
// Where BOTH accept a head, they must agree on: method, request-target, version, the header
// fields (names and OWS-trimmed values, in order), the head's length, and the body framing
// (Content-Length value / chunked). Verdict differences (one accepts, the other rejects)
// are expected: http-parser is more lenient in places and stricter in a few; each is listed
// and explained in docs/parser-differential.md. Set HTTPOWER_DIFF_VERBOSE=1 to print every
// verdict difference (used to write that page).
//
// Without http_parser.h (or the library), this target checks nothing but still builds.
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "httpower/request_parser.hpp"

#if __has_include(<http_parser.h>)
#include <http_parser.h>
#define HTTPOWER_HAVE_HTTP_PARSER 1
#endif

#ifdef HTTPOWER_HAVE_HTTP_PARSER
namespace {

struct Theirs {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  bool in_value = false;
  bool headers_complete = false;
};

int on_url(http_parser* p, const char* at, std::size_t n) {
  static_cast<Theirs*>(p->data)->url.append(at, n);
  return 0;
}
int on_field(http_parser* p, const char* at, std::size_t n) {
  auto* t = static_cast<Theirs*>(p->data);
  if (t->headers.empty() || t->in_value) t->headers.emplace_back();
  t->in_value = false;
  t->headers.back().first.append(at, n);
  return 0;
}
int on_value(http_parser* p, const char* at, std::size_t n) {
  auto* t = static_cast<Theirs*>(p->data);
  t->in_value = true;
  t->headers.back().second.append(at, n);
  return 0;
}
int on_headers_complete(http_parser* p) {
  static_cast<Theirs*>(p->data)->headers_complete = true;
  http_parser_pause(p, 1);  // stop at the end of the head, as RequestParser does
  return 0;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

bool iprefix(std::string_view s, std::string_view lower) {
  if (s.size() < lower.size()) return false;
  for (std::size_t i = 0; i < lower.size(); ++i) {
    if ((s[i] | 0x20) != lower[i]) return false;
  }
  return true;
}

bool verbose() {
  static const bool v = std::getenv("HTTPOWER_DIFF_VERBOSE") != nullptr;
  return v;
}

std::string printable(std::string_view s) {
  std::string out;
  for (char ch : s.substr(0, 200)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (c < 0x20 || c >= 0x7f) { char b[6]; std::snprintf(b, sizeof b, "\\x%02x", c); out += b; }
    else out += ch;
  }
  return out;
}

}  // namespace
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  httpower::RequestParser ours;
  std::vector<httpower::HeaderField> slots(128);
  httpower::RequestHead head;
  const httpower::ParseResult r = ours.parse(in, slots, head);
#ifdef HTTPOWER_HAVE_HTTP_PARSER
  Theirs t;
  http_parser p;
  http_parser_init(&p, HTTP_REQUEST);
  p.data = &t;
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_url = on_url;
  s.on_header_field = on_field;
  s.on_header_value = on_value;
  s.on_headers_complete = on_headers_complete;
  const std::size_t n = http_parser_execute(&p, &s, in.data(), in.size());
  const auto err = HTTP_PARSER_ERRNO(&p);
  const bool they_accept = t.headers_complete && err == HPE_PAUSED;
  const bool we_accept = r.status == httpower::ParseStatus::kComplete;
  // They may also reject a head we have not finished (and vice versa): only compare verdicts
  // when both are decided.
  const bool they_reject = err != HPE_OK && err != HPE_PAUSED;
  const bool we_reject = r.status == httpower::ParseStatus::kError;
  if (verbose() && ((we_accept && they_reject) || (they_accept && we_reject))) {
    std::fprintf(stderr, "VERDICT ours=%s theirs=%s input=%s\n",
                 we_accept ? "complete" : std::string(r.error_reason).c_str(),
                 they_accept ? "complete" : http_errno_name(err), printable(in).c_str());
  }
  if (!(we_accept && they_accept)) return 0;

  // The head's length: paused in on_headers_complete, http-parser returns the index of the
  // final LF.
  HTTPOWER_FUZZ_CHECK(n + 1 == r.consumed);
  HTTPOWER_FUZZ_CHECK(std::string_view(http_method_str(static_cast<http_method>(p.method))) ==
                      head.method_name);
  HTTPOWER_FUZZ_CHECK(t.url == head.target);
  HTTPOWER_FUZZ_CHECK(p.http_major == 1);
  HTTPOWER_FUZZ_CHECK(p.http_minor == head.minor_version);
  HTTPOWER_FUZZ_CHECK(t.headers.size() == head.headers.size());
  for (std::size_t i = 0; i < t.headers.size(); ++i) {
    HTTPOWER_FUZZ_CHECK(t.headers[i].first == head.headers[i].name);
    HTTPOWER_FUZZ_CHECK(trim(t.headers[i].second) == head.headers[i].value);
  }
  // http-parser 2.9 parses Transfer-Encoding lists loosely (docs/parser-differential.md,
  // D9): an HTAB as OWS, empty list elements (", chunked"), or a field whose name merely
  // STARTS with "Transfer-Encoding"/"Content-Length" ("Transfer-EncodingX") change its
  // framing verdict. Framing is compared only when every such line is canonical:
  // "Name: token, token" with single spaces, no HTAB, no empty element.
  bool skip_framing = false;
  for (const auto& f : head.headers) {
    if ((f.name.size() > 17 && iprefix(f.name, "transfer-encoding")) ||
        (f.name.size() > 14 && iprefix(f.name, "content-length"))) {
      skip_framing = true;
    }
    if (f.name.size() == 17 && iprefix(f.name, "transfer-encoding")) {
      const auto from = static_cast<std::size_t>(f.name.data() - in.data());
      std::string_view line = in.substr(from, in.find('\n', from) - from);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      const std::string canonical = std::string(f.name) + ": " + std::string(f.value);
      const bool odd = line != canonical || f.value.find('\t') != std::string_view::npos ||
                       f.value.find(",,") != std::string_view::npos ||
                       f.value.find(" ,") != std::string_view::npos ||
                       f.value.find(",  ") != std::string_view::npos ||
                       f.value.empty() || f.value.front() == ',' || f.value.back() == ',';
      if (odd) skip_framing = true;
    }
  }
  const bool their_chunked = (p.flags & F_CHUNKED) != 0;
  if (!skip_framing) {
    HTTPOWER_FUZZ_CHECK(their_chunked == (head.body == httpower::BodyFraming::kChunked));
  }
  if (!skip_framing && head.body == httpower::BodyFraming::kContentLength) {
    HTTPOWER_FUZZ_CHECK(p.content_length == head.content_length);
  }
  if (!skip_framing && head.body == httpower::BodyFraming::kNone) {
    HTTPOWER_FUZZ_CHECK(p.content_length == ULLONG_MAX || p.content_length == 0);
  }
#else
  (void)r;
#endif
  return 0;
}
