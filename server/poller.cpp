#include "poller.hpp"

#include <linux/sockios.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "listener.hpp"

namespace httpower {

namespace {

constexpr std::uint64_t kLingerMaxBytes = 256 * 1024;  // drained at most, then close
constexpr std::chrono::milliseconds kMaxSleep{500};

std::uint32_t events_for(ParkReason why) {
  switch (why) {
    case ParkReason::kWrite:
      return EPOLLOUT | EPOLLONESHOT;
    case ParkReason::kRead:
    case ParkReason::kLinger:
      break;
  }
  return EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
}

// An idle connection: closed at once when draining (the shutdown's second step). A worker has
// read it and found no byte of a request. Connections taken from the listen backlog during
// the drain were never read: they stay until their request arrives (or a deadline).
// A request that arrived after the worker's last read is not idle: it is answered (with
// "Connection: close"), and closing over unread bytes would reset the connection anyway. One
// MSG_PEEK per candidate, only while draining.
bool idle_keep_alive(const Connection& c, ParkReason why) {
  if (why != ParkReason::kRead || !c.read_attempted || c.buffered() != 0 ||
      c.discard_remaining != 0) {
    return false;
  }
  char byte;
  const ssize_t n = ::recv(c.fd.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n <= 0;  // nothing pending (EAGAIN), or EOF / error: close
}

// The next close() sends a reset and frees the socket's buffers at once.
void reset_on_close(int fd) noexcept {
  const linger abort{1, 0};
  (void)::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
}

}  // namespace

std::uint64_t unacked_bytes(int fd) noexcept {
  int n = 0;
  if (::ioctl(fd, SIOCOUTQ, &n) != 0 || n < 0) return 0;
  return static_cast<std::uint64_t>(n);
}

Poller::Poller(BoundedQueue<ConnPtr>& queue, Closer closer, ErrorLog& errors,
               Clock::duration send_timeout, Clock::duration linger_timeout, NowFn now)
    : queue_(queue),
      close_(std::move(closer)),
      errors_(errors),
      limits_{.send = send_timeout, .linger = linger_timeout},
      now_(now) {
  ep_.reset(epoll_create1(EPOLL_CLOEXEC));
  wake_fd_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!ep_ || !wake_fd_) throw StartupError(std::string("epoll: ") + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the wake-up fd
  if (epoll_ctl(ep_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &ev) != 0) {
    throw StartupError(std::string("epoll_ctl: ") + std::strerror(errno));
  }
}

Poller::~Poller() = default;  // parked_ destroys any connection left (none after run())

void Poller::wake() noexcept {
  const std::uint64_t one = 1;
  (void)!::write(wake_fd_.get(), &one, sizeof one);
}

void Poller::park(ConnPtr c, ParkReason why, Clock::time_point deadline) {
  ConnPtr refused;
  bool need_wake = false;
  int arm_error = 0;
  HTTPOWER_OWNED(*c);  // C1: only the owner parks
  {
    MutexLock lock(mu_);
    if (stopping_ || (draining_ && idle_keep_alive(*c, why))) {
      HTTPOWER_TRACE_CONN(kParkRefused, *c);
      refused = std::move(c);
    } else {
      Connection* raw = c.get();
      HTTPOWER_TRACE_CONN(kPark, *c);
      HTTPOWER_GIVE(*c, kPoller);  // before the arming: the poller may take it at once
      c->park_reason = why;
      c->deadline = deadline;
      epoll_event ev{};
      ev.events = events_for(why);
      ev.data.ptr = raw;
      const int op = c->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
      const int fd = c->fd.get();
      c->in_epoll = true;
      parked_.emplace(raw, std::move(c));
      deadlines_.emplace(deadline, raw);
      if (deadline < next_wake_) {
        next_wake_ = deadline;
        need_wake = true;
      }
      // C1: arming is the last step. The poller cannot look at raw before we unlock.
      if (epoll_ctl(ep_.get(), op, fd, &ev) != 0) {
        arm_error = errno;
        refused = take_locked(raw);
        HTTPOWER_TRACE_CONN(kArmFailed, *refused);
        HTTPOWER_TAKE(*refused, kPoller);  // back to the caller, who closes it
      }
    }
  }
  if (arm_error != 0) errors_.report("epoll_ctl: cannot park a connection; closed", arm_error);
  if (refused) close_(std::move(refused));
  if (need_wake) wake();
}

ConnPtr Poller::take_locked(Connection* raw) {
  auto it = parked_.find(raw);
  if (it == parked_.end()) return nullptr;
  ConnPtr c = std::move(it->second);
  parked_.erase(it);
  deadlines_.erase({c->deadline, raw});
  return c;
}

// The poller never sleeps longer than kMaxSleep, so a park whose deadline lies beyond the
// planned wake-up needs no eventfd write: with timeouts of seconds (the defaults), parks
// never wake the poller, at the cost of two idle wake-ups a second.
int Poller::next_timeout_ms(Clock::time_point now, std::chrono::milliseconds max_wait) {
  Clock::time_point wake = now + max_wait;
  if (!deadlines_.empty() && deadlines_.begin()->first < wake) wake = deadlines_.begin()->first;
  next_wake_ = wake;
  return wait_ms(wake, now, max_wait);
}

void Poller::begin_drain() {
  {
    MutexLock lock(mu_);
    HTTPOWER_TRACE(kPollerDrain);
    draining_ = true;
  }
  wake();
}

void Poller::stop() {
  {
    MutexLock lock(mu_);
    HTTPOWER_TRACE(kPollerStop);
    stopping_ = true;
  }
  wake();
}

std::size_t Poller::parked() const {
  MutexLock lock(mu_);
  return parked_.size();
}

std::vector<std::pair<Clock::time_point, ParkReason>> Poller::parked_deadlines() const {
  MutexLock lock(mu_);
  std::vector<std::pair<Clock::time_point, ParkReason>> out;
  for (const auto& [deadline, raw] : deadlines_) out.emplace_back(deadline, raw->park_reason);
  return out;
}

std::size_t Poller::deadline_count() const {
  MutexLock lock(mu_);
  return deadlines_.size();
}

void Poller::on_ready(Connection* raw) {
  ConnPtr c;
  {
    MutexLock lock(mu_);
    c = take_locked(raw);
    if (c) HTTPOWER_TRACE_CONN(kWake, *c);
  }
  if (!c) return;  // not parked any more (closed by the drain, a timeout or stop())
  HTTPOWER_OWNED(*c);
  if (c->park_reason == ParkReason::kLinger) {
    linger_step(std::move(c));
    return;
  }
  c->maybe_readable = true;
  hand_over(std::move(c));
}

// Never waits for queue space (L2): a connection that finds the queue full, or finds others
// held before it, joins the held FIFO, so readiness order is kept.
void Poller::hand_over(ConnPtr c) {
  HTTPOWER_OWNED(*c);
  if (held_.empty()) {
    const QueueStatus st = offer(c);
    if (st == QueueStatus::kOk) return;
    if (st == QueueStatus::kClosed) {  // not moved from (Q4): still ours to close
      close_(std::move(c));
      return;
    }
  } else {
    HTTPOWER_TRACE_CONN(kHeld, *c);
  }
  held_.push_back(std::move(c));
  held_count_.store(held_.size());
  holding_.store(true);
}

// holding_ is set before this retry and a worker loads it after its pop (queue_space()), so
// a pop that frees a slot after a failed try_push wakes the poller; kMaxSleep bounds the
// wait in any case.
void Poller::push_held() {
  while (!held_.empty()) {
    const QueueStatus st = offer(held_.front());
    if (st == QueueStatus::kFull) break;
    if (st == QueueStatus::kClosed) close_(std::move(held_.front()));
    held_.pop_front();
  }
  held_count_.store(held_.size());
  holding_.store(!held_.empty());
}

// RFC 9112 §9.6: after a closing response and shutdown(SHUT_WR), read and discard what the
// client still sends until it closes, kLingerMaxBytes, or the linger deadline.
void Poller::linger_step(ConnPtr c) {
  HTTPOWER_OWNED(*c);
  std::array<char, 16 * 1024> sink;
  for (;;) {
    const ssize_t n = ::recv(c->fd.get(), sink.data(), sink.size(), MSG_DONTWAIT);
    if (n > 0) {
      c->linger_drained += static_cast<std::uint64_t>(n);
      if (c->linger_drained > kLingerMaxBytes) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const Clock::time_point deadline = c->deadline;
      park(std::move(c), ParkReason::kLinger, deadline);
      return;
    }
    break;  // EOF or error
  }
  close_(std::move(c));
}

// A deadline passed (the connection is no longer parked): the rules in timeouts.hpp.
void Poller::expire(ConnPtr c, Clock::time_point now) {
  HTTPOWER_OWNED(*c);
  const std::uint64_t unacked =
      c->park_reason == ParkReason::kLinger ? unacked_bytes(c->fd.get()) : 0;
  const ExpiryVerdict v =
      on_deadline(c->park_reason, c->partial_request(), unacked, now, limits_, c->times);
  if (v.action == Expiry::kWait) {
    park(std::move(c), ParkReason::kLinger, v.next);
    return;
  }
  if (v.action == Expiry::kReset) reset_on_close(c->fd.get());
  close_(std::move(c));
}

void Poller::run() {
  HTTPOWER_SET_SELF(handoff::Role::kPoller);
  while (!round(kMaxSleep)) {
  }
  HTTPOWER_TRACE(kPollerExit);
}

// Readiness first, deadlines second: an event that arrives in the round its connection's
// deadline is reached wins (timeouts.hpp). A connection handed on by on_ready is no longer
// in deadlines_, and one that expired is closed, so a later event for it finds nothing.
bool Poller::round(std::chrono::milliseconds max_wait) {
  // Whoever drives a round is the poller for its length (a test's thread too, which drives
  // rounds by hand on its own clock).
  HTTPOWER_AS_ROLE(handoff::Role::kPoller);
  std::array<epoll_event, 256> events;
  int timeout = 0;
  {
    MutexLock lock(mu_);
    timeout = next_timeout_ms(now_(), max_wait);
  }
  const int n = epoll_wait(ep_.get(), events.data(), static_cast<int>(events.size()), timeout);
  if (n < 0 && errno != EINTR) errors_.report("epoll_wait", errno);
  for (int i = 0; i < n; ++i) {
    if (events[static_cast<std::size_t>(i)].data.ptr == nullptr) {
      std::uint64_t v = 0;
      (void)!::read(wake_fd_.get(), &v, sizeof v);
      continue;
    }
    on_ready(static_cast<Connection*>(events[static_cast<std::size_t>(i)].data.ptr));
  }
  if (!held_.empty()) push_held();
  std::vector<ConnPtr> doomed;
  std::vector<ConnPtr> expired;
  bool exit_now = false;
  const Clock::time_point now = now_();
  {
    MutexLock lock(mu_);
    exit_now = sweep(now, doomed, expired);
  }
  for (ConnPtr& c : doomed) close_(std::move(c));
  for (ConnPtr& c : expired) expire(std::move(c), now);
  return exit_now;
}

// Under the lock: takes out what stop(), the deadlines reached at `now` and the drain close.
// True after stop().
bool Poller::sweep(Clock::time_point now, std::vector<ConnPtr>& doomed,
                   std::vector<ConnPtr>& expired) {
  if (stopping_) {
    for (ConnPtr& c : held_) {
      HTTPOWER_TRACE_CONN(kStopClose, *c);
      doomed.push_back(std::move(c));
    }
    held_.clear();
    held_count_.store(0);
    for (auto& [raw, c] : parked_) {
      HTTPOWER_TRACE_CONN(kStopClose, *c);
      doomed.push_back(std::move(c));
    }
    parked_.clear();
    deadlines_.clear();
    return true;
  }
  while (!deadlines_.empty() && deadline_reached(deadlines_.begin()->first, now)) {
    expired.push_back(take_locked(deadlines_.begin()->second));
    HTTPOWER_TRACE_CONN(kExpire, *expired.back());
  }
  if (draining_ && !drain_done_) {
    drain_done_ = true;
    for (auto it = parked_.begin(); it != parked_.end();) {
      if (idle_keep_alive(*it->second, it->second->park_reason)) {
        HTTPOWER_TRACE_CONN(kSweep, *it->second);
        deadlines_.erase({it->second->deadline, it->first});
        doomed.push_back(std::move(it->second));
        it = parked_.erase(it);
      } else {
        ++it;
      }
    }
  }
  return false;
}

}  // namespace httpower
