#!/usr/bin/env python3
"""IMAP, mstored against Dovecot 2.3: same raw-socket client, same machine, same run.

Parts (--parts, default all four):
  body    FETCH 1:* (BODY.PEEK[]) over --body-count (10,000) real messages: the corpus in
          ../shared/corpus repeated (generated mail if it is absent); msgs/s and MB/s.
  meta    FETCH 1:* (UID FLAGS RFC822.SIZE) over --meta-count (100,000) small messages; msgs/s.
  select  SELECT of a mailbox of --select-count (1,000,000) small messages; ms.
  qresync SELECT (QRESYNC ...) of the --select-count mailbox after 10 flag changes, against a full
          FETCH 1:* (FLAGS) of it; ms.
  search  SEARCH over --search-count (100,000) messages: the corpus repeated, each copy with its own
          X-Bench-Serial header; a rare term (one message or about 0.1%) and a common one for
          TEXT, BODY, FROM and SUBJECT, and an internal-date range AND a flag; ms and hits.
          Also against a second Dovecot with dovecot-fts-xapian (Tools/bench/start-dovecot-xapian.sh,
          user xap1, port 11143) unless --no-xapian; its index is built by a first search, timed
          apart, before the measured ones.
  sort    UID SORT (DATE), UID SORT (SUBJECT) and UID THREAD REFERENCES over --sort-count (10,000)
          generated messages in threads of 1 to 7 (Message-ID, References, Re: subjects, 500
          senders, dates over a year, one in 20 without Date:), with UID SORT (ARRIVAL) as the
          baseline that needs no header; ms, the first run after loading shown apart.
  compress the body FETCH again over COMPRESS=DEFLATE (RFC 4978), where the server offers it:
          msgs/s, bytes on the wire against the bytes of the answer, and the client's CPU share
          (it inflates in zlib, so a high share means the client set the pace).
  idle    memory with --idle (10,000) connections logged in, INBOX selected, in IDLE: mstored's
          VmRSS from /proc/PID/status; for Dovecot the summed RSS and PSS of its processes (one
          imap process per connection). The peer's config caps Dovecot at process_limit = 500
          IMAP processes, so Dovecot gets at most --dovecot-idle-max (450) connections and the
          per-connection figure is compared.
Each timed part reports the median of --runs and the client's own CPU share, so a client-bound
figure shows as such (near 100% means the client, not the server, set the pace).

Loading, once per store and reused while the counts match (STATUS MESSAGES):
  * Dovecot (users --dovecot-user, default user190, mailboxes bench-body, bench-meta and
    bench-select): MULTIAPPEND with LITERAL+ in batches of 2,000, one transaction each.
  * mstored (a temporary store, user bench): `mstore import` of an mbox written here (mboxrd
    quoting, CRLF content, so the bytes match what Dovecot got).

Usage: Tools/bench/imap-bench.py [--runs 3] [--parts body,meta,select,qresync,search,sort,idle]
         [--body-count 10000] [--meta-count 100000] [--select-count 1000000] [--search-count 100000]
         [--sort-count 10000] [--idle 10000] [--no-dovecot] [--no-mstored] [--no-xapian]
mstored comes from MSTORE_BIN (a directory with mstore and mstored), else a release build.
Dovecot is started with ../shared/peer/start-dovecot.sh (as root).
"""
import argparse, base64, glob, hashlib, hmac, os, re, resource, selectors, shutil, socket, statistics, subprocess, sys, tempfile, time, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(ROOT, "..", "shared")
PEER = os.path.join(SHARED, "peer", "start-dovecot.sh")
CORPUS = os.path.join(SHARED, "corpus")
DOVECOT_IMAP = 10143
XAPIAN_IMAP = 11143
XAPIAN_START = os.path.join(ROOT, "Tools", "bench", "start-dovecot-xapian.sh")
APPEND_BATCH = 2000
RECV = 1 << 22


# ---- messages ---------------------------------------------------------------------------------

def crlf(raw):
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def corpus_messages():
    """Every message of the shared corpus, CRLF, in a fixed order; generated mail without it."""
    out = []
    for path in sorted(glob.glob(os.path.join(CORPUS, "**", "*"), recursive=True)):
        if not os.path.isfile(path) or os.path.basename(path).startswith(".") or path.endswith(".md"):
            continue
        data = open(path, "rb").read()
        if path.endswith(".mbox"):
            # A message starts at a "From " line after a blank line; the blank line before the
            # next one separates, it is not content. ">From " is mboxo quoting.
            messages, current, blank = [], None, True
            for line in data.split(b"\n"):
                if line.startswith(b"From ") and blank:
                    if current is not None:
                        messages.append(current)
                    current = []
                elif current is not None:
                    current.append(line[1:] if line.startswith(b">From ") else line)
                blank = line == b""
            if current is not None:
                messages.append(current)
            for lines in messages:
                if lines and lines[-1] == b"":
                    lines = lines[:-1]
                if any(lines):
                    out.append(crlf(b"\n".join(lines) + b"\n"))
        elif re.match(rb"[!-9;-~]+:", data):  # a message starts with a header field (not README, COPYING)
            out.append(crlf(data))
    if not out:
        out = [crlf(b"From: a@example.org\nSubject: generated %d\n\n" % i + b"line of text\n" * (20 + i % 200))
               for i in range(500)]
    return out


