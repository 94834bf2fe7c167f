#include "httpower/request_parser.hpp"

#include <algorithm>
#include <array>

namespace httpower {
namespace {

// Character classes (RFC 9110 §5.6.2 tchar, RFC 3986 URI characters, RFC 9110 §5.5 field
// values). One table lookup per byte keeps the inner loops branch-light.
enum : std::uint8_t {
  kTchar = 1,       // token character
  kTargetChar = 2,  // origin-form path/query: unreserved, sub-delims, ':', '@', '/', '?', '%'
  kValueChar = 4,   // field-vchar (VCHAR, obs-text), SP, HTAB
  kAuthChar = 8,    // authority: unreserved, sub-delims, ':', '%', '[', ']' (not '@')
  kSchemeChar = 16, // ALPHA DIGIT '+' '-' '.'
  kRegNameChar = 32 // reg-name: unreserved, sub-delims (and '%' escapes, checked apart)
};

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> t{};
  auto add = [&t](std::string_view chars, std::uint8_t cls) {
    for (char c : chars) t[static_cast<unsigned char>(c)] |= cls;
  };
  constexpr std::string_view alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  constexpr std::string_view digit = "0123456789";
  constexpr std::string_view unreserved_extra = "-._~";
  constexpr std::string_view sub_delims = "!$&'()*+,;=";
  for (auto cls : {kTchar, kTargetChar, kAuthChar, kRegNameChar}) {
    add(alpha, cls);
    add(digit, cls);
  }
  add("!#$%&'*+-.^_`|~", kTchar);
  add(unreserved_extra, kTargetChar | kAuthChar | kRegNameChar);
  add(sub_delims, kTargetChar | kAuthChar | kRegNameChar);
  add(":@/?%", kTargetChar);
  add(":%[]", kAuthChar);
  add(alpha, kSchemeChar);
  add(digit, kSchemeChar);
  add("+-.", kSchemeChar);
  for (int c = 0x21; c <= 0x7e; ++c) t[static_cast<std::size_t>(c)] |= kValueChar;
  for (int c = 0x80; c <= 0xff; ++c) t[static_cast<std::size_t>(c)] |= kValueChar;
  t[' '] |= kValueChar;
  t['\t'] |= kValueChar;
  return t;
}
constexpr std::array<std::uint8_t, 256> kClasses = make_classes();

inline bool is(unsigned char c, std::uint8_t cls) { return (kClasses[c] & cls) != 0; }
inline bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
inline bool is_hex(unsigned char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
inline bool is_alpha(unsigned char c) { return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'); }
inline bool is_ows(unsigned char c) { return c == ' ' || c == '\t'; }

// Case-insensitive equality of a token against a lowercase literal. Safe for tokens: the
// only bytes that |0x20 maps onto lowercase letters or '-' are the uppercase letters and CR,
// and CR is never part of a token or a trimmed list element.
inline bool iequals(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) | 0x20) != static_cast<unsigned char>(lower[i])) {
      return false;
    }
  }
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && is_ows(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Calls f(element) for each comma-separated element, OWS-trimmed; empty elements are skipped
// (RFC 9110 §5.6.1: recipients accept and ignore them).
template <typename F>
void for_each_element(std::string_view list, F&& f) {
  while (true) {
    const std::size_t comma = list.find(',');
    const std::string_view element = trim_ows(list.substr(0, comma));
    if (!element.empty()) f(element);
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

bool valid_port(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return is_digit(static_cast<unsigned char>(c)); });
}

// uri-host [":" port] (RFC 3986 §3.2.2, RFC 9110 §7.2); s is non-empty.
bool valid_host(std::string_view s) {
  std::size_t i = 0;
  if (s[0] == '[') {  // IP-literal: IPv6address or IPvFuture, checked by character set only
    const std::size_t close = s.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (i = 1; i < close; ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (!(is(c, kRegNameChar) || c == ':')) return false;
    }
    i = close + 1;
  } else {
    while (i < s.size() && s[i] != ':') {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c == '%') {
        if (i + 2 >= s.size() || !is_hex(static_cast<unsigned char>(s[i + 1])) ||
            !is_hex(static_cast<unsigned char>(s[i + 2]))) {
          return false;
        }
        i += 3;
        continue;
      }
      if (!is(c, kRegNameChar)) return false;
      ++i;
    }
    if (i == 0) return false;  // ":80": a port without a host
  }
  if (i == s.size()) return true;
  if (s[i] != ':') return false;
  return valid_port(s.substr(i + 1));
}

