#!/usr/bin/env python3
"""kill -9 crash test for LMTP delivery (issue 5).

Each round starts mstored on the store, runs 8 concurrent LMTP clients that deliver numbered
messages and record every 250, kills the daemon with SIGKILL mid-stream, runs `mstore check`,
and restarts it. After every restart each acknowledged message must be present exactly once,
and a message that was never acknowledged may be present only if it was in flight.

Usage: lmtp-crash.py BINDIR DATADIR [ROUNDS]
"""
import collections, os, poplib, random, signal, socket, subprocess, sys, threading, time

bindir, data = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
CLIENTS = 8
# One user for every client: checking means a POP3 login per round, and logins are slow on purpose.
user = "crash"
clients = [f"c{i}" for i in range(CLIENTS)]
env = dict(os.environ, MSTORE_DATA=data)
subprocess.run([bindir + "/mstore", "user", "add", user, "--password-stdin"], input=b"pw\n", env=env,
               check=True, capture_output=True)

acked = set()
in_flight = set()   # sent but not answered when the daemon died


def start():
    p = subprocess.Popen([bindir + "/mstored", "--data", data, "--lmtp", "127.0.0.1:0", "--pop3", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    ports = {}
    for line in p.stdout:
        line = line.decode().strip()
        if line.startswith("mstored: listening"):
            _, _, proto, addr = line.split()
            ports[proto] = int(addr.rsplit(":", 1)[1])
        if line == "mstored: ready":
            break
    return p, ports


def client(port, name, rnd, stop):
    tag = None
    try:
        s = socket.create_connection(("127.0.0.1", port))
        f = s.makefile("rb")

        def reply():
            while True:
                line = f.readline()
                if not line:
                    raise EOFError
                if line[3:4] != b"-":
                    return line
        reply()
        s.sendall(b"LHLO crash.example\r\n")
        reply()
        n = 0
        while not stop.is_set():
            n += 1
            tag = f"r{rnd}-{name}-n{n}"
            s.sendall(f"MAIL FROM:<c@x.example>\r\nRCPT TO:<{user}@example.org>\r\nDATA\r\n".encode())
            answers = [reply() for _ in range(3)]
            assert [a[:3] for a in answers] == [b"250", b"250", b"354"], answers
            s.sendall(f"Subject: {tag}\r\n\r\nbody {tag}\r\n.\r\n".encode())
            r = reply()
            assert r.startswith(b"250"), r
            acked.add(tag)
            tag = None
    except (OSError, EOFError):
        if tag:
            in_flight.add(tag)


def verify(ports):
    p = poplib.POP3("127.0.0.1", ports["pop3"])
    p.user(user)
    p.pass_("pw")
    count, _ = p.stat()
    subjects = []
    for i in range(1, count + 1):
        for line in p.top(i, 0)[1]:
            if line.startswith(b"Subject: "):
                subjects.append(line[9:].decode())
    p.quit()
    seen = collections.Counter(subjects)
    dupes = [t for t, c in seen.items() if c > 1]
    assert not dupes, f"duplicated {dupes[:5]}"
    missing = acked - seen.keys()
    assert not missing, f"acknowledged but missing {sorted(missing)[:5]}"
    unexpected = seen.keys() - acked - in_flight
    assert not unexpected, f"present but never acknowledged nor in flight {sorted(unexpected)[:5]}"
    return len(seen)


started = time.time()
for rnd in range(1, rounds + 1):
    daemon, ports = start()
    verify(ports)
    stop = threading.Event()
    threads = [threading.Thread(target=client, args=(ports["lmtp"], c, rnd, stop)) for c in clients]
    for t in threads:
        t.start()
    time.sleep(random.uniform(0.25, 0.6))
    os.kill(daemon.pid, signal.SIGKILL)
    daemon.wait()
    stop.set()
    for t in threads:
        t.join()
    check = subprocess.run([bindir + "/mstore", "check"], env=env, capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr
    print(f"round {rnd}: {len(acked)} acknowledged so far, {len(in_flight)} in flight at kills")

daemon, ports = start()
total = verify(ports)
daemon.terminate()
daemon.wait()
print(f"crash test: {rounds} rounds, {total} messages present, every acknowledged one exactly once, "
      f"{time.time() - started:.1f}s")
