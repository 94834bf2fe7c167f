/*
 * bounded_queue.pml: a Promela model of BoundedQueue<T>
 * (core/include/httpower/bounded_queue.hpp), statement by statement: one mutex, two
 * condition variables with Mesa semantics, waiter counts, `while (pred) wait` loops, the
 * ring buffer, and close() under the lock with notify_all on both variables.
 * proofs/models/README.md maps every inline below to the C++ function it models.
 *
 * Parameters (spin -DNAME=VALUE):
 *   P         producers (each pushes N values, value = producer * N + seq)     default 1
 *   C         consumers                                                         default 1
 *   CAP       queue capacity (>= 1)                                             default 1
 *   N         values per producer                                               default 2
 *   CLOSE     0: no close at all; consumer j pops a fixed quota and stops
 *                (a lost wake-up cannot be hidden by close()'s notify_all)
 *             1: a closer joins every producer, then closes (graceful drain)
 *             2: a closer calls close() at any moment, racing pushes and pops  default 1
 *   CLOSE_TWICE  the closer calls close() twice (Q4: idempotent)
 *   SPURIOUS  budget of spurious wake-ups (any waiter, any moment)             default 0
 *   TIMEOUTS  budget of timed-wait expiries: pushes become push_until and pops
 *             pop_until; a kTimeout push retries the same value, a kTimeout pop
 *             pops again                                                        default 0
 *
 * Known-bug macros (each must make pan report errors):
 *   SINGLE_CV            one condition variable (notify_one) for both sides: deadlock
 *   CLOSE_NO_LOCK        close() sets closed_ and notifies without the mutex: the
 *                        notification can fall between a popper's predicate check and its
 *                        wait, a lost wake-up (deadlock)
 *   CLOSE_NO_NOTIFY_ALL  close() uses notify_one: a second blocked thread never wakes
 *   POP_WAITERS_NOT_COUNTED  wait_not_empty forgets ++pop_waiters_, so push never notifies
 *                        (CLOSE=0 or 1; a racing close's notify_all can hide it)
 *   PUSH_AFTER_CLOSE     finish_push does not check closed_ (Q4/Q3 assertions)
 *   POP_FROM_TAIL        finish_pop takes the newest item, LIFO (Q2 assertion; CAP >= 2)
 *
 * Properties: assertions (Q1..Q4, below, tagged) and valid end states: every process must
 * reach its end (pan's default "invalid end state" check), which is Q5 and Q6 here: a
 * thread still blocked in push/pop when nothing else can move is a deadlock or a lost
 * wake-up.
 */

#ifndef P
#define P 1
#endif
#ifndef C
#define C 1
#endif
#ifndef CAP
#define CAP 1
#endif
#ifndef N
#define N 2
#endif
#ifndef CLOSE
#define CLOSE 1
#endif
#ifndef SPURIOUS
#define SPURIOUS 0
#endif
#ifndef TIMEOUTS
#define TIMEOUTS 0
#endif

#define NT (P + C + 1)  /* thread ids: producers 0..P-1, consumers P..P+C-1, closer P+C */
#define NV (P * N)      /* number of distinct values */

mtype = { OK, CLOSED, TIMEDOUT };

/* ---- BoundedQueue members (all GUARDED_BY(mu_)) ---- */
byte mtx;                 /* mu_: 0 = free, else owner id + 1 */
bool closed;              /* closed_ */
byte head;                /* head_ */
byte count;               /* count_ */
byte slots[CAP];          /* slots_: 0 = empty optional, else value + 1 */
byte push_waiters;        /* push_waiters_ */
byte pop_waiters;         /* pop_waiters_ */

/* ---- condition variables: the set of threads enqueued on each, and its size ---- */
#define NF 0              /* not_full_: pushers wait here */
#ifdef SINGLE_CV
#define NE 0              /* the bug: one variable for both sides */
#else
#define NE 1              /* not_empty_: poppers wait here */
#endif
bool cv_waiting[2 * NT];  /* cv_waiting[cv * NT + t]: thread t is enqueued on cv */
byte cv_count[2];         /* how many threads are enqueued on cv */
#define W(cv, t) cv_waiting[(cv) * NT + (t)]

/* ---- ghost state for the checks (not part of the algorithm) ---- */
bool pushed_ok[NV];       /* the push of this value returned kOk */
byte got[NV];             /* how many times a consumer received this value */
byte next_seq[P];         /* Q2: the sequence number the next pop from producer p must have */
byte prod_done;           /* producers that returned (the closer "joins" them, CLOSE=1) */
byte spur_left = SPURIOUS;
byte tmo_left = TIMEOUTS;

