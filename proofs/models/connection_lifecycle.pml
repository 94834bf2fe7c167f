/*
 * connection_lifecycle.pml: the life cycle of a connection in the HTTPower server
 * (README "Design": the threads, the flow of a connection, the shutdown), at the level of
 * ownership hand-offs, wake-ups and the shutdown protocol. The request/response bytes are
 * abstracted to a few flags per connection. proofs/models/README.md maps every process and
 * inline to the server function it models (server/server.cpp, server/poller.cpp) and lists
 * what is abstracted away, with the reason.
 *
 * Threads: acceptor (Server::run, accept_batch, admit, handle_fd_exhaustion,
 * refuse_unavailable, drain_backlog), supervisor (Server::supervise), W workers
 * (Server::worker_main, serve, send_turn, close_or_linger, park_for_read), the poller
 * (Poller::run, on_ready, hand_over, push_held, linger_step, expire; Poller::park is called
 * by workers, the acceptor and the poller), a signal (the first SIGTERM), the clients (the
 * environment: they connect, send requests, read, half-close, reset or go silent), and, with
 * SIGNAL=0, a quiescence monitor.
 *
 * The ready queue is BoundedQueue<ConnPtr> taken as an atomic bounded FIFO with close()
 * (what bounded_queue.pml checks): push blocks while full and open, try_push reports full,
 * pop blocks while empty and open, close wakes both, push after close is refused, pop
 * drains then reports closed. Shared atomics are sequentially consistent here; the orderings
 * the code relies on for them are checked by wakeups.pml.
 *
 * Parameters (spin -DNAME=VALUE):
 *   K         connections the clients open (<= 3)                               default 2
 *   W         workers                                                          default 1
 *   CAP       queue capacity                                                   default 1
 *   R         requests a client sends at most (each keep-alive or "close")      default 1
 *   WBLOCK    budget of "the socket buffer is full / the turn's budget is spent"
 *             (a response parks for write)                                      default 1
 *   ENDS      the requests a client may send, a bit set: 1 keep-alive, 2 "Connection:
 *             close", 4 keep-alive with a half-close (the server then reads EOF)  default 7
 *   RESETS    budget of client resets (ECONNRESET at the next recv / send)       default 0
 *   TIMEOUTS  1: the poller's deadlines may expire, and a client may go silent
 *             (stop reading and sending: only a deadline ends it)               default 0
 *   DRAIN_DEADLINE  1: the drain deadline (or a second signal) may cut the drain
 *             short; closes after that may abandon a request (C2 is then only
 *             "every accepted connection is closed")                          default 0
 *   MAXC      --max-connections (4: never reached)                             default 4
 *   MAXREQ    --max-requests (0: unlimited)                                    default 0
 *   EMFILE    budget of accept4 failing with EMFILE (503 in the spare's slot)   default 0
 *   ARMFAIL   budget of epoll_ctl failing in park (the connection is closed)    default 0
 *   SIGNAL    1: a stop request comes at any moment; 0: never, and a monitor asserts
 *             that whenever nothing can move no client waits for the server (no lost
 *             wake-up: see quiescence below); run with pan -E               default 1
 *
 * Mutants (each must make pan report errors):
 *   PARK_WITHOUT_REARM   park() moves the connection into the poller's table but does not
 *                        arm epoll: the poller never hears of it again
 *   CLOSE_QUEUE_BEFORE_ACCEPTOR_STOPS  the supervisor does not wait for the acceptor to
 *                        stop (drain the backlog, close the listener) before it decides the
 *                        drain is over: it closes the queue and stops the poller while the
 *                        acceptor still admits connections, which are then refused and closed
 *                        unanswered (C2)
 *   POLLER_PUSH_HOLDS_LOCK  the poller pushes with a blocking push and keeps its lock
 *                        meanwhile: a worker's park() waits for the lock, nobody pops
 *   ARM_BEFORE_PARKED    park() arms epoll before the connection is in the poller's table
 *                        (outside the lock): the one-shot event can fire first and is lost
 *   SWEEP_CLOSES_BUSY    the drain sweep also closes parked connections with a request
 *                        already received (C2)
 *   ACCEPTOR_NO_RECHECK  at the limit, the acceptor sets acceptor_waiting_ but does not
 *                        re-check live_: a close between its check and the flag is lost
 *   HOLDING_AFTER_RETRY  hand_over() does not set holding_ when it holds a connection (only
 *                        push_held's final store does, after its retry): a pop between the
 *                        retry and that store does not wake the poller
 *   HELD_LOST_ON_STOP    stop() forgets the held FIFO: held connections are never closed
 *
 * Checks: C1 (owner[] asserted at every hand-off and every touch), C2 (at every close, no
 * received request is left unanswered, except at a send timeout, a client reset, an
 * epoll_ctl failure or after the drain deadline; at the end, every accepted connection is
 * closed), S2 (valid end states: every thread returns whatever the moment of the signal;
 * ci/models.sh also runs pan -l to show there is no cycle, so every execution terminates),
 * no lost wake-up (SIGNAL=0: the monitor).
 */

