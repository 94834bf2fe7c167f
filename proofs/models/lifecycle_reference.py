#!/usr/bin/env python3
"""lifecycle_reference.py: an executable reference of the transition rules of
connection_lifecycle.pml, replayed over hand-off traces of the real server.

A test build of the server (HTTPOWER_HANDOFF_CHECKS, server/handoff.hpp) run with
HTTPOWER_TRACE=PATH writes one line per hand-off event, in the order of a global sequence
number: "SEQ THREAD EVENT CONN". THREAD is a proctype of the model: ACC (acceptor), SUP
(supervisor), POL (poller), WK<w> (worker w). CONN is the connection id (0: none). This
program replays the events against the model's state (owner[], the queue q, the poller's
parked set, qclosed, the drain phases) and fails at the first step the model does not allow.

Usage: lifecycle_reference.py TRACE...        (exit 0: every trace follows the model)
       lifecycle_reference.py --self-test     (the rules reject the bad traces below)

How the numbers are drawn (handoff.hpp): an event that gives a connection away (push, park,
close) is numbered before the hand-off, one that takes it (pop, wake) after, and the
poller's park / wake / sweep / expire / drain / stop events under the poller's lock. So a
push whose queue turned out to be closed or full appears as "push" followed by "refused"
(blocking or try_push) or "held" (try_push on a full queue) from the same thread, and the
queue close is bracketed by "abort" (before queue_.close()) and "queue_close" (after it).
"""

import sys

# Owners, as in connection_lifecycle.pml.
NONE, ACC, QUE, POL, CLOSED = "NONE", "ACC", "QUE", "POL", "CLOSED"

# Drain phases in the order of Server::supervise (the model's supervisor proctype), each
# with the phases that must come before it.
PHASE_NEEDS = {
    "stop_request": [],
    "drain_begin": ["stop_request"],          # draining = true
    "poller_drain": ["drain_begin"],          # p_draining = true
    "acceptor_stopped": ["drain_begin"],      # listener closed, backlog drained
    "drain_over": ["poller_drain", "acceptor_stopped"],  # plus live == 0 (checked below)
    "drain_forced": ["poller_drain"],         # the drain deadline or a second signal
    "abort": ["drain_over|drain_forced"],     # aborting = true, then queue_.close()
    "queue_close": ["abort"],                 # qclosed = true (recorded after close())
    "poller_stop": ["queue_close"],           # p_stopping = true
    "poller_exit": ["poller_stop"],
    "worker_exit": ["abort"],                 # pop reported closed (close() has begun)
    "joined": ["poller_exit", "queue_close"],
}
SUPERVISOR_EVENTS = {"stop_request", "drain_begin", "poller_drain", "drain_over",
                     "drain_forced", "abort", "queue_close", "poller_stop", "joined"}


class Violation(Exception):
    pass


class Conn:
    def __init__(self):
        self.owner = ACC
        self.in_queue = False      # in q (possibly a push whose outcome is not known yet)
        self.pusher = None         # who pushed it (a refused / held push gives it back)
        self.late_push = False     # pushed after the queue closed: must be refused
        self.parked = False        # in the poller's parked_


