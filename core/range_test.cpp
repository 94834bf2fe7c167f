// Range (RFC 9110 §14.1-§14.3): parsing, clamping, 416, coalescing and the abuse policy.
#include "httpower/range.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace httpower {
namespace {

struct Case {
  std::string_view value;
  std::uint64_t size;
  RangeOutcome outcome;
  std::vector<ByteRange> ranges;  // for kPartial
};

void PrintTo(const Case& c, std::ostream* os) { *os << '"' << c.value << "\" size " << c.size; }

class RangeTable : public testing::TestWithParam<Case> {};

std::string show(RangeOutcome o) {
  switch (o) {
    case RangeOutcome::kFull: return "full";
    case RangeOutcome::kPartial: return "partial";
    case RangeOutcome::kUnsatisfiable: return "unsatisfiable";
  }
  return "?";
}

TEST_P(RangeTable, EvaluatesAgainstFileSize) {
  const Case& c = GetParam();
  const RangeResult r = evaluate_range(c.value, c.size);
  ASSERT_EQ(show(r.outcome), show(c.outcome)) << c.value << " size " << c.size;
  if (c.outcome != RangeOutcome::kPartial) {
    EXPECT_EQ(r.count, 0u);
    return;
  }
  ASSERT_EQ(r.count, c.ranges.size()) << c.value;
  for (std::size_t i = 0; i < r.count; ++i) {
    EXPECT_EQ(r.ranges[i].first, c.ranges[i].first) << c.value << " #" << i;
    EXPECT_EQ(r.ranges[i].last, c.ranges[i].last) << c.value << " #" << i;
    EXPECT_LT(r.ranges[i].last, c.size);
  }
}

constexpr std::uint64_t kMax = ~std::uint64_t{0};

INSTANTIATE_TEST_SUITE_P(
    Table, RangeTable,
    testing::Values(
        // single ranges
        Case{"bytes=0-0", 100, RangeOutcome::kPartial, {{0, 0}}},
        Case{"bytes=0-99", 100, RangeOutcome::kPartial, {{0, 99}}},
        Case{"bytes=10-19", 100, RangeOutcome::kPartial, {{10, 19}}},
        Case{"bytes=50-", 100, RangeOutcome::kPartial, {{50, 99}}},
        Case{"bytes=-10", 100, RangeOutcome::kPartial, {{90, 99}}},
        Case{"BYTES=1-2", 100, RangeOutcome::kPartial, {{1, 2}}},  // the unit is case-insensitive
        // clamping: last past the end, suffix longer than the file
        Case{"bytes=90-200", 100, RangeOutcome::kPartial, {{90, 99}}},
        Case{"bytes=0-18446744073709551615", 100, RangeOutcome::kPartial, {{0, 99}}},
        Case{"bytes=0-99999999999999999999999", 100, RangeOutcome::kPartial, {{0, 99}}},
        Case{"bytes=-1000", 100, RangeOutcome::kPartial, {{0, 99}}},
        Case{"bytes=-99999999999999999999999", 100, RangeOutcome::kPartial, {{0, 99}}},
        Case{"bytes=99-", 100, RangeOutcome::kPartial, {{99, 99}}},
        // several ranges, OWS and empty list elements (#rule)
        Case{"bytes=0-9,20-29", 100, RangeOutcome::kPartial, {{0, 9}, {20, 29}}},
        Case{"bytes=0-0, -1", 100, RangeOutcome::kPartial, {{0, 0}, {99, 99}}},
        Case{"bytes= 0-9 ,\t20-29 ", 100, RangeOutcome::kPartial, {{0, 9}, {20, 29}}},
        Case{"bytes=,0-9,,20-29,", 100, RangeOutcome::kPartial, {{0, 9}, {20, 29}}},
        Case{"bytes=0-9,11-19", 100, RangeOutcome::kPartial, {{0, 9}, {11, 19}}},  // 1-byte gap
        // unsatisfiable specs are dropped when another one is satisfiable
        Case{"bytes=0-9,200-300", 100, RangeOutcome::kPartial, {{0, 9}}},
        Case{"bytes=-0,5-6", 100, RangeOutcome::kPartial, {{5, 6}}},
        // unsatisfiable: 416
        Case{"bytes=-0", 100, RangeOutcome::kUnsatisfiable, {}},
        Case{"bytes=100-", 100, RangeOutcome::kUnsatisfiable, {}},
        Case{"bytes=100-200", 100, RangeOutcome::kUnsatisfiable, {}},
        Case{"bytes=200-300,100-", 100, RangeOutcome::kUnsatisfiable, {}},
        Case{"bytes=99999999999999999999999-", 100, RangeOutcome::kUnsatisfiable, {}},
        Case{"bytes=0-", 0, RangeOutcome::kUnsatisfiable, {}},
        Case{"bytes=-5", 0, RangeOutcome::kUnsatisfiable, {}},
        // ignored (200, whole file): unknown unit, syntax errors
        Case{"items=0-5", 100, RangeOutcome::kFull, {}},
        Case{"", 100, RangeOutcome::kFull, {}}, Case{"bytes", 100, RangeOutcome::kFull, {}},
        Case{"bytes=", 100, RangeOutcome::kFull, {}}, Case{"bytes=,", 100, RangeOutcome::kFull, {}},
        Case{"bytes=5", 100, RangeOutcome::kFull, {}}, Case{"bytes=-", 100, RangeOutcome::kFull, {}},
        Case{"bytes=a-b", 100, RangeOutcome::kFull, {}},
        Case{"bytes=5-4", 100, RangeOutcome::kFull, {}},  // last < first: invalid
        Case{"bytes=+1-2", 100, RangeOutcome::kFull, {}},
        Case{"bytes=1-2-3", 100, RangeOutcome::kFull, {}},
        Case{"bytes=1 -2", 100, RangeOutcome::kFull, {}},
        Case{"bytes =1-2", 100, RangeOutcome::kFull, {}},
        Case{"bytes=0-1,x", 100, RangeOutcome::kFull, {}},
        Case{"bytes=--1", 100, RangeOutcome::kFull, {}},
        // coalescing (§14.3): sorted, overlapping and adjacent ranges merged
        Case{"bytes=0-50,40-60", 100, RangeOutcome::kPartial, {{0, 60}}},
        Case{"bytes=0-9,0-9", 100, RangeOutcome::kPartial, {{0, 9}}},
        Case{"bytes=20-29,0-9", 100, RangeOutcome::kPartial, {{0, 9}, {20, 29}}},
        Case{"bytes=0-,0-,0-", 100, RangeOutcome::kPartial, {{0, 99}}},
        Case{"bytes=-50,0-10", 100, RangeOutcome::kPartial, {{0, 10}, {50, 99}}},
        Case{"bytes=-50,0-49", 100, RangeOutcome::kPartial, {{0, 99}}},  // adjacent after -n
        Case{"bytes=20-29,0-9,5-12,13-15", 100, RangeOutcome::kPartial, {{0, 15}, {20, 29}}},
        Case{"bytes=10-19,0-9", 100, RangeOutcome::kPartial, {{0, 19}}},
        Case{"bytes=30-39,10-19,20-29", 100, RangeOutcome::kPartial, {{10, 39}}},
        Case{"bytes=50-60,52-55", 100, RangeOutcome::kPartial, {{50, 60}}},  // contained
        Case{"bytes=90-,95-200,0-0", 100, RangeOutcome::kPartial, {{0, 0}, {90, 99}}},
        Case{"bytes=0-0,2-2,1-1", 100, RangeOutcome::kPartial, {{0, 2}}},
        Case{"bytes=200-300,5-6,3-4", 100, RangeOutcome::kPartial, {{3, 6}}},
        Case{"bytes=0-", kMax, RangeOutcome::kPartial, {{0, kMax - 1}}},
        Case{"bytes=0-18446744073709551613,18446744073709551614-", kMax,
             RangeOutcome::kPartial, {{0, kMax - 1}}},  // adjacent at the top: no overflow
        Case{"bytes=5-,-3", kMax, RangeOutcome::kPartial, {{5, kMax - 1}}},  // no overflow
        Case{"bytes=0-0", kMax, RangeOutcome::kPartial, {{0, 0}}}));

std::string many(std::size_t n) {
  std::string v = "bytes=";
  for (std::size_t i = 0; i < n; ++i) {
    if (i) v += ',';
    v += std::to_string(i * 2) + "-" + std::to_string(i * 2);
  }
  return v;
}

TEST(Range, AtMostMaxRangesAreServed) {
  const std::string v = many(kMaxRanges);
  const RangeResult r = evaluate_range(v, 1000);
  ASSERT_EQ(r.outcome, RangeOutcome::kPartial);
  EXPECT_EQ(r.count, kMaxRanges);
  EXPECT_EQ(r.total(), kMaxRanges);
}

TEST(Range, OverlappingAndOutOfOrderRangesAreCoalescedInto206) {
  const RangeResult r = evaluate_range("bytes=500-599,0-99,50-149,150-199,-100", 1000);
  ASSERT_EQ(show(r.outcome), show(RangeOutcome::kPartial));
  ASSERT_EQ(r.count, 3u);
  EXPECT_EQ(r.ranges[0].first, 0u);
  EXPECT_EQ(r.ranges[0].last, 199u);
  EXPECT_EQ(r.ranges[1].first, 500u);
  EXPECT_EQ(r.ranges[1].last, 599u);
  EXPECT_EQ(r.ranges[2].first, 900u);
  EXPECT_EQ(r.ranges[2].last, 999u);
  EXPECT_EQ(r.total(), 400u);
}

TEST(Range, MoreThanMaxPartsAfterCoalescingIsWholeFile) {
  EXPECT_EQ(evaluate_range(many(kMaxRanges + 1), 1000).outcome, RangeOutcome::kFull);
  // Many specs that coalesce into few parts are served: 0-0,1-1,...,99-99 is one part.
  std::string v = "bytes=";
  for (std::size_t i = 0; i < kMaxRangeSpecs; ++i) {
    v += (i ? "," : "") + std::to_string(kMaxRangeSpecs - 1 - i) + "-" +
         std::to_string(kMaxRangeSpecs - 1 - i);
  }
  const RangeResult r = evaluate_range(v, 1000);
  ASSERT_EQ(r.outcome, RangeOutcome::kPartial);
  ASSERT_EQ(r.count, 1u);
  EXPECT_EQ(r.ranges[0].first, 0u);
  EXPECT_EQ(r.ranges[0].last, kMaxRangeSpecs - 1);
}

TEST(Range, MoreThanMaxSpecsIsWholeFile) {
  std::string v = "bytes=0-0";
  for (std::size_t i = 1; i < kMaxRangeSpecs; ++i) v += ",0-0";
  EXPECT_EQ(evaluate_range(v, 1000).outcome, RangeOutcome::kPartial);
  EXPECT_EQ(evaluate_range(v + ",0-0", 1000).outcome, RangeOutcome::kFull);
  // unsatisfiable specs count too: a flood of them is not a 416 either
  v = "bytes=0-0";
  for (std::size_t i = 0; i < kMaxRangeSpecs; ++i) v += ",5000-6000";
  EXPECT_EQ(evaluate_range(v, 1000).outcome, RangeOutcome::kFull);
}

TEST(Range, TotalNeverExceedsFileSize) {
  for (std::string_view v : {"bytes=0-", "bytes=-1000", "bytes=0-0,1-1,2-", "bytes=0-9,10-",
                             "bytes=0-,0-,0-,0-,-100,-100", "bytes=0-99,1-99,2-99,3-99"}) {
    const RangeResult r = evaluate_range(v, 100);
    ASSERT_EQ(r.outcome, RangeOutcome::kPartial) << v;
    EXPECT_LE(r.total(), 100u) << v;
  }
}

}  // namespace
}  // namespace httpower