#ifndef K
#define K 2
#endif
#ifndef W
#define W 1
#endif
#ifndef CAP
#define CAP 1
#endif
#ifndef R
#define R 1
#endif
#ifndef WBLOCK
#define WBLOCK 1
#endif
#ifndef ENDS
#define ENDS 7
#endif
#ifndef RESETS
#define RESETS 0
#endif
#ifndef TIMEOUTS
#define TIMEOUTS 0
#endif
#ifndef DRAIN_DEADLINE
#define DRAIN_DEADLINE 0
#endif
#ifndef MAXC
#define MAXC 4
#endif
#ifndef MAXREQ
#define MAXREQ 0
#endif
#ifndef EMFILE
#define EMFILE 0
#endif
#ifndef ARMFAIL
#define ARMFAIL 0
#endif
#ifndef SIGNAL
#define SIGNAL 1
#endif
#define KMAX 3

/* owners (C1) */
#define NONE   0   /* not accepted (still a client connect, or never accepted) */
#define ACC    1   /* the acceptor, between accept4 and push / park */
#define QUE    2   /* the ready queue */
#define POL    3   /* the poller (in parked_, in held_, or between take_locked and push) */
#define CLOSED 4   /* closed by its last owner */
#define WK(w)  (5 + (w))

/* ParkReason */
#define KREAD   0
#define KWRITE  1
#define KLINGER 2

/* why a close leaves a received request unanswered, and may (C2's exceptions) */
#define X_NONE    0   /* it may not */
#define X_IDLE    1   /* decided while idle: the keep-alive race of RFC 9112 §9.6 */
#define X_SEND_TO 2   /* send timeout: the client stopped reading */
#define X_ARM     3   /* epoll_ctl failed (reported in the error log) */

mtype = { OK, REFUSED, FULL };

byte owner[KMAX];
byte live;                    /* Server::live_ */

/* ---- connection state, abstracted ---- */
bool arrived[KMAX];           /* a complete request is received (socket or buffer) and
                                 not yet answered completely */
bool req_close[KMAX];         /* that request says "Connection: close" */
bool sending[KMAX];           /* its response is under way (Connection::sending) */
bool close_after[KMAX];       /* Connection::close_after, decided when planning */
bool read_tried[KMAX];        /* Connection::read_attempted: a worker has read it */
byte served[KMAX];            /* Connection::requests */
byte sent[KMAX];              /* requests the client has sent */
bool fin[KMAX];               /* the client half-closed: the socket reads EOF */
bool rst[KMAX];               /* the client reset: recv / send fail, epoll reports it */
bool gone[KMAX];              /* the client went silent: reads and sends nothing more */
byte connected;               /* clients 0..connected-1 have connected (listen backlog) */
byte next;                    /* the acceptor accepted 0..next-1 */
byte wb_left = WBLOCK;
byte rst_left = RESETS;
byte emfile_left = EMFILE;
byte armfail_left = ARMFAIL;