// authority-form (CONNECT) needs ":port" with at least one digit (§3.2.3).
bool has_port(std::string_view authority) {
  const std::size_t bracket = authority.rfind(']');
  const std::size_t colon = authority.find(':', bracket == std::string_view::npos ? 0 : bracket);
  return colon != std::string_view::npos && colon + 1 < authority.size();
}

Method method_from_token(std::string_view m) {
  switch (m.size()) {
    case 3:
      if (m == "GET") return Method::kGet;
      if (m == "PUT") return Method::kPut;
      break;
    case 4:
      if (m == "HEAD") return Method::kHead;
      if (m == "POST") return Method::kPost;
      break;
    case 5:
      if (m == "PATCH") return Method::kPatch;
      if (m == "TRACE") return Method::kTrace;
      break;
    case 6:
      if (m == "DELETE") return Method::kDelete;
      break;
    case 7:
      if (m == "OPTIONS") return Method::kOptions;
      if (m == "CONNECT") return Method::kConnect;
      break;
    default:
      break;
  }
  return Method::kUnknown;
}
constexpr std::size_t kLongestMethod = 7;  // OPTIONS, CONNECT

// Distinct reasons, one per kind of failure (they end up in logs and error bodies).
namespace reason {
constexpr std::string_view kBareCr = "bare CR (not followed by LF)";
constexpr std::string_view kShrunk = "caller passed a shorter buffer than before";
constexpr std::string_view kBeforeRequestLine = "invalid character before the request line";
constexpr std::string_view kMethodChar = "invalid character in method";
constexpr std::string_view kMethodTooLong = "method longer than any implemented";
constexpr std::string_view kEmptyTarget = "empty request-target";
constexpr std::string_view kTargetChar = "invalid character in request-target";
constexpr std::string_view kNoVersion = "request line without an HTTP version";
constexpr std::string_view kAsteriskMethod = "asterisk-form is only allowed with OPTIONS";
constexpr std::string_view kAsteriskForm = "invalid asterisk-form request-target";
constexpr std::string_view kScheme = "absolute-form scheme is not http or https";
constexpr std::string_view kNoSlashes = "absolute-form without \"//\" after the scheme";
constexpr std::string_view kUserinfo = "userinfo in the request-target authority";
constexpr std::string_view kAuthority = "invalid authority in the request-target";
constexpr std::string_view kEmptyPathQuery = "absolute-form with an empty path and a query";
constexpr std::string_view kAuthorityForm = "CONNECT needs an authority-form request-target";
constexpr std::string_view kVersion = "malformed HTTP version";
constexpr std::string_view kMajor = "HTTP major version not supported";
constexpr std::string_view kLineTooLong = "request line too long";
constexpr std::string_view kHeadTooLarge = "request header section too large";
constexpr std::string_view kTooManyFields = "too many header fields";
constexpr std::string_view kWsAfterStartLine = "whitespace between the start line and the first field";
constexpr std::string_view kObsFold = "obs-fold (field line starting with whitespace)";
constexpr std::string_view kEmptyName = "empty field name";
constexpr std::string_view kNameChar = "invalid character in field name";
constexpr std::string_view kWsBeforeColon = "whitespace between field name and colon";
constexpr std::string_view kNoColon = "field line without a colon";
constexpr std::string_view kValueChar = "invalid character in field value";
constexpr std::string_view kNoHost = "HTTP/1.1 request without Host";
constexpr std::string_view kTwoHosts = "more than one Host field";
constexpr std::string_view kBadHost = "invalid Host value";
constexpr std::string_view kBadContentLength = "invalid Content-Length";
constexpr std::string_view kContentLengthOverflow = "Content-Length does not fit 64 bits";
constexpr std::string_view kDifferingContentLength = "differing Content-Length values";
constexpr std::string_view kContentLengthLimit = "Content-Length above the server's limit";
constexpr std::string_view kTeHttp10 = "Transfer-Encoding in an HTTP/1.0 request";
constexpr std::string_view kTeAndCl = "Transfer-Encoding together with Content-Length";
constexpr std::string_view kTeMalformed = "malformed Transfer-Encoding";
constexpr std::string_view kTeUnknown = "unknown transfer coding";
constexpr std::string_view kTeAfterChunked = "transfer coding after chunked";
constexpr std::string_view kTeNotChunked = "final transfer coding is not chunked";
constexpr std::string_view kDupRange = "more than one Range field";
constexpr std::string_view kDupIfRange = "more than one If-Range field";
constexpr std::string_view kDupIfMatch = "more than one If-Match field";
constexpr std::string_view kDupIfNoneMatch = "more than one If-None-Match field";
constexpr std::string_view kDupIfModifiedSince = "more than one If-Modified-Since field";
constexpr std::string_view kDupIfUnmodifiedSince = "more than one If-Unmodified-Since field";
}  // namespace reason

