#!/usr/bin/env python3
"""Operations checks on the httpower binary, one per ctest entry (server/CMakeLists.txt):

  listeners   -b given twice (127.0.0.1 and ::1): both served, each with its start-up line
  replicas    two roots copied with cp -a: equal ETags, a 304 and an If-Range 206 across
  activation  systemd-socket-activate: inherited sockets served; READY=1 and STOPPING=1 on a
              notify-socket stub (a unix datagram socket this test reads)
  user        --user nobody: uid/gid/groups in /proc/PID/status, a root-only file refused,
              the root warning, a bad name (exit 2), --user without root (exit 1); needs
              root (else exit 77, which ctest reports as skipped)
  reopen      SIGUSR1 under load: the access log renamed three times while clients fetch N
              files; every line is in one of the four files, exactly N in all; the error log
              reopened as well

usage: ops_test.py CHECK HTTPOWER_BINARY
Every wait has a deadline (a watchdog, not a sleep); every loop is bounded.
"""
import http.client
import os
import pwd
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BIN = None
DEADLINE_S = 20


def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    sys.exit(1)


class Child:
    """The binary (or a launcher) with stdout and stderr on pipes read with deadlines."""

    def __init__(self, argv, env=None):
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.buf = {self.p.stdout.fileno(): b"", self.p.stderr.fileno(): b""}

    def line(self, stream, pattern=None, timeout=DEADLINE_S):
        """The next line of stream (matching pattern, when given) within the deadline."""
        fd = stream.fileno()
        end = time.monotonic() + timeout
        while True:
            while b"\n" in self.buf[fd]:
                first, self.buf[fd] = self.buf[fd].split(b"\n", 1)
                text = first.decode()
                if pattern is None or re.search(pattern, text):
                    return text
            left = end - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                fail("no line%s on %s within %d s" % (
                    " matching " + pattern if pattern else "", "stdout" if fd == self.p.stdout.fileno() else "stderr", timeout))
            chunk = os.read(fd, 65536)
            if not chunk:
                fail("stream closed waiting for %r; exit %s" % (pattern, self.p.poll()))
            self.buf[fd] += chunk

    def urls(self):
        """The start-up lines: the serving line's URL and every 'also on' URL."""
        first = self.line(self.p.stdout)
        m = re.search(r" on (http://\S+/) \(", first)
        if not m:
            fail("no URL in the start-up line: " + first)
        return first, [m.group(1)]

    def stop(self, sig=signal.SIGTERM):
        """Sends sig (None: it was sent already), waits for the exit: (status, stderr)."""
        if sig is not None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.p.kill()
            fail("no exit within %d s of signal %d" % (DEADLINE_S, sig))
        err = self.buf[self.p.stderr.fileno()] + self.p.stderr.read()
        return rc, err.decode()

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def split_url(url):
    m = re.match(r"http://(\[([^\]]+)\]|([^:/]+)):(\d+)/$", url)
    if not m:
        fail("bad URL " + url)
    return (m.group(2) or m.group(3)), int(m.group(4))


def get(url, path, headers=None):
    host, port = split_url(url)
    c = http.client.HTTPConnection(host, port, timeout=DEADLINE_S)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r, body


def start(args, env=None):
    c = Child([BIN] + args, env)
    first, urls = c.urls()
    return c, first, urls


def also_urls(c, n):
    return [c.line(c.p.stdout, r"^httpower: also on ").split()[-1] for _ in range(n)]


def make_site(root):
    os.makedirs(os.path.join(root, "sub"))
    files = {"index.html": b"<h1>hi</h1>\n", "sub/data.bin": os.urandom(5000), "a.txt": b"a" * 300}
    for name, data in files.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
    return files


