// Conditional requests (RFC 9110 §13.1, §13.2.2), entity-tag comparison (§8.8.3.2) and the
// file ETag.
#include "httpower/conditional.hpp"

#include <gtest/gtest.h>

#include <string>

#include "httpower/http_date.hpp"

namespace httpower {
namespace {

constexpr std::int64_t kNow = 784111777 + 3600;                  // an hour after the LM
constexpr std::string_view kLm = "Sun, 06 Nov 1994 08:49:37 GMT";  // == kLastModified
constexpr std::int64_t kLastModified = 784111777;
constexpr std::string_view kBefore = "Sun, 06 Nov 1994 08:49:36 GMT";
constexpr std::string_view kAfter = "Sun, 06 Nov 1994 08:49:38 GMT";
constexpr std::string_view kFuture = "Sun, 06 Nov 1994 10:49:37 GMT";  // after kNow
constexpr std::string_view kEtag = "\"abc\"";

Validators validators() { return Validators{kEtag, kLastModified, true}; }

struct Case {
  const char* name;
  Method method;
  std::string_view if_match, if_unmodified_since, if_none_match, if_modified_since;
  Precondition expected;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class Preconditions : public testing::TestWithParam<Case> {};

TEST_P(Preconditions, FollowRfc9110Section13_2_2) {
  const Case& c = GetParam();
  RequestHead h;
  h.method = c.method;
  h.if_match = c.if_match;
  h.if_unmodified_since = c.if_unmodified_since;
  h.if_none_match = c.if_none_match;
  h.if_modified_since = c.if_modified_since;
  EXPECT_EQ(static_cast<int>(evaluate_preconditions(h, validators(), kNow)),
            static_cast<int>(c.expected))
      << c.name;
}

constexpr auto G = Method::kGet;
constexpr auto H = Method::kHead;
constexpr auto P = Method::kPost;
constexpr auto kGo = Precondition::kProceed;
constexpr auto k304 = Precondition::kNotModified;
constexpr auto k412 = Precondition::kPreconditionFailed;

INSTANTIATE_TEST_SUITE_P(
    Table, Preconditions,
    testing::Values(
        Case{"none", G, "", "", "", "", kGo},
        // If-Match: strong comparison, "*" matches an existing file
        Case{"if-match same", G, kEtag, "", "", "", kGo},
        Case{"if-match star", G, "*", "", "", "", kGo},
        Case{"if-match other", G, "\"xyz\"", "", "", "", k412},
        Case{"if-match in list", G, "\"x\", \"abc\"", "", "", "", kGo},
        Case{"if-match weak never", G, "W/\"abc\"", "", "", "", k412},
        Case{"if-match garbage", G, "abc", "", "", "", k412},
        // If-Unmodified-Since: only when If-Match is absent; invalid date ignored
        Case{"ius older", G, "", kBefore, "", "", k412},
        Case{"ius equal", G, "", kLm, "", "", kGo},
        Case{"ius newer", G, "", kAfter, "", "", kGo},
        Case{"ius invalid ignored", G, "", "yesterday", "", "", kGo},
        Case{"ius ignored with if-match", G, kEtag, kBefore, "", "", kGo},
        // If-None-Match: weak comparison; * matches; 304 for GET/HEAD, 412 otherwise
        Case{"inm same", G, "", "", kEtag, "", k304},
        Case{"inm same head", H, "", "", kEtag, "", k304},
        Case{"inm weak matches", G, "", "", "W/\"abc\"", "", k304},
        Case{"inm star", G, "", "", "*", "", k304},
        Case{"inm list", G, "", "", "\"a\", W/\"b\",\"abc\"", "", k304},
        Case{"inm other", G, "", "", "\"xyz\"", "", kGo},
        Case{"inm post", P, "", "", kEtag, "", k412},
        Case{"inm garbage", G, "", "", "abc", "", kGo},
        Case{"inm unquoted star in list", G, "", "", "\"x\", *", "", kGo},
        // If-Modified-Since: ignored when If-None-Match present
        Case{"ims not modified", G, "", "", "", kLm, k304},
        Case{"ims later date", G, "", "", "", kAfter, k304},
        Case{"ims modified", G, "", "", "", kBefore, kGo},
        Case{"ims head", H, "", "", "", kLm, k304},
        Case{"ims ignored for post", P, "", "", "", kLm, kGo},
        Case{"ims invalid ignored", G, "", "", "", "Sun, 06 Nov 1994", kGo},
        Case{"ims future ignored", G, "", "", "", kFuture, kGo},
        Case{"ims rfc850", G, "", "", "", "Sunday, 06-Nov-94 08:49:37 GMT", k304},
        Case{"ims asctime", G, "", "", "", "Sun Nov  6 08:49:37 1994", k304},
        Case{"ims ignored with inm mismatch", G, "", "", "\"xyz\"", kLm, kGo},
        Case{"inm wins over ims", G, "", "", kEtag, kBefore, k304},
        // order: If-Match failure (412) before If-None-Match (304)
        Case{"if-match fails first", G, "\"xyz\"", "", kEtag, "", k412},
        Case{"ius fails first", G, "", kBefore, kEtag, kLm, k412}));

TEST(Conditional, EtagListComparison) {
  EXPECT_TRUE(etag_list_matches("\"abc\"", kEtag, EtagCompare::kStrong));
  EXPECT_FALSE(etag_list_matches("W/\"abc\"", kEtag, EtagCompare::kStrong));
  EXPECT_TRUE(etag_list_matches("W/\"abc\"", kEtag, EtagCompare::kWeak));
  EXPECT_FALSE(etag_list_matches("\"abc\"", "W/\"abc\"", EtagCompare::kStrong));
  EXPECT_TRUE(etag_list_matches("\"abc\"", "W/\"abc\"", EtagCompare::kWeak));
  EXPECT_TRUE(etag_list_matches(" , \"x\" ,, \"abc\" ", kEtag, EtagCompare::kStrong));
  EXPECT_FALSE(etag_list_matches("\"abc\", bogus", kEtag, EtagCompare::kStrong));
  EXPECT_FALSE(etag_list_matches("\"ab\"c\"", kEtag, EtagCompare::kWeak));
  EXPECT_FALSE(etag_list_matches("", kEtag, EtagCompare::kWeak));
  EXPECT_FALSE(etag_list_matches(",", kEtag, EtagCompare::kWeak));
  EXPECT_FALSE(etag_list_matches("\"ABC\"", kEtag, EtagCompare::kWeak));  // case-sensitive
  EXPECT_TRUE(etag_list_matches("*", kEtag, EtagCompare::kStrong));
  EXPECT_FALSE(etag_list_matches("*", "", EtagCompare::kStrong));
}

struct IfRangeCase {
  const char* name;
  std::string_view if_range;
  std::int64_t now;
  bool holds;
};
void PrintTo(const IfRangeCase& c, std::ostream* os) { *os << c.name; }
class IfRange : public testing::TestWithParam<IfRangeCase> {};
TEST_P(IfRange, FollowsRfc9110Section13_1_5) {
  const IfRangeCase& c = GetParam();
  EXPECT_EQ(if_range_holds(c.if_range, validators(), c.now), c.holds) << c.name;
}
INSTANTIATE_TEST_SUITE_P(
    Table, IfRange,
    testing::Values(IfRangeCase{"same strong etag", kEtag, kNow, true},
                    IfRangeCase{"other etag", "\"xyz\"", kNow, false},
                    IfRangeCase{"weak etag never", "W/\"abc\"", kNow, false},
                    IfRangeCase{"exact date, strong LM", kLm, kNow, true},
                    IfRangeCase{"exact date, LM == Date is weak", kLm, kLastModified, false},
                    IfRangeCase{"exact date, LM one second old", kLm, kLastModified + 1, true},
                    IfRangeCase{"later date", kAfter, kNow, false},
                    IfRangeCase{"earlier date", kBefore, kNow, false},
                    IfRangeCase{"invalid date", "tomorrow", kNow, false},
                    IfRangeCase{"empty", "", kNow, false},
                    IfRangeCase{"etag list is not an If-Range", "\"abc\", \"x\"", kNow, false}));

TEST(Conditional, MakeEtagIsStrongQuotedAndDependsOnEveryFact) {
  const std::string base(make_etag(0x10, 0x5f5e100, 7).view());
  EXPECT_EQ(base, "\"10-5f5e100.7\"");
  EXPECT_NE(base, make_etag(0x11, 0x5f5e100, 7).view());  // size
  EXPECT_NE(base, make_etag(0x10, 0x5f5e101, 7).view());  // seconds
  EXPECT_NE(base, make_etag(0x10, 0x5f5e100, 8).view());  // nanoseconds
  const std::string big(make_etag(~0ull, -1, 999999999).view());
  EXPECT_EQ(big.front(), '"');
  EXPECT_EQ(big.back(), '"');
  EXPECT_LT(big.size(), kEntityTagCapacity);
  EXPECT_TRUE(etag_list_matches(big, big, EtagCompare::kStrong));
}

}  // namespace
}  // namespace httpower