/* ---- the ready queue: BoundedQueue<ConnPtr> ---- */
chan q = [CAP] of { byte };
bool qclosed;

/* ---- the poller ---- */
bool plock;                   /* mu_ held across a blocking step (POLLER_PUSH_HOLDS_LOCK only;
                                 every other critical section is one atomic step) */
bool p_parked[KMAX];          /* parked_ holds it */
bool p_armed[KMAX];           /* epoll armed (EPOLLONESHOT), not yet fired */
byte p_reason[KMAX];          /* park_reason */
bool p_draining, p_drain_done, p_stopping;
bool holding;                 /* Poller::holding_ */
bool pwake;                   /* wake_fd_ readable */

/* ---- the server ---- */
bool stop_requested;          /* stop_requests_ > 0 (the signalfd read) */
bool draining;                /* Server::draining_ */
bool aborting;                /* Server::aborting_ */
bool acceptor_stopped;        /* Server::listener_closed_: backlog drained, listener closed */
bool listener_closed;         /* no handshake completes any more (the drop-all filter) */
bool acc_waiting;             /* Server::acceptor_waiting_ */
bool efd;                     /* accept_fd_ readable */
bool reserve = true;          /* reserve_fd_ is open */
byte workers_done;
bool poller_done, supervisor_done, acceptor_done;

/* ghost: the drain was cut short (deadline / second signal): closes may abandon requests */
bool forced;

/* ---------------- ownership (C1) ---------------- */
inline transfer(c, from, to) {
  assert(owner[c] == from);                                       /* C1 */
  owner[c] = to
}

/* Server::close_connection: the owner closes; live_.fetch_sub; then, as a step of its own,
 * the load of acceptor_waiting_ and the wake-up (the Dekker pair with run()). C2: nothing
 * received is left unanswered, except for the reasons in X_* , a reset by the client, or
 * after the drain deadline (forced). */
inline close_conn(c, why) {
  d_step {
    assert(owner[c] == me);                                       /* C1 */
    assert(!arrived[c] || why != X_NONE || rst[c] || forced);     /* C2 */
    owner[c] = CLOSED;
    live--;
    arrived[c] = false; sending[c] = false
  };
#if MAXC <= K || EMFILE > 0
  if
  :: acc_waiting -> efd = true                                    /* notify(accept_fd_) */
  :: else -> skip
  fi
#endif
}

/* Poller::park(c, why, deadline): under mu_, either refuse (stopping, or an idle keep-alive
 * connection while draining: the caller closes it) or move it into parked_ and arm epoll
 * as the last step; an epoll_ctl failure takes it back out and closes it. */
inline park(c, why) {
#ifdef ARM_BEFORE_PARKED
  p_armed[c] = true;              /* the bug: epoll armed before the table entry exists */
#endif
  atomic {
    !plock ->
    assert(owner[c] == me);
    if
    :: p_stopping -> refused = 1
    :: !p_stopping && p_draining && why == KREAD && read_tried[c] && !arrived[c] ->
       refused = 2                /* idle_keep_alive (read, nothing buffered) while draining */
    :: else ->                    /* not stopping, not idle-while-draining */
       transfer(c, me, POL);
       p_parked[c] = true;
       p_reason[c] = why;
       if
       :: armfail_left > 0 ->     /* epoll_ctl fails: take_locked, close */
          armfail_left--; p_parked[c] = false; transfer(c, POL, me); refused = 3
       :: true ->
#if !defined(PARK_WITHOUT_REARM) && !defined(ARM_BEFORE_PARKED)
          p_armed[c] = true       /* C1: arming is the last step, under the lock */
#else
          skip
#endif
       fi
    fi
  };
  if
  :: refused == 1 -> close_conn(c, X_NONE); refused = 0
  :: refused == 2 -> close_conn(c, X_IDLE); refused = 0
  :: refused == 3 -> close_conn(c, X_ARM); refused = 0
  :: else -> skip
  fi
}