def small_message(i):
    return (b"From: Bench <bench@example.org>\r\nTo: user@example.org\r\nSubject: meta %d\r\n"
            b"Message-ID: <meta.%d@bench>\r\nDate: Sun, 29 Nov 2026 12:00:00 +0000\r\n\r\nbody %d\r\n" % (i, i, i))


SORT_THREAD = 7  # messages per thread in the sort part, at most
SORT_SENDERS = 500
SORT_COMMANDS = [b"UID SORT (ARRIVAL) UTF-8 ALL", b"UID SORT (DATE) UTF-8 ALL", b"UID SORT (SUBJECT) UTF-8 ALL",
                 b"UID THREAD REFERENCES UTF-8 ALL"]


def sort_message(i):
    """Message i of the sort part: thread i // SORT_THREAD of 1 to SORT_THREAD messages, each a
    reply to the one before it, with a sender and a date spread over the year."""
    thread, pos = divmod(i, SORT_THREAD)
    size = 1 + thread % SORT_THREAD
    refs = b" ".join(b"<s.%d@bench>" % (thread * SORT_THREAD + k) for k in range(min(pos, size - 1)))
    sender = (i * 7919) % SORT_SENDERS
    seconds = 1577836800 + (i * 104729) % (365 * 86400)
    date = b"" if i % 20 == 19 else b"Date: %s\r\n" % time.strftime(
        "%a, %d %b %Y %H:%M:%S +0000", time.gmtime(seconds)).encode()
    return (b"From: User %d <user%d@example.org>\r\nTo: list@example.org\r\n%sSubject: %stopic %d\r\n"
            b"Message-ID: <s.%d@bench>\r\n%s\r\nbody %d\r\n" % (
                sender, sender, date, b"Re: " if pos and pos < size else b"", thread, i,
                b"References: %s\r\n" % refs if refs and pos < size else b"", i))


# ---- a fast raw client --------------------------------------------------------------------------

