#!/usr/bin/env python3
"""Kernel memory left behind by connections the server closed on a send timeout.

usage: bench/timeout_memory.py HTTPOWER_BINARY [CLIENTS]

Starts the binary on 127.0.0.1 (port 0, --send-timeout 1) over a temporary root holding a
64 MiB sparse file. CLIENTS clients (default 50; 4 KiB receive buffers) ask for it and never
read. Once the server has accepted them all and closed them all again (its descriptor count rose
by CLIENTS and is back to its idle count),
`ss -tmn` lists the server-side sockets still in the kernel on its port, with their states
and queued send memory (skmem w: wmem_queued); /proc/net/sockstat's TCP line is printed
before and after too (system-wide, so other traffic on the machine shows up in it).
All traffic is on 127.0.0.1; every wait has a deadline.
"""
import os, re, socket, subprocess, sys, tempfile, time

def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))

def sockstat():
    with open("/proc/net/sockstat") as f:
        return next(l.strip() for l in f if l.startswith("TCP:"))

def ss_summary(side, port):
    """States and memory (skmem w; r + t) of the TCP sockets whose `side` port is `port`."""
    out = subprocess.run(["ss", "-tmnaH", f"( {side} = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    states, queued, alloc = {}, 0, 0
    for l in out.splitlines():
        if l and l[0].isalpha() and not l.startswith("skmem"):
            st = l.split()[0]
            states[st] = states.get(st, 0) + 1
        m = re.search(r"skmem:\(r(\d+),rb\d+,t(\d+),tb\d+,f\d+,w(\d+)", l)
        if m:
            alloc += int(m.group(1)) + int(m.group(2))
            queued += int(m.group(3))
    return states, queued, alloc

def main():
    binary = sys.argv[1]
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    root = tempfile.mkdtemp()
    with open(os.path.join(root, "huge.bin"), "wb") as f:
        f.truncate(64 << 20)
    srv = subprocess.Popen([binary, root, "-p", "0", "--quiet", "--send-timeout", "1"],
                           stdout=subprocess.PIPE, text=True)
    try:
        line = srv.stdout.readline()
        port = int(re.search(r":(\d+)/", line).group(1))
        idle_fds = fd_count(srv.pid)
        before = sockstat()
        socks = []
        for _ in range(clients):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(("127.0.0.1", port))
            s.sendall(b"GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(s)
        deadline = time.monotonic() + 30
        while fd_count(srv.pid) < idle_fds + clients and time.monotonic() < deadline:
            time.sleep(0.01)  # every client accepted
        while fd_count(srv.pid) > idle_fds and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fd_count(srv.pid) == idle_fds, "the server did not time the clients out"
        print(f"clients {clients}, all timed out by the server")
        for side in ("sport", "dport"):
            states, queued, alloc = ss_summary(side, port)
            who = "server side" if side == "sport" else "client side"
            print(f"{who}: sockets {states or 'none'}; skmem w (queued to send) {queued} bytes "
                  f"({queued / 2**20:.1f} MiB), r+t (allocated) {alloc} bytes ({alloc / 2**20:.1f} MiB)")
        print(f"sockstat before: {before}")
        print(f"sockstat after:  {sockstat()}")
        for s in socks:
            s.close()
    finally:
        srv.terminate()
        srv.wait(10)

if __name__ == "__main__":
    main()
