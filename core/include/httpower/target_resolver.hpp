#pragma once
// Target resolver: the request-target's path (origin-form, as RequestHead::path carries it)
// -> a normalized path RELATIVE to the document root, or a rejection (always 400).
//
// Contract
// --------
//   resolve_target(path, buffer)
//     1. splits off the query at the first '?' (query: the bytes after it, not decoded);
//     2. requires the path part to start with '/' ("*" is reported as kAsterisk, anything
//        else as kNotOriginForm);
//     3. percent-decodes the path part ONCE into `buffer` ("%2541" becomes the 3 bytes
//        "%41", never "A"); rejects: a malformed escape ("%zz", "%4", "%" at the end),
//        %00, a backslash (raw or decoded), a control byte (0x00-0x1F, 0x7F; raw or
//        decoded), a '#' (no fragment in a request-target); the query is not decoded
//        but a control byte or '#' in it is rejected too (the 301 echoes it);
//     4. splits the DECODED path on '/' (so "%2F" separates segments like '/': no file name
//        can contain '/', and "..%2F.." is two dot-segments, not a name), drops empty
//        segments and "." segments, and lets ".." remove the previous segment
//        (RFC 3986 §5.2.4). A ".." with nothing left to remove would climb above the root:
//        that is rejected (kAboveRoot -> 400), never clamped, so "/../etc/passwd" is not
//        silently served as "/etc/passwd".
//   The result path has no leading '/', no empty segment, no "." or ".." segment, no NUL,
//   no backslash and no control byte; "" is the root. trailing_slash is true when the
//   decoded path ends with '/' or its last segment was "." or ".." (RFC 3986 §5.2.4 keeps
//   the slash there), so "/" and "/a/.." have it. The server redirects a directory named
//   without it (301) and looks up index.html in a directory named with it.
//
//   T1: a resolved path never escapes the root: it is a '/'-joined list of segments, each
//   neither "." nor "..", so every prefix names something at or below the root. Symlinks are
//   outside what a string can decide: the server opens with openat2(RESOLVE_BENEATH).
//
// Memory: `buffer` is cleared and reused; nothing is allocated when its capacity is at least
// path.size() (the decoded path is never longer than the encoded one). The views in the
// result point into `buffer` (path) and into the input (raw_path, query): they live as long
// as both do, and buffer must not be modified meanwhile.

#include <cstdint>
#include <string>
#include <string_view>

namespace httpower {

enum class TargetError : std::uint8_t {
  kNone,
  kAsterisk,        // "*" (asterisk-form): only meaningful for OPTIONS
  kNotOriginForm,   // empty, or does not start with '/'
  kBadEscape,       // '%' not followed by two hex digits
  kNul,             // %00
  kBackslash,       // '\' raw or %5C: Windows separator, never a file name here
  kControl,         // a control byte, raw or decoded
  kFragment,        // '#'
  kAboveRoot,       // ".." with nothing left to remove
};

std::string_view to_string(TargetError e) noexcept;

struct ResolvedTarget {
  TargetError error = TargetError::kNone;
  std::string_view path;      // normalized relative path (view into the buffer); "" = root
  std::string_view raw_path;  // the path part as sent (still encoded, before '?')
  std::string_view query;     // after the first '?', as sent; empty if none
  bool has_query = false;     // a '?' was present (possibly with an empty query)
  bool trailing_slash = false;

  [[nodiscard]] bool ok() const noexcept { return error == TargetError::kNone; }
};

// Every rejection is a client error.
inline constexpr int kTargetRejectStatus = 400;

[[nodiscard]] ResolvedTarget resolve_target(std::string_view origin_path, std::string& buffer);

// For a directory named with a trailing slash: the same target with `index_name` appended
// as one more segment ("a/b" -> "a/b/index.html", "" -> "index.html"), trailing_slash false.
// Precondition: t.ok(), t.path is the view resolve_target put into this same `buffer`, and
// index_name is one plain segment (no '/', not "." or "..").
[[nodiscard]] ResolvedTarget with_index_file(const ResolvedTarget& t, std::string& buffer,
                                             std::string_view index_name = "index.html");

// True when a segment of the resolved path `path` (resolve_target's output: no "." or ".."
// segments) begins with '.': a dotfile or dot-folder such as .git, .env or .htpasswd. The
// first segment ".well-known" (RFC 8615: public by definition) is the one exception; a
// dot-name below it is hidden again. The server answers hidden paths 404 unless --dotfiles.
[[nodiscard]] bool is_hidden_path(std::string_view path) noexcept;

}  // namespace httpower
