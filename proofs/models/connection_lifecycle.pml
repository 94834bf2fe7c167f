/*
 * connection_lifecycle.pml: the life cycle of a connection in the HTTPower server
 * (README "Design": the threads, the flow of a connection, the shutdown), at the level of
 * ownership hand-offs, wake-ups and the shutdown protocol. The request/response bytes are
 * abstracted to a few flags per connection. proofs/models/README.md maps every process and
 * inline to the server function it models (server/server.cpp, server/poller.cpp).
 *
 * Threads: acceptor (Server::run), supervisor (Server::supervise), W workers
 * (Server::worker_main + serve), the poller (Poller::run + on_ready; Poller::park is called
 * by workers and the acceptor), a signal (the first SIGTERM), and the clients (the
 * environment: they connect, send requests, read, close).
 *
 * The ready queue is BoundedQueue<ConnPtr> taken as an atomic bounded FIFO with close()
 * (what bounded_queue.pml checks): push blocks while full and open, pop blocks while empty
 * and open, close wakes both, push after close is refused, pop drains then reports closed.
 *
 * Parameters (spin -DNAME=VALUE):
 *   K         connections the clients open (<= 3)                               default 2
 *   W         workers                                                          default 1
 *   CAP       queue capacity                                                   default 1
 *   R         requests per connection (then the client closes)                  default 1
 *   WBLOCK    budget of "the socket buffer is full" (a response parks for write) default 1
 *   TIMEOUTS  1: the poller's header / idle / send deadlines may expire           default 0
 *   DRAIN_DEADLINE  1: the drain deadline (or a second signal) may cut the drain
 *             short; closes after that may abandon a request (C2 is then only
 *             "every accepted connection is closed")                          default 0
 *
 * Mutants (each must make pan report errors):
 *   PARK_WITHOUT_REARM   park() moves the connection into the poller's table but does not
 *                        arm epoll: the poller never hears of it again
 *   CLOSE_QUEUE_BEFORE_ACCEPTOR_STOPS  the supervisor does not wait for the acceptor to
 *                        stop (drain the backlog, close the listener) before it decides the
 *                        drain is over: it closes the queue and stops the poller while the
 *                        acceptor still admits connections, which are then refused and closed
 *                        unanswered (C2)
 *   POLLER_PUSH_HOLDS_LOCK  the poller keeps its lock during the blocking push into the
 *                        queue: a worker's park() waits for the lock, nobody pops (deadlock)
 *   ARM_BEFORE_PARKED    park() arms epoll before the connection is in the poller's table
 *                        (outside the lock): the one-shot event can fire first and is lost
 *   SWEEP_CLOSES_BUSY    the drain sweep also closes parked connections with a request
 *                        already received (C2)
 *
 * Checks: C1 (owner[] asserted at every hand-off and every touch), C2 (at every close, no
 * received request is left unanswered, except at a send timeout or after the drain
 * deadline; at the end, every accepted connection is closed), S2 (valid end states: every
 * thread returns whatever the moment of the signal; ci/models.sh also runs pan -l to show
 * there is no cycle, so every execution terminates).
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
#ifndef TIMEOUTS
#define TIMEOUTS 0
#endif
#ifndef DRAIN_DEADLINE
#define DRAIN_DEADLINE 0
#endif
#define KMAX 3

/* owners (C1) */
#define NONE   0   /* not accepted (still a client connect, or never accepted) */
#define ACC    1   /* the acceptor, between accept4 and push / park */
#define QUE    2   /* the ready queue */
#define POL    3   /* the poller (in parked_, or between take_locked and push) */
#define CLOSED 4   /* closed by its last owner */
#define WK(w)  (5 + (w))

#define KREAD  0
#define KWRITE 1

mtype = { OK, REFUSED };

byte owner[KMAX];
byte live;                    /* Server::live_ */

/* ---- connection state, abstracted ---- */
bool arrived[KMAX];           /* a complete request is received (socket or buffer) and
                                 not yet answered completely */
bool sending[KMAX];           /* its response is under way (Connection::sending) */
bool close_after[KMAX];       /* Connection::close_after, decided when planning */
bool read_tried[KMAX];        /* Connection::read_attempted: a worker has read it */
byte reqs_left[KMAX] = R;     /* requests the client will still send; 0 = it closed (EOF) */
byte connected;               /* clients 0..connected-1 have connected (listen backlog) */
byte next;                    /* the acceptor accepted 0..next-1 */
byte wb_left = WBLOCK;

/* ---- the ready queue: BoundedQueue<ConnPtr> ---- */
chan q = [CAP] of { byte };
bool qclosed;

/* ---- the poller (members guarded by Poller::mu_) ---- */
bool plock;                   /* mu_ held across a blocking step (POLLER_PUSH_HOLDS_LOCK only;
                                 every other critical section is one atomic step) */
