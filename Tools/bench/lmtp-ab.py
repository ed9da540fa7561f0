#!/usr/bin/env python3
"""A/B of mstored builds on LMTP delivery: the builds alternate, round by round, so that a
machine whose disk and CPU drift by tens of percent within minutes hits them alike.

Each round, for each `mstored` binary in turn: a fresh store with 16 users (made by the
`mstore` beside that binary, or by --mstore when there is none: the store's schema must be one
the daemon can open), the daemon on a free loopback port, then `loadclient.c`
at 1 and at 16 connections (4 KiB messages, each connection to its own user, as
lmtp-bench.py does). Per binary and connection count it prints the median deliveries/s and
the daemon's CPU time per delivery (user + system, from /proc), and every round's rate.

Usage: Tools/bench/lmtp-ab.py [--rounds 5] [--seconds 3] [--connections 1,16] [--mstore PATH]
                              MSTORED [MSTORED...]
"""
import argparse, os, shutil, statistics, tempfile
import loadclient
from lmtpdaemon import start_mstored

USERS = 16


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_round(daemon, mstore, counts, seconds):
    work = tempfile.mkdtemp(prefix="mstore-lmtp-ab-")
    data = os.path.join(work, "data")
    try:
        p, port = start_mstored(daemon, mstore, data, USERS)
        try:
            results = {}
            for n in counts:
                before = cpu_seconds(p.pid)
                r = loadclient.run("lmtp", port=port, connections=n, seconds=seconds, first=1)
                delivered = int(r["deliveries"])
                results[n] = (delivered / seconds, (cpu_seconds(p.pid) - before) / max(delivered, 1) * 1e6)
            return results
        finally:
            p.terminate()
            p.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--connections", default="1,16")
    ap.add_argument("--mstore", help="the mstore for daemons without one beside them")
    ap.add_argument("daemons", nargs="+")
    args = ap.parse_args()
    counts = [int(c) for c in args.connections.split(",")]
    def mstore(daemon):
        beside = os.path.join(os.path.dirname(os.path.abspath(daemon)), "mstore")
        if os.path.exists(beside) or not args.mstore:
            return beside
        return args.mstore
    rows = {(d, n): [] for d in args.daemons for n in counts}
    for _ in range(args.rounds):
        for d in args.daemons:
            for n, figures in one_round(d, mstore(d), counts, args.seconds).items():
                rows[(d, n)].append(figures)
    print("| mstored | connections | deliveries/s (median) | CPU µs per delivery (median) | each round |")
    print("|---|---:|---:|---:|---|")
    for (d, n), figures in rows.items():
        print("| %s | %d | %.0f | %.0f | %s |" % (d, n, statistics.median(f[0] for f in figures),
                                                 statistics.median(f[1] for f in figures),
                                                 ", ".join("%.0f" % f[0] for f in figures)))


if __name__ == "__main__":
    main()
