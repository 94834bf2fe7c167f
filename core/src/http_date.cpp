#include "httpower/http_date.hpp"

#include <algorithm>

namespace httpower {
namespace {

constexpr std::string_view kDays[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view kLongDays[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                           "Thursday", "Friday", "Saturday"};
constexpr std::string_view kMonths[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::int64_t kMaxTime = 253402300799;  // 9999-12-31T23:59:59Z

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t y;
  unsigned m, d;
};

Civil civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

bool is_leap(std::int64_t y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
  constexpr unsigned kLen[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && is_leap(y)) ? 29 : kLen[m - 1];
}

// A cursor over the input: every read checks the remaining length.
class Cursor {
 public:
  explicit Cursor(std::string_view s) noexcept : s_(s) {}
  bool lit(std::string_view l) noexcept {
    if (s_.substr(0, l.size()) != l) return false;
    s_.remove_prefix(l.size());
    return true;
  }
  bool digits(std::size_t n, int& out) noexcept {
    if (s_.size() < n) return false;
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (s_[i] < '0' || s_[i] > '9') return false;
      v = v * 10 + (s_[i] - '0');
    }
    s_.remove_prefix(n);
    out = v;
    return true;
  }
  // One of `names`; returns its index, or -1.
  template <std::size_t N>
  int one_of(const std::string_view (&names)[N]) noexcept {
    for (std::size_t i = 0; i < N; ++i) {
      if (lit(names[i])) return static_cast<int>(i);
    }
    return -1;
  }
  bool done() const noexcept { return s_.empty(); }

 private:
  std::string_view s_;
};

struct Fields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

// time-of-day = hour ":" minute ":" second
bool time_of_day(Cursor& c, Fields& f) noexcept {
  return c.digits(2, f.hour) && c.lit(":") && c.digits(2, f.minute) && c.lit(":") &&
         c.digits(2, f.second);
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
bool imf_fixdate(std::string_view s, Fields& f) noexcept {
  Cursor c(s);
  if (c.one_of(kDays) < 0 || !c.lit(", ") || !c.digits(2, f.day) || !c.lit(" ")) return false;
  f.month = c.one_of(kMonths) + 1;
  return f.month > 0 && c.lit(" ") && c.digits(4, f.year) && c.lit(" ") && time_of_day(c, f) &&
         c.lit(" GMT") && c.done();
}

// "Sunday, 06-Nov-94 08:49:37 GMT"
bool rfc850_date(std::string_view s, Fields& f) noexcept {
  Cursor c(s);
  if (c.one_of(kLongDays) < 0 || !c.lit(", ") || !c.digits(2, f.day) || !c.lit("-")) return false;
  f.month = c.one_of(kMonths) + 1;
  return f.month > 0 && c.lit("-") && c.digits(2, f.year) && c.lit(" ") && time_of_day(c, f) &&
         c.lit(" GMT") && c.done();
}

// "Sun Nov  6 08:49:37 1994": day is ( 2DIGIT / ( SP DIGIT ) )
bool asctime_date(std::string_view s, Fields& f) noexcept {
  Cursor c(s);
  if (c.one_of(kDays) < 0 || !c.lit(" ")) return false;
  f.month = c.one_of(kMonths) + 1;
  if (f.month <= 0 || !c.lit(" ")) return false;
  if (!(c.lit(" ") ? c.digits(1, f.day) : c.digits(2, f.day))) return false;
  return c.lit(" ") && time_of_day(c, f) && c.lit(" ") && c.digits(4, f.year) && c.done();
}

std::optional<std::int64_t> to_time(const Fields& f) noexcept {
  if (f.year < 1900 || f.month < 1 || f.month > 12 || f.day < 1) return std::nullopt;
  if (static_cast<unsigned>(f.day) > days_in_month(f.year, static_cast<unsigned>(f.month))) {
    return std::nullopt;
  }
  if (f.hour > 23 || f.minute > 59 || f.second > 60) return std::nullopt;
  const int sec = std::min(f.second, 59);  // a leap second counts as :59
  const std::int64_t days =
      days_from_civil(f.year, static_cast<unsigned>(f.month), static_cast<unsigned>(f.day));
  return days * 86400 + f.hour * 3600 + f.minute * 60 + sec;
}

void put2(char* p, unsigned v) noexcept {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

}  // namespace

std::optional<std::int64_t> parse_http_date(std::string_view s, std::int64_t now) noexcept {
  Fields f;
  if (imf_fixdate(s, f) || asctime_date(s, f)) return to_time(f);
  f = Fields{};
  if (!rfc850_date(s, f)) return std::nullopt;
  // §5.6.7: a two-digit year more than 50 years in the future is the most recent past year
  // with the same last two digits.
  const std::int64_t now_year = civil_from_days(std::clamp<std::int64_t>(now, 0, kMaxTime) / 86400).y;
  std::int64_t year = now_year - now_year % 100 + f.year;
  if (year > now_year + 50) year -= 100;
  f.year = static_cast<int>(year);
  return to_time(f);
}

std::string_view format_http_date(std::int64_t t, HttpDateBuffer& buf) noexcept {
  t = std::clamp<std::int64_t>(t, 0, kMaxTime);
  const std::int64_t days = t / 86400;
  const auto secs = static_cast<unsigned>(t % 86400);
  const Civil c = civil_from_days(days);
  const auto wday = static_cast<std::size_t>((days + 4) % 7);  // 1970-01-01 was a Thursday
  char* p = buf.data();
  for (char ch : kDays[wday]) *p++ = ch;
  *p++ = ',';
  *p++ = ' ';
  put2(p, c.d);
  p += 2;
  *p++ = ' ';
  for (char ch : kMonths[c.m - 1]) *p++ = ch;
  *p++ = ' ';
  const auto y = static_cast<unsigned>(c.y);
  put2(p, y / 100);
  put2(p + 2, y % 100);
  p += 4;
  *p++ = ' ';
  put2(p, secs / 3600);
  p[2] = ':';
  put2(p + 3, secs / 60 % 60);
  p[5] = ':';
  put2(p + 6, secs % 60);
  p += 8;
  for (char ch : std::string_view(" GMT")) *p++ = ch;
  return {buf.data(), kHttpDateLength};
}

}  // namespace httpower
