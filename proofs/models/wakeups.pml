/*
 * wakeups.pml: the wake-up protocols that rest on atomics outside the ready queue
 * (server/server.hpp, server/poller.hpp), under a memory model weaker than sequential
 * consistency. proofs/INVARIANTS.md ("Atomics outside the queue") states each pairing;
 * proofs/models/README.md maps this model to the code.
 *
 * Memory: every thread has a store buffer, one slot per variable. A store that is not
 * seq_cst (relaxed / release, or the write of a non-seq_cst read-modify-write) goes into the
 * thread's buffer and becomes visible to the others later, at any moment (the flusher
 * process), so a later load of another variable by the same thread can be satisfied first:
 * the store-buffering reordering that C++ allows for everything but seq_cst operations. A
 * thread reads its own buffered value first. A seq_cst store or read-modify-write empties
 * the thread's buffer and writes memory in one step (so seq_cst operations are totally
 * ordered, and a seq_cst load after it cannot pass it). A mutex unlock and a write to an
 * eventfd are releases: the thread's buffer is emptied first (the kernel orders the eventfd
 * write before the read that sees it); a lock is an acquire and empties nothing.
 *
 * PROTO (spin -DPROTO=n) picks the protocol; each waiting thread waits without a timeout, so
 * a lost wake-up is an invalid end state (in the code it costs the wait's cap: 1 s, the
 * poller's 500 ms, the drain deadline, a test's deadline).
 *   1  Server::run (at the limit) / close_connection: acceptor_waiting_ and live_
 *   2  Server::supervise / close_connection / run: draining_, live_, listener_closed_
 *   3  Poller::hand_over, push_held / worker_main (queue_space): holding_ and the queue
 *   4  wait_open_connections_at_most / close_connection: watchers_ and live_
 *   5  request_stop / supervise: stop_requests_ and stop_fd_
 *
 * Variants (each pass row keeps the code's orderings; the fail rows break one):
 *   ACC_WEAK      1: the acceptor's acceptor_waiting_.store(true) is not seq_cst
 *   CLOSE_WEAK    1, 2, 4: close_connection's live_.fetch_sub is not seq_cst
 *   NO_RECHECK    1: the acceptor does not re-check live_ after setting the flag
 *   SUP_WEAK      2: the supervisor's draining_.store(true) is not seq_cst
 *   LC_WEAK       2: listener_closed_.store(true) is relaxed (it suffices: the notify follows)
 *   NOTIFY_FIRST  2: the acceptor writes stop_fd_ before listener_closed_;
 *                 5: request_stop writes stop_fd_ before counting the request
 *   HOLD_WEAK     3: holding_ stores are relaxed (it suffices: the queue's mutex orders them)
 *   HOLDING_AFTER_RETRY  3: hand_over does not set holding_; only push_held's store after its
 *                 retry does
 *   WATCH_WEAK    4: watchers_.fetch_add is not seq_cst
 *   STOP_WEAK     5: stop_requests_.fetch_add is relaxed (it suffices: the eventfd orders it)
 */

#ifndef PROTO
#define PROTO 1
#endif

#define NT 3          /* threads that store: 0, 1, 2 (per protocol below) */
#define NV 7          /* variables */
#define LIVE      0
#define WAITING   1
#define DRAINING  2
#define LCLOSED   3
#define HOLDING   4
#define WATCHERS  5
#define STOPREQ   6

byte mem[NV];
bool pend[NT * NV];   /* a buffered store of thread t to variable x: pend[t*NV + x] */
byte bufv[NT * NV];
byte finished;        /* threads that returned */

#define LD(t, x) (pend[(t) * NV + (x)] -> bufv[(t) * NV + (x)] : mem[x])

inline flush_all(t) {
  fi_ = 0;
  do
  :: fi_ < NV ->
     if
     :: pend[(t) * NV + fi_] -> mem[fi_] = bufv[(t) * NV + fi_]; pend[(t) * NV + fi_] = false
     :: else -> skip
     fi;
     fi_++
  :: else -> break
  od;
  fi_ = 0
}

/* store: seq_cst (sc = 1) or not */
inline store(t, x, v, sc) {
  d_step {
    if
    :: sc -> flush_all(t); mem[x] = v
    :: else -> bufv[(t) * NV + (x)] = v; pend[(t) * NV + (x)] = true
    fi
  }
}

