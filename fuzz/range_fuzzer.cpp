// Fuzzes evaluate_range and the planner's range responses. Input: one byte choosing the file
// size (0..199 as is; otherwise the next 8 bytes, little-endian), then the Range value.
// Properties: every range lies inside the file, ranges are strictly ascending, disjoint and
// non-adjacent, 1 <= count <= kMaxRanges for 206, none otherwise, total <= size; for small
// files the 206 parts are exactly the union of the specs (a naive parser and a bitmap as the
// reference); the plan's status matches the outcome (a multipart whose framing outweighs the
// file is a 200), every file segment lies inside the file, the 206 sends the coalesced parts
// in order, and Content-Length equals the bytes of the body segments (R3).
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "httpower/range.hpp"
#include "httpower/response_planner.hpp"

namespace {

// The naive reference for a value evaluate_range accepted as kPartial (so it is well formed):
// marks every byte a spec covers, each spec parsed on its own, numbers saturating.
std::vector<bool> covered_bytes(std::string_view value, std::uint64_t size) {
  std::vector<bool> marked(size, false);
  const auto num = [](std::string_view s) {
    std::uint64_t v = 0;
    for (char c : s) {
      const auto d = static_cast<std::uint64_t>(c - '0');
      v = (v > (UINT64_MAX - d) / 10) ? UINT64_MAX : v * 10 + d;
    }
    return v;
  };
  std::string_view rest = value.substr(value.find('=') + 1);
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.empty()) continue;
    const std::size_t dash = item.find('-');
    const std::string_view a = item.substr(0, dash), b = item.substr(dash + 1);
    std::uint64_t first = 0, last = UINT64_MAX;
    if (a.empty()) {
      const std::uint64_t n = num(b);
      first = n >= size ? 0 : size - n;
      if (n == 0) continue;
    } else {
      first = num(a);
      if (!b.empty()) last = num(b);
    }
    for (std::uint64_t i = first; i < size && i <= last; ++i) marked[i] = true;
  }
  return marked;
}

// "\r\n--httpower-" + 16 hex + "\r\nContent-Type: application/octet-stream" +
// "\r\nContent-Range: bytes " + three 20-digit numbers and "-", "/" + "\r\n\r\n" < 256.
constexpr std::uint64_t kPartFramingBound = 256;

}  // namespace

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
      if (i > 0) HTTPOWER_FUZZ_CHECK(r.ranges[i - 1].last + 1 < b.first);
      total += b.length();
    }
    HTTPOWER_FUZZ_CHECK(total == r.total());
    HTTPOWER_FUZZ_CHECK(total <= file_size);
    if (file_size < 200) {  // exactly the union of the specs: every byte in, every gap out
      const std::vector<bool> marked = covered_bytes(value, file_size);
      std::size_t part = 0;
      for (std::uint64_t i = 0; i < file_size; ++i) {
        while (part < r.count && r.ranges[part].last < i) ++part;
        const bool served = part < r.count && r.ranges[part].first <= i;
        HTTPOWER_FUZZ_CHECK(served == marked[i]);
      }
    }
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
  const httpower::FileFacts facts{httpower::FileKind::kRegular, file_size, 1000, 1};
  httpower::ResponsePlan plan;
  httpower::plan_response(head, t, facts, httpower::PlanContext{5000, false, "fuzz"}, plan);
  const int expected = r.outcome == httpower::RangeOutcome::kFull      ? 200
                       : r.outcome == httpower::RangeOutcome::kPartial ? 206
                                                                       : 416;
  // A multipart whose framing would outweigh the file is planned as the whole file.
  const bool framing_heavy = expected == 206 && plan.status() == 200;
  if (framing_heavy) {
    HTTPOWER_FUZZ_CHECK(r.count > 1 && file_size < r.count * kPartFramingBound + 64);
  } else {
    HTTPOWER_FUZZ_CHECK(plan.status() == expected);
  }
  HTTPOWER_FUZZ_CHECK(plan.has_content_length());
  HTTPOWER_FUZZ_CHECK(plan.content_length() == plan.body_length());  // R3
  std::uint64_t file_bytes = 0;
  std::size_t file_parts = 0;
  for (const httpower::BodySegment& s : plan.body()) {
    HTTPOWER_FUZZ_CHECK(s.length > 0);
    if (s.kind == httpower::BodySegment::Kind::kFile) {
      HTTPOWER_FUZZ_CHECK(s.offset < file_size && s.length <= file_size - s.offset);
      if (plan.status() == 206) {  // the coalesced parts, in ascending order
        HTTPOWER_FUZZ_CHECK(file_parts < r.count);
        HTTPOWER_FUZZ_CHECK(s.offset == r.ranges[file_parts].first);
        HTTPOWER_FUZZ_CHECK(s.length == r.ranges[file_parts].length());
      }
      ++file_parts;
      file_bytes += s.length;
    } else {
      HTTPOWER_FUZZ_CHECK(plan.inline_bytes(s).size() == s.length);
    }
  }
  if (plan.status() == 206) {
    HTTPOWER_FUZZ_CHECK(file_parts == r.count);
    HTTPOWER_FUZZ_CHECK(file_bytes == r.total());
    if (r.count == 1) HTTPOWER_FUZZ_CHECK(plan.content_length() == r.total());
    if (r.count > 1) HTTPOWER_FUZZ_CHECK(plan.content_length() - r.total() <= file_size);
  }
  if (plan.status() == 200) HTTPOWER_FUZZ_CHECK(file_bytes == file_size);
  return 0;
}
