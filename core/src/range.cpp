#include "httpower/range.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <span>

#include "httpower/field_syntax.hpp"

namespace httpower {
namespace {

constexpr std::uint64_t kSaturated = std::numeric_limits<std::uint64_t>::max();

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// 1*DIGIT, saturating at 2^64-1. Empty or a non-digit: false.
bool parse_u64(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty()) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return false;
    const auto d = static_cast<std::uint64_t>(c - '0');
    v = (v > (kSaturated - d) / 10) ? kSaturated : v * 10 + d;
  }
  out = v;
  return true;
}

enum class Spec : std::uint8_t { kInvalid, kUnsatisfiable, kSatisfiable };

// One range-spec (§14.1.1): int-range "first-[last]" or suffix-range "-length", clamped to
// the file.
Spec parse_spec(std::string_view spec, std::uint64_t size, ByteRange& out) noexcept {
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return Spec::kInvalid;
  const std::string_view a = spec.substr(0, dash);
  const std::string_view b = spec.substr(dash + 1);
  if (a.empty()) {  // suffix-range
    std::uint64_t n = 0;
    if (!parse_u64(b, n)) return Spec::kInvalid;
    if (n == 0 || size == 0) return Spec::kUnsatisfiable;
    out.first = (n >= size) ? 0 : size - n;
    out.last = size - 1;
    return Spec::kSatisfiable;
  }
  std::uint64_t first = 0;
  if (!parse_u64(a, first)) return Spec::kInvalid;
  std::uint64_t last = kSaturated;
  if (!b.empty()) {
    if (!parse_u64(b, last)) return Spec::kInvalid;
    if (last < first) return Spec::kInvalid;
  }
  if (first >= size) return Spec::kUnsatisfiable;
  out.first = first;
  out.last = (last >= size) ? size - 1 : last;
  return Spec::kSatisfiable;
}

// Sorts the ranges by first byte and merges overlapping and adjacent ones, in place; returns
// the number left, which are then strictly ascending with a gap of at least one byte between
// neighbours. Every range ends before the file size, so `last + 1` does not overflow.
std::size_t coalesce(std::span<ByteRange> rs) noexcept {
  if (rs.empty()) return 0;
  std::sort(rs.begin(), rs.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.first < b.first; });
  std::size_t out = 0;
  for (std::size_t i = 1; i < rs.size(); ++i) {
    if (rs[i].first <= rs[out].last + 1) {
      rs[out].last = std::max(rs[out].last, rs[i].last);
    } else {
      rs[++out] = rs[i];
    }
  }
  return out + 1;
}

}  // namespace

RangeResult evaluate_range(std::string_view value, std::uint64_t file_size) noexcept {
  RangeResult full;  // kFull: the answer to anything we ignore
  const std::size_t eq = value.find('=');
  if (eq == std::string_view::npos) return full;
  if (!iequals_ascii(value.substr(0, eq), "bytes")) return full;  // unknown unit (§14.2) or junk

  std::array<ByteRange, kMaxRangeSpecs> got;  // the satisfiable specs, clamped, as given
  std::size_t n = 0;
  std::size_t specs = 0;
  std::string_view rest = value.substr(eq + 1);
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    if (!item.empty()) {  // #rule: empty list elements are allowed and ignored
      if (++specs > kMaxRangeSpecs) return full;  // abuse: too many range-specs to look at
      const Spec s = parse_spec(item, file_size, got[n]);
      if (s == Spec::kInvalid) return full;
      if (s == Spec::kSatisfiable) ++n;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (specs == 0) return full;  // "bytes=" or "bytes= , ": no range-spec, invalid

  RangeResult r;
  if (n == 0) {
    r.outcome = RangeOutcome::kUnsatisfiable;
    return r;
  }
  // §14.3 lets a server coalesce; merged parts never repeat a byte, so the 206 is never
  // larger than the file, whatever overlaps the client asked for.
  const std::size_t parts = coalesce(std::span(got.data(), n));
  if (parts > kMaxRanges) return full;  // abuse: too many separate parts
  std::copy_n(got.begin(), parts, r.ranges.begin());
  r.count = parts;
  r.outcome = RangeOutcome::kPartial;
  return r;
}

}  // namespace httpower
