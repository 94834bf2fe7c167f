// Response planner: every RFC 9110 semantics rule (docs/semantics.md) that is decided without I/O,
// and invariants R1 (HEAD/GET parity), R2 (no body on 204/304), R3 (Content-Length equals
// the body segments).
#include "httpower/response_planner.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "httpower/http_date.hpp"

namespace httpower {
namespace {

constexpr std::int64_t kMtime = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
constexpr std::int64_t kNow = kMtime + 3600;
constexpr std::string_view kNowDate = "Sun, 06 Nov 1994 09:49:37 GMT";
constexpr std::string_view kLmDate = "Sun, 06 Nov 1994 08:49:37 GMT";

FileFacts file(std::uint64_t size = 1000) {
  return FileFacts{FileKind::kRegular, size, kMtime, 5};
}
FileFacts of_kind(FileKind k) {
  FileFacts f = file();
  f.kind = k;
  return f;
}
PlanContext ctx() { return PlanContext{kNow, false, "HTTPower/test"}; }

RequestHead get(std::string_view path, Method m = Method::kGet) {
  RequestHead h;
  h.method = m;
  h.path = path;
  h.target = path;
  h.keep_alive = true;
  return h;
}

// Plans with a fresh resolve of head.path.
struct Planned {
  ResponsePlan plan;
  std::string buf;
};
void run(Planned& p, const RequestHead& h, const FileFacts& f, const PlanContext& c = ctx()) {
  const ResolvedTarget t = resolve_target(h.path, p.buf);
  plan_response(h, t, f, c, p.plan);
}

std::optional<std::string> field(const ResponsePlan& p, std::string_view name) {
  const std::string key = "\r\n" + std::string(name) + ": ";
  const std::string_view head = p.head();
  const std::size_t at = head.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  const std::size_t start = at + key.size();
  EXPECT_EQ(head.find(key, start), std::string_view::npos) << "duplicate " << name;
  return std::string(head.substr(start, head.find("\r\n", start) - start));
}

std::string body(const ResponsePlan& p) {
  std::string out;
  for (const BodySegment& s : p.body()) {
    if (s.kind == BodySegment::Kind::kInline) {
      out += p.inline_bytes(s);
    } else {
      out += "[file " + std::to_string(s.offset) + "+" + std::to_string(s.length) + "]";
    }
  }
  return out;
}

// Checks that hold for every plan: one status line, one terminating empty line, Date and
// Server present, R2 and R3.
void expect_well_formed(const ResponsePlan& p, bool is_head) {
  const std::string_view h = p.head();
  ASSERT_TRUE(h.starts_with("HTTP/1.1 " + std::to_string(p.status()) + " ")) << h;
  ASSERT_TRUE(h.ends_with("\r\n\r\n")) << h;
  EXPECT_EQ(h.find("\r\n\r\n"), h.size() - 4) << h;
  EXPECT_EQ(field(p, "Date"), std::string(kNowDate));
  EXPECT_EQ(field(p, "Server"), "HTTPower/test");
  const bool bodiless = p.status() < 200 || p.status() == 204 || p.status() == 304;
  if (bodiless) {  // R2
    EXPECT_TRUE(p.body().empty());
    EXPECT_FALSE(field(p, "Content-Length"));
    EXPECT_FALSE(p.has_content_length());
    return;
  }
  ASSERT_TRUE(p.has_content_length());
  EXPECT_EQ(field(p, "Content-Length"), std::to_string(p.content_length()));
  if (is_head) {  // R1: the length GET would send, and no body
    EXPECT_TRUE(p.body().empty());
  } else {  // R3
    EXPECT_EQ(p.content_length(), p.body_length());
  }
  for (const BodySegment& s : p.body()) EXPECT_GT(s.length, 0u);
}

TEST(ResponsePlanner, GetRegularFileIs200WithAllHeaders) {
  Planned p;
  run(p, get("/dir/page.html"), file());
  const std::string expected =
      "HTTP/1.1 200 OK\r\n"
      "Date: Sun, 06 Nov 1994 09:49:37 GMT\r\n"
      "Server: HTTPower/test\r\n"
      "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
      "ETag: \"3e8-2ebc98a1.5\"\r\n"
      "Accept-Ranges: bytes\r\n"
      "Content-Type: text/html; charset=utf-8\r\n"
      "Content-Length: 1000\r\n"
      "\r\n";
  EXPECT_EQ(p.plan.head(), expected);
  EXPECT_EQ(body(p.plan), "[file 0+1000]");
  EXPECT_TRUE(p.plan.keep_alive());
  EXPECT_TRUE(p.plan.uses_file());
  expect_well_formed(p.plan, false);
}

TEST(ResponsePlanner, EmptyFileHasNoSegmentAndLengthZero) {
  Planned p;
  run(p, get("/empty.txt"), file(0));
  EXPECT_EQ(p.plan.status(), 200);
  EXPECT_EQ(field(p.plan, "Content-Length"), "0");
  EXPECT_TRUE(p.plan.body().empty());
  expect_well_formed(p.plan, false);
}

TEST(ResponsePlanner, R1_HeadHasGetHeadersAndNoBody) {
  for (std::string_view path : {"/a.css", "/missing", "/dir", "/%zz", "/x.bin"}) {
    for (FileKind k : {FileKind::kRegular, FileKind::kMissing, FileKind::kDirectory}) {
      Planned g, h;
      run(g, get(path), of_kind(k));
      run(h, get(path, Method::kHead), of_kind(k));
      EXPECT_EQ(h.plan.head(), g.plan.head()) << path;
      EXPECT_TRUE(h.plan.body().empty()) << path;
      expect_well_formed(h.plan, true);
      expect_well_formed(g.plan, false);
    }
  }
}

TEST(ResponsePlanner, R1_HeadIgnoresRangeAsRfc9110Section14_2Says) {
  RequestHead h = get("/f.bin", Method::kHead);
  h.range = "bytes=0-9";
  Planned p, g;
  run(p, h, file());
  run(g, get("/f.bin"), file());
  EXPECT_EQ(p.plan.status(), 200);
  EXPECT_EQ(p.plan.head(), g.plan.head());
  EXPECT_TRUE(p.plan.body().empty());
}

TEST(ResponsePlanner, R2_NotModifiedCarriesValidatorsAndNoBody) {
  RequestHead h = get("/a.js");
  Planned ok;
  run(ok, h, file());
  h.if_none_match = "\"3e8-2ebc98a1.5\"";
  Planned p;
  run(p, h, file());
  EXPECT_EQ(p.plan.status(), 304);
  EXPECT_EQ(field(p.plan, "ETag"), field(ok.plan, "ETag"));
  EXPECT_EQ(field(p.plan, "Last-Modified"), field(ok.plan, "Last-Modified"));
  EXPECT_EQ(field(p.plan, "Date"), field(ok.plan, "Date"));
  EXPECT_FALSE(field(p.plan, "Content-Type"));
  expect_well_formed(p.plan, false);
  // HEAD too
  h.method = Method::kHead;
  Planned ph;
  run(ph, h, file());
  EXPECT_EQ(ph.plan.head(), p.plan.head());
}

TEST(ResponsePlanner, R2_IfModifiedSinceGives304) {
  RequestHead h = get("/a.js");
  h.if_modified_since = kLmDate;
  Planned p;
  run(p, h, file());
  EXPECT_EQ(p.plan.status(), 304);
  expect_well_formed(p.plan, false);
  h.if_none_match = "\"nope\"";  // If-None-Match present: If-Modified-Since ignored
  run(p, h, file());
  EXPECT_EQ(p.plan.status(), 200);
}

TEST(ResponsePlanner, IfMatchMismatchIs412) {
  RequestHead h = get("/a.js");
  h.if_match = "\"other\"";
  Planned p;
  run(p, h, file());
  EXPECT_EQ(p.plan.status(), 412);
  expect_well_formed(p.plan, false);
  h.if_match = "*";
  run(p, h, file());
  EXPECT_EQ(p.plan.status(), 200);
}

TEST(ResponsePlanner, R2_OptionsIs204WithAllowAndNoLength) {
  for (std::string_view path : {"*", "/", "/anything/at/all"}) {
    Planned p;
    run(p, get(path, Method::kOptions), of_kind(FileKind::kMissing));
    EXPECT_EQ(p.plan.status(), 204) << path;
    EXPECT_EQ(field(p.plan, "Allow"), "GET, HEAD, OPTIONS");
    expect_well_formed(p.plan, false);
  }
  Planned bad;
  run(bad, get("/%zz", Method::kOptions), file());
  EXPECT_EQ(bad.plan.status(), 400);
}

TEST(ResponsePlanner, OtherKnownMethodsAre405WithAllow) {
  for (Method m : {Method::kPost, Method::kPut, Method::kDelete, Method::kPatch, Method::kTrace,
                   Method::kConnect}) {
    Planned p;
    run(p, get(m == Method::kConnect ? "" : "/a.html", m), file());
    EXPECT_EQ(p.plan.status(), 405);
    EXPECT_EQ(field(p.plan, "Allow"), "GET, HEAD, OPTIONS");
    EXPECT_EQ(field(p.plan, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(body(p.plan).find("405 Method Not Allowed"), std::string::npos);
    expect_well_formed(p.plan, false);
  }
}

TEST(ResponsePlanner, UnknownMethodIs501) {
  Planned p;
  run(p, get("/a.html", Method::kUnknown), file());
  EXPECT_EQ(p.plan.status(), 501);
  EXPECT_FALSE(field(p.plan, "Allow"));
  expect_well_formed(p.plan, false);
}

struct StatusCase {
  std::string_view path;
  FileKind kind;
  int status;
};
void PrintTo(const StatusCase& c, std::ostream* os) {
  *os << c.path << " kind " << static_cast<int>(c.kind) << " -> " << c.status;
}
class FileStatus : public testing::TestWithParam<StatusCase> {};
TEST_P(FileStatus, MapsFileFactsToStatus) {
  const StatusCase& c = GetParam();
  Planned p;
  run(p, get(c.path), of_kind(c.kind));
  EXPECT_EQ(p.plan.status(), c.status) << c.path;
  expect_well_formed(p.plan, false);
  if (c.status >= 400) {
    EXPECT_EQ(field(p.plan, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_FALSE(field(p.plan, "ETag"));
    EXPECT_TRUE(p.plan.keep_alive());
    EXPECT_FALSE(p.plan.uses_file());
  }
}
INSTANTIATE_TEST_SUITE_P(
    Table, FileStatus,
    testing::Values(StatusCase{"/a.html", FileKind::kRegular, 200},
                    StatusCase{"/a.html", FileKind::kMissing, 404},
                    StatusCase{"/a.html", FileKind::kForbidden, 403},
                    StatusCase{"/fifo", FileKind::kOther, 403},
                    StatusCase{"/dir", FileKind::kDirectory, 301},
                    StatusCase{"/dir/", FileKind::kDirectory, 403},
                    StatusCase{"/a.html/", FileKind::kRegular, 404},
                    StatusCase{"/../etc/passwd", FileKind::kRegular, 400},
                    StatusCase{"/a%00.html", FileKind::kRegular, 400},
                    StatusCase{"/a%zz", FileKind::kRegular, 400},
                    StatusCase{"/a\\b", FileKind::kRegular, 400},
                    StatusCase{"*", FileKind::kRegular, 400}));

TEST(ResponsePlanner, DirectoryWithoutSlashRedirectsKeepingQuery) {
  Planned p;
  run(p, get("/docs/guide?lang=en&x=1"), of_kind(FileKind::kDirectory));
  EXPECT_EQ(p.plan.status(), 301);
  EXPECT_EQ(field(p.plan, "Location"), "/docs/guide/?lang=en&x=1");
  run(p, get("/docs/guide"), of_kind(FileKind::kDirectory));
  EXPECT_EQ(field(p.plan, "Location"), "/docs/guide/");
  run(p, get("/docs/guide?"), of_kind(FileKind::kDirectory));
  EXPECT_EQ(field(p.plan, "Location"), "/docs/guide/?");
  expect_well_formed(p.plan, false);
}

// The 403 of a directory without index.html (listing off) says why and how to list; other
// 403s say nothing about the server's options.
TEST(ResponsePlanner, DirectoryForbiddenPageNamesTheListingFlag) {
  Planned p;
  run(p, get("/docs/"), of_kind(FileKind::kDirectory));
  EXPECT_EQ(p.plan.status(), 403);
  EXPECT_NE(body(p.plan).find("--listing"), std::string::npos) << body(p.plan);
  expect_well_formed(p.plan, false);
  Planned h;
  run(h, get("/docs/", Method::kHead), of_kind(FileKind::kDirectory));
  EXPECT_EQ(h.plan.content_length(), p.plan.content_length()) << "R1";
  run(p, get("/secret.txt"), of_kind(FileKind::kForbidden));
  EXPECT_EQ(p.plan.status(), 403);
  EXPECT_EQ(body(p.plan).find("--listing"), std::string::npos);
}

TEST(ResponsePlanner, RedirectLocationIsNormalizedAndReencoded) {
  Planned p;
  // A leading "//" would make a protocol-relative URL (an open redirect): never echoed.
  run(p, get("//evil.example"), of_kind(FileKind::kDirectory));
  EXPECT_EQ(field(p.plan, "Location"), "/evil.example/");
  run(p, get("/a/./b/../my%20dir"), of_kind(FileKind::kDirectory));
  EXPECT_EQ(field(p.plan, "Location"), "/a/my%20dir/");
  run(p, get("/%25%3F%23%C3%A9"), of_kind(FileKind::kDirectory));
  EXPECT_EQ(field(p.plan, "Location"), "/%25%3F%23%C3%A9/");
}

TEST(ResponsePlanner, SingleRangeIs206WithContentRange) {
  RequestHead h = get("/v.mp4");
  h.range = "bytes=100-199";
  Planned p;
  run(p, h, file());
  EXPECT_EQ(p.plan.status(), 206);
  EXPECT_EQ(field(p.plan, "Content-Range"), "bytes 100-199/1000");
  EXPECT_EQ(field(p.plan, "Content-Length"), "100");
  EXPECT_EQ(field(p.plan, "Content-Type"), "video/mp4");  // never multipart for one range
  EXPECT_EQ(field(p.plan, "Accept-Ranges"), "bytes");
  EXPECT_EQ(body(p.plan), "[file 100+100]");
  expect_well_formed(p.plan, false);
  h.range = "bytes=900-5000";  // clamped
  run(p, h, file());
  EXPECT_EQ(field(p.plan, "Content-Range"), "bytes 900-999/1000");
  h.range = "bytes=-1";
  run(p, h, file());
  EXPECT_EQ(field(p.plan, "Content-Range"), "bytes 999-999/1000");
}

TEST(ResponsePlanner, SeveralRangesAreMultipartWithExactLength) {
  RequestHead h = get("/t.txt");
  h.range = "bytes=0-4,1000-1004";
  Planned p;
  run(p, h, file(2000));
  ASSERT_EQ(p.plan.status(), 206);
  const std::string ctype = *field(p.plan, "Content-Type");
  const std::string prefix = "multipart/byteranges; boundary=";
  ASSERT_TRUE(ctype.starts_with(prefix));
  const std::string b = ctype.substr(prefix.size());
  EXPECT_FALSE(field(p.plan, "Content-Range"));
  const std::string expected = "--" + b +
                               "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                               "Content-Range: bytes 0-4/2000\r\n\r\n[file 0+5]\r\n--" +
                               b +
                               "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                               "Content-Range: bytes 1000-1004/2000\r\n\r\n[file 1000+5]\r\n--" +
                               b + "--\r\n";
  EXPECT_EQ(body(p.plan), expected);
  expect_well_formed(p.plan, false);  // R3 over inline and file segments
}

TEST(ResponsePlanner, OverlappingRangesAreCoalescedIntoAscendingParts) {
  RequestHead h = get("/f.bin");
  h.range = "bytes=600-699,0-99,50-149,150-199";  // 0-199 and 600-699
  Planned p;
  run(p, h, file());
  ASSERT_EQ(p.plan.status(), 206);
  const std::string b = body(p.plan);
  const auto a = b.find("Content-Range: bytes 0-199/1000\r\n\r\n[file 0+200]");
  const auto c = b.find("Content-Range: bytes 600-699/1000\r\n\r\n[file 600+100]");
  EXPECT_NE(a, std::string::npos) << b;
  EXPECT_NE(c, std::string::npos) << b;
  EXPECT_LT(a, c);
  EXPECT_EQ(b.find("[file 50"), std::string::npos);
  expect_well_formed(p.plan, false);
  h.range = "bytes=100-199,0-99,150-160,0-0";  // one part after coalescing: not multipart
  run(p, h, file());
  ASSERT_EQ(p.plan.status(), 206);
  EXPECT_EQ(field(p.plan, "Content-Range"), "bytes 0-199/1000");
  EXPECT_EQ(body(p.plan), "[file 0+200]");
  h.range = "bytes=0-0,990-999";
  run(p, h, file());
  EXPECT_EQ(p.plan.status(), 206);
}

TEST(ResponsePlanner, MultipartFramingLargerThanTheFileGivesWholeFile) {
  RequestHead h = get("/t.txt");
  h.range = "bytes=0-4,10-14";
  Planned p;
  run(p, h, file(20));  // about 200 bytes of part heads for 10 bytes of a 20-byte file
  EXPECT_EQ(p.plan.status(), 200);
  EXPECT_EQ(body(p.plan), "[file 0+20]");
  expect_well_formed(p.plan, false);
  // At the boundary: framing == size is still multipart, one byte less is the whole file.
  run(p, h, file(2000));
  ASSERT_EQ(p.plan.status(), 206);
  std::uint64_t framing = p.plan.content_length() - 10;
  // Content-Range carries the size; keep its digit count while moving the size to framing.
  for (int i = 0; i < 3 && framing != 0; ++i) {
    run(p, h, file(framing));
    ASSERT_EQ(p.plan.status(), 206) << framing;
    framing = p.plan.content_length() - 10;
  }
  run(p, h, file(framing));
  EXPECT_EQ(p.plan.status(), 206);
  EXPECT_EQ(p.plan.content_length() - 10, framing);
  run(p, h, file(framing - 1));
  EXPECT_EQ(p.plan.status(), 200);
}

TEST(ResponsePlanner, UnsatisfiableRangeIs416WithStarContentRange) {
  for (std::string_view r : {"bytes=-0", "bytes=1000-", "bytes=5000-6000"}) {
    RequestHead h = get("/f.bin");
    h.range = r;
    Planned p;
    run(p, h, file());
    EXPECT_EQ(p.plan.status(), 416) << r;
    EXPECT_EQ(field(p.plan, "Content-Range"), "bytes */1000");
    expect_well_formed(p.plan, false);
  }
}

TEST(ResponsePlanner, IgnoredRangesGiveWholeFile) {
  for (std::string_view r : {"items=0-1", "bytes=abc", "bytes=0-10,x", "bytes=9-1"}) {
    RequestHead h = get("/f.bin");
    h.range = r;
    Planned p;
    run(p, h, file());
    EXPECT_EQ(p.plan.status(), 200) << r;
    EXPECT_EQ(body(p.plan), "[file 0+1000]");
  }
}

TEST(ResponsePlanner, IfRangeDecidesBetweenPartAndWhole) {
  RequestHead h = get("/f.bin");
  h.range = "bytes=0-9";
  Planned p;
  h.if_range = "\"3e8-2ebc98a1.5\"";
  run(p, h, file());
  EXPECT_EQ(p.plan.status(), 206);
  h.if_range = "W/\"3e8-2ebc98a1.5\"";  // weak never matches
  run(p, h, file());
  EXPECT_EQ(p.plan.status(), 200);
  h.if_range = "\"stale\"";
  run(p, h, file());
  EXPECT_EQ(p.plan.status(), 200);
  h.if_range = kLmDate;  // exact, and an hour old: strong
  run(p, h, file());
  EXPECT_EQ(p.plan.status(), 206);
  PlanContext same_second = ctx();
  same_second.now = kMtime;  // Last-Modified == Date: weak, no match
  run(p, h, file(), same_second);
  EXPECT_EQ(p.plan.status(), 200);
  // If-Range without Range: ignored
  RequestHead no_range = get("/f.bin");
  no_range.if_range = "\"stale\"";
  run(p, no_range, file());
  EXPECT_EQ(p.plan.status(), 200);
}

TEST(ResponsePlanner, LastModifiedNeverAfterDate) {
  FileFacts f = file();
  f.mtime_sec = kNow + 1000;  // clock skew, or a touch -d in the future
  Planned p;
  run(p, get("/a.txt"), f);
  EXPECT_EQ(field(p.plan, "Last-Modified"), std::string(kNowDate));
}

TEST(ResponsePlanner, ConnectionHandling) {
  Planned p;
  RequestHead h = get("/a.txt");
  run(p, h, file());
  EXPECT_TRUE(p.plan.keep_alive());
  EXPECT_FALSE(field(p.plan, "Connection"));

  h.keep_alive = false;  // "Connection: close" from the client
  run(p, h, file());
  EXPECT_FALSE(p.plan.keep_alive());
  EXPECT_EQ(field(p.plan, "Connection"), "close");

  h.keep_alive = true;  // server draining
  PlanContext c = ctx();
  c.closing = true;
  run(p, h, file(), c);
  EXPECT_FALSE(p.plan.keep_alive());
  EXPECT_EQ(field(p.plan, "Connection"), "close");

  h.minor_version = 0;  // persistent HTTP/1.0 is told so
  run(p, h, file());
  EXPECT_TRUE(p.plan.keep_alive());
  EXPECT_EQ(field(p.plan, "Connection"), "keep-alive");
  h.keep_alive = false;
  run(p, h, file());
  EXPECT_EQ(field(p.plan, "Connection"), "close");
}

TEST(ResponsePlanner, ParseErrorsAlwaysClose) {
  for (int s : {400, 413, 414, 431, 501, 505}) {
    ResponsePlan p;
    plan_parse_error(s, ctx(), p);
    EXPECT_EQ(p.status(), s);
    EXPECT_FALSE(p.keep_alive());
    EXPECT_EQ(field(p, "Connection"), "close");
    EXPECT_EQ(field(p, "Content-Type"), "text/html; charset=utf-8");
    expect_well_formed(p, false);
  }
  ResponsePlan p;
  plan_parse_error(200, ctx(), p);
  EXPECT_EQ(p.status(), 400);
}

TEST(ResponsePlanner, ServerErrorsHaveBodyAndForceCloseWhereNeeded) {
  const RequestHead h = get("/a.txt");
  for (int s : {403, 404, 500, 503}) {
    ResponsePlan p;
    plan_error(h, s, ctx(), p);
    EXPECT_EQ(p.status(), s);
    EXPECT_EQ(p.keep_alive(), s != 503) << s;
    expect_well_formed(p, false);
    ResponsePlan ph;
    plan_error(get("/a.txt", Method::kHead), s, ctx(), ph);
    EXPECT_EQ(ph.head(), p.head());  // R1 for server-decided errors
    expect_well_formed(ph, true);
  }
  ResponsePlan p;
  plan_error(h, 405, ctx(), p);
  EXPECT_EQ(field(p, "Allow"), "GET, HEAD, OPTIONS");
  plan_error(h, 99, ctx(), p);
  EXPECT_EQ(p.status(), 500);
}

TEST(ResponsePlanner, GeneratedListingIs200WithHeadParity) {
  const std::string html = "<!DOCTYPE html><ul><li>a</li></ul>\n";
  ResponsePlan g, h;
  plan_generated(get("/d/"), "text/html; charset=utf-8", html, ctx(), g);
  plan_generated(get("/d/", Method::kHead), "text/html; charset=utf-8", html, ctx(), h);
  EXPECT_EQ(g.status(), 200);
  EXPECT_EQ(body(g), html);
  EXPECT_EQ(field(g, "Content-Length"), std::to_string(html.size()));
  EXPECT_EQ(h.head(), g.head());
  expect_well_formed(g, false);
  expect_well_formed(h, true);
}

TEST(ResponsePlanner, ClearKeepsCapacitySoReuseDoesNotAllocate) {
  Planned p;
  RequestHead h = get("/t.txt");
  h.range = "bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14";
  run(p, h, file());  // the largest plan first
  const char* head_data = p.plan.head().data();
  for (int i = 0; i < 3; ++i) {
    run(p, get("/a.txt"), file());
    run(p, h, file());
    run(p, get("/missing"), of_kind(FileKind::kMissing));
    EXPECT_EQ(p.plan.head().data(), head_data);
  }
  p.plan.clear();
  EXPECT_EQ(p.plan.status(), 0);
  EXPECT_TRUE(p.plan.head().empty());
  EXPECT_TRUE(p.plan.body().empty());
}

TEST(ResponsePlanner, NeedsFileOnlyForGetAndHeadWithGoodTarget) {
  std::string buf;
  const ResolvedTarget ok = resolve_target("/a", buf);
  EXPECT_TRUE(needs_file(get("/a"), ok));
  EXPECT_TRUE(needs_file(get("/a", Method::kHead), ok));
  EXPECT_FALSE(needs_file(get("/a", Method::kOptions), ok));
  EXPECT_FALSE(needs_file(get("/a", Method::kPost), ok));
  std::string buf2;
  EXPECT_FALSE(needs_file(get("/.."), resolve_target("/..", buf2)));
}

TEST(ResponsePlanner, ReasonPhrases) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(416), "Range Not Satisfiable");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(299), "Unknown");
}

}  // namespace
}  // namespace httpower
