#!/usr/bin/env python3
"""A logging TCP proxy for IMAP: what real clients send, line by line.

Usage: imap-trace.py HOST PORT LOGFILE
Listens on a free loopback port, prints that port on stdout, and forwards every connection to
HOST:PORT. Each line crossing it is appended to LOGFILE as `<conn> C: ...` or `<conn> S: ...`
(lines longer than 300 bytes are cut, so message bodies stay short). Runs until killed.
"""
import socket, sys, threading

MAX_LOGGED_LINE = 300


def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    log = open(path, "ab", buffering=0)
    lock = threading.Lock()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(listener.getsockname()[1], flush=True)

    def pump(src, dst, conn, tag):
        pending = b""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
                pending += data
                *lines, pending = pending.split(b"\n")
                with lock:
                    for line in lines:
                        log.write(b"%d %s: %s\n" % (conn, tag, line.rstrip(b"\r")[:MAX_LOGGED_LINE]))
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    conn = 0
    while True:
        client, _ = listener.accept()
        conn += 1
        server = socket.create_connection((host, port))
        threading.Thread(target=pump, args=(client, server, conn, b"C"), daemon=True).start()
        threading.Thread(target=pump, args=(server, client, conn, b"S"), daemon=True).start()


if __name__ == "__main__":
    main()
