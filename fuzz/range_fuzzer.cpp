// Fuzzes evaluate_range and the planner's range responses. Input: one byte choosing the file
// size (0..199 as is; otherwise the next 8 bytes, little-endian), then the Range value.
// Properties: every range lies inside the file, ranges are strictly ascending and disjoint,
// 1 <= count <= kMaxRanges for 206, none otherwise, total <= size; the plan's status matches
// the outcome, every file segment lies inside the file, and Content-Length equals the bytes
// of the body segments (R3).
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "httpower/range.hpp"
#include "httpower/response_planner.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::uint64_t file_size = data[0];
  data += 1;
  size -= 1;
  if (file_size >= 200) {
    if (size < 8) return 0;
    file_size = 0;
    for (int i = 7; i >= 0; --i) file_size = (file_size << 8) | data[i];
    data += 8;
    size -= 8;
  }
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  const httpower::RangeResult r = httpower::evaluate_range(value, file_size);

  HTTPOWER_FUZZ_CHECK(r.count <= httpower::kMaxRanges);
  if (r.outcome == httpower::RangeOutcome::kPartial) {
    HTTPOWER_FUZZ_CHECK(r.count >= 1);
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < r.count; ++i) {
      const httpower::ByteRange& b = r.ranges[i];
      HTTPOWER_FUZZ_CHECK(b.first <= b.last);
      HTTPOWER_FUZZ_CHECK(b.last < file_size);
      if (i > 0) HTTPOWER_FUZZ_CHECK(r.ranges[i - 1].last < b.first);
      total += b.length();
    }
    HTTPOWER_FUZZ_CHECK(total == r.total());
    HTTPOWER_FUZZ_CHECK(total <= file_size);
  } else {
    HTTPOWER_FUZZ_CHECK(r.count == 0);
  }
  if (r.outcome == httpower::RangeOutcome::kUnsatisfiable) {
    HTTPOWER_FUZZ_CHECK(value.size() >= 6);  // at least "bytes=" and one spec
  }

  httpower::RequestHead head;
  head.method = httpower::Method::kGet;
  head.path = "/f.bin";
  head.range = value;
  std::string buf;
  const httpower::ResolvedTarget t = httpower::resolve_target(head.path, buf);
  const httpower::FileFacts facts{httpower::FileKind::kRegular, file_size, 1000, 1, 7};
  httpower::ResponsePlan plan;
  httpower::plan_response(head, t, facts, httpower::PlanContext{5000, false, "fuzz"}, plan);
  const int expected = r.outcome == httpower::RangeOutcome::kFull      ? 200
                       : r.outcome == httpower::RangeOutcome::kPartial ? 206
                                                                       : 416;
  HTTPOWER_FUZZ_CHECK(plan.status() == expected);
  HTTPOWER_FUZZ_CHECK(plan.has_content_length());
  HTTPOWER_FUZZ_CHECK(plan.content_length() == plan.body_length());  // R3
  std::uint64_t file_bytes = 0;
  for (const httpower::BodySegment& s : plan.body()) {
    HTTPOWER_FUZZ_CHECK(s.length > 0);
    if (s.kind == httpower::BodySegment::Kind::kFile) {
      HTTPOWER_FUZZ_CHECK(s.offset < file_size && s.length <= file_size - s.offset);
      file_bytes += s.length;
    } else {
      HTTPOWER_FUZZ_CHECK(plan.inline_bytes(s).size() == s.length);
    }
  }
  if (expected == 206) HTTPOWER_FUZZ_CHECK(file_bytes == r.total());
  if (expected == 206 && r.count == 1) HTTPOWER_FUZZ_CHECK(plan.content_length() == r.total());
  if (expected == 200) HTTPOWER_FUZZ_CHECK(file_bytes == file_size);
  return 0;
}
