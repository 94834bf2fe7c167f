// The timeout rules (timeouts.hpp), tick by tick: each deadline one tick before, at and one
// tick after it, and which event restarts which timeout. No clock is read.
#include "httpower/timeouts.hpp"

#include <gtest/gtest.h>

namespace httpower {
namespace {

using namespace std::chrono_literals;

constexpr Clock::duration kTick{1};
const Clock::time_point T0 = Clock::time_point{} + 1h;  // an arbitrary instant
const Timeouts kLimits{10s, 15s, 30s, 2s};

// The three instants around a deadline, and what each must say.
void expect_edge(Clock::time_point deadline, const char* what) {
  EXPECT_FALSE(deadline_reached(deadline, deadline - kTick)) << what << ": one tick before";
  EXPECT_TRUE(deadline_reached(deadline, deadline)) << what << ": at the deadline";
  EXPECT_TRUE(deadline_reached(deadline, deadline + kTick)) << what << ": one tick after";
}

TEST(Timeouts, ADeadlineIsReachedAtItsInstantNotATickLater) {
  expect_edge(T0, "any deadline");
  EXPECT_FALSE(deadline_reached(Clock::time_point::max(), T0));
}

TEST(Timeouts, WaitRoundsUpSoAWakeUpNeverComesEarly) {
  EXPECT_EQ(wait_ms(T0, T0 - kTick, 500ms), 1) << "one tick left: one whole millisecond";
  EXPECT_EQ(wait_ms(T0, T0 - 1ms, 500ms), 1);
  EXPECT_EQ(wait_ms(T0, T0 - 1ms - kTick, 500ms), 2);
  EXPECT_EQ(wait_ms(T0, T0, 500ms), 0) << "at the deadline: no wait";
  EXPECT_EQ(wait_ms(T0, T0 + kTick, 500ms), 0) << "after it: no wait";
  EXPECT_EQ(wait_ms(T0, T0 - 1h, 500ms), 500) << "capped";
  EXPECT_EQ(wait_ms(Clock::time_point::max(), T0, 60s), 60'000) << "no overflow";
}

TEST(Timeouts, HeaderTimeoutRunsFromTheFirstByteOfTheRequest) {
  ConnectionTimes t;
  t.accepted(T0);
  EXPECT_EQ(read_deadline(t, true, kLimits), T0 + 10s) << "a new connection: its first request";
  t.received(T0 + 3s, false);  // the first byte of a request
  const Clock::time_point d = read_deadline(t, true, kLimits);
  EXPECT_EQ(d, T0 + 13s);
  t.received(T0 + 5s, true);  // more bytes of the same head: not extended (slowloris)
  EXPECT_EQ(read_deadline(t, true, kLimits), d);
  expect_edge(d, "header timeout");
  EXPECT_EQ(on_deadline(ParkReason::kRead, true, 0, d, kLimits, t).action, Expiry::kReset)
      << "part of a request received: reset";
  ConnectionTimes fresh;
  fresh.accepted(T0);
  EXPECT_EQ(on_deadline(ParkReason::kRead, false, 0, T0 + 10s, kLimits, fresh).action,
            Expiry::kClose)
      << "nothing received: a FIN";
}

TEST(Timeouts, IdleTimeoutRunsFromTheEndOfTheLastResponse) {
  ConnectionTimes t;
  t.accepted(T0);
  t.head_parsed(T0 + 1s);
  t.response_sent(T0 + 4s);
  const Clock::time_point d = read_deadline(t, false, kLimits);
  EXPECT_EQ(d, T0 + 19s);
  expect_edge(d, "idle timeout");
  EXPECT_EQ(on_deadline(ParkReason::kRead, false, 0, d, kLimits, t).action, Expiry::kClose);
}

TEST(Timeouts, ANewRequestRestartsTheHeaderTimeout) {
  ConnectionTimes t;
  t.accepted(T0);
  t.received(T0 + 1s, false);
  t.head_parsed(T0 + 2s);
  t.response_sent(T0 + 3s);
  t.received(T0 + 20s, false);  // the next request's first byte, after 17 s idle
  EXPECT_EQ(read_deadline(t, true, kLimits), T0 + 30s) << "the old request's timeout was kept";
  // A pipelined head already buffered when the previous one is parsed: from that parse.
  t.head_parsed(T0 + 21s);
  EXPECT_EQ(read_deadline(t, true, kLimits), T0 + 31s);
}

TEST(Timeouts, DiscardedBodyHasTheHeaderTimeoutFromTheEndOfItsHead) {
  ConnectionTimes t;
  t.accepted(T0);
  t.received(T0, false);
  t.head_parsed(T0 + 1s);       // the body is discarded from here
  t.received(T0 + 5s, true);    // body bytes trickle in: no extension
  t.received(T0 + 10s, true);
  const Clock::time_point d = read_deadline(t, true, kLimits);
  EXPECT_EQ(d, T0 + 11s);
  expect_edge(d, "discarded body");
  EXPECT_EQ(on_deadline(ParkReason::kRead, true, 0, d, kLimits, t).action, Expiry::kReset);
  t.body_discarded(T0 + 10s);   // the body is over: the next head's timeout starts
  EXPECT_EQ(read_deadline(t, true, kLimits), T0 + 20s);
}

TEST(Timeouts, SendTimeoutRestartsAtEveryBlockAndResets) {
  const Clock::time_point first = send_deadline(T0, kLimits);
  EXPECT_EQ(first, T0 + 30s);
  expect_edge(first, "send timeout");
  EXPECT_EQ(send_deadline(T0 + 29s, kLimits), T0 + 59s) << "progress at 29 s: 30 s more";
  ConnectionTimes t;
  EXPECT_EQ(on_deadline(ParkReason::kWrite, false, 0, first, kLimits, t).action, Expiry::kReset)
      << "the unsent response must not stay in the kernel";
}

TEST(Timeouts, LingerClosesWhenTheClientHasEverything) {
  ConnectionTimes t;
  t.linger_began(T0, 1000);
  const Clock::time_point d = linger_deadline(T0, kLimits);
  EXPECT_EQ(d, T0 + 2s);
  expect_edge(d, "linger timeout");
  EXPECT_EQ(on_deadline(ParkReason::kLinger, false, 0, d, kLimits, t).action, Expiry::kClose);
}

TEST(Timeouts, LingerGoesOnWhileTheClientTakesBytesAndResetsWhenItStalls) {
  ConnectionTimes t;
  t.linger_began(T0, 1000);
  // At the linger deadline nothing was acknowledged yet: wait until the send timeout, from
  // the start, in steps of at most the linger timeout.
  ExpiryVerdict v = on_deadline(ParkReason::kLinger, false, 1000, T0 + 2s, kLimits, t);
  EXPECT_EQ(v.action, Expiry::kWait);
  EXPECT_EQ(v.next, T0 + 4s);
  // One tick before the stall deadline: still waiting, up to it exactly.
  v = on_deadline(ParkReason::kLinger, false, 1000, T0 + 30s - kTick, kLimits, t);
  EXPECT_EQ(v.action, Expiry::kWait);
  EXPECT_EQ(v.next, T0 + 30s);
  // At the stall deadline and after it, with no progress: reset.
  ConnectionTimes at = t;
  EXPECT_EQ(on_deadline(ParkReason::kLinger, false, 1000, T0 + 30s, kLimits, at).action,
            Expiry::kReset);
  ConnectionTimes after = t;
  EXPECT_EQ(on_deadline(ParkReason::kLinger, false, 1000, T0 + 30s + kTick, kLimits, after).action,
            Expiry::kReset);
  // Progress seen at the stall deadline itself restarts the stall timeout from there.
  v = on_deadline(ParkReason::kLinger, false, 400, T0 + 30s, kLimits, t);
  EXPECT_EQ(v.action, Expiry::kWait) << "the client acknowledged bytes: not stalled";
  EXPECT_EQ(v.next, T0 + 32s);
  EXPECT_EQ(t.linger_progress, T0 + 30s);
  EXPECT_EQ(t.linger_unacked, 400u);
  // The same count again is no progress.
  v = on_deadline(ParkReason::kLinger, false, 400, T0 + 60s, kLimits, t);
  EXPECT_EQ(v.action, Expiry::kReset);
}

}  // namespace
}  // namespace httpower