class Reference:
    def __init__(self):
        self.conns = {}
        self.seen = set()          # phases that happened
        self.workers = set()
        self.workers_exited = set()
        self.live = 0
        self.last_seq = -1

    # -- helpers ------------------------------------------------------------------------
    def phase(self, name):
        return name in self.seen

    def conn(self, cid, event):
        if cid not in self.conns:
            raise Violation(f"{event} of connection {cid}, which was never accepted")
        c = self.conns[cid]
        if c.owner == CLOSED:
            raise Violation(f"{event} of connection {cid} after its close")
        return c

    def owned_by(self, c, cid, who, event):
        if c.owner != who:
            raise Violation(f"{event} of connection {cid} by {who}, but its owner is {c.owner}")

    # -- one event ----------------------------------------------------------------------
    def step(self, seq, who, event, cid):
        if seq <= self.last_seq:
            raise Violation(f"sequence number {seq} after {self.last_seq}")
        self.last_seq = seq
        # The supervisor joins the workers and the poller; the acceptor is the thread that
        # runs Server::run() and joins the supervisor, so after a forced drain (deadline or a
        # second signal) it may still be closing the listener when `joined` is recorded.
        if self.phase("joined") and who != ACC:
            raise Violation(f"{event} by {who} after the supervisor joined the workers and the poller")
        if who.startswith("WK"):
            self.workers.add(who)
        if who == ACC and self.phase("acceptor_stopped") and event != "close":
            raise Violation(f"{event} by the acceptor after it stopped")
        handler = getattr(self, "on_" + event, None)
        if handler is not None:
            handler(who, cid, event)
        elif event in PHASE_NEEDS:
            self.on_phase(who, event)
        else:
            raise Violation(f"unknown event '{event}'")

    def on_phase(self, who, event):
        if event in SUPERVISOR_EVENTS and who != "SUP":
            raise Violation(f"{event} by {who}, not the supervisor")
        for need in PHASE_NEEDS[event]:
            if not any(self.phase(n) for n in need.split("|")):
                raise Violation(f"drain phases out of order: {event} before {need}")
        if event == "drain_over" and self.live != 0:
            open_ = sorted(k for k, c in self.conns.items() if c.owner != CLOSED)
            raise Violation(f"drain_over with {self.live} connections open {open_[:5]}: the "
                            f"queue would close under them")
        if event == "worker_exit":
            self.workers_exited.add(who)
        if event == "poller_exit" and who != POL:
            raise Violation(f"poller_exit by {who}")
        if event == "acceptor_stopped" and who != ACC:
            raise Violation(f"acceptor_stopped by {who}")
        if event == "joined":
            missing = self.workers - self.workers_exited
            if missing:
                raise Violation(f"joined before {sorted(missing)} returned")
        self.seen.add(event)

    # acceptor: accept4 (transfer(c, NONE, ACC); live++)
    def on_accept(self, who, cid, event):
        if who != ACC:
            raise Violation(f"accept by {who}")
        if cid in self.conns:
            raise Violation(f"connection {cid} accepted twice")
        self.conns[cid] = Conn()
        self.live += 1

    # q_push: the giver owns it; the queue takes it (unless refused / held afterwards)
    def on_push(self, who, cid, event):
        c = self.conn(cid, event)
        if who not in (ACC, POL):
            raise Violation(f"push of connection {cid} by {who}: only the acceptor and the "
                            f"poller push (a worker parks)")
        self.owned_by(c, cid, who, event)
        if c.parked:
            raise Violation(f"push of connection {cid} while it is parked")
        c.owner, c.in_queue, c.pusher = QUE, True, who
        c.late_push = self.phase("queue_close")

    def give_back(self, who, cid, event):
        c = self.conn(cid, event)
        if not (c.in_queue and c.pusher == who and c.owner == QUE):
            raise Violation(f"{event} of connection {cid} by {who}, which did not just push it")
        c.owner, c.in_queue, c.pusher, c.late_push = who, False, None, False
        return c

    # q_push returned REFUSED: the queue is closed (close() has begun)
    def on_refused(self, who, cid, event):
        if not self.phase("abort"):
            raise Violation(f"push of connection {cid} refused while the queue is open")
        self.give_back(who, cid, event)

    # the poller's try_push found the queue full (or others held first): held_ FIFO, owner POL
    def on_held(self, who, cid, event):
        if who != POL:
            raise Violation(f"held by {who}")
        if self.conn(cid, event).in_queue:  # the push just before found the queue full
            self.give_back(who, cid, event)
        self.owned_by(self.conns[cid], cid, POL, event)

    # worker: q?c; transfer(c, QUE, me)
    def on_pop(self, who, cid, event):
        if not who.startswith("WK"):
            raise Violation(f"pop by {who}, not a worker")
        c = self.conn(cid, event)
        if not c.in_queue:
            raise Violation(f"pop of connection {cid}, which is not in the queue (owner {c.owner})")
        if c.late_push:
            raise Violation(f"pop of connection {cid}, pushed after the queue closed")
        c.owner, c.in_queue, c.pusher = who, False, None

    # park(c, why): the owner hands it to the poller (p_parked, armed)
    def on_park(self, who, cid, event):
        c = self.conn(cid, event)
        if who == "SUP":
            raise Violation(f"park by the supervisor")
        self.owned_by(c, cid, who, event)
        if self.phase("poller_stop"):
            raise Violation(f"park of connection {cid} accepted after the poller stopped")
        c.owner, c.parked = POL, True

    # park refused (stopping, or idle while draining): the caller keeps it and closes it
    def on_park_refused(self, who, cid, event):
        c = self.conn(cid, event)
        self.owned_by(c, cid, who, event)
        if not (self.phase("poller_drain") or self.phase("poller_stop")):
            raise Violation(f"park of connection {cid} refused while the poller neither "
                            f"drains nor stops")

    # epoll_ctl failed inside park: the parker takes it back
    def on_arm_failed(self, who, cid, event):
        c = self.conn(cid, event)
        if not c.parked or c.owner != POL:
            raise Violation(f"arm_failed of connection {cid}, which is not parked")
        c.owner, c.parked = who, False

    # the poller takes a parked connection out of parked_ (on_ready, deadline, sweeps)
    def unpark(self, who, cid, event):
        if who != POL:
            raise Violation(f"{event} by {who}, not the poller")
        c = self.conn(cid, event)
        if not c.parked:
            raise Violation(f"{event} of connection {cid}, which is not parked (owner {c.owner})")
        self.owned_by(c, cid, POL, event)
        c.parked = False
        return c

    def on_wake(self, who, cid, event):
        self.unpark(who, cid, event)

    def on_expire(self, who, cid, event):
        self.unpark(who, cid, event)

    def on_sweep(self, who, cid, event):
        if not self.phase("poller_drain"):
            raise Violation(f"drain sweep of connection {cid} before begin_drain")
        self.unpark(who, cid, event)

    # stop(): the poller closes everything it holds: parked ones and held ones
    def on_stop_close(self, who, cid, event):
        if not self.phase("poller_stop"):
            raise Violation(f"stop_close of connection {cid} before poller_stop")
        c = self.conn(cid, event)
        if c.parked:
            self.unpark(who, cid, event)
        else:
            self.owned_by(c, cid, POL, event)

    # close_conn: only the owner closes; live--
    def on_close(self, who, cid, event):
        c = self.conn(cid, event)
        self.owned_by(c, cid, who, event)
        if c.parked or c.in_queue:
            raise Violation(f"close of connection {cid} while it is parked or queued")
        c.owner = CLOSED
        self.live -= 1

    # -- the end (the model's init, after acceptor_done) ---------------------------------
    def finish(self):
        for need in ("joined", "acceptor_stopped"):
            if not self.phase(need):
                raise Violation(f"the trace ends before {need}")
        left = sorted(k for k, c in self.conns.items() if c.owner != CLOSED)
        if left:
            raise Violation(f"{len(left)} accepted connections never closed: {left[:10]}")
        if self.live != 0:
            raise Violation(f"live == {self.live} at the end")


