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

ListingOrder parse_listing_query(std::string_view query) noexcept {
  ListingOrder o;
  bool have_sort = false, have_order = false;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.starts_with("sort=") && !have_sort) {
      have_sort = true;
      const std::string_view v = pair.substr(5);
      if (v == "size") o.key = ListingSort::kSize;
      if (v == "date") o.key = ListingSort::kDate;
    } else if (pair.starts_with("order=") && !have_order) {
      have_order = true;
      o.descending = pair.substr(6) == "desc";
    }
  }
  return o;
}

void sort_listing(std::vector<ListingEntry>& entries, ListingOrder order) {
  const auto key_less = [order](const ListingEntry& a, const ListingEntry& b) {
    switch (order.key) {
      case ListingSort::kSize:
        if (a.size != b.size) return a.size < b.size;
        break;
      case ListingSort::kDate:
        if (a.mtime != b.mtime) return a.mtime < b.mtime;
        break;
      case ListingSort::kName: break;
    }
    return natural_less(a.name, b.name);
  };
  std::sort(entries.begin(), entries.end(), [&](const ListingEntry& a, const ListingEntry& b) {
    if (a.dir != b.dir) return a.dir;
    return order.descending ? key_less(b, a) : key_less(a, b);
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

// The demo site's look (www/style.css): its palette, type and card.
constexpr std::string_view kStyle =
    "<style>body{margin:0;font:16px/1.6 system-ui,-apple-system,\"Segoe UI\",sans-serif;"
    "color:#1d2430;background:#fbfaf7}main{max-width:52rem;margin:0 auto;padding:2rem 1.25rem}"
    "h1{font-size:1.5rem;letter-spacing:-0.01em;word-break:break-all}"
    "section{background:#fff;border:1px solid #ece8e1;border-radius:10px;padding:.75rem 1rem}"
    "table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3em .6em;"
    "border-bottom:1px solid #f1ede6}tr:last-child td{border-bottom:0}th{font-weight:600}"
    "td.s,th.s{text-align:right;white-space:nowrap}td.d{white-space:nowrap;color:#5a6472}"
    "a{color:#d9480f;text-decoration:none}a:hover{text-decoration:underline}"
    "th a{color:inherit}footer{color:#5a6472;text-align:center;padding:1rem}</style>\n";

// A column head: a link to this column's order, ascending, or the reverse of the current
// one when the listing is sorted by it (with an arrow for the current direction).
void append_column_head(std::string& out, std::string_view label, std::string_view key,
                        bool active, ListingOrder order, std::string_view cls) {
  out += "<th";
  out += cls;
  out += "><a href=\"?sort=";
  out += key;
  out += "&amp;order=";
  out += active && !order.descending ? "desc" : "asc";
  out += "\">";
  out += label;
  if (active) out += order.descending ? " &darr;" : " &uarr;";
  out += "</a></th>";
}

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

std::string render_listing(std::string_view url_path, std::vector<ListingEntry> entries,
                           ListingOrder order) {
  sort_listing(entries, order);
  std::string out;
  out.reserve(1024 + entries.size() * 160);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Index of ";
  append_escaped_html(out, url_path);
  out += "</title>\n";
  out += kStyle;
  out += "</head><body><main>\n<h1>Index of ";
  append_escaped_html(out, url_path);
  out += "</h1>\n<section><table>\n<tr>";
  append_column_head(out, "Name", "name", order.key == ListingSort::kName, order, "");
  append_column_head(out, "Size", "size", order.key == ListingSort::kSize, order, " class=\"s\"");
  append_column_head(out, "Modified (UTC)", "date", order.key == ListingSort::kDate, order, "");
  out += "</tr>\n";
  if (url_path != "/") out += "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n";
  for (const ListingEntry& e : entries) append_row(out, e);
  out += "</table></section>\n</main><footer>HTTPower</footer>\n</body></html>\n";
  return out;
}

}  // namespace httpower
