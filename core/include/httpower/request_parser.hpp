#pragma once
// RequestParser: bytes -> RequestHead (request.hpp), or "need more bytes", or an error with
// the status code to answer (400/413/414/431/501/505).
//
// Contract
// --------
// * Resumable and incremental, in the style of nginx's ngx_http_parse_request_line and
//   picohttpparser: an enum state and byte loops, one label per state, so a call resumes
//   where the last one stopped. `buffer` is everything received so far for the current request:
//   the same bytes from the same start on every call, possibly grown (it may live at a
//   different address each call: the parser keeps offsets, never pointers). The parser
//   remembers how far it has validated and never rescans those bytes.
// * Outcomes: kIncomplete ("need more bytes", not an error), kComplete (`consumed` = bytes of
//   the head, including any ignored leading empty lines and the final empty line), kError
//   (`error_status`, `error_reason`: static text). kComplete and kError are sticky: calling
//   parse() again before reset() returns the same result. After kComplete the caller calls
//   reset() and passes the bytes after `consumed` (the body, then the next request).
// * `head` and `slots` are written only on kComplete; then head.headers is the prefix of
//   `slots` holding the fields in order, and every non-empty view lies inside
//   buffer[0, consumed) (P3), with one exception: an absolute-form target with an empty path
//   ("http://h", "http://h?q") gets head.path == kRootPath, a static "/".
// * No allocation, no exception, no global state (P2); total over every byte string (P1).
// * Every kError means the framing is lost: the server answers and closes the connection.
//
// Policies (RFC 9112 section numbers; each has a test in core/request_parser_test.cpp)
// ---------------------------------------------------------------------------------
// * Line ends (§2.2): CRLF, or a bare LF (accepted, as §2.2 allows). A bare CR (CR not
//   followed by LF) anywhere is 400. An LF always ends a line (an LF "inside" a value ends
//   it, and the next line is parsed as a field line). The head ends at the first empty
//   line, whichever of CRLF or LF ends it; there is no other framing decision, so mixing
//   cannot split a message two ways.
// * Empty lines (CRLF or LF) before the request line are ignored (§2.2); they count towards
//   max_header_bytes and `consumed`.
// * Method: a token; a token longer than 7 octets (the longest method we know) is 501. Known
//   names map to Method, other tokens to Method::kUnknown (the planner answers 501).
// * Request-target (§3.2): origin-form (RFC 3986 path and query characters only; '#', SP,
//   CTLs, non-ASCII are 400), absolute-form with scheme http or https (case-insensitive):
//   the authority replaces Host, the path goes to head.path; an empty path is "/" (RFC 9110
//   §4.2.3), and then a query after it is dropped ("http://h?q" has head.path "/");
//   userinfo ('@') in the authority is 400; the authority obeys the Host rules below.
//   asterisk-form only for OPTIONS; authority-form only (and always) for CONNECT (head.path
//   is empty).
// * Version (§2.3): exactly "HTTP/" DIGIT "." DIGIT. Major 1 is accepted; minor_version is
//   as sent (HTTP/1.2..1.9 get HTTP/1.1 semantics); any other major is 505; anything else 400.
// * Limits: a request line longer than max_request_line octets (excluding its line end) is
//   414; a head (leading empty lines + request line + fields + final empty line) longer than
//   max_header_bytes is 431; more than max_headers fields (or more than slots.size()) is 431.
//   Limits are clamped to [kMinLimit, kMaxHeadBytes] and max_headers to kMaxHeaderFields.
//   Each limit is decided at the first byte index past it (never at a read boundary), and
//   when both are reached by the same byte of the request line, 414 wins over 431.
// * Field lines (§5): whitespace before the colon, obs-fold, and whitespace between the
//   start line and the first field are 400. A field value may hold VCHAR, obs-text, SP and
//   HTAB; NUL, CR, LF, DEL and other CTLs in it are 400. Leading/trailing OWS is trimmed.
// * Host (§3.2): HTTP/1.1 without Host, or with two Host fields, is 400. A Host value must
//   be uri-host [":" port] (reg-name with valid %-escapes, or an IP-literal in brackets);
//   otherwise 400. The same check applies to a target's authority. IP-literals must be a
//   well-formed IPv6address (RFC 3986: at most one "::", eight groups without it, no zone)
//   or IPvFuture. A reg-name whose last label is numeric (digits, or "0x" hex) must be a
//   dotted-decimal IPv4address without leading zeros ("017700000001", "0x7f.1",
//   "127.01.0.1", "1.2.3" are 400), as Apache's strict mode does. An EMPTY Host value is
//   accepted for origin-, asterisk- and authority-form (the target carries no authority
//   and §3.2 lets a client send Host empty then); with the absolute-form, Host is ignored
//   in favour of the target's authority (it still must be present once and valid or
//   empty). The server serves one site and does not use Host to pick a root. HTTP/1.0 may
//   omit Host (head.host is then empty).
// * Content-Length (§6.3, §8.6 of RFC 9110): 1*DIGIT, no sign, no list; overflow of uint64
//   is 400. Identical duplicate field lines (same number) are accepted as one; differing
//   ones are 400. A value above max_content_length is 413 (checked after the whole head, so
//   a framing 400 wins).
// * Transfer-Encoding (§6.1, §6.3): a list of bare codings (no parameters); known codings
//   are chunked, gzip, x-gzip, deflate, compress, x-compress; any other is 501. A coding
//   after chunked is 400; a final coding other than chunked is 400; TE with Content-Length
//   is 400; TE in an HTTP/1.0 request is 400. A chunked request gets keep_alive == false.
// * Connection (§9.3): a comma list of tokens, case-insensitive; HTTP/1.1 is persistent
//   unless "close" appears; HTTP/1.0 only with "keep-alive" and without "close".
// * Range, If-Range, If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since are
//   pre-extracted into the head. A second field line of any of them is 400 (duplicate). This
//   is stricter than RFC 9110 for the list fields If-Match / If-None-Match, on purpose: the
//   head holds one view per field and the parser does not allocate to join them, and
//   silently keeping one line could answer 304/412 wrongly.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "httpower/request.hpp"

