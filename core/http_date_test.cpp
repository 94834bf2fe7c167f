// HTTP-date (RFC 9110 §5.6.7): the three formats, strictness, and IMF-fixdate output.
#include "httpower/http_date.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace httpower {
namespace {

constexpr std::int64_t k1994 = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
constexpr std::int64_t kNow2026 = 1795000000;

TEST(HttpDate, ParsesAllThreeFormatsOfTheRfcExample) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", kNow2026), k1994);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", kNow2026), k1994);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994", kNow2026), k1994);
}

struct Good {
  const char* text;
  std::int64_t t;
};
void PrintTo(const Good& c, std::ostream* os) { *os << c.text; }
class HttpDateGood : public testing::TestWithParam<Good> {};
TEST_P(HttpDateGood, Parses) {
  EXPECT_EQ(parse_http_date(GetParam().text, kNow2026), GetParam().t) << GetParam().text;
}
INSTANTIATE_TEST_SUITE_P(
    Table, HttpDateGood,
    testing::Values(Good{"Thu, 01 Jan 1970 00:00:00 GMT", 0},
                    Good{"Fri, 31 Dec 9999 23:59:59 GMT", 253402300799},
                    Good{"Tue, 29 Feb 2000 12:00:00 GMT", 951825600},
                    Good{"Sat, 31 Dec 2016 23:59:60 GMT", 1483228799},  // leap second -> :59
                    Good{"Mon, 01 Jan 1900 00:00:00 GMT", -2208988800},
                    Good{"Wed Feb 29 00:00:00 2012", 1330473600},
                    Good{"Thu Jan 01 00:00:00 1970", 0},  // asctime with a 2-digit day
                    // RFC 850 two-digit years, relative to now (2026): 26 -> 2026, 76 -> 2076,
                    // 77 -> 1977 (2077 is more than 50 years ahead)
                    Good{"Thursday, 01-Jan-26 00:00:00 GMT", 1767225600},
                    Good{"Wednesday, 01-Jan-76 00:00:00 GMT", 3345062400},
                    Good{"Saturday, 01-Jan-77 00:00:00 GMT", 220924800}));

class HttpDateBad : public testing::TestWithParam<const char*> {};
TEST_P(HttpDateBad, IsRejected) { EXPECT_FALSE(parse_http_date(GetParam(), kNow2026)) << GetParam(); }
INSTANTIATE_TEST_SUITE_P(
    Table, HttpDateBad,
    testing::Values("", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC",
                    "Sun, 06 Nov 1994 08:49:37 gmt", "sun, 06 Nov 1994 08:49:37 GMT",
                    "Sun, 6 Nov 1994 08:49:37 GMT", "Sun,  06 Nov 1994 08:49:37 GMT",
                    "Sun, 06 nov 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT",
                    "Sun, 06 Nov 1994 8:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT ",
                    " Sun, 06 Nov 1994 08:49:37 GMT", "Sun, 31 Nov 1994 08:49:37 GMT",
                    "Sun, 29 Feb 1900 08:49:37 GMT", "Sun, 00 Nov 1994 08:49:37 GMT",
                    "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 23:60:00 GMT",
                    "Sun, 06 Nov 1994 23:59:61 GMT", "Sun, 06 Nov 1899 08:49:37 GMT",
                    "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
                    "Sun, 06 Nov 1994 08:49:37 GMTX", "Sunday, 06-Nov-1994 08:49:37 GMT",
                    "Sun, 06-Nov-94 08:49:37 GMT", "Sunday, 06 Nov 1994 08:49:37 GMT",
                    "Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 94", "Sun Nov 06 08:49:37 1994 ",
                    "1994-11-06T08:49:37Z", "784111777"));

TEST(HttpDate, EmbeddedNulIsRejected) {
  using namespace std::literals;
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT\0"sv, kNow2026));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994\0 08:49:37 GMT"sv, kNow2026));
}

TEST(HttpDate, FormatsImfFixdate) {
  HttpDateBuffer b;
  EXPECT_EQ(format_http_date(k1994, b), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(0, b), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(951825600, b), "Tue, 29 Feb 2000 12:00:00 GMT");
  EXPECT_EQ(format_http_date(-5, b), "Thu, 01 Jan 1970 00:00:00 GMT");  // clamped
  EXPECT_EQ(format_http_date(253402300799 + 100, b), "Fri, 31 Dec 9999 23:59:59 GMT");
}

TEST(HttpDate, FormatThenParseRoundTrips) {
  const std::uint64_t seed = std::random_device{}();
  std::printf("HttpDate.FormatThenParseRoundTrips seed=%llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> dist(0, 253402300799);
  HttpDateBuffer b;
  for (int i = 0; i < 20000; ++i) {
    const std::int64_t t = dist(rng);
    const std::string s(format_http_date(t, b));
    ASSERT_EQ(parse_http_date(s, kNow2026), t) << s << " seed=" << seed;
  }
}

}  // namespace
}  // namespace httpower