/* BoundedQueue::push (blocking); the queue takes ownership on kOk, the caller keeps it on
 * kClosed. */
inline q_push(c, res) {
  atomic {
    (qclosed || len(q) < CAP) ->
    if
    :: qclosed -> res = REFUSED
    :: else -> transfer(c, me, QUE); q!c; res = OK
    fi
  }
}

/* ---------------- the acceptor: Server::run and what it calls ---------------- */

/* Server::refuse_unavailable: the connection in the spare's slot gets a 503 with
 * "Connection: close" (it answers a request already received), shutdown(SHUT_WR), and the
 * lingering close; the client already gone (sendmsg fails): closed at once. */
inline refuse_unavailable(c) {
  atomic { c = next; next++; transfer(c, NONE, ACC); live++ };    /* accept4 into the slot */
  if
  :: atomic { rst[c] -> assert(owner[c] == me) };
     close_conn(c, X_NONE)
  :: d_step { !rst[c] -> assert(owner[c] == me); arrived[c] = false; close_after[c] = true;
               fin[c] = !gone[c] };         /* the client reads the 503 and closes */
     park(c, KLINGER)
  fi;
  c = 0
}

/* Server::handle_fd_exhaustion: accept4 failed with EMFILE (budget EMFILE); the spare's
 * slot takes the pending connection; then, unless nothing is open, wait for a close (the
 * poll has a 1 s cap: it may also return at any moment). */
inline handle_fd_exhaustion() {
  emfile_left--;
  reserve = false;
  refuse_unavailable(c);
  if
  :: reserve = true                /* the reopen succeeds (a descriptor was freed) */
  :: skip                          /* fails while the refused connection holds the slot */
  fi;
  if
  :: reserve && live == 0 -> skip
  :: else ->
     acc_waiting = true;
     efd = false;                  /* poll(accept_fd_, 1000): an event, or the cap */
     acc_waiting = false
  fi
}

/* Server::accept_batch (one connection per iteration of the batch loop) */
inline accept_batch() {
#if EMFILE > 0
  if
  :: !reserve -> reserve = true
  :: else -> skip
  fi;
#endif
  do
  :: atomic { draining || live >= MAXC || next == connected -> break }  /* or EAGAIN */
#if EMFILE > 0
  :: atomic { !draining && live < MAXC && next < connected && emfile_left > 0 };
     handle_fd_exhaustion();
     break
#endif
  :: atomic { !draining && live < MAXC && next < connected ->     /* accept4 */
       c = next; next++; transfer(c, NONE, ACC); live++ };
     q_push(c, res);                                              /* admit: blocking push */
     if
     :: res == REFUSED -> close_conn(c, X_NONE)
     :: else -> skip
     fi;
     atomic { c = 0; res = 0 }
  od
}

