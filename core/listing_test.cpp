// Directory listings: natural order, directories first, sizes and dates for a person,
// escaping. The file-system side (which entries are shown) is tested in server/.
#include "httpower/listing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "httpower/testsupport/scale.hpp"

namespace httpower {
namespace {

std::vector<std::string> sorted_names(std::vector<ListingEntry> e) {
  sort_listing(e);
  std::vector<std::string> out;
  for (const auto& x : e) out.push_back(x.name + (x.dir ? "/" : ""));
  return out;
}

TEST(Listing, DirectoriesFirstThenNaturalCaseInsensitiveOrder) {
  std::vector<ListingEntry> e = {
      {"f100", false, 1, 0}, {"Zdir", true, 0, 0}, {"f10", false, 1, 0}, {"adir", true, 0, 0},
      {"f1", false, 1, 0},   {"F2", false, 1, 0},  {"b.txt", false, 1, 0}, {"A.txt", false, 1, 0},
  };
  EXPECT_EQ(sorted_names(e), (std::vector<std::string>{"adir/", "Zdir/", "A.txt", "b.txt", "f1",
                                                        "F2", "f10", "f100"}));
}

TEST(Listing, NaturalLessEdges) {
  EXPECT_TRUE(natural_less("a", "ab"));        // a prefix first
  EXPECT_TRUE(natural_less("x2y", "x10y"));
  EXPECT_TRUE(natural_less("1", "01"));        // same value: fewer zeros first
  EXPECT_TRUE(natural_less("v1.9", "v1.10"));
  EXPECT_TRUE(natural_less("ABC", "abc"));     // equal but for case: byte-wise tie-break
  EXPECT_FALSE(natural_less("abc", "ABC"));
  EXPECT_FALSE(natural_less("same", "same"));
  EXPECT_TRUE(natural_less("99999999999999999999999", "100000000000000000000000"));  // no overflow
}

// A strict weak order (irreflexive, asymmetric, transitive) over random names made of the
// characters that matter (digits, case, punctuation): std::sort's precondition.
TEST(Listing, NaturalLessIsAStrictTotalOrder) {
  const char* env = std::getenv("HTTPOWER_SEED");
  const unsigned seed = env ? static_cast<unsigned>(std::strtoul(env, nullptr, 10)) : std::random_device{}();
  std::printf("Listing.NaturalLessIsAStrictTotalOrder seed=%u (HTTPOWER_SEED to replay)\n", seed);
  std::mt19937 rng(seed);
  const std::string alphabet = "0019aAbB.-_~z";
  auto name = [&] {
    std::string s(rng() % 6, ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    return s;
  };
  std::vector<std::string> names(static_cast<std::size_t>(testsupport::scaled(200)));
  for (auto& n : names) n = name();
  for (const auto& a : names) {
    EXPECT_FALSE(natural_less(a, a)) << a << " seed=" << seed;
    for (const auto& b : names) {
      if (a != b) {
        EXPECT_NE(natural_less(a, b), natural_less(b, a)) << a << " " << b << " seed=" << seed;
      }
    }
  }
  std::sort(names.begin(), names.end(), natural_less);
  for (std::size_t i = 0; i + 1 < names.size(); ++i) {
    for (std::size_t j = i + 1; j < names.size(); ++j) {
      EXPECT_FALSE(natural_less(names[j], names[i])) << names[i] << " " << names[j] << " seed=" << seed;
    }
  }
}

TEST(Listing, HumanSizes) {
  EXPECT_EQ(human_size(0), "0 B");
  EXPECT_EQ(human_size(1023), "1023 B");
  EXPECT_EQ(human_size(1024), "1.0 KiB");
  EXPECT_EQ(human_size(1536), "1.5 KiB");
  EXPECT_EQ(human_size(1024 * 1024 - 1), "1.0 MiB");  // never "1024.0 KiB"
  EXPECT_EQ(human_size(3ull << 30), "3.0 GiB");
  EXPECT_EQ(human_size(2ull << 40), "2.0 TiB");
  EXPECT_EQ(human_size(~0ull), "16.0 EiB");
}

TEST(Listing, DatesReadAtAGlance) {
  EXPECT_EQ(listing_date(0), "1970-01-01 00:00");
  EXPECT_EQ(listing_date(1'795'967'760), "2026-11-29 15:56");
}

TEST(Listing, PageEscapesNamesAndShowsExactBytesOnHover) {
  const std::string page = render_listing(
      "/a&b/", {{"x<y>\"z'.txt", false, 1536, 0}, {"sp ace", true, 0, 0}});
  EXPECT_NE(page.find("<title>Index of /a&amp;b/</title>"), std::string::npos);
  EXPECT_NE(page.find("href=\"x%3Cy%3E%22z%27.txt\">x&lt;y&gt;&quot;z&#39;.txt</a>"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("title=\"1536 bytes\">1.5 KiB</td>"), std::string::npos) << page;
  EXPECT_NE(page.find("href=\"sp%20ace/\">sp ace/</a>"), std::string::npos);
  EXPECT_LT(page.find("sp%20ace/"), page.find("x%3Cy"));  // directories first
  EXPECT_NE(page.find("href=\"../\""), std::string::npos);
  EXPECT_EQ(render_listing("/", {}).find("href=\"../\""), std::string::npos) << "no parent at /";
}

std::vector<std::string> ordered(std::string_view query) {
  std::vector<ListingEntry> e = {
      {"b.txt", false, 300, 20}, {"a.txt", false, 100, 30}, {"C.txt", false, 200, 10},
      {"zdir", true, 0, 5},      {"adir", true, 0, 50},
  };
  sort_listing(e, parse_listing_query(query));
  std::vector<std::string> out;
  for (const auto& x : e) out.push_back(x.name);
  return out;
}

// ?sort= and &order= choose the key and direction; directories stay first; anything the
// listing does not know is the default (name, ascending).
TEST(Listing, QuerySortsByNameSizeOrDate) {
  using V = std::vector<std::string>;
  EXPECT_EQ(ordered(""), (V{"adir", "zdir", "a.txt", "b.txt", "C.txt"}));
  EXPECT_EQ(ordered("sort=name&order=desc"), (V{"zdir", "adir", "C.txt", "b.txt", "a.txt"}));
  EXPECT_EQ(ordered("sort=size"), (V{"adir", "zdir", "a.txt", "C.txt", "b.txt"}));
  EXPECT_EQ(ordered("order=desc&sort=size"), (V{"zdir", "adir", "b.txt", "C.txt", "a.txt"}));
  EXPECT_EQ(ordered("sort=date"), (V{"zdir", "adir", "C.txt", "b.txt", "a.txt"}));
  EXPECT_EQ(ordered("x=1&sort=date&order=desc"), (V{"adir", "zdir", "a.txt", "b.txt", "C.txt"}));
  for (std::string_view bad : {"sort=SIZE", "sort=", "sort=size;order=desc", "sort=bogus&order=up",
                               "sort", "%73ort=size"}) {
    EXPECT_EQ(ordered(bad), ordered("")) << bad;
  }
  EXPECT_EQ(ordered("sort=size&sort=date"), ordered("sort=size")) << "the first pair counts";
}

TEST(Listing, ColumnHeadsLinkToTheOtherOrders) {
  const std::string page = render_listing("/d/", {{"f", false, 1, 0}});
  EXPECT_NE(page.find("<a href=\"?sort=name&amp;order=desc\">Name &uarr;</a>"), std::string::npos)
      << page;
  EXPECT_NE(page.find("<a href=\"?sort=size&amp;order=asc\">Size</a>"), std::string::npos);
  EXPECT_NE(page.find("<a href=\"?sort=date&amp;order=asc\">Modified (UTC)</a>"), std::string::npos);
  const std::string by_size = render_listing("/d/", {}, parse_listing_query("sort=size&order=desc"));
  EXPECT_NE(by_size.find("<a href=\"?sort=size&amp;order=asc\">Size &darr;</a>"), std::string::npos)
      << by_size;
  EXPECT_NE(by_size.find("<a href=\"?sort=name&amp;order=asc\">Name</a>"), std::string::npos);
}

}  // namespace
}  // namespace httpower
