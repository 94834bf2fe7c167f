// Deadlines on a clock the test moves (timeouts.hpp): nothing here waits for time to pass.
//
// PollerRounds drives a real Poller round by round from the test thread (round(0ms): no
// wait), over socket pairs, with TestTime as its clock: each timeout one tick before, at and
// one tick after its deadline, and the races between a deadline and an event in the same
// round. ServerOnTestClock runs the whole server on TestTime and reads the deadline each park
// gets, so which progress restarts which timeout is checked at the server's call sites.
#include <sys/socket.h>

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "error_log.hpp"
#include "httpower/timeouts.hpp"
#include "poller.hpp"
#include "test_support.hpp"

namespace httpower::test {
namespace {

constexpr Clock::duration kTick{1};

// The clock of these tests: it moves only when the test sets it.
class TestTime {
 public:
  static Clock::time_point now() noexcept { return Clock::time_point(Clock::duration(ticks_.load())); }
  static void set(Clock::time_point t) noexcept { ticks_.store(t.time_since_epoch().count()); }

 private:
  static inline std::atomic<Clock::rep> ticks_{0};
};

const Clock::time_point T0 = Clock::time_point{} + 1h;

// Writes until the socket's buffers are full; returns the bytes written.
std::size_t fill_socket(int fd) {
  const std::string chunk(4096, 'r');
  std::size_t total = 0;
  for (int i = 0; i < 100'000; ++i) {
    const ssize_t n = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n <= 0) break;
    total += static_cast<std::size_t>(n);
  }
  return total;
}

// Reads and discards up to `max` bytes that are there now.
std::size_t drain_socket(int fd, std::size_t max) {
  char buf[4096];
  std::size_t total = 0;
  while (total < max) {
    const ssize_t n = ::recv(fd, buf, std::min(sizeof buf, max - total), MSG_DONTWAIT);
    if (n <= 0) break;
    total += static_cast<std::size_t>(n);
  }
  return total;
}

enum class Closed { kNo, kFin, kReset };

// A real Poller with no thread of its own and TestTime as its clock. The closer records how
// each connection was closed: a reset is a close with SO_LINGER {1, 0} set.
class PollerRounds : public ::testing::Test {
 protected:
  void SetUp() override { TestTime::set(T0); }
  void TearDown() override {
    poller_.stop();
    EXPECT_TRUE(poller_.round(0ms));
  }
  Connection* park(ParkReason why, Clock::time_point deadline) {
    pairs_.push_back(socket_pair());
    ConnPtr c = std::make_unique<Connection>();
    c->fd = std::move(pairs_.back().ours);
    Connection* raw = c.get();
    peer_[raw] = pairs_.back().peer.get();
    prepare_(*c);
    poller_.park(std::move(c), why, deadline);
    return raw;
  }
  int peer(Connection* c) { return peer_.at(c); }
  // One round at `now`, waiting for nothing.
  void round_at(Clock::time_point now) {
    TestTime::set(now);
    ASSERT_FALSE(poller_.round(0ms));
  }
  Closed closed(Connection* c) const {
    const auto it = closed_.find(c);
    return it == closed_.end() ? Closed::kNo : it->second;
  }
  // The connection the poller handed to the queue (a worker's pop), or null.
  // The test's thread pops as a worker does: it takes the connection from the queue (C1).
  ConnPtr queued() {
    PopResult<ConnPtr> r = queue_.try_pop();
    if (!r.ok()) return nullptr;
    HTTPOWER_TAKE(**r.item, kQueue);
    return std::move(*r.item);
  }
  void close(ConnPtr c) {
    linger l{};
    socklen_t len = sizeof l;
    const bool reset =
        getsockopt(c->fd.get(), SOL_SOCKET, SO_LINGER, &l, &len) == 0 && l.l_onoff && !l.l_linger;
    closed_[c.get()] = reset ? Closed::kReset : Closed::kFin;
    c->fd.reset();
    graveyard_.push_back(std::move(c));  // no later connection gets its address
  }

