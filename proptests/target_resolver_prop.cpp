// T1 over generated hostile targets: encoded dots (%2e), encoded slashes (%2f), backslashes,
// NULs, bad escapes, long segments, and mixes. Seed: RapidCheck prints
// "Using configuration: seed=N"; rerun with RC_PARAMS="seed=N".
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "support/rc_scale.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "httpower/target_resolver.hpp"
#include "support/semantics_reference.hpp"

namespace httpower {
namespace {

const std::vector<std::string>& tokens() {
  static const std::vector<std::string> t = {
      "a", "b", "index.html", "..", ".", "...", "%2e%2e", "%2E%2E", ".%2e", "%2e.", "%2e", "%2f",
      "%2F", "%5c", "%5C", "\\", "%00", "", "%25", "%2541", "%252e%252e", "x%20y", "%zz", "%4",
      "%", "..%2f..", "%2f..%2f", "%c0%ae%c0%ae", "a#b", "%0d%0a", std::string(300, 'n')};
  return t;
}

// Tokens that resolve more often than not: names (many), dots, encoded dots and slashes, and
// escapes that decode to '%'.
const std::vector<std::string>& benign_tokens() {
  static const std::vector<std::string> t = {"a", "b", "c", "d.txt", "e", "f", "g", "h", "..",
                                             ".", "%2e%2e", "%2f", "%25", "%2541", "x%20y", "",
                                             "%C3%A9", "%3F", "%23"};
  return t;
}

rc::Gen<std::string> hostile_target(const std::vector<std::string>& pool = tokens()) {
  return rc::gen::map(
      rc::gen::tuple(rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(pool)),
                     rc::gen::elementOf(std::vector<std::string>{"", "?", "?q=1", "?a=%2e%2e/"}),
                     rc::gen::arbitrary<bool>()),
      [](const std::tuple<std::vector<std::string>, std::string, bool>& t) {
        std::string s;
        for (const std::string& tok : std::get<0>(t)) s += "/" + tok;
        if (s.empty() || std::get<2>(t)) s += "/";
        return s + std::get<1>(t);
      });
}

// The T1 shape of a resolved path.
void check_contained(std::string_view p) {
  // Not inside RC_ASSERT: its expression capture overloads ||, which then evaluates both
  // sides, and p.back() of an empty path reads before the buffer (ASan found this).
  const bool relative = p.empty() || (p.front() != '/' && p.back() != '/');
  RC_ASSERT(relative);
  for (char c : p) RC_ASSERT(!ref::forbidden_byte(static_cast<unsigned char>(c)));
  std::size_t start = 0;
  while (!p.empty() && start <= p.size()) {
    std::size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    const std::string_view seg = p.substr(start, end - start);
    RC_ASSERT(!seg.empty());
    RC_ASSERT(seg != ".");
    RC_ASSERT(seg != "..");
    start = end + 1;
  }
}

void check_against_reference(const std::string& in) {
  std::string buf;
  const ResolvedTarget t = resolve_target(in, buf);
  const auto r = ref::resolve(in);
  RC_CLASSIFY(t.ok());
  RC_ASSERT(t.ok() == r.has_value());
  if (!t.ok()) return;
  check_contained(t.path);
  RC_ASSERT(std::string(t.path) == r->path);  // a normalization of the input, not just safe
  RC_ASSERT(t.trailing_slash == r->trailing_slash);
}

RC_GTEST_PROP(TargetResolverProp, T1_HostileTargetsNeverEscapeAndMatchReference, ()) {
  check_against_reference(*hostile_target());
}

RC_GTEST_PROP(TargetResolverProp, T1_ArbitraryBytesNeverEscape, (const std::string& tail)) {
  check_against_reference("/" + tail);
}

RC_GTEST_PROP(TargetResolverProp, T1_DotDotAboveRootIsAlwaysRejected, ()) {
  // k names then k+1 "..", each possibly encoded: always one level above the root.
  const int k = *rc::gen::inRange(0, 8);
  std::string s;
  for (int i = 0; i < k; ++i) s += "/" + *rc::gen::elementOf(std::vector<std::string>{"a", "b%2fc"});
  const int extra = s.empty() ? 0 : static_cast<int>(std::count(s.begin(), s.end(), '%'));
  for (int i = 0; i < k + extra + 1; ++i) {
    if (s.empty()) {
      s += "/..";
    } else {
      s += *rc::gen::elementOf(std::vector<std::string>{"/..", "/%2e%2e", "/.%2E", "%2f.."});
    }
  }
  std::string buf;
  const ResolvedTarget t = resolve_target(s, buf);
  RC_ASSERT(t.error == TargetError::kAboveRoot);
}

RC_GTEST_PROP(TargetResolverProp, T1_ResolvingIsIdempotent, ()) {
  const std::string in = *hostile_target(benign_tokens());
  std::string buf;
  const ResolvedTarget t = resolve_target(in, buf);
  RC_CLASSIFY(t.ok());
  if (!t.ok()) return;
  std::string again_in = "/";
  for (char c : t.path) {  // re-encode what could be read as syntax again
    if (c == '%' || c == '?' || c == '#' || static_cast<unsigned char>(c) >= 0x7f) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      again_in += '%';
      again_in += kHex[static_cast<unsigned char>(c) >> 4];
      again_in += kHex[static_cast<unsigned char>(c) & 15];
    } else {
      again_in += c;
    }
  }
  std::string buf2;
  const ResolvedTarget again = resolve_target(again_in, buf2);
  RC_ASSERT(again.ok());
  RC_ASSERT(again.path == t.path);
}

// T2: is_hidden_path against the naive reference (ref::hidden: split into segments, then look
// at each), on resolved hostile targets mixed with dot-names, encoded or not.
RC_GTEST_PROP(TargetResolverProp, T2_HiddenMatchesTheNaiveReference, ()) {
  std::vector<std::string> pool = benign_tokens();
  for (const char* t : {".git", ".env", "%2egit", "%2Eenv", ".well-known", "%2ewell-known", "...", ".a.b"}) {
    pool.emplace_back(t);
  }
  const std::string in = *hostile_target(pool);
  std::string buf;
  const ResolvedTarget t = resolve_target(in, buf);
  if (!t.ok()) return;
  const bool hidden = is_hidden_path(t.path);
  RC_CLASSIFY(hidden);
  RC_ASSERT(hidden == ref::hidden(std::string(t.path)));
}

}  // namespace
}  // namespace httpower
