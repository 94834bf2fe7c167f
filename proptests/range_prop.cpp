// Range properties: every served range lies inside the file, in order, disjoint, at most
// kMaxRanges; a single spec is exactly the clamped RFC 9110 §14.1.1 range; the plan's
// Content-Length equals its body (R3) and its status follows the outcome.
// Seed: "Using configuration: seed=N"; rerun with RC_PARAMS="seed=N".
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "support/rc_scale.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "httpower/range.hpp"
#include "httpower/response_planner.hpp"

namespace httpower {
namespace {

struct Spec {
  int kind;  // 0: first-last, 1: first-, 2: -suffix
  std::uint64_t a, b;
  std::string text() const {
    if (kind == 0) return std::to_string(a) + "-" + std::to_string(b);
    if (kind == 1) return std::to_string(a) + "-";
    return "-" + std::to_string(a);
  }
  // The clamped range of this one spec (RFC 9110 §14.1.1), or nullopt if unsatisfiable.
  std::optional<ByteRange> model(std::uint64_t size) const {
    if (kind == 2) {
      if (a == 0 || size == 0) return std::nullopt;
      return ByteRange{a >= size ? 0 : size - a, size - 1};
    }
    if (a >= size) return std::nullopt;
    const std::uint64_t last = (kind == 1 || b >= size) ? size - 1 : b;
    return ByteRange{a, last};
  }
};

rc::Gen<Spec> spec_for(std::uint64_t size) {
  const auto num = rc::gen::oneOf(rc::gen::inRange<std::uint64_t>(0, size + 3),
                                  rc::gen::just(size), rc::gen::just<std::uint64_t>(0),
                                  rc::gen::inRange<std::uint64_t>(0, 3 * size + 10));
  return rc::gen::map(rc::gen::tuple(rc::gen::inRange(0, 3), num, num),
                      [](const std::tuple<int, std::uint64_t, std::uint64_t>& t) {
                        auto [k, x, y] = t;
                        if (k == 0 && y < x) std::swap(x, y);  // keep first <= last: valid
                        return Spec{k, x, y};
                      });
}

std::string value_of(const std::vector<Spec>& specs) {
  std::string v = "bytes=";
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (i) v += *rc::gen::elementOf(std::vector<std::string>{",", ", ", " ,\t"});
    v += specs[i].text();
  }
  return v;
}

RC_GTEST_PROP(RangeProp, RangesStayInsideFileInOrderAndBounded, ()) {
  const std::uint64_t size = *rc::gen::inRange<std::uint64_t>(0, 5000);
  const auto specs = *rc::gen::resize(24, rc::gen::nonEmpty(rc::gen::container<std::vector<Spec>>(spec_for(size))));
  const RangeResult r = evaluate_range(value_of(specs), size);
  RC_CLASSIFY(r.outcome == RangeOutcome::kPartial, "206");
  RC_CLASSIFY(r.outcome == RangeOutcome::kUnsatisfiable, "416");
  RC_CLASSIFY(r.outcome == RangeOutcome::kFull, "200");
  RC_ASSERT(r.count <= kMaxRanges);
  if (specs.size() > kMaxRanges) RC_ASSERT(r.outcome == RangeOutcome::kFull);
  if (r.outcome != RangeOutcome::kPartial) {
    RC_ASSERT(r.count == 0u);
  } else {
    RC_ASSERT(r.count >= 1u);
    for (std::size_t i = 0; i < r.count; ++i) {
      RC_ASSERT(r.ranges[i].first <= r.ranges[i].last);
      RC_ASSERT(r.ranges[i].last < size);
      if (i) RC_ASSERT(r.ranges[i - 1].last < r.ranges[i].first);
    }
    RC_ASSERT(r.total() <= size);
  }
  // 416 exactly when no spec is satisfiable (and the set is not ignored for its size).
  bool any = false;
  for (const Spec& s : specs) any = any || s.model(size).has_value();
  if (specs.size() <= kMaxRanges) {
    RC_ASSERT((r.outcome == RangeOutcome::kUnsatisfiable) == !any);
  }
}

RC_GTEST_PROP(RangeProp, SingleSpecIsTheClampedRange, ()) {
  const std::uint64_t size = *rc::gen::inRange<std::uint64_t>(0, 5000);
  const Spec s = *spec_for(size);
  const RangeResult r = evaluate_range("bytes=" + s.text(), size);
  const auto m = s.model(size);
  if (!m) {
    RC_ASSERT(r.outcome == RangeOutcome::kUnsatisfiable);
    return;
  }
  RC_ASSERT(r.outcome == RangeOutcome::kPartial);
  RC_ASSERT(r.count == 1u);
  RC_ASSERT(r.ranges[0].first == m->first);
  RC_ASSERT(r.ranges[0].last == m->last);
}

// An ascending, disjoint set of 1..kMaxRanges ranges inside [0, size): 2k sorted cut points,
// part i is [c[2i], c[2i+1]]; a part touching the previous one is dropped.
std::vector<ByteRange> ascending_set(std::uint64_t size) {
  const std::size_t k = *rc::gen::inRange<std::size_t>(1, kMaxRanges + 1);
  auto cuts = *rc::gen::container<std::vector<std::uint64_t>>(2 * k, rc::gen::inRange<std::uint64_t>(0, size));
  std::sort(cuts.begin(), cuts.end());
  std::vector<ByteRange> want;
  for (std::size_t i = 0; i < k; ++i) {
    const ByteRange br{cuts[2 * i], cuts[2 * i + 1]};
    if (!want.empty() && br.first <= want.back().last) continue;
    want.push_back(br);
  }
  return want;
}

std::string value_of(const std::vector<ByteRange>& rs) {
  std::string v = "bytes=";
  for (std::size_t i = 0; i < rs.size(); ++i) {
    if (i) v += ",";
    v += std::to_string(rs[i].first) + "-" + std::to_string(rs[i].last);
  }
  return v;
}

RC_GTEST_PROP(RangeProp, AscendingDisjointSetsAreServedExactly, ()) {
  const std::uint64_t size = *rc::gen::inRange<std::uint64_t>(1, 100000);
  const std::vector<ByteRange> want = ascending_set(size);
  const RangeResult r = evaluate_range(value_of(want), size);
  RC_ASSERT(r.outcome == RangeOutcome::kPartial);
  RC_ASSERT(r.count == want.size());
  for (std::size_t i = 0; i < r.count; ++i) {
    RC_ASSERT(r.ranges[i].first == want[i].first);
    RC_ASSERT(r.ranges[i].last == want[i].last);
  }
}

RC_GTEST_PROP(RangeProp, R3_PlanContentLengthMatchesBody, ()) {
  const std::uint64_t size = *rc::gen::inRange<std::uint64_t>(0, 5000);
  // Half arbitrary spec lists (mostly 200/416), half ascending sets (206, often multipart).
  std::string value;
  if (size > 0 && *rc::gen::arbitrary<bool>()) {
    value = value_of(ascending_set(size));
  } else {
    value = value_of(*rc::gen::resize(20, rc::gen::nonEmpty(rc::gen::container<std::vector<Spec>>(spec_for(size)))));
  }
  RequestHead head;
  head.method = Method::kGet;
  head.path = "/f.txt";
  head.range = value;
  std::string buf;
  const ResolvedTarget t = resolve_target(head.path, buf);
  ResponsePlan plan;
  plan_response(head, t, FileFacts{FileKind::kRegular, size, 100, 0, 1}, PlanContext{200}, plan);
  const RangeResult r = evaluate_range(value, size);
  RC_CLASSIFY(r.count > 1, "multipart");
  const int expected = r.outcome == RangeOutcome::kPartial ? 206
                       : r.outcome == RangeOutcome::kFull  ? 200
                                                           : 416;
  RC_ASSERT(plan.status() == expected);
  RC_ASSERT(plan.has_content_length());
  RC_ASSERT(plan.content_length() == plan.body_length());
  std::uint64_t file_bytes = 0;
  for (const BodySegment& s : plan.body()) {
    if (s.kind == BodySegment::Kind::kFile) {
      RC_ASSERT(s.offset + s.length <= size);
      file_bytes += s.length;
    }
  }
  if (expected == 206) RC_ASSERT(file_bytes == r.total());
  if (expected == 200) RC_ASSERT(file_bytes == size);
}

}  // namespace
}  // namespace httpower
