#include "httpower/mime.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace httpower {
namespace {

struct MimeEntry {
  std::string_view ext;  // lower case
  std::string_view type;  // without charset: the charset rule adds it
};

// The modern web, plus the everyday files people put next to it. Debian's media-types agrees
// on the common entries; this table is the whole answer where that file is absent.
constexpr std::array kBuiltIn{
    // documents and code the browser runs or shows
    MimeEntry{"html", "text/html"}, MimeEntry{"htm", "text/html"},
    MimeEntry{"xhtml", "application/xhtml+xml"}, MimeEntry{"css", "text/css"},
    MimeEntry{"js", "application/javascript"}, MimeEntry{"mjs", "application/javascript"},
    MimeEntry{"cjs", "application/javascript"}, MimeEntry{"json", "application/json"},
    MimeEntry{"map", "application/json"}, MimeEntry{"jsonld", "application/ld+json"},
    MimeEntry{"webmanifest", "application/manifest+json"}, MimeEntry{"xml", "application/xml"},
    MimeEntry{"rss", "application/rss+xml"}, MimeEntry{"atom", "application/atom+xml"},
    MimeEntry{"txt", "text/plain"}, MimeEntry{"log", "text/plain"},
    MimeEntry{"md", "text/markdown"}, MimeEntry{"markdown", "text/markdown"},
    MimeEntry{"csv", "text/csv"}, MimeEntry{"tsv", "text/tab-separated-values"},
    MimeEntry{"ics", "text/calendar"}, MimeEntry{"vtt", "text/vtt"},
    MimeEntry{"yaml", "application/yaml"}, MimeEntry{"yml", "application/yaml"},
    MimeEntry{"toml", "application/toml"}, MimeEntry{"py", "text/x-python"},
    MimeEntry{"sh", "application/x-sh"}, MimeEntry{"c", "text/x-c"}, MimeEntry{"h", "text/x-c"},
    MimeEntry{"cpp", "text/x-c++"}, MimeEntry{"hpp", "text/x-c++"},
    MimeEntry{"wasm", "application/wasm"}, MimeEntry{"pdf", "application/pdf"},
    // images
    MimeEntry{"svg", "image/svg+xml"}, MimeEntry{"png", "image/png"},
    MimeEntry{"apng", "image/apng"}, MimeEntry{"jpg", "image/jpeg"},
    MimeEntry{"jpeg", "image/jpeg"}, MimeEntry{"gif", "image/gif"},
    MimeEntry{"webp", "image/webp"}, MimeEntry{"avif", "image/avif"},
    MimeEntry{"jxl", "image/jxl"}, MimeEntry{"heic", "image/heic"},
    MimeEntry{"heif", "image/heif"}, MimeEntry{"tif", "image/tiff"},
    MimeEntry{"tiff", "image/tiff"}, MimeEntry{"ico", "image/vnd.microsoft.icon"},
    MimeEntry{"bmp", "image/bmp"},
    // fonts
    MimeEntry{"woff", "font/woff"}, MimeEntry{"woff2", "font/woff2"},
    MimeEntry{"ttf", "font/ttf"}, MimeEntry{"otf", "font/otf"},
    // audio and video
    MimeEntry{"mp3", "audio/mpeg"}, MimeEntry{"m4a", "audio/mp4"}, MimeEntry{"aac", "audio/aac"},
    MimeEntry{"ogg", "audio/ogg"}, MimeEntry{"oga", "audio/ogg"}, MimeEntry{"opus", "audio/opus"},
    MimeEntry{"wav", "audio/wav"}, MimeEntry{"flac", "audio/flac"},
    MimeEntry{"weba", "audio/webm"}, MimeEntry{"mp4", "video/mp4"},
    MimeEntry{"m4v", "video/mp4"}, MimeEntry{"mov", "video/quicktime"},
    MimeEntry{"webm", "video/webm"}, MimeEntry{"ogv", "video/ogg"},
    MimeEntry{"mkv", "video/x-matroska"}, MimeEntry{"m3u8", "application/vnd.apple.mpegurl"},
    // archives and office files
    MimeEntry{"zip", "application/zip"}, MimeEntry{"gz", "application/gzip"},
    MimeEntry{"tgz", "application/gzip"}, MimeEntry{"tar", "application/x-tar"},
    MimeEntry{"bz2", "application/x-bzip2"}, MimeEntry{"xz", "application/x-xz"},
    MimeEntry{"zst", "application/zstd"}, MimeEntry{"7z", "application/x-7z-compressed"},
    MimeEntry{"epub", "application/epub+zip"},
    MimeEntry{"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    MimeEntry{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    MimeEntry{"pptx",
              "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    MimeEntry{"odt", "application/vnd.oasis.opendocument.text"},
};

constexpr std::size_t kMaxExtension = 32;  // longer extensions are never looked up
constexpr std::size_t kMaxType = 255;

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool valid_extension(std::string_view ext) noexcept {
  if (ext.empty() || ext.size() > kMaxExtension) return false;
  return std::all_of(ext.begin(), ext.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '+';
  });
}

bool tchar(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// type "/" subtype, both tokens (RFC 9110 §8.3.1), then optional parameters in visible ASCII.
bool valid_type(std::string_view t) noexcept {
  if (t.empty() || t.size() > kMaxType) return false;
  const std::size_t semi = t.find(';');
  const std::string_view main = t.substr(0, semi);
  const std::size_t slash = main.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == main.size()) return false;
  for (std::size_t i = 0; i < main.size(); ++i) {
    if (i != slash && !tchar(main[i])) return false;
  }
  if (semi == std::string_view::npos) return true;
  return std::all_of(t.begin() + static_cast<std::ptrdiff_t>(semi), t.end(),
                     [](char c) { return c == ' ' || c == '\t' || (c > 0x20 && c < 0x7f); });
}

bool ends_with(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string with_charset(std::string_view type) {
  std::string out;
  out.reserve(type.size() + 15);
  for (char c : type) out += lower(c);
  if (type.find(';') == std::string_view::npos && is_textual_type(out)) out += "; charset=utf-8";
  return out;
}

using Entries = std::vector<std::pair<std::string, std::string>>;

Entries::const_iterator lookup(const Entries& e, std::string_view key) noexcept {
  const auto it = std::lower_bound(e.begin(), e.end(), key,
                                   [](const auto& entry, std::string_view k) { return entry.first < k; });
  return (it != e.end() && it->first == key) ? it : e.end();
}

std::size_t utf8_sequence_length(unsigned char c) noexcept {
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return 2;
  if (c >= 0xe0 && c <= 0xef) return 3;
  if (c >= 0xf0 && c <= 0xf4) return 4;
  return 0;  // a continuation byte, an overlong lead (c0, c1) or beyond U+10FFFF (f5..ff)
}

// The second byte's range for a lead byte (RFC 3629 §4): excludes overlongs, surrogates and
// code points beyond U+10FFFF.
bool valid_second(unsigned char lead, unsigned char b) noexcept {
  switch (lead) {
    case 0xe0: return b >= 0xa0 && b <= 0xbf;
    case 0xed: return b >= 0x80 && b <= 0x9f;
    case 0xf0: return b >= 0x90 && b <= 0xbf;
    case 0xf4: return b >= 0x80 && b <= 0x8f;
    default: return b >= 0x80 && b <= 0xbf;
  }
}

}  // namespace

const MimeTypes& built_in_mime_types() {
  static const MimeTypes table;
  return table;
}

std::string_view path_extension(std::string_view path) noexcept {
  const std::size_t slash = path.rfind('/');
  const std::string_view name = (slash == std::string_view::npos) ? path : path.substr(slash + 1);
  const std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return {};  // none, or ".bashrc"
  return name.substr(dot + 1);
}

bool is_textual_type(std::string_view type) noexcept {
  const std::string_view t = type.substr(0, type.find(';'));
  return t.substr(0, 5) == "text/" || ends_with(t, "+json") || ends_with(t, "+xml") ||
         t == "application/javascript" || t == "application/json" || t == "application/xml" ||
         t == "application/yaml" || t == "application/toml" || t == "application/x-sh";
}

bool looks_like_utf8_text(std::string_view bytes, bool whole) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\f' && c != '\r') return false;
    if (c == 0x7f) return false;
    const std::size_t len = utf8_sequence_length(c);
    if (len == 0) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if (i + k == n) return !whole;  // cut by the end of the prefix
      const unsigned char b = p[i + k];
      if (k == 1 ? !valid_second(c, b) : (b < 0x80 || b > 0xbf)) return false;
    }
    i += len;
  }
  return true;
}