proctype acceptor() {
  byte me = ACC;
  byte c;
  byte refused;
  mtype res;
  bool at_limit, go;
  /* while (!draining_): without the EMFILE path the check at the top is folded into the one
   * after the poll, which sees the same value (draining_ is set before accept_fd_ is
   * written, and only the poll reads accept_fd_); handle_fd_exhaustion also reads it */
  do
#if EMFILE > 0
  :: draining -> break
  :: else ->
#else
  :: true ->
#endif
#if MAXC <= K
     if
     :: live >= MAXC ->
        atomic {
          acc_waiting = true;      /* Dekker pair with close_connection(): flag, re-check */
#ifdef ACCEPTOR_NO_RECHECK
          at_limit = true
#else
          at_limit = (live >= MAXC);
          if
          :: !at_limit -> acc_waiting = false
          :: else -> skip
          fi
#endif
        }
     :: else -> skip
     fi;
#endif
#if EMFILE > 0
     if
     :: !reserve ->                /* the spare's slot is lent: every close wakes us */
        acc_waiting = true;
        if
        :: reserve = true;
           if
           :: !at_limit -> acc_waiting = false
           :: else -> skip
           fi
        :: skip
        fi
     :: else -> skip
     fi;
#endif
     /* poll(listener if !at_limit, accept_fd_) */
     atomic {
       efd || (!at_limit && next < connected) ->
       if
       :: efd -> efd = false; acc_waiting = false
       :: else -> skip
       fi;
       if
       :: draining -> break
       :: else -> skip
       fi;
       go = !at_limit && next < connected
     };
     if
     :: go -> accept_batch()
     :: else -> skip
     fi;
     at_limit = false; go = false
  od;
  /* S2 step 1, drain_backlog: the drop-all filter first (no handshake completes from now
   * on), then take what the kernel already accepted and park it for read (the acceptor
   * must not block on the queue now), then close the listener */
  listener_closed = true;
  do
  :: atomic { next < connected && emfile_left == 0 ->
       c = next; next++; transfer(c, NONE, ACC); live++ };
     park(c, KREAD);                                              /* admit(fd, true) */
     c = 0
  :: atomic { next < connected && emfile_left > 0 && !aborting };
     handle_fd_exhaustion()
  :: atomic { next == connected || (emfile_left > 0 && aborting) -> break }
  od;
  acceptor_stopped = true;                                        /* listener_closed_ */
  supervisor_done;                                                /* supervisor_.join() */
  acceptor_done = true
}

/* ---------------- the supervisor: Server::supervise ---------------- */
proctype supervisor() {
  stop_requested;                           /* wait_supervisor_event until a stop request */
  atomic { draining = true; efd = true }    /* steps 1-2, and notify(accept_fd_) */
  atomic { !plock -> p_draining = true; pwake = true };   /* poller_->begin_drain() */
  do
#ifdef CLOSE_QUEUE_BEFORE_ACCEPTOR_STOPS
  :: live == 0 -> break                     /* the bug: the acceptor may still be admitting */
#else
  :: acceptor_stopped && live == 0 -> break /* every accepted connection is closed */
#endif
#if DRAIN_DEADLINE
  :: !(acceptor_stopped && live == 0) -> forced = true; break   /* deadline / 2nd signal */
#endif
  od;
  /* steps 3-4 */
  aborting = true;
  atomic { qclosed = true };                /* queue_.close() */
  atomic { !plock -> p_stopping = true; pwake = true };   /* poller_->stop() */
  workers_done == W && poller_done;         /* join */
  supervisor_done = true
}

/* ---------------- workers: Server::worker_main, serve, send_turn ---------------- */

/* Server::close_or_linger: every closing response lingers, unless aborting */
inline close_or_linger(c) {
  if
  :: !aborting -> park(c, KLINGER)          /* shutdown(SHUT_WR), park(kLinger) */
  :: else -> close_conn(c, X_NONE)
  fi
}

/* handle_request's decision: "Connection: close" if the client asked, if --max-requests is
 * reached, or while draining with no request after this one (request_follows: with no
 * pipelining nothing follows; a client's FIN peeks as 0 bytes) */
#define PLAN_CLOSE(c) (req_close[c] || (MAXREQ > 0 && served[c] + 1 >= MAXREQ) || draining)

