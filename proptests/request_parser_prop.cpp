// RequestParser properties (proofs/INVARIANTS.md, section parser):
//  * P5 round trip: for a generated valid request r (method, origin-form target, version,
//    fields), parse(serialize(r)) gives back exactly r, however r is serialized (CRLF or bare
//    LF line ends, OWS around values, empty lines before the request line).
//  * P4 split law: the same bytes fed in any chunking (random cut points, each call with a
//    buffer at a new address) give the one-shot result; for generated requests and for
//    arbitrary HTTP-flavoured byte strings.
// Seed: RapidCheck prints "Using configuration: seed=N"; rerun with RC_PARAMS="seed=N".
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "httpower/request_parser.hpp"
#include "support/rc_scale.hpp"  // 1000 cases at scale 1

namespace httpower {
namespace {

struct Field {
  std::string name;
  std::string value;
};

struct Request {
  std::string method;
  std::string target;
  int minor = 1;
  std::vector<Field> fields;  // Host (when present) is among them
  bool has_host = false;
  std::string host;
  bool close = false;
  bool keep_alive_token = false;
  bool has_content_length = false;
  std::uint64_t content_length = 0;
};

const std::string kTchars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const std::string kPathChars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/%";
const std::string kKnownMethods[] = {"GET", "HEAD", "OPTIONS", "POST", "PUT",
                                     "DELETE", "PATCH", "TRACE"};

rc::Gen<std::string> gen_token(std::size_t min, std::size_t max) {
  return rc::gen::mapcat(rc::gen::inRange(min, max + 1), [](std::size_t n) {
    return rc::gen::container<std::string>(n, rc::gen::elementOf(kTchars));
  });
}

// A field value: field-vchar (VCHAR, obs-text) with inner SP/HTAB, never at either end.
rc::Gen<std::string> gen_value() {
  return rc::gen::map(
      rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 40)), [](std::vector<int> v) {
        std::string s;
        for (int x : v) {
          const int k = ((x % 200) + 200) % 200;
          if (k < 10) {
            s += (k % 2 == 0) ? ' ' : '\t';
          } else if (k < 30) {
            s += static_cast<char>(0x80 + k);  // obs-text
          } else {
            s += static_cast<char>(0x21 + (k % 94));  // VCHAR
          }
        }
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(0, 1);
        return s;
      });
}

rc::Gen<Request> gen_request() {
  return rc::gen::exec([] {
    Request r;
    r.method = *rc::gen::oneOf(rc::gen::elementOf(std::vector<std::string>(
                                   std::begin(kKnownMethods), std::end(kKnownMethods))),
                               gen_token(1, 7));
    r.target = "/" + *rc::gen::container<std::string>(rc::gen::elementOf(kPathChars));
    if (*rc::gen::arbitrary<bool>()) {
      r.target += "?" + *rc::gen::container<std::string>(rc::gen::elementOf(kPathChars + "?"));
    }
    r.minor = *rc::gen::inRange(0, 2);
    r.has_host = r.minor == 1 || *rc::gen::arbitrary<bool>();
    const auto n_fields = *rc::gen::inRange<std::size_t>(0, 12);
    std::vector<Field> others;
    for (std::size_t i = 0; i < n_fields; ++i) {
      // "X-" keeps generated names off the fields with rules (Host, Content-Length, ...).
      others.push_back(Field{"X-" + *gen_token(1, 12), *gen_value()});
    }
    if (r.has_host) {
      r.host = *rc::gen::elementOf(std::vector<std::string>{
          "", "localhost", "example.com:8080", "[::1]", "[2001:db8::1]:443", "a-b.c_d~e", "%41b",
          "127.0.0.1:80", "[::ffff:10.0.0.1]", "1.example"});
      others.insert(others.begin() + static_cast<std::ptrdiff_t>(
                                         *rc::gen::inRange<std::size_t>(0, others.size() + 1)),
                    Field{*rc::gen::elementOf(std::vector<std::string>{"Host", "host", "HOST"}),
                          r.host});
    }
    if (*rc::gen::arbitrary<bool>()) {
      const std::string option = *rc::gen::elementOf(
          std::vector<std::string>{"close", "Keep-Alive", "upgrade", "close, x", "x ,keep-alive"});
      r.close = option.find("close") != std::string::npos;
      r.keep_alive_token = option.find("eep-") != std::string::npos;
      others.push_back(Field{"Connection", option});
    }
    if (*rc::gen::arbitrary<bool>()) {
      r.has_content_length = true;
      r.content_length = *rc::gen::inRange<std::uint64_t>(0, std::uint64_t{1} << 30);
      others.push_back(Field{"Content-Length", std::to_string(r.content_length)});
    }
    r.fields = std::move(others);
    return r;
  });
}

