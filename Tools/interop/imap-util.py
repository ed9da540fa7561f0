#!/usr/bin/env python3
"""Server-side set-up and inspection for the IMAP interop scripts, over plain IMAP (imaplib), so
the same script runs against mstored or the Dovecot peer. The server comes from IMAP_HOST,
IMAP_PORT, IMAP_USER and IMAP_PASS. It uses few commands (LOGIN or AUTHENTICATE SCRAM-SHA-256,
LIST, CREATE, DELETE, SUBSCRIBE, SELECT, FETCH, STORE, EXPUNGE, APPEND) so a failure points at
the client under test.

  imap-util.py reset BOX...            empty INBOX; delete and recreate (subscribed) any other BOX
  imap-util.py drop BOX...             delete BOX (and its children) if it exists
  imap-util.py empty BOX...            create BOX if missing, else expunge all it holds (keeps
                                       the mailbox itself, so a special-use Sent stays one)
  imap-util.py append BOX FILE [FLAG...]
  imap-util.py state BOX               one line per message: UID, flags (sorted, no \\Recent), subject
  imap-util.py count BOX               the number of messages
  imap-util.py body BOX SUBJECT        the raw message (BODY.PEEK[]) with that subject
  imap-util.py store BOX SUBJECT OP FLAG...   OP is +FLAGS, -FLAGS or FLAGS
  imap-util.py uidnext BOX
"""
import base64, hashlib, hmac, imaplib, os, re, signal, sys


def scram_sha256(user, password):
    """An imaplib authobject for SASL SCRAM-SHA-256 (RFC 5802, RFC 7677), no channel binding."""
    name = user.replace("=", "=3D").replace(",", "=2C")
    bare = "n=%s,r=%s" % (name, base64.b64encode(os.urandom(18)).decode())
    state = {}

    def step(challenge):
        if "first" not in state:
            state["first"] = True
            return ("n,," + bare).encode()
        if "proof" not in state:
            server_first = challenge.decode()
            attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
            salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
            client_key = hmac.new(salted, b"Client Key", "sha256").digest()
            without_proof = "c=biws,r=" + attrs["r"]
            auth_message = ("%s,%s,%s" % (bare, server_first, without_proof)).encode()
            signature = hmac.new(hashlib.sha256(client_key).digest(), auth_message, "sha256").digest()
            server_key = hmac.new(salted, b"Server Key", "sha256").digest()
            state["proof"] = base64.b64encode(hmac.new(server_key, auth_message, "sha256").digest())
            proof = bytes(x ^ y for x, y in zip(client_key, signature))
            return (without_proof + ",p=" + base64.b64encode(proof).decode()).encode()
        assert challenge == b"v=" + state["proof"], "bad server signature %r" % challenge
        return b""
    return step


def connect():
    """Logged in. SCRAM-SHA-256 where offered: a server's check of a LOGIN password may be a
    deliberately slow hash (mstored's Argon2id takes about half a second), SCRAM's is not."""
    m = imaplib.IMAP4(os.environ.get("IMAP_HOST", "127.0.0.1"), int(os.environ["IMAP_PORT"]))
    if "AUTH=SCRAM-SHA-256" in m.capabilities:
        m.authenticate("SCRAM-SHA-256", scram_sha256(os.environ["IMAP_USER"], os.environ["IMAP_PASS"]))
    else:
        m.login(os.environ["IMAP_USER"], os.environ["IMAP_PASS"])
    return m


def ok(result):
    typ, data = result
    if typ != "OK":
        raise SystemExit("imap-util: %s %r" % (typ, data))
    return data


