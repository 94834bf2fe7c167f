#include "httpower/target_resolver.hpp"

#include <cstddef>

namespace httpower {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_control(unsigned char c) noexcept { return c < 0x20 || c == 0x7f; }

// A byte that may not appear in a path, raw or decoded. NUL is a control byte too, but gets
// its own error so logs say what happened.
TargetError check_byte(unsigned char c) noexcept {
  if (c == 0) return TargetError::kNul;
  if (c == '\\') return TargetError::kBackslash;
  if (is_control(c)) return TargetError::kControl;
  return TargetError::kNone;
}

// Percent-decodes `raw` into `out` exactly once: the decoded bytes are never looked at for
// escapes again, so "%2541" becomes "%41".
TargetError decode_once(std::string_view raw, std::string& out) {
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const auto c = static_cast<unsigned char>(raw[i]);
    if (c == '#') return TargetError::kFragment;
    if (TargetError e = check_byte(c); e != TargetError::kNone) return e;
    if (c != '%') {
      out.push_back(static_cast<char>(c));
      continue;
    }
    if (raw.size() - i < 3) return TargetError::kBadEscape;  // "%", "%4" at the end
    const int hi = hex_value(raw[i + 1]);
    const int lo = hex_value(raw[i + 2]);
    if (hi < 0 || lo < 0) return TargetError::kBadEscape;
    const auto d = static_cast<unsigned char>(hi * 16 + lo);
    if (TargetError e = check_byte(d); e != TargetError::kNone) return e;
    out.push_back(static_cast<char>(d));
    i += 2;
  }
  return TargetError::kNone;
}

// RFC 3986 §5.2.4 over the decoded path in `s` (which starts with '/'), in place: the write
// position never passes the read position, since every output segment was an input segment.
// Output: segments joined by '/', no leading '/', none empty, "." or "..". T1 rests here.
TargetError remove_dot_segments(std::string& s, bool& trailing_slash) {
  std::size_t w = 0;  // s[0, w) is the output so far
  std::size_t r = 0;
  const std::size_t n = s.size();
  trailing_slash = false;
  while (r < n) {
    // s[r] == '/': skip it and read one segment.
    ++r;
    const std::size_t start = r;
    while (r < n && s[r] != '/') ++r;
    const std::string_view seg(s.data() + start, r - start);
    const bool last = (r == n);
    if (seg.empty() || seg == ".") {
      if (last) trailing_slash = true;
      continue;
    }
    if (seg == "..") {
      if (w == 0) return TargetError::kAboveRoot;  // policy: reject, never clamp
      const std::size_t cut = s.rfind('/', w - 1);
      w = (cut == std::string::npos) ? 0 : cut;
      if (last) trailing_slash = true;
      continue;
    }
    if (w != 0) s[w++] = '/';
    for (char c : seg) s[w++] = c;  // w <= start here, so this never overwrites unread input
  }
  s.resize(w);
  return TargetError::kNone;
}

}  // namespace

std::string_view to_string(TargetError e) noexcept {
  switch (e) {
    case TargetError::kNone: return "ok";
    case TargetError::kAsterisk: return "asterisk-form target";
    case TargetError::kNotOriginForm: return "target is not origin-form";
    case TargetError::kBadEscape: return "malformed percent-escape";
    case TargetError::kNul: return "NUL byte in path";
    case TargetError::kBackslash: return "backslash in path";
    case TargetError::kControl: return "control byte in path";
    case TargetError::kFragment: return "fragment in target";
    case TargetError::kAboveRoot: return "path climbs above the root";
  }
  return "unknown";
}

ResolvedTarget resolve_target(std::string_view origin_path, std::string& buffer) {
  ResolvedTarget t;
  buffer.clear();
  const std::size_t q = origin_path.find('?');
  t.raw_path = origin_path.substr(0, q);
  if (q != std::string_view::npos) {
    t.has_query = true;
    t.query = origin_path.substr(q + 1);
  }
  TargetError query_error = TargetError::kNone;
  for (char c : t.query) {  // the query is not decoded, but it must be safe to echo (301)
    if (c == '#') query_error = TargetError::kFragment;
    if (is_control(static_cast<unsigned char>(c))) query_error = TargetError::kControl;
  }
  if (origin_path == "*") {
    t.error = TargetError::kAsterisk;
  } else if (t.raw_path.empty() || t.raw_path.front() != '/') {
    t.error = TargetError::kNotOriginForm;
  } else if (TargetError e = decode_once(t.raw_path, buffer); e != TargetError::kNone) {
    t.error = e;
  } else if (query_error != TargetError::kNone) {
    t.error = query_error;
  } else {
    t.error = remove_dot_segments(buffer, t.trailing_slash);
  }
  if (t.error != TargetError::kNone) {
    buffer.clear();
    t.trailing_slash = false;
  }
  t.path = buffer;
  return t;
}

ResolvedTarget with_index_file(const ResolvedTarget& t, std::string& buffer,
                               std::string_view index_name) {
  ResolvedTarget r = t;
  buffer.resize(t.path.size());  // t.path views the start of buffer: keep exactly it
  if (!buffer.empty()) buffer.push_back('/');
  buffer.append(index_name);
  r.path = buffer;
  r.trailing_slash = false;
  return r;
}

bool is_hidden_path(std::string_view path) noexcept {
  bool first = true;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string_view segment = path.substr(0, slash);
    if (!segment.empty() && segment.front() == '.' && !(first && segment == ".well-known")) {
      return true;
    }
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
    first = false;
  }
  return false;
}

}  // namespace httpower