proctype worker(byte w) {
  byte me = WK(w);
  byte c;
  byte refused;
  do
  :: atomic {                                                     /* queue_.pop() */
       (qclosed || len(q) > 0) ->
       if
       :: len(q) > 0 -> q?c; transfer(c, QUE, me)
       :: else -> break                                           /* closed and drained */
       fi
       ;
       if                                                         /* poller_->queue_space() */
       :: holding -> pwake = true
       :: else -> skip
       fi
     };
     /* serve(c) */
     if
     :: aborting -> close_conn(c, X_NONE)
     :: else ->
        do
        :: atomic { sending[c] && (aborting || rst[c]) -> assert(owner[c] == me) };
           close_conn(c, X_NONE); break                           /* send_some: kError */
        :: atomic { sending[c] && !aborting && !rst[c] && wb_left > 0 -> wb_left-- };
           park(c, KWRITE); break                                 /* send_some: kBlocked */
        :: d_step { sending[c] && !aborting && !rst[c] ->         /* kDone: finish_response */
             assert(owner[c] == me); sending[c] = false; arrived[c] = false;
             fin[c] = fin[c] || close_after[c] && !gone[c] };     /* the client reads it, closes */
           if
           :: close_after[c] -> close_or_linger(c); break
           :: else -> skip
           fi
        :: d_step { !sending[c] && arrived[c] ->                  /* plan_buffered: handle_request */
             assert(owner[c] == me);
             read_tried[c] = true;
             close_after[c] = PLAN_CLOSE(c);
             served[c]++;
             sending[c] = true }
        :: atomic { !sending[c] && !arrived[c] && (fin[c] || rst[c]) ->
             assert(owner[c] == me); read_tried[c] = true };
           close_conn(c, X_NONE); break                           /* recv: EOF or a reset */
        :: atomic { !sending[c] && !arrived[c] && !fin[c] && !rst[c] ->
             assert(owner[c] == me); read_tried[c] = true };
           park(c, KREAD); break                                  /* recv: EAGAIN, park_for_read */
        od
     fi;
     c = 0
  od;
  workers_done++
}

/* ---------------- the poller: Poller::run and what it calls ---------------- */
#define READABLE(c) (arrived[c] || fin[c] || rst[c])   /* a request, the FIN, or the reset */
/* epoll reports the connection: armed and ready (parked for write: the client reads, or
 * reset it) */
#define EV_READY(c) (p_armed[c] && \
                     (p_reason[c] == KWRITE && (!gone[c] || rst[c]) || \
                      p_reason[c] != KWRITE && READABLE(c)))
/* a deadline expires: header / idle timeout (nothing readable, or never armed: no event
 * can come first), send timeout, linger deadline */
#define EV_TIMEOUT(c) (TIMEOUTS && p_parked[c] && \
                       (p_reason[c] != KREAD || !p_armed[c] || !READABLE(c)))

/* Poller::hand_over: try_push; full, or others held: into held_, and holding_ = true */
inline try_push_or_hold(c) {
  if
  :: len(held) == 0 && !qclosed && len(q) < CAP -> transfer(c, POL, QUE); q!c; res = OK
  :: len(held) == 0 && qclosed -> res = REFUSED
  :: else -> held!c; res = FULL
  fi
}

/* the rest of hand_over: a refused connection is closed; a held one sets holding_ */
inline hand_over(c) {
#ifdef POLLER_PUSH_HOLDS_LOCK
  if
  :: res == OK ->
     plock = true;
     q_push(c, res);              /* the bug: a blocking push under mu_ */
     plock = false
  :: else -> skip
  fi;
#endif
  if
  :: res == REFUSED -> close_conn(c, X_NONE)
  :: res == FULL ->
#ifndef HOLDING_AFTER_RETRY
     holding = true
#else
     skip
#endif
  :: res == OK -> skip
  fi
}

/* Poller::push_held's loop: retry the FIFO, oldest first; closed: close (one step; then
 * holding_ = !held_.empty() is a step of its own) */
inline push_held() {
  do
  :: len(held) > 0 && !qclosed && len(q) < CAP -> held?c; transfer(c, POL, QUE); q!c
  :: len(held) > 0 && qclosed -> held?c; close_conn(c, X_NONE)
  :: len(held) == 0 || !qclosed && len(q) == CAP -> break
  od;
  c = 0
}

