#!/usr/bin/env python3
"""LMTP delivery rate, mstored against Dovecot 2.3's LMTP, same client, same machine, same run.

Deliveries per second of 4 KiB messages over loopback with 1, 4 and 16 concurrent connections,
each connection delivering to its own user, with durability on (mstored acknowledges after its
group commit is on disk; Dovecot with its default fsync). The client is loadclient.c
(--client c, the default): one thread per connection, every reply checked, all connections
starting together, a delivery counted when its 250 arrives before the deadline. --client python
is the old client, one Python process per connection, which on 2 cores takes CPU from the server.

Usage: Tools/bench/lmtp-bench.py [--seconds 5] [--connections 1,4,16] [--no-dovecot] [--client c|python]
                                [--store-ceiling [--ceiling-rounds N]]
--store-ceiling also runs the store's own benchmark of the same shape (Benchmarks/, "store append
4KiB durable, 16 writers to 16 users") right before and right after mstored's runs, and prints
what share of that rate mstored reached at 16 connections: issue 5's "50% of the store's
group-commit append rate, in the same run". That rate moves by a quarter within minutes here,
so --ceiling-rounds N (default 1) adds N - 1 more rounds of mstored at the largest connection
count (a fresh daemon each time) followed by the ceiling, and prints each round's share, against
the mean of the ceilings just before and after it, and their median.
Starts Dovecot with ../shared/peer/start-dovecot.sh (LMTP on 127.0.0.1:10024, users user1..user200)
and mstored on a fresh store in a temporary directory.
"""
import argparse, multiprocessing, os, re, shutil, socket, statistics, subprocess, sys, tempfile, time
import loadclient
from lmtpdaemon import start_mstored

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEER = os.path.join(ROOT, "..", "shared", "peer", "start-dovecot.sh")
DOVECOT_LMTP = 10024
CEILING_BATCH = re.compile(r"\((\d+)/iter\)")


