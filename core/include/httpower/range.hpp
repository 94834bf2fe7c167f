#pragma once
// Range evaluation (RFC 9110 §14): a Range field value against a file size.
//
// Contract
// --------
//   evaluate_range(value, size) never allocates and never fails; it returns one of
//     kFull           send the whole file as 200. For: an empty value, a unit other than
//                     "bytes" (§14.2: ignore), a syntactically invalid value (missing '=',
//                     non-digits, last < first, no range-spec at all), and ABUSIVE sets
//                     (policy below).
//     kPartial        206: 1..kMaxRanges ranges, each inside [0, size), strictly ascending,
//                     disjoint and NON-ADJACENT (at least one byte between two parts); they
//                     cover exactly the union of the satisfiable range-specs, so total() <=
//                     size. count == 1: a single part; count > 1: multipart/byteranges.
//     kUnsatisfiable  416 with "Content-Range: bytes */SIZE": the value is valid but no
//                     range-spec overlaps the file ("bytes=-0", "bytes=SIZE-", any range
//                     on an empty file).
//   Clamping: "a-b" with b >= size becomes a-(size-1); "-n" with n >= size is the whole
//   file; "a-" runs to the end. Unsatisfiable specs in a set with satisfiable ones are
//   dropped (§14.1.1: a set is satisfiable if any of its ranges is).
//   Coalescing (§14.3 allows it): after clamping, the satisfiable ranges are sorted and
//   overlapping or adjacent ones merged, so "bytes=20-29,0-9,5-12,13-15" is 0-15,20-29.
//
// Abuse policy (§14.2 allows ignoring a Range field): answered 200 with the whole file when
//   - the value has more than kMaxRangeSpecs range-specs (satisfiable or not), or
//   - more than kMaxRanges parts remain after coalescing.
//   Coalescing bounds the bytes (never more than the file) and kMaxRanges bounds the
//   multipart framing; the planner also serves the whole file when that framing alone would
//   be larger than the file (response_planner.hpp).
// Numbers too large for 64 bits saturate: such a first-pos is past any end (unsatisfiable),
// such a last-pos or suffix is clamped.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace httpower {

inline constexpr std::size_t kMaxRangeSpecs = 100;  // range-specs looked at in one value
inline constexpr std::size_t kMaxRanges = 16;       // parts served after coalescing

struct ByteRange {
  std::uint64_t first = 0;  // inclusive
  std::uint64_t last = 0;   // inclusive; first <= last < file size
  [[nodiscard]] std::uint64_t length() const noexcept { return last - first + 1; }
};

enum class RangeOutcome : std::uint8_t { kFull, kPartial, kUnsatisfiable };

struct RangeResult {
  RangeOutcome outcome = RangeOutcome::kFull;
  std::size_t count = 0;  // > 0 only for kPartial
  std::array<ByteRange, kMaxRanges> ranges{};

  [[nodiscard]] std::span<const ByteRange> view() const noexcept { return {ranges.data(), count}; }
  [[nodiscard]] std::uint64_t total() const noexcept {
    std::uint64_t t = 0;
    for (const ByteRange& r : view()) t += r.length();
    return t;
  }
};

[[nodiscard]] RangeResult evaluate_range(std::string_view value, std::uint64_t file_size) noexcept;

}  // namespace httpower