def check(lines):
    """Replays the lines of one trace; returns the number of events, raises Violation."""
    ref = Reference()
    n = 0
    ended = False
    for lineno, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            ended = ended or line == "# end"
            continue
        if ended:
            raise Violation(f"line {lineno}: an event after the end marker")
        parts = line.split()
        if len(parts) != 4:
            raise Violation(f"line {lineno}: malformed: {line!r}")
        try:
            ref.step(int(parts[0]), parts[1], parts[2], int(parts[3]))
        except Violation as v:
            raise Violation(f"line {lineno} ({line}): {v}") from None
        n += 1
    if not ended:
        raise Violation("the trace is truncated (no end marker)")
    ref.finish()
    return n


# A clean trace and single-step corruptions of it, one per rule family (--self-test).
_CLEAN = """0 ACC accept 1
1 ACC push 1
2 WK0 pop 1
3 WK0 park 1
4 POL wake 1
5 POL push 1
6 WK0 pop 1
7 WK0 close 1
8 SUP stop_request 0
9 SUP drain_begin 0
10 ACC acceptor_stopped 0
11 SUP poller_drain 0
12 SUP drain_over 0
13 SUP abort 0
14 WK0 worker_exit 0
15 SUP queue_close 0
16 SUP poller_stop 0
17 POL poller_exit 0
18 SUP joined 0"""

