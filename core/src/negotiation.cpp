#include "httpower/negotiation.hpp"

#include <algorithm>

#include "httpower/field_syntax.hpp"

namespace httpower {
namespace {

constexpr std::array<std::string_view, kCodingCount> kNames = {"identity", "br", "zstd", "gzip"};
constexpr std::array<std::string_view, kCodingCount> kSuffixes = {"", ".br", ".zst", ".gz"};

bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  constexpr std::string_view kSpecial = "!#$%&'*+-.^_`|~";
  return kSpecial.find(c) != std::string_view::npos;
}

// "name;q=0.5" -> name and q (1000 without a weight); false if malformed. `other_params`:
// media-range parameters besides q are allowed (Accept), else only one weight (Accept-Encoding).
bool split_weight(std::string_view e, bool other_params, std::string_view& name, int& q) {
  const std::size_t semi = e.find(';');
  name = trim_ows(e.substr(0, semi));
  q = 1000;
  bool have_q = false;
  std::string_view rest = semi == std::string_view::npos ? std::string_view{} : e.substr(semi + 1);
  while (semi != std::string_view::npos) {
    const std::size_t next = rest.find(';');
    const std::string_view p = trim_ows(rest.substr(0, next));
    const std::size_t eq = p.find('=');
    if (eq == std::string_view::npos || !is_token(p.substr(0, eq))) return false;
    if (iequals_ascii(p.substr(0, eq), "q") && !have_q) {
      q = parse_qvalue(p.substr(eq + 1));
      if (q < 0) return false;
      have_q = true;
    } else if (!other_params) {
      return false;
    }
    if (next == std::string_view::npos) break;
    rest.remove_prefix(next + 1);
  }
  return true;
}

int coding_index(std::string_view name) noexcept {
  if (iequals_ascii(name, "x-gzip")) return static_cast<int>(Coding::kGzip);
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (iequals_ascii(name, kNames[i])) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

std::string_view coding_name(Coding c) noexcept { return kNames[static_cast<std::size_t>(c)]; }
std::string_view coding_suffix(Coding c) noexcept { return kSuffixes[static_cast<std::size_t>(c)]; }

bool is_token(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

int parse_qvalue(std::string_view s) noexcept {
  if (s.empty() || (s[0] != '0' && s[0] != '1')) return -1;
  if (s.size() == 1) return s[0] == '1' ? 1000 : 0;
  if (s[1] != '.' || s.size() > 5) return -1;
  int v = 0;
  for (std::size_t i = 2; i < 5; ++i) {
    const char d = i < s.size() ? s[i] : '0';
    if (d < '0' || d > '9') return -1;
    v = v * 10 + (d - '0');
  }
  if (s[0] == '1') return v == 0 ? 1000 : -1;
  return v;
}

AcceptEncoding parse_accept_encoding(std::string_view value, bool present) noexcept {
  AcceptEncoding identity_only;
  if (!present) return identity_only;
  std::array<int, kCodingCount> seen{-1, -1, -1, -1};
  int star = -1;
  bool ok = true;
  for_each_element(value, [&](std::string_view e) {
    std::string_view name;
    int q = 0;
    if (!ok || !split_weight(e, false, name, q) || !is_token(name)) {
      ok = false;
      return;
    }
    const int i = coding_index(name);
    if (name == "*") {
      if (star < 0) star = q;
    } else if (i >= 0 && seen[static_cast<std::size_t>(i)] < 0) {
      seen[static_cast<std::size_t>(i)] = q;
    }
  });
  if (!ok) return identity_only;
  AcceptEncoding ae;
  ae.valid = true;
  for (std::size_t i = 1; i < kCodingCount; ++i) {
    ae.q[i] = static_cast<std::uint16_t>(seen[i] >= 0 ? seen[i] : std::max(star, 0));
  }
  // Unlisted identity is acceptable but the last choice: weight 0.001, below every coding
  // the client names (so "br;q=0.5" still means "br, please").
  ae.q[0] = static_cast<std::uint16_t>(seen[0] >= 0 ? seen[0] : star >= 0 ? star : kUnlistedIdentity);
  return ae;
}

std::size_t candidate_codings(const AcceptEncoding& ae, std::array<Coding, 3>& out) noexcept {
  std::size_t n = 0;
  for (Coding c : kCodingPreference) {
    if (ae.weight(c) > 0 && ae.weight(c) >= ae.weight(Coding::kIdentity)) out[n++] = c;
  }
  // Highest weight first; the preference order among equals (stable).
  std::stable_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n),
                   [&](Coding a, Coding b) { return ae.weight(a) > ae.weight(b); });
  return n;
}

Coding choose_coding(const AcceptEncoding& ae, unsigned available) noexcept {
  std::array<Coding, 3> order{};
  const std::size_t n = candidate_codings(ae, order);
  for (std::size_t i = 0; i < n; ++i) {
    if (available & (1u << static_cast<unsigned>(order[i]))) return order[i];
  }
  return Coding::kIdentity;
}

bool accepts_html(std::string_view accept, bool present) noexcept {
  if (!present || accept.find('"') != std::string_view::npos) return true;
  int html = -1, text = -1, any = -1;
  bool ok = true;
  for_each_element(accept, [&](std::string_view e) {
    std::string_view range;
    int q = 0;
    if (!ok || !split_weight(e, true, range, q)) {
      ok = false;
      return;
    }
    const std::size_t slash = range.find('/');
    if (slash == std::string_view::npos || !is_token(range.substr(0, slash)) ||
        !is_token(range.substr(slash + 1))) {
      ok = false;
      return;
    }
    int* slot = iequals_ascii(range, "text/html") ? &html
                : iequals_ascii(range, "text/*")  ? &text
                : range == "*/*"            ? &any
                                            : nullptr;
    if (slot != nullptr && *slot < 0) *slot = q;
  });
  if (!ok) return true;
  const int w = html >= 0 ? html : text >= 0 ? text : any;
  return w > 0;
}

bool is_field_value(std::string_view v) noexcept {
  return !v.empty() && std::none_of(v.begin(), v.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t') || c == 0x7f;
  });
}