  std::function<void(Connection&)> prepare_ = [](Connection&) {};
  TempDir dir_;
  ErrorLog errors_{dir_.path() + "/error.log"};
  BoundedQueue<ConnPtr> queue_{16};
  std::vector<ConnPtr> graveyard_;  // destroyed after the poller (declared before it)
  std::map<Connection*, Closed> closed_;
  std::map<Connection*, int> peer_;
  Poller poller_{queue_, [this](ConnPtr c) { close(std::move(c)); }, errors_, 30s, 2s,
                 &TestTime::now};
  std::vector<Pair> pairs_;
};

struct Edge {
  const char* name;
  ParkReason why;
  std::function<void(Connection&)> prepare;  // the connection's state when it parks
  bool fill;                                 // our side's buffers full (a blocked response)
  Closed at_deadline;
};

void PrintTo(const Edge& e, std::ostream* os) { *os << e.name; }

class PollerDeadlineEdge : public PollerRounds, public ::testing::WithParamInterface<Edge> {};

// One tick before the deadline: still parked; at it: closed as the rule says (a reset where
// bytes would be left behind); a connection whose deadline passed a tick ago: the same.
TEST_P(PollerDeadlineEdge, OneTickBeforeAtAndAfterTheDeadline) {
  const Edge& e = GetParam();
  prepare_ = e.prepare;
  const Clock::time_point d = T0 + 10s;
  Connection* c = park(e.why, d);
  Connection* late = park(e.why, d);
  if (e.fill) {
    ASSERT_GT(fill_socket(c->fd.get()), 0u);
    ASSERT_GT(fill_socket(late->fd.get()), 0u);
  }
  round_at(d - kTick);
  EXPECT_EQ(closed(c), Closed::kNo) << e.name << ": expired one tick before its deadline";
  EXPECT_EQ(poller_.parked(), 2u);
  EXPECT_EQ(queued(), nullptr) << e.name << ": an event nobody caused";
  (void)late;
  round_at(d);
  EXPECT_EQ(closed(c), e.at_deadline) << e.name << ": at the deadline";
  EXPECT_EQ(closed(late), e.at_deadline);
  Connection* after = park(e.why, d);
  if (e.fill) {
    ASSERT_GT(fill_socket(after->fd.get()), 0u);
  }
  round_at(d + kTick);
  EXPECT_EQ(closed(after), e.at_deadline) << e.name << ": one tick after the deadline";
  EXPECT_EQ(poller_.parked(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    EveryTimeout, PollerDeadlineEdge,
    ::testing::Values(
        Edge{"header (part of a head received)", ParkReason::kRead,
             [](Connection& c) { c.in_end = 5; }, false, Closed::kReset},
        Edge{"idle keep-alive", ParkReason::kRead,
             [](Connection& c) { c.requests = 1; }, false, Closed::kFin},
        Edge{"discarded body", ParkReason::kRead,
             [](Connection& c) { c.discard_remaining = 100; }, false, Closed::kReset},
        Edge{"send", ParkReason::kWrite, [](Connection&) {}, true, Closed::kReset},
        Edge{"linger, everything acknowledged", ParkReason::kLinger, [](Connection&) {}, false,
             Closed::kFin}),
    [](const ::testing::TestParamInfo<Edge>& p) {
      std::string name;
      for (const char* s = p.param.name; *s != '\0' && *s != ' ' && *s != ','; ++s) name += *s;
      return name + "_" + std::to_string(p.index);
    });

// Data arrives in the round its connection's deadline is reached: the event wins, the
// connection goes to a worker (the request is answered), and it is not also closed.
TEST_F(PollerRounds, DataArrivingInTheRoundOfTheDeadlineWins) {
  const Clock::time_point d = T0 + 15s;
  Connection* c = park(ParkReason::kRead, d);
  ASSERT_EQ(::send(peer(c), "G", 1, 0), 1);
  round_at(d);
  ConnPtr got = queued();
  EXPECT_EQ(got.get(), c) << "a request that arrived with the deadline was not handed on";
  EXPECT_EQ(closed(c), Closed::kNo) << "handed on and closed: two owners";
  EXPECT_EQ(poller_.parked(), 0u);
  // The worker reads a partial head and parks again with its (unchanged) header deadline:
  // the next round closes it, with a reset. Readiness never extends a deadline.
  ASSERT_EQ(drain_socket(got->fd.get(), 1), 1u);
  got->in_end = 1;
  poller_.park(std::move(got), ParkReason::kRead, d);
  round_at(d);
  EXPECT_EQ(closed(c), Closed::kReset);
}

// The socket of a blocked response becomes writable in the round its send deadline is
// reached: the client took bytes, so the response goes on.
TEST_F(PollerRounds, WritableInTheRoundOfTheSendDeadlineWins) {
  const Clock::time_point d = T0 + 30s;
  Connection* c = park(ParkReason::kWrite, d);
  const std::size_t full = fill_socket(c->fd.get());
  ASSERT_GT(full, 0u);
  round_at(d - kTick);
  EXPECT_EQ(queued(), nullptr) << "writable before the client read anything";
  ASSERT_EQ(drain_socket(peer(c), full), full);
  round_at(d);
  EXPECT_EQ(queued().get(), c) << "the client's progress lost to the send deadline";
  EXPECT_EQ(closed(c), Closed::kNo);
}

// An event and the deadline of a lingering close in one round: the late bytes are read and
// discarded first, then the deadline is looked at in the same round (no second owner: the
// lingering close is the poller's own). The client has not acknowledged the response, but
// it still has until the send timeout: the linger waits, at most the linger timeout a time.
// Progress (the client reads) restarts the send timeout; without progress it ends in a reset.
TEST_F(PollerRounds, LingerDrainsInTheRoundOfItsDeadlineAndGoesOnWhileTheClientReads) {
  Connection* c = nullptr;
  std::size_t unacked = 0;
  prepare_ = [&](Connection& conn) {
    unacked = fill_socket(conn.fd.get());
    conn.times.linger_began(T0, unacked_bytes(conn.fd.get()));
  };
  c = park(ParkReason::kLinger, T0 + 2s);
  ASSERT_GT(unacked, 0u);
  ASSERT_GT(c->times.linger_unacked, 0u) << "SIOCOUTQ reads nothing on this socket";
  ASSERT_EQ(::send(peer(c), "late request", 12, 0), 12);
  round_at(T0 + 2s);
  EXPECT_EQ(queued(), nullptr) << "a lingering close is never handed to a worker";
  EXPECT_EQ(closed(c), Closed::kNo) << "cut at the linger deadline while the send timeout runs";
  auto parked = poller_.parked_deadlines();
  ASSERT_EQ(parked.size(), 1u);
  EXPECT_EQ(parked[0], std::make_pair(T0 + 4s, ParkReason::kLinger));
  // The client reads half of the response at 20 s: at the next deadline that is progress.
  ASSERT_GT(drain_socket(peer(c), unacked / 2), 0u);
  round_at(T0 + 20s);
  parked = poller_.parked_deadlines();
  ASSERT_EQ(parked.size(), 1u);
  EXPECT_EQ(parked[0], std::make_pair(T0 + 22s, ParkReason::kLinger));
  // No more progress: one tick before 20 s + the send timeout it still waits ...
  round_at(T0 + 50s - kTick);
  EXPECT_EQ(closed(c), Closed::kNo) << "the progress at 20 s did not restart the send timeout";
  parked = poller_.parked_deadlines();
  ASSERT_EQ(parked.size(), 1u);
  EXPECT_EQ(parked[0], std::make_pair(T0 + 50s, ParkReason::kLinger));
  // ... and at it the unacknowledged response is dropped with a reset.
  round_at(T0 + 50s);
  EXPECT_EQ(closed(c), Closed::kReset);
}

// A park whose deadline is earlier than the poller's planned wake-up wakes it; the wake and
// the expiry of that connection in one round close it once, and the stale wake-up is read
// in the next round without effect.
TEST_F(PollerRounds, AWakeAndAnExpiryOfTheSameConnectionCloseItOnce) {
  round_at(T0);  // plans the next wake-up (the round's max wait away: now)
  Connection* c = park(ParkReason::kRead, T0 - 1s);  // already passed
  Connection* other = park(ParkReason::kRead, T0 + 1s);
  round_at(T0);
  EXPECT_EQ(closed(c), Closed::kFin);
  EXPECT_EQ(closed(other), Closed::kNo);
  closed_.erase(c);
  round_at(T0);
  EXPECT_EQ(closed(c), Closed::kNo) << "closed twice";
  EXPECT_EQ(poller_.parked(), 1u);
}

// Shutdown: the drain closes idle keep-alive connections in the next round, whatever their
// deadline; a connection with part of a request stays until its header deadline.
TEST_F(PollerRounds, TheDrainClosesIdleConnectionsAndLeavesPartialRequestsToTheirDeadline) {
  prepare_ = [](Connection& c) {
    c.read_attempted = true;
    c.requests = 1;
  };
  Connection* idle = park(ParkReason::kRead, T0 + 15s);
  prepare_ = [](Connection& c) {
    c.read_attempted = true;
    c.in_end = 3;
  };
  Connection* partial = park(ParkReason::kRead, T0 + 10s);
  poller_.begin_drain();
  round_at(T0);
  EXPECT_EQ(closed(idle), Closed::kFin);
  EXPECT_EQ(closed(partial), Closed::kNo);
  // The closed one's deadline went with it: a stale one would come due at T0 + 15s for a
  // connection that is gone, and the sweep would spin on it.
  EXPECT_EQ(poller_.deadline_count(), 1u);
  EXPECT_EQ(poller_.parked(), 1u);
  round_at(T0 + 10s - kTick);
  EXPECT_EQ(closed(partial), Closed::kNo);
  round_at(T0 + 10s);
  EXPECT_EQ(closed(partial), Closed::kReset);
}

// ---------------------------------------------------------------------------------------
// The whole server on TestTime: the deadline each park gets, read back from the poller.

class ServerOnTestClock : public ::testing::Test {
 protected:
  void SetUp() override {
    TestTime::set(T0);
    root_.write("small.txt", "small\n");
    ASSERT_TRUE(root_.write_sparse("big.bin", 64ull << 20));
    Config c = test_config(root_.path(), 1);
    harness_ = std::make_unique<ServerHarness>(std::move(c));
    harness_->server().use_clock_for_test(&TestTime::now);
    harness_->start();
  }
  // Every deadline passes, so nothing parked can hold the stop.
  void TearDown() override {
    move_clock_to(T0 + 1h);
    harness_.reset();
  }
  using Parked = std::vector<std::pair<Clock::time_point, ParkReason>>;
  // Waits (bounded) until exactly one connection is parked with an entry other than
  // `previous`; returns what is parked then.
  Parked wait_parked_other_than(const Parked& previous) {
    const auto until = TestClock::now() + 10s;
    Parked now;
    for (int i = 0; i < 10'000'000 && TestClock::now() < until; ++i) {
      now = harness_->server().parked_deadlines();
      if (now.size() == 1 && now != previous) return now;
      std::this_thread::yield();
    }
    ADD_FAILURE() << "no new park within 10 s";
    return now;
  }
  // Moves the clock and makes the poller look at its deadlines.
  void move_clock_to(Clock::time_point t) {
    TestTime::set(t);
    harness_->server().wake_poller_for_test();
  }
  // Moves the clock to a deadline whose rule is a reset: the client reads ECONNRESET (after
  // anything the server sent before), within 5 s.
  void expect_reset_at(Clock::time_point deadline, Client& client, const char* what) {
    move_clock_to(deadline);
    client.set_deadline(5s);
    EXPECT_FALSE(client.read_to_eof()) << what;
    EXPECT_EQ(client.last_errno(), ECONNRESET) << what;
  }

  TempDir root_;
  std::unique_ptr<ServerHarness> harness_;
};

// Keep-alive: the first request's header timeout runs from the accept, the idle timeout from
// the end of the response, and the next request's header timeout from its first byte (not
// from the previous request). At that deadline the connection is reset (a partial head).
TEST_F(ServerOnTestClock, ANewRequestRestartsTheHeaderTimeout) {
  Client k = harness_->client(20s);
  Parked p = wait_parked_other_than({});
  EXPECT_EQ(p, Parked({{T0 + 10s, ParkReason::kRead}})) << "a new connection: header timeout";
  TestTime::set(T0 + 1s);
  ASSERT_TRUE(k.send_all(get_request("/small.txt")));
  auto r = k.read_response();
  ASSERT_TRUE(r && r->status == 200);
  p = wait_parked_other_than(p);
  EXPECT_EQ(p, Parked({{T0 + 16s, ParkReason::kRead}})) << "idle: from the response's end";
  TestTime::set(T0 + 5s);
  ASSERT_TRUE(k.send_all("GET /small.txt HTTP/1.1\r\n"));
  p = wait_parked_other_than(p);
  EXPECT_EQ(p, Parked({{T0 + 15s, ParkReason::kRead}}))
      << "the second request's header timeout does not run from its first byte";
  expect_reset_at(T0 + 15s, k, "a partial head at its deadline");
}

// A client that stops reading: each block of the response restarts the send timeout once the
// client took bytes; at the send deadline after the last progress the response is cut with
// a reset.
TEST_F(ServerOnTestClock, SendProgressRestartsTheSendTimeout) {
  Client slow;
  ASSERT_TRUE(slow.connect_to("127.0.0.1", harness_->port(), 20s, 4096));
  ASSERT_TRUE(slow.send_all(get_request("/big.bin")));
  Parked p;
  for (int i = 0; i < 100 && (p.empty() || p[0].second != ParkReason::kWrite); ++i) {
    p = wait_parked_other_than(p);
  }
  ASSERT_EQ(p, Parked({{T0 + 30s, ParkReason::kWrite}}));
  TestTime::set(T0 + 20s);
  // The client reads until the worker blocked again (bounded by the file's size).
  std::uint64_t got = 0;
  for (int i = 0; i < 100'000 && got < (64ull << 20); ++i) {
    const ssize_t n = slow.fill(64 * 1024);
    ASSERT_GT(n, 0);
    got += static_cast<std::uint64_t>(n);
    slow.buffered().clear();
    p = harness_->server().parked_deadlines();
    if (p.size() == 1 && p[0].first != T0 + 30s) break;
  }
  EXPECT_EQ(p, Parked({{T0 + 50s, ParkReason::kWrite}}))
      << "the client's progress at 20 s did not restart the send timeout";
  expect_reset_at(T0 + 50s, slow, "a response at its send deadline");
}

// A request body the server discards has the header timeout from the end of its head; body
// bytes trickling in do not extend it (at the deadline: a reset, the body is unread).
TEST_F(ServerOnTestClock, DiscardedBodyBytesDoNotExtendItsDeadline) {
  Client k = harness_->client(20s);
  Parked p = wait_parked_other_than({});
  TestTime::set(T0 + 1s);
  ASSERT_TRUE(k.send_all("POST /small.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12"));
  auto r = k.read_response();
  ASSERT_TRUE(r && r->status == 405) << (r ? r->head : "no response");
  p = wait_parked_other_than(p);
  EXPECT_EQ(p, Parked({{T0 + 11s, ParkReason::kRead}})) << "the body's deadline: head + 10 s";
  TestTime::set(T0 + 6s);
  ASSERT_TRUE(k.send_all("345"));
  // Whether or not the worker has read "345" yet, the deadline is still T0 + 11 s.
  expect_reset_at(T0 + 11s, k, "body bytes extended the body's deadline");
}

}  // namespace
}  // namespace httpower::test
