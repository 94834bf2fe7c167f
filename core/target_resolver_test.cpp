// Target resolver: RFC 9110 §4.2 / RFC 3986 §5.2.4 handling of the request-target path, and
// invariant T1 (a resolved path never escapes the root).
#include "httpower/target_resolver.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace httpower {
namespace {

struct Ok {
  std::string_view in;
  std::string_view path;
  bool trailing_slash;
};

void PrintTo(const Ok& c, std::ostream* os) { *os << testing::PrintToString(std::string(c.in)); }

class ResolveOk : public testing::TestWithParam<Ok> {};

TEST_P(ResolveOk, T1_NormalizesToRelativePath) {
  const Ok& c = GetParam();
  std::string buf;
  const ResolvedTarget t = resolve_target(c.in, buf);
  ASSERT_TRUE(t.ok()) << c.in << ": " << to_string(t.error);
  EXPECT_EQ(t.path, c.path) << c.in;
  EXPECT_EQ(t.trailing_slash, c.trailing_slash) << c.in;
  EXPECT_EQ(t.path.data(), buf.data()) << "path views the caller's buffer";
  EXPECT_FALSE(!t.path.empty() && t.path.front() == '/');
  EXPECT_EQ(t.path.find("//"), std::string_view::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ResolveOk,
    testing::Values(
        Ok{"/", "", true}, Ok{"/index.html", "index.html", false}, Ok{"/a/b/c", "a/b/c", false},
        Ok{"/a/b/", "a/b", true},
        // dot-segments (RFC 3986 §5.2.4)
        Ok{"/a/./b", "a/b", false}, Ok{"/a/b/../c", "a/c", false}, Ok{"/a/b/..", "a", true},
        Ok{"/a/b/.", "a/b", true}, Ok{"/a/..", "", true}, Ok{"/./", "", true},
        Ok{"/a/../b/../c/", "c", true}, Ok{"/...", "...", false}, Ok{"/..a/a..", "..a/a..", false},
        Ok{"/.hidden", ".hidden", false},
        // empty segments are dropped
        Ok{"//a///b//", "a/b", true}, Ok{"//", "", true},
        // percent-decoding, once
        Ok{"/a%20b", "a b", false}, Ok{"/%41%42c", "ABc", false}, Ok{"/%7e%7E", "~~", false},
        Ok{"/%2541", "%41", false}, Ok{"/%252e%252e/x", "%2e%2e/x", false},
        Ok{"/caf%C3%A9", "caf\xC3\xA9", false},
        // encoded dots and slashes are decoded first, then dot-segments are removed
        Ok{"/a/%2e%2e/b", "b", false}, Ok{"/a/%2E/b", "a/b", false}, Ok{"/a%2Fb", "a/b", false},
        Ok{"/a/b%2F..%2Fc", "a/c", false}, Ok{"/a/.%2e", "", true}, Ok{"/dir%2F", "dir", true}));

struct Bad {
  std::string_view in;
  TargetError error;
};

void PrintTo(const Bad& c, std::ostream* os) { *os << testing::PrintToString(std::string(c.in)); }

class ResolveBad : public testing::TestWithParam<Bad> {};

TEST_P(ResolveBad, T1_RejectedWith400) {
  const Bad& c = GetParam();
  std::string buf = "stale";
  const ResolvedTarget t = resolve_target(c.in, buf);
  EXPECT_EQ(t.error, c.error) << c.in << ": got " << to_string(t.error);
  EXPECT_FALSE(t.ok());
  EXPECT_TRUE(t.path.empty());
  EXPECT_EQ(kTargetRejectStatus, 400);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ResolveBad,
    testing::Values(
        // above the root: rejected, never clamped
        Bad{"/..", TargetError::kAboveRoot}, Bad{"/../etc/passwd", TargetError::kAboveRoot},
        Bad{"/a/../../etc/passwd", TargetError::kAboveRoot},
        Bad{"/%2e%2e/etc/passwd", TargetError::kAboveRoot},
        Bad{"/%2E%2E%2Fetc%2Fpasswd", TargetError::kAboveRoot},
        Bad{"/a/%2e%2e%2f%2e%2e/x", TargetError::kAboveRoot},
        Bad{"/.%2e/x", TargetError::kAboveRoot}, Bad{"/./../x", TargetError::kAboveRoot},
        // malformed escapes
        Bad{"/%zz", TargetError::kBadEscape}, Bad{"/%4", TargetError::kBadEscape},
        Bad{"/a%", TargetError::kBadEscape}, Bad{"/%g0", TargetError::kBadEscape},
        Bad{"/%%41", TargetError::kBadEscape},
        // NUL, backslash, control bytes
        Bad{"/a%00b", TargetError::kNul}, Bad{"/a%00", TargetError::kNul},
        Bad{std::string_view("/a\0b", 4), TargetError::kNul},
        Bad{"/a\\b", TargetError::kBackslash}, Bad{"/a%5cb", TargetError::kBackslash},
        Bad{"/a%5C..%5C..%5Cwin.ini", TargetError::kBackslash},
        Bad{"/a%0d%0aSet-Cookie:x", TargetError::kControl}, Bad{"/a\tb", TargetError::kControl},
        Bad{"/a%7f", TargetError::kControl}, Bad{"/a%1b", TargetError::kControl},
        Bad{"/a?x\r\nX: y", TargetError::kControl}, Bad{"/a#frag", TargetError::kFragment},
        Bad{"/a?q#f", TargetError::kFragment},
        // not origin-form
        Bad{"*", TargetError::kAsterisk}, Bad{"", TargetError::kNotOriginForm},
        Bad{"a/b", TargetError::kNotOriginForm}, Bad{"?x", TargetError::kNotOriginForm},
        Bad{"example.com:443", TargetError::kNotOriginForm}));

TEST(TargetResolver, SplitsQueryAtFirstQuestionMark) {
  std::string buf;
  const ResolvedTarget t = resolve_target("/a%3Fb?x=1?y=%2e", buf);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.path, "a?b");  // an encoded '?' is part of the name
  EXPECT_EQ(t.raw_path, "/a%3Fb");
  EXPECT_TRUE(t.has_query);
  EXPECT_EQ(t.query, "x=1?y=%2e");  // the query is not decoded
}

TEST(TargetResolver, EmptyQueryIsStillAQuery) {
  std::string buf;
  ResolvedTarget t = resolve_target("/a?", buf);
  EXPECT_TRUE(t.has_query);
  EXPECT_EQ(t.query, "");
  t = resolve_target("/a", buf);
  EXPECT_FALSE(t.has_query);
}

TEST(TargetResolver, DecodesOnceNeverTwice) {
  std::string buf;
  EXPECT_EQ(resolve_target("/%2541", buf).path, "%41");
  EXPECT_EQ(resolve_target("/%252e%252e%252f", buf).path, "%2e%2e%2f");
  EXPECT_EQ(resolve_target("/%2500", buf).path, "%00");  // a literal "%00" name, not a NUL
  EXPECT_EQ(resolve_target("/%255c", buf).path, "%5c");
}

TEST(TargetResolver, NoAllocationWhenCapacitySuffices) {
  std::string buf;
  buf.reserve(256);
  const char* before = buf.data();
  const std::size_t cap = buf.capacity();
  for (std::string_view in : {"/a/b/../c", "/%41%42/./x/", "/../x", "/very/long/path/name.html"}) {
    (void)resolve_target(in, buf);
    EXPECT_EQ(buf.data(), before);
    EXPECT_EQ(buf.capacity(), cap);
  }
}

TEST(TargetResolver, WithIndexFileAppendsOneSegment) {
  std::string buf;
  ResolvedTarget t = resolve_target("/docs/?v=2", buf);
  ASSERT_TRUE(t.trailing_slash);
  ResolvedTarget i = with_index_file(t, buf);
  EXPECT_EQ(i.path, "docs/index.html");
  EXPECT_FALSE(i.trailing_slash);
  EXPECT_EQ(i.query, "v=2");
  t = resolve_target("/", buf);
  i = with_index_file(t, buf);
  EXPECT_EQ(i.path, "index.html");
  EXPECT_EQ(i.path.data(), buf.data());
}

TEST(TargetResolver, ErrorNamesAreDistinct) {
  EXPECT_EQ(to_string(TargetError::kNone), "ok");
  EXPECT_NE(to_string(TargetError::kAboveRoot), to_string(TargetError::kBadEscape));
}

// T2: a path with a segment beginning with '.' is hidden; "/.well-known/" (RFC 8615) is the
// one public dot-folder, and only as the first segment.
TEST(TargetResolver, T2_HiddenPathsAreThoseWithADotSegment) {
  for (std::string_view hidden : {".env", ".git/config", ".git", "a/.git/config", "a/b/.htpasswd",
                                  ".well-known/.secret", "a/.well-known/x", ".well-knownx/a",
                                  ".well-known/a/.b", "...", ".a/b/c"}) {
    EXPECT_TRUE(is_hidden_path(hidden)) << hidden;
  }
  for (std::string_view shown : {"", "index.html", "a.b/c", "a/b.", "a/b..c/d", ".well-known",
                                 ".well-known/security.txt", ".well-known/acme-challenge/t0k.en"}) {
    EXPECT_FALSE(is_hidden_path(shown)) << shown;
  }
}

// The check runs on the resolved path, so encodings and dot-segments cannot smuggle a
// hidden name past it.
TEST(TargetResolver, T2_EncodedOrDotSegmentedHiddenNamesStayHidden) {
  std::string buf;
  for (std::string_view target : {"/%2egit/config", "/%2Eenv", "/a/../.env", "/./.git/", "/x/%2e%2e/.htpasswd",
                                  "/.well-known/../.git/HEAD"}) {
    const ResolvedTarget t = resolve_target(target, buf);
    ASSERT_TRUE(t.ok()) << target;
    EXPECT_TRUE(is_hidden_path(t.path)) << target << " -> " << t.path;
  }
}

}  // namespace
}  // namespace httpower