def check_listeners(tmp):
    make_site(tmp)
    c, first, urls = start([tmp, "-p", "0", "-b", "127.0.0.1", "-b", "::1", "-t", "2", "--quiet"])
    try:
        urls += also_urls(c, 1)
        print(first)
        print("also:", urls[1:])
        if not urls[0].startswith("http://127.0.0.1:") or not urls[1].startswith("http://[::1]:"):
            fail("start-up lines %r" % urls)
        for u in urls:
            r, body = get(u, "/a.txt")
            if r.status != 200 or body != b"a" * 300:
                fail("%s: %d" % (u, r.status))
    finally:
        rc, _ = c.stop()
    if rc != 0:
        fail("exit %d" % rc)


def check_replicas(tmp):
    a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
    files = make_site(a)
    subprocess.run(["cp", "-a", a, b], check=True)
    one, _, (u1,) = start([a, "-p", "0", "--quiet"])
    two, _, (u2,) = start([b, "-p", "0", "--quiet"])
    try:
        for name, data in files.items():
            r1, _ = get(u1, "/" + name)
            r2, _ = get(u2, "/" + name)
            e1, e2 = r1.getheader("ETag"), r2.getheader("ETag")
            if not e1 or e1 != e2 or r1.getheader("Last-Modified") != r2.getheader("Last-Modified"):
                fail("%s: validators differ: %s %s / %s %s" % (name, e1, r1.getheader("Last-Modified"),
                                                             e2, r2.getheader("Last-Modified")))
            r, body = get(u2, "/" + name, {"If-None-Match": e1})
            if r.status != 304 or body:
                fail("%s: If-None-Match from replica 1 on replica 2: %d" % (name, r.status))
            r, body = get(u2, "/" + name, {"Range": "bytes=10-", "If-Range": e1})
            if r.status != 206 or body != data[10:]:
                fail("%s: If-Range from replica 1 on replica 2: %d" % (name, r.status))
            print("%-14s ETag %s on both; 304 and 206 across" % (name, e1))
        # The same name with another mtime is another representation: the ETag must differ.
        os.utime(os.path.join(b, "a.txt"), ns=(0, 1_000_000_123))
        r1, _ = get(u1, "/a.txt")
        r2, _ = get(u2, "/a.txt")
        if r1.getheader("ETag") == r2.getheader("ETag"):
            fail("ETag ignores mtime")
        r, _ = get(u2, "/a.txt", {"If-None-Match": r1.getheader("ETag")})
        if r.status != 200:
            fail("stale ETag got %d" % r.status)
    finally:
        one.stop()
        two.stop()


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def check_activation(tmp):
    root = os.path.join(tmp, "www")
    make_site(root)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify_path = os.path.join(tmp, "notify")
    notify.bind(notify_path)
    p4, p6 = free_port(), free_port(socket.AF_INET6, "::1")
    # -b and -p name another address: the inherited sockets win.
    argv = ["systemd-socket-activate", "-l", "127.0.0.1:%d" % p4, "-l", "[::1]:%d" % p6,
            "-E", "NOTIFY_SOCKET=" + notify_path, BIN, root, "-b", "127.0.0.2", "-p", "1",
            "-t", "2", "--quiet"]
    c = Child(argv)
    try:
        c.line(c.p.stderr, r"Listening on .*:%d" % p6)  # the launcher's sockets exist
        # The first connection makes the launcher exec the server, which then accepts it.
        u4, u6 = "http://127.0.0.1:%d/" % p4, "http://[::1]:%d/" % p6
        r, body = get(u4, "/a.txt")
        if r.status != 200 or body != b"a" * 300:
            fail("inherited IPv4 socket: %d" % r.status)
        first, urls = c.urls()
        urls += also_urls(c, 1)
        print(first)
        if urls != [u4, u6]:
            fail("start-up lines name %r, not the inherited %r" % (urls, [u4, u6]))
        r, _ = get(u6, "/index.html")
        if r.status != 200:
            fail("inherited IPv6 socket: %d" % r.status)
        notify.settimeout(DEADLINE_S)
        msg = notify.recv(4096).decode()
        if msg != "READY=1":
            fail("first notification %r" % msg)
        print("notify socket:", msg)
        c.p.send_signal(signal.SIGTERM)
        msg = notify.recv(4096).decode()
        if msg != "STOPPING=1":
            fail("second notification %r" % msg)
        print("notify socket:", msg)
        rc, _ = c.stop(None)  # a second SIGTERM would cut the drain short (exit 130)
        if rc != 0:
            fail("exit %d" % rc)
    finally:
        c.kill()


