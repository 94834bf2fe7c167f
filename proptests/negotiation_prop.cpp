// Accept-Encoding properties against a naive reference: random lists of codings (case
// variants, x-gzip, *, identity, unknown names) with random weights, OWS and empty elements
// are rendered to a field value; parse_accept_encoding must give each coding the weight the
// reference reads off the structured list (first entry, else *, else 0; identity unlisted:
// the lowest weight), and choose_coding the reference's pick for every set of variants
// (highest weight, ties br > zstd > gzip > identity). A value with one element made
// malformed is identity only.
// Seed: "Using configuration: seed=N"; rerun with RC_PARAMS="seed=N".
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "support/rc_scale.hpp"

#include <optional>
#include <string>
#include <vector>

#include "httpower/negotiation.hpp"

namespace httpower {
namespace {

const std::vector<std::string> kNames = {"br",    "BR",    "Br",       "zstd",     "ZSTD",
                                         "gzip",  "GZip",  "x-gzip",   "X-GZIP",   "identity",
                                         "IDENTITY", "*",  "deflate",  "compress", "foo-bar"};

struct Entry {
  std::string name;
  std::optional<int> q;  // thousandths
  std::string q_text;    // one of its valid spellings
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The reference's coding index for a name (-1: not one we serve, -2: "*").
int ref_index(const std::string& name) {
  const std::string n = lower(name);
  if (n == "*") return -2;
  if (n == "identity") return 0;
  if (n == "br") return 1;
  if (n == "zstd") return 2;
  if (n == "gzip" || n == "x-gzip") return 3;
  return -1;
}

std::string q_spelling(int q) {
  if (q == 1000) return *rc::gen::elementOf(std::vector<std::string>{"1", "1.", "1.0", "1.000"});
  if (q == 0 && *rc::gen::arbitrary<bool>()) return "0";
  std::string digits = std::to_string(q);
  digits = std::string(3 - digits.size(), '0') + digits;
  while (!digits.empty() && digits.back() == '0' && *rc::gen::arbitrary<bool>()) digits.pop_back();
  return "0." + digits;
}

rc::Gen<Entry> entry() {
  return rc::gen::exec([] {
    Entry e;
    e.name = *rc::gen::elementOf(kNames);
    if (*rc::gen::inRange(0, 3) != 0) {
      e.q = *rc::gen::oneOf(rc::gen::inRange(0, 1001), rc::gen::element(0, 1000, 500));
      e.q_text = q_spelling(*e.q);
    }
    return e;
  });
}

std::string ows() { return *rc::gen::elementOf(std::vector<std::string>{"", "", " ", "\t", "  "}); }

std::string render(const std::vector<Entry>& list) {
  std::string v = ows();
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i > 0) v += ows() + "," + ows() + (*rc::gen::inRange(0, 8) == 0 ? "," + ows() : "");
    v += list[i].name;
    if (list[i].q) v += ows() + ";" + ows() + (*rc::gen::arbitrary<bool>() ? "q=" : "Q=") + list[i].q_text;
  }
  return v + ows();
}

std::array<int, kCodingCount> reference_weights(const std::vector<Entry>& list) {
  std::array<int, kCodingCount> own{-1, -1, -1, -1};
  int star = -1;
  for (const Entry& e : list) {
    const int i = ref_index(e.name);
    const int q = e.q.value_or(1000);
    if (i == -2 && star < 0) star = q;
    if (i >= 0 && own[static_cast<std::size_t>(i)] < 0) own[static_cast<std::size_t>(i)] = q;
  }
  std::array<int, kCodingCount> w{};
  for (std::size_t i = 1; i < kCodingCount; ++i) w[i] = own[i] >= 0 ? own[i] : std::max(star, 0);
  w[0] = own[0] >= 0 ? own[0] : star >= 0 ? star : 1;
  return w;
}

Coding reference_choice(const std::array<int, kCodingCount>& w, unsigned available) {
  // (weight, rank) maximal; identity ranks last and is always there; codings need weight > 0.
  const Coding by_rank[] = {Coding::kIdentity, Coding::kGzip, Coding::kZstd, Coding::kBrotli};
  Coding best = Coding::kIdentity;
  int best_w = w[0];
  for (int rank = 1; rank < 4; ++rank) {
    const Coding c = by_rank[rank];
    const int cw = w[static_cast<std::size_t>(c)];
    if (!(available & (1u << static_cast<unsigned>(c))) || cw == 0) continue;
    if (cw >= best_w) {
      best = c;
      best_w = cw;
    }
  }
  return best;
}

RC_GTEST_PROP(AcceptEncodingProp, WeightsAndChoiceMatchTheReference, ()) {
  const auto list = *rc::gen::container<std::vector<Entry>>(*rc::gen::inRange<std::size_t>(0, 8), entry());
  const std::string value = render(list);
  RC_TAG(list.size());
  const AcceptEncoding ae = parse_accept_encoding(value, true);
  RC_ASSERT(ae.valid);
  const auto w = reference_weights(list);
  for (std::size_t i = 0; i < kCodingCount; ++i) RC_ASSERT(static_cast<int>(ae.q[i]) == w[i]);
  for (unsigned mask = 0; mask < 8; ++mask) {
    const unsigned available = mask << 1;  // bits of br, zstd, gzip
    RC_ASSERT(choose_coding(ae, available) == reference_choice(w, available));
  }
}

// One element made malformed (a weight out of range, a stray quote, a parameter other than
// q, a missing '='): the whole field is identity only, whatever the rest says.
RC_GTEST_PROP(AcceptEncodingProp, OneMalformedElementMeansIdentityOnly, ()) {
  auto list = *rc::gen::container<std::vector<Entry>>(*rc::gen::inRange<std::size_t>(1, 6), entry());
  const std::size_t at = *rc::gen::inRange<std::size_t>(0, list.size());
  const std::string bad = *rc::gen::elementOf(std::vector<std::string>{
      "1.5", "2", "0.1234", ".5", "", "1.01", "0.5x", "-1"});
  const int how = *rc::gen::inRange(0, 4);
  if (how == 0) {
    list[at].q = 0;
    list[at].q_text = bad;
  } else if (how == 1) {
    list[at].name += "\"";
  } else if (how == 2) {
    list[at].q = 0;
    list[at].q_text = "0;level=1";
  } else {
    list[at].name += ";q";
  }
  const AcceptEncoding ae = parse_accept_encoding(render(list), true);
  RC_ASSERT(!ae.valid);
  RC_ASSERT(choose_coding(ae, 0xE) == Coding::kIdentity);
}

}  // namespace
}  // namespace httpower
