#pragma once
// The poller thread: owns parked connections in an epoll set (one-shot), enforces the
// header / idle / send / linger deadlines, does lingering closes itself, and pushes
// connections that became ready back into the ready queue.
//
// Hand-off rule (C1, proofs/INVARIANTS.md): park() is the LAST thing a worker does with a connection.
// Under the poller's lock it (1) moves the unique_ptr into parked_, (2) records the deadline,
// (3) arms epoll (EPOLL_CTL_ADD / MOD with EPOLLONESHOT). The poller thread looks a ready
// connection up in parked_ under the same lock before touching it, so an event that fires
// the instant epoll is armed still finds the connection parked, and the worker has already
// let go of it. One-shot arming means one readiness event hands the connection to exactly
// one thread. A park does not write the wake-up eventfd unless its deadline is earlier than
// the poller's planned wake-up, which is never more than 500 ms away: with timeouts of
// seconds, a park costs one epoll_ctl and nothing else.
//
// The poller never waits for queue space (L2, S2): it hands ready connections to the queue
// with try_push, and when the queue is full it keeps them, in arrival order, in a FIFO of
// its own (held_, touched by the poller thread only) and goes on enforcing deadlines, the
// drain and stop(). A worker that pops while the poller holds connections wakes it
// (queue_space()), and the poller retries the FIFO, oldest first, before anything newer
// joins the queue. Held connections are ready ones waiting for a worker, like those in the
// queue: no deadline applies to them; stop() closes them. So workers never wait on the
// poller, the poller waits on nobody, and the acceptor waits only on the queue (its blocking
// push is the designed backpressure; queue close() wakes it).
//
// Shutdown: begin_drain() makes the poller close idle keep-alive connections (parked for
// read, at least one response sent, no byte of a next request buffered) and close any that
// park later in that state. stop() (after the queue is closed) makes the poller close every
// connection it holds and exit; a park() after stop() closes the connection at once.
//
// Timeouts: a connection whose deadline passes is closed, and aborted with a reset
// (SO_LINGER 0) when a normal close would leave bytes behind: a send timeout (the unsent
// response would sit in the kernel, FIN-WAIT-1, for as long as the client does not read), a
// header timeout with part of a request received, a lingering close whose client stopped
// taking the response. An idle timeout, or a header timeout with nothing received, closes
// with a FIN. A lingering close whose client still takes the response is not cut: its
// deadline moves on while the client acknowledges bytes at least every send timeout. The
// rules, the instant a deadline counts as reached, and which of an event and a deadline in
// the same round wins, are httpower/timeouts.hpp's. The poller reads "now" through a NowFn
// (Clock::now in production), and run() is a loop of round(), so tests drive rounds one by
// one with a clock of their own (server/deadline_test.cpp).

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "error_log.hpp"
#include "httpower/bounded_queue.hpp"
#include "httpower/thread_annotations.hpp"

namespace httpower {

// Bytes of the socket's output the peer has not acknowledged yet (SIOCOUTQ; a FIN counts
// as one); 0 when unknown.
[[nodiscard]] std::uint64_t unacked_bytes(int fd) noexcept;

// One push into the ready queue (`push` calls a push form of it), with C1's checks: the
// owner tag goes to the queue before the push (a worker may pop it at once) and comes back
// when the queue refuses it (not moved from, Q4); traced as push, then held (kFull) or
// refused (kClosed).
template <typename PushFn>
[[nodiscard]] QueueStatus hand_to_queue(ConnPtr& c, PushFn push) {
#if defined(HTTPOWER_HANDOFF_CHECKS)
  Connection& conn = *c;
  HTTPOWER_TRACE_CONN(kPush, conn);
  HTTPOWER_GIVE(conn, kQueue);
  const QueueStatus st = push(std::move(c));
  if (st == QueueStatus::kFull) HTTPOWER_TRACE_CONN(kHeld, conn);
  if (st == QueueStatus::kClosed) HTTPOWER_TRACE_CONN(kRefused, conn);
  if (st != QueueStatus::kOk) HTTPOWER_TAKE(conn, kQueue);
  return st;
#else
  return push(std::move(c));
#endif
}

class Poller {
 public:
  using Closer = std::function<void(ConnPtr)>;

