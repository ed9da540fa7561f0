"""Hostile input against a running mstored: for each front end, seeded mutations of real
sessions (bytes flipped, inserted and cut, NULs and 8-bit bytes, lines past the limits, huge
literal and BDAT counts, commands out of order), each on a connection of its own, several at
once. Afterwards the daemon must still be running and serve a clean session on every port.
Answers are not checked one by one (a server may rightly wait for the rest of a literal):
what matters is no crash, no hang of the daemon, and every limit holding.

    python3 hostile.py PROTO:PORT... [--seed N] [--rounds N]
    (PROTO is imap, pop3, lmtp or smtp; the user alice / secret must exist)
"""
import argparse, random, socket, sys, threading, time

USER, PASSWORD = "alice", "secret"

SESSIONS = {
    "imap": [
        b"a1 LOGIN alice secret\r\na2 SELECT INBOX\r\na3 FETCH 1:* (FLAGS BODY.PEEK[HEADER] BODYSTRUCTURE)\r\n"
        b"a4 UID SEARCH OR FROM x (SUBJECT \"y\" SINCE 1-Jan-2020)\r\na5 STORE 1 +FLAGS (\\Seen $x)\r\na6 LOGOUT\r\n",
        b"a1 LOGIN {5}\r\nalice {6}\r\nsecret\r\na2 APPEND INBOX (\\Flagged) {12}\r\nSubject: x\r\n\r\na3 IDLE\r\nDONE\r\n",
        b"a1 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\na2 ENABLE QRESYNC\r\na3 SELECT INBOX (QRESYNC (1 1))\r\n"
        b"a4 UID SORT (REVERSE DATE) UTF-8 ALL\r\na5 THREAD REFERENCES UTF-8 ALL\r\na6 GETQUOTAROOT INBOX\r\n",
        b"a1 LOGIN alice secret\r\na2 COMPRESS DEFLATE\r\n\x78\x9c\x00\xff\x13",
        b"a1 LOGIN alice secret\r\na2 CREATE \"a/b/c\"\r\na3 RENAME \"a\" \"z\"\r\na4 LIST \"\" \"*\" RETURN (SPECIAL-USE STATUS (MESSAGES))\r\n"
        b"a5 SETMETADATA INBOX (/private/comment {3}\r\nabc)\r\na6 DELETE z/b/c\r\n",
    ],
    "pop3": [
        b"USER alice\r\nPASS secret\r\nSTAT\r\nLIST\r\nUIDL\r\nTOP 1 5\r\nRETR 1\r\nDELE 1\r\nRSET\r\nQUIT\r\n",
        b"CAPA\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nLIST 999999999999999999999\r\nNOOP\r\nQUIT\r\n",
        b"APOP alice 0123456789abcdef0123456789abcdef\r\nSTLS\r\nUSER \x00\xff\r\n",
    ],
    "lmtp": [
        b"LHLO x\r\nMAIL FROM:<a@example.org> SIZE=100 BODY=8BITMIME\r\nRCPT TO:<alice>\r\nDATA\r\n"
        b"Subject: hi\r\n\r\n..dot\r\n.\r\nQUIT\r\n",
        b"LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<alice+Sub@x>\r\nBDAT 10 LAST\r\n0123456789RSET\r\nVRFY alice\r\nNOOP\r\n",
        b"LHLO x\r\nMAIL FROM:<a@b> SIZE=99999999999999999999\r\nRCPT TO:<nobody>\r\nDATA\r\n",
    ],
    "smtp": [
        b"EHLO x\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<alice@localhost>\r\nRCPT TO:<x@elsewhere.example>\r\nDATA\r\n"
        b"Subject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n",
        b"HELO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice>\r\nBDAT 5\r\nabcdeBDAT 0 LAST\r\nQUIT\r\n",
    ],
}

# Pieces a mutation splices in: the shapes that break parsers.
NASTY = [b"\x00", b"\xff\xfe", b"\r", b"\n", b"\r\n", b"{", b"{4294967296}\r\n", b"{18446744073709551616+}\r\n",
         b"~{999999999}\r\n", b"\"", b"\\", b"(", b")" * 50, b"(" * 300, b"*", b"%", b"..", b"\r\n.\r\n",
         b"BDAT 999999999999 LAST\r\n", b"A" * 70000, b"\r\n" * 50, b"=?utf-8?b?", b"<" * 1000,
         b"a FETCH 1:4294967295,*:1 (BODY[1.2.3.4.5.6.7.8.9.10.11.12]<0.4294967295>)\r\n",
         b"a SEARCH " + b"NOT " * 500 + b"ALL\r\n", b"AUTH SCRAM-SHA-256 " + b"A" * 5000 + b"\r\n"]