/* fetch_add(d): old gets the value before; the write is buffered unless seq_cst */
inline fetch_add(t, x, d, old, sc) {
  d_step {
    old = LD(t, x);
    if
    :: sc -> flush_all(t); mem[x] = old + d
    :: else -> bufv[(t) * NV + (x)] = old + d; pend[(t) * NV + (x)] = true
    fi
  }
}

/* a release that other threads synchronise with: an unlock, an eventfd write */
inline release(t) {
  d_step { flush_all(t) }
}

#define FL(i) :: d_step { pend[i] -> mem[(i) % NV] = bufv[i]; pend[i] = false }
proctype flusher() {
end:
  do
  FL(0) FL(1) FL(2) FL(3) FL(4) FL(5) FL(6)
  FL(7) FL(8) FL(9) FL(10) FL(11) FL(12) FL(13)
  FL(14) FL(15) FL(16) FL(17) FL(18) FL(19) FL(20)
  od
}   /* unreachable: the flusher never returns; it rests at its end label */

#ifdef ACC_WEAK
#define ACC_SC 0
#else
#define ACC_SC 1
#endif
#ifdef CLOSE_WEAK
#define CLOSE_SC 0
#else
#define CLOSE_SC 1
#endif
#ifdef SUP_WEAK
#define SUP_SC 0
#else
#define SUP_SC 1
#endif
#ifdef LC_WEAK
#define LC_SC 0
#else
#define LC_SC 1
#endif
#ifdef HOLD_WEAK
#define HOLD_SC 0
#else
#define HOLD_SC 1
#endif
#ifdef WATCH_WEAK
#define WATCH_SC 0
#else
#define WATCH_SC 1
#endif
#ifdef STOP_WEAK
#define STOP_SC 0
#else
#define STOP_SC 1
#endif

bool evfd;             /* the eventfd the waiting thread polls (accept_fd_, stop_fd_,
                         the poller's wake_fd_) */

#if PROTO == 1
/* max_connections = 1; one connection is open (live_ = 1). The acceptor (thread 0) sees the
 * limit, sets the flag, re-checks and waits for accept_fd_; the closer (thread 1) closes
 * the connection: live_.fetch_sub, then acceptor_waiting_.load and the notify. The acceptor
 * must get past the limit. */
#define MAXC 1
proctype acceptor() {
  byte fi_;
  bool at_limit;
  do
  :: LD(0, LIVE) >= MAXC ->
     store(0, WAITING, 1, ACC_SC);
#ifdef NO_RECHECK
     at_limit = true;
#else
     at_limit = (LD(0, LIVE) >= MAXC);
     if
     :: !at_limit -> store(0, WAITING, 0, ACC_SC)
     :: else -> skip
     fi;
#endif
     if
     :: at_limit -> evfd; evfd = false; store(0, WAITING, 0, ACC_SC)   /* poll, drain_eventfd */
     :: else -> break
     fi
  :: else -> break
  od;
  finished++                     /* accept4 */
}

proctype closer() {
  byte fi_, old;
  fetch_add(1, LIVE, 255, old, CLOSE_SC);                    /* live_.fetch_sub(1) */
  if
  :: LD(1, WAITING) -> release(1); evfd = true               /* notify(accept_fd_) */
  :: else -> skip
  fi;
  finished++
}
#endif

#if PROTO == 2
/* One connection is open (live_ = 1) when the stop begins. The supervisor (thread 0) sets
 * draining_ and waits until live_ == 0 and listener_closed_; the closer (thread 1) closes
 * the connection: live_.fetch_sub, and if that was the last one and draining_, the notify;
 * the acceptor (thread 2) stops: listener_closed_, then the notify. */
proctype supervisor() {
  byte fi_;
  store(0, DRAINING, 1, SUP_SC);
  do
  :: LD(0, LIVE) > 0 || !LD(0, LCLOSED) -> evfd; evfd = false        /* wait_supervisor_event */
  :: else -> break
  od;
  finished++
}

proctype closer() {
  byte fi_, old;
  fetch_add(1, LIVE, 255, old, CLOSE_SC);
  if
  :: old == 1 && LD(1, DRAINING) -> release(1); evfd = true
  :: else -> skip
  fi;
  finished++
}

