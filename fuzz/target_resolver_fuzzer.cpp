// Fuzzes resolve_target (T1). Properties, on every input:
//  - an accepted path is relative, has no empty, "." or ".." segment, no NUL, backslash or
//    control byte, and is no longer than the input (T1);
//  - the result agrees with a separate, naive reference (decode once into a string, split,
//    use a segment stack) on accept/reject, path and trailing_slash: the path IS the
//    normalization of the input, not merely a safe-looking string;
//  - re-encoding the path and resolving again gives the same path (idempotent);
//  - is_hidden_path agrees with the naive ref::hidden on the resolved path (T2).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "httpower/target_resolver.hpp"
#include "support/semantics_reference.hpp"  // the naive reference, shared with the T1 properties

namespace {

std::string encode(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "/";
  for (char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '%' || c == '?' || c == '#' || c < 0x21 || c >= 0x7f) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string buf;
  const httpower::ResolvedTarget t = httpower::resolve_target(in, buf);
  const std::optional<httpower::ref::Resolved> ref = httpower::ref::resolve(in);
  HTTPOWER_FUZZ_CHECK(t.ok() == ref.has_value());
  if (!t.ok()) {
    HTTPOWER_FUZZ_CHECK(t.path.empty());
    return 0;
  }
  const std::string_view p = t.path;
  HTTPOWER_FUZZ_CHECK(p == ref->path);
  HTTPOWER_FUZZ_CHECK(t.trailing_slash == ref->trailing_slash);
  HTTPOWER_FUZZ_CHECK(httpower::is_hidden_path(p) == httpower::ref::hidden(ref->path));  // T2
  HTTPOWER_FUZZ_CHECK(p.size() <= in.size());
  HTTPOWER_FUZZ_CHECK(p.empty() || (p.front() != '/' && p.back() != '/'));
  for (char c : p) HTTPOWER_FUZZ_CHECK(!httpower::ref::forbidden_byte(static_cast<unsigned char>(c)));
  std::size_t start = 0;
  while (start <= p.size() && !p.empty()) {  // T1: every segment is a plain name
    const std::size_t end = std::min(p.find('/', start), p.size());
    const std::string_view seg = p.substr(start, end - start);
    HTTPOWER_FUZZ_CHECK(!seg.empty() && seg != "." && seg != "..");
    start = end + 1;
  }
  // Idempotent: the resolved path, re-encoded, resolves to itself.
  const std::string again_in = encode(p);
  std::string buf2;
  const httpower::ResolvedTarget again = httpower::resolve_target(again_in, buf2);
  HTTPOWER_FUZZ_CHECK(again.ok() && again.path == p);
  return 0;
}
