#pragma once
// Hand-off checks (C1, proofs/INVARIANTS.md) for test and sanitizer builds. With
// HTTPOWER_HANDOFF_CHECKS defined (cmake defines it for every build type but Release, see
// server/CMakeLists.txt) every connection carries its owner and every thread knows who it is:
//
//   - HTTPOWER_OWNED(conn): the current thread must own conn (every touch: serve, parse,
//     send, the poller's event handling, close).
//   - HTTPOWER_GIVE(conn, to): the current thread must own conn; the owner becomes `to`
//     (push: kQueue, park: kPoller). Set before the hand-off itself, since the taker may
//     act the instant it is published.
//   - HTTPOWER_TAKE(conn, from): the owner must be `from`; it becomes the current thread
//     (a worker's pop takes from kQueue).
//
// A failed check prints the connection id, the expected owner and the actual one, and
// aborts: a worker that touches a connection after parking it fails at that touch, on every
// run, because the owner was already transferred when park() returned.
//
// The owner tag is a relaxed atomic: loads and stores of it create no happens-before edge, so
// ThreadSanitizer still sees every race on the connection's other fields.
//
// The trace: with HTTPOWER_TRACE=PATH in the environment at Server::start(), every hand-off
// event (accept, push, pop, park, wake, close, the drain phases) is recorded with the
// connection id and the thread, and written to PATH ("%p" becomes "<pid>-<n>", n counting
// the servers of the process) when run() returns. proofs/models/lifecycle_reference.py
// replays it against the transition rules of proofs/models/connection_lifecycle.pml. Each
// thread appends to its own buffer; the order is one relaxed fetch_add on a global counter
// (relaxed: no happens-before edge either, and causally ordered events still get increasing
// numbers, by coherence of the counter). An event that gives a connection away draws its
// number before the hand-off, one that takes it draws it after, and the poller's park /
// wake / sweep events are drawn under the poller's own lock. One traced server per process
// at a time.
//
// Without HTTPOWER_HANDOFF_CHECKS every macro expands to nothing and Connection has no tag.

#include <cstdint>

#if defined(HTTPOWER_HANDOFF_CHECKS)
#include <atomic>
#include <string>
#endif

namespace httpower::handoff {

// Owners and threads, named as in connection_lifecycle.pml (owner constants and proctypes).
enum class Role : std::uint32_t {
  kNone = 0,        // NONE: not accepted yet; a thread outside the server (tests)
  kAcceptor = 1,    // ACC
  kQueue = 2,       // QUE
  kPoller = 3,      // POL
  kClosed = 4,      // CLOSED
  kSupervisor = 5,  // the supervisor proctype (never owns a connection)
  kWorker0 = 8,     // WK(w) = kWorker0 + w
};
constexpr Role worker_role(unsigned w) noexcept {
  return static_cast<Role>(static_cast<std::uint32_t>(Role::kWorker0) + w);
}

// The events of the trace; their names in the file are in handoff.cpp.
enum class Event : std::uint8_t {
  kAccept, kPush, kRefused, kHeld, kPop, kPark, kParkRefused, kArmFailed, kWake, kExpire,
  kSweep, kStopClose, kClose, kStopRequest, kDrainBegin, kPollerDrain, kAcceptorStopped,
  kDrainOver, kDrainForced, kAbort, kQueueClose, kPollerStop, kWorkerExit, kPollerExit,
  kJoined,
};

#if defined(HTTPOWER_HANDOFF_CHECKS)

struct Tag {
  std::uint64_t id = 0;  // set at accept; 0 for a connection no acceptor made (tests)
  std::atomic<std::uint32_t> owner{static_cast<std::uint32_t>(Role::kNone)};
};

void set_self(Role r) noexcept;  // at the start of each server thread
[[nodiscard]] Role self() noexcept;
[[noreturn]] void owner_violation(const Tag& t, Role expected, const char* where) noexcept;
// The line owner_violation() prints before it aborts.
[[nodiscard]] std::string violation_message(const Tag& t, Role expected, const char* where);

inline void expect_owner(const Tag& t, Role expected, const char* where) noexcept {
  if (t.owner.load(std::memory_order_relaxed) != static_cast<std::uint32_t>(expected)) {
    owner_violation(t, expected, where);
  }
}
inline void give(Tag& t, Role to, const char* where) noexcept {
  expect_owner(t, self(), where);
  t.owner.store(static_cast<std::uint32_t>(to), std::memory_order_relaxed);
}
inline void take(Tag& t, Role from, const char* where) noexcept {
  expect_owner(t, from, where);
  t.owner.store(static_cast<std::uint32_t>(self()), std::memory_order_relaxed);
}
// The current thread takes `r` until the end of the scope, then is what it was before.
class ScopedRole {
 public:
  explicit ScopedRole(Role r) noexcept : prev_(self()) { set_self(r); }
  ~ScopedRole() { set_self(prev_); }
  ScopedRole(const ScopedRole&) = delete;
  ScopedRole& operator=(const ScopedRole&) = delete;

 private:
  Role prev_;
};

// A new connection: the acceptor owns it, with the next id.
void accepted(Tag& t) noexcept;

// The trace (see above). start_trace() reads HTTPOWER_TRACE; finish_trace() writes the file
// once every server thread is joined.
void start_trace();
void finish_trace();
extern std::atomic<bool> g_tracing;
void record_slow(Event e, std::uint64_t conn) noexcept;
inline void record(Event e, std::uint64_t conn = 0) noexcept {
  if (g_tracing.load(std::memory_order_relaxed)) record_slow(e, conn);
}

#endif

}  // namespace httpower::handoff

#if defined(HTTPOWER_HANDOFF_CHECKS)
#define HTTPOWER_OWNED(conn) ::httpower::handoff::expect_owner((conn).handoff, \
    ::httpower::handoff::self(), __func__)
#define HTTPOWER_GIVE(conn, to) \
  ::httpower::handoff::give((conn).handoff, ::httpower::handoff::Role::to, __func__)
#define HTTPOWER_TAKE(conn, from) \
  ::httpower::handoff::take((conn).handoff, ::httpower::handoff::Role::from, __func__)
#define HTTPOWER_ACCEPTED(conn) ::httpower::handoff::accepted((conn).handoff)
#define HTTPOWER_TRACE(event) ::httpower::handoff::record(::httpower::handoff::Event::event)
#define HTTPOWER_TRACE_CONN(event, conn) \
  ::httpower::handoff::record(::httpower::handoff::Event::event, (conn).handoff.id)
#define HTTPOWER_SET_SELF(role) ::httpower::handoff::set_self(role)
#define HTTPOWER_AS_ROLE(role) const ::httpower::handoff::ScopedRole httpower_scoped_role_(role)
#else
#define HTTPOWER_OWNED(conn) ((void)0)
#define HTTPOWER_GIVE(conn, to) ((void)0)
#define HTTPOWER_TAKE(conn, from) ((void)0)
#define HTTPOWER_ACCEPTED(conn) ((void)0)
#define HTTPOWER_TRACE(event) ((void)0)
#define HTTPOWER_TRACE_CONN(event, conn) ((void)0)
#define HTTPOWER_SET_SELF(role) ((void)0)
#define HTTPOWER_AS_ROLE(role) ((void)0)
#endif