namespace httpower {

struct ParserLimits {
  std::size_t max_request_line = 8192;  // octets, line end excluded; RFC 9112 §3: >= 8000
  std::size_t max_header_bytes = 16384;  // the whole head, as returned in `consumed`
  std::size_t max_headers = 100;         // field lines
  std::uint64_t max_content_length = std::uint64_t{1} << 30;  // 1 GiB; above it -> 413
};

enum class ParseStatus : std::uint8_t { kComplete, kIncomplete, kError };

struct [[nodiscard]] ParseResult {
  ParseStatus status = ParseStatus::kIncomplete;
  std::size_t consumed = 0;        // head bytes when kComplete; 0 otherwise
  int error_status = 0;            // 400/413/414/431/501/505 when kError; 0 otherwise
  std::string_view error_reason;   // static text when kError (logs, error body); else empty

  friend bool operator==(const ParseResult&, const ParseResult&) = default;
};

namespace detail {

// The per-request state of RequestParser, apart from the field table (reset() assigns a
// fresh one of these: cheap, and nothing can be forgotten).
struct RequestParserState {
  enum class State : std::uint8_t {
    kLeadingLine,   // at the start of a line before the request line
    kLeadingCr,     // CR of an empty leading line
    kMethod,
    kTargetStart,
    kPath,          // origin-form, or the path of the absolute-form
    kAsterisk,
    kScheme,
    kSchemeSlash1,
    kSchemeSlash2,
    kAuthority,     // absolute-form authority, or the authority-form target (CONNECT)
    kVersion,
    kRequestLineCr,
    // The header section; parse() relies on these being last but kDone.
    kFieldStart,    // at the start of a field line, or of the final empty line
    kFieldName,
    kValueLeadingWs,
    kValue,
    kValueCr,
    kFinalCr,
    kDone,          // result_ holds the sticky kComplete or kError
  };
  enum class Form : std::uint8_t { kOrigin, kAbsolute, kAsterisk, kAuthority };

  struct Span16 {  // [off, off + len) in the buffer; offsets fit: head <= kMaxHeadBytes
    std::uint16_t off = 0;
    std::uint16_t len = 0;
  };
  struct Extracted {  // a field that may appear once
    Span16 value;
    bool seen = false;
  };

