// MIME types by extension; charset on textual types; octet-stream fallback.
#include "httpower/mime.hpp"

#include <gtest/gtest.h>

namespace httpower {
namespace {

struct Case {
  const char* path;
  const char* type;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.path; }
class MimeTable : public testing::TestWithParam<Case> {};
TEST_P(MimeTable, MapsExtension) {
  EXPECT_EQ(mime_type_for_path(GetParam().path), GetParam().type) << GetParam().path;
}
INSTANTIATE_TEST_SUITE_P(
    Table, MimeTable,
    testing::Values(
        Case{"index.html", "text/html; charset=utf-8"}, Case{"a/b.htm", "text/html; charset=utf-8"},
        Case{"INDEX.HTML", "text/html; charset=utf-8"}, Case{"s.CsS", "text/css; charset=utf-8"},
        Case{"app.js", "application/javascript; charset=utf-8"},
        Case{"m.mjs", "application/javascript; charset=utf-8"},
        Case{"d.json", "application/json; charset=utf-8"},
        Case{"app.js.map", "application/json; charset=utf-8"},
        Case{"i.svg", "image/svg+xml; charset=utf-8"}, Case{"p.png", "image/png"},
        Case{"p.jpg", "image/jpeg"}, Case{"p.JPEG", "image/jpeg"}, Case{"p.gif", "image/gif"},
        Case{"p.webp", "image/webp"}, Case{"p.avif", "image/avif"},
        Case{"favicon.ico", "image/vnd.microsoft.icon"}, Case{"f.woff", "font/woff"},
        Case{"f.woff2", "font/woff2"}, Case{"f.ttf", "font/ttf"}, Case{"f.otf", "font/otf"},
        Case{"m.wasm", "application/wasm"}, Case{"r.txt", "text/plain; charset=utf-8"},
        Case{"README.md", "text/markdown; charset=utf-8"},
        Case{"f.xml", "application/xml; charset=utf-8"}, Case{"d.pdf", "application/pdf"},
        Case{"s.mp3", "audio/mpeg"}, Case{"v.mp4", "video/mp4"}, Case{"v.webm", "video/webm"},
        Case{"a.ogg", "audio/ogg"}, Case{"a.wav", "audio/wav"}, Case{"z.zip", "application/zip"},
        Case{"x.tar.gz", "application/gzip"}, Case{"x.tar", "application/x-tar"},
        Case{"t.csv", "text/csv; charset=utf-8"},
        // fallbacks
        Case{"Makefile", "application/octet-stream"}, Case{".bashrc", "application/octet-stream"},
        Case{"a/.htaccess", "application/octet-stream"}, Case{"x.", "application/octet-stream"},
        Case{"x.unknownext", "application/octet-stream"}, Case{"", "application/octet-stream"},
        Case{"dir.html/file", "application/octet-stream"},
        Case{"x.averyveryverylongextension", "application/octet-stream"}));

TEST(Mime, TextualTypesCarryCharsetOthersDoNot) {
  for (const char* e : {"html", "css", "js", "json", "svg", "xml", "txt", "md", "csv"}) {
    EXPECT_NE(mime_type_for_extension(e).find("; charset=utf-8"), std::string_view::npos) << e;
  }
  for (const char* e : {"png", "woff2", "wasm", "pdf", "mp4", "zip", "gz"}) {
    EXPECT_EQ(mime_type_for_extension(e).find("charset"), std::string_view::npos) << e;
  }
}

}  // namespace
}  // namespace httpower
