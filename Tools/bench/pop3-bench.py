#!/usr/bin/env python3
"""POP3 retrieval, mstored against Dovecot 2.3, same client, same machine, same run.

Workloads (RFC 1939 RETR over loopback, medians of --runs):
  * 5,000 small messages, sequential (one RETR at a time) and pipelined;
  * 1,000 messages of 100 KiB, pipelined, in MB/s.

The client is loadclient.c (--client c, the default): it keeps up to --window RETRs outstanding
when pipelining, and checks every response against LIST's size and the terminator. On 2 cores
the old Python client (--client python, which sends all RETRs ahead) competes with the server
for CPU, so its sequential figure measures mostly itself.

Usage: Tools/bench/pop3-bench.py [--runs 3] [--small 5000] [--large 1000] [--client c|python] [--window 64]
Starts Dovecot with ../shared/peer/start-dovecot.sh (root) and mstored on free ports; with
MSTORE_BIN set it uses the mstored and mstore there instead of building them.
"""
import argparse, os, socket, statistics, subprocess, sys, tempfile, threading, time, smtplib, shutil
import loadclient

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEER = os.path.join(ROOT, "..", "shared", "peer", "start-dovecot.sh")
TERM = b"\r\n.\r\n"


def small_message(i):
    body = ("Hello, this is message %d of the POP3 benchmark.\r\n" % i) * 30
    return ("From: Bench Sender <sender@example.org>\r\nTo: user@example.org\r\n"
            "Subject: small %d\r\nMessage-ID: <small.%d@bench>\r\nDate: Sun, 29 Nov 2026 12:00:00 +0000\r\n\r\n" % (i, i)
            + body).encode()


