#pragma once
// The parsed request head: the contract between the request parser (which fills it), the
// response planner (which reads it) and the server (which only moves bytes).
//
// Every std::string_view here points into the caller's receive buffer (P3): it is valid only
// until that buffer is modified or the next request is parsed. Nothing here owns memory.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace httpower {

enum class Method : std::uint8_t {
  kGet,
  kHead,
  kOptions,
  kPost,
  kPut,
  kDelete,
  kPatch,
  kTrace,
  kConnect,
  kUnknown,  // a syntactically valid token that names no method we know (-> 501)
};

std::string_view to_string(Method m) noexcept;

// One header field line, as views into the input. name is as sent (case preserved);
// value has leading and trailing whitespace (OWS) removed.
struct HeaderField {
  std::string_view name;
  std::string_view value;
};

// How the request body is framed (RFC 9112 §6). The server never parses body bytes as a
// request: it discards kContentLength bodies and closes the connection after kChunked ones.
enum class BodyFraming : std::uint8_t {
  kNone,
  kContentLength,  // content_length bytes follow the head
  kChunked,        // Transfer-Encoding: ..., chunked; keep_alive is false
};

struct RequestHead {
  Method method = Method::kUnknown;
  std::string_view method_name;  // the token as sent
  std::string_view target;       // the request-target as sent (origin-, absolute- or asterisk-form)
  std::string_view path;         // origin-form part: path and query ("/a/b?x"); "*" for asterisk-form
  std::string_view host;         // the absolute-form authority if present, else the Host value
  int minor_version = 1;         // HTTP/1.<minor_version>; the parser rejects other majors (505)

  std::span<const HeaderField> headers;  // the fields, in order, in the caller's slots

  // Connection semantics (RFC 9112 §9.3): true when the connection may carry another request
  // after this one's response. HTTP/1.1: unless "Connection: close". HTTP/1.0: only with
  // "Connection: keep-alive". Always false with a chunked body.
  bool keep_alive = true;

  BodyFraming body = BodyFraming::kNone;
  std::uint64_t content_length = 0;  // body bytes to discard when body == kContentLength

  // The fields the planner evaluates, pre-extracted (empty when absent). When a field that
  // may appear once appears twice, the parser either rejects the request or keeps the first,
  // as documented in request_parser.hpp.
  std::string_view range;
  std::string_view if_range;
  std::string_view if_match;
  std::string_view if_none_match;
  std::string_view if_modified_since;
  std::string_view if_unmodified_since;
};

}  // namespace httpower
