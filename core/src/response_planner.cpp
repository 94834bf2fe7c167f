#include "httpower/response_planner.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "httpower/conditional.hpp"
#include "httpower/http_date.hpp"
#include "httpower/mime.hpp"
#include "httpower/range.hpp"

namespace httpower {

namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kHtml = "text/html; charset=utf-8";
constexpr std::size_t kHeadReserve = 512;
constexpr std::size_t kInlineReserve = 1024;
constexpr std::size_t kSegmentReserve = 2 * kMaxRanges + 1;  // multipart: part head + range, + close

bool forces_close(int status) noexcept {
  return status == 413 || status == 414 || status == 431 || status == 503 || status == 505;
}

// 64-bit FNV-1a: a deterministic boundary per representation (no clock, no randomness).
std::uint64_t fnv1a(std::string_view s) noexcept {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// RFC 3986 pchar minus '%' (pct-encoded is produced here), plus '/'.
bool is_location_safe(unsigned char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  constexpr std::string_view kSafe = "-._~!$&'()*+,;=:@/";
  return kSafe.find(static_cast<char>(c)) != std::string_view::npos;
}

bool query_is_header_safe(std::string_view q) noexcept {
  return std::none_of(q.begin(), q.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c <= 0x20 || c == 0x7f;
  });
}

}  // namespace

// Builds one ResponsePlan. Fields are appended in call order; finish() closes the head.
class PlanWriter {
 public:
  PlanWriter(ResponsePlan& plan, const PlanContext& ctx) noexcept : p_(plan), ctx_(ctx) {}

  void start(int status) {
    p_.clear();
    p_.reserve();  // after release(): one allocation per buffer, not a growth sequence
    p_.status_ = status;
    p_.head_ += "HTTP/1.1 ";
    number(p_.head_, static_cast<std::uint64_t>(status));
    p_.head_ += ' ';
    p_.head_ += reason_phrase(status);
    p_.head_ += kCrlf;
    HttpDateBuffer date;
    field("Date", format_http_date(ctx_.now, date));
    field("Server", ctx_.server);
  }

  void field(std::string_view name, std::string_view value, std::string_view value2 = {}) {
    p_.head_ += name;
    p_.head_ += ": ";
    p_.head_ += value;
    p_.head_ += value2;
    p_.head_ += kCrlf;
  }

  void field_number(std::string_view name, std::uint64_t v) {
    p_.head_ += name;
    p_.head_ += ": ";
    number(p_.head_, v);
    p_.head_ += kCrlf;
  }

  void content_length(std::uint64_t n) {
    p_.has_content_length_ = true;
    p_.content_length_ = n;
    field_number("Content-Length", n);
  }

  // "bytes first-last/size" or "bytes */size"
  void content_range(std::string& out, const ByteRange* r, std::uint64_t size) {
    out += "bytes ";
    if (r == nullptr) {
      out += '*';
    } else {
      number(out, r->first);
      out += '-';
      number(out, r->last);
    }
    out += '/';
    number(out, size);
  }
  void content_range_field(const ByteRange* r, std::uint64_t size) {
    p_.head_ += "Content-Range: ";
    content_range(p_.head_, r, size);
    p_.head_ += kCrlf;
  }

  // Starts an inline segment at the current end of the inline buffer; the caller appends to
  // inline_buffer() and then calls end_inline().
  std::string& inline_buffer() noexcept { return p_.inline_; }
  std::size_t inline_mark() const noexcept { return p_.inline_.size(); }
  void end_inline(std::size_t mark) {
    const std::size_t len = p_.inline_.size() - mark;
    if (len > 0) p_.segments_.push_back({BodySegment::Kind::kInline, mark, len});
  }
  void file_segment(std::uint64_t offset, std::uint64_t length) {
    if (length > 0) p_.segments_.push_back({BodySegment::Kind::kFile, offset, length});
  }

