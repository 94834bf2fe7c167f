#include "httpower/mime.hpp"

#include <array>
#include <cstddef>

namespace httpower {
namespace {

struct MimeEntry {
  std::string_view ext;  // lower case
  std::string_view type;
};

constexpr std::array kMimeTable{
    MimeEntry{"html", "text/html; charset=utf-8"},
    MimeEntry{"htm", "text/html; charset=utf-8"},
    MimeEntry{"css", "text/css; charset=utf-8"},
    MimeEntry{"js", "application/javascript; charset=utf-8"},
    MimeEntry{"mjs", "application/javascript; charset=utf-8"},
    MimeEntry{"json", "application/json; charset=utf-8"},
    MimeEntry{"map", "application/json; charset=utf-8"},
    MimeEntry{"webmanifest", "application/manifest+json; charset=utf-8"},
    MimeEntry{"xml", "application/xml; charset=utf-8"},
    MimeEntry{"txt", "text/plain; charset=utf-8"},
    MimeEntry{"md", "text/markdown; charset=utf-8"},
    MimeEntry{"csv", "text/csv; charset=utf-8"},
    MimeEntry{"svg", "image/svg+xml; charset=utf-8"},
    MimeEntry{"png", "image/png"},
    MimeEntry{"jpg", "image/jpeg"},
    MimeEntry{"jpeg", "image/jpeg"},
    MimeEntry{"gif", "image/gif"},
    MimeEntry{"webp", "image/webp"},
    MimeEntry{"avif", "image/avif"},
    MimeEntry{"ico", "image/vnd.microsoft.icon"},
    MimeEntry{"bmp", "image/bmp"},
    MimeEntry{"woff", "font/woff"},
    MimeEntry{"woff2", "font/woff2"},
    MimeEntry{"ttf", "font/ttf"},
    MimeEntry{"otf", "font/otf"},
    MimeEntry{"wasm", "application/wasm"},
    MimeEntry{"pdf", "application/pdf"},
    MimeEntry{"mp3", "audio/mpeg"},
    MimeEntry{"ogg", "audio/ogg"},
    MimeEntry{"oga", "audio/ogg"},
    MimeEntry{"wav", "audio/wav"},
    MimeEntry{"flac", "audio/flac"},
    MimeEntry{"mp4", "video/mp4"},
    MimeEntry{"webm", "video/webm"},
    MimeEntry{"ogv", "video/ogg"},
    MimeEntry{"zip", "application/zip"},
    MimeEntry{"gz", "application/gzip"},
    MimeEntry{"tar", "application/x-tar"},
};

constexpr std::size_t kMaxExtension = 16;  // longer than any entry: not in the table

}  // namespace

std::string_view mime_type_for_extension(std::string_view ext) noexcept {
  if (ext.empty() || ext.size() > kMaxExtension) return kDefaultMimeType;
  std::array<char, kMaxExtension> lower{};
  for (std::size_t i = 0; i < ext.size(); ++i) {
    const char c = ext[i];
    lower[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  const std::string_view key(lower.data(), ext.size());
  for (const MimeEntry& e : kMimeTable) {
    if (e.ext == key) return e.type;
  }
  return kDefaultMimeType;
}

std::string_view mime_type_for_path(std::string_view path) noexcept {
  const std::size_t slash = path.rfind('/');
  const std::string_view name = (slash == std::string_view::npos) ? path : path.substr(slash + 1);
  const std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return kDefaultMimeType;  // none, or ".bashrc"
  return mime_type_for_extension(name.substr(dot + 1));
}

}  // namespace httpower