class Client:
    """One IMAP connection. Reads answers by framing alone: lines, and literals skipped by their
    length, so a FETCH of message bodies costs a few finds per message."""

    def __init__(self, port, user, password, host="127.0.0.1"):
        self.s = socket.create_connection((host, port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.scratch = bytearray(RECV)
        self.view = memoryview(self.scratch)
        self.n = 0
        self.read_line()
        self.caps = b""
        self.command(b"LOGIN %s %s" % (user.encode(), password.encode()))
        self.caps = self.command(b"CAPABILITY")[2].upper()

    def more(self):
        n = self.s.recv_into(self.scratch)
        if not n:
            raise RuntimeError("connection closed")
        self.buf += self.view[:n]
        return n

    def skip(self, n):
        """Reads and drops n bytes that belong to a literal (nothing after them)."""
        total = 0
        while total < n:
            got = self.s.recv_into(self.scratch, min(n - total, RECV))
            if not got:
                raise RuntimeError("connection closed")
            total += got
        return total

    def read_line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i]); del self.buf[:i + 2]
                return line
            self.more()

    def command(self, text, collect=True):
        """Sends a command and reads to its tagged answer. Returns (tagged line, bytes read,
        untagged text if collect, else the number of untagged lines that start with '* ')."""
        self.n += 1
        tag = b"b%d" % self.n
        self.s.sendall(tag + b" " + text + b"\r\n")
        return self.finish(tag, collect)

    def finish(self, tag, collect):
        if not collect:
            return self.finish_counting(tag)
        buf, pos, total, untagged, kept = self.buf, 0, 0, 0, []
        prefix = tag + b" "
        at_start = True
        while True:
            # Fast path over whole lines with no literal in them (metadata FETCHes): count the
            # untagged lines and look for the tagged one with C-speed finds, not line by line,
            # so the client does not set the pace.
            last = buf.rfind(b"\r\n")
            if not collect and at_start and last >= pos and buf.find(b"}\r\n", pos, last + 2) < 0:
                block = b"\r\n" + bytes(buf[pos:last + 2])
                hit = block.find(b"\r\n" + prefix)
                stop = len(block) if hit < 0 else hit
                untagged += block.count(b"\r\n* ", 0, stop)
                # On a hit, `pos` moves to the tagged line, which the line path below reads.
                pos = last + 2 if hit < 0 else pos + hit
                if hit < 0:
                    continue
            nl = buf.find(b"\r\n", pos)
            if nl < 0:
                del buf[:pos]; pos = 0
                total += self.more()
                continue
            if at_start:
                if buf.startswith(prefix, pos):
                    line = bytes(buf[pos:nl]); del buf[:nl + 2]
                    if not line.startswith(prefix + b"OK"):
                        raise RuntimeError("%s -> %r" % (tag, line))
                    return line, total, (b"\n".join(kept) if collect else untagged)
                if buf.startswith(b"* ", pos):
                    untagged += 1
            if collect:
                kept.append(bytes(buf[pos:nl]))
            # A line that ends in a literal {n} (or ~{n}) continues after n bytes.
            if nl > pos and buf[nl - 1] == 0x7D:
                lb = buf.rfind(b"{", pos, nl)
                n = int(buf[lb + 1:nl - 1].rstrip(b"+"))
                end = nl + 2 + n
                while len(buf) < end:
                    total += self.more()
                pos, at_start = end, False
            else:
                pos, at_start = nl + 2, True

    def finish_counting(self, tag):
        """finish() for the timed answers: the same framing, but scanning whole buffers with
        bytes methods (count, find) between literals instead of line by line, so the client keeps
        up with a server sending 700,000 short FETCH lines a second."""
        buf, pos, total, untagged, at_start = self.buf, 0, 0, 0, True
        prefix = tag + b" "
        needle = b"\r\n" + prefix
        while True:
            lit = buf.find(b"}\r\n", pos)
            limit = lit if lit >= 0 else len(buf)
            t = pos if at_start and buf.startswith(prefix, pos) else buf.find(needle, pos, limit)
            if t > pos or (t == pos and at_start and buf.startswith(prefix, pos)):
                t = t if t == pos else t + 2
                e = buf.find(b"\r\n", t)
                if e >= 0:
                    untagged += buf.count(b"\r\n* ", pos, t) + (1 if at_start and buf.startswith(b"* ", pos) else 0)
                    line = bytes(buf[t:e]); del buf[:e + 2]
                    if not line.startswith(prefix + b"OK"):
                        raise RuntimeError("%s -> %r" % (tag, line))
                    return line, total, untagged
            elif lit >= 0:
                untagged += buf.count(b"\r\n* ", pos, lit) + (1 if at_start and buf.startswith(b"* ", pos) else 0)
                lb = buf.rfind(b"{", pos, lit)
                end = lit + 3 + int(buf[lb + 1:lit].rstrip(b"+"))
                if end > len(buf):  # the rest of the literal is not here yet: drop it unbuffered
                    total += self.skip(end - len(buf))
                    del buf[:]
                    pos, at_start = 0, False
                else:
                    pos, at_start = end, False
                continue
            else:
                last = buf.rfind(b"\r\n", pos)
                if last >= 0:  # whole lines: count them, keep the partial one
                    untagged += buf.count(b"\r\n* ", pos, last + 2) + (1 if at_start and buf.startswith(b"* ", pos) else 0)
                    pos, at_start = last + 2, True
            if pos > len(buf) // 2:
                del buf[:pos]; pos = 0
            total += self.more()

    def append_batch(self, box, messages):
        """One APPEND: MULTIAPPEND when offered, else one APPEND per message, pipelined;
        LITERAL+ when offered, else synchronizing literals."""
        plus = b"LITERAL+" in self.caps
        if b"MULTIAPPEND" in self.caps and plus:
            self.n += 1
            tag = b"b%d" % self.n
            out = [tag + b" APPEND " + box.encode()]
            for m in messages:
                out.append(b" {%d+}\r\n" % len(m)); out.append(m)
            out.append(b"\r\n")
            self.s.sendall(b"".join(out))
            self.finish(tag, False)
        elif plus:
            tags = []
            chunks = []
            for m in messages:
                self.n += 1
                tags.append(b"b%d" % self.n)
                chunks.append(tags[-1] + b" APPEND " + box.encode() + b" {%d+}\r\n" % len(m) + m + b"\r\n")
            self.s.sendall(b"".join(chunks))
            for t in tags:
                self.finish(t, False)
        else:
            for m in messages:
                self.n += 1
                tag = b"b%d" % self.n
                self.s.sendall(tag + b" APPEND " + box.encode() + b" {%d}\r\n" % len(m))
                line = self.read_line()
                assert line.startswith(b"+"), line
                self.s.sendall(m + b"\r\n")
                self.finish(tag, False)

    def messages(self, box):
        try:
            text = self.command(b"STATUS %s (MESSAGES)" % box.encode())[2]
        except RuntimeError:  # NO: no such mailbox
            return None
        return int(text.rsplit(b"MESSAGES", 1)[1].strip(b" )\r\n").split()[0].rstrip(b")"))

    def logout(self):
        try:
            self.command(b"LOGOUT")
        except Exception:
            pass
        self.s.close()


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# ---- servers ------------------------------------------------------------------------------------

class Server:
    def __init__(self, name, port, user, password, pid_of_rss=None):
        self.name, self.port, self.user, self.password = name, port, user, password
        self.mstored_pid = pid_of_rss


