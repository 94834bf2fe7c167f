#pragma once
// Content negotiation and the response fields an operator adds: pure functions, no I/O.
//
// Accept-Encoding (RFC 9110 §12.5.3), for --precompressed
//   Syntax: #( ( content-coding / "identity" / "*" ) [ OWS ";" OWS "q=" qvalue ] ), names and
//   "q" case-insensitive, empty list elements allowed, qvalue "0" ["." 0*3DIGIT] or "1" ["."
//   0*3"0"]. Decisions:
//   - Field absent: identity only. RFC 9110 lets a server pick any coding then, but a client
//     that sent nothing (curl without --compressed, scripts) must get the bytes of the file.
//   - Field empty, or not matching the syntax above anywhere: identity only (an invalid
//     field says nothing reliable; never a 406 for it).
//   - A coding's weight is its own entry's q, else the q of "*", else 0; "x-gzip" is gzip
//     (§8.4.1.3). identity's weight is its entry's, else that of "*", else the lowest above
//     0 (0.001): acceptable (§12.5.3) but never preferred to a coding the client names, so
//     "br;q=0.5" still asks for br. When a coding is listed twice, its first entry counts.
//   - choose_coding picks, among the codings available, the highest weight above 0, ties in
//     the order br, zstd, gzip; identity wins only with a strictly higher weight than every
//     available coding. When nothing is acceptable (identity;q=0 and no variant) the answer
//     is identity all the same (§12.5.3 allows it; a 406 would break clients for no gain).
//
// Accept (RFC 9110 §12.5.1), for --spa: accepts_html() is true when text/html is acceptable:
//   the weight of the most specific of text/html, text/*, */* listed is above 0. Absent or
//   invalid: true (as if "*/*"); media-type parameters other than q are ignored.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace httpower {

enum class Coding : std::uint8_t { kIdentity, kBrotli, kZstd, kGzip };
inline constexpr std::size_t kCodingCount = 4;
inline constexpr std::uint16_t kUnlistedIdentity = 1;  // identity's weight when not listed
// Preference for equal weights, best first.
inline constexpr std::array<Coding, 3> kCodingPreference = {Coding::kBrotli, Coding::kZstd,
                                                            Coding::kGzip};

// "identity", "br", "zstd", "gzip".
[[nodiscard]] std::string_view coding_name(Coding c) noexcept;
// The file name suffix of a precompressed variant: "", ".br", ".zst", ".gz".
[[nodiscard]] std::string_view coding_suffix(Coding c) noexcept;

struct AcceptEncoding {
  // Weight of each coding in thousandths (0..1000), indexed by Coding.
  std::array<std::uint16_t, kCodingCount> q{1000, 0, 0, 0};
  bool valid = false;  // the field was present and well formed
  [[nodiscard]] std::uint16_t weight(Coding c) const noexcept {
    return q[static_cast<std::size_t>(c)];
  }
};

// `present`: the request had the field (several fields joined with ", ").
[[nodiscard]] AcceptEncoding parse_accept_encoding(std::string_view value, bool present) noexcept;

// `available`: bit (1 << Coding) for each coding a variant exists for (identity always is).
[[nodiscard]] Coding choose_coding(const AcceptEncoding& ae, unsigned available) noexcept;

// The codings worth looking for, best first: weight above 0 and at least identity's.
// Returns how many were written to out.
std::size_t candidate_codings(const AcceptEncoding& ae, std::array<Coding, 3>& out) noexcept;

[[nodiscard]] bool accepts_html(std::string_view accept, bool present) noexcept;

// A qvalue ("0.5", "1", "0.000") in thousandths, or -1 when it is not one.
[[nodiscard]] int parse_qvalue(std::string_view s) noexcept;

// RFC 9110 §5.6.2 token.
[[nodiscard]] bool is_token(std::string_view s) noexcept;

// --header NAME:VALUE. "" when acceptable (name and value trimmed into the outputs), else why
// not: the name must be a token and not one the server writes or a hop-by-hop field; the
// value must have no CR, LF, NUL or other control byte but HTAB.
[[nodiscard]] std::string check_extra_header(std::string_view spec, std::string& name,
                                             std::string& value);

// A field value an operator gives (Cache-Control): non-empty, VCHAR / SP / HTAB / obs-text
// only (no CR, LF, NUL).
[[nodiscard]] bool is_field_value(std::string_view v) noexcept;

// The CORS preflight answer's fields (each "Name: value\r\n"), appended to out: Allow-Methods
// GET, HEAD, OPTIONS; Allow-Headers echoing the tokens of Access-Control-Request-Headers
// (anything else in that list is dropped; at most kMaxCorsHeaders names); Max-Age 86400.
inline constexpr std::size_t kMaxCorsHeaders = 32;
void append_cors_preflight(std::string& out, std::string_view request_headers);

}  // namespace httpower
