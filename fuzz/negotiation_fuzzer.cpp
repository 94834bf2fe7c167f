// Fuzzes the negotiation unit with one field value. Properties: Accept-Encoding weights lie in
// 0..1000 and a value it calls invalid is identity only; parsing is deterministic, blind to
// ASCII case and to an appended empty list element; for every set of variants,
// choose_coding picks identity or an available coding of weight above 0, never one with a
// lower weight than another available coding or than identity; accepts_html is
// deterministic; an accepted --header has a token name and a value without CR, LF, NUL; the
// CORS preflight fields are whole "Name: value\r\n" lines whose Allow-Headers are tokens.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "httpower/negotiation.hpp"

namespace {

using httpower::AcceptEncoding;
using httpower::Coding;

bool same(const AcceptEncoding& a, const AcceptEncoding& b) { return a.valid == b.valid && a.q == b.q; }

void check_choice(const AcceptEncoding& ae) {
  for (unsigned mask = 0; mask < 8; ++mask) {
    const unsigned available = mask << 1;
    const Coding c = httpower::choose_coding(ae, available);
    const auto bit = [](Coding x) { return 1u << static_cast<unsigned>(x); };
    if (c != Coding::kIdentity) {
      HTTPOWER_FUZZ_CHECK((available & bit(c)) != 0);
      HTTPOWER_FUZZ_CHECK(ae.weight(c) > 0 && ae.weight(c) >= ae.weight(Coding::kIdentity));
    }
    for (Coding other : httpower::kCodingPreference) {
      if (!(available & bit(other)) || ae.weight(other) == 0) continue;
      HTTPOWER_FUZZ_CHECK(ae.weight(other) <= ae.weight(c) || c == Coding::kIdentity);
      if (c == Coding::kIdentity) HTTPOWER_FUZZ_CHECK(ae.weight(other) < ae.weight(Coding::kIdentity));
    }
  }
}

void check_preflight(std::string_view value) {
  std::string out;
  httpower::append_cors_preflight(out, value);
  std::string_view rest = out;
  while (!rest.empty()) {
    const std::size_t end = rest.find("\r\n");
    HTTPOWER_FUZZ_CHECK(end != std::string_view::npos);
    const std::string_view line = rest.substr(0, end);
    HTTPOWER_FUZZ_CHECK(line.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos);
    constexpr std::string_view kHeaders = "Access-Control-Allow-Headers: ";
    if (line.starts_with(kHeaders)) {
      std::string_view list = line.substr(kHeaders.size());
      std::size_t names = 0;
      while (!list.empty()) {
        const std::size_t comma = list.find(", ");
        HTTPOWER_FUZZ_CHECK(httpower::is_token(list.substr(0, comma)));
        ++names;
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 2);
      }
      HTTPOWER_FUZZ_CHECK(names >= 1 && names <= httpower::kMaxCorsHeaders);
    }
    rest.remove_prefix(end + 2);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  const AcceptEncoding ae = httpower::parse_accept_encoding(value, true);
  for (std::uint16_t q : ae.q) HTTPOWER_FUZZ_CHECK(q <= 1000);
  if (!ae.valid) HTTPOWER_FUZZ_CHECK(same(ae, AcceptEncoding{}));
  HTTPOWER_FUZZ_CHECK(same(ae, httpower::parse_accept_encoding(value, true)));
  std::string upper(value);
  for (char& ch : upper) {
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
  }
  HTTPOWER_FUZZ_CHECK(same(ae, httpower::parse_accept_encoding(upper, true)));
  HTTPOWER_FUZZ_CHECK(same(ae, httpower::parse_accept_encoding(std::string(value) + ", ", true)));
  check_choice(ae);

  HTTPOWER_FUZZ_CHECK(httpower::accepts_html(value, true) == httpower::accepts_html(upper, true));

  std::string name, field_value;
  if (httpower::check_extra_header(value, name, field_value).empty()) {
    HTTPOWER_FUZZ_CHECK(httpower::is_token(name));
    HTTPOWER_FUZZ_CHECK(field_value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);
  }
  check_preflight(value);
  return 0;
}
