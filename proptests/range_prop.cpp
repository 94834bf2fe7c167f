// Range properties: every served range lies inside the file, ascending, disjoint and
// non-adjacent, at most kMaxRanges; the served set is exactly the union of the satisfiable
// specs (a bitmap of bytes as the naive reference); a single spec is exactly the clamped
// RFC 9110 §14.1.1 range; the plan's Content-Length equals its body (R3, multipart
// included) and its status follows the outcome and the framing rule.
// Seed: "Using configuration: seed=N"; rerun with RC_PARAMS="seed=N".
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "support/rc_scale.hpp"

#include <algorithm>
#include <numeric>
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
  if (r.outcome != RangeOutcome::kPartial) {
    RC_ASSERT(r.count == 0u);
  } else {
    RC_ASSERT(r.count >= 1u);
    for (std::size_t i = 0; i < r.count; ++i) {
      RC_ASSERT(r.ranges[i].first <= r.ranges[i].last);
      RC_ASSERT(r.ranges[i].last < size);
      if (i) RC_ASSERT(r.ranges[i - 1].last + 1 < r.ranges[i].first);  // a gap between parts
    }
    RC_ASSERT(r.total() <= size);
  }
  // 416 exactly when no spec is satisfiable.
  bool any = false;
  for (const Spec& s : specs) any = any || s.model(size).has_value();
  RC_ASSERT((r.outcome == RangeOutcome::kUnsatisfiable) == !any);
}

// Mostly short specs, so that small files get several separate parts, sometimes more than
// kMaxRanges, and also adjacent and overlapping neighbours.
rc::Gen<Spec> short_spec_for(std::uint64_t size) {
  const auto at = rc::gen::inRange<std::uint64_t>(0, size + 2);
  const auto len = rc::gen::inRange<std::uint64_t>(0, 4);
  const auto int_range = rc::gen::map(rc::gen::pair(at, len), [](const auto& p) {
    return Spec{0, p.first, p.first + p.second};
  });
  const auto suffix = rc::gen::map(len, [](std::uint64_t n) { return Spec{2, n, 0}; });
  return rc::gen::weightedOneOf<Spec>({{40, int_range}, {4, suffix}, {1, spec_for(size)}});
}

// The naive reference: mark every byte some satisfiable spec covers, then read the maximal
// runs of marked bytes off the bitmap, in order.
std::vector<ByteRange> union_by_bitmap(const std::vector<Spec>& specs, std::uint64_t size) {
  std::vector<bool> marked(size, false);
  for (const Spec& s : specs) {
    if (const auto m = s.model(size)) {
      for (std::uint64_t b = m->first; b <= m->last; ++b) marked[b] = true;
    }
  }
  std::vector<ByteRange> runs;
  for (std::uint64_t b = 0; b < size; ++b) {
    if (!marked[b]) continue;
    if (!runs.empty() && runs.back().last + 1 == b) {
      runs.back().last = b;
    } else {
      runs.push_back({b, b});
    }
  }
  return runs;
}

// The outcome and parts the reference expects: 416 when no byte is covered, the whole file
// when more than kMaxRanges runs remain, else exactly the runs.
void assert_matches_reference(const RangeResult& r, const std::vector<ByteRange>& want) {
  if (want.empty()) {
    RC_ASSERT(r.outcome == RangeOutcome::kUnsatisfiable);
  } else if (want.size() > kMaxRanges) {
    RC_ASSERT(r.outcome == RangeOutcome::kFull);
  } else {
    RC_ASSERT(r.outcome == RangeOutcome::kPartial);
    RC_ASSERT(r.count == want.size());
    for (std::size_t i = 0; i < r.count; ++i) {
      RC_ASSERT(r.ranges[i].first == want[i].first);
      RC_ASSERT(r.ranges[i].last == want[i].last);
    }
  }
}

RC_GTEST_PROP(RangeProp, CoalescedSetIsTheUnionOfTheSatisfiableSpecs, ()) {
  // At full size throughout: RapidCheck scales inRange with the run's size, which would keep
  // most sets too small to split into more than kMaxRanges parts.
  const std::uint64_t size = *rc::gen::resize(100, rc::gen::inRange<std::uint64_t>(0, 200));
  const std::size_t n = *rc::gen::resize(100, rc::gen::inRange<std::size_t>(1, 50));
  const auto specs =
      *rc::gen::resize(100, rc::gen::container<std::vector<Spec>>(n, short_spec_for(size)));
  const RangeResult r = evaluate_range(value_of(specs), size);
  const std::vector<ByteRange> want = union_by_bitmap(specs, size);
  RC_CLASSIFY(want.size() > 1, "several parts");
  RC_CLASSIFY(want.size() > kMaxRanges, "too many parts");
  RC_CLASSIFY(specs.size() > want.size() && !want.empty(), "merged");
  assert_matches_reference(r, want);
}