def large_message(i):
    line = ("%05d " % i) + "abcdefghijklmnopqrstuvwxyz0123456789" * 2 + "\r\n"
    body = line * (100 * 1024 // len(line))
    return ("From: sender@example.org\r\nSubject: large %d\r\nMessage-ID: <large.%d@bench>\r\n\r\n" % (i, i) + body).encode()


class Client:
    def __init__(self, port, user, password):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.line()
        self.cmd("USER " + user); self.cmd("PASS " + password)

    def line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.s.recv(1 << 20)
        l, _, self.buf = self.buf.partition(b"\r\n")
        return l

    def cmd(self, c):
        self.s.sendall(c.encode() + b"\r\n")
        l = self.line()
        if not l.startswith(b"+OK"):
            raise RuntimeError("%s -> %r" % (c, l))
        return l

    def stat(self):
        return int(self.cmd("STAT").split()[1])

    def retr_sequential(self, n):
        total = 0
        for i in range(1, n + 1):
            self.s.sendall(b"RETR %d\r\n" % i)
            while not self.buf.endswith(TERM):
                self.buf += self.s.recv(1 << 20)
            total += len(self.buf)
            self.buf = b""
        return total

    def retr_pipelined(self, n):
        data = b"".join(b"RETR %d\r\n" % i for i in range(1, n + 1))
        t = threading.Thread(target=self.s.sendall, args=(data,)); t.start()
        seen, total, tail = 0, 0, b""
        while seen < n:
            chunk = self.s.recv(1 << 22)
            if not chunk:
                raise RuntimeError("closed")
            total += len(chunk)
            joined = tail + chunk
            seen += joined.count(TERM)
            tail = joined[-4:]
        t.join()
        return total

    def quit(self):
        self.s.sendall(b"QUIT\r\n")
        self.s.close()


def ensure_dovecot_mailbox(user, count, make):
    c = Client(10110, user, "pass")
    if c.stat() == count:
        c.quit(); return
    for i in range(1, c.stat() + 1):
        c.cmd("DELE %d" % i)
    c.cmd("QUIT")
    def worker(lo, hi):
        with smtplib.LMTP("127.0.0.1", 10024) as l:
            for i in range(lo, hi):
                l.sendmail("sender@example.org", [user], make(i))
    threads = [threading.Thread(target=worker, args=(k * count // 4, (k + 1) * count // 4)) for k in range(4)]
    for t in threads: t.start()
    for t in threads: t.join()


def start_mstored(args, small, large):
    bindir = os.environ.get("MSTORE_BIN")
    if not bindir:
        for product in ("mstored", "mstore"):
            subprocess.run(["swift", "build", "-c", "release", "--product", product], cwd=ROOT, check=True,
                           capture_output=True)
        bindir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
    work = tempfile.mkdtemp(prefix="mstore-pop3-bench-")
    env = dict(os.environ, MSTORE_DATA=os.path.join(work, "data"))
    for user, count, make in (("small", small, small_message), ("large", large, large_message)):
        subprocess.run([bindir + "/mstore", "user", "add", user, "--password-stdin"], input=b"pass\n", env=env, check=True,
                       capture_output=True)
        path = os.path.join(work, user + ".mbox")
        with open(path, "wb") as f:
            for i in range(count):
                f.write(b"From sender@example.org Sun Nov 29 12:00:00 2026\n" + make(i).replace(b"\r\n", b"\n") + b"\n")
        subprocess.run([bindir + "/mstore", "import", user, path], env=env, check=True, capture_output=True)
    p = subprocess.Popen([bindir + "/mstored", "--pop3", "127.0.0.1:0"], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    port = None
    for line in p.stdout:
        if line.startswith("mstored: listening pop3 "):
            port = int(line.rsplit(":", 1)[1])
        if line.startswith("mstored: ready"):
            break
    return p, port, work


def measure(port, user, password, n, mode, client, window):
    if client == "c":
        r = loadclient.run("pop3", port=port, user=user, pass_=password, count=n,
                           mode="seq" if mode == "sequential" else "pipe", window=window)
        dt = float(r["seconds"])
        return n / dt, int(r["wire"]) / dt / 1e6
    c = Client(port, user, password)
    assert c.stat() == n, "expected %d messages" % n
    t = time.perf_counter()
    total = c.retr_sequential(n) if mode == "sequential" else c.retr_pipelined(n)
    dt = time.perf_counter() - t
    c.quit()
    return n / dt, total / dt / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--small", type=int, default=5000)
    ap.add_argument("--large", type=int, default=1000)
    ap.add_argument("--client", choices=("c", "python"), default="c")
    ap.add_argument("--window", type=int, default=64, help="RETRs outstanding when pipelining (C client)")
    a = ap.parse_args()
    if a.client == "c":
        loadclient.build()
    subprocess.run(["bash", PEER], check=True, capture_output=True)
    ensure_dovecot_mailbox("user1", a.small, small_message)
    ensure_dovecot_mailbox("user2", a.large, large_message)
    proc, port, work = start_mstored(a, a.small, a.large)
    try:
        rows = []
        for label, n, mode, who in (("5,000 small, sequential", a.small, "sequential", 0),
                                    ("5,000 small, pipelined", a.small, "pipelined", 0),
                                    ("1,000 x 100 KiB, pipelined", a.large, "pipelined", 1)):
            results = {"dovecot": [], "mstored": []}
            for _ in range(a.runs):
                results["dovecot"].append(measure(10110, ["user1", "user2"][who], "pass", n, mode, a.client, a.window))
                results["mstored"].append(measure(port, ["small", "large"][who], "pass", n, mode, a.client, a.window))
            d = statistics.median(r[0] for r in results["dovecot"]); m = statistics.median(r[0] for r in results["mstored"])
            dm = statistics.median(r[1] for r in results["dovecot"]); mm = statistics.median(r[1] for r in results["mstored"])
            rows.append((label, d, m, dm, mm))
        print("| workload | Dovecot msgs/s | mstored msgs/s | Dovecot MB/s | mstored MB/s | ratio |")
        print("|---|---|---|---|---|---|")
        for label, d, m, dm, mm in rows:
            print("| %s | %.0f | %.0f | %.0f | %.0f | %.2fx |" % (label, d, m, dm, mm, m / d))
    finally:
        proc.terminate(); proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
