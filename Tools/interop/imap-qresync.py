#!/usr/bin/env python3
"""QRESYNC round trip with Python's imaplib (RFC 7162 §3.2.5): one session records
UIDVALIDITY and HIGHESTMODSEQ; a second changes flags on 10 messages and expunges 5; the first
reconnects with SELECT ... (QRESYNC ...) and must receive exactly those changes: the 5 UIDs in
VANISHED (EARLIER) and 10 flag FETCHes (with MODSEQ). Prints PASS/FAIL lines for the wrapper.
Server from IMAP_HOST, IMAP_PORT, IMAP_USER, IMAP_PASS."""
import imaplib, os, re, sys

host, port = os.environ["IMAP_HOST"], int(os.environ["IMAP_PORT"])
user, password = os.environ["IMAP_USER"], os.environ["IMAP_PASS"]
BOX = "qresync-test"
failed = 0


def check(name, ok, detail=""):
    global failed
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)))
    failed += 0 if ok else 1


def connect():
    m = imaplib.IMAP4(host, port)
    m.login(user, password)
    return m


def uid_set(text):
    out = set()
    for part in text.split(","):
        a, _, b = part.partition(":")
        out.update(range(int(a), int(b or a) + 1))
    return out


setup = connect()
setup.delete(BOX)
setup.create(BOX)
for i in range(1, 31):
    setup.append(BOX, None, None, b"Subject: q%d\r\n\r\nbody %d\r\n" % (i, i))
setup.logout()

first = connect()
typ, data = first._simple_command("ENABLE", "QRESYNC")
check("ENABLE QRESYNC", typ == "OK" and b"QRESYNC" in b" ".join(first.untagged_responses.get("ENABLED", [b""])), data)
first.select(BOX)
validity = int(first.untagged_responses["UIDVALIDITY"][-1])
modseq = int(first.untagged_responses["HIGHESTMODSEQ"][-1])
check("SELECT reports HIGHESTMODSEQ", modseq > 0, modseq)
first.logout()

other = connect()
other.select(BOX)
other.uid("STORE", "1:10", "+FLAGS.SILENT", r"(\Flagged)")
other.uid("STORE", "21:25", "+FLAGS.SILENT", r"(\Deleted)")
other.expunge()
other.logout()

again = connect()
again._simple_command("ENABLE", "QRESYNC")
tag = again._command("SELECT", BOX, "(QRESYNC (%d %d))" % (validity, modseq))
typ, data = again._command_complete("SELECT", tag)
check("SELECT with QRESYNC", typ == "OK", data)
vanished = [v for v in again.untagged_responses.get("VANISHED", [])]
gone = set()
for v in vanished:
    m = re.match(rb"\(EARLIER\) ([0-9:,]+)", v)
    if m:
        gone |= uid_set(m.group(1).decode())
check("VANISHED (EARLIER) names exactly the 5 expunged UIDs", gone == set(range(21, 26)), vanished)
fetches = again.untagged_responses.get("FETCH", [])
changed = {}
for f in fetches:
    m = re.search(rb"UID (\d+)", f)
    if m:
        changed[int(m.group(1))] = f
check("FETCH for exactly the 10 changed messages", set(changed) == set(range(1, 11)), sorted(changed))
check("each carries the new flag and a MODSEQ", all(b"\\Flagged" in f and b"MODSEQ" in f for f in changed.values()),
      list(changed.values())[:2])
again.logout()
sys.exit(1 if failed else 0)
