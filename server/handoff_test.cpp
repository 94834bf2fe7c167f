// C1 at run time (handoff.hpp): a touch or a hand-off by a thread that does not own the
// connection aborts with the connection id, the expected owner and the actual one.
#include "handoff.hpp"

#include <gtest/gtest.h>

#include "connection.hpp"

namespace httpower {
namespace {

#if defined(HTTPOWER_HANDOFF_CHECKS)

using handoff::Role;

TEST(Handoff, C1_OwnerTouchesAndGivesAway) {
  Connection c;
  HTTPOWER_SET_SELF(Role::kAcceptor);
  HTTPOWER_ACCEPTED(c);
  EXPECT_EQ(c.handoff.owner.load(), static_cast<std::uint32_t>(Role::kAcceptor));
  c.take_input();
  HTTPOWER_GIVE(c, kQueue);
  HTTPOWER_SET_SELF(handoff::worker_role(3));
  HTTPOWER_TAKE(c, kQueue);
  c.release_idle_memory();
  EXPECT_EQ(c.handoff.owner.load(), static_cast<std::uint32_t>(handoff::worker_role(3)));
  HTTPOWER_SET_SELF(Role::kNone);
}

TEST(HandoffDeathTest, C1_TouchAfterTheHandOffAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Connection c;
        HTTPOWER_SET_SELF(handoff::worker_role(0));
        HTTPOWER_TAKE(c, kNone);
        HTTPOWER_GIVE(c, kPoller);  // parked ...
        c.release_idle_memory();    // ... and touched again
      },
      "C1 violated in release_idle_memory: connection 0 is owned by POL, expected WK0");
}

TEST(HandoffDeathTest, C1_TakeFromTheWrongOwnerAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Connection c;
        HTTPOWER_SET_SELF(Role::kPoller);
        HTTPOWER_TAKE(c, kQueue);  // never pushed: its owner is NONE
      },
      "connection 0 is owned by NONE, expected QUE");
}

#else

TEST(Handoff, C1_ChecksCompiledOut) { GTEST_SKIP() << "HTTPOWER_HANDOFF_CHECKS is off"; }

#endif

}  // namespace
}  // namespace httpower
