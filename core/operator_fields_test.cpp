// The planner's operator fields (PlanContext: content_encoding, vary_accept_encoding,
// cache_control, extra_fields) and plan_error_file, as pure units: where each field goes,
// and that R1 (HEAD parity), R2 (no body or Content-Length on 304/204) and R3 hold with them.
#include <gtest/gtest.h>

#include <string>

#include "httpower/response_planner.hpp"

namespace httpower {
namespace {

constexpr std::int64_t kMtime = 784111777;
constexpr std::int64_t kNow = kMtime + 3600;

RequestHead request(std::string_view path, Method m = Method::kGet) {
  RequestHead h;
  h.method = m;
  h.path = path;
  h.target = path;
  h.keep_alive = true;
  return h;
}

PlanContext encoded_ctx() {
  PlanContext c{kNow, false, "HTTPower/test"};
  c.content_encoding = "br";
  c.vary_accept_encoding = true;
  c.cache_control = "max-age=60";
  c.extra_fields = "X-Site: 1\r\n";
  return c;
}

ResponsePlan plan(const RequestHead& h, const PlanContext& c, std::uint64_t size = 1000) {
  std::string buf;
  const ResolvedTarget t = resolve_target(h.path, buf);
  ResponsePlan p;
  plan_response(h, t, FileFacts{FileKind::kRegular, size, kMtime, 5}, c, p);
  return p;
}

bool has(const ResponsePlan& p, std::string_view line) {
  return std::string_view(p.head()).find(std::string("\r\n") + std::string(line) + "\r\n") !=
         std::string_view::npos;
}

TEST(OperatorFields, EncodedVariantFieldsAndItsOwnEtag) {
  const PlanContext c = encoded_ctx();
  const ResponsePlan p = plan(request("/app.js"), c);
  EXPECT_EQ(p.status(), 200);
  EXPECT_TRUE(has(p, "Content-Encoding: br"));
  EXPECT_TRUE(has(p, "Vary: Accept-Encoding"));
  EXPECT_TRUE(has(p, "Cache-Control: max-age=60"));
  EXPECT_TRUE(has(p, "X-Site: 1"));
  EXPECT_NE(p.head().find("-br\"\r\n"), std::string_view::npos) << p.head();
  EXPECT_TRUE(p.head().ends_with("X-Site: 1\r\n\r\n")) << "the last field of a kept-alive head";
  EXPECT_EQ(p.content_length(), p.body_length());  // R3
  PlanContext plain{kNow, false, "HTTPower/test"};
  const ResponsePlan q = plan(request("/app.js"), plain);
  EXPECT_EQ(q.head().find("Content-Encoding"), std::string_view::npos);
  EXPECT_EQ(q.head().find("Vary"), std::string_view::npos);
  EXPECT_EQ(q.head().find("Cache-Control"), std::string_view::npos);
}

TEST(OperatorFields, R1_HeadParityWithEveryField) {
  const PlanContext c = encoded_ctx();
  const ResponsePlan g = plan(request("/app.js"), c);
  const ResponsePlan h = plan(request("/app.js", Method::kHead), c);
  EXPECT_EQ(g.head(), h.head());
  EXPECT_TRUE(h.body().empty());
}

TEST(OperatorFields, R2_NotModifiedKeepsVaryAndCacheControlOnly) {
  const PlanContext c = encoded_ctx();
  const ResponsePlan g = plan(request("/app.js"), c);
  const std::size_t at = g.head().find("ETag: ") + 6;
  const std::string tag(g.head().substr(at, g.head().find("\r\n", at) - at));
  RequestHead h = request("/app.js");
  h.if_none_match = tag;
  const ResponsePlan p = plan(h, c);
  EXPECT_EQ(p.status(), 304);
  EXPECT_TRUE(has(p, "Vary: Accept-Encoding"));
  EXPECT_TRUE(has(p, "Cache-Control: max-age=60"));
  EXPECT_EQ(p.head().find("Content-Encoding"), std::string_view::npos);
  EXPECT_FALSE(p.has_content_length());
  EXPECT_TRUE(p.body().empty());
}

TEST(OperatorFields, EncodedMultiRangeIsTheWholeVariant) {
  RequestHead h = request("/app.js");
  h.range = "bytes=0-9,20-29";
  EXPECT_EQ(plan(h, encoded_ctx()).status(), 200);
  EXPECT_EQ(plan(h, PlanContext{kNow, false, "t"}).status(), 206) << "identity keeps multipart";
  h.range = "bytes=0-9";
  const ResponsePlan single = plan(h, encoded_ctx());
  EXPECT_EQ(single.status(), 206);
  EXPECT_TRUE(has(single, "Content-Encoding: br"));
}

TEST(OperatorFields, ExtraFieldsOnErrorsAndOptionsButNotCacheControl) {
  const PlanContext c = encoded_ctx();
  std::string buf;
  ResponsePlan p;
  const RequestHead h = request("/x");
  plan_response(h, resolve_target(h.path, buf), FileFacts{}, c, p);
  EXPECT_EQ(p.status(), 404);
  EXPECT_TRUE(has(p, "X-Site: 1"));
  EXPECT_EQ(p.head().find("Cache-Control"), std::string_view::npos);
  EXPECT_EQ(p.head().find("Vary"), std::string_view::npos);
  const RequestHead o = request("/x", Method::kOptions);
  plan_response(o, resolve_target(o.path, buf), FileFacts{}, c, p);
  EXPECT_EQ(p.status(), 204);
  EXPECT_TRUE(has(p, "X-Site: 1"));
  EXPECT_FALSE(p.has_content_length());
}

TEST(OperatorFields, ErrorFileKeepsStatusAndAllow) {
  const PlanContext c{kNow, false, "HTTPower/test"};
  const FileFacts page{FileKind::kRegular, 321, kMtime, 0};
  ResponsePlan p;
  plan_error_file(request("/x"), 404, "404.html", page, c, p);
  EXPECT_EQ(p.status(), 404);
  EXPECT_TRUE(has(p, "Content-Type: text/html; charset=utf-8"));
  EXPECT_EQ(p.content_length(), 321u);
  EXPECT_EQ(p.body_length(), 321u);
  EXPECT_EQ(p.head().find("ETag"), std::string_view::npos);
  ResponsePlan h;
  plan_error_file(request("/x", Method::kHead), 404, "404.html", page, c, h);
  EXPECT_EQ(h.head(), p.head());  // R1
  EXPECT_TRUE(h.body().empty());
  plan_error_file(request("/x", Method::kDelete), 405, "404.html", page, c, p);
  EXPECT_TRUE(has(p, "Allow: GET, HEAD, OPTIONS"));
  plan_error_file(request("/x"), 503, "404.html", page, c, p);
  EXPECT_FALSE(p.keep_alive()) << "503 still closes";
}

}  // namespace
}  // namespace httpower