MimeTypes::MimeTypes() {
  entries_.reserve(kBuiltIn.size());
  for (const MimeEntry& e : kBuiltIn) entries_.emplace_back(std::string(e.ext), with_charset(e.type));
  std::sort(entries_.begin(), entries_.end());
}

bool MimeTypes::add(std::string_view ext, std::string_view type) {
  if (!ext.empty() && ext.front() == '.') ext.remove_prefix(1);
  if (!valid_extension(ext) || !valid_type(type)) return false;
  std::string key;
  for (char c : ext) key += lower(c);
  auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                             [](const auto& e, const std::string& k) { return e.first < k; });
  if (it != entries_.end() && it->first == key) {
    it->second = with_charset(type);
  } else {
    entries_.emplace(it, std::move(key), with_charset(type));
  }
  return true;
}

std::size_t MimeTypes::add_mime_types_text(std::string_view text) {
  std::size_t ignored = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    line = line.substr(0, line.find('#'));
    std::vector<std::string_view> words;
    for (std::size_t i = 0; i < line.size();) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      std::size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
      if (j > i) words.push_back(line.substr(i, j - i));
      i = j;
    }
    if (words.size() < 2) continue;  // blank, comment, or a type without extensions
    if (!valid_type(words[0])) {
      ++ignored;
      continue;
    }
    // Names such as "cwl.json" or "~" are not extensions as looked up here: skipped.
    for (std::size_t w = 1; w < words.size(); ++w) (void)add(words[w], words[0]);
  }
  return ignored;
}