  Poller(BoundedQueue<ConnPtr>& queue, Closer closer, ErrorLog& errors,
         Clock::duration send_timeout, Clock::duration linger_timeout, NowFn now = &Clock::now);
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;
  ~Poller();

  // Hands c to the poller (C1: the caller must not touch it afterwards).
  void park(ConnPtr c, ParkReason why, Clock::time_point deadline) EXCLUDES(mu_);

  void run() EXCLUDES(mu_);  // the poller thread's body; returns after stop()
  // One round of run(): waits for readiness until the earliest deadline, at most max_wait
  // (tests pass 0: no wait), hands ready connections on, then enforces the deadlines reached
  // at now(), the drain and stop(). True once stopped (everything closed).
  bool round(std::chrono::milliseconds max_wait) EXCLUDES(mu_);
  void begin_drain() EXCLUDES(mu_);
  void stop() EXCLUDES(mu_);

  [[nodiscard]] std::size_t parked() const EXCLUDES(mu_);
  // Called by a worker after each pop: wakes the poller when it holds ready connections
  // that found the queue full. One atomic load otherwise.
  void queue_space() noexcept {
    if (holding_.load()) wake();
  }
  // Connections the poller holds because the queue was full (tests, stats).
  [[nodiscard]] std::size_t held() const noexcept { return held_count_.load(); }
  // For tests: the parked connections' deadlines and reasons, earliest first.
  [[nodiscard]] std::vector<std::pair<Clock::time_point, ParkReason>> parked_deadlines() const
      EXCLUDES(mu_);
  // How many deadlines are pending (one per parked connection when the books are right).
  [[nodiscard]] std::size_t deadline_count() const EXCLUDES(mu_);
  // Ends the current wait (a park with an earlier deadline; tests that moved their clock).
  void wake() noexcept;

 private:
  void on_ready(Connection* raw) EXCLUDES(mu_);
  void hand_over(ConnPtr c);
  [[nodiscard]] QueueStatus offer(ConnPtr& c) {
    return hand_to_queue(c, [this](ConnPtr&& x) { return queue_.try_push(std::move(x)); });
  }
  void push_held();
  void linger_step(ConnPtr c);
  void expire(ConnPtr c, Clock::time_point now);
  ConnPtr take_locked(Connection* raw) REQUIRES(mu_);
  int next_timeout_ms(Clock::time_point now, std::chrono::milliseconds max_wait) REQUIRES(mu_);
  bool sweep(Clock::time_point now, std::vector<ConnPtr>& doomed, std::vector<ConnPtr>& expired)
      REQUIRES(mu_);

  BoundedQueue<ConnPtr>& queue_;
  Closer close_;
  ErrorLog& errors_;
  std::deque<ConnPtr> held_;  // ready, waiting for queue space; poller thread only
  std::atomic<bool> holding_{false};
  std::atomic<std::size_t> held_count_{0};
  Timeouts limits_;  // send and linger (the poller enforces the others as parked deadlines)
  NowFn now_;
  UniqueFd ep_;
  UniqueFd wake_fd_;
  mutable Mutex mu_;
  std::unordered_map<Connection*, ConnPtr> parked_ GUARDED_BY(mu_);
  std::set<std::pair<Clock::time_point, Connection*>> deadlines_ GUARDED_BY(mu_);
  Clock::time_point next_wake_ GUARDED_BY(mu_) = Clock::time_point::max();
  bool draining_ GUARDED_BY(mu_) = false;
  bool drain_done_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
};

}  // namespace httpower