# What a session's first answer starts with: the greeting, or the refusal of a busy server.
GREETING = {"imap": (b"* OK", b"* BYE"), "pop3": (b"+OK", b"-ERR"), "lmtp": (b"220", b"421"), "smtp": (b"220", b"421")}


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(5)
        at = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif op == 1:
            data[at:at] = rng.choice(NASTY)
        elif op == 2:
            del data[at:at + rng.randint(1, 40)]
        elif op == 3:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        else:
            piece = data[at:at + rng.randint(1, 200)]
            data[at:at] = piece * rng.randint(2, 20)
    return bytes(data)


def session(port, payload, rng):
    """Sends `payload` in a few pieces, reading meanwhile; returns the bytes answered."""
    got = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.settimeout(0.3)
        cuts = sorted(rng.randrange(len(payload) + 1) for _ in range(rng.randint(0, 3)))
        start = 0
        for end in cuts + [len(payload)]:
            try:
                s.sendall(payload[start:end])
            except OSError:
                return bytes(got)  # the server closed: fine, that is an answer
            start = end
            try:
                got += s.recv(65536)
            except (socket.timeout, OSError):
                pass
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        deadline = time.time() + 2
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                break
            got += chunk
            if len(got) > 8 << 20:
                break
    return bytes(got)


def clean_session(proto, port):
    """A well-formed session after the storm: must get the expected answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        f = s.makefile("rwb")
        def send(line):
            f.write(line + b"\r\n"); f.flush()
        def line():
            l = f.readline()
            assert l, "connection closed"
            return l
        greeting = line()
        if proto == "imap":
            assert greeting.startswith(b"* OK"), greeting
            send(b"c1 LOGIN alice secret")
            while not (l := line()).startswith(b"c1 "): pass
            assert l.startswith(b"c1 OK"), l
            send(b"c2 SELECT INBOX")
            while not (l := line()).startswith(b"c2 "): pass
            assert l.startswith(b"c2 OK"), l
        elif proto == "pop3":
            assert greeting.startswith(b"+OK"), greeting
            send(b"CAPA")
            while line() != b".\r\n": pass
            send(b"NOOP")
            assert line().startswith(b"-ERR"), "NOOP before login is refused"
        else:
            assert greeting.startswith(b"220"), greeting
            send(b"LHLO x" if proto == "lmtp" else b"EHLO x")
            while not (l := line()).startswith(b"250 "): pass
            send(b"MAIL FROM:<clean@example.org>")
            assert line().startswith(b"250"), "MAIL"
            send(b"RCPT TO:<alice>")
            assert line().startswith(b"250"), "RCPT"
            send(b"DATA")
            assert line().startswith(b"354"), "DATA"
            send(b"Subject: after the storm\r\n\r\nstill here\r\n.")
            assert line().startswith(b"250"), "delivery"
        send(b"a LOGOUT" if proto == "imap" else b"QUIT")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("targets", nargs="+", help="PROTO:PORT")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=120)
    args = parser.parse_args()
    targets = [t.split(":") for t in args.targets]
    seed, rounds = args.seed, args.rounds
    failures = []
    for proto, port in targets:
        port = int(port)
        rng = random.Random(seed)
        payloads = [mutate(rng, rng.choice(SESSIONS[proto])) for _ in range(rounds)]
        errors, silent, answers = [], [], []
        def worker(chunk, wseed):
            r = random.Random(wseed)
            for p in chunk:
                try:
                    got = session(port, p, r)
                except OSError as e:
                    errors.append(repr(e))
                    continue
                answers.append(got)
                # Every connection is greeted (or turned away with a reason) before anything else.
                if not got.startswith(GREETING[proto]):
                    silent.append((p[:80], got[:80]))
        threads = [threading.Thread(target=worker, args=(payloads[i::8], seed * 100 + i)) for i in range(8)]
        started = time.time()
        for t in threads: t.start()
        for t in threads: t.join()
        # Connections refused or timed out while sending are a daemon that stopped answering.
        if errors:
            failures.append(f"{proto}: {len(errors)} connections failed, first {errors[0]}")
        # Internal failures must not leak into answers.
        leaked = [a for a in answers if b"Fatal" in a or b"Swift" in a or b".swift" in a]
        if leaked:
            failures.append(f"{proto}: {len(leaked)} answers show internals, first {leaked[0][:200]!r}")
        if silent:
            failures.append(f"{proto}: {len(silent)} sessions without a greeting, first {silent[0]}")
        try:
            clean_session(proto, port)
        except Exception as e:
            failures.append(f"{proto}: clean session after the storm: {e!r}")
        print(f"{proto}: {rounds} hostile sessions in {time.time() - started:.1f}s, {len(errors)} failed to connect")
    for f in failures:
        print("FAIL", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