constexpr ParseResult kOk{ParseStatus::kIncomplete, 0, 0, {}};  // "no error" from helpers
inline bool failed(const ParseResult& r) { return r.status == ParseStatus::kError; }

std::size_t clamp_limit(std::size_t v) {
  return std::clamp<std::size_t>(v, RequestParser::kMinLimit, RequestParser::kMaxHeadBytes);
}

}  // namespace

namespace {
constexpr char kRootPathStorage[] = "/";
}  // namespace
const std::string_view RequestParser::kRootPath{kRootPathStorage, 1};

RequestParser::RequestParser(ParserLimits limits) noexcept : limits_(limits) {
  limits_.max_request_line = clamp_limit(limits_.max_request_line);
  limits_.max_header_bytes = clamp_limit(limits_.max_header_bytes);
  limits_.max_headers = std::min(limits_.max_headers, kMaxHeaderFields);
}

ParseResult RequestParser::fail(int status, std::string_view why) noexcept {
  state_ = State::kDone;
  result_ = ParseResult{ParseStatus::kError, 0, status, why};
  return result_;
}

ParseResult RequestParser::parse(std::string_view buffer, std::span<HeaderField> slots,
                                 RequestHead& head) noexcept {
  if (state_ == State::kDone) {
    // Sticky. A complete head is filled again from this call's buffer (it may have moved).
    if (result_.status == ParseStatus::kComplete) {
      if (buffer.size() < result_.consumed) return fail(400, reason::kShrunk);
      fill(buffer, slots, head);
    }
    return result_;
  }
  if (buffer.size() < pos_) return fail(400, reason::kShrunk);

  const auto* p = reinterpret_cast<const unsigned char*>(buffer.data());
  const std::size_t n = buffer.size();
  const std::size_t head_limit = limits_.max_header_bytes;  // first byte index over the limit
  const std::size_t stop = std::min(n, head_limit);          // inner loops never pass this
  std::size_t i = pos_;
  // The request line's first byte index over its limit; meaningful once line_start_ is set.
  auto line_limit = [this] { return std::size_t{line_start_} + limits_.max_request_line; };

  for (;;) {
    if (i >= n) {
      pos_ = static_cast<std::uint32_t>(i);
      return ParseResult{};
    }
    if (i >= head_limit) return fail(431, reason::kHeadTooLarge);
    const unsigned char c = p[i];
    switch (state_) {
      case State::kLeadingLine:
        if (c == '\r') {
          state_ = State::kLeadingCr;
          ++i;
        } else if (c == '\n') {
          ++i;  // §2.2: empty lines before the request line are ignored
        } else if (is(c, kTchar)) {
          line_start_ = static_cast<std::uint16_t>(i);
          state_ = State::kMethod;
        } else {
          return fail(400, reason::kBeforeRequestLine);
        }
        break;

      case State::kLeadingCr:
        if (c != '\n') return fail(400, reason::kBareCr);
        state_ = State::kLeadingLine;
        ++i;
        break;

      case State::kMethod: {
        // At most kLongestMethod + 1 bytes are examined here, so no per-byte limit check
        // beyond the head's: kMinLimit > kLongestMethod keeps 501 ahead of 414.
        const std::size_t s = std::min(stop, std::size_t{line_start_} + kLongestMethod + 1);
        while (i < s && is(p[i], kTchar)) ++i;
        if (i - line_start_ > kLongestMethod) return fail(501, reason::kMethodTooLong);
        if (i == s) break;  // the loop head reports kIncomplete or 431
        if (p[i] != ' ') return fail(400, reason::kMethodChar);
        method_end_ = static_cast<std::uint16_t>(i);
        method_ = method_from_token(buffer.substr(line_start_, i - line_start_));
        state_ = State::kTargetStart;
        ++i;
        break;
      }

      case State::kTargetStart:
        if (i >= line_limit()) return fail(414, reason::kLineTooLong);
        target_start_ = static_cast<std::uint16_t>(i);
        if (method_ == Method::kConnect) {  // §3.2.3: authority-form, and only it
          form_ = Form::kAuthority;
          authority_start_ = target_start_;
          state_ = State::kAuthority;
        } else if (c == '/') {
          form_ = Form::kOrigin;
          path_start_ = target_start_;
          state_ = State::kPath;
          ++i;
        } else if (c == '*') {
          form_ = Form::kAsterisk;
          state_ = State::kAsterisk;
          ++i;
        } else if (is_alpha(c)) {
          form_ = Form::kAbsolute;
          state_ = State::kScheme;
          ++i;
        } else if (c == ' ') {
          return fail(400, reason::kEmptyTarget);
        } else if (c == '\r' || c == '\n') {
          return fail(400, reason::kNoVersion);
        } else {
          return fail(400, reason::kTargetChar);
        }
        break;

      case State::kPath: {
        const std::size_t s = std::min(stop, line_limit());
        // The hot loop: unrolled, one table lookup per byte.
        while (i + 4 <= s && is(p[i], kTargetChar) && is(p[i + 1], kTargetChar) &&
               is(p[i + 2], kTargetChar) && is(p[i + 3], kTargetChar)) {
          i += 4;
        }
        while (i < s && is(p[i], kTargetChar)) ++i;
        if (i == s) {
          if (i < n && i == line_limit()) return fail(414, reason::kLineTooLong);
          break;
        }
        if (p[i] == ' ') {
          target_end_ = static_cast<std::uint16_t>(i);
          state_ = State::kVersion;
          ++i;
          break;
        }
        if (p[i] == '\r' || p[i] == '\n') return fail(400, reason::kNoVersion);
        return fail(400, reason::kTargetChar);
      }

      case State::kAsterisk:
        if (i >= line_limit()) return fail(414, reason::kLineTooLong);
        if (c == '\r' || c == '\n') return fail(400, reason::kNoVersion);
        if (c != ' ') return fail(400, reason::kAsteriskForm);
        if (method_ != Method::kOptions) return fail(400, reason::kAsteriskMethod);
        target_end_ = static_cast<std::uint16_t>(i);
        path_start_ = target_start_;
        state_ = State::kVersion;
        ++i;
        break;

      case State::kScheme: {
        const std::size_t s = std::min(stop, line_limit());
        while (i < s && is(p[i], kSchemeChar)) ++i;
        if (i == s) {
          if (i < n && i == line_limit()) return fail(414, reason::kLineTooLong);
          break;
        }
        if (p[i] != ':') {
          if (p[i] == '\r' || p[i] == '\n') return fail(400, reason::kNoVersion);
          return fail(400, reason::kTargetChar);
        }
        const std::string_view scheme = buffer.substr(target_start_, i - target_start_);
        if (!iequals(scheme, "http") && !iequals(scheme, "https")) {
          return fail(400, reason::kScheme);
        }
        state_ = State::kSchemeSlash1;
        ++i;
        break;
      }

      case State::kSchemeSlash1:
      case State::kSchemeSlash2:
        if (i >= line_limit()) return fail(414, reason::kLineTooLong);
        if (c != '/') return fail(400, reason::kNoSlashes);
        ++i;
        if (state_ == State::kSchemeSlash1) {
          state_ = State::kSchemeSlash2;
        } else {
          authority_start_ = static_cast<std::uint16_t>(i);
          state_ = State::kAuthority;
        }
        break;

      case State::kAuthority: {
        const std::size_t s = std::min(stop, line_limit());
        while (i < s && is(p[i], kAuthChar)) ++i;
        if (i == s) {
          if (i < n && i == line_limit()) return fail(414, reason::kLineTooLong);
          break;
        }
        const unsigned char d = p[i];
        if (d == '@') return fail(400, reason::kUserinfo);
        const std::string_view authority =
            buffer.substr(authority_start_, i - authority_start_);
        if (form_ == Form::kAuthority) {
          // CONNECT host:port. §3.2.3: the port is required.
          if (d == '\r' || d == '\n') return fail(400, reason::kNoVersion);
          if (d != ' ' || authority.empty() || !valid_host(authority) || !has_port(authority)) {
            return fail(400, reason::kAuthorityForm);
          }
          authority_end_ = static_cast<std::uint16_t>(i);
          target_end_ = authority_end_;
          path_start_ = target_end_;
          state_ = State::kVersion;
          ++i;
          break;
        }
        if (d != '/' && d != '?' && d != ' ') {
          if (d == '\r' || d == '\n') return fail(400, reason::kNoVersion);
          return fail(400, reason::kAuthority);
        }
        // RFC 9110 §4.2.1: an http(s) URI with an empty host is invalid.
        if (authority.empty() || !valid_host(authority)) return fail(400, reason::kAuthority);
        authority_end_ = static_cast<std::uint16_t>(i);
        path_start_ = authority_end_;
        if (d == '?') return fail(400, reason::kEmptyPathQuery);
        if (d == '/') {
          state_ = State::kPath;
          ++i;
        } else {  // "http://host " : the path is "/" (kRootPath)
          target_end_ = static_cast<std::uint16_t>(i);
          state_ = State::kVersion;
          ++i;
        }
        break;
      }

      case State::kVersion:
        if (c == '\r' || c == '\n') {
          if (version_index_ != 8) return fail(400, reason::kVersion);
          if (major_ != 1) return fail(505, reason::kMajor);
          state_ = c == '\r' ? State::kRequestLineCr : State::kFieldStart;
          ++i;
          break;
        }
        if (i >= line_limit()) return fail(414, reason::kLineTooLong);
        switch (version_index_) {
          case 0: case 1: case 2: case 3: case 4:
            if (c != static_cast<unsigned char>("HTTP/"[version_index_])) {
              return fail(400, reason::kVersion);
            }
            break;
          case 5:
            if (!is_digit(c)) return fail(400, reason::kVersion);
            major_ = static_cast<std::uint8_t>(c - '0');
            break;
          case 6:
            if (c != '.') return fail(400, reason::kVersion);
            break;
          case 7:
            if (!is_digit(c)) return fail(400, reason::kVersion);
            minor_ = static_cast<std::uint8_t>(c - '0');
            break;
          default:
            return fail(400, reason::kVersion);
        }
        ++version_index_;
        ++i;
        break;

      case State::kRequestLineCr:
        if (c != '\n') return fail(400, reason::kBareCr);
        state_ = State::kFieldStart;
        ++i;
        break;

      case State::kFieldStart:
        if (c == '\r') {
          state_ = State::kFinalCr;
          ++i;
        } else if (c == '\n') {
          pos_ = static_cast<std::uint32_t>(i + 1);
          return complete(buffer, slots, head);
        } else if (is(c, kTchar)) {
          name_start_ = static_cast<std::uint16_t>(i);
          state_ = State::kFieldName;
          ++i;
        } else if (is_ows(c)) {
          // §2.2 (before the first field) and §5.2 (obs-fold): both rejected, never merged.
          return fail(400, field_count_ == 0 ? reason::kWsAfterStartLine : reason::kObsFold);
        } else if (c == ':') {
          return fail(400, reason::kEmptyName);
        } else {
          return fail(400, reason::kNameChar);
        }
        break;

      case State::kFieldName: {
        while (i < stop && is(p[i], kTchar)) ++i;
        if (i == stop) break;
        const unsigned char d = p[i];
        if (d == ':') {
          name_end_ = static_cast<std::uint16_t>(i);
          state_ = State::kValueLeadingWs;
          ++i;
          break;
        }
        if (is_ows(d)) return fail(400, reason::kWsBeforeColon);  // §5.1
        if (d == '\r' || d == '\n') return fail(400, reason::kNoColon);
        return fail(400, reason::kNameChar);
      }

      case State::kValueLeadingWs:
        while (i < stop && is_ows(p[i])) ++i;
        if (i == stop) break;
        value_start_ = static_cast<std::uint16_t>(i);
        state_ = State::kValue;
        break;

      case State::kValue: {
        while (i + 4 <= stop && is(p[i], kValueChar) && is(p[i + 1], kValueChar) &&
               is(p[i + 2], kValueChar) && is(p[i + 3], kValueChar)) {
          i += 4;
        }
        while (i < stop && is(p[i], kValueChar)) ++i;
        if (i == stop) break;
        const unsigned char d = p[i];
        if (d == '\r') {
          // The value ends at this CR; kValueCr checks the LF and ends the field at i - 1.
          state_ = State::kValueCr;
          ++i;
          break;
        }
        if (d == '\n') {
          if (auto r = end_field(buffer, i); failed(r)) return r;
          ++i;
          state_ = State::kFieldStart;
          break;
        }
        return fail(400, reason::kValueChar);  // NUL, DEL, other CTLs (RFC 9110 §5.5)
      }

      case State::kValueCr:
        if (c != '\n') return fail(400, reason::kBareCr);
        if (auto r = end_field(buffer, i - 1); failed(r)) return r;
        state_ = State::kFieldStart;
        ++i;
        break;

      case State::kFinalCr:
        if (c != '\n') return fail(400, reason::kBareCr);
        pos_ = static_cast<std::uint32_t>(i + 1);
        return complete(buffer, slots, head);

      case State::kDone:
        return result_;  // unreachable: handled on entry
    }
  }
}

