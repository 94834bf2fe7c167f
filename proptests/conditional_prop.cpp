// Conditional precedence (RFC 9110 §13.2.2) against an independent table model, and the two
// precedence laws as metamorphic properties: with If-None-Match present, If-Modified-Since
// does not matter; with If-Match present, If-Unmodified-Since does not matter.
// Seed: "Using configuration: seed=N"; rerun with RC_PARAMS="seed=N".
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "support/rc_scale.hpp"

#include <string>
#include <vector>

#include "httpower/conditional.hpp"
#include "httpower/http_date.hpp"

namespace httpower {
namespace {

constexpr std::int64_t kLm = 784111777;
constexpr std::int64_t kNow = kLm + 3600;
constexpr std::string_view kEtag = "\"1-2-3.4\"";

enum Tag { kAbsent, kStar, kMatch, kWeakMatch, kOther, kListMatch, kGarbage };
enum When { kNoDate, kInvalid, kBefore, kEqual, kAfter, kFuture };

struct Scenario {
  Method method;
  Tag if_match;
  When ius;
  Tag inm;
  When ims;
  std::string im_text, ius_text, inm_text, ims_text;  // storage for the head's views
};

std::string tag_text(Tag t) {
  switch (t) {
    case kAbsent: return "";
    case kStar: return "*";
    case kMatch: return std::string(kEtag);
    case kWeakMatch: return "W/" + std::string(kEtag);
    case kOther: return "\"zzz\"";
    case kListMatch: return "\"a\", W/\"b\", " + std::string(kEtag);
    case kGarbage: return "not-a-tag";
  }
  return "";
}

std::string date_text(When w) {
  HttpDateBuffer b;
  switch (w) {
    case kNoDate: return "";
    case kInvalid: return *rc::gen::elementOf(std::vector<std::string>{"yesterday", "Sun, 06 Nov 1994", "0"});
    case kBefore: return std::string(format_http_date(kLm - *rc::gen::inRange(1, 1000000), b));
    case kEqual: return std::string(format_http_date(kLm, b));
    case kAfter: return std::string(format_http_date(kLm + *rc::gen::inRange(1, 3600), b));
    case kFuture: return std::string(format_http_date(kNow + *rc::gen::inRange(1, 1000000), b));
  }
  return "";
}

Precondition model(const Scenario& s) {
  const bool safe = s.method == Method::kGet || s.method == Method::kHead;
  if (s.if_match != kAbsent) {
    const bool strong_match = s.if_match == kStar || s.if_match == kMatch || s.if_match == kListMatch;
    if (!strong_match) return Precondition::kPreconditionFailed;
  } else if (s.ius == kBefore) {  // LM later than the date; invalid dates are ignored
    return Precondition::kPreconditionFailed;
  }
  if (s.inm != kAbsent) {
    const bool weak_match = s.inm != kOther && s.inm != kGarbage;
    if (weak_match) return safe ? Precondition::kNotModified : Precondition::kPreconditionFailed;
  } else if (safe && (s.ims == kEqual || s.ims == kAfter)) {
    return Precondition::kNotModified;
  }
  return Precondition::kProceed;
}

Scenario gen_scenario() {
  Scenario s;
  s.method = *rc::gen::element(Method::kGet, Method::kHead, Method::kPost, Method::kPut);
  const auto tag = rc::gen::element(kAbsent, kAbsent, kStar, kMatch, kWeakMatch, kOther, kListMatch, kGarbage);
  const auto when = rc::gen::element(kNoDate, kNoDate, kInvalid, kBefore, kEqual, kAfter, kFuture);
  s.if_match = *tag;
  s.ius = *when;
  s.inm = *tag;
  s.ims = *when;
  s.im_text = tag_text(s.if_match);
  s.ius_text = date_text(s.ius);
  s.inm_text = tag_text(s.inm);
  s.ims_text = date_text(s.ims);
  return s;
}

RequestHead head_of(const Scenario& s) {
  RequestHead h;
  h.method = s.method;
  h.if_match = s.im_text;
  h.if_unmodified_since = s.ius_text;
  h.if_none_match = s.inm_text;
  h.if_modified_since = s.ims_text;
  return h;
}

Precondition eval(const Scenario& s) {
  return evaluate_preconditions(head_of(s), Validators{kEtag, kLm, true}, kNow);
}

RC_GTEST_PROP(ConditionalProp, PrecedenceMatchesRfc9110Table, ()) {
  const Scenario s = gen_scenario();
  const Precondition got = eval(s);
  RC_CLASSIFY(got == Precondition::kProceed, "proceed");
  RC_CLASSIFY(got == Precondition::kNotModified, "304");
  RC_CLASSIFY(got == Precondition::kPreconditionFailed, "412");
  RC_ASSERT(got == model(s));
}

RC_GTEST_PROP(ConditionalProp, IfModifiedSinceIgnoredWhenIfNoneMatchPresent, ()) {
  Scenario a = gen_scenario();
  RC_PRE(a.inm != kAbsent);
  Scenario b = a;
  b.ims = *rc::gen::element(kNoDate, kInvalid, kBefore, kEqual, kAfter, kFuture);
  b.ims_text = date_text(b.ims);
  RC_ASSERT(eval(a) == eval(b));
}

RC_GTEST_PROP(ConditionalProp, IfUnmodifiedSinceIgnoredWhenIfMatchPresent, ()) {
  Scenario a = gen_scenario();
  RC_PRE(a.if_match != kAbsent);
  Scenario b = a;
  b.ius = *rc::gen::element(kNoDate, kInvalid, kBefore, kEqual, kAfter, kFuture);
  b.ius_text = date_text(b.ius);
  RC_ASSERT(eval(a) == eval(b));
}

RC_GTEST_PROP(ConditionalProp, FailedIfMatchIs412WhateverElse, ()) {
  Scenario s = gen_scenario();
  s.if_match = *rc::gen::element(kOther, kWeakMatch, kGarbage);
  s.im_text = tag_text(s.if_match);
  RC_ASSERT(eval(s) == Precondition::kPreconditionFailed);
}

}  // namespace
}  // namespace httpower