RC_GTEST_PROP(RangeProp, MoreThanMaxRangeSpecsIsWholeFile, ()) {
  const std::uint64_t size = *rc::gen::inRange<std::uint64_t>(0, 200);
  const std::size_t n = *rc::gen::inRange<std::size_t>(kMaxRangeSpecs - 2, kMaxRangeSpecs + 3);
  const auto specs = *rc::gen::container<std::vector<Spec>>(n, short_spec_for(size));
  const RangeResult r = evaluate_range(value_of(specs), size);
  RC_CLASSIFY(n > kMaxRangeSpecs, "too many specs");
  if (n > kMaxRangeSpecs) {
    RC_ASSERT(r.outcome == RangeOutcome::kFull);
  } else {
    const std::vector<ByteRange> want = union_by_bitmap(specs, size);
    RC_CLASSIFY(want.size() > kMaxRanges, "too many parts");
    RC_CLASSIFY(!want.empty() && want.size() <= kMaxRanges, "206");
    assert_matches_reference(r, want);
  }
}

// An ascending, disjoint, non-adjacent set of 1..kMaxRanges ranges inside [0, size): 2k
// sorted cut points, part i is [c[2i], c[2i+1]]; a part touching or adjoining the previous
// one is dropped.
std::vector<ByteRange> ascending_set(std::uint64_t size) {
  const std::size_t k = *rc::gen::inRange<std::size_t>(1, kMaxRanges + 1);
  auto cuts = *rc::gen::container<std::vector<std::uint64_t>>(2 * k, rc::gen::inRange<std::uint64_t>(0, size));
  std::sort(cuts.begin(), cuts.end());
  std::vector<ByteRange> want;
  for (std::size_t i = 0; i < k; ++i) {
    const ByteRange br{cuts[2 * i], cuts[2 * i + 1]};
    if (!want.empty() && br.first <= want.back().last + 1) continue;
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

RC_GTEST_PROP(RangeProp, DisjointSetsInAnyOrderAreServedExactlyAndAscending, ()) {
  const std::uint64_t size = *rc::gen::inRange<std::uint64_t>(1, 100000);
  const std::vector<ByteRange> want = ascending_set(size);
  std::vector<ByteRange> asked = want;
  for (std::size_t i = asked.size(); i > 1; --i) {  // Fisher-Yates with generated indices
    std::swap(asked[i - 1], asked[*rc::gen::inRange<std::size_t>(0, i)]);
  }
  RC_CLASSIFY(want.size() > 1 && asked[0].first != want[0].first, "out of order");
  const RangeResult r = evaluate_range(value_of(asked), size);
  RC_ASSERT(r.outcome == RangeOutcome::kPartial);
  RC_ASSERT(r.count == want.size());
  for (std::size_t i = 0; i < r.count; ++i) {
    RC_ASSERT(r.ranges[i].first == want[i].first);
    RC_ASSERT(r.ranges[i].last == want[i].last);
  }
}

// "\r\n--httpower-" + 16 hex + "\r\nContent-Type: " + "text/plain; charset=utf-8" +
// "\r\nContent-Range: bytes " + three 20-digit numbers and "-", "/" + "\r\n\r\n" < 256.
constexpr std::uint64_t kPartFramingBound = 256;

RC_GTEST_PROP(RangeProp, R3_PlanContentLengthMatchesBody, ()) {
  const std::uint64_t size = *rc::gen::inRange<std::uint64_t>(0, 5000);
  // Half arbitrary spec lists (overlapping, out of order, 416), half disjoint ascending sets
  // (206, often multipart).
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
  plan_response(head, t, FileFacts{FileKind::kRegular, size, 100, 0}, PlanContext{200}, plan);
  const RangeResult r = evaluate_range(value, size);
  const int expected = r.outcome == RangeOutcome::kPartial ? 206
                       : r.outcome == RangeOutcome::kFull  ? 200
                                                           : 416;
  RC_CLASSIFY(plan.status() == 206 && r.count > 1, "multipart");
  RC_CLASSIFY(plan.status() == 200 && expected == 206, "framing larger than file");
  RC_ASSERT(plan.has_content_length());
  RC_ASSERT(plan.content_length() == plan.body_length());
  std::vector<ByteRange> sent;
  for (const BodySegment& s : plan.body()) {
    if (s.kind == BodySegment::Kind::kFile) {
      RC_ASSERT(s.offset + s.length <= size);
      sent.push_back({s.offset, s.offset + s.length - 1});
    }
  }
  const std::uint64_t file_bytes = std::accumulate(
      sent.begin(), sent.end(), std::uint64_t{0},
      [](std::uint64_t n, const ByteRange& b) { return n + b.length(); });
  if (plan.status() == 200) {
    RC_ASSERT(file_bytes == size);
    // A 206 planned as 200: only a multipart whose framing (at most kPartFramingBound per
    // part plus the closing delimiter) would outweigh the file.
    if (expected == 206) RC_ASSERT(r.count > 1 && size < r.count * kPartFramingBound + 64);
    return;
  }
  RC_ASSERT(plan.status() == expected);
  if (expected != 206) return;
  RC_ASSERT(sent.size() == r.count);  // the coalesced parts, in ascending order
  for (std::size_t i = 0; i < r.count; ++i) {
    RC_ASSERT(sent[i].first == r.ranges[i].first);
    RC_ASSERT(sent[i].last == r.ranges[i].last);
  }
  if (r.count > 1) RC_ASSERT(plan.content_length() - file_bytes <= size);  // framing <= file
}

}  // namespace
}  // namespace httpower