  // Progress.
  State state_ = State::kLeadingLine;
  std::uint32_t pos_ = 0;  // next byte to examine; bytes before it are validated
  ParseResult result_{};   // valid in kDone

  // Request line.
  Form form_ = Form::kOrigin;
  Method method_ = Method::kUnknown;
  std::uint8_t version_index_ = 0;  // bytes of "HTTP/x.y" seen
  std::uint8_t major_ = 0;
  std::uint8_t minor_ = 0;
  std::uint16_t line_start_ = 0;    // first byte of the request line (the method)
  std::uint16_t method_end_ = 0;
  std::uint16_t target_start_ = 0;
  std::uint16_t target_end_ = 0;
  std::uint16_t authority_start_ = 0;
  std::uint16_t authority_end_ = 0;
  std::uint16_t path_start_ = 0;    // == target_end_ when the absolute-form path is empty

  // Current field line.
  std::uint16_t name_start_ = 0;
  std::uint16_t name_end_ = 0;
  std::uint16_t value_start_ = 0;
  std::uint16_t field_count_ = 0;

  // Per-field rules.
  Extracted host_;
  bool content_length_seen_ = false;
  bool transfer_encoding_seen_ = false;
  bool chunked_seen_ = false;  // then chunked is the final coding (a later one is 400)
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
  std::uint64_t content_length_ = 0;
  Extracted range_;
  Extracted if_range_;
  Extracted if_match_;
  Extracted if_none_match_;
  Extracted if_modified_since_;
  Extracted if_unmodified_since_;
};

}  // namespace detail

class RequestParser : private detail::RequestParserState {
 public:
  static constexpr std::size_t kMinLimit = 64;
  static constexpr std::size_t kMaxHeadBytes = 65535;  // offsets are 16 bit
  static constexpr std::size_t kMaxHeaderFields = 128;
  // The path of "http://host" (see above). One object, defined in request_parser.cpp, so
  // its address identifies it in every translation unit (a constexpr literal may not).
  static const std::string_view kRootPath;

  explicit RequestParser(ParserLimits limits = {}) noexcept;

  // Parses the head at the start of `buffer`. Preconditions: between reset()s, every call
  // passes the same bytes from the start (possibly more of them). A shorter buffer than
  // already validated is reported as a 400 ("caller passed a shorter buffer"), never UB.
  ParseResult parse(std::string_view buffer, std::span<HeaderField> slots,
                    RequestHead& head) noexcept;

  // Forget the current request; the next parse() starts a new one.
  void reset() noexcept { static_cast<detail::RequestParserState&>(*this) = kFresh; }

  const ParserLimits& limits() const noexcept { return limits_; }

 private:
  struct FieldSpans {
    Span16 name;
    Span16 value;
  };

  ParseResult fail(int status, std::string_view reason) noexcept;
  ParseResult parse_request_line(std::string_view buffer, std::span<HeaderField> slots,
                                 RequestHead& head) noexcept;
  ParseResult parse_fields(std::string_view buffer, std::size_t i, std::span<HeaderField> slots,
                           RequestHead& head) noexcept;
  ParseResult complete(std::string_view buffer, std::span<HeaderField> slots,
                       RequestHead& head) noexcept;
  void fill(std::string_view buffer, std::span<HeaderField> slots,
            RequestHead& head) const noexcept;
  // Ends the current field line; value_end is where its value ended (before trailing OWS).
  ParseResult end_field(std::string_view buffer, std::size_t value_end) noexcept;
  ParseResult field_semantics(std::string_view name, std::string_view value,
                              Span16 value_span) noexcept;
  ParseResult extract(Extracted& slot, Span16 value_span, std::string_view dup_reason) noexcept;
  ParseResult on_content_length(std::string_view value) noexcept;
  ParseResult on_transfer_encoding(std::string_view value) noexcept;
  void on_connection(std::string_view value) noexcept;

  // A copy from a constant is a few vector moves; "= {}" made g++ zero a temporary with
  // rep stos first, a third of the cost of parsing a minimal request.
  static constexpr detail::RequestParserState kFresh{};

  ParserLimits limits_;
  FieldSpans fields_[kMaxHeaderFields];  // [0, field_count_) are valid
};

}  // namespace httpower
