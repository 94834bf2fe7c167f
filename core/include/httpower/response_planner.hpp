#pragma once
// Response planner: request head + resolved target + file facts -> the exact bytes to send.
// The server does only I/O: it writes plan.head(), then each body segment in order (inline
// bytes from the plan, or a byte range of the file it has open, e.g. with sendfile), then
// keeps the connection if plan.keep_alive(), else closes it (after the checklist's
// half-close-and-drain).
//
// How the server drives it
// ------------------------
//   parse error (status s from the parser)   -> plan_parse_error(s, ctx, plan)  [always closes]
//   t = resolve_target(head.path, buf)
//   if needs_file(head, t):                     (GET/HEAD with a good target)
//       open + fstat the file -> FileFacts      (kMissing / kForbidden / kOther on failure)
//       kDirectory && t.trailing_slash:         (the planner would answer 403)
//           try with_index_file(t, buf): a regular index.html -> plan_response with it;
//           else, listing on: build the HTML, plan_generated(head, "text/html...", html, ...)
//           else: plan_response(head, t, facts_of_directory, ...) -> 403
//   plan_response(head, t, facts, ctx, plan)    (facts are ignored when !needs_file)
//   plan_error(head, 500 / 503, ctx, plan)      (for failures the server detects itself)
//
// Decisions (RFC 9110; docs/semantics.md has the reasons)
//   In this order:
//   - kUnknown method -> 501.
//   - OPTIONS with a good target or "*" -> 204 with "Allow: GET, HEAD, OPTIONS", no
//     Content-Length (§8.6: none on 204). No file lookup. OPTIONS with a bad target -> 400.
//   - POST PUT DELETE PATCH TRACE CONNECT -> 405 with Allow, whatever the target.
//   - GET/HEAD with a rejected target -> 400.
//   - GET/HEAD: kMissing -> 404; kForbidden, kOther -> 403; kDirectory without trailing slash
//     -> 301, Location: raw_path + "/" [+ "?" + query]; kDirectory with it -> 403 (listing off
//     and no index.html); kRegular with a trailing slash -> 404 (a file is not a directory);
//     kRegular -> preconditions (conditional.hpp) -> 304 / 412, then Range (GET only; §14.2:
//     HEAD ignores it) guarded by If-Range -> 206 / 416 / 200. Several coalesced ranges
//     are one multipart/byteranges 206, unless its framing (delimiters and part heads) is
//     larger than the file: then 200 with the whole file.
//   - Headers, in this order: Date, Server, then per status: Last-Modified, ETag,
//     Cache-Control and Vary (file responses, when the context asks), Accept-Ranges: bytes,
//     Content-Type, Content-Encoding (a precompressed variant), Content-Range (206 single
//     part, 416), Content-Length (never on 204/304), Allow (405, OPTIONS), Location (301),
//     the context's extra_fields, and "Connection: close" when not keeping alive,
//     "Connection: keep-alive" for a persistent HTTP/1.0 connection. Status line is always
//     HTTP/1.1 (RFC 9110 §6.2).
//   - 304 carries Date, Server, ETag, Last-Modified (the 200's validators) and nothing else.
//   - Error statuses get a small text/html body.
//   - keep_alive = head.keep_alive && !ctx.closing && the status does not force a close
//     (413, 414, 431, 503, 505 close). A server that will not read and discard a request body
//     must set ctx.closing.
//
// Invariants
//   R1 a HEAD request gets exactly the head that GET gets for the same request without its
//      Range field (HEAD ignores Range, §14.2), Content-Length included, and no body segments.
//   R2 1xx, 204 and 304 have no body segments and no Content-Length.
//   R3 when Content-Length is sent for a non-HEAD request it equals body_length(), the sum of
//      the segment lengths; for HEAD it equals GET's.
//
// Memory: a ResponsePlan is reusable; clear() (done by every plan_* call) keeps capacity, so a
// per-connection plan stops allocating after its first responses. A large body (a listing)
// grows the inline buffer: trim() gives back any buffer grown beyond its reserve, release()
// every buffer (an idle connection holds none, M1); the next plan_* call reserves again. The planner reads no clock,
// no file and no global state: the same inputs give the same bytes.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "httpower/mime.hpp"
#include "httpower/request.hpp"
#include "httpower/target_resolver.hpp"