/* ---------------- mutex ---------------- */
inline lock() {
  atomic { mtx == 0 -> mtx = me + 1 }
}
inline unlock() {
  d_step { assert(mtx == me + 1); mtx = 0 }
}

/* ---------------- condition variables (Mesa) ---------------- */
/* wait: atomically enqueue on the variable and release the mutex; later, once notified
 * (or on a spurious wake-up / a timed-wait expiry), re-acquire the mutex. `notified` is
 * wait_until's result (always true for a plain wait). */
inline cv_wait(cv, notified) {
  d_step { assert(mtx == me + 1); W(cv, me) = true; cv_count[cv]++; mtx = 0; notified = true };
  if
  :: atomic { !W(cv, me) && mtx == 0 -> mtx = me + 1 }  /* notified; mutex re-acquired */
#if SPURIOUS > 0
  :: atomic { W(cv, me) && spur_left > 0 -> spur_left--; W(cv, me) = false; cv_count[cv]-- };
     atomic { mtx == 0 -> mtx = me + 1 }
#endif
#if TIMEOUTS > 0
  /* the deadline passes; also when a notify_one already picked this thread (the
   * implementation may report a timeout for a thread it has just unblocked) */
  :: atomic {
       tmo_left > 0 -> tmo_left--; notified = false;
       if
       :: W(cv, me) -> W(cv, me) = false; cv_count[cv]--
       :: else -> skip
       fi
     };
     atomic { mtx == 0 -> mtx = me + 1 }
#endif
  fi
}

/* notify_one: unblock one enqueued thread, any one (the standard does not say which). */
inline cv_notify_one(cv) {
  atomic {
    if
    :: cv_count[cv] > 0 ->
       select (r : 0 .. cv_count[cv] - 1);  /* wake the r-th enqueued thread (id order) */
       k = 0;
       do
       :: W(cv, k) && r == 0 -> W(cv, k) = false; cv_count[cv]--; break
       :: W(cv, k) && r > 0 -> r--; k++
       :: !W(cv, k) -> k++
       od;
       k = 0; r = 0
    :: else -> skip
    fi
  }
}

inline cv_notify_all(cv) {
  d_step {
    k = 0;
    do
    :: k < NT -> W(cv, k) = false; k++
    :: else -> break
    od;
    cv_count[cv] = 0; k = 0
  }
}

/* ---------------- BoundedQueue ---------------- */
inline valid() {
  assert(head < CAP && count <= CAP);                             /* Q1 */
  assert(push_waiters <= P && pop_waiters <= C)
}

/* wait_not_full(lock) */
inline wait_not_full(notified) {
  push_waiters++;
  cv_wait(NF, notified);
  push_waiters--
}

/* wait_not_empty(lock) */
inline wait_not_empty(notified) {
#ifndef POP_WAITERS_NOT_COUNTED
  pop_waiters++;
#endif
  cv_wait(NE, notified);
#ifndef POP_WAITERS_NOT_COUNTED
  pop_waiters--
#else
  skip
#endif
}

/* finish_push(item): precondition closed_ || count_ < capacity_ */
inline finish_push(v, res) {
  if
#ifndef PUSH_AFTER_CLOSE
  :: closed -> valid(); res = CLOSED                              /* Q4: refused */
#endif
  :: else ->
     d_step {
       assert(count < CAP);
       assert(slots[(head + count) % CAP] == 0);
       slots[(head + count) % CAP] = v + 1;                       /* Q2: tail */
       count++;
       pushed_ok[v] = true
     };
     if
     :: pop_waiters > 0 -> cv_notify_one(NE)              /* Q6 */
     :: else -> skip
     fi;
     valid();
     res = OK
  fi
}

/* finish_pop(): precondition closed_ || count_ > 0 */
inline finish_pop(v, res) {
  if
  :: count == 0 -> assert(closed); valid(); res = CLOSED          /* Q4: drained */
  :: else ->
     d_step {
#ifndef POP_FROM_TAIL
       assert(slots[head] != 0);
       v = slots[head] - 1;                                       /* Q2: head */
       slots[head] = 0;
       head = (head + 1) % CAP;
#else
       v = slots[(head + count - 1) % CAP] - 1;                   /* the bug: LIFO */
       slots[(head + count - 1) % CAP] = 0;
#endif
       count--;
       assert(v % N == next_seq[v / N]);                          /* Q2: per-producer FIFO */
       next_seq[v / N]++
     };
     if
     :: push_waiters > 0 -> cv_notify_one(NF)             /* Q6 */
     :: else -> skip
     fi;
     valid();
     res = OK
  fi
}

