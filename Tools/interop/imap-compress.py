#!/usr/bin/env python3
"""COMPRESS=DEFLATE (RFC 4978) with Python's imaplib over a raw-deflate socket (zlib with
wbits=-15, a sync flush after every command). Fills a mailbox `compress-test` with the corpus
maildir, fetches all of it with and without compression, checks both answers are the same, and
prints the bytes received on the wire each way.

The server comes from IMAP_HOST, IMAP_PORT, IMAP_USER, IMAP_PASS; CORPUS is a Maildir (default
/work/shared/corpus/notmuch-maildir). Prints `PASS name` or `FAIL name: why`; a server that does
not offer COMPRESS=DEFLATE gets one SKIP line, unless REQUIRE_COMPRESS is set (for mstored).
Run it through imap-compress.sh, which supplies the server.
"""
import imaplib, os, sys, zlib

HOST = os.environ.get("IMAP_HOST", "127.0.0.1")
PORT = int(os.environ["IMAP_PORT"])
USER, PASS = os.environ["IMAP_USER"], os.environ["IMAP_PASS"]
CORPUS = os.environ.get("CORPUS", "/work/shared/corpus/notmuch-maildir")
BOX = "compress-test"
imaplib.Commands.setdefault("COMPRESS", ("AUTH", "SELECTED"))
failed = 0


class CountingIMAP(imaplib.IMAP4):
    """imaplib with byte counts on what it receives, and deflate once COMPRESS succeeds."""

    def __init__(self, *args):
        self.wire_in = 0     # bytes read from the socket
        self.plain_in = 0    # the same after inflating
        self._deflate = self._inflate = None
        self._pending = b""
        super().__init__(*args)

    def compress(self):
        typ, data = self._simple_command("COMPRESS", "DEFLATE")
        if typ == "OK":
            self._deflate = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
            self._inflate = zlib.decompressobj(-15)
        return typ, data

    def send(self, data):
        if self._deflate:
            data = self._deflate.compress(data) + self._deflate.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise imaplib.IMAP4.abort("connection closed")
        self.wire_in += len(chunk)
        plain = self._inflate.decompress(chunk) if self._inflate else chunk
        self.plain_in += len(plain)
        self._pending += plain

    def read(self, size):
        while len(self._pending) < size:
            self._fill()
        data, self._pending = self._pending[:size], self._pending[size:]
        return data

    def readline(self):
        while b"\n" not in self._pending:
            self._fill()
        i = self._pending.index(b"\n") + 1
        line, self._pending = self._pending[:i], self._pending[i:]
        return line


def check(name, ok, why=""):
    global failed
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why))
    if not ok:
        failed += 1


def mails():
    for sub in ("cur", "new"):
        for dirpath, _, files in os.walk(CORPUS):
            if os.path.basename(dirpath) != sub:
                continue
            for f in sorted(files):
                with open(os.path.join(dirpath, f), "rb") as fh:
                    yield fh.read()


def fetch_all(compress):
    c = CountingIMAP(HOST, PORT)
    c.login(USER, PASS)
    if compress:
        typ, data = c.compress()
        check("COMPRESS DEFLATE is accepted", typ == "OK", repr(data))
        typ, data = c._simple_command("COMPRESS", "DEFLATE")
        check("a second COMPRESS gets NO [COMPRESSIONACTIVE]", typ == "NO" and b"[COMPRESSIONACTIVE]" in data[0],
              "%s %r" % (typ, data))
    c.select(BOX, readonly=True)
    c.wire_in = c.plain_in = 0
    typ, data = c.fetch("1:*", "(BODY.PEEK[])")
    wire, plain = c.wire_in, c.plain_in
    c.logout()
    bodies = [part[1] for part in data if isinstance(part, tuple)]
    return typ, bodies, wire, plain


def main():
    c = CountingIMAP(HOST, PORT)
    c.login(USER, PASS)
    typ, data = c.capability()  # imaplib keeps the greeting's list; ask again after login
    caps = data[0].decode().split()
    if "COMPRESS=DEFLATE" not in caps and not os.environ.get("REQUIRE_COMPRESS"):
        # Another server without it (Dovecot needs its imap_zlib plugin): nothing to check.
        print("SKIP imap-compress.py: the server does not offer COMPRESS=DEFLATE")
        c.logout()
        return
    check("COMPRESS=DEFLATE is advertised after login", "COMPRESS=DEFLATE" in caps, repr(caps))
    c.delete(BOX)
    c.create(BOX)
    count = 0
    for m in mails():
        typ, _ = c.append(BOX, None, None, m)
        count += typ == "OK"
    c.logout()
    check("the corpus is appended", count > 0, "no messages in %s" % CORPUS)

    typ0, plain_bodies, wire0, _ = fetch_all(False)
    typ1, z_bodies, wire1, plain1 = fetch_all(True)
    check("FETCH over deflate gives the same bytes", typ1 == "OK" and z_bodies == plain_bodies,
          "%d vs %d bodies" % (len(z_bodies), len(plain_bodies)))
    ratio = plain1 / wire1 if wire1 else 0
    print("FETCH 1:* BODY.PEEK[] of %d messages: %d bytes without COMPRESS, %d with (%.2fx)"
          % (len(plain_bodies), wire0, wire1, wire0 / wire1 if wire1 else 0))
    check("deflate shrinks the corpus", ratio > 1.5, "ratio %.2f" % ratio)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # an unexpected failure is one failed check, with the detail on stderr
        import traceback
        traceback.print_exc()
        check("imap-compress.py runs", False, repr(e))
    sys.exit(1 if failed else 0)