namespace httpower {

enum class FileKind : std::uint8_t {
  kRegular,
  kDirectory,
  kOther,      // FIFO, socket, device: 403
  kMissing,    // ENOENT, ENOTDIR: 404
  kForbidden,  // EACCES, EPERM, ELOOP from RESOLVE_BENEATH...: 403
};

struct FileFacts {
  FileKind kind = FileKind::kMissing;
  std::uint64_t size = 0;
  std::int64_t mtime_sec = 0;
  std::uint32_t mtime_nsec = 0;
  // For a regular file whose extension no MIME layer knows: its first bytes are UTF-8 text
  // (looks_like_utf8_text), so it is sent as text/plain rather than octet-stream.
  bool utf8_text = false;
};

struct PlanContext {
  std::int64_t now = 0;                    // Unix seconds: Date, and date validators
  bool closing = false;                    // server draining (or won't read the body)
  std::string_view server = "HTTPower";    // Server field value, e.g. "HTTPower/0.1.0"
  const MimeTypes* types = nullptr;        // Content-Type table; nullptr: the built-in one
  // Set by the server for a file response (docs/semantics.md "Operator fields"):
  // content_encoding: the file is a precompressed variant ("br", "zstd", "gzip"): 200 and 206
  // say Content-Encoding, the ETag gets "-<coding>" inside its quotes, and a multi-range
  // request gets the whole variant (200).
  std::string_view content_encoding{};
  bool vary_accept_encoding = false;       // Vary: Accept-Encoding on 200, 206, 304, 416
  std::string_view cache_control{};        // Cache-Control on 200, 206, 304 of a file
  // Whole lines ("Name: value\r\n"), before Connection on every response planned for a
  // request (not parse errors): --cors, --header, the CORS preflight fields.
  std::string_view extra_fields{};
};

struct BodySegment {
  enum class Kind : std::uint8_t { kInline, kFile };
  Kind kind = Kind::kInline;
  std::uint64_t offset = 0;  // kInline: into the plan's inline buffer; kFile: into the file
  std::uint64_t length = 0;
};

class ResponsePlan {
 public:
  ResponsePlan();

  void clear() noexcept;  // keeps capacity
  void trim() noexcept;     // clear(); frees the buffers if one grew beyond its reserve
  void release() noexcept;  // clear() and free every buffer
  // Heap bytes the buffers hold, and the most they hold after trim() (their reserve).
  [[nodiscard]] std::size_t heap_bytes() const noexcept;
  [[nodiscard]] static std::size_t reserved_bytes() noexcept;

  [[nodiscard]] int status() const noexcept { return status_; }
  // Status line, header fields and the empty line ("\r\n\r\n" at the end).
  [[nodiscard]] std::string_view head() const noexcept { return head_; }
  [[nodiscard]] std::span<const BodySegment> body() const noexcept { return segments_; }
  // The bytes of a kInline segment of this plan.
  [[nodiscard]] std::string_view inline_bytes(const BodySegment& s) const noexcept;
  // Sum of the body segments' lengths: the bytes to send after head().
  [[nodiscard]] std::uint64_t body_length() const noexcept;
  // The Content-Length field value, if one is sent.
  [[nodiscard]] bool has_content_length() const noexcept { return has_content_length_; }
  [[nodiscard]] std::uint64_t content_length() const noexcept { return content_length_; }
  // True when some segment is a kFile range: the server must keep the file open until sent.
  [[nodiscard]] bool uses_file() const noexcept;
  [[nodiscard]] bool keep_alive() const noexcept { return keep_alive_; }

 private:
  friend class PlanWriter;
  void reserve();
  int status_ = 0;
  bool keep_alive_ = false;
  bool has_content_length_ = false;
  std::uint64_t content_length_ = 0;
  std::string head_;
  std::string inline_;
  std::vector<BodySegment> segments_;
};

// True when plan_response will look at the FileFacts: GET or HEAD with t.ok().
[[nodiscard]] bool needs_file(const RequestHead& head, const ResolvedTarget& t) noexcept;

// The main entry point (decisions above). The Content-Type comes from t.path's extension
// (ctx.types, mime.hpp), else from file.utf8_text.
void plan_response(const RequestHead& head, const ResolvedTarget& t, const FileFacts& file,
                   const PlanContext& ctx, ResponsePlan& plan);

// 200 with a body the server generated (a directory listing): copied into the plan.
// HEAD gets the same head and no body. No validators, no ranges.
void plan_generated(const RequestHead& head, std::string_view content_type, std::string_view body,
                    const PlanContext& ctx, ResponsePlan& plan);

// An error the server decided itself (403, 404, 500, 503, ...): small HTML body (none for
// HEAD), Allow on 405. `status` outside 400..599 is planned as 500.
void plan_error(const RequestHead& head, int status, const PlanContext& ctx, ResponsePlan& plan);

// The response to a request the parser rejected (400, 413, 414, 431, 501, 505): there is no
// usable head, so the body is always sent and the connection always closes. `status`
// outside 400..599 is planned as 400.
void plan_parse_error(int status, const PlanContext& ctx, ResponsePlan& plan);

// An error status answered with an operator's page (--error-page): the file's bytes (none
// for HEAD) with its Content-Type from `page_path`, Allow on 405; no validators, no ranges.
void plan_error_file(const RequestHead& head, int status, std::string_view page_path,
                     const FileFacts& page, const PlanContext& ctx, ResponsePlan& plan);

// "Not Found" for 404 and so on; "Unknown" for codes we never send.
[[nodiscard]] std::string_view reason_phrase(int status) noexcept;

inline constexpr std::string_view kAllowedMethods = "GET, HEAD, OPTIONS";

}  // namespace httpower
