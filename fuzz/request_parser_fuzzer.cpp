// request_parser_fuzzer: properties of RequestParser over arbitrary bytes (P1-P4).
//  * P1: every input gets an answer; ASan/UBSan catch any read outside the input (libFuzzer
//    hands over a heap copy of exactly `size` bytes; the replay main does the same).
//  * P2: determinism: two fresh parsers give equal results and equal heads.
//  * P3: consumed <= size and <= max_header_bytes; every view inside [data, data+consumed)
//    (path may be the static kRootPath); header count <= max_headers; statuses and reasons
//    are from the documented set.
//  * P4: two cuts taken from the data give the same result; a complete head's longest strict
//    prefix is Incomplete; bytes after a complete head do not change it.
// The last input byte also picks small limits (64-byte line, 160-byte head, 4 fields) for half
// the inputs, so the 414/431 paths are reached.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "httpower/request_parser.hpp"

namespace {

using httpower::HeaderField;
using httpower::ParseResult;
using httpower::ParseStatus;
using httpower::ParserLimits;
using httpower::RequestHead;
using httpower::RequestParser;

constexpr std::size_t kSlots = 128;

bool inside(std::string_view v, std::string_view buf, std::size_t n) {
  return v.empty() || (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + n);
}

// Everything observable, as owned text, so parses over different buffers compare.
std::string snapshot(const ParseResult& r, const RequestHead& h) {
  std::string s = std::to_string(static_cast<int>(r.status)) + '|' + std::to_string(r.consumed) +
                  '|' + std::to_string(r.error_status) + '|' + std::string(r.error_reason);
  if (r.status != ParseStatus::kComplete) return s;
  for (std::string_view v : {h.method_name, h.target, h.path, h.host, h.range, h.if_range,
                             h.if_match, h.if_none_match, h.if_modified_since,
                             h.if_unmodified_since}) {
    s += '|';
    s += v;
  }
  s += '|' + std::to_string(static_cast<int>(h.method)) + std::to_string(h.minor_version) +
       std::to_string(h.keep_alive) + std::to_string(static_cast<int>(h.body)) + '|' +
       std::to_string(h.content_length);
  for (const HeaderField& f : h.headers) {
    s += '|';
    s += f.name;
    s += ':';
    s += f.value;
  }
  return s;
}

bool is_ows(char c) { return c == ' ' || c == '\t'; }

void check_invariants(const ParseResult& r, const RequestHead& h, std::string_view in,
                      const ParserLimits& limits) {
  switch (r.status) {
    case ParseStatus::kIncomplete:
      HTTPOWER_FUZZ_CHECK(r.consumed == 0 && r.error_status == 0);
      return;
    case ParseStatus::kError: {
      const int st = r.error_status;
      HTTPOWER_FUZZ_CHECK(st == 400 || st == 413 || st == 414 || st == 431 || st == 501 ||
                          st == 505);
      HTTPOWER_FUZZ_CHECK(!r.error_reason.empty() && r.consumed == 0);
      return;
    }
    case ParseStatus::kComplete:
      break;
  }
  HTTPOWER_FUZZ_CHECK(r.consumed <= in.size());
  HTTPOWER_FUZZ_CHECK(r.consumed <= limits.max_header_bytes);
  HTTPOWER_FUZZ_CHECK(in[r.consumed - 1] == '\n');
  HTTPOWER_FUZZ_CHECK(h.headers.size() <= limits.max_headers);
  HTTPOWER_FUZZ_CHECK(!h.method_name.empty() && h.method_name.size() <= 7);
  HTTPOWER_FUZZ_CHECK(h.minor_version >= 0 && h.minor_version <= 9);
  for (std::string_view v : {h.method_name, h.target, h.host, h.range, h.if_range, h.if_match,
                             h.if_none_match, h.if_modified_since, h.if_unmodified_since}) {
    HTTPOWER_FUZZ_CHECK(inside(v, in, r.consumed));
  }
  HTTPOWER_FUZZ_CHECK(inside(h.path, in, r.consumed) ||
                      h.path.data() == RequestParser::kRootPath.data());
  const std::size_t line_end = in.find('\n', static_cast<std::size_t>(h.method_name.data() - in.data()));
  HTTPOWER_FUZZ_CHECK(line_end != std::string_view::npos);
  HTTPOWER_FUZZ_CHECK(h.target.data() + h.target.size() <= in.data() + line_end);
  for (const HeaderField& f : h.headers) {
    HTTPOWER_FUZZ_CHECK(inside(f.name, in, r.consumed) && inside(f.value, in, r.consumed));
    HTTPOWER_FUZZ_CHECK(!f.name.empty());
    for (char c : f.name) HTTPOWER_FUZZ_CHECK(c > ' ' && c != ':' && c != 0x7f);
    for (char c : f.value) {
      const auto u = static_cast<unsigned char>(c);
      HTTPOWER_FUZZ_CHECK(u == '\t' || (u >= 0x20 && u != 0x7f));  // no CR, LF, NUL, CTL
    }
    HTTPOWER_FUZZ_CHECK(f.value.empty() || (!is_ows(f.value.front()) && !is_ows(f.value.back())));
  }
  if (h.body == httpower::BodyFraming::kChunked) HTTPOWER_FUZZ_CHECK(!h.keep_alive);
  if (h.body == httpower::BodyFraming::kContentLength) {
    HTTPOWER_FUZZ_CHECK(h.content_length <= limits.max_content_length);
  }
  if (h.minor_version >= 1 && h.host.empty()) {
    // HTTP/1.1 without a host is only possible with an empty Host field line.
    bool has_host_field = false;
    for (const HeaderField& f : h.headers) {
      has_host_field |= f.name.size() == 4 && (f.name[0] | 0x20) == 'h';
    }
    HTTPOWER_FUZZ_CHECK(has_host_field);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  ParserLimits limits;
  if (size > 0 && (data[size - 1] & 1) != 0) {
    limits.max_request_line = 64;
    limits.max_header_bytes = 160;
    limits.max_headers = 4;
  }
  std::vector<HeaderField> slots(kSlots);
  RequestHead head;

  RequestParser p1(limits);
  const ParseResult r1 = p1.parse(in, slots, head);
  check_invariants(r1, head, in, limits);
  const std::string s1 = snapshot(r1, head);

  // P2: a fresh parser gives the same answer.
  RequestParser p2(limits);
  const ParseResult r2 = p2.parse(in, slots, head);
  HTTPOWER_FUZZ_CHECK(snapshot(r2, head) == s1);
  // Sticky: a second call on a decided parser returns the same.
  if (r2.status != ParseStatus::kIncomplete) {
    HTTPOWER_FUZZ_CHECK(snapshot(p2.parse(in, slots, head), head) == s1);
  }

  // P4: two cuts taken from the data; the later parts come from another buffer.
  if (size >= 2) {
    std::size_t a = (static_cast<std::size_t>(data[0]) * 131 + data[size - 1]) % (size + 1);
    std::size_t b = (static_cast<std::size_t>(data[size / 2]) * 257 + size) % (size + 1);
    if (a > b) std::swap(a, b);
    RequestParser p3(limits);
    const std::string part_a(in.substr(0, a));
    const std::string part_b(in.substr(0, b));
    const std::string whole(in);
    ParseResult r = p3.parse(part_a, slots, head);
    std::string s = snapshot(r, head);
    if (r.status == ParseStatus::kIncomplete) {
      r = p3.parse(part_b, slots, head);
      s = snapshot(r, head);
    }
    if (r.status == ParseStatus::kIncomplete) {
      r = p3.parse(whole, slots, head);
      s = snapshot(r, head);
    }
    HTTPOWER_FUZZ_CHECK(s == s1);
  }

  if (r1.status == ParseStatus::kComplete) {
    // P4: the longest strict prefix is Incomplete; trailing bytes change nothing.
    RequestParser p4(limits);
    HTTPOWER_FUZZ_CHECK(p4.parse(in.substr(0, r1.consumed - 1), slots, head).status ==
                        ParseStatus::kIncomplete);
    RequestParser p5(limits);
    const ParseResult r5 = p5.parse(in.substr(0, r1.consumed), slots, head);
    HTTPOWER_FUZZ_CHECK(snapshot(r5, head) == s1);
  }
  return 0;
}