/* push(x) (TIMEOUTS = 0) or push_until(x, deadline) (TIMEOUTS > 0) */
inline q_push(v, res) {
  lock();
  res = OK;
  do
  :: !closed && count == CAP ->
     wait_not_full(notified);
     if
     :: !notified && !closed && count == CAP -> valid(); res = TIMEDOUT; break
     :: else -> skip
     fi
  :: else -> break
  od;
  if
  :: res == TIMEDOUT -> skip
  :: else -> finish_push(v, res)
  fi;
  notified = false;
  unlock()
}

/* pop() (TIMEOUTS = 0) or pop_until(deadline) (TIMEOUTS > 0) */
inline q_pop(v, res) {
  lock();
  res = OK;
  do
  :: !closed && count == 0 ->
     wait_not_empty(notified);
     if
     :: !notified && !closed && count == 0 -> valid(); res = TIMEDOUT; break
     :: else -> skip
     fi
  :: else -> break
  od;
  if
  :: res == TIMEDOUT -> skip
  :: else -> finish_pop(v, res)
  fi;
  notified = false;
  unlock()
}

/* close() */
inline q_close() {
#ifndef CLOSE_NO_LOCK
  lock();
#endif
  closed = true;
#ifdef CLOSE_NO_NOTIFY_ALL
  cv_notify_one(NF);
  cv_notify_one(NE);
#else
  cv_notify_all(NF);
  cv_notify_all(NE);
#endif
#ifndef CLOSE_NO_LOCK
  valid();
  unlock()
#endif
}

/* ---------------- threads ---------------- */
proctype producer(byte me) {
  byte seq, k, r;
  bool notified, closed_at_call;
  mtype res;
  do
  :: seq < N ->
     closed_at_call = closed;         /* ghost read: was close() already done? */
     q_push(me * N + seq, res);
     assert(!closed_at_call || res == CLOSED);                    /* Q4: push refused */
     assert((res == OK) == pushed_ok[me * N + seq]);
#if CLOSE == 0 || CLOSE == 1
     assert(res != CLOSED);           /* Q3: without a racing close every push succeeds */
#endif
     if
     :: res == TIMEDOUT -> skip       /* retry the same value */
     :: else -> seq++
     fi;
     closed_at_call = false; res = 0
  :: else -> break
  od;
  prod_done++
}

proctype consumer(byte me) {
  byte v, k, r;
  bool notified;
  mtype res;
#if CLOSE == 0
  /* no close: consumer j pops a fixed share of the NV values */
  byte quota = NV / C + (me - P < NV % C -> 1 : 0);
#endif
  do
#if CLOSE == 0
  :: quota == 0 -> break
  :: quota > 0 ->
#else
  :: true ->
#endif
     q_pop(v, res);
     if
     :: res == OK ->
        d_step { got[v]++; assert(got[v] == 1); v = 0 }           /* Q3: no duplicate */
#if CLOSE == 0
        ; quota--
#endif
     :: res == CLOSED ->
        assert(CLOSE > 0);
        break
     :: res == TIMEDOUT -> skip
     fi;
     res = 0
  od
}

#if CLOSE > 0
proctype closer(byte me) {
  byte k, r;
#if CLOSE == 1
  prod_done == P;                     /* join the producers first */
#endif
  q_close();
#ifdef CLOSE_TWICE
  q_close();                          /* Q4: idempotent */
#endif
  skip
}
#endif

init {
  byte i;
  atomic {
    i = 0;
    do
    :: i < P -> run producer(i); i++
    :: else -> break
    od;
    do
    :: i < P + C -> run consumer(i); i++
    :: else -> break
    od;
#if CLOSE > 0
    run closer(P + C);
#endif
    i = 0
  };
  _nr_pr == 1;                        /* every thread returned (else: invalid end state) */
  d_step {
    assert(mtx == 0 && push_waiters == 0 && pop_waiters == 0);
    assert(cv_count[NF] == 0 && cv_count[NE] == 0);
#if CLOSE > 0
    assert(closed && count == 0);     /* Q4: consumers drained the queue */
#else
    assert(count == 0);
#endif
    i = 0;
    do
    :: i < NV ->
       assert(got[i] == (pushed_ok[i] -> 1 : 0));                 /* Q3: exactly once */
#if CLOSE < 2
       assert(pushed_ok[i]);
#endif
       i++
    :: else -> break
    od
  }
}