def proc_ids(pid):
    ids = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid", "Groups"):
                ids[key] = value.split()
    return ids


def check_user(tmp):
    if os.geteuid() != 0:
        print("SKIP: --user needs root")
        sys.exit(77)
    root = os.path.join(tmp, "www")
    make_site(root)
    os.chmod(tmp, 0o755)
    secret = os.path.join(root, "secret.txt")
    with open(secret, "w") as f:
        f.write("root only\n")
    os.chmod(secret, 0o600)
    nobody = pwd.getpwnam("nobody")
    c, first, (url,) = start([root, "-p", "0", "--quiet", "--user", "nobody"])
    try:
        ids = proc_ids(c.p.pid)
        print("/proc/%d/status:" % c.p.pid, ids)
        want_groups = sorted(str(g) for g in os.getgrouplist("nobody", nobody.pw_gid))
        if ids["Uid"] != [str(nobody.pw_uid)] * 4 or ids["Gid"] != [str(nobody.pw_gid)] * 4:
            fail("ids %r, not nobody's" % ids)
        if sorted(ids["Groups"]) != want_groups:
            fail("groups %r, not nobody's %r" % (ids["Groups"], want_groups))
        r, _ = get(url, "/a.txt")
        if r.status != 200:
            fail("public file: %d" % r.status)
        r, body = get(url, "/secret.txt")
        if r.status not in (403, 404) or b"root only" in body:
            fail("root-only file: %d" % r.status)
    finally:
        rc, err = c.stop()
    if rc != 0 or "running as root" in err:
        fail("with --user: exit %d, stderr %r" % (rc, err))
    c, _, _ = start([root, "-p", "0", "--quiet"])
    rc, err = c.stop()
    if "httpower: warning: running as root" not in err:
        fail("no root warning without --user: %r" % err)
    print("without --user:", err.splitlines()[0])
    p = subprocess.run([BIN, root, "-p", "0", "--user", "no-such-user-httpower"],
                       capture_output=True, text=True, timeout=DEADLINE_S)
    if p.returncode != 2 or p.stderr.count("\n") != 1 or "--user" not in p.stderr:
        fail("bad user: exit %d, %r" % (p.returncode, p.stderr))
    print("bad user:", p.stderr.strip())
    # A coverage build's runtime would print a "cannot open" line per .gcda file it may not
    # write as nobody: give it a scratch prefix that nobody can write (no effect otherwise).
    gcov = tempfile.mkdtemp(prefix="httpower-gcov-")
    os.chmod(gcov, 0o777)
    p = subprocess.run(["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid,
                        "--clear-groups", BIN, root, "-p", "0", "--user", "nobody"],
                       capture_output=True, text=True, timeout=DEADLINE_S,
                       env=dict(os.environ, GCOV_PREFIX=gcov))
    shutil.rmtree(gcov, ignore_errors=True)
    if p.returncode != 1 or p.stderr.count("\n") != 1 or "(--user needs root)" not in p.stderr:
        fail("--user without root: exit %d, %r" % (p.returncode, p.stderr))
    print("without root:", p.stderr.strip())


def count_lines(paths):
    n = 0
    for path in paths:
        if os.path.exists(path):
            with open(path, "rb") as f:
                n += f.read().count(b"\n")
    return n