namespace {

// Fields the server writes itself, and the hop-by-hop ones (RFC 9110 §7.6.1) that describe a
// connection, not a response: an operator's copy would contradict or duplicate them.
constexpr std::string_view kOwnedFields[] = {
    "connection",    "keep-alive",     "proxy-connection", "te",           "trailer",
    "transfer-encoding", "upgrade",    "content-length",   "content-type", "content-range",
    "content-encoding",  "date",       "server",           "etag",         "last-modified",
    "accept-ranges", "location",       "allow",            "vary",         "cache-control",
};

}  // namespace

std::string check_extra_header(std::string_view spec, std::string& name, std::string& value) {
  const std::size_t colon = spec.find(':');
  if (colon == std::string_view::npos) return "must be NAME:VALUE, e.g. X-Frame-Options:DENY";
  const std::string_view n = spec.substr(0, colon);
  const std::string_view v = trim_ows(spec.substr(colon + 1));
  if (!is_token(n)) return "must be NAME:VALUE with NAME a field name (letters, digits, -)";
  for (std::string_view owned : kOwnedFields) {
    if (iequals_ascii(n, owned)) return "names a field the server writes itself or a hop-by-hop field";
  }
  if (!v.empty() && !is_field_value(v)) return "must have a value without CR, LF, NUL or control bytes";
  name.assign(n);
  value.assign(v);
  return {};
}

void append_cors_preflight(std::string& out, std::string_view request_headers) {
  out += "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n";
  std::size_t n = 0;
  std::string list;
  for_each_element(request_headers, [&](std::string_view e) {
    if (n >= kMaxCorsHeaders || !is_token(e)) return;
    if (n++ > 0) list += ", ";
    list += e;
  });
  if (n > 0) {
    out += "Access-Control-Allow-Headers: ";
    out += list;
    out += "\r\n";
  }
  out += "Access-Control-Max-Age: 86400\r\n";
}

}  // namespace httpower
