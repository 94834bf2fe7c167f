#pragma once
// MIME types by file extension. The extension is what follows the last '.' of the last
// path segment, compared case-insensitively ("A.HTML" -> text/html); a name with no dot, or
// whose only dot is its first character (".bashrc"), has none.
//
// Three layers, the later ones winning: a built-in table that covers the modern web (always
// there, and the whole answer when no other layer is loaded), a mime.types file in the
// system's format (/etc/mime.types from Debian's media-types, read at start-up), and the
// user's own entries (--mime EXT=TYPE). Textual types (text/*, *+json, *+xml, JavaScript,
// JSON, XML, YAML, shell scripts) carry "; charset=utf-8" unless the entry names its own
// parameters.
//
// A file whose extension no layer knows is "text/plain; charset=utf-8" when its first bytes
// are UTF-8 text without NUL (looks_like_utf8_text; README, Makefile, LICENSE), else
// "application/octet-stream". The server reads those bytes; this unit only judges them.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace httpower {

inline constexpr std::string_view kDefaultMimeType = "application/octet-stream";
inline constexpr std::string_view kTextPlainType = "text/plain; charset=utf-8";
// How many leading bytes of a file of unknown type are judged.
inline constexpr std::size_t kTextSniffBytes = 512;

// Built-in table only. ext without the dot ("html", "JPG"); octet-stream when unknown.
[[nodiscard]] std::string_view mime_type_for_extension(std::string_view ext) noexcept;

// Built-in table only; only the last segment of path is looked at. Octet-stream when unknown.
[[nodiscard]] std::string_view mime_type_for_path(std::string_view path) noexcept;

// The extension of path's last segment (empty when none); see the header comment.
[[nodiscard]] std::string_view path_extension(std::string_view path) noexcept;

// True for the types that get "; charset=utf-8" (compared without parameters).
[[nodiscard]] bool is_textual_type(std::string_view type) noexcept;

// True when bytes (a file's first bytes; `whole` when that is the whole file) are UTF-8
// without NUL or other C0 controls than tab, LF, FF and CR. A sequence cut by the end of a
// prefix that is not the whole file is allowed. The empty file is text.
[[nodiscard]] bool looks_like_utf8_text(std::string_view bytes, bool whole) noexcept;

class MimeTypes {
 public:
  MimeTypes();  // the built-in table

  // Entries from text in mime.types format: "type ext ext ..." per line, '#' starts a
  // comment. A later entry for an extension replaces an earlier one. Words that are not a
  // single extension ("cwl.json", "~") are skipped. Returns the number of lines ignored for
  // a malformed type.
  std::size_t add_mime_types_text(std::string_view text);

  // One entry; false (nothing changed) when ext or type is malformed. A leading '.' of ext
  // is dropped. The charset rule applies when type has no parameters.
  bool add(std::string_view ext, std::string_view type);

  // The Content-Type for path's extension, or an empty view when no layer knows it.
  [[nodiscard]] std::string_view find(std::string_view path) const noexcept;

  // Content-Type for path: find(path), else the text/octet-stream rule with `text` the
  // verdict of looks_like_utf8_text on the file's first bytes.
  [[nodiscard]] std::string_view content_type(std::string_view path, bool text) const noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;  // sorted by lower-case ext
};

// The built-in layer alone (built once, never changed).
[[nodiscard]] const MimeTypes& built_in_mime_types();

// "ext=type" as given to --mime; false when malformed.
[[nodiscard]] bool parse_mime_override(std::string_view arg, std::string& ext, std::string& type);

}  // namespace httpower
