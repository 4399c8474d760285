#!/usr/bin/env python3
"""Hostile clients against an admin HTTP server on loopback, and a liveness
liveness check beside them.

usage: http_attack.py PORT KIND [--conns N] [--checks P] [--interval S]
                      [--timeout S] [--warmup S]

KIND is one of
  idle       connections that never send a byte
  partial    connections that send half a request line, then nothing
  slowloris  connections that send a request head one byte per second
  slowbody   POST with Content-Length: 1000000, the body one byte per second
  noread     complete requests whose answers are never read
  pipeline   three pipelined requests per connection, answers not read
  bighead    request heads of 64 KiB (a large header), as fast as possible
  none       no attack: the checks alone

The attack keeps N connections open for the whole run: a connection the
server closes is opened again on the next tick (every 50 ms), as an attacker
would. After WARMUP seconds, P checks (`GET /healthz` on a new connection,
one every INTERVAL seconds, each given TIMEOUT seconds, the liveness
timeout of the manifests) are sent from another thread. Prints one line:

  kind=slowloris conns=1000 answered=20/20 worst_ms=12.3 median_ms=1.1 ...

and exits 0 when every check got a 200, 1 otherwise. Loopback only; bounded
in time (warmup + checks x interval + timeout).
"""
import argparse
import errno
import resource
import selectors
import socket
import statistics
import sys
import threading
import time

HEAD_SLOW = b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: slow\r\nX-Pad: " + b"a" * 200 + b"\r\n\r\n"


class Conn:
    __slots__ = ("sock", "sent", "kind", "opened")

    def __init__(self, sock, kind):
        self.sock = sock
        self.sent = 0
        self.kind = kind
        self.opened = time.monotonic()


def first_bytes(kind):
    if kind == "partial":
        return b"GET /heal"
    if kind == "slowbody":
        return b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"
    if kind == "noread":
        return b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
    if kind == "pipeline":
        one = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
        return one * 3
    if kind == "bighead":
        return b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 65536 + b"\r\n\r\n"
    return b""


class Attack:
    def __init__(self, port, kind, n):
        self.port, self.kind, self.n = port, kind, n
        self.sel = selectors.DefaultSelector()
        self.conns = {}
        self.opened = 0
        self.closed_by_server = 0
        self.refused = 0
        self.stop = False

    def open_one(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", self.port))
        except BlockingIOError:
            pass
        except OSError:
            self.refused += 1
            s.close()
            return
        c = Conn(s, self.kind)
        self.conns[s.fileno()] = c
        self.sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
        self.opened += 1

    def drop(self, c, by_server):
        self.sel.unregister(c.sock)
        del self.conns[c.sock.fileno()]
        c.sock.close()
        if by_server:
            self.closed_by_server += 1

    def run(self):
        last_trickle = 0.0
        while not self.stop:
            while len(self.conns) < self.n:
                self.open_one()
                if self.refused > 100000:
                    break
            now = time.monotonic()
            trickle = now - last_trickle >= 1.0
            if trickle:
                last_trickle = now
            for key, ev in self.sel.select(timeout=0.05):
                c = key.data
                if ev & selectors.EVENT_READ:
                    try:
                        data = c.sock.recv(65536)
                    except (ConnectionResetError, OSError):
                        data = b""
                    if not data:
                        self.drop(c, True)
                        continue
                if ev & selectors.EVENT_WRITE:
                    first = first_bytes(c.kind)
                    try:
                        if c.sent < len(first):
                            c.sent += c.sock.send(first[c.sent:])
                    except (BrokenPipeError, ConnectionResetError, OSError) as e:
                        if e.errno not in (errno.EAGAIN,):
                            self.drop(c, True)
                            continue
                    if c.sent >= len(first):
                        mask = 0 if c.kind in ("noread", "pipeline") else selectors.EVENT_READ
                        if mask:
                            self.sel.modify(c.sock, mask, c)
                        else:
                            # keep the socket, watch nothing: the answer stays unread
                            self.sel.unregister(c.sock)
            if trickle and self.kind in ("slowloris", "slowbody"):
                for c in list(self.conns.values()):
                    first = first_bytes(c.kind)
                    if c.sent < len(first):
                        continue
                    if c.kind == "slowloris":
                        k = c.sent - len(first)
                        if k >= len(HEAD_SLOW):
                            continue
                        byte = HEAD_SLOW[k : k + 1]
                    else:
                        byte = b"x"
                    try:
                        c.sock.send(byte)
                        c.sent += 1
                    except BlockingIOError:
                        pass
                    except OSError:
                        self.drop(c, True)
            if self.kind in ("noread", "pipeline"):
                # sockets not watched (their answers stay unread): once a
                # second, find the ones the server reset
                if trickle:
                    for c in list(self.conns.values()):
                        if c.sent < len(first_bytes(c.kind)):
                            continue
                        try:
                            d = c.sock.recv(1, socket.MSG_PEEK)
                            if d == b"":
                                self.drop_unwatched(c)
                        except BlockingIOError:
                            pass
                        except OSError:
                            self.drop_unwatched(c)

    def drop_unwatched(self, c):
        try:
            self.sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        del self.conns[c.sock.fileno()]
        c.sock.close()
        self.closed_by_server += 1


def check(port, timeout):
    """One GET /healthz on a new connection: (status or None, seconds)."""
    t0 = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s.settimeout(max(0.001, timeout - (time.monotonic() - t0)))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: check\r\n\r\n")
        buf = b""
        while b"\r\n" not in buf:
            d = s.recv(4096)
            if not d:
                break
            buf += d
        s.close()
        dt = time.monotonic() - t0
        if buf.startswith(b"HTTP/1.1 "):
            return int(buf[9:12]), dt
        sys.stderr.write("check: no answer (%r)\n" % buf[:40])
        return None, dt
    except OSError as e:
        sys.stderr.write("check: %s\n" % e)
        return None, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("kind", choices=["idle", "partial", "slowloris", "slowbody", "noread",
                                     "pipeline", "bighead", "none"])
    ap.add_argument("--conns", type=int, default=1000)
    ap.add_argument("--checks", type=int, default=20)
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--timeout", type=float, default=3.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, a.conns + 256)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    attack = Attack(a.port, a.kind, 0 if a.kind == "none" else a.conns)
    t = threading.Thread(target=attack.run, daemon=True)
    t.start()
    time.sleep(a.warmup)
    results = []
    for _ in range(a.checks):
        t0 = time.monotonic()
        results.append(check(a.port, a.timeout))
        time.sleep(max(0.0, a.interval - (time.monotonic() - t0)))
    attack.stop = True
    t.join(5)
    ok = [dt for st, dt in results if st == 200]
    worst = max(dt for _, dt in results) * 1000
    med = statistics.median(dt for _, dt in results) * 1000
    print("kind=%s conns=%d answered=%d/%d worst_ms=%.1f (answered: %s) median_ms=%.1f "
          "open_now=%d opened=%d closed_by_server=%d"
          % (a.kind, a.conns, len(ok), len(results), worst,
             "%.1f" % (max(ok) * 1000) if ok else "-", med, len(attack.conns), attack.opened,
             attack.closed_by_server))
    sys.exit(0 if len(ok) == len(results) else 1)


if __name__ == "__main__":
    main()
