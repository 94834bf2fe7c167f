// Response planner properties over generated requests and file facts:
//   R1 HEAD gets exactly GET's head (GET without Range: HEAD ignores Range, §14.2) and no body;
//   R2 204 and 304 carry no body and no Content-Length; a 304 carries the ETag,
//      Last-Modified and Date that the 200 (same request, no conditionals) would carry;
//   R3 Content-Length equals the sum of the body segments for every non-HEAD plan.
// Seed: "Using configuration: seed=N"; rerun with RC_PARAMS="seed=N".
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "support/rc_scale.hpp"

#include <optional>
#include <string>
#include <vector>

#include "httpower/conditional.hpp"
#include "httpower/http_date.hpp"
#include "httpower/response_planner.hpp"

namespace httpower {
namespace {

struct Input {
  RequestHead head;
  FileFacts file;
  PlanContext ctx;
  std::string etag, weak_etag, etag_list, lm_date, other_date;  // storage for the head's views
};

std::optional<std::string> field(std::string_view head, std::string_view name) {
  const std::string key = "\r\n" + std::string(name) + ": ";
  const std::size_t at = head.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  const std::size_t start = at + key.size();
  return std::string(head.substr(start, head.find("\r\n", start) - start));
}

// Generates into `in` (the head's views point into `in`'s strings and static literals).
void generate(Input& in) {
  in.file.kind = *rc::gen::element(FileKind::kRegular, FileKind::kRegular, FileKind::kRegular,
                                   FileKind::kDirectory, FileKind::kMissing, FileKind::kForbidden,
                                   FileKind::kOther);
  in.file.size = *rc::gen::oneOf(rc::gen::inRange<std::uint64_t>(0, 100),
                                 rc::gen::inRange<std::uint64_t>(0, std::uint64_t{1} << 40));
  in.file.mtime_sec = *rc::gen::inRange<std::int64_t>(0, 2000000000);
  in.file.mtime_nsec = *rc::gen::inRange<std::uint32_t>(0, 1000000000);
  in.ctx.now = in.file.mtime_sec + *rc::gen::inRange<std::int64_t>(-5, 100000);
  in.ctx.closing = *rc::gen::weightedElement<bool>({{1, true}, {4, false}});
  in.ctx.server = "HTTPower/prop";

  const EntityTag tag = make_etag(in.file.size, in.file.mtime_sec, in.file.mtime_nsec);
  in.etag = std::string(tag.view());
  in.weak_etag = "W/" + in.etag;
  in.etag_list = "\"stale\", " + in.weak_etag;
  HttpDateBuffer b;
  in.lm_date = std::string(format_http_date(std::min(in.file.mtime_sec, in.ctx.now), b));
  in.other_date = std::string(format_http_date(in.file.mtime_sec - *rc::gen::inRange(-100, 100), b));

  RequestHead& h = in.head;
  h.method = *rc::gen::element(Method::kGet, Method::kHead);
  h.path = *rc::gen::weightedElement<std::string_view>(
      {{4, "/a.html"}, {4, "/v.mp4?x=1"}, {4, "/data.bin"}, {2, "/x/../y.css"}, {1, "/"},
       {1, "/dir"}, {1, "/dir/"}, {1, "/%2e%2e/"}, {1, "/a%zz"}, {1, "*"}, {1, "/d?q=%0"},
       {1, "/a/b/c.json/"}});
  h.target = h.path;
  h.minor_version = *rc::gen::element(0, 1);
  h.keep_alive = *rc::gen::arbitrary<bool>();
  const auto pick = [](std::vector<std::string_view> v) { return *rc::gen::elementOf(v); };
  h.range = pick({"", "", "bytes=0-0", "bytes=-10", "bytes=5-", "bytes=0-1,3-4,8-", "bytes=-0",
                  "bytes=1000000000000-", "items=1-2", "bytes=3-1", "bytes=0-5,2-3"});
  h.if_range = pick({"", "", in.etag, in.weak_etag, in.lm_date, in.other_date, "\"stale\""});
  h.if_match = pick({"", "", "", "", "", "*", in.etag, "\"stale\""});
  h.if_none_match = pick({"", "", "", "", "*", in.etag, in.etag_list, "\"stale\""});
  h.if_modified_since = pick({"", "", in.lm_date, in.other_date, "garbage"});
  h.if_unmodified_since = pick({"", "", "", in.lm_date, in.other_date});
}

void plan(const RequestHead& h, const Input& in, ResponsePlan& p) {
  std::string buf;
  const ResolvedTarget t = resolve_target(h.path, buf);
  plan_response(h, t, in.file, in.ctx, p);
}

void check_r2_r3(const ResponsePlan& p, bool is_head) {
  const bool cl = field(p.head(), "Content-Length").has_value();
  RC_ASSERT(cl == p.has_content_length());
  if (p.status() == 204 || p.status() == 304 || p.status() < 200) {
    RC_ASSERT(p.body().empty());  // R2
    RC_ASSERT(!cl);
    return;
  }
  RC_ASSERT(cl);
  RC_ASSERT(*field(p.head(), "Content-Length") == std::to_string(p.content_length()));
  if (is_head) {
    RC_ASSERT(p.body().empty());
  } else {
    RC_ASSERT(p.content_length() == p.body_length());  // R3
  }
}

RC_GTEST_PROP(ResponsePlannerProp, R1_HeadHeadEqualsGetHeadAndHasNoBody, ()) {
  Input in;
  generate(in);
  RequestHead get = in.head, head = in.head;
  get.method = Method::kGet;
  get.range = {};
  head.method = Method::kHead;  // keeps its generated Range: it must be ignored
  ResponsePlan pg, ph;
  plan(get, in, pg);
  plan(head, in, ph);
  RC_CLASSIFY(pg.status() == 200, "200");
  RC_CLASSIFY(pg.status() == 304, "304");
  RC_CLASSIFY(pg.status() >= 400, "error");
  RC_ASSERT(std::string(ph.head()) == std::string(pg.head()));
  RC_ASSERT(ph.body().empty());
  RC_ASSERT(ph.keep_alive() == pg.keep_alive());
}

RC_GTEST_PROP(ResponsePlannerProp, R2_R3_EveryPlanIsConsistent, ()) {
  Input in;
  generate(in);
  ResponsePlan p;
  plan(in.head, in, p);
  RC_CLASSIFY(p.status() == 206, "206");
  RC_CLASSIFY(p.status() == 304, "304");
  RC_CLASSIFY(p.status() == 416, "416");
  check_r2_r3(p, in.head.method == Method::kHead);
  if (!in.head.keep_alive || in.ctx.closing) RC_ASSERT(!p.keep_alive());
}

RC_GTEST_PROP(ResponsePlannerProp, R2_NotModifiedCarriesTheValidatorsOf200, ()) {
  Input in;
  generate(in);
  in.file.kind = FileKind::kRegular;
  in.head.path = "/a.html";
  in.head.if_match = in.head.if_unmodified_since = {};
  in.head.if_none_match = in.etag;  // always 304 for GET/HEAD
  ResponsePlan p304, p200;
  plan(in.head, in, p304);
  RC_ASSERT(p304.status() == 304);
  RequestHead plain = in.head;
  plain.if_none_match = plain.if_modified_since = plain.range = {};
  plan(plain, in, p200);
  RC_ASSERT(p200.status() == 200);
  for (std::string_view f : {"ETag", "Last-Modified", "Date"}) {
    RC_ASSERT(field(p304.head(), f) == field(p200.head(), f));
  }
  RC_ASSERT(!field(p304.head(), "Content-Type"));
  check_r2_r3(p304, false);
}

}  // namespace
}  // namespace httpower