// One way of writing r on the wire; the choices never change what r means.
struct Style {
  std::vector<bool> bare_lf;      // per line
  std::vector<int> ows_before;    // per field: 0..2 SP/HTAB after the colon
  std::vector<int> ows_after;     // per field: 0..2 before the line end
  int leading_empty_lines = 0;
};

rc::Gen<Style> gen_style(std::size_t fields) {
  return rc::gen::exec([fields] {
    Style s;
    s.bare_lf = *rc::gen::container<std::vector<bool>>(fields + 2, rc::gen::arbitrary<bool>());
    s.ows_before = *rc::gen::container<std::vector<int>>(fields, rc::gen::inRange(0, 3));
    s.ows_after = *rc::gen::container<std::vector<int>>(fields, rc::gen::inRange(0, 3));
    s.leading_empty_lines = *rc::gen::inRange(0, 3);
    return s;
  });
}

std::string serialize(const Request& r, const Style& s) {
  auto eol = [&s](std::size_t line) { return s.bare_lf[line] ? "\n" : "\r\n"; };
  std::string out;
  for (int i = 0; i < s.leading_empty_lines; ++i) out += (i % 2 == 0) ? "\r\n" : "\n";
  out += r.method + " " + r.target + " HTTP/1." + std::to_string(r.minor) + eol(0);
  for (std::size_t i = 0; i < r.fields.size(); ++i) {
    out += r.fields[i].name + ":";
    for (int k = 0; k < s.ows_before[i]; ++k) out += (k % 2 == 0) ? ' ' : '\t';
    out += r.fields[i].value;
    for (int k = 0; k < s.ows_after[i]; ++k) out += (k % 2 == 0) ? '\t' : ' ';
    out += eol(i + 1);
  }
  out += eol(r.fields.size() + 1);
  return out;
}

// Owned copy of everything observable.
std::string snapshot(const ParseResult& r, const RequestHead& h) {
  std::string s = std::to_string(static_cast<int>(r.status)) + "|" + std::to_string(r.consumed) +
                  "|" + std::to_string(r.error_status) + "|" + std::string(r.error_reason);
  if (r.status != ParseStatus::kComplete) return s;
  s += "|" + std::string(h.method_name) + "|" + std::string(h.target) + "|" +
       std::string(h.path) + "|" + std::string(h.host) + "|" + std::to_string(h.minor_version) +
       "|" + std::to_string(h.keep_alive) + "|" + std::to_string(static_cast<int>(h.body)) +
       "|" + std::to_string(h.content_length);
  for (const auto& f : h.headers) s += "|" + std::string(f.name) + ":" + std::string(f.value);
  return s;
}

std::string parse_once(const std::string& in) {
  RequestParser p;
  std::vector<HeaderField> slots(128);
  RequestHead head;
  const ParseResult r = p.parse(in, slots, head);
  return snapshot(r, head);
}

// Feeds `in` growing through `cuts` (sorted), each call from a fresh heap copy.
std::string parse_split(const std::string& in, std::vector<std::size_t> cuts) {
  RequestParser p;
  std::vector<HeaderField> slots(128);
  RequestHead head;
  cuts.push_back(in.size());
  std::sort(cuts.begin(), cuts.end());
  ParseResult r{};
  std::string buffer;
  for (std::size_t c : cuts) {
    buffer = in.substr(0, std::min(c, in.size()));  // a new buffer each call
    buffer.reserve(buffer.size() + 1 + c % 64);     // and often a new address
    r = p.parse(buffer, slots, head);
    if (r.status != ParseStatus::kIncomplete) break;
  }
  return snapshot(r, head);
}