def message(i):
    head = ("From: Bench Sender <sender@example.org>\r\nTo: user@example.org\r\nSubject: bench %d\r\n"
            "Message-ID: <bench.%d.%d@lmtp-bench>\r\n\r\n" % (i, os.getpid(), i))
    line = "The quick brown fox jumps over the lazy dog, again and again and again.\r\n"
    body = line * ((4096 - len(head)) // len(line))
    return (head + body).encode()


def reply(f):
    while True:
        line = f.readline()
        if not line:
            raise EOFError("connection closed")
        if line[3:4] != b"-":
            return line


def worker(port, user, start_at, seconds, results):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile("rb")
    reply(f)
    s.sendall(b"LHLO bench.example\r\n")
    reply(f)
    envelope = b"MAIL FROM:<sender@example.org>\r\nRCPT TO:<%s>\r\nDATA\r\n" % user.encode()
    payloads = [message(i) + b".\r\n" for i in range(64)]
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = start_at + seconds
    count = 0
    while time.time() < deadline:
        s.sendall(envelope)  # PIPELINING: MAIL, RCPT and DATA in one go (RFC 2920)
        for expect in (b"250", b"250", b"354"):
            r = reply(f)
            if not r.startswith(expect):
                raise RuntimeError("%s: %r" % (user, r))
        s.sendall(payloads[count % len(payloads)])
        r = reply(f)
        if not r.startswith(b"250"):
            raise RuntimeError("%s: %r" % (user, r))
        count += 1
    s.sendall(b"QUIT\r\n")
    results.put(count)


def rate(port, connections, seconds, user_offset, client):
    if client == "c":
        r = loadclient.run("lmtp", port=port, connections=connections, seconds=seconds, first=user_offset)
        return int(r["deliveries"]) / seconds
    results = multiprocessing.Queue()
    start_at = time.time() + 0.5
    procs = [multiprocessing.Process(target=worker, args=(port, "user%d" % (user_offset + i), start_at, seconds, results))
             for i in range(connections)]
    for p in procs:
        p.start()
    total = sum(results.get() for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


CEILING = "store append 4KiB durable, 16 writers to 16 users"


def store_ceiling():
    """The store's 16-writers-to-16-users durable append rate, from the median of the Benchmarks
    package's run (each iteration appends 256 messages)."""
    out = subprocess.run(["swift", "package", "benchmark", "--target", "MailStoreBench",
                          "--filter", CEILING + ".*"], cwd=os.path.join(ROOT, "Benchmarks"),
                         capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(CEILING))
    row = next(line for line in lines[start:] if "Time (wall clock)" in line)
    p50 = float(row.split("\u2502")[4])
    per_iteration = int(CEILING_BATCH.search(lines[start]).group(1))
    return per_iteration / (p50 / 1e6)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--connections", default="1,4,16")
    ap.add_argument("--no-dovecot", action="store_true")
    ap.add_argument("--client", choices=("c", "python"), default="c")
    ap.add_argument("--store-ceiling", action="store_true")
    ap.add_argument("--ceiling-rounds", type=int, default=1)
    args = ap.parse_args()
    if args.client == "c":
        loadclient.build()
    counts = [int(c) for c in args.connections.split(",")]
    bindir = os.environ.get("MSTORE_BIN") or subprocess.run(
        ["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    def mstored_rates(ns):
        work = tempfile.mkdtemp(prefix="lmtp-bench.")
        daemon, port = start_mstored(bindir + "/mstored", bindir + "/mstore", os.path.join(work, "data"), sum(ns))
        try:
            rates, offset = {}, 1
            for n in ns:
                rates[n] = rate(port, n, args.seconds, offset, args.client)
                offset += n
            return rates
        finally:
            daemon.terminate()
            daemon.wait()
            shutil.rmtree(work, ignore_errors=True)

    ceilings = [store_ceiling()] if args.store_ceiling else []
    rows = {n: {"mstored": r} for n, r in mstored_rates(counts).items()}
    top = max(counts)
    # Round by round: mstored's rate at the largest count, and the ceiling after it.
    tops = [rows[top]["mstored"]]
    if args.store_ceiling:
        ceilings.append(store_ceiling())
        for _ in range(args.ceiling_rounds - 1):
            tops.append(mstored_rates([top])[top])
            ceilings.append(store_ceiling())
    if not args.no_dovecot:
        subprocess.run(["bash", PEER], check=True, stdout=subprocess.DEVNULL)
        offset = 1
        for n in counts:
            rows[n]["dovecot"] = rate(DOVECOT_LMTP, n, args.seconds, offset, args.client)
            offset += n

    print("| connections | mstored deliveries/s | Dovecot 2.3 deliveries/s | ratio |")
    print("|---:|---:|---:|---:|")
    for n in counts:
        m, d = rows[n]["mstored"], rows[n].get("dovecot")
        print("| %d | %.0f | %s | %s |" % (n, m, "%.0f" % d if d else "-", "%.1f×" % (m / d) if d else "-"))
    if ceilings:
        print("store ceiling (%s), before and after: %.0f and %.0f appends/s; mstored at %d connections: %.0f%% and %.0f%% of it"
              % (CEILING, ceilings[0], ceilings[1], top, 100 * rows[top]["mstored"] / ceilings[0],
                 100 * rows[top]["mstored"] / ceilings[1]))
    if len(tops) > 1:
        shares = [100 * m / ((ceilings[i] + ceilings[i + 1]) / 2) for i, m in enumerate(tops)]
        print("rounds (mstored at %d connections / mean of the ceilings around it): %s; median %.0f%%"
              % (top, ", ".join("%.0f / %.0f = %.0f%%" % (m, (ceilings[i] + ceilings[i + 1]) / 2, sh)
                                for i, (m, sh) in enumerate(zip(tops, shares))), statistics.median(shares)))


if __name__ == "__main__":
    main()
