#pragma once
// Directory listings, rendered: pure (no file system, no clock). The server decides which
// entries a listing may show (only what a GET would serve) and collects their facts; this
// unit orders them and writes the HTML.
//
// Order: directories first, then files; within each, by the key the query asks for
// (?sort=name|size|date&order=asc|desc; anything else, or nothing, is name ascending), ties
// by name. Names compare natural and case-insensitive ("adir" < "Bdir" < "cdir", "f2" <
// "f10" < "f100"), ties broken byte-wise so the order is total. The column heads link to
// the other orders (the active column's link reverses it). Sizes in binary units to one decimal ("1.5 KiB"), the exact byte count in the
// cell's title; dates as "YYYY-MM-DD HH:MM" in UTC. Names are HTML-escaped in the text and
// percent-encoded in the links (every byte but RFC 3986's unreserved ones).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace httpower {

struct ListingEntry {
  std::string name;
  bool dir = false;
  std::uint64_t size = 0;   // files only
  std::int64_t mtime = 0;   // Unix seconds
};

// Natural, ASCII case-insensitive order of names: runs of digits compare by value (then by
// length, so "01" sorts after "1"), everything else by folded byte; a byte-wise comparison
// breaks ties.
[[nodiscard]] bool natural_less(std::string_view a, std::string_view b) noexcept;

enum class ListingSort : std::uint8_t { kName, kSize, kDate };
struct ListingOrder {
  ListingSort key = ListingSort::kName;
  bool descending = false;
};

// The order a listing's query asks for: the first "sort=" and "order=" pairs count, values
// exact ("name", "size", "date"; "asc", "desc"); other pairs and values are the default.
[[nodiscard]] ListingOrder parse_listing_query(std::string_view query) noexcept;

// Directories first, then by order.key (ties by natural_less), reversed within each group
// when order.descending.
void sort_listing(std::vector<ListingEntry>& entries, ListingOrder order = {});

// "512 B", "1.5 KiB", "3.0 MiB", "1.2 GiB", "2.0 TiB".
[[nodiscard]] std::string human_size(std::uint64_t bytes);

// "2026-11-29 17:56" (UTC).
[[nodiscard]] std::string listing_date(std::int64_t unix_seconds);

// The whole page for url_path ("/", "/docs/"); entries are sorted here.
[[nodiscard]] std::string render_listing(std::string_view url_path,
                                         std::vector<ListingEntry> entries,
                                         ListingOrder order = {});

void append_escaped_html(std::string& out, std::string_view s);
void append_percent_encoded(std::string& out, std::string_view s);

}  // namespace httpower
