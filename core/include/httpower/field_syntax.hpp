#pragma once
// RFC 9110 field-value helpers shared by the units that read list-valued fields (the parser's
// Transfer-Encoding and Connection, conditionals, ranges, negotiation) and by the server.

#include <cstddef>
#include <string_view>

namespace httpower {

// OWS = *( SP / HTAB )
inline bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

inline std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// ASCII case-insensitive equality (field names, tokens, codings).
inline bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Calls f(element) for each comma-separated element, OWS-trimmed; empty elements are skipped
// (RFC 9110 §5.6.1: recipients accept and ignore them).
template <typename F>
void for_each_element(std::string_view list, F&& f) {
  while (true) {
    const std::size_t comma = list.find(',');
    const std::string_view element = trim_ows(list.substr(0, comma));
    if (!element.empty()) f(element);
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace httpower