bool p_parked[KMAX];          /* parked_ holds it */
bool p_armed[KMAX];           /* epoll armed (EPOLLONESHOT), not yet fired */
byte p_reason[KMAX];          /* park_reason */
bool p_draining, p_drain_done, p_stopping;

/* ---- the server ---- */
bool stop_requested;          /* stop_requests_ > 0 (the signalfd read) */
bool draining;                /* Server::draining_ */
bool aborting;                /* Server::aborting_ */
bool acceptor_stopped;        /* the listener is closed and the backlog drained */
bool listener_closed;
byte workers_done;
bool poller_done, supervisor_done, acceptor_done;

/* ghost: the drain was cut short (deadline / second signal): closes may abandon requests */
bool forced;

/* ---------------- ownership (C1) ---------------- */
inline transfer(c, from, to) {
  assert(owner[c] == from);                                       /* C1 */
  owner[c] = to
}

/* Server::close_connection: the owner closes; live_ drops. C2: nothing received is left
 * unanswered. Excused: a send timeout (the client stopped reading), a close decided while
 * the connection was idle (a request that arrives between that decision and the close is
 * the keep-alive race of RFC 9112 §9.6, left to the client's retry), and anything after the
 * drain deadline (forced). */
inline close_conn(c, excused) {
  d_step {
    assert(owner[c] == me);                                       /* C1 */
    assert(!arrived[c] || excused || forced);                     /* C2 */
    owner[c] = CLOSED;
    live--;
    arrived[c] = false; sending[c] = false
  }
}

/* Poller::park(c, why, deadline): under mu_, either refuse (stopping, or an idle keep-alive
 * connection while draining: the caller closes it) or move it into parked_ and arm epoll
 * as the last step. */
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
       refused = 2                /* idle (read, nothing buffered) while draining */
    :: else ->                    /* not stopping, not idle-while-draining */
       transfer(c, me, POL);
       p_parked[c] = true;
       p_reason[c] = why;
#if !defined(PARK_WITHOUT_REARM) && !defined(ARM_BEFORE_PARKED)
       p_armed[c] = true          /* C1: arming is the last step, under the lock */
#else
       skip
#endif
    fi
  };
  if
  :: refused > 0 -> close_conn(c, refused == 2); refused = 0
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

/* ---------------- the acceptor: Server::run, accept_batch, admit, drain_backlog -------- */
proctype acceptor() {
  byte me = ACC;
  byte c;
  byte refused;
  mtype res;
  do
  :: draining -> break
  :: atomic { !draining && next < connected ->                    /* accept4 */
       c = next; next++; transfer(c, NONE, ACC); live++ };
     q_push(c, res);                                              /* admit: blocking push */
     if
     :: res == REFUSED -> close_conn(c, false)
     :: else -> skip
     fi;
     c = 0; res = 0
  od;
  /* S2 step 1: take what the kernel already accepted, park it for read (the acceptor must
   * not block on the queue now), then close the listener */
  do
  :: atomic { next < connected -> c = next; next++; transfer(c, NONE, ACC); live++ };
     park(c, KREAD);
     c = 0
  :: atomic { next == connected -> listener_closed = true; acceptor_stopped = true; break }
  od;
  supervisor_done;                                                /* supervisor_.join() */
  acceptor_done = true
}

/* ---------------- the supervisor: Server::supervise ---------------- */
proctype supervisor() {
  byte k;
  stop_requested;                           /* wait_supervisor_event until a stop request */
  draining = true;                          /* steps 1-2; the acceptor and workers see it */
  atomic { !plock -> p_draining = true };   /* poller_->begin_drain() */
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
  atomic { !plock -> p_stopping = true };   /* poller_->stop() */
  workers_done == W && poller_done;         /* join */
  supervisor_done = true
}

/* ---------------- workers: Server::worker_main, serve, park_for_read ---------------- */
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
     };
     /* serve(c) */
     if
     :: aborting -> close_conn(c, false)
     :: else ->
        do
        :: atomic { sending[c] && aborting -> assert(owner[c] == me) };
           close_conn(c, false); break                            /* send_some: kError */
        :: atomic { sending[c] && !aborting && wb_left > 0 -> wb_left-- };
           park(c, KWRITE); break                                 /* send_some: kBlocked */
        :: d_step { sending[c] && !aborting ->                    /* kDone: finish_response */
             assert(owner[c] == me); sending[c] = false; arrived[c] = false };
           if
           :: close_after[c] -> close_conn(c, false); break       /* close_or_linger */
           :: else -> skip
           fi
        :: d_step { !sending[c] && arrived[c] ->                  /* parse: handle_request */
             assert(owner[c] == me);
             read_tried[c] = true;
             close_after[c] = draining || reqs_left[c] == 0;      /* Connection: close */
             sending[c] = true }
        :: atomic { !sending[c] && !arrived[c] && reqs_left[c] == 0 -> assert(owner[c] == me) };
           close_conn(c, false); break                            /* recv: EOF */
        :: atomic { !sending[c] && !arrived[c] && reqs_left[c] > 0 ->
             assert(owner[c] == me); read_tried[c] = true };
           park(c, KREAD); break                                  /* recv: EAGAIN */
        od
     fi;
     c = 0
  od;
  workers_done++
}

