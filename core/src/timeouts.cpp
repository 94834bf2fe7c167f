#include "httpower/timeouts.hpp"

#include <algorithm>

namespace httpower {

int wait_ms(Clock::time_point deadline, Clock::time_point now,
            std::chrono::milliseconds cap) noexcept {
  if (deadline_reached(deadline, now)) return 0;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
  return static_cast<int>(std::min(left, cap).count());
}

ExpiryVerdict on_deadline(ParkReason why, bool partial_request, std::uint64_t unacked,
                          Clock::time_point now, const Timeouts& limits,
                          ConnectionTimes& times) noexcept {
  switch (why) {
    case ParkReason::kWrite:
      return {Expiry::kReset, {}};
    case ParkReason::kRead:
      return {partial_request ? Expiry::kReset : Expiry::kClose, {}};
    case ParkReason::kLinger:
      break;
  }
  if (unacked == 0) return {Expiry::kClose, {}};  // the client has it all (our FIN is out)
  if (unacked < times.linger_unacked) times.linger_began(now, unacked);  // progress
  const Clock::time_point stalled_at = times.linger_progress + limits.send;
  if (deadline_reached(stalled_at, now)) return {Expiry::kReset, {}};
  return {Expiry::kWait, std::min(stalled_at, linger_deadline(now, limits))};
}

}  // namespace httpower