/* if (!held_.empty()) push_held() after an event or a deadline */
inline held_retry() {
  if
  :: atomic { len(held) > 0 -> push_held() };
     holding = (len(held) > 0)
  :: atomic { len(held) == 0 -> skip }
  fi;
  d_step { taken = false; c = 0; res = 0; retry = false }
}

/* on_ready(raw): the one-shot event fired (disarming epoll); take_locked; a lingering one
 * is read (linger_step: the client's FIN or reset ends it), any other is handed over. */
inline on_ready(i) {
  atomic {
    !plock && (i) < K && EV_READY(i) ->
    p_armed[i] = false;
    if
    :: p_parked[i] -> assert(owner[i] == POL); p_parked[i] = false; c = i; taken = true;
#ifndef POLLER_PUSH_HOLDS_LOCK
       if                           /* hand_over's try_push: nothing else touches c between */
       :: p_reason[c] != KLINGER -> try_push_or_hold(c)
       :: else -> res = REFUSED     /* linger_step: read EOF or an error */
       fi
#else
       res = (p_reason[c] == KLINGER -> REFUSED : OK)
#endif
    :: else -> res = OK /* not in parked_: dropped. unreachable: the sweeps disarm as they take */
    fi;
#ifndef POLLER_PUSH_HOLDS_LOCK
    if                              /* pushed, nothing held: the iteration is over */
    :: res == OK && len(held) == 0 -> taken = false; c = 0; res = 0; retry = false
    :: else -> retry = true
    fi
#else
    retry = true
#endif
  };
  if
  :: retry ->
     hand_over(c);                  /* a lingering one was read (REFUSED): closed there */
     held_retry()
  :: else -> skip
  fi
}

/* the deadline sweep of run() and expire(): take_locked and close */
inline on_deadline(i) {
  atomic {
    !plock && (i) < K && EV_TIMEOUT(i) ->
    assert(owner[i] == POL);
    p_parked[i] = false; p_armed[i] = false;
    close_conn(i, (p_reason[i] == KWRITE -> X_SEND_TO : X_NONE));
    retry = len(held) > 0
  };
  if
  :: retry -> held_retry()
  :: else -> skip
  fi
}

/* the section under mu_ at the end of every iteration of run(): stopping_ (close everything
 * held and parked, return) or the drain sweep once (close idle ones); called in an atomic */
inline lock_section() {
    if
    :: p_stopping ->
       exit_now = true;
#ifndef HELD_LOST_ON_STOP
       do
       :: held?k -> close_conn(k, X_NONE)
       :: empty(held) -> break
       od;
       holding = false;
#endif
       k = 0;
       do
       :: k < K ->
          if
          :: p_parked[k] ->
             assert(owner[k] == POL);
             p_parked[k] = false; p_armed[k] = false;
             close_conn(k, X_NONE)
          :: else -> skip
          fi;
          k++
       :: else -> break
       od
    :: !p_stopping && p_draining && !p_drain_done ->
       p_drain_done = true;
       k = 0;
       do
       :: k < K ->
          if
#ifdef SWEEP_CLOSES_BUSY
          :: p_parked[k] && p_reason[k] == KREAD && read_tried[k] ->
#else
          :: p_parked[k] && p_reason[k] == KREAD && read_tried[k] && !arrived[k] ->
#endif
             assert(owner[k] == POL);
             p_parked[k] = false; p_armed[k] = false;
             close_conn(k, X_NONE)    /* decided and closed in one step: no race to excuse */
          :: else -> skip
          fi;
          k++
       :: else -> break
       od
    :: else -> skip
    fi;
    k = 0
}