ParseResult RequestParser::end_field(std::string_view buffer, std::size_t value_end) noexcept {
  while (value_end > value_start_ && is_ows(static_cast<unsigned char>(buffer[value_end - 1]))) {
    --value_end;  // trailing OWS; leading OWS was skipped in kValueLeadingWs
  }
  if (field_count_ >= limits_.max_headers) return fail(431, reason::kTooManyFields);
  const Span16 name{name_start_, static_cast<std::uint16_t>(name_end_ - name_start_)};
  const Span16 value{value_start_, static_cast<std::uint16_t>(value_end - value_start_)};
  fields_[field_count_++] = FieldSpans{name, value};
  return field_semantics(buffer.substr(name.off, name.len), buffer.substr(value.off, value.len),
                         value);
}

ParseResult RequestParser::extract(Extracted& slot, Span16 value_span,
                                   std::string_view dup_reason) noexcept {
  if (slot.seen) return fail(400, dup_reason);
  slot.seen = true;
  slot.value = value_span;
  return kOk;
}

ParseResult RequestParser::field_semantics(std::string_view name, std::string_view value,
                                           Span16 value_span) noexcept {
  switch (name.size()) {
    case 4:
      if (iequals(name, "host")) {
        if (host_.seen) return fail(400, reason::kTwoHosts);
        if (!value.empty() && !valid_host(value)) return fail(400, reason::kBadHost);
        return extract(host_, value_span, reason::kTwoHosts);
      }
      break;
    case 5:
      if (iequals(name, "range")) return extract(range_, value_span, reason::kDupRange);
      break;
    case 8:
      if (iequals(name, "if-range")) return extract(if_range_, value_span, reason::kDupIfRange);
      if (iequals(name, "if-match")) return extract(if_match_, value_span, reason::kDupIfMatch);
      break;
    case 10:
      if (iequals(name, "connection")) on_connection(value);
      break;
    case 13:
      if (iequals(name, "if-none-match")) {
        return extract(if_none_match_, value_span, reason::kDupIfNoneMatch);
      }
      break;
    case 14:
      if (iequals(name, "content-length")) return on_content_length(value);
      break;
    case 17:
      if (iequals(name, "transfer-encoding")) return on_transfer_encoding(value);
      if (iequals(name, "if-modified-since")) {
        return extract(if_modified_since_, value_span, reason::kDupIfModifiedSince);
      }
      break;
    case 19:
      if (iequals(name, "if-unmodified-since")) {
        return extract(if_unmodified_since_, value_span, reason::kDupIfUnmodifiedSince);
      }
      break;
    default:
      break;
  }
  return kOk;
}