rc::Gen<std::vector<std::size_t>> gen_cuts(std::size_t size) {
  return rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(0, size + 1));
}

RC_GTEST_PROP(RequestParserProp, P5_ParseOfSerializeGivesBackTheRequest, ()) {
  const Request r = *gen_request();
  const Style style = *gen_style(r.fields.size());
  const std::string wire = serialize(r, style);
  RC_TAG(r.minor);
  RequestParser parser;
  std::vector<HeaderField> slots(128);
  RequestHead head;
  const ParseResult res = parser.parse(wire, slots, head);
  RC_ASSERT(res.status == ParseStatus::kComplete);
  RC_ASSERT(res.consumed == wire.size());
  RC_ASSERT(head.method_name == r.method);
  const bool known = std::find(std::begin(kKnownMethods), std::end(kKnownMethods), r.method) !=
                     std::end(kKnownMethods);
  RC_ASSERT((head.method == Method::kUnknown) == !known);
  if (known) RC_ASSERT(to_string(head.method) == r.method);
  RC_ASSERT(head.target == r.target);
  RC_ASSERT(head.path == r.target);
  RC_ASSERT(head.minor_version == r.minor);
  RC_ASSERT(head.host == r.host);
  RC_ASSERT(head.headers.size() == r.fields.size());
  for (std::size_t i = 0; i < r.fields.size(); ++i) {
    RC_ASSERT(head.headers[i].name == r.fields[i].name);
    RC_ASSERT(head.headers[i].value == r.fields[i].value);
  }
  const bool keep_alive = r.minor >= 1 ? !r.close : (r.keep_alive_token && !r.close);
  RC_ASSERT(head.keep_alive == keep_alive);
  RC_ASSERT(head.body == (r.has_content_length ? BodyFraming::kContentLength : BodyFraming::kNone));
  RC_ASSERT(head.content_length == r.content_length);
}

RC_GTEST_PROP(RequestParserProp, P4_GeneratedRequestsGiveTheSameResultInAnyChunking, ()) {
  const Request r = *gen_request();
  const std::string wire = serialize(r, *gen_style(r.fields.size())) +
                           *rc::gen::container<std::string>(rc::gen::arbitrary<char>());
  const auto cuts = *gen_cuts(wire.size());
  RC_ASSERT(parse_split(wire, cuts) == parse_once(wire));
}

// HTTP-flavoured arbitrary bytes: mostly the characters that matter to the grammar.
rc::Gen<std::string> gen_noise() {
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(
                          std::vector<std::string>{"GET", " ", "/", "a", "HTTP/1.1", "HTTP/1.0",
                                                   "HTTP/2.0", "\r\n", "\n", "\r", ":", "\t",
                                                   "Host", "Content-Length", "Transfer-Encoding",
                                                   "chunked", "1", ",", std::string(1, '\0'),
                                                   "\x7f", "\xff", "*", "http://", "@", "?"})),
                      [](const std::vector<std::string>& parts) {
                        std::string s;
                        for (const auto& p : parts) s += p;
                        return s;
                      });
}

RC_GTEST_PROP(RequestParserProp, P4_ArbitraryBytesGiveTheSameResultInAnyChunking, ()) {
  const std::string in = *gen_noise();
  const auto cuts = *gen_cuts(in.size());
  RC_ASSERT(parse_split(in, cuts) == parse_once(in));
}

RC_GTEST_PROP(RequestParserProp, P4_StrictPrefixesOfACompleteHeadAreIncomplete, ()) {
  const Request r = *gen_request();
  const std::string wire = serialize(r, *gen_style(r.fields.size()));
  const auto k = *rc::gen::inRange<std::size_t>(0, wire.size());
  RC_ASSERT(parse_once(wire.substr(0, k)) == "1|0|0|");  // kIncomplete
}

}  // namespace
}  // namespace httpower