def check_reopen(tmp):
    root = os.path.join(tmp, "www")
    make_site(root)
    logs = os.path.join(tmp, "logs")
    os.mkdir(logs)
    access = os.path.join(logs, "access.log")
    threads, per_thread, rotations = 4, 1000, 3
    total = threads * per_thread
    c, _, (url,) = start([root, "-p", "0", "-t", "2", "--access-log", access])
    host, port = split_url(url)
    lock = threading.Condition()
    state = {"done": 0, "errors": []}
    gates = [threading.Event() for _ in range(rotations)]

    def client():
        conn = http.client.HTTPConnection(host, port, timeout=DEADLINE_S)
        try:
            for _ in range(per_thread):
                with lock:
                    ticket = state["done"]
                    state["done"] += 1
                    lock.notify_all()
                # Request number k * total / (rotations + 1) waits for rotation k, so every
                # file gets lines; the rest of the clients keep going meanwhile.
                for k, g in enumerate(gates):
                    if ticket == (k + 1) * total // (rotations + 1) and not g.wait(DEADLINE_S):
                        raise RuntimeError("rotation %d not confirmed" % (k + 1))
                conn.request("GET", "/a.txt")
                r = conn.getresponse()
                if r.status != 200 or len(r.read()) != 300:
                    raise RuntimeError("status %d" % r.status)
        except Exception as e:  # noqa: BLE001 -- reported by the main thread
            with lock:
                state["errors"].append(repr(e))
                lock.notify_all()
            for g in gates:
                g.set()
        finally:
            conn.close()

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for w in workers:
        w.start()
    try:
        for k in range(rotations):
            with lock:
                if not lock.wait_for(lambda: state["done"] >= (k + 1) * total // (rotations + 1)
                                     or state["errors"], DEADLINE_S):
                    fail("clients stalled")
            os.rename(access, "%s.%d" % (access, k + 1))
            c.p.send_signal(signal.SIGUSR1)
            c.line(c.p.stderr, r"SIGUSR1: log files reopened")
            gates[k].set()
        for w in workers:
            w.join(DEADLINE_S * 3)
            if w.is_alive():
                fail("a client did not finish")
    finally:
        rc, err = c.stop()
    if state["errors"] or rc != 0:
        fail("client errors %r, exit %d, stderr %s" % (state["errors"][:3], rc, err))
    files = [access] + ["%s.%d" % (access, k + 1) for k in range(rotations)]
    counts = [count_lines([f]) for f in files]
    print("lines per file (access.log, .1, .2, .3):", counts, "sum", sum(counts), "of", total)
    if sum(counts) != total:
        fail("%d access-log lines across the files, %d requests" % (sum(counts), total))
    if min(counts) == 0:
        fail("a file got no line: %r" % counts)

    check_error_log_reopen(root, logs)


def check_error_log_reopen(root, logs):
    """The error log renamed, SIGUSR1, then the stop: SIGUSR1 (10) is delivered before
    SIGTERM (15), so the reopen line and the stop lines are all in the new file."""
    errlog = os.path.join(logs, "error.log")
    c, _, _ = start([root, "-p", "0", "--quiet", "--error-log", errlog])
    os.rename(errlog, errlog + ".1")
    c.p.send_signal(signal.SIGUSR1)
    rc, _ = c.stop()
    with open(errlog) as f:
        text = f.read()
    if rc != 0 or "log files reopened" not in text or "stopped:" not in text:
        fail("error log after reopen: exit %d, %r" % (rc, text))
    print("error log reopened:", text.splitlines()[0])


CHECKS = {"listeners": check_listeners, "replicas": check_replicas,
          "activation": check_activation, "user": check_user, "reopen": check_reopen}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in CHECKS:
        sys.exit("usage: ops_test.py {%s} HTTPOWER_BINARY" % "|".join(CHECKS))
    BIN = sys.argv[2]
    work = tempfile.mkdtemp(prefix="httpower-ops-")
    try:
        CHECKS[sys.argv[1]](work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("ops %s: ok" % sys.argv[1])