def ensure_loaded_dovecot(server, box, count, make):
    c = Client(server.port, server.user, server.password)
    have = c.messages(box)
    if have == count:
        c.logout(); return False
    if have is not None:
        c.command(b"DELETE " + box.encode())
    c.command(b"CREATE " + box.encode())
    t = time.perf_counter()
    for lo in range(0, count, APPEND_BATCH):
        c.append_batch(box, [make(i) for i in range(lo, min(count, lo + APPEND_BATCH))])
    assert c.messages(box) == count
    print("  loaded %d messages into Dovecot %s in %.1f s" % (count, box, time.perf_counter() - t), file=sys.stderr)
    c.logout()
    return True


def write_mbox(path, count, make):
    with open(path, "wb") as f:
        for i in range(count):
            m = make(i)
            lines = m.split(b"\r\n")
            quoted = [(b">" + l if l.lstrip(b">").startswith(b"From ") else l) for l in lines]  # mboxrd
            f.write(b"From bench@example.org Sun Nov 29 12:00:00 2026\n" + b"\r\n".join(quoted)
                    + (b"" if m.endswith(b"\r\n") else b"\r\n") + b"\r\n")


def start_daemon(script):
    """Runs a peer's start script. Its output goes to a file, not a pipe: the daemon it forks
    keeps the script's stdout open, so reading a pipe to its end would wait for the daemon."""
    with tempfile.TemporaryFile() as out:
        if subprocess.run(["bash", script], stdout=out, stderr=subprocess.STDOUT).returncode != 0:
            out.seek(0)
            sys.exit("%s failed:\n%s" % (script, out.read().decode(errors="replace")))


