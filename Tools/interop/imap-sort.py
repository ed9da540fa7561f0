#!/usr/bin/env python3
"""SORT, ESORT, SORT=DISPLAY and THREAD (RFC 5256, 5267, 5957) with Python's imaplib: the
fixture messages of Tests/ServerTests/IMAPSortTests.swift go into two fresh mailboxes, then each
command's answer is checked against the one worked out by hand from RFC 5256.

The server comes from IMAP_HOST, IMAP_PORT, IMAP_USER, IMAP_PASS. With IMAP_PEER_PORT (and
IMAP_PEER_HOST, IMAP_PEER_USER, IMAP_PEER_PASS) the same messages also go to that peer, e.g. the
Dovecot one, and each answer is compared with the peer's: `SAME cmd` or `DIFF cmd: ours | peer`
lines, informational (the RFC table decides PASS and FAIL). A check where a known server departs
from the RFC (DEVIATIONS) prints XFAIL. Run it through imap-sort.sh, which supplies the server.
"""
import imaplib, os, re, sys

BOXES = {"sort": "sort-test", "thread": "thread-test", "edge": "thread-edge-test"}


def message(headers, body_lines=1):
    return ("\r\n".join(headers) + "\r\n\r\n" + "x" * (body_lines * 100) + "\r\n").encode()


# The SORT fixture: sent dates (UTC) 4 and 5 Feb 1 11:00 (a tie), 2 Feb 2, 1 Feb 3, 3 none (its
# INTERNALDATE, Feb 10); INTERNALDATEs 5 Feb 8, 2 Feb 9, 1 and 3 Feb 10 (a tie), 4 Feb 11.
SORT_MESSAGES = [
    (message(["Date: Mon, 3 Feb 2020 10:00:00 +0000", "From: \"Zed\" <zed@x.org>", "To: \"Zoe\" <bob@x.org>",
              "Subject: Hello"], 5), "10-Feb-2020 12:00:00 +0000"),
    (message(["Date: Sun, 2 Feb 2020 10:00:00 +0000", "From: alice@x.org", "To: \"Carol\" <carol@x.org>",
              "Cc: dan@x.org", "Subject: Re: hello"], 4), "09-Feb-2020 12:00:00 +0000"),
    (message(["From: \"bob\" <Bob@x.org>", "To: Alice <alice@x.org>", "Subject: [list] Fwd: Apple"], 3),
     "10-Feb-2020 12:00:00 +0000"),
    (message(["Date: Sat, 1 Feb 2020 10:00:00 -0100", "From: Emile <emile@x.org>", "To: undisclosed-recipients:;",
              "Subject: apple (fwd)"], 2), "11-Feb-2020 12:00:00 +0000"),
    (message(["Date: Sat, 1 Feb 2020 11:00:00 +0000", "From: =?UTF-8?Q?Yvonne?= <a@x.org>", "Cc: Bob@x.org",
              "Subject: Re: [list] APPLE"], 1), "08-Feb-2020 12:00:00 +0000"),
]


def threaded(day, time, headers):
    return message(["Date: %d Feb 2020 %s +0000" % (day, time), "From: a@x.org"] + headers), "20-Feb-2020 12:00:00 +0000"


# The THREAD fixture: a reply tree, replies to a missing message, no Message-ID, a duplicate one,
# a References loop, a pruned dummy parent and two unrelated messages of one subject.
THREAD_MESSAGES = [
    threaded(1, "10:00", ["Message-ID: <a@x>", "Subject: Plan"]),
    threaded(1, "11:00", ["Message-ID: <b@x>", "References: <a@x>", "Subject: Re: Plan"]),
    threaded(1, "12:00", ["Message-ID: <c@x>", "In-Reply-To: <a@x>", "Subject: Re: Plan"]),
    threaded(1, "13:00", ["Message-ID: <d@x>", "References: <a@x> <b@x>", "Subject: [team] Re: Plan"]),
    threaded(2, "09:00", ["Message-ID: <e@x>", "References: <missing@x>", "Subject: Lunch"]),
    threaded(2, "08:00", ["Message-ID: <f@x>", "References: <missing@x>", "Subject: Re: Lunch"]),
    threaded(3, "10:00", ["Subject: Solo"]),
    threaded(4, "10:00", ["Message-ID: <a@x>", "Subject: Dup"]),
    threaded(5, "00:00", ["Message-ID: <g@x>", "References: <h@x>", "Subject: Loop"]),
    threaded(5, "01:00", ["Message-ID: <h@x>", "References: <g@x>", "Subject: Re: Loop"]),
    threaded(6, "10:00", ["Message-ID: <i@x>", "References: <zzz@x>", "Subject: Re: Solo"]),
    threaded(2, "10:00", ["Message-ID: <j@x>", "Subject: Lunch"]),
    threaded(7, "10:00", ["Message-ID: <k@x>", "Subject: Report"]),
    threaded(8, "10:00", ["Message-ID: <l@x>", "Subject: report"]),
]