def quoted(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mailboxes(m, pattern="*"):
    names = []
    for line in ok(m.list('""', quoted(pattern))):
        if line is None:
            continue
        if isinstance(line, tuple):  # a name sent as a literal
            names.append(line[1].decode())
            continue
        match = re.match(rb'\([^)]*\) (?:"(?:[^"\\]|\\.)*"|NIL) (.*)$', line)
        name = match.group(1)
        if name.startswith(b'"'):
            name = re.sub(rb'\\(.)', rb'\1', name[1:-1])
        names.append(name.decode())
    return names


def messages(m, box):
    """[(uid, flags, subject, raw-or-None)] for every message, by fetching with few assumptions
    about the order of the items in the answer."""
    count = int(ok(m.select(quoted(box), readonly=True))[0])
    if count == 0:
        return []
    data = ok(m.fetch("1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    out, meta, literal = [], b"", b""
    def flush():
        if meta:
            uid = int(re.search(rb"UID (\d+)", meta).group(1))
            flags = re.search(rb"FLAGS \(([^)]*)\)", meta).group(1).decode().split()
            flags = sorted(f for f in flags if f != "\\Recent")
            subject = re.sub(r"^Subject: ?", "", literal.decode(errors="replace").strip(), flags=re.I)
            out.append((uid, flags, subject))
    for item in data:
        if isinstance(item, tuple):
            if re.match(rb"\d+ \(", item[0]):
                flush(); meta, literal = b"", b""
            meta += item[0]; literal = item[1]
        elif item:
            if re.match(rb"\d+ \(", item):
                flush(); meta, literal = b"", b""
            meta += item
    flush()
    return sorted(out)


def find_uid(m, box, subject):
    hits = [uid for uid, _, s in messages(m, box) if s == subject]
    if len(hits) != 1:
        raise SystemExit("imap-util: %d messages with subject %r in %s" % (len(hits), subject, box))
    return hits[0]


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    m = connect()
    if cmd in ("reset", "drop", "empty"):
        existing = mailboxes(m)
        for box in args:
            if cmd == "empty" and box not in existing and box.upper() != "INBOX":
                ok(m.create(quoted(box)))
                ok(m.subscribe(quoted(box)))
                continue
            if box.upper() == "INBOX" or cmd == "empty":
                if int(ok(m.select(quoted(box)))[0]):
                    ok(m.store("1:*", "+FLAGS.SILENT", "(\\Deleted)"))
                    ok(m.expunge())
                ok(m.close())
                continue
            doomed = [n for n in existing if n == box or n.startswith(box + "/")]
            for name in sorted(doomed, key=len, reverse=True):  # children first
                m.unsubscribe(quoted(name))
                ok(m.delete(quoted(name)))
            if cmd == "reset":
                ok(m.create(quoted(box)))
                ok(m.subscribe(quoted(box)))
    elif cmd == "append":
        box, path, flags = args[0], args[1], args[2:]
        with open(path, "rb") as f:
            ok(m.append(quoted(box), "(%s)" % " ".join(flags) if flags else None, None, f.read()))
    elif cmd == "state":
        for uid, flags, subject in messages(m, args[0]):
            print("%d\t%s\t%s" % (uid, " ".join(flags), subject))
    elif cmd == "count":
        print(int(ok(m.select(quoted(args[0]), readonly=True))[0]))
    elif cmd == "uidnext":
        line = ok(m.status(quoted(args[0]), "(UIDNEXT)"))[0]
        print(int(re.search(rb"UIDNEXT (\d+)", line).group(1)))
    elif cmd == "body":
        uid = find_uid(m, args[0], args[1])
        data = ok(m.uid("FETCH", str(uid), "(BODY.PEEK[])"))
        sys.stdout.buffer.write(next(i[1] for i in data if isinstance(i, tuple)))
    elif cmd == "store":
        box, subject, op, flags = args[0], args[1], args[2], args[3:]
        uid = find_uid(m, box, subject)
        ok(m.select(quoted(box)))
        ok(m.uid("STORE", str(uid), op, "(%s)" % " ".join(flags)))
    else:
        raise SystemExit(__doc__)
    m.logout()


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `imap-util.py state BOX | grep -q ...` is fine
    main()
