#pragma once
// HTTP-date (RFC 9110 §5.6.7): parse all three formats, format IMF-fixdate.
//
//   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"   (the only one we send)
//   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"  (two-digit year: §5.6.7 says a year
//                more than 50 years in the future is the most recent past year with those
//                digits, so the parser needs "now")
//   asctime      "Sun Nov  6 08:49:37 1994"
//
// parse_http_date is strict about the grammar (exact spacing, case-sensitive names as the
// ABNF spells them, "GMT"), checks ranges (day within its month, hour < 24, minute < 60,
// second <= 60; a leap second 60 counts as 59) and years 1900..9999, and does not cross-check
// the weekday name against the date (it only has to be a valid name). Anything else ->
// std::nullopt; callers treat an invalid date as absent (§13.1.3, §13.1.4).
// Times are seconds since the Unix epoch, UTC. No allocation, no locale, no clock.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace httpower {

inline constexpr std::size_t kHttpDateLength = 29;  // "Sun, 06 Nov 1994 08:49:37 GMT"
using HttpDateBuffer = std::array<char, kHttpDateLength>;

// `now` is used only for RFC 850's two-digit years.
[[nodiscard]] std::optional<std::int64_t> parse_http_date(std::string_view s,
                                                          std::int64_t now) noexcept;

// IMF-fixdate of `t`, written into `buf`; returns a view of all of it. t is clamped to
// [0, 253402300799] (1970-01-01 .. 9999-12-31 23:59:59).
std::string_view format_http_date(std::int64_t t, HttpDateBuffer& buf) noexcept;

}  // namespace httpower
