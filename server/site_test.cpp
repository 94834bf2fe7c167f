// The options a static site configures, end to end against a real socket on 127.0.0.1:
// precompressed variants (N1), Cache-Control, CORS and --header (O1), --spa (O2),
// --error-page (O3), and sorted listings. Each test checks that the fd count returns to its
// baseline once the server is stopped (C3).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace httpower::test {
namespace {

class Site : public ::testing::Test {
 protected:
  void SetUp() override {
    baseline_ = fd_count();
    root_ = std::make_unique<TempDir>();
    root_->write("index.html", "<!DOCTYPE html><title>app</title><div id=app></div>\n");
    root_->write("app.js", "console.log('the original, uncompressed');\n");
    root_->write("app.js.br", "BROTLI-BYTES-0123456789");
    root_->write("app.js.zst", "ZSTD-BYTES");
    root_->write("app.js.gz", "GZIP-BYTES-abcdef");
    root_->write("style.css", "body { color: #123; }\n");
    root_->write("404.html", "<!DOCTYPE html><title>lost</title><p>custom not found</p>\n");
    root_->write("docs/guide.txt", "guide\n");
    // The variants are newer than the original, as a build step leaves them.
    set_mtime("app.js", 1'700'000'000);
    for (const char* v : {"app.js.br", "app.js.zst", "app.js.gz"}) set_mtime(v, 1'700'000'100);
  }
  void TearDown() override {
    harness_.reset();
    root_.reset();
    EXPECT_EQ(fd_count(), baseline_) << "C3: fd leak";
  }
  void set_mtime(const std::string& rel, std::time_t t, long nsec = 0) {
    const timespec ts[2] = {{t, nsec}, {t, nsec}};
    ASSERT_EQ(::utimensat(AT_FDCWD, root_->file(rel).c_str(), ts, 0), 0) << rel;
  }
  ServerHarness& start(Config c) {
    harness_ = std::make_unique<ServerHarness>(std::move(c));
    harness_->start();
    return *harness_;
  }
  Config config() { return test_config(root_->path()); }
  static std::string ae(const std::string& v) { return "Accept-Encoding: " + v + "\r\n"; }

  int baseline_ = 0;
  std::unique_ptr<TempDir> root_;
  std::unique_ptr<ServerHarness> harness_;
};

// N1: the best acceptable variant is sent with Content-Encoding, the original's type, an
// ETag of its own and Vary; the identity response of the same file carries Vary too.
TEST_F(Site, N1_PrecompressedVariantFollowsAcceptEncoding) {
  Config c = config();
  c.precompressed = true;
  auto& s = start(std::move(c));
  const auto identity = s.get("/app.js");
  ASSERT_TRUE(identity);
  const std::string js_type = identity->field("content-type");
  EXPECT_NE(js_type.find("javascript"), std::string::npos);
  struct Case {
    std::string accept, body, coding;
  };
  const std::vector<Case> cases = {
      {"gzip, deflate, br, zstd", "BROTLI-BYTES-0123456789", "br"},
      {"gzip, zstd", "ZSTD-BYTES", "zstd"},
      {"GZIP", "GZIP-BYTES-abcdef", "gzip"},
      {"x-gzip", "GZIP-BYTES-abcdef", "gzip"},
      {"br;q=0.1, gzip;q=0.9", "GZIP-BYTES-abcdef", "gzip"},
      {"*", "BROTLI-BYTES-0123456789", "br"},
      {"deflate", "console.log('the original, uncompressed');\n", ""},
      {"br;q=0, gzip;q=0, zstd;q=0", "console.log('the original, uncompressed');\n", ""},
      {"identity;q=0", "console.log('the original, uncompressed');\n", ""},
      {"br;q=2", "console.log('the original, uncompressed');\n", ""},  // invalid: identity
  };
  std::set<std::string> etags{identity->field("etag")};
  for (const Case& k : cases) {
    const auto r = s.get("/app.js", ae(k.accept));
    ASSERT_TRUE(r) << k.accept;
    EXPECT_EQ(r->status, 200) << k.accept;
    EXPECT_EQ(r->body, k.body) << k.accept;
    EXPECT_EQ(r->field("content-encoding"), k.coding) << k.accept;
    EXPECT_EQ(r->field("content-type"), js_type) << k.accept;
    EXPECT_EQ(r->field("vary"), "Accept-Encoding") << k.accept;
    EXPECT_EQ(r->field("content-length"), std::to_string(k.body.size()));
    if (!k.coding.empty()) {
      EXPECT_NE(r->field("etag").find("-" + k.coding + "\""), std::string::npos) << r->field("etag");
      etags.insert(r->field("etag"));
    }
  }
  EXPECT_EQ(etags.size(), 4u) << "one ETag per encoding";
  EXPECT_EQ(identity->field("vary"), "Accept-Encoding");
  EXPECT_TRUE(identity->field("content-encoding").empty());
  // HEAD chooses the same way (R1).
  const auto head = s.get("/app.js", ae("br"), "HEAD");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->field("content-encoding"), "br");
  EXPECT_EQ(head->field("content-length"), "23");
  EXPECT_TRUE(head->body.empty());
  // Several Accept-Encoding fields are one list (RFC 9110 §5.3).
  const auto two = s.get("/app.js", ae("identity;q=0.5") + ae("gzip"));
  ASSERT_TRUE(two);
  EXPECT_EQ(two->field("content-encoding"), "gzip");
  // A request for the variant itself is an ordinary file.
  const auto direct = s.get("/app.js.gz", ae("gzip"));
  ASSERT_TRUE(direct);
  EXPECT_EQ(direct->body, "GZIP-BYTES-abcdef");
  EXPECT_TRUE(direct->field("content-encoding").empty());
}

// N1: a variant older than the original was compressed from an earlier version; a variant
// that is not a regular file is no variant; both are skipped for the next acceptable one.
TEST_F(Site, N1_StaleOrIrregularVariantIsNeverServed) {
  set_mtime("app.js.br", 1'600'000'000);            // older than app.js
  set_mtime("app.js.zst", 1'700'000'000, 0);        // same instant: not older, served
  set_mtime("app.js", 1'700'000'000, 0);
  Config c = config();
  c.precompressed = true;
  auto& s = start(std::move(c));
  auto r = s.get("/app.js", ae("br, gzip"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->field("content-encoding"), "gzip") << "the stale .br is skipped";
  EXPECT_EQ(r->body, "GZIP-BYTES-abcdef");
  r = s.get("/app.js", ae("br"));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->field("content-encoding").empty());
  EXPECT_EQ(r->body, "console.log('the original, uncompressed');\n");
  r = s.get("/app.js", ae("zstd"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->field("content-encoding"), "zstd");
  set_mtime("app.js", 1'700'000'000, 500);  // now the .zst is 500 ns older
  r = s.get("/app.js", ae("zstd"));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->field("content-encoding").empty()) << "nanoseconds count";
  // A directory named like a variant, and a symlink out of the root, are skipped.
  ::unlink(root_->file("app.js.gz").c_str());
  root_->mkdir("app.js.gz");
  ::unlink(root_->file("app.js.zst").c_str());
  ASSERT_EQ(::symlink("/etc/hostname", root_->file("app.js.zst").c_str()), 0);
  r = s.get("/app.js", ae("gzip, zstd"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->field("content-encoding").empty());
  EXPECT_EQ(r->body, "console.log('the original, uncompressed');\n");
  // No original, no variant: 404 even though app2.js.gz exists.
  root_->write("app2.js.gz", "GZ");
  EXPECT_EQ(s.get("/app2.js", ae("gzip"))->status, 404);
}

// N1: ranges and conditionals apply to the encoded bytes and the encoded ETag.
TEST_F(Site, N1_RangesAndConditionalsUseTheEncodedBytes) {
  Config c = config();
  c.precompressed = true;
  auto& s = start(std::move(c));
  auto r = s.get("/app.js", ae("br") + "Range: bytes=7-11\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, "BYTES");
  EXPECT_EQ(r->field("content-range"), "bytes 7-11/23");
  EXPECT_EQ(r->field("content-encoding"), "br");
  const std::string br_tag = s.get("/app.js", ae("br"))->field("etag");
  const std::string plain_tag = s.get("/app.js")->field("etag");
  r = s.get("/app.js", ae("br") + "If-None-Match: " + br_tag + "\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 304);
  EXPECT_EQ(r->field("etag"), br_tag);
  EXPECT_EQ(r->field("vary"), "Accept-Encoding");
  r = s.get("/app.js", ae("br") + "If-None-Match: " + plain_tag + "\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << "the identity ETag does not validate the br bytes";
  r = s.get("/app.js", ae("br") + "Range: bytes=0-1\r\nIf-Range: " + plain_tag + "\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << "If-Range with another representation's ETag: the whole variant";
  EXPECT_EQ(r->body, "BROTLI-BYTES-0123456789");
  r = s.get("/app.js", ae("br") + "Range: bytes=0-1,5-6\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << "no multipart of an encoded variant";
  EXPECT_EQ(r->body, "BROTLI-BYTES-0123456789");
  r = s.get("/app.js", ae("br") + "Range: bytes=100-\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 416);
  EXPECT_EQ(r->field("content-range"), "bytes */23");
  EXPECT_EQ(r->field("vary"), "Accept-Encoding");
}

// Without --precompressed, nothing changes: no variant, no Vary.
TEST_F(Site, N1_OffByDefault) {
  auto& s = start(config());
  const auto r = s.get("/app.js", ae("br, gzip"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "console.log('the original, uncompressed');\n");
  EXPECT_TRUE(r->field("vary").empty());
  EXPECT_TRUE(r->field("content-encoding").empty());
  EXPECT_EQ(r->head.find("Access-Control"), std::string::npos);
  EXPECT_EQ(r->head.find("Cache-Control"), std::string::npos);
}

// O1: Cache-Control by extension, else the default, on 200 / 206 / 304 of files only.
TEST_F(Site, O1_CacheControlByExtensionOnFileResponses) {
  Config c = config();
  c.cache_control = "no-cache";
  c.cache_control_by_ext = {{"CSS", "max-age=31536000, immutable"}, {"js", "max-age=60"}};
  auto& s = start(std::move(c));
  auto r = s.get("/style.css");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->field("cache-control"), "max-age=31536000, immutable");
  EXPECT_EQ(s.get("/app.js")->field("cache-control"), "max-age=60");
  EXPECT_EQ(s.get("/index.html")->field("cache-control"), "no-cache");
  EXPECT_EQ(s.get("/")->field("cache-control"), "no-cache") << "the index file";
  EXPECT_EQ(s.get("/docs/guide.txt", "Range: bytes=0-1\r\n")->field("cache-control"), "no-cache");
  r = s.get("/style.css", "If-None-Match: " + s.get("/style.css")->field("etag") + "\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 304);
  EXPECT_EQ(r->field("cache-control"), "max-age=31536000, immutable");
  EXPECT_TRUE(s.get("/missing.css")->field("cache-control").empty()) << "not on errors";
}

// O1: --cors and --header on every response (errors and redirects too), once each; a
// preflight gets its 204 with the methods, the request's header names that are tokens, and
// a max age.
TEST_F(Site, O1_CorsAndHeadersOnEveryResponse) {
  Config c = config();
  c.cors = true;
  c.extra_headers = {{"X-Frame-Options", "DENY"}, {"Referrer-Policy", "no-referrer"}};
  auto& s = start(std::move(c));
  for (const char* path : {"/app.js", "/missing", "/docs", "/%00"}) {
    const auto r = s.get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(count_occurrences(r->head, "Access-Control-Allow-Origin: *\r\n"), 1u) << path;
    EXPECT_EQ(r->field("x-frame-options"), "DENY") << path;
    EXPECT_EQ(r->field("referrer-policy"), "no-referrer") << path;
  }
  auto pre = s.get("/app.js",
                   "Origin: http://a.example\r\nAccess-Control-Request-Method: GET\r\n"
                   "Access-Control-Request-Headers: x-token, bad header, Content-Type\r\n",
                   "OPTIONS");
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->status, 204);
  EXPECT_EQ(pre->field("access-control-allow-methods"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(pre->field("access-control-allow-headers"), "x-token, Content-Type");
  EXPECT_EQ(pre->field("access-control-max-age"), "86400");
  EXPECT_EQ(pre->field("access-control-allow-origin"), "*");
  EXPECT_TRUE(pre->field("content-length").empty());
  const auto plain = s.get("/app.js", "", "OPTIONS");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 204);
  EXPECT_TRUE(plain->field("access-control-allow-methods").empty()) << "not a preflight";
  // The connection stays usable: the fields end in CRLF and frame nothing.
  Client k = s.client();
  ASSERT_TRUE(k.send_all(get_request("/app.js") + get_request("/style.css")));
  EXPECT_EQ(k.read_response()->status, 200);
  EXPECT_EQ(k.read_response()->body, "body { color: #123; }\n");
}

// O2: --spa serves the app for missing paths without an extension whose client accepts
// HTML; never for a file-like name, a dotfile, or a client that wants JSON.
TEST_F(Site, O2_SpaAnswersOnlyMissingHtmlRoutes) {
  Config c = config();
  c.spa = "index.html";
  auto& s = start(std::move(c));
  const std::string app = "<!DOCTYPE html><title>app</title><div id=app></div>\n";
  const std::string browser = "Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n";
  for (const char* path : {"/route", "/users/42/edit", "/deep/route/", "/route?x=1"}) {
    const auto r = s.get(path, browser);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->body, app) << path;
    EXPECT_NE(r->field("content-type").find("text/html"), std::string::npos) << path;
  }
  EXPECT_EQ(s.get("/route")->status, 200) << "no Accept: as */*";
  const auto head = s.get("/route", browser, "HEAD");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->field("content-length"), std::to_string(app.size()));
  for (const char* path : {"/missing.js", "/img/logo.png", "/route/x.json", "/.env", "/.git/config",
                           "/a/.hidden", "/.well-known/missing"}) {
    EXPECT_EQ(s.get(path, browser)->status, 404) << path;
  }
  // The answer depends on Accept: both sides say so to caches; a file-like path does not.
  EXPECT_EQ(s.get("/route", browser)->field("vary"), "Accept");
  const auto json = s.get("/route", "Accept: application/json\r\n");
  ASSERT_TRUE(json);
  EXPECT_EQ(json->status, 404);
  EXPECT_EQ(json->field("vary"), "Accept");
  EXPECT_TRUE(s.get("/missing.js", browser)->field("vary").empty());
  EXPECT_EQ(s.get("/route", "Accept: text/html;q=0, */*\r\n")->status, 404);
  EXPECT_EQ(s.get("/app.js", browser)->body, "console.log('the original, uncompressed');\n")
      << "existing files are themselves";
  EXPECT_EQ(s.get("/route", browser, "POST")->status, 405);
}

TEST_F(Site, O2_SpaFileMustExistAtStartUp) {
  Config c = config();
  c.spa = "/nope.html";
  Server server(std::move(c));
  EXPECT_THROW(server.start(), StartupError);
}

// O3: --error-page keeps the status and sends the page's bytes (none for HEAD); a page that
// is missing leaves the built-in one.
TEST_F(Site, O3_ErrorPageKeepsTheStatus) {
  Config c = config();
  c.error_pages = {{404, "/404.html"}, {405, "404.html"}, {403, "/no-such-page.html"}};
  c.extra_headers = {{"X-Site", "1"}};
  auto& s = start(std::move(c));
  const std::string page = "<!DOCTYPE html><title>lost</title><p>custom not found</p>\n";
  auto r = s.get("/missing");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, page);
  EXPECT_NE(r->field("content-type").find("text/html"), std::string::npos);
  EXPECT_EQ(r->field("x-site"), "1");
  r = s.get("/missing", "", "HEAD");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->field("content-length"), std::to_string(page.size()));
  EXPECT_TRUE(r->body.empty());
  r = s.get("/app.js", "", "DELETE");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->field("allow"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(r->body, page);
  r = s.get("/docs/");  // no index, listings off: 403, whose page is missing
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_NE(r->body.find("--listing"), std::string::npos) << "the built-in page";
  EXPECT_EQ(s.get("/app.js")->status, 200);
  // Keep-alive survives a custom error page (its Content-Length frames it).
  Client k = s.client();
  ASSERT_TRUE(k.send_all(get_request("/missing") + get_request("/app.js")));
  EXPECT_EQ(k.read_response()->body, page);
  EXPECT_EQ(k.read_response()->status, 200);
}

// The binary: a bad static-site option is one line on stderr and exit 2 (a CR or LF in the
// value shown escaped); a --spa file that is not there is exit 1 at start-up.
TEST_F(Site, O1_BadOptionsAreOneLineAndExit2) {
  for (const std::vector<std::string>& bad : std::vector<std::vector<std::string>>{
           {"--header", "X-A: a\r\nSet-Cookie: x=1"},
           {"--header", "Transfer-Encoding: chunked"},
           {"--cache-control", "max-age=1\nX: y"},
           {"--error-page", "302=/x.html"}}) {
    std::vector<std::string> args = {root_->path(), "-p", "0"};
    args.insert(args.end(), bad.begin(), bad.end());
    ChildServer c(args);
    EXPECT_EQ(c.wait_exit(), 2) << bad[1];
    const std::string err = c.read_stderr();
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_EQ(err.rfind("httpower: invalid value for " + bad[0], 0), 0u) << err;
  }
  ChildServer spa({root_->path(), "-p", "0", "--spa", "/no-app.html"});
  EXPECT_EQ(spa.wait_exit(), 1);
  const std::string err = spa.read_stderr();
  EXPECT_EQ(err.rfind("httpower: --spa /no-app.html: not a regular file beneath ", 0), 0u) << err;
}

// Listings sort as the query says; the page carries no validators, so the query cannot
// confuse a cache's revalidation.
TEST_F(Site, ListingSortsByTheQuery) {
  root_->write("list/a.txt", std::string(300, 'a'));
  root_->write("list/b.txt", std::string(10, 'b'));
  root_->write("list/c.txt", std::string(2000, 'c'));
  root_->mkdir("list/zdir");
  Config c = config();
  c.listing = true;
  auto& s = start(std::move(c));
  const auto order = [&](const std::string& q) {
    const auto r = s.get("/list/" + q);
    std::vector<std::size_t> at;
    for (const char* n : {"zdir/", "a.txt", "b.txt", "c.txt"}) at.push_back(r->body.find(">" + std::string(n) + "<"));
    return at;
  };
  auto at = order("?sort=size&order=desc");
  EXPECT_TRUE(at[0] < at[3] && at[3] < at[1] && at[1] < at[2]) << "zdir, c, a, b";
  at = order("?sort=bogus");
  EXPECT_TRUE(at[0] < at[1] && at[1] < at[2] && at[2] < at[3]) << "default: name";
  const auto r = s.get("/list/?sort=date");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->field("etag").empty());
  EXPECT_TRUE(r->field("last-modified").empty());
  EXPECT_NE(r->body.find("href=\"?sort=date&amp;order=desc\""), std::string::npos);
  EXPECT_NE(r->body.find("href=\"../\""), std::string::npos);
}

}  // namespace
}  // namespace httpower::test