  // keep-alive decision and the empty line. `request_keep_alive` is false for parse errors.
  void finish(bool request_keep_alive, int minor_version) {
    p_.keep_alive_ = request_keep_alive && !ctx_.closing && !forces_close(p_.status_);
    p_.head_ += ctx_.extra_fields;
    if (!p_.keep_alive_) {
      field("Connection", "close");
    } else if (minor_version == 0) {
      field("Connection", "keep-alive");  // HTTP/1.0 is persistent only when told (RFC 9112 §9.3)
    }
    p_.head_ += kCrlf;
  }

  static void number(std::string& out, std::uint64_t v) {
    std::array<char, 20> buf;
    const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    out.append(buf.data(), res.ptr);
  }

 private:
  ResponsePlan& p_;
  const PlanContext& ctx_;
};

namespace {

struct Req {
  bool head = false;  // HEAD: every header of GET, no body segment (R1)
  bool keep_alive = false;
  int minor_version = 1;
};

Req req_of(const RequestHead& h) noexcept {
  return {h.method == Method::kHead, h.keep_alive, h.minor_version};
}

// The 403 for a directory without index.html: the person at the browser learns why, and the
// operator how to change it.
constexpr std::string_view kNoListingNote =
    "This directory has no index.html, and directory listings are off. To list directories, "
    "start HTTPower with --listing.";

void append_error_body(std::string& out, int status, std::string_view note) {
  std::array<char, 4> code{};
  const auto res = std::to_chars(code.data(), code.data() + code.size(), status);
  const std::string_view c(code.data(), static_cast<std::size_t>(res.ptr - code.data()));
  const std::string_view reason = reason_phrase(status);
  out += "<!DOCTYPE html>\n<html><head><title>";
  out += c;
  out += ' ';
  out += reason;
  out += "</title></head>\n<body><h1>";
  out += c;
  out += ' ';
  out += reason;
  out += "</h1>";
  if (!note.empty()) {
    out += "\n<p>";
    out += note;  // a constant of this file: nothing to escape
    out += "</p>";
  }
  out += "</body></html>\n";
}

// A small HTML page. HEAD gets the same Content-Length and no segment (R1). `extra_fields`
// adds the status-specific fields that come before Content-Length.
// error_rest: everything after w.start(status).
template <typename Extra>
void error_rest(PlanWriter& w, int status, const Req& r, Extra&& extra_fields,
                std::string_view note = {}) {
  const std::size_t mark = w.inline_mark();
  append_error_body(w.inline_buffer(), status, note);
  const std::uint64_t len = w.inline_buffer().size() - mark;
  extra_fields();
  w.field("Content-Type", kHtml);
  w.content_length(len);
  if (status == 405) w.field("Allow", kAllowedMethods);
  w.finish(r.keep_alive, r.minor_version);
  if (r.head) {
    w.inline_buffer().resize(mark);
  } else {
    w.end_inline(mark);
  }
}

template <typename Extra>
void error_page(PlanWriter& w, int status, const Req& r, Extra&& extra_fields) {
  w.start(status);
  error_rest(w, status, r, extra_fields);
}

void error_page(PlanWriter& w, int status, const Req& r) {
  error_page(w, status, r, [] {});
}

void plan_options(PlanWriter& w, const Req& r) {
  w.start(204);  // R2: no Content-Length, no body (RFC 9110 §8.6)
  w.field("Allow", kAllowedMethods);
  w.finish(r.keep_alive, r.minor_version);
}

void percent_encode_path(std::string& out, std::string_view path) {
  constexpr std::string_view kHex = "0123456789ABCDEF";
  for (char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_location_safe(c)) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

// 301 to the slashed directory. Location is built from the NORMALIZED path, re-encoded, so it
// is always "/..." with no "//" at the start (never a protocol-relative open redirect) and
// cannot carry CR/LF. The query is kept when it is safe in a header field.
void plan_redirect(PlanWriter& w, const ResolvedTarget& t, const Req& r) {
  w.start(301);  // clears the plan: the location is built after it
  std::string& buf = w.inline_buffer();
  const std::size_t loc_mark = buf.size();
  buf += '/';
  percent_encode_path(buf, t.path);
  buf += '/';
  if (t.has_query && query_is_header_safe(t.query)) {
    buf += '?';
    buf += t.query;
  }
  const std::size_t loc_len = buf.size() - loc_mark;
  // Fields and the body are written after the location is complete, so the view is stable
  // while the head is built (the head is a different string).
  error_rest(w, 301, r, [&] {
    w.field("Location", std::string_view(w.inline_buffer()).substr(loc_mark, loc_len));
  });
}

void validator_fields(PlanWriter& w, const Validators& v, const PlanContext& ctx) {
  HttpDateBuffer lm;
  w.field("Last-Modified", format_http_date(v.last_modified, lm));
  w.field("ETag", v.etag);
  if (!ctx.cache_control.empty()) w.field("Cache-Control", ctx.cache_control);
  if (ctx.vary_accept_encoding) w.field("Vary", "Accept-Encoding");
}

// The representation fields of a 200 or 206 (multipart parts carry their own type).
void entity_fields(PlanWriter& w, std::string_view type, const PlanContext& ctx) {
  w.field("Accept-Ranges", "bytes");
  if (!type.empty()) w.field("Content-Type", type);
  if (!ctx.content_encoding.empty()) w.field("Content-Encoding", ctx.content_encoding);
}

// The entity-tag of the file, with "-<coding>" before the closing quote for a precompressed
// variant: each encoding is a different representation with its own strong validator.
struct CodedTag {
  std::array<char, kEntityTagCapacity + 16> buf{};
  std::size_t len = 0;
  CodedTag(std::string_view etag, std::string_view coding) noexcept {
    if (coding.empty() || etag.size() < 2 || etag.size() + coding.size() + 1 > buf.size()) {
      len = std::min(etag.size(), buf.size());
      std::copy_n(etag.begin(), len, buf.begin());
      return;
    }
    auto out = std::copy(etag.begin(), etag.end() - 1, buf.begin());
    *out++ = '-';
    out = std::copy(coding.begin(), coding.end(), out);
    *out++ = '"';
    len = static_cast<std::size_t>(out - buf.begin());
  }
  std::string_view view() const noexcept { return {buf.data(), len}; }
};

void plan_not_modified(PlanWriter& w, const Validators& v, const PlanContext& ctx,
                       const Req& r) {
  w.start(304);  // R2: validators of the 200, no Content-Length, no body (§15.4.5)
  validator_fields(w, v, ctx);
  w.finish(r.keep_alive, r.minor_version);
}

void plan_full(PlanWriter& w, const Validators& v, std::string_view type, const FileFacts& f,
               const PlanContext& ctx, const Req& r) {
  w.start(200);
  validator_fields(w, v, ctx);
  entity_fields(w, type, ctx);
  w.content_length(f.size);
  w.finish(r.keep_alive, r.minor_version);
  if (!r.head) w.file_segment(0, f.size);
}

void plan_single_range(PlanWriter& w, const Validators& v, std::string_view type,
                       const FileFacts& f, const ByteRange& br, const PlanContext& ctx,
                       const Req& r) {
  w.start(206);
  validator_fields(w, v, ctx);
  entity_fields(w, type, ctx);
  w.content_range_field(&br, f.size);
  w.content_length(br.length());
  w.finish(r.keep_alive, r.minor_version);
  w.file_segment(br.first, br.length());
}

// multipart/byteranges (RFC 9110 §14.6): each part with its own Content-Type and
// Content-Range; the Content-Length counts every delimiter byte. When the framing alone is
// larger than the file, the whole file is the smaller and simpler answer (§14.2 lets a server
// ignore Range): many tiny parts of a small file never multiply the bytes sent.
void plan_multipart(PlanWriter& w, const Validators& v, std::string_view type, const FileFacts& f,
                    const RangeResult& rr, const PlanContext& ctx, const Req& r) {
  std::array<char, 16> hex{};
  const auto res = std::to_chars(hex.data(), hex.data() + hex.size(), fnv1a(v.etag), 16);
  const std::string_view tag(hex.data(), static_cast<std::size_t>(res.ptr - hex.data()));

  w.start(206);
  validator_fields(w, v, ctx);
  entity_fields(w, {}, ctx);
  std::string& buf = w.inline_buffer();
  std::uint64_t total = 0;
  bool first = true;
  for (const ByteRange& br : rr.view()) {
    const std::size_t mark = buf.size();
    if (!first) buf += kCrlf;
    first = false;
    buf += "--httpower-";
    buf += tag;
    buf += "\r\nContent-Type: ";
    buf += type;
    buf += "\r\nContent-Range: ";
    w.content_range(buf, &br, f.size);
    buf += "\r\n\r\n";
    total += buf.size() - mark;
    w.end_inline(mark);
    w.file_segment(br.first, br.length());
    total += br.length();
  }
  const std::size_t mark = buf.size();
  buf += "\r\n--httpower-";
  buf += tag;
  buf += "--\r\n";
  total += buf.size() - mark;
  w.end_inline(mark);
  if (total - rr.total() > f.size) return plan_full(w, v, type, f, ctx, r);  // clears the parts

  w.field("Content-Type", "multipart/byteranges; boundary=httpower-", tag);
  w.content_length(total);
  w.finish(r.keep_alive, r.minor_version);
}

void plan_regular(PlanWriter& w, const RequestHead& head, const ResolvedTarget& t,
                  const FileFacts& f, const PlanContext& ctx, const Req& r) {
  const EntityTag etag = make_etag(f.size, f.mtime_sec, f.mtime_nsec);
  const CodedTag tag(etag.view(), ctx.content_encoding);
  // §8.8.2.1: never announce a Last-Modified later than the Date.
  const Validators v{tag.view(), std::min(f.mtime_sec, ctx.now), true};
  switch (evaluate_preconditions(head, v, ctx.now)) {
    case Precondition::kNotModified: return plan_not_modified(w, v, ctx, r);
    case Precondition::kPreconditionFailed: return error_page(w, 412, r);
    case Precondition::kProceed: break;
  }
  const MimeTypes& types = ctx.types ? *ctx.types : built_in_mime_types();
  const std::string_view type = types.content_type(t.path, f.utf8_text);
  // §14.2: Range only for GET; §13.1.5: If-Range decides whether Range is used at all.
  if (head.method != Method::kGet || head.range.empty() ||
      (!head.if_range.empty() && !if_range_holds(head.if_range, v, ctx.now))) {
    return plan_full(w, v, type, f, ctx, r);
  }
  const RangeResult rr = evaluate_range(head.range, f.size);
  switch (rr.outcome) {
    case RangeOutcome::kFull: return plan_full(w, v, type, f, ctx, r);
    case RangeOutcome::kUnsatisfiable:
      return error_page(w, 416, r, [&] {
        if (ctx.vary_accept_encoding) w.field("Vary", "Accept-Encoding");
        w.field("Accept-Ranges", "bytes");
        w.content_range_field(nullptr, f.size);
      });
    case RangeOutcome::kPartial:
      if (rr.count == 1) return plan_single_range(w, v, type, f, rr.ranges[0], ctx, r);
      // A multipart body of an encoded variant would read as encoded as a whole: the
      // whole variant instead (§14.2 lets a server ignore Range).
      if (!ctx.content_encoding.empty()) return plan_full(w, v, type, f, ctx, r);
      return plan_multipart(w, v, type, f, rr, ctx, r);
  }
}

}  // namespace

ResponsePlan::ResponsePlan() { reserve(); }

void ResponsePlan::reserve() {
  head_.reserve(kHeadReserve);
  inline_.reserve(kInlineReserve);
  segments_.reserve(kSegmentReserve);
}

void ResponsePlan::release() noexcept {
  clear();
  std::string().swap(head_);
  std::string().swap(inline_);
  std::vector<BodySegment>().swap(segments_);
}

void ResponsePlan::trim() noexcept {
  if (head_.capacity() > kHeadReserve || inline_.capacity() > kInlineReserve ||
      segments_.capacity() > kSegmentReserve) {
    release();
  } else {
    clear();
  }
}

std::size_t ResponsePlan::heap_bytes() const noexcept {
  const auto str = [](const std::string& s) {
    return s.capacity() > std::string().capacity() ? s.capacity() + 1 : 0;  // beyond the SSO
  };
  return str(head_) + str(inline_) + segments_.capacity() * sizeof(BodySegment);
}

std::size_t ResponsePlan::reserved_bytes() noexcept {
  return kHeadReserve + 1 + kInlineReserve + 1 + kSegmentReserve * sizeof(BodySegment);
}

void ResponsePlan::clear() noexcept {
  status_ = 0;
  keep_alive_ = false;
  has_content_length_ = false;
  content_length_ = 0;
  head_.clear();
  inline_.clear();
  segments_.clear();
}

std::string_view ResponsePlan::inline_bytes(const BodySegment& s) const noexcept {
  if (s.kind != BodySegment::Kind::kInline || s.offset > inline_.size()) return {};
  return std::string_view(inline_).substr(s.offset, s.length);
}

std::uint64_t ResponsePlan::body_length() const noexcept {
  std::uint64_t n = 0;
  for (const BodySegment& s : segments_) n += s.length;
  return n;
}

bool ResponsePlan::uses_file() const noexcept {
  return std::any_of(segments_.begin(), segments_.end(),
                     [](const BodySegment& s) { return s.kind == BodySegment::Kind::kFile; });
}

bool needs_file(const RequestHead& head, const ResolvedTarget& t) noexcept {
  return (head.method == Method::kGet || head.method == Method::kHead) && t.ok();
}

void plan_response(const RequestHead& head, const ResolvedTarget& t, const FileFacts& file,
                   const PlanContext& ctx, ResponsePlan& plan) {
  PlanWriter w(plan, ctx);
  const Req r = req_of(head);
  if (head.method == Method::kUnknown) return error_page(w, 501, r);
  if (head.method == Method::kOptions) {
    if (t.ok() || t.error == TargetError::kAsterisk) return plan_options(w, r);
    return error_page(w, kTargetRejectStatus, r);
  }
  if (head.method != Method::kGet && head.method != Method::kHead) return error_page(w, 405, r);
  if (!t.ok()) return error_page(w, kTargetRejectStatus, r);
  switch (file.kind) {
    case FileKind::kMissing: return error_page(w, 404, r);
    case FileKind::kForbidden:
    case FileKind::kOther: return error_page(w, 403, r);
    case FileKind::kDirectory:
      if (!t.trailing_slash) return plan_redirect(w, t, r);
      w.start(403);  // no index.html and listing off (the server decides)
      return error_rest(w, 403, r, [] {}, kNoListingNote);
    case FileKind::kRegular:
      if (t.trailing_slash) return error_page(w, 404, r);  // "/file.txt/" names no directory
      return plan_regular(w, head, t, file, ctx, r);
  }
  error_page(w, 500, r);
}

void plan_generated(const RequestHead& head, std::string_view content_type, std::string_view body,
                    const PlanContext& ctx, ResponsePlan& plan) {
  PlanWriter w(plan, ctx);
  const Req r = req_of(head);
  w.start(200);
  w.field("Content-Type", content_type);
  w.content_length(body.size());
  w.finish(r.keep_alive, r.minor_version);
  if (!r.head) {
    const std::size_t mark = w.inline_mark();
    w.inline_buffer() += body;
    w.end_inline(mark);
  }
}

void plan_error(const RequestHead& head, int status, const PlanContext& ctx, ResponsePlan& plan) {
  PlanWriter w(plan, ctx);
  if (status < 400 || status > 599) status = 500;
  error_page(w, status, req_of(head));
}

void plan_error_file(const RequestHead& head, int status, std::string_view page_path,
                     const FileFacts& page, const PlanContext& ctx, ResponsePlan& plan) {
  PlanWriter w(plan, ctx);
  const Req r = req_of(head);
  const MimeTypes& types = ctx.types ? *ctx.types : built_in_mime_types();
  w.start(status);
  w.field("Content-Type", types.content_type(page_path, page.utf8_text));
  w.content_length(page.size);
  if (status == 405) w.field("Allow", kAllowedMethods);
  w.finish(r.keep_alive, r.minor_version);
  if (!r.head) w.file_segment(0, page.size);
}

void plan_parse_error(int status, const PlanContext& ctx, ResponsePlan& plan) {
  PlanWriter w(plan, ctx);
  if (status < 400 || status > 599) status = 400;
  error_page(w, status, Req{false, false, 1});
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

}  // namespace httpower
