// MIME types by extension; charset on textual types; octet-stream fallback.
#include "httpower/mime.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>

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

// What a person puts next to a web site: each of these was octet-stream once.
TEST(Mime, BuiltInCoversTheModernWeb) {
  const std::pair<const char*, const char*> cases[] = {
      {"s.vtt", "text/vtt; charset=utf-8"},
      {"a.m4a", "audio/mp4"},
      {"v.mov", "video/quicktime"},
      {"l.m3u8", "application/vnd.apple.mpegurl"},
      {"p.tiff", "image/tiff"},
      {"p.apng", "image/apng"},
      {"p.jxl", "image/jxl"},
      {"p.heic", "image/heic"},
      {"a.opus", "audio/opus"},
      {"f.rss", "application/rss+xml; charset=utf-8"},
      {"f.atom", "application/atom+xml; charset=utf-8"},
      {"c.ics", "text/calendar; charset=utf-8"},
      {"c.yaml", "application/yaml; charset=utf-8"},
      {"s.py", "text/x-python; charset=utf-8"},
      {"s.sh", "application/x-sh; charset=utf-8"},
      {"d.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {"a.7z", "application/x-7z-compressed"},
  };
  for (const auto& [path, type] : cases) EXPECT_EQ(mime_type_for_path(path), type) << path;
}

TEST(Mime, PathExtensionIsAfterTheLastDotOfTheLastSegment) {
  EXPECT_EQ(path_extension("a/b.c/d.tar.gz"), "gz");
  EXPECT_EQ(path_extension("a.b/README"), "");
  EXPECT_EQ(path_extension(".bashrc"), "");
  EXPECT_EQ(path_extension("x."), "");
}

struct Sniff {
  std::string_view bytes;
  bool whole;
  bool text;
};

TEST(Mime, Utf8TextSniffing) {
  using namespace std::string_view_literals;
  const Sniff cases[] = {
      {"", true, true},
      {"all: build\n\tcc -o x x.c\r\n\f"sv, true, true},
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"sv, true, true},  // 2, 3, 4 bytes
      {"ab\xe2\x82"sv, false, true},                                   // cut by the prefix
      {"ab\xe2\x82"sv, true, false},                                   // cut by the file's end
      {"a\0b"sv, true, false},                                          // NUL
      {"a\x1b[0m"sv, true, false},                                      // ESC
      {"a\x7f"sv, true, false},                                         // DEL
      {"\xc0\x80"sv, true, false},                                     // overlong NUL
      {"\xe0\x80\xaf"sv, true, false},                                // overlong '/'
      {"\xed\xa0\x80"sv, true, false},                                // surrogate
      {"\xf4\x90\x80\x80"sv, true, false},                           // beyond U+10FFFF
      {"\xf5\x80\x80\x80"sv, true, false},
      {"\x80" "abc"sv, true, false},                                       // lone continuation
      {"\xc3("sv, true, false},                                         // bad continuation
      {"\x89PNG\r\n\x1a\n"sv, false, false},
  };
  for (const Sniff& c : cases) {
    EXPECT_EQ(looks_like_utf8_text(c.bytes, c.whole), c.text)
        << testing::PrintToString(std::string(c.bytes)) << " whole=" << c.whole;
  }
}

TEST(MimeTypes, LayersWinInOrderBuiltInThenFileThenUser) {
  MimeTypes m;
  EXPECT_EQ(m.find("a.js"), "application/javascript; charset=utf-8");
  EXPECT_EQ(m.find("Makefile"), "");
  const std::size_t ignored = m.add_mime_types_text(
      "# comment line\n"
      "text/javascript\t\tjs mjs   # trailing comment\n"
      "\n"
      "application/x-only-type\n"
      "video/mp2t ts\r\n"
      "bad type here\n"
      "application/x-thing thing bad/ext\n");
  EXPECT_EQ(ignored, 1u);  // "bad type here"
  EXPECT_EQ(m.find("a.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(m.find("a.MJS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(m.find("v.ts"), "video/mp2t");
  EXPECT_EQ(m.find("x.thing"), "application/x-thing");  // "bad/ext" alone is skipped
  EXPECT_TRUE(m.add(".ts", "application/typescript; charset=utf-8"));
  EXPECT_EQ(m.find("v.ts"), "application/typescript; charset=utf-8");
  EXPECT_TRUE(m.add("README", "text/plain"));  // an extension, not a name: x.README
  EXPECT_EQ(m.find("x.readme"), "text/plain; charset=utf-8");
  EXPECT_EQ(m.find("README"), "");
}

TEST(MimeTypes, ContentTypeFallsBackToTextOrOctetStream) {
  const MimeTypes& m = built_in_mime_types();
  EXPECT_EQ(m.content_type("Makefile", true), "text/plain; charset=utf-8");
  EXPECT_EQ(m.content_type("Makefile", false), "application/octet-stream");
  EXPECT_EQ(m.content_type("x.png", true), "image/png");  // a known type is never sniffed
}

TEST(MimeTypes, SystemFileParsesWhenPresent) {
  std::ifstream in("/etc/mime.types");
  if (!in) GTEST_SKIP() << "no /etc/mime.types on this machine";
  std::stringstream text;
  text << in.rdbuf();
  MimeTypes m;
  EXPECT_EQ(m.add_mime_types_text(text.str()), 0u);
  EXPECT_GT(m.size(), built_in_mime_types().size());
  EXPECT_NE(m.find("index.html").find("text/html"), std::string_view::npos);
}

// Extensions are looked up only up to 32 bytes: a longer or empty one is never a key, so a
// path with one gets the fallback, and add() refuses it.
TEST(MimeTypes, EmptyAndOverlongExtensionsAreNeverKeys) {
  const std::string ext32(32, 'e'), ext33(33, 'e');
  EXPECT_EQ(mime_type_for_extension(""), kDefaultMimeType);
  EXPECT_EQ(mime_type_for_extension(ext33), kDefaultMimeType);
  MimeTypes m;
  EXPECT_TRUE(m.add(ext32, "application/x-long"));
  EXPECT_EQ(m.find("a." + ext32), "application/x-long");
  EXPECT_EQ(mime_type_for_extension(ext32), kDefaultMimeType);  // the built-in table only
  EXPECT_FALSE(m.add(ext33, "application/x-long"));
  EXPECT_FALSE(m.add("", "application/x-long"));
  EXPECT_FALSE(m.add(".", "application/x-long"));
  EXPECT_FALSE(m.add("ok", ""));
  EXPECT_EQ(m.find("a." + ext33), "");
  EXPECT_EQ(m.find("a."), "");
  // The extension alphabet, at each edge of its ranges: letters, digits, "-", "_", "+".
  for (const char* ok : {"a", "z", "A", "Z", "0", "9", "-", "_", "+"}) {
    EXPECT_TRUE(m.add(ok, "application/x-edge")) << ok;
  }
  for (const char* bad : {"`", "{", "@", "[", "/", ":", ".x", " ", "\x80"}) {
    EXPECT_FALSE(m.add(std::string("e") + bad, "application/x-edge")) << bad;
  }
}

TEST(MimeTypes, OverrideSyntax) {
  std::string ext, type;
  EXPECT_TRUE(parse_mime_override("vtt=text/vtt", ext, type));
  EXPECT_EQ(ext, "vtt");
  EXPECT_EQ(type, "text/vtt");
  EXPECT_TRUE(parse_mime_override(".glb=model/gltf-binary", ext, type));
  EXPECT_TRUE(parse_mime_override("txt=text/plain; charset=iso-8859-1", ext, type));
  for (const char* bad : {"vtt", "=text/vtt", "vtt=", "vtt=text", "vtt=/plain", "vtt=text/",
                          "v t=text/plain", "vtt=te xt/plain", "vtt=text/plain\r\nX: y",
                          "a/b=text/plain", "vtt=text/plain;\x01"}) {
    EXPECT_FALSE(parse_mime_override(bad, ext, type)) << bad;
  }
}

}  // namespace
}  // namespace httpower
