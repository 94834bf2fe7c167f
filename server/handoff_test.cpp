// C1 at run time (handoff.hpp): a touch or a hand-off by a thread that does not own the
// connection aborts with the connection id, the expected owner and the actual one.
#include "handoff.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

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

TEST(Handoff, C1_ViolationMessageNamesConnectionOwnersAndThread) {
  Connection c;
  c.handoff.id = 42;
  const std::pair<Role, const char*> roles[] = {
      {Role::kNone, "NONE"},   {Role::kAcceptor, "ACC"},   {Role::kQueue, "QUE"},
      {Role::kPoller, "POL"},  {Role::kClosed, "CLOSED"},  {Role::kSupervisor, "SUP"},
      {handoff::worker_role(7), "WK7"}, {static_cast<Role>(6), "?6"}};
  HTTPOWER_SET_SELF(Role::kSupervisor);
  for (const auto& [role, name] : roles) {
    c.handoff.owner.store(static_cast<std::uint32_t>(role));
    EXPECT_EQ(handoff::violation_message(c.handoff, Role::kQueue, "f"),
              std::string("httpower: C1 violated in f: connection 42 is owned by ") + name +
                  ", expected QUE (thread SUP)\n");
  }
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
