#pragma once
// A naive reference for the target resolver (T1 properties; `hidden` for T2): decode once into a new string,
// check bytes, split on '/', apply dot-segments with a std::vector stack. Deliberately a
// different shape from core/src/target_resolver.cpp (which works in place), so a property that
// compares the two checks the normalization, not the code against itself.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace httpower::ref {

struct Resolved {
  std::string path;
  bool trailing_slash = false;
};

inline int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline bool forbidden_byte(unsigned char c) { return c < 0x20 || c == 0x7f || c == '\\'; }

inline std::optional<Resolved> resolve(std::string_view in) {
  const std::size_t q = in.find('?');
  const std::string_view raw = in.substr(0, q);
  if (q != std::string_view::npos) {
    for (char c : in.substr(q + 1)) {
      if (c == '#' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
    }
  }
  if (raw.empty() || raw[0] != '/') return std::nullopt;
  std::string dec;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '#') return std::nullopt;
    if (raw[i] != '%') {
      dec += raw[i];
      continue;
    }
    if (raw.size() - i < 3) return std::nullopt;
    const int h = hexval(raw[i + 1]), l = hexval(raw[i + 2]);
    if (h < 0 || l < 0) return std::nullopt;
    dec += static_cast<char>(h * 16 + l);
    i += 2;
  }
  for (char c : dec) {
    if (forbidden_byte(static_cast<unsigned char>(c))) return std::nullopt;
  }
  std::vector<std::string> stack;
  Resolved r;
  std::size_t start = 1;
  while (true) {
    const std::size_t end = dec.find('/', start);
    const bool last = end == std::string::npos;
    const std::string seg = dec.substr(start, last ? std::string::npos : end - start);
    if (seg.empty() || seg == ".") {
      r.trailing_slash = last;
    } else if (seg == "..") {
      if (stack.empty()) return std::nullopt;
      stack.pop_back();
      r.trailing_slash = last;
    } else {
      stack.push_back(seg);
      r.trailing_slash = false;
    }
    if (last) break;
    start = end + 1;
  }
  for (std::size_t i = 0; i < stack.size(); ++i) {
    if (i) r.path += '/';
    r.path += stack[i];
  }
  return r;
}

// T2, naively: split into segments, then look at each; a first segment ".well-known" is public.
inline bool hidden(const std::string& path) {
  std::vector<std::string> segments(1);
  for (char c : path) {
    if (c == '/') {
      segments.emplace_back();
    } else {
      segments.back() += c;
    }
  }
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i == 0 && segments[i] == ".well-known") continue;
    if (!segments[i].empty() && segments[i][0] == '.') return true;
  }
  return false;
}

}  // namespace httpower::ref
