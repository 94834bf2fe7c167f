// Fuzzes the path bytes -> RequestParser -> resolve_target -> plan_response. Input: byte 0
// picks the file kind (bits 0-2) and the draining flag (bit 3); byte 1 the file size; the
// rest is the request. Properties of every plan:
//  - the head is one status line and CRLF-terminated field lines with no other control
//    bytes, ending in the only empty line;
//  - R1: for GET/HEAD, the HEAD plan's head equals the GET plan's (both without Range) and
//    HEAD has no body segment;
//  - R2: 1xx/204/304 have no body segment and no Content-Length;
//  - R3: Content-Length (when sent, not HEAD) equals the sum of the body segments;
//  - parse errors close the connection; file segments stay inside the file.
// Uses the real parser when core has it; otherwise a tiny line splitter builds the head.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "httpower/response_planner.hpp"
#if __has_include("httpower/request_parser.hpp")
#include "httpower/request_parser.hpp"
#define HTTPOWER_HAVE_PARSER 1
#endif

namespace {

using namespace httpower;

void check_head_syntax(const ResponsePlan& p) {
  const std::string_view h = p.head();
  HTTPOWER_FUZZ_CHECK(h.starts_with("HTTP/1.1 "));
  HTTPOWER_FUZZ_CHECK(h.size() >= 4 && h.substr(h.size() - 4) == "\r\n\r\n");
  HTTPOWER_FUZZ_CHECK(h.find("\r\n\r\n") == h.size() - 4);
  for (std::size_t i = 0; i < h.size(); ++i) {
    const auto c = static_cast<unsigned char>(h[i]);
    if (c == '\r') {
      HTTPOWER_FUZZ_CHECK(i + 1 < h.size() && h[i + 1] == '\n');
    } else if (c == '\n') {
      HTTPOWER_FUZZ_CHECK(i > 0 && h[i - 1] == '\r');
    } else {
      HTTPOWER_FUZZ_CHECK(c >= 0x20 && c != 0x7f);
    }
  }
  HTTPOWER_FUZZ_CHECK(h.find("\r\nDate: ") != std::string_view::npos);
  HTTPOWER_FUZZ_CHECK(h.find("\r\nServer: ") != std::string_view::npos);
}

void check_plan(const ResponsePlan& p, bool is_head, std::uint64_t file_size) {
  check_head_syntax(p);
  const int s = p.status();
  HTTPOWER_FUZZ_CHECK(s >= 100 && s <= 599);
  const bool has_cl_field = p.head().find("\r\nContent-Length: ") != std::string_view::npos;
  HTTPOWER_FUZZ_CHECK(has_cl_field == p.has_content_length());
  if (s < 200 || s == 204 || s == 304) {  // R2
    HTTPOWER_FUZZ_CHECK(p.body().empty());
    HTTPOWER_FUZZ_CHECK(!p.has_content_length());
    return;
  }
  HTTPOWER_FUZZ_CHECK(p.has_content_length());
  if (is_head) {
    HTTPOWER_FUZZ_CHECK(p.body().empty());  // R1
  } else {
    HTTPOWER_FUZZ_CHECK(p.content_length() == p.body_length());  // R3
  }
  for (const BodySegment& seg : p.body()) {
    if (seg.kind == BodySegment::Kind::kFile) {
      HTTPOWER_FUZZ_CHECK(seg.length <= file_size && seg.offset <= file_size - seg.length);
    }
  }
}

// R1: HEAD and GET of the same request (Range removed: HEAD ignores it, §14.2).
void check_parity(const RequestHead& head, const FileFacts& f, const PlanContext& ctx) {
  RequestHead g = head, h = head;
  g.method = Method::kGet;
  h.method = Method::kHead;
  g.range = h.range = {};
  std::string b1, b2;
  const ResolvedTarget tg = resolve_target(g.path, b1);
  const ResolvedTarget th = resolve_target(h.path, b2);
  ResponsePlan pg, ph;
  plan_response(g, tg, f, ctx, pg);
  plan_response(h, th, f, ctx, ph);
  HTTPOWER_FUZZ_CHECK(pg.head() == ph.head());
  HTTPOWER_FUZZ_CHECK(ph.body().empty());
  check_plan(pg, false, f.size);
  check_plan(ph, true, f.size);
}

#ifndef HTTPOWER_HAVE_PARSER
// Fallback: "METHOD path\nName: value\n..." into a head (views into `in`).
bool mini_parse(std::string_view in, RequestHead& h) {
  const std::size_t nl = in.find('\n');
  const std::string_view line = in.substr(0, nl);
  const std::size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return false;
  const std::string_view m = line.substr(0, sp);
  h.method = m == "GET" ? Method::kGet : m == "HEAD" ? Method::kHead : m == "OPTIONS" ? Method::kOptions
           : m == "POST" ? Method::kPost : Method::kUnknown;
  h.path = h.target = line.substr(sp + 1);
  std::string_view rest = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  while (!rest.empty()) {
    const std::size_t e = rest.find('\n');
    const std::string_view f = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 1);
    const std::size_t c = f.find(": ");
    if (c == std::string_view::npos) continue;
    const std::string_view n = f.substr(0, c), v = f.substr(c + 2);
    if (n == "Range") h.range = v;
    if (n == "If-Range") h.if_range = v;
    if (n == "If-Match") h.if_match = v;
    if (n == "If-None-Match") h.if_none_match = v;
    if (n == "If-Modified-Since") h.if_modified_since = v;
    if (n == "If-Unmodified-Since") h.if_unmodified_since = v;
    if (n == "Connection" && v == "close") h.keep_alive = false;
  }
  return true;
}
#endif

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  FileFacts f;
  f.kind = static_cast<FileKind>((data[0] & 7) % 5);
  f.size = data[1];
  f.mtime_sec = 784111777;
  f.mtime_nsec = 5;
  const PlanContext ctx{784111777 + 3600, (data[0] & 8) != 0, "fuzz"};
  const std::string_view in(reinterpret_cast<const char*>(data + 2), size - 2);

  RequestHead head;
#ifdef HTTPOWER_HAVE_PARSER
  std::array<HeaderField, 128> slots;
  RequestParser parser;
  const ParseResult pr = parser.parse(in, slots, head);
  if (pr.status == ParseStatus::kIncomplete) return 0;
  if (pr.status == ParseStatus::kError) {
    ResponsePlan p;
    plan_parse_error(pr.error_status, ctx, p);
    check_plan(p, false, 0);
    HTTPOWER_FUZZ_CHECK(!p.keep_alive());
    HTTPOWER_FUZZ_CHECK(p.status() == pr.error_status);
    return 0;
  }
#else
  if (!mini_parse(in, head)) return 0;
#endif
  std::string buf;
  const ResolvedTarget t = resolve_target(head.path, buf);
  ResponsePlan p;
  plan_response(head, t, f, ctx, p);
  check_plan(p, head.method == Method::kHead, f.size);
  if (!head.keep_alive || ctx.closing) HTTPOWER_FUZZ_CHECK(!p.keep_alive());
  if (head.method == Method::kGet || head.method == Method::kHead) check_parity(head, f, ctx);
  // clear() then re-plan gives the same bytes (deterministic, no stale state).
  const std::string first(p.head());
  plan_response(head, t, f, ctx, p);
  HTTPOWER_FUZZ_CHECK(p.head() == first);
  return 0;
}