proctype poller() {
  byte me = POL;
  byte c, k;
  bool taken, exit_now, retry;
  mtype res;
  chan held = [KMAX] of { byte };  /* held_: the poller thread's own */
  do
  :: /* epoll_wait returns: here one event, deadline or wake-up per iteration */
     if
     :: on_ready(0)
     :: on_ready(1)
     :: on_ready(2)
     :: on_deadline(0)
     :: on_deadline(1)
     :: on_deadline(2)
     :: atomic { pwake -> pwake = false };              /* wake_fd_: a pop, begin_drain, stop */
        /* if (!held_.empty()) push_held(); then the section under mu_ */
        if
        :: atomic { !plock && len(held) == 0 -> lock_section() }
        :: atomic { len(held) > 0 -> push_held() };
           holding = (len(held) > 0);
           atomic { !plock -> lock_section() }
        fi
     fi;
     if
     :: exit_now -> break
     :: else -> skip
     fi
  od;
  poller_done = true
}

/* ---------------- environment ---------------- */
proctype signal_source() {
  stop_requested = true                   /* SIGTERM, at any moment */
}

/* A client sends its next request once the previous response is complete (no pipelining),
 * and never after a response that said "Connection: close" (RFC 9112 §9.6); a request says
 * "keep-alive", or "close", or is sent with a half-close (shutdown(SHUT_WR): after the
 * response, the server reads EOF). A client that reads a closing response closes (FIN,
 * set when the response completes). At any moment it may reset (budget RESETS), or, with
 * TIMEOUTS, go silent (it reads and sends nothing more). */
#define OPEN(c) ((c) < connected && owner[c] != CLOSED && !fin[c] && !rst[c] && !gone[c])
#define CAN_SEND(c) (OPEN(c) && !arrived[c] && !close_after[c] && sent[c] < R)
#if TIMEOUTS
#define GO_SILENT(c) :: atomic { OPEN(c) -> gone[c] = true }
#else
#define GO_SILENT(c)
#endif
#define CLIENT(c) \
  :: atomic { CAN_SEND(c) && (ENDS & 1) -> arrived[c] = true; sent[c]++; req_close[c] = false } \
  :: atomic { CAN_SEND(c) && (ENDS & 2) -> arrived[c] = true; sent[c]++; req_close[c] = true } \
  :: atomic { CAN_SEND(c) && (ENDS & 4) -> \
              arrived[c] = true; sent[c]++; req_close[c] = false; fin[c] = true } \
  :: atomic { OPEN(c) && rst_left > 0 -> rst_left--; rst[c] = true } \
  GO_SILENT(c)

proctype clients() {
end:
  do
  :: atomic { connected < K && !listener_closed -> connected++ }   /* connect() */
  CLIENT(0)
  CLIENT(1)
  CLIENT(2)
  od
}   /* unreachable: the clients never return; they rest at their end label */

#if !SIGNAL
/* With no stop request: whenever no thread can move, no client waits for the server: every
 * connection is closed, or parked in the poller with no request received (an idle
 * keep-alive one), or still in the backlog while --max-connections are open (idle ones hold
 * the slots until their idle timeout). A lost wake-up (a connection left held or queued, a
 * client left in the backlog below the limit, a request not seen) fails here. */
#define SETTLED(c) ((c) >= K || owner[c] == CLOSED || p_parked[c] && !arrived[c] || \
                    owner[c] == NONE && live >= MAXC)
active proctype quiescence() {
  timeout -> assert(SETTLED(0) && SETTLED(1) && SETTLED(2))
}
#endif

init {
  byte i;
  atomic {
    assert(K >= 1 && K <= KMAX && R >= 1 && MAXC >= 1);
    run clients();
#if SIGNAL
    run signal_source();
#endif
    run acceptor();
    run supervisor();
    run poller();
    i = 0;
    do
    :: i < W -> run worker(i); i++
    :: else -> break
    od;
    i = 0
  };
  acceptor_done;                          /* run() returned: everything joined */
  d_step {
    assert(live == 0 && len(q) == 0 && qclosed);
    i = 0;
    do
    :: i < K ->
       assert(owner[i] == NONE || owner[i] == CLOSED);            /* C2: all closed */
       assert(!p_parked[i]);
       i++
    :: else -> break
    od;
    i = 0
  }
}