proctype acceptor() {
  byte fi_;
#ifdef NOTIFY_FIRST
  release(2); evfd = true;
  store(2, LCLOSED, 1, LC_SC);
#else
  store(2, LCLOSED, 1, LC_SC);
  release(2); evfd = true;
#endif
  finished++
}
#endif

#if PROTO == 3
/* The queue (capacity 1) is full. The poller (thread 0) has a ready connection: try_push
 * fails, it keeps it (held_) and sets holding_, then push_held retries and, while the
 * queue is full, sleeps on its wake-up fd. A worker (thread 1) pops, then loads holding_
 * (queue_space) and wakes the poller. The queue's fields are under its mutex. */
byte count = 1;
byte mu;              /* 0 free, else thread + 1 */
inline lock(t) { atomic { mu == 0 -> mu = t + 1 } }
inline unlock(t) { d_step { flush_all(t); mu = 0 } }

proctype poller() {
  byte fi_;
  bool held, ok;
  lock(0); ok = (count < 1); if :: ok -> count++ :: else -> skip fi; unlock(0);   /* try_push */
  held = !ok;
#ifndef HOLDING_AFTER_RETRY
  if
  :: held -> store(0, HOLDING, 1, HOLD_SC)                  /* hand_over */
  :: else -> skip
  fi;
#endif
  do
  :: held ->
     lock(0); ok = (count < 1); if :: ok -> count++ :: else -> skip fi; unlock(0);
     held = !ok;
     store(0, HOLDING, held, HOLD_SC);                      /* push_held's last store */
     if
     :: held -> evfd; evfd = false                            /* epoll_wait, wake_fd_ */
     :: else -> skip
     fi
  :: else -> break
  od;
  finished++
}

proctype worker() {
  byte fi_;
  lock(1); count--; unlock(1);                              /* pop */
  if
  :: LD(1, HOLDING) -> release(1); evfd = true               /* queue_space: wake() */
  :: else -> skip
  fi;
  finished++
}
#endif

#if PROTO == 4
/* A test waits for "at most 0 connections open" while one is open (live_ = 1): the watcher
 * (thread 0) counts itself in watchers_, then under watch_mu_ checks live_ and waits on
 * watch_cv_; the closer (thread 1): live_.fetch_sub, watchers_.load, and if > 0 takes
 * watch_mu_ and notifies. */
byte mu;
bool cv_waiting;
inline lock(t) { atomic { mu == 0 -> mu = t + 1 } }
inline unlock(t) { d_step { flush_all(t); mu = 0 } }

proctype watcher() {
  byte fi_, old;
  fetch_add(0, WATCHERS, 1, old, WATCH_SC);
  lock(0);
  do
  :: LD(0, LIVE) > 0 ->
     d_step { flush_all(0); cv_waiting = true; mu = 0 };  /* wait: enqueue and unlock */
     !cv_waiting;
     lock(0)
  :: else -> break
  od;
  unlock(0);
  finished++
}

proctype closer() {
  byte fi_, old;
  fetch_add(1, LIVE, 255, old, CLOSE_SC);
  if
  :: LD(1, WATCHERS) > 0 -> lock(1); cv_waiting = false; unlock(1)   /* notify_all */
  :: else -> skip
  fi;
  finished++
}
#endif

#if PROTO == 5
/* request_stop (thread 1, a signal handler or a test) counts the request, then writes
 * stop_fd_; the supervisor (thread 0) loops while stop_requests_ == 0, waiting on it. */
proctype supervisor() {
  byte fi_;
  do
  :: LD(0, STOPREQ) == 0 -> evfd; evfd = false
  :: else -> break
  od;
  finished++
}

proctype requester() {
  byte fi_, old;
#ifdef NOTIFY_FIRST
  release(1); evfd = true;
  fetch_add(1, STOPREQ, 1, old, STOP_SC);
#else
  fetch_add(1, STOPREQ, 1, old, STOP_SC);
  release(1); evfd = true;
#endif
  finished++
}
#endif

init {
  atomic {
#if PROTO == 1 || PROTO == 2 || PROTO == 4
    mem[LIVE] = 1;
#endif
    run flusher();
#if PROTO == 1
    run acceptor(); run closer();
#elif PROTO == 2
    run supervisor(); run closer(); run acceptor();
#elif PROTO == 3
    run poller(); run worker();
#elif PROTO == 4
    run watcher(); run closer();
#else
    run supervisor(); run requester();
#endif
    skip
  }
}