ParseResult RequestParser::on_content_length(std::string_view value) noexcept {
  // §6.3 item 5 / RFC 9110 §8.6: 1*DIGIT. "+1", "-1", "1,2", "", " 1 2" are all invalid.
  if (value.empty()) return fail(400, reason::kBadContentLength);
  std::uint64_t v = 0;
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (!is_digit(c)) return fail(400, reason::kBadContentLength);
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return fail(400, reason::kContentLengthOverflow);
    v = v * 10 + d;
  }
  if (content_length_seen_ && v != content_length_) {
    return fail(400, reason::kDifferingContentLength);
  }
  content_length_seen_ = true;  // identical duplicates are one value
  content_length_ = v;
  return kOk;
}

ParseResult RequestParser::on_transfer_encoding(std::string_view value) noexcept {
  if (minor_ == 0) return fail(400, reason::kTeHttp10);  // §6.1: faulty, close
  transfer_encoding_seen_ = true;
  std::string_view why;
  int status = 0;
  bool any = false;
  for_each_element(value, [&](std::string_view coding) {
    if (status != 0) return;
    any = true;
    if (!std::all_of(coding.begin(), coding.end(),
                     [](char c) { return is(static_cast<unsigned char>(c), kTchar); })) {
      status = 400;  // parameters (";q=") and other non-token text
      why = reason::kTeMalformed;
    } else if (chunked_seen_) {
      status = 400;  // §6.1: chunked is final and applied once
      why = reason::kTeAfterChunked;
    } else if (iequals(coding, "chunked")) {
      chunked_seen_ = true;
    } else if (!iequals(coding, "gzip") && !iequals(coding, "x-gzip") &&
               !iequals(coding, "deflate") && !iequals(coding, "compress") &&
               !iequals(coding, "x-compress")) {
      status = 501;  // §6.1: a coding we do not understand
      why = reason::kTeUnknown;
    }
  });
  if (status != 0) return fail(status, why);
  if (!any) return fail(400, reason::kTeMalformed);
  return kOk;
}

