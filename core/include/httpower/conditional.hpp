#pragma once
// Conditional requests (RFC 9110 §13) and the validators they compare against.
//
// Validators of a file: a strong ETag built from its facts, and Last-Modified (seconds).
//   ETag = "\"<size hex>-<mtime sec hex>.<mtime nsec hex>\"". Strong: any write changes
//   mtime (to the nanosecond on every file system we serve from) or size. Nothing local to
//   one machine (no inode, no device) goes in, so replicas of a tree copied with its mtimes
//   (cp -a, rsync -a) give every file the same ETag, and a validator from one replica is
//   honoured by the others. Two different contents with the same size and mtime to the
//   nanosecond are assumed not to happen.
//
// evaluate_preconditions follows §13.2.2 exactly, in this order:
//   1. If-Match present: false -> 412. (strong comparison; "*" is true: the file exists)
//   2. else If-Unmodified-Since present and a valid date: Last-Modified > date -> 412.
//   3. If-None-Match present: true (weak comparison; "*" is true) -> 304 for GET/HEAD,
//      412 for other methods.
//   4. else, GET/HEAD only, If-Modified-Since a valid date: Last-Modified <= date -> 304.
//      Ignored when If-None-Match is present, when the date is invalid, when the method is
//      neither GET nor HEAD, and when the date is later than `now` (§13.1.3).
//   5. (Range and If-Range come after, see if_range_holds; the planner does that.)
//   A field whose list is syntactically invalid (not a list of entity-tags or "*") is
//   treated as not matching: If-Match -> 412, If-None-Match -> proceed.
//
// if_range_holds (§13.1.5): the caller evaluates it only when Range is present.
//   An entity-tag: true iff it matches our ETag with STRONG comparison (a weak tag W/"..."
//   never matches). A date: true iff it equals Last-Modified exactly AND Last-Modified is a
//   strong validator, i.e. at least one second before `now` (§8.8.2.2). Anything else
//   (invalid date, list, garbage): false -> send the whole file (200).
// No allocation; the views must outlive the call only.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "httpower/request.hpp"

namespace httpower {

inline constexpr std::size_t kEntityTagCapacity = 64;

class EntityTag {
 public:
  EntityTag() = default;
  [[nodiscard]] std::string_view view() const noexcept { return {buf_.data(), len_}; }

 private:
  friend EntityTag make_etag(std::uint64_t, std::int64_t, std::uint32_t) noexcept;
  std::array<char, kEntityTagCapacity> buf_{};
  std::size_t len_ = 0;
};

// The strong ETag of a file from its fstat facts.
[[nodiscard]] EntityTag make_etag(std::uint64_t size, std::int64_t mtime_sec,
                                  std::uint32_t mtime_nsec) noexcept;

struct Validators {
  std::string_view etag;           // quoted strong entity-tag ("\"...\""); empty: none
  std::int64_t last_modified = 0;  // seconds; the planner clamps it to <= now (§8.8.2.1)
  bool has_last_modified = false;
};

enum class Precondition : std::uint8_t {
  kProceed,             // evaluate Range next, then 200/206/416
  kNotModified,         // 304
  kPreconditionFailed,  // 412
};

[[nodiscard]] Precondition evaluate_preconditions(const RequestHead& head, const Validators& v,
                                                  std::int64_t now) noexcept;

[[nodiscard]] bool if_range_holds(std::string_view if_range, const Validators& v,
                                  std::int64_t now) noexcept;

enum class EtagCompare : std::uint8_t { kStrong, kWeak };

// Does the field value (a comma list of entity-tags, or "*") contain a tag matching `etag`?
// "*" matches any etag (the file exists). Empty or invalid list: false.
[[nodiscard]] bool etag_list_matches(std::string_view field, std::string_view etag,
                                     EtagCompare cmp) noexcept;

}  // namespace httpower