def start_mstored(bindir, work, args, loads):
    env = dict(os.environ, MSTORE_DATA=os.path.join(work, "data"))
    subprocess.run([bindir + "/mstore", "user", "add", "bench", "--password-stdin"], input=b"pass\n", env=env,
                   check=True, capture_output=True)
    for _, box, count, make in loads:
        path = os.path.join(work, box + ".mbox")
        t = time.perf_counter()
        write_mbox(path, count, make)
        subprocess.run([bindir + "/mstore", "import", "bench", path, "--mailbox", box], env=env, check=True,
                       capture_output=True)
        os.unlink(path)
        print("  loaded %d messages into mstored %s in %.1f s" % (count, box, time.perf_counter() - t), file=sys.stderr)
    conf = os.path.join(work, "mstored.toml")
    with open(conf, "w") as f:
        f.write('log_level = "warning"\n[limits]\nmax_connections = %d\nmax_connections_per_ip = %d\n'
                % (args.idle + 100, args.idle + 100))
    p = subprocess.Popen([bindir + "/mstored", "--config", conf, "--imap", "127.0.0.1:0"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = None
    for line in p.stdout:
        if line.startswith("mstored: listening imap "):
            port = int(line.rsplit(":", 1)[1])
        if line.startswith("mstored: ready"):
            break
    assert port, "mstored did not listen on IMAP"
    return p, port


def mstored_bindir():
    if os.environ.get("MSTORE_BIN"):
        return os.environ["MSTORE_BIN"]
    for product in ("mstored", "mstore"):
        subprocess.run(["swift", "build", "-c", "release", "--product", product], cwd=ROOT, check=True, capture_output=True)
    return subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.strip()


class DeflateSocket:
    """What Client needs of a socket (sendall, recv_into, close), after COMPRESS=DEFLATE: raw
    deflate both ways, with a sync flush per send. `wire` counts the compressed bytes read."""

    def __init__(self, s):
        self.s, self.wire = s, 0
        self.inflater = zlib.decompressobj(-15)
        self.deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.pending = memoryview(b"")

    def sendall(self, data):
        self.s.sendall(self.deflater.compress(data) + self.deflater.flush(zlib.Z_SYNC_FLUSH))

    def recv_into(self, buf, n=0):
        n = n or len(buf)
        while not self.pending:
            raw = self.s.recv(RECV)
            if not raw:
                return 0
            self.wire += len(raw)
            self.pending = memoryview(self.inflater.decompress(raw))
        k = min(n, len(self.pending))
        buf[:k] = self.pending[:k]
        self.pending = self.pending[k:]
        return k

    def close(self):
        self.s.close()


# ---- parts ----------------------------------------------------------------------------------------

def timed_compressed_fetch(server, box, count):
    """FETCH 1:* (BODY.PEEK[]) after COMPRESS DEFLATE; None when the server does not offer it."""
    c = Client(server.port, server.user, server.password)
    if b"COMPRESS=DEFLATE" not in c.caps:
        c.logout()
        return None
    c.command(b"COMPRESS DEFLATE")
    c.s = DeflateSocket(c.s)
    c.command(b"EXAMINE " + box.encode())
    wire0 = c.s.wire
    c0, t0 = cpu(), time.perf_counter()
    _, total, fetches = c.command(b"FETCH 1:* (BODY.PEEK[])", collect=False)
    dt, dc = time.perf_counter() - t0, cpu() - c0
    wire = c.s.wire - wire0
    c.logout()
    assert fetches == count, "%s: %d FETCH responses, expected %d" % (server.name, fetches, count)
    return count / dt, total / dt / 1e6, dc / dt, total, wire


def timed_fetch(server, box, items, count):
    c = Client(server.port, server.user, server.password)
    c.command(b"EXAMINE " + box.encode())
    c0, t0 = cpu(), time.perf_counter()
    _, total, fetches = c.command(b"FETCH 1:* " + items, collect=False)
    dt, dc = time.perf_counter() - t0, cpu() - c0
    c.logout()
    assert fetches == count, "%s: %d FETCH responses, expected %d" % (server.name, fetches, count)
    return count / dt, total / dt / 1e6, dc / dt, total


def timed_select(server, box, count):
    c = Client(server.port, server.user, server.password)
    t0 = time.perf_counter()
    text = c.command(b"SELECT " + box.encode())[2]
    dt = time.perf_counter() - t0
    c.logout()
    assert b"* %d EXISTS" % count in text, text[:300]
    return dt * 1000


def timed_resync(server, box, count, run):
    """QRESYNC after 10 flag changes, against a full FLAGS fetch of the same mailbox: ms each."""
    c = Client(server.port, server.user, server.password)
    c.command(b"ENABLE QRESYNC")
    text = c.command(b"SELECT " + box.encode())[2]
    validity = re.search(rb"UIDVALIDITY (\d+)", text).group(1)
    modseq = re.search(rb"HIGHESTMODSEQ (\d+)", text).group(1)
    w = Client(server.port, server.user, server.password)
    w.command(b"SELECT " + box.encode())
    w.command(b"STORE 1:10 FLAGS.SILENT ($bench%d)" % run)
    w.logout()
    c.command(b"UNSELECT")
    t0 = time.perf_counter()
    _, _, fetches = c.command(b"SELECT %s (QRESYNC (%s %s))" % (box.encode(), validity, modseq), collect=False)
    resync = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, _, all_flags = c.command(b"FETCH 1:* (FLAGS)", collect=False)
    full = time.perf_counter() - t0
    c.logout()
    # SELECT's own untagged lines (EXISTS, FLAGS, ...) are counted too: at least the 10 FETCHes.
    assert fetches >= 10 and all_flags == count, (fetches, all_flags)
    return resync * 1000, full * 1000


SEARCHES = [
    ("TEXT, rare (1 message)", b"TEXT s54321q"),
    ("TEXT, common", b"TEXT notmuch"),
    ("BODY, rare", b"BODY adversarial"),
    ("BODY, common", b"BODY changed"),
    ("FROM, rare", b"FROM orangeseeds"),
    ("FROM, common", b"FROM bremner"),
    ("SUBJECT, rare", b"SUBJECT wowsers"),
    ("SUBJECT, common", b"SUBJECT patch"),
    ("date range AND flag", b"SINCE 1-Jan-2020 BEFORE 1-Jan-2100 FLAGGED"),
]


def serial_message(corpus):
    return lambda i: b"X-Bench-Serial: s%dq\r\n" % i + corpus[i % len(corpus)]


def timed_search(server, box, key, runs):
    """UID SEARCH `key`: the median ms of `runs` and the number of hits."""
    c = Client(server.port, server.user, server.password)
    c.command(b"EXAMINE " + box.encode())
    times, hits = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        text = c.command(b"UID SEARCH " + key)[2]
        times.append((time.perf_counter() - t0) * 1000)
        line = [l for l in text.split(b"\r\n") if l.startswith(b"* SEARCH")]
        hits = len(line[0].split()) - 2 if line else 0
    c.logout()
    return statistics.median(times), hits


def flag_every_tenth(server, box, count):
    c = Client(server.port, server.user, server.password)
    c.command(b"SELECT " + box.encode())
    c.command(b"STORE " + b",".join(b"%d" % i for i in range(1, count + 1, 10)) + b" +FLAGS.SILENT (\\Flagged)")
    c.logout()


def timed_sort(server, box, command, count):
    """One SORT or THREAD over the whole mailbox: ms, checked for one number per message."""
    c = Client(server.port, server.user, server.password)
    c.command(b"EXAMINE " + box.encode())
    t0 = time.perf_counter()
    text = c.command(command)[2]
    dt = time.perf_counter() - t0
    c.logout()
    numbers = len(re.findall(rb"\d+", text.split(b" ", 2)[2] if text.count(b" ") >= 2 else b""))
    assert numbers == count, "%s %s: %d numbers, expected %d" % (server.name, command, numbers, count)
    return dt * 1000


def proc_status(pid, key):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def proc_pss(pid):
    try:
        for line in open("/proc/%d/smaps_rollup" % pid):
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def dovecot_processes():
    master = int(open("/tmp/peer/run/master.pid").read())
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(open("/proc/%s/stat" % d).read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d))
    out, todo = [], [master]
    while todo:
        p = todo.pop(); out.append(p); todo += children.get(p, [])
    return out


def memory_kib(server):
    """(RSS, PSS) in KiB: mstored's one process, or all of Dovecot's."""
    if server.mstored_pid:
        return proc_status(server.mstored_pid, "VmRSS"), proc_pss(server.mstored_pid)
    procs = dovecot_processes()
    return sum(proc_status(p, "VmRSS") for p in procs), sum(proc_pss(p) for p in procs)


def scram_first(user):
    """SCRAM-SHA-256 (RFC 5802, 7677) client-first message: (bare part, base64 of the whole)."""
    bare = "n=%s,r=%s" % (user, base64.b64encode(os.urandom(18)).decode())
    return bare, base64.b64encode(("n,," + bare).encode())


def scram_final(password, bare, server_first, keys):
    """The client-final message for a server-first message; `keys` caches the PBKDF2 result per
    salt and iteration count, so only the first of many logins pays for it (the server's side of
    SCRAM is a few HMACs: cheap for it in any case)."""
    sf = base64.b64decode(server_first).decode()
    attrs = dict(kv.split("=", 1) for kv in sf.split(","))
    salt, iterations = base64.b64decode(attrs["s"]), int(attrs["i"])
    if (salt, iterations) not in keys:
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
        client_key = hmac.new(salted, b"Client Key", "sha256").digest()
        keys[(salt, iterations)] = (client_key, hashlib.sha256(client_key).digest())
    client_key, stored_key = keys[(salt, iterations)]
    without_proof = "c=biws,r=" + attrs["r"]
    signature = hmac.new(stored_key, ("%s,%s,%s" % (bare, sf, without_proof)).encode(), "sha256").digest()
    proof = bytes(x ^ y for x, y in zip(client_key, signature))
    return base64.b64encode((without_proof + ",p=" + base64.b64encode(proof).decode()).encode())


def idle_connections(server, n, users, concurrency=200):
    """Opens n connections and walks each through authentication, SELECT INBOX and IDLE with
    non-blocking sockets, at most `concurrency` of them before IDLE at once. Authenticates with
    SCRAM-SHA-256 where the greeting offers it (mstored: its LOGIN check is a deliberately slow
    Argon2 hash, about half a second of CPU, while SCRAM's server side is a few HMACs), else with
    a pipelined LOGIN. Returns (open sockets, failures, seconds)."""
    sel = selectors.DefaultSelector()
    done, pending, started, failures, keys = [], {}, 0, 0, {}
    select_idle = b"s SELECT INBOX\r\ni IDLE\r\n"

    def start(i):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", server.port))
        st = {"buf": b"", "phase": "greeting", "user": users[i % len(users)]}
        pending[s] = st
        sel.register(s, selectors.EVENT_READ, st)

    def on_line(s, st, line):
        """Advances one connection by one line; True when it is in IDLE, False on failure."""
        phase = st["phase"]
        if phase == "greeting":
            if b"AUTH=SCRAM-SHA-256" in line.upper():
                st["bare"], first = scram_first(st["user"])
                s.sendall(b"a AUTHENTICATE SCRAM-SHA-256 " + first + b"\r\n")
                st["phase"] = "scram"
            else:
                s.sendall(b"a LOGIN %s %s\r\n" % (st["user"].encode(), server.password.encode()) + select_idle)
                st["phase"] = "idle"
        elif phase == "scram":
            if line.startswith(b"+ ") and "proof" not in st:
                st["proof"] = True
                s.sendall(scram_final(server.password, st["bare"], line[2:], keys) + b"\r\n")
            elif line.startswith(b"+"):
                s.sendall(b"\r\n")  # the server-final message, answered with an empty response
            elif line.startswith(b"a OK"):
                s.sendall(select_idle)
                st["phase"] = "idle"
            elif line.startswith(b"a "):
                return False
        elif line.startswith(b"+"):
            return True
        elif line[:2] in (b"a ", b"s ", b"i ") and not line[2:4] == b"OK":
            return False
        return None

    t0 = last = time.perf_counter()
    while len(done) + failures < n:
        while started < n and len(pending) < concurrency:
            start(started); started += 1
        events = sel.select(timeout=5)
        if events:
            last = time.perf_counter()
        elif time.perf_counter() - last > 60:  # no progress for a minute: count the rest as failed
            failures += len(pending)
            for s in pending:
                s.close()
            break
        for key, _ in events:
            s, st = key.fileobj, key.data
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            outcome = None if data else False
            st["buf"] += data
            while outcome is None and b"\r\n" in st["buf"]:
                line, st["buf"] = st["buf"].split(b"\r\n", 1)
                outcome = on_line(s, st, line)
            if outcome is not None:
                sel.unregister(s); del pending[s]
                if outcome:
                    done.append(s)
                else:
                    s.close(); failures += 1
        if not pending and started >= n:
            break
    sel.close()
    return done, failures, time.perf_counter() - t0


def measure_idle(server, n, users):
    base_rss, base_pss = memory_kib(server)
    conns, failures, setup = idle_connections(server, n, users)
    time.sleep(2)
    rss, pss = memory_kib(server)
    for s in conns:
        try:
            s.sendall(b"DONE\r\nz LOGOUT\r\n")
        except OSError:
            pass
        s.close()
    return {"n": len(conns), "failures": failures, "setup_s": setup, "base_rss": base_rss, "rss": rss,
            "base_pss": base_pss, "pss": pss}


# ---- main -------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--parts", default="body,meta,select,idle")
    ap.add_argument("--body-count", type=int, default=10000)
    ap.add_argument("--meta-count", type=int, default=100000)
    ap.add_argument("--select-count", type=int, default=1000000)
    ap.add_argument("--search-count", type=int, default=100000)
    ap.add_argument("--sort-count", type=int, default=10000)
    ap.add_argument("--idle", type=int, default=10000)
    ap.add_argument("--dovecot-idle-max", type=int, default=450)
    ap.add_argument("--dovecot-user", default="user190")
    ap.add_argument("--dovecot-idle-users", default="user171-user180")
    ap.add_argument("--no-dovecot", action="store_true")
    ap.add_argument("--no-mstored", action="store_true")
    ap.add_argument("--no-xapian", action="store_true")
    ap.add_argument("--xapian-user", default="xap1")
    a = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    parts = a.parts.split(",")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, a.idle * 2 + 1000))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if "idle" in parts and want < a.idle + 200:
        sys.exit("ulimit -n (hard) %d is too low for %d connections" % (hard, a.idle))

    corpus = corpus_messages() if "body" in parts or "search" in parts or "compress" in parts else []
    loads = [(part, box, count, make) for part, box, count, make in (
        ("body", "bench-body", a.body_count, lambda i: corpus[i % len(corpus)]),
        ("compress", "bench-body", a.body_count, lambda i: corpus[i % len(corpus)]),
        ("meta", "bench-meta", a.meta_count, small_message),
        ("select", "bench-select", a.select_count, small_message),
        ("search", "bench-search", a.search_count, serial_message(corpus)),
        ("sort", "bench-sort", a.sort_count, sort_message))
        if part in parts or (part == "select" and "qresync" in parts)]
    loads = [l for i, l in enumerate(loads) if l[1] not in [m[1] for m in loads[:i]]]  # one load per mailbox

    servers, work, proc = [], None, None
    try:
        if not a.no_dovecot:
            start_daemon(PEER)
            dv = Server("Dovecot", DOVECOT_IMAP, a.dovecot_user, "pass")
            for _, box, count, make in loads:
                ensure_loaded_dovecot(dv, box, count, make)
            servers.append(dv)
            if "search" in parts and not a.no_xapian:
                start_daemon(XAPIAN_START)
                xa = Server("Dovecot+fts-xapian", XAPIAN_IMAP, a.xapian_user, "pass")
                for part, box, count, make in loads:
                    if part == "search":
                        ensure_loaded_dovecot(xa, box, count, make)
                c = Client(xa.port, xa.user, xa.password)
                c.command(b"EXAMINE bench-search")
                t0 = time.perf_counter()
                c.command(b"UID SEARCH BODY warmupterm")
                print("  Dovecot+fts-xapian: first search (completes the index) %.1f s" % (time.perf_counter() - t0), file=sys.stderr)
                c.logout()
                servers.append(xa)
        if not a.no_mstored:
            work = tempfile.mkdtemp(prefix="mstore-imap-bench-")
            proc, port = start_mstored(mstored_bindir(), work, a, loads)
            servers.append(Server("mstored", port, "bench", "pass", pid_of_rss=proc.pid))

        rows, first = [], {}
        if "qresync" in parts:
            box, count = "bench-select", a.select_count
            print("| QRESYNC after 10 flag changes, %s messages | server | resync ms | FETCH 1:* (FLAGS) ms | ratio |" % format(count, ","))
            print("|---|---|---:|---:|---:|")
            for sv in servers:
                runs = [timed_resync(sv, box, count, r) for r in range(a.runs)]
                rs, fl = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
                print("| | %s | %.1f | %.0f | %.0fx faster |" % (sv.name, rs, fl, fl / rs))
            print()
        if "sort" in parts:
            count = a.sort_count
            print("| %s messages | server | first ms | median ms |" % format(count, ","))
            print("|---|---|---:|---:|")
            for command in SORT_COMMANDS:
                for sv in [sv for sv in servers if sv.port != XAPIAN_IMAP]:
                    times = [timed_sort(sv, "bench-sort", command, count) for _ in range(a.runs + 1)]
                    print("| `%s` | %s | %.0f | %.0f |" % (command.decode(), sv.name, times[0], statistics.median(times[1:])))
            print()
        for part, box, count, make in loads:
            if part in ("search", "sort", "compress") or (part == "select" and "select" not in parts):
                continue
            res = {}
            for sv in servers:
                if part == "select":
                    first[sv.name] = timed_select(sv, box, count)  # the first after loading: shown apart
                    res[sv.name] = [timed_select(sv, box, count) for _ in range(a.runs)]
                else:
                    items = b"(BODY.PEEK[])" if part == "body" else b"(UID FLAGS RFC822.SIZE)"
                    res[sv.name] = [timed_fetch(sv, box, items, count) for _ in range(a.runs)]
            rows.append((part, count, res))

        if rows:
            print("| workload | server | msgs/s | MB/s | client CPU | ms |")
            print("|---|---|---:|---:|---:|---:|")
        for part, count, res in rows:
            for name, runs in res.items():
                if part == "select":
                    print("| SELECT, %s messages (the first one: %.1f ms) | %s | | | | %.1f |" % (
                        format(count, ","), first[name], name, statistics.median(runs)))
                else:
                    label = "FETCH 1:* (BODY.PEEK[])" if part == "body" else "FETCH 1:* (UID FLAGS RFC822.SIZE)"
                    print("| %s, %s messages | %s | %.0f | %.1f | %.0f%% | |" % (
                        label, format(count, ","), name, statistics.median(r[0] for r in runs),
                        statistics.median(r[1] for r in runs), 100 * statistics.median(r[2] for r in runs)))
            if len(res) == 2:
                d, m = res.get("Dovecot"), res.get("mstored")
                if part == "select":
                    print("| ratio (Dovecot time / mstored time) | | | | | %.2fx |" % (statistics.median(d) / statistics.median(m)))
                else:
                    print("| ratio (mstored / Dovecot) | | %.2fx | | | |" % (
                        statistics.median(r[0] for r in m) / statistics.median(r[0] for r in d)))
                    bd, bm = d[0][3], m[0][3]
                    if part == "body" and abs(bd - bm) > 0.02 * bd:  # same messages, so about the same bytes
                        print("(bytes sent differ: Dovecot %d, mstored %d)" % (bd, bm))

        if "compress" in parts:
            print()
            print("| FETCH 1:* (BODY.PEEK[]), %s messages | server | msgs/s plain | msgs/s DEFLATE | answer bytes | wire bytes | ratio | client CPU |" % format(a.body_count, ","))
            print("|---|---|---:|---:|---:|---:|---:|---:|")
            for sv in servers:
                plain = [timed_fetch(sv, "bench-body", b"(BODY.PEEK[])", a.body_count) for _ in range(a.runs)]
                packed = [timed_compressed_fetch(sv, "bench-body", a.body_count) for _ in range(a.runs)]
                if packed[0] is None:
                    print("| | %s | %.0f | not offered | | | | |" % (sv.name, statistics.median(r[0] for r in plain)))
                    continue
                answer, wire = packed[0][3], packed[0][4]
                print("| | %s | %.0f | %.0f | %d | %d | %.1fx | %.0f%% |" % (
                    sv.name, statistics.median(r[0] for r in plain), statistics.median(r[0] for r in packed),
                    answer, wire, answer / wire, 100 * statistics.median(r[2] for r in packed)))

        if "search" in parts:
            print()
            print("| UID SEARCH, %s messages | server | median ms | hits | ratio |" % format(a.search_count, ","))
            print("|---|---|---:|---:|---:|")
            for sv in servers:
                flag_every_tenth(sv, "bench-search", a.search_count)
            others = [sv.name for sv in servers if sv.name != "mstored"]
            for label, key in SEARCHES:
                # The rare serial must exist in a smaller mailbox too.
                key = key.replace(b"s54321q", b"s%dq" % (a.search_count * 54321 // 100000))
                res = {sv.name: timed_search(sv, "bench-search", key, a.runs) for sv in servers}
                for name, (ms, hits) in res.items():
                    ratio = ""
                    if name == "mstored":
                        ratio = ", ".join("%.1fx vs %s" % (res[o][0] / ms, o) for o in others)
                    print("| %s: `%s` | %s | %.1f | %d | %s |" % (label, key.decode(), name, ms, hits, ratio))

        if "idle" in parts:
            lo, hi = a.dovecot_idle_users.split("-")
            prefix = lo.rstrip("0123456789")
            users = ["%s%d" % (prefix, i) for i in range(int(lo[len(prefix):]), int(hi[len(prefix):]) + 1)]
            print()
            print("| connections in IDLE | server | set-up s | RSS before | RSS after | per connection (RSS) | per connection (PSS) |")
            print("|---:|---|---:|---:|---:|---:|---:|")
            for sv in servers:
                n = a.idle if sv.mstored_pid else min(a.idle, a.dovecot_idle_max)
                r = measure_idle(sv, n, users if not sv.mstored_pid else ["bench"])
                k = max(r["n"], 1)
                print("| %d%s | %s | %.1f | %.1f MiB | %.1f MiB | %.1f KiB | %.1f KiB |" % (
                    r["n"], " (%d failed)" % r["failures"] if r["failures"] else "", sv.name, r["setup_s"],
                    r["base_rss"] / 1024, r["rss"] / 1024, (r["rss"] - r["base_rss"]) / k,
                    (r["pss"] - r["base_pss"]) / k))
    finally:
        if proc:
            proc.terminate(); proc.wait()
        if work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