void RequestParser::on_connection(std::string_view value) noexcept {
  for_each_element(value, [this](std::string_view option) {
    if (iequals(option, "close")) connection_close_ = true;
    if (iequals(option, "keep-alive")) connection_keep_alive_ = true;
  });
}

ParseResult RequestParser::complete(std::string_view buffer, std::span<HeaderField> slots,
                                    RequestHead& head) noexcept {
  // Rules over the whole head, framing first (a 400 that closes wins over 413).
  if (minor_ >= 1 && !host_.seen) return fail(400, reason::kNoHost);          // §3.2
  if (transfer_encoding_seen_ && content_length_seen_) return fail(400, reason::kTeAndCl);
  if (transfer_encoding_seen_ && !chunked_seen_) return fail(400, reason::kTeNotChunked);
  if (content_length_seen_ && content_length_ > limits_.max_content_length) {
    return fail(413, reason::kContentLengthLimit);
  }
  if (field_count_ > slots.size()) return fail(431, reason::kTooManyFields);
  state_ = State::kDone;
  result_ = ParseResult{ParseStatus::kComplete, pos_, 0, {}};
  fill(buffer, slots, head);
  return result_;
}

void RequestParser::fill(std::string_view buffer, std::span<HeaderField> slots,
                         RequestHead& head) const noexcept {
  auto view = [buffer](Span16 s) {
    return s.len == 0 ? std::string_view{} : buffer.substr(s.off, s.len);
  };
  for (std::size_t k = 0; k < field_count_; ++k) {
    slots[k] = HeaderField{view(fields_[k].name), view(fields_[k].value)};
  }
  head.method = method_;
  head.method_name = buffer.substr(line_start_, method_end_ - line_start_);
  head.target = buffer.substr(target_start_, target_end_ - target_start_);
  switch (form_) {
    case Form::kOrigin:
    case Form::kAsterisk:
      head.path = head.target;
      break;
    case Form::kAbsolute:
      head.path = path_start_ == target_end_
                      ? kRootPath
                      : buffer.substr(path_start_, target_end_ - path_start_);
      break;
    case Form::kAuthority:
      head.path = std::string_view{};
      break;
  }
  if (form_ == Form::kAbsolute || form_ == Form::kAuthority) {
    head.host = buffer.substr(authority_start_, authority_end_ - authority_start_);
  } else {
    head.host = view(host_.value);
  }
  head.minor_version = minor_;
  head.headers = std::span<const HeaderField>(slots.data(), field_count_);
  head.keep_alive = minor_ >= 1 ? !connection_close_
                                : (connection_keep_alive_ && !connection_close_);
  head.body = BodyFraming::kNone;
  head.content_length = 0;
  if (chunked_seen_) {
    head.body = BodyFraming::kChunked;
    head.keep_alive = false;  // the server closes after answering (it does not dechunk)
  } else if (content_length_seen_) {
    head.body = BodyFraming::kContentLength;
    head.content_length = content_length_;
  }
  head.range = view(range_.value);
  head.if_range = view(if_range_.value);
  head.if_match = view(if_match_.value);
  head.if_none_match = view(if_none_match_.value);
  head.if_modified_since = view(if_modified_since_.value);
  head.if_unmodified_since = view(if_unmodified_since_.value);
}

}  // namespace httpower