std::string_view MimeTypes::find(std::string_view path) const noexcept {
  const std::string_view ext = path_extension(path);
  if (ext.empty() || ext.size() > kMaxExtension) return {};
  std::array<char, kMaxExtension> buf{};
  for (std::size_t i = 0; i < ext.size(); ++i) buf[i] = lower(ext[i]);
  const auto it = lookup(entries_, std::string_view(buf.data(), ext.size()));
  return it == entries_.end() ? std::string_view() : std::string_view(it->second);
}

std::string_view MimeTypes::content_type(std::string_view path, bool text) const noexcept {
  const std::string_view t = find(path);
  if (!t.empty()) return t;
  return text ? kTextPlainType : kDefaultMimeType;
}

std::string_view mime_type_for_extension(std::string_view ext) noexcept {
  if (ext.empty()) return kDefaultMimeType;
  if (ext.size() > kMaxExtension) return kDefaultMimeType;
  std::array<char, kMaxExtension + 2> name{};
  name[0] = 'x';
  name[1] = '.';
  for (std::size_t i = 0; i < ext.size(); ++i) name[i + 2] = ext[i];
  return built_in_mime_types().content_type(std::string_view(name.data(), ext.size() + 2), false);
}

std::string_view mime_type_for_path(std::string_view path) noexcept {
  return built_in_mime_types().content_type(path, false);
}

bool parse_mime_override(std::string_view arg, std::string& ext, std::string& type) {
  const std::size_t eq = arg.find('=');
  if (eq == std::string_view::npos) return false;
  std::string_view e = arg.substr(0, eq);
  if (!e.empty() && e.front() == '.') e.remove_prefix(1);
  if (!valid_extension(e) || !valid_type(arg.substr(eq + 1))) return false;  // as add() checks
  ext = std::string(arg.substr(0, eq));
  type = std::string(arg.substr(eq + 1));
  return true;
}

}  // namespace httpower