_BAD = {
    "pop not in queue": [("2 WK0 pop 1", "2 WK0 pop 1\n2 WK1 pop 1")],
    "park by non-owner": [("3 WK0 park 1", "3 WK1 park 1")],
    "wake not parked": [("3 WK0 park 1\n4 POL wake 1", "3 POL wake 1\n4 WK0 park 1")],
    "event after close": [("8 SUP stop_request 0", "8 WK0 close 1\n8 SUP stop_request 0")],
    "queue closed before the acceptor stopped": [
        ("10 ACC acceptor_stopped 0\n11 SUP poller_drain 0\n12 SUP drain_over 0",
         "11 SUP poller_drain 0\n12 SUP drain_over 0\n12 ACC acceptor_stopped 0")],
    "drain over with connections open": [("7 WK0 close 1\n", "")],
    "never closed": [("6 WK0 pop 1\n7 WK0 close 1", "6 WK0 pop 1\n7 WK0 park 1")],
    "worker pushes": [("5 POL push 1", "5 WK0 push 1")],
    "refused while open": [("5 POL push 1", "5 POL push 1\n5 POL refused 1")],
    "park refused while the poller runs": [("3 WK0 park 1", "3 WK0 park_refused 1\n3 WK0 park 1")],
    "drain sweep before the drain": [("4 POL wake 1", "4 POL sweep 1")],
    "acceptor after it stopped": [("15 SUP queue_close 0", "15 SUP queue_close 0\n15 ACC accept 2")],
    "event after joined": [("18 SUP joined 0", "18 SUP joined 0\n18 POL poller_exit 0")],
    "truncated": [("18 SUP joined 0", "")],
}


# Traces the rules must accept besides the clean one. A forced drain (the drain deadline or
# a second signal) lets the supervisor join the workers and the poller before the acceptor,
# the thread that joins the supervisor, has closed the listener (seen under ASan).
_GOOD = {
    "acceptor stops after a forced drain's join": """0 ACC accept 1
1 ACC push 1
2 WK0 pop 1
3 WK0 park 1
4 SUP stop_request 0
5 SUP drain_begin 0
6 SUP poller_drain 0
7 SUP drain_forced 0
8 SUP abort 0
9 SUP queue_close 0
10 SUP poller_stop 0
11 WK0 worker_exit 0
12 POL stop_close 1
13 POL close 1
14 POL poller_exit 0
15 SUP joined 0
16 ACC acceptor_stopped 0""",
}


def _renumber(text):
    out = []
    for i, line in enumerate(l for l in text.splitlines() if l.strip()):
        parts = line.split()
        out.append(" ".join([str(i)] + parts[1:]))
    return out + ["# end"]


def self_test():
    check(_renumber(_CLEAN))
    failures = 0
    for name, text in _GOOD.items():
        try:
            check(_renumber(text))
        except Violation as v:
            print(f"self-test: '{name}' was refused: {v}", file=sys.stderr)
            failures += 1
    for name, edits in _BAD.items():
        text = _CLEAN
        for old, new in edits:
            assert old in text, name
            text = text.replace(old, new)
        lines = _renumber(text)
        if name == "truncated":
            lines = lines[:-1]
        try:
            check(lines)
            print(f"self-test: '{name}' was accepted", file=sys.stderr)
            failures += 1
        except Violation:
            pass
    print(f"self-test: {len(_BAD) + len(_GOOD) - failures} passed, {failures} failed")
    return 1 if failures else 0


def main(argv):
    if argv == ["--self-test"]:
        return self_test()
    if not argv:
        print("usage: lifecycle_reference.py TRACE... | --self-test", file=sys.stderr)
        return 2
    bad = 0
    for path in argv:
        try:
            with open(path, encoding="ascii") as f:
                n = check(f)
            print(f"{path}: {n} events follow connection_lifecycle.pml")
        except (OSError, Violation) as e:
            print(f"{path}: VIOLATION {e}", file=sys.stderr)
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
