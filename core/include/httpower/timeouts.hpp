#pragma once
// The timeout rules of a connection (docs/server.md, "Timeouts"), as pure functions of its
// timestamps and `now`: which deadline applies while it waits, when a deadline counts as
// reached, what a reached deadline does, and which events restart which timeout. The server
// and the poller decide with these functions only, so the rules are tested here tick by tick,
// with no clock at all (core/timeouts_test.cpp), and the poller's use of them with a clock the
// test moves (server/deadline_test.cpp).
//
// At the deadline itself: a deadline is reached AT its instant (`now >= deadline`), so a
// connection whose deadline equals `now` is expired; one tick earlier it is not. A wait for
// a deadline is the interval rounded up to milliseconds, so a timed wake-up never comes
// before the deadline it waits for (no early wake-up that finds nothing to do).
//
// An event and a deadline in the same poller round: the event wins (Poller::round handles
// readiness before it sweeps deadlines). A connection that became readable or writable is
// handed to a worker even if its deadline passed in the meantime: the bytes that arrived are
// read (a complete request is answered rather than reset), and the worker parks it again with
// the deadline its rule gives, which, for a request head still incomplete, is the same one:
// the next round expires it. A lingering close drains what arrived, then its deadline is
// looked at in the same round.

#include <chrono>
#include <cstdint>

namespace httpower {

using Clock = std::chrono::steady_clock;
// Where the server and the poller read "now": Clock::now in production (a direct call
// through one pointer, no other cost), a clock of the test's own in deterministic tests.
using NowFn = Clock::time_point (*)() noexcept;

// Why a connection is parked in the poller (what it waits for, which timeout applies).
enum class ParkReason : std::uint8_t {
  kRead,    // waiting for request bytes: idle (none buffered) or header timeout (some)
  kWrite,   // a response is under way and the socket buffer is full: send timeout
  kLinger,  // lingering close after a closing response (RFC 9112 §9.6): drain, then close
};

struct Timeouts {
  Clock::duration header{};  // a request head from its first byte; a discarded body from its head
  Clock::duration idle{};    // between requests on a keep-alive connection
  Clock::duration send{};    // the client accepts no byte of the response
  Clock::duration linger{};  // a lingering close, while the client takes nothing more
};

// The rule at the instant: reached at the deadline, not one tick after it.
[[nodiscard]] constexpr bool deadline_reached(Clock::time_point deadline,
                                              Clock::time_point now) noexcept {
  return deadline <= now;
}

// Milliseconds to wait from `now` for `deadline`, rounded up and at most `cap`; 0 once the
// deadline is reached.
[[nodiscard]] int wait_ms(Clock::time_point deadline, Clock::time_point now,
                          std::chrono::milliseconds cap) noexcept;

// The instants a connection's timeouts run from. Only the events below move them, so which
// progress restarts which timeout is said once, here.
struct ConnectionTimes {
  Clock::time_point request_start{};    // the header timeout's base (and a discarded body's)
  Clock::time_point last_activity{};    // the idle timeout's base
  Clock::time_point linger_progress{};  // the last time the client acknowledged more bytes ...
  std::uint64_t linger_unacked = 0;     // ... of the response during a lingering close: these

  // A new connection: its first request has the header timeout from now.
  void accepted(Clock::time_point now) noexcept { request_start = last_activity = now; }
  // Bytes arrived. The first byte of a request starts its header timeout; more bytes of the
  // same request, or of a body being discarded, do not extend it (a trickle is cut off).
  void received(Clock::time_point now, bool request_under_way) noexcept {
    if (!request_under_way) request_start = now;
  }
  // A head was parsed: the body discarded after it, and a pipelined head after that, get a
  // header timeout of their own from now.
  void head_parsed(Clock::time_point now) noexcept { request_start = now; }
  // The discarded body ended: the next head's timeout runs from now.
  void body_discarded(Clock::time_point now) noexcept { request_start = now; }
  // A response ended: the idle timeout runs from now.
  void response_sent(Clock::time_point now) noexcept { last_activity = now; }
  // A lingering close began with `unacked` bytes of the response not yet acknowledged.
  void linger_began(Clock::time_point now, std::uint64_t unacked) noexcept {
    linger_unacked = unacked;
    linger_progress = now;
  }
};

// The deadline of a connection parked for request bytes: the header timeout while a request
// is under way (bytes of it buffered, a body being discarded, or a new connection that has
// not sent one yet), the idle timeout between requests.
[[nodiscard]] constexpr Clock::time_point read_deadline(const ConnectionTimes& t,
                                                        bool request_under_way,
                                                        const Timeouts& limits) noexcept {
  return request_under_way ? t.request_start + limits.header : t.last_activity + limits.idle;
}

// A response blocked on a full socket: every block restarts the send timeout, since the
// worker blocks again only after the client took bytes (the poller hands the connection back
// when the socket is writable), so the timeout measures the time without progress.
[[nodiscard]] constexpr Clock::time_point send_deadline(Clock::time_point now,
                                                        const Timeouts& limits) noexcept {
  return now + limits.send;
}

// A lingering close that begins now.
[[nodiscard]] constexpr Clock::time_point linger_deadline(Clock::time_point now,
                                                          const Timeouts& limits) noexcept {
  return now + limits.linger;
}

// What a reached deadline does to a connection.
enum class Expiry : std::uint8_t {
  kClose,  // close with a FIN: nothing would be left behind
  kReset,  // close with a reset (SO_LINGER 0): unread request bytes or an unsent response
  kWait,   // a lingering close whose client still takes the response: park again until `next`
};
struct ExpiryVerdict {
  Expiry action = Expiry::kClose;
  Clock::time_point next{};  // kWait only
};

// The verdict at a reached deadline. `partial_request`: part of a request was received
// (kRead); `unacked`: bytes of the response the client has not acknowledged now (kLinger;
// 0 = all). A lingering close records the client's progress in `times`, and lasts while the
// client acknowledges bytes at least every send timeout, each wait at most the linger
// timeout.
[[nodiscard]] ExpiryVerdict on_deadline(ParkReason why, bool partial_request,
                                        std::uint64_t unacked, Clock::time_point now,
                                        const Timeouts& limits, ConnectionTimes& times) noexcept;

}  // namespace httpower