# THREAD edge cases: a message that references itself, a reply stored before its parent, and a
# References ring of three.
EDGE_MESSAGES = [
    threaded(1, "10:00", ["Message-ID: <m@x>", "References: <m@x>", "Subject: Self"]),
    threaded(2, "10:00", ["Message-ID: <n@x>", "References: <o@x>", "Subject: Re: Early"]),
    threaded(2, "09:00", ["Message-ID: <o@x>", "Subject: Early"]),
    threaded(3, "10:00", ["Message-ID: <p@x>", "References: <q@x>", "Subject: Ring"]),
    threaded(3, "11:00", ["Message-ID: <q@x>", "References: <r@x>", "Subject: Re: Ring"]),
    threaded(3, "12:00", ["Message-ID: <r@x>", "References: <p@x>", "Subject: Re: Ring"]),
]

# (fixture, command, expected untagged answer with the tag written T), as in IMAPSortTests.swift.
CHECKS = [
    ("sort", "SORT (DATE) UTF-8 ALL", "SORT 4 5 2 1 3"),
    ("sort", "SORT (REVERSE DATE) UTF-8 ALL", "SORT 3 1 2 4 5"),
    ("sort", "SORT (ARRIVAL) UTF-8 ALL", "SORT 5 2 1 3 4"),
    ("sort", "SORT (REVERSE ARRIVAL) UTF-8 ALL", "SORT 4 1 3 2 5"),
    ("sort", "SORT (SUBJECT) UTF-8 ALL", "SORT 3 4 5 1 2"),
    ("sort", "SORT (SUBJECT DATE) UTF-8 ALL", "SORT 4 5 3 2 1"),
    ("sort", "SORT (REVERSE SUBJECT DATE) US-ASCII ALL", "SORT 2 1 4 5 3"),
    ("sort", "SORT (FROM) UTF-8 ALL", "SORT 5 2 3 4 1"),
    ("sort", "SORT (TO) UTF-8 ALL", "SORT 5 3 1 2 4"),
    ("sort", "SORT (CC) UTF-8 ALL", "SORT 1 3 4 5 2"),
    ("sort", "SORT (SIZE) UTF-8 ALL", "SORT 5 4 3 2 1"),
    ("sort", "SORT (DISPLAYFROM) UTF-8 ALL", "SORT 2 3 4 5 1"),
    ("sort", "SORT (DISPLAYTO) UTF-8 ALL", "SORT 5 3 2 4 1"),
    ("sort", "SORT (SUBJECT) UTF-8 SUBJECT apple", "SORT 3 4 5"),
    ("sort", "UID SORT (DATE) UTF-8 ALL", "SORT 5 6 3 2 4"),
    ("sort", "SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL", 'ESEARCH (TAG "T") MIN 4 MAX 3 COUNT 5'),
    ("sort", "SORT RETURN (ALL) (DATE) UTF-8 ALL", 'ESEARCH (TAG "T") ALL 4:5,2,1,3'),
    ("thread", "THREAD REFERENCES UTF-8 ALL", "THREAD (1 (2 4)(3))((6)(5)(12))(7 11)(8)(10 9)((13)(14))"),
    ("thread", "UID THREAD REFERENCES UTF-8 ALL", "THREAD (2 (3 5)(4))((7)(6)(13))(8 12)(9)(11 10)((14)(15))"),
    ("thread", "THREAD REFERENCES UTF-8 SUBJECT lunch", "THREAD ((6)(5)(12))"),
    ("thread", "THREAD REFERENCES UTF-8 2:4", "THREAD ((2 4)(3))"),
    ("thread", "THREAD ORDEREDSUBJECT UTF-8 ALL", "THREAD (1 (2)(3)(4))(6 (5)(12))(7 11)(8)(9 10)(13 14)"),
    ("edge", "THREAD REFERENCES UTF-8 ALL", "THREAD (1)(3 2)(6 5 4)"),
    ("edge", "THREAD ORDEREDSUBJECT UTF-8 ALL", "THREAD (1)(3 2)(4 (5)(6))"),
]

