// Content negotiation (Accept-Encoding for --precompressed, Accept for --spa) and the checks
// on the fields an operator adds (--header, --cache-control, the CORS preflight's echo).
#include "httpower/negotiation.hpp"

#include <gtest/gtest.h>

#include <string>

namespace httpower {
namespace {

constexpr unsigned kAll = (1u << static_cast<unsigned>(Coding::kBrotli)) |
                          (1u << static_cast<unsigned>(Coding::kZstd)) |
                          (1u << static_cast<unsigned>(Coding::kGzip));
constexpr unsigned bit(Coding c) { return 1u << static_cast<unsigned>(c); }

Coding choose(std::string_view value, unsigned available = kAll, bool present = true) {
  return choose_coding(parse_accept_encoding(value, present), available);
}

TEST(AcceptEncoding, PreferenceBrZstdGzipAmongEqualWeights) {
  EXPECT_EQ(choose("gzip, deflate, br, zstd"), Coding::kBrotli);
  EXPECT_EQ(choose("gzip, zstd"), Coding::kZstd);
  EXPECT_EQ(choose("gzip"), Coding::kGzip);
  EXPECT_EQ(choose("gzip, br", bit(Coding::kGzip)), Coding::kGzip) << "only the variants that exist";
  EXPECT_EQ(choose("br", bit(Coding::kGzip)), Coding::kIdentity);
}

TEST(AcceptEncoding, QValuesDecide) {
  EXPECT_EQ(choose("br;q=0.5, gzip"), Coding::kGzip);
  EXPECT_EQ(choose("br;q=0.5, gzip;q=0.499"), Coding::kBrotli);
  EXPECT_EQ(choose("br;q=0, gzip;q=0.001"), Coding::kGzip);
  EXPECT_EQ(choose("br;q=0, gzip;q=0"), Coding::kIdentity);
  EXPECT_EQ(choose("gzip;q=0.5, identity"), Coding::kIdentity) << "identity strictly better";
  EXPECT_EQ(choose("gzip;q=0.5, identity;q=0.5"), Coding::kGzip) << "a tie goes to the coding";
}

TEST(AcceptEncoding, StarAndIdentity) {
  EXPECT_EQ(choose("*"), Coding::kBrotli);
  EXPECT_EQ(choose("*;q=0.2, br;q=0.1"), Coding::kZstd) << "br's own entry wins over *";
  EXPECT_EQ(choose("*;q=0"), Coding::kIdentity);
  const AcceptEncoding star0 = parse_accept_encoding("*;q=0", true);
  EXPECT_EQ(star0.weight(Coding::kIdentity), 0) << "*;q=0 without an identity entry excludes it";
  const AcceptEncoding id0 = parse_accept_encoding("identity;q=0", true);
  EXPECT_EQ(id0.weight(Coding::kIdentity), 0);
  EXPECT_EQ(choose("identity;q=0"), Coding::kIdentity) << "nothing acceptable: identity all the same";
  EXPECT_EQ(parse_accept_encoding("*;q=0, identity", true).weight(Coding::kIdentity), 1000);
}

TEST(AcceptEncoding, CaseOwsAliasesAndFirstEntry) {
  EXPECT_EQ(choose("GZIP"), Coding::kGzip);
  EXPECT_EQ(choose("x-gzip"), Coding::kGzip);
  EXPECT_EQ(choose(" \tbr \t;\t Q=0.5 ,,gzip;q=0.4, "), Coding::kBrotli);
  EXPECT_EQ(choose("br;q=0, br"), Coding::kIdentity) << "the first entry of a coding counts";
  EXPECT_EQ(choose("br, br;q=0"), Coding::kBrotli);
}

// Absent, empty or malformed: identity only, never a 406.
TEST(AcceptEncoding, AbsentEmptyOrInvalidIsIdentityOnly) {
  EXPECT_EQ(choose("", kAll, false), Coding::kIdentity);
  EXPECT_FALSE(parse_accept_encoding("", false).valid);
  EXPECT_EQ(choose(""), Coding::kIdentity);
  EXPECT_TRUE(parse_accept_encoding("", true).valid);
  for (std::string_view bad : {"br;q=2", "br;q=1.5", "br;q=0.1234", "br;q=.5", "br;q", "br;x=1",
                               "br q=1", "gzip;q=0.5;q=0.4", "br\x01", "b\"r", "br;q=1.001",
                               "br;q= 1", "gzip;;q=1", "gzip, br;q=0.5x"}) {
    const AcceptEncoding ae = parse_accept_encoding(bad, true);
    EXPECT_FALSE(ae.valid) << bad;
    EXPECT_EQ(ae.weight(Coding::kIdentity), 1000) << bad;
    EXPECT_EQ(choose_coding(ae, kAll), Coding::kIdentity) << bad;
  }
}

TEST(AcceptEncoding, QValueSyntax) {
  EXPECT_EQ(parse_qvalue("1"), 1000);
  EXPECT_EQ(parse_qvalue("1.000"), 1000);
  EXPECT_EQ(parse_qvalue("1."), 1000);
  EXPECT_EQ(parse_qvalue("0"), 0);
  EXPECT_EQ(parse_qvalue("0.5"), 500);
  EXPECT_EQ(parse_qvalue("0.05"), 50);
  EXPECT_EQ(parse_qvalue("0.999"), 999);
  for (std::string_view bad : {"", "2", "01", "0.1234", "1.1", "0,5", "-0", ".5", "0.a"}) {
    EXPECT_EQ(parse_qvalue(bad), -1) << bad;
  }
}

TEST(AcceptEncoding, CandidatesAreBestFirstAndNotWorseThanIdentity) {
  std::array<Coding, 3> out{};
  ASSERT_EQ(candidate_codings(parse_accept_encoding("gzip;q=0.9, br;q=0.8, zstd;q=0.1, identity;q=0.5", true), out), 2u);
  EXPECT_EQ(out[0], Coding::kGzip);
  EXPECT_EQ(out[1], Coding::kBrotli);
  EXPECT_EQ(candidate_codings(parse_accept_encoding("", false), out), 0u);
}

TEST(AcceptHtml, MostSpecificRangeDecides) {
  EXPECT_TRUE(accepts_html("", false));
  EXPECT_TRUE(accepts_html("text/html,application/xhtml+xml,*/*;q=0.8", true));
  EXPECT_TRUE(accepts_html("*/*", true));
  EXPECT_TRUE(accepts_html("text/*", true));
  EXPECT_FALSE(accepts_html("application/json", true));
  EXPECT_FALSE(accepts_html("image/avif,image/webp,*/*;q=0", true));
  EXPECT_FALSE(accepts_html("text/html;q=0, */*", true)) << "the specific entry wins";
  EXPECT_TRUE(accepts_html("text/html;level=1;q=0.5", true));
  EXPECT_TRUE(accepts_html("garbage", true)) << "invalid: as if absent";
  EXPECT_TRUE(accepts_html("TEXT/HTML", true));
}

TEST(ExtraHeader, ValidatedNameAndValue) {
  std::string n, v;
  EXPECT_EQ(check_extra_header("X-Frame-Options: DENY ", n, v), "");
  EXPECT_EQ(n, "X-Frame-Options");
  EXPECT_EQ(v, "DENY");
  EXPECT_EQ(check_extra_header("Permissions-Policy:geolocation=(), camera=()", n, v), "");
  EXPECT_EQ(v, "geolocation=(), camera=()");
  EXPECT_EQ(check_extra_header("X-Empty:", n, v), "");
  for (std::string_view bad : std::initializer_list<std::string_view>{"NoColon", ":v", "Bad Name:v", "X(:v", "X-A:a\rb", "X-A:a\nb", std::string_view("X-A:a\0b", 7),
        "X-A:a\x01", "X-A:\x7f", "Content-Length:5", "transfer-encoding:chunked", "Connection:close",
        "DATE:x", "Keep-Alive:1", "Upgrade:h2c", "Server:x", "ETag:\"x\"", "Vary:*",
        "Cache-Control:no-store", "Content-Type:text/plain"}) {
    EXPECT_NE(check_extra_header(bad, n, v), "") << bad;
  }
  EXPECT_TRUE(is_field_value("max-age=60, immutable"));
  EXPECT_FALSE(is_field_value(""));
  EXPECT_FALSE(is_field_value("a\r\nX: y"));
}

TEST(CorsPreflight, EchoesOnlyTokens) {
  std::string out;
  append_cors_preflight(out, "X-Custom, content-type ,bad header, x\"y,,Authorization");
  EXPECT_EQ(out,
            "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
            "Access-Control-Allow-Headers: X-Custom, content-type, Authorization\r\n"
            "Access-Control-Max-Age: 86400\r\n");
  out.clear();
  append_cors_preflight(out, "");
  EXPECT_EQ(out.find("Allow-Headers"), std::string::npos);
  out.clear();
  std::string many;
  for (int i = 0; i < 100; ++i) many += "h" + std::to_string(i) + ",";
  append_cors_preflight(out, many);
  EXPECT_NE(out.find("h31\r\n"), std::string::npos);
  EXPECT_EQ(out.find("h32"), std::string::npos) << "at most kMaxCorsHeaders";
}

}  // namespace
}  // namespace httpower
