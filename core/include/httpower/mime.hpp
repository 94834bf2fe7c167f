#pragma once
// MIME types by file extension. The extension is what follows the last '.' of the last
// path segment, compared case-insensitively ("A.HTML" -> text/html). Textual types
// (text/*, application/javascript, application/json, application/xml, image/svg+xml,
// application/manifest+json) carry "; charset=utf-8". Unknown, missing or empty
// extension (and dotfiles such as ".bashrc") -> "application/octet-stream".
// The returned views are static strings.

#include <string_view>

namespace httpower {

inline constexpr std::string_view kDefaultMimeType = "application/octet-stream";

// ext without the dot ("html", "JPG").
[[nodiscard]] std::string_view mime_type_for_extension(std::string_view ext) noexcept;

// A relative or absolute path; only its last segment is looked at.
[[nodiscard]] std::string_view mime_type_for_path(std::string_view path) noexcept;

}  // namespace httpower