# Where a known server departs from RFC 5256 on purpose: {command: {server name: note}}.
DEVIATIONS = {}

results = {"pass": 0, "fail": 0, "xfail": 0}


def connect(host, port, user, password):
    """A logged-in client and the server's name from its greeting ("Dovecot", "mstore")."""
    m = imaplib.IMAP4(host, int(port))
    m.login(user, password)
    name = re.search(rb"(Dovecot|mstore)", m.welcome)
    return m, (name.group(1).decode() if name else "")


def load(m, box, messages):
    """A fresh mailbox with one message appended and expunged before `messages`, so UIDs are
    sequence numbers plus one on every server."""
    m.select("INBOX")
    m.delete(box)
    typ, data = m.create(box)
    assert typ == "OK", data
    m.append(box, None, None, b"Subject: gone\r\n\r\nx\r\n")
    for text, date in messages:
        typ, data = m.append(box, None, '"%s"' % date, text)
        assert typ == "OK", data
    m.select(box)
    m.store("1", "+FLAGS.SILENT", "(\\Deleted)")
    m.expunge()


def answer(m, command):
    """The untagged SORT, THREAD or ESEARCH line of `command`, tag written T, or what went wrong."""
    for name in ("SORT", "THREAD", "ESEARCH"):
        m.untagged_responses.pop(name, None)
    verb, rest = command.split(" ", 1)
    try:
        typ, data = m._simple_command(verb, rest)
    except imaplib.IMAP4.error as e:
        return "error: %s" % e
    if typ != "OK":
        return "%s %s" % (typ, data)
    for name in ("SORT", "THREAD", "ESEARCH"):
        values = m.untagged_responses.pop(name, None)
        if values is not None:
            text = re.sub(r'\(TAG "[^"]*"\)', '(TAG "T")', (values[-1] or b"").decode())
            return (name + " " + text).rstrip()
    return "(no answer)"


def main():
    env = os.environ
    ours, server = connect(env.get("IMAP_HOST", "127.0.0.1"), env["IMAP_PORT"], env["IMAP_USER"], env["IMAP_PASS"])
    peer = None
    if env.get("IMAP_PEER_PORT"):
        peer, _ = connect(env.get("IMAP_PEER_HOST", "127.0.0.1"), env["IMAP_PEER_PORT"],
                          env["IMAP_PEER_USER"], env["IMAP_PEER_PASS"])
    typ, data = ours.capability()
    caps = (data[-1] or b"").decode().upper().split()
    for cap in ("SORT", "SORT=DISPLAY", "THREAD=REFERENCES", "THREAD=ORDEREDSUBJECT", "ESORT"):
        report("CAPABILITY %s" % cap, cap in caps, caps, server)
    fixtures = {"sort": SORT_MESSAGES, "thread": THREAD_MESSAGES, "edge": EDGE_MESSAGES}
    selected = None
    for fixture, command, expected in CHECKS:
        if fixture != selected:
            for m in (ours, peer):
                if m is not None:
                    load(m, BOXES[fixture], fixtures[fixture])
            selected = fixture
        got = answer(ours, command)
        report(command, got == expected, "%s, expected %s" % (got, expected), server)
        if peer is not None:
            theirs = answer(peer, command)
            print(("SAME %s" % command) if theirs == got else ("DIFF %s: ours %s | peer %s" % (command, got, theirs)))
    for m in (ours, peer):
        if m is not None:
            m.logout()
    print("%(pass)d passed, %(fail)d failed, %(xfail)d known deviations" % results, file=sys.stderr)
    return 1 if results["fail"] else 0


def report(name, ok, detail, server):
    if ok:
        print("PASS %s" % name); results["pass"] += 1
    elif DEVIATIONS.get(name, {}).get(server):
        print("XFAIL %s: %s (%s)" % (name, DEVIATIONS[name][server], detail)); results["xfail"] += 1
    else:
        print("FAIL %s: %s" % (name, detail)); results["fail"] += 1
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