/* ---------------- the poller: Poller::run, on_ready ---------------- */
#define READABLE(c) (arrived[c] || reqs_left[c] == 0)   /* a request, or the client's FIN */
/* epoll reports the connection: armed and ready (a parked-for-write one: the client read) */
#define EV_READY(c) (p_armed[c] && (p_reason[c] == KWRITE || READABLE(c)))
/* a deadline expires: header / idle timeout (nothing readable, or never armed: no event
 * can come first) or send timeout (the client does not read) */
#define EV_TIMEOUT(c) (TIMEOUTS && p_parked[c] && \
                       (p_reason[c] == KWRITE || !p_armed[c] || !READABLE(c)))

/* on_ready(raw): the one-shot event fired (disarming epoll); take_locked; if it was still
 * parked, push it into the queue (blocking, lock NOT held), closing it if refused. */
inline on_ready(i) {
  atomic {
    !plock && (i) < K && EV_READY(i) ->
    p_armed[i] = false;
    if
    :: p_parked[i] -> assert(owner[i] == POL); p_parked[i] = false; c = i; taken = true
    :: else -> skip                          /* not in parked_: the event is dropped */
    fi
  };
  if
  :: taken ->
#ifdef POLLER_PUSH_HOLDS_LOCK
     plock = true;
#endif
     q_push(c, res);
#ifdef POLLER_PUSH_HOLDS_LOCK
     plock = false;
#endif
     if
     :: res == REFUSED -> close_conn(c, false)
     :: else -> skip
     fi;
     taken = false; c = 0; res = 0
  :: else -> skip
  fi
}

/* the deadline sweep of run(): take_locked and close */
inline on_deadline(i) {
  atomic {
    !plock && (i) < K && EV_TIMEOUT(i) ->
    assert(owner[i] == POL);
    p_parked[i] = false; p_armed[i] = false;
    close_conn(i, p_reason[i] == KWRITE)
  }
}

proctype poller() {
  byte me = POL;
  byte c, k;
  bool taken;
  mtype res;
  do
  :: on_ready(0)
  :: on_ready(1)
  :: on_ready(2)
  :: on_deadline(0)
  :: on_deadline(1)
  :: on_deadline(2)
  :: atomic {                             /* draining_ && !drain_done_: close idle ones */
       !plock && p_draining && !p_drain_done -> p_drain_done = true;
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
             close_conn(k, false)
          :: else -> skip
          fi;
          k++
       :: else -> break
       od;
       k = 0
     }
  :: atomic {                             /* stopping_: close everything held, return */
       !plock && p_stopping ->
       k = 0;
       do
       :: k < K ->
          if
          :: p_parked[k] ->
             assert(owner[k] == POL);
             p_parked[k] = false; p_armed[k] = false;
             close_conn(k, false)
          :: else -> skip
          fi;
          k++
       :: else -> break
       od;
       k = 0;
       break
     }
  od;
  poller_done = true
}

/* ---------------- environment ---------------- */
proctype signal_source() {
  stop_requested = true                   /* SIGTERM, at any moment */
}

/* A client sends its next request once the previous response is complete (no pipelining),
 * and never after a response that said "Connection: close" (RFC 9112 §9.6). */
#define CAN_SEND(c) ((c) < connected && owner[c] != CLOSED && !arrived[c] && reqs_left[c] > 0 \
                     && !close_after[c])
proctype clients() {
end:
  do
  :: atomic { connected < K && !listener_closed -> connected++ }   /* connect() */
  :: atomic { CAN_SEND(0) -> arrived[0] = true; reqs_left[0]-- }   /* a request arrives */
  :: atomic { CAN_SEND(1) -> arrived[1] = true; reqs_left[1]-- }
  :: atomic { CAN_SEND(2) -> arrived[2] = true; reqs_left[2]-- }
  od
}

init {
  byte i;
  atomic {
    assert(K >= 1 && K <= KMAX && R >= 1);
    i = K;
    do
    :: i < KMAX -> reqs_left[i] = 0; i++  /* unused slots: no client */
    :: else -> break
    od;
    run clients();
    run signal_source();
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
