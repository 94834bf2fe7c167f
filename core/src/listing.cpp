#include "httpower/listing.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace httpower {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
char fold(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// -1, 0, 1: the digit runs a[i..) and b[j..) by value, then the shorter (fewer leading zeros)
// first. Advances i and j past the runs.
int compare_numbers(std::string_view a, std::size_t& i, std::string_view b, std::size_t& j) {
  const std::size_t a0 = i, b0 = j;
  while (i < a.size() && is_digit(a[i])) ++i;
  while (j < b.size() && is_digit(b[j])) ++j;
  std::string_view x = a.substr(a0, i - a0), y = b.substr(b0, j - b0);
  const std::size_t xlen = x.size(), ylen = y.size();
  while (x.size() > 1 && x.front() == '0') x.remove_prefix(1);
  while (y.size() > 1 && y.front() == '0') y.remove_prefix(1);
  if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
  if (x != y) return x < y ? -1 : 1;
  if (xlen != ylen) return xlen < ylen ? -1 : 1;
  return 0;
}

}  // namespace

bool natural_less(std::string_view a, std::string_view b) noexcept {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      const int c = compare_numbers(a, i, b, j);
      if (c != 0) return c < 0;
      continue;
    }
    const char x = fold(a[i]), y = fold(b[j]);
    if (x != y) return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
    ++i;
    ++j;
  }
  if ((i < a.size()) != (j < b.size())) return j < b.size();  // a prefix comes first
  return a < b;  // equal but for case or leading zeros: byte-wise, for a total order
}

void sort_listing(std::vector<ListingEntry>& entries) {
  std::sort(entries.begin(), entries.end(), [](const ListingEntry& a, const ListingEntry& b) {
    if (a.dir != b.dir) return a.dir;
    return natural_less(a.name, b.name);
  });
}

std::string human_size(std::uint64_t n) {
  char buf[32];
  if (n < 1024) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
    return buf;
  }
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(n) / 1024;
  std::size_t u = 0;
  // Switch units where the one-decimal figure would read 1024.0.
  while (v >= 1023.95 && u + 1 < std::size(kUnits)) {
    v /= 1024;
    ++u;
  }
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

std::string listing_date(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (gmtime_r(&tt, &tm) == nullptr) return "-";
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

void append_escaped_html(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
}

void append_percent_encoded(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

namespace {

constexpr std::string_view kStyle =
    "<style>body{font:15px/1.5 system-ui,sans-serif;margin:2em auto;max-width:56em;"
    "padding:0 1em;color:#222}h1{font-size:1.3em;word-break:break-all}table{border-collapse:"
    "collapse;width:100%}th,td{text-align:left;padding:.25em .6em;border-bottom:1px solid #eee}"
    "td.s,th.s{text-align:right;white-space:nowrap}td.d{white-space:nowrap;color:#666}"
    "a{color:#0b5cad;text-decoration:none}a:hover{text-decoration:underline}</style>\n";

void append_row(std::string& out, const ListingEntry& e) {
  out += "<tr><td><a href=\"";
  append_percent_encoded(out, e.name);
  if (e.dir) out += '/';
  out += "\">";
  append_escaped_html(out, e.name);
  if (e.dir) out += '/';
  out += "</a></td><td class=\"s\"";
  if (!e.dir) {
    out += " title=\"";
    out += std::to_string(e.size);
    out += " bytes\">";
    out += human_size(e.size);
  } else {
    out += '>';
  }
  out += "</td><td class=\"d\">";
  out += listing_date(e.mtime);
  out += "</td></tr>\n";
}

}  // namespace

std::string render_listing(std::string_view url_path, std::vector<ListingEntry> entries) {
  sort_listing(entries);
  std::string out;
  out.reserve(1024 + entries.size() * 160);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Index of ";
  append_escaped_html(out, url_path);
  out += "</title>\n";
  out += kStyle;
  out += "</head><body>\n<h1>Index of ";
  append_escaped_html(out, url_path);
  out += "</h1>\n<table>\n<tr><th>Name</th><th class=\"s\">Size</th><th>Modified (UTC)</th></tr>\n";
  if (url_path != "/") out += "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n";
  for (const ListingEntry& e : entries) append_row(out, e);
  out += "</table>\n<p><small>HTTPower</small></p>\n</body></html>\n";
  return out;
}

}  // namespace httpower
