#include "httpower/conditional.hpp"

#include <cstdio>

#include "httpower/field_syntax.hpp"
#include "httpower/http_date.hpp"

namespace httpower {
namespace {

// etagc = %x21 / %x23-7E / obs-text
bool is_etagc(char ch) noexcept {
  const auto c = static_cast<unsigned char>(ch);
  return c == 0x21 || (c >= 0x23 && c != 0x7f);
}

struct ParsedTag {
  bool weak = false;
  std::string_view opaque;  // with its quotes
};

// entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, and nothing else in `s`.
bool parse_entity_tag(std::string_view s, ParsedTag& out) noexcept {
  out.weak = s.substr(0, 2) == "W/";
  if (out.weak) s.remove_prefix(2);
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
  for (char c : s.substr(1, s.size() - 2)) {
    if (!is_etagc(c)) return false;
  }
  out.opaque = s;
  return true;
}

// Our own tags are strong; compare a received tag against `ours` (§8.8.3.2).
bool tag_matches(const ParsedTag& t, std::string_view ours, EtagCompare cmp) noexcept {
  if (ours.empty()) return false;
  if (cmp == EtagCompare::kStrong && t.weak) return false;
  ParsedTag mine;
  if (!parse_entity_tag(ours, mine)) return false;
  if (cmp == EtagCompare::kStrong && mine.weak) return false;
  return t.opaque == mine.opaque;
}

bool is_get_or_head(Method m) noexcept { return m == Method::kGet || m == Method::kHead; }

}  // namespace

EntityTag make_etag(std::uint64_t size, std::int64_t mtime_sec, std::uint32_t mtime_nsec) noexcept {
  EntityTag t;
  const int n = std::snprintf(t.buf_.data(), t.buf_.size(), "\"%llx-%llx.%x\"",
                              static_cast<unsigned long long>(size),
                              static_cast<unsigned long long>(mtime_sec), mtime_nsec);
  // At most 2 + 2 * 16 + 1 + 1 + 8 = 44 characters: always fits.
  t.len_ = (n > 0 && static_cast<std::size_t>(n) < t.buf_.size()) ? static_cast<std::size_t>(n) : 0;
  return t;
}

bool etag_list_matches(std::string_view field, std::string_view etag, EtagCompare cmp) noexcept {
  field = trim_ows(field);
  if (field == "*") return !etag.empty();
  bool any = false;
  bool matched = false;
  while (true) {
    const std::size_t comma = field.find(',');
    const std::string_view item = trim_ows(field.substr(0, comma));
    if (!item.empty()) {  // #rule: empty elements are allowed
      ParsedTag t;
      if (!parse_entity_tag(item, t)) return false;  // an invalid list matches nothing
      any = true;
      matched = matched || tag_matches(t, etag, cmp);
    }
    if (comma == std::string_view::npos) break;
    field.remove_prefix(comma + 1);
  }
  return any && matched;
}

Precondition evaluate_preconditions(const RequestHead& head, const Validators& v,
                                    std::int64_t now) noexcept {
  const bool safe = is_get_or_head(head.method);
  // §13.2.2 step 1, else step 2.
  if (!head.if_match.empty()) {
    if (!etag_list_matches(head.if_match, v.etag, EtagCompare::kStrong)) {
      return Precondition::kPreconditionFailed;
    }
  } else if (!head.if_unmodified_since.empty()) {
    const auto date = parse_http_date(head.if_unmodified_since, now);
    if (date && v.has_last_modified && v.last_modified > *date) {
      return Precondition::kPreconditionFailed;
    }
  }
  // Step 3, else step 4 (If-Modified-Since is ignored when If-None-Match is present).
  if (!head.if_none_match.empty()) {
    if (etag_list_matches(head.if_none_match, v.etag, EtagCompare::kWeak)) {
      return safe ? Precondition::kNotModified : Precondition::kPreconditionFailed;
    }
  } else if (safe && !head.if_modified_since.empty()) {
    const auto date = parse_http_date(head.if_modified_since, now);
    // §13.1.3: a date later than our clock is invalid.
    if (date && *date <= now && v.has_last_modified && v.last_modified <= *date) {
      return Precondition::kNotModified;
    }
  }
  return Precondition::kProceed;
}

bool if_range_holds(std::string_view if_range, const Validators& v, std::int64_t now) noexcept {
  if_range = trim_ows(if_range);
  if (if_range.empty()) return false;
  if (if_range.front() == '"' || if_range.substr(0, 2) == "W/") {
    ParsedTag t;
    return parse_entity_tag(if_range, t) && tag_matches(t, v.etag, EtagCompare::kStrong);
  }
  const auto date = parse_http_date(if_range, now);
  // §13.1.5: an exact match with a STRONG Last-Modified (at least a second old, §8.8.2.2).
  return date && v.has_last_modified && *date == v.last_modified && v.last_modified < now;
}

}  // namespace httpower
