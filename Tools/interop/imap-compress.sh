#!/usr/bin/env bash
# IMAP interop: COMPRESS=DEFLATE (RFC 4978) with Python's imaplib over a raw-deflate socket
# (imap-compress.py), and the bytes on the wire for a FETCH of the corpus with and without it.
# Server from the environment (see imap_target in lib.sh); without IMAP_PORT, a fresh mstored.
. "$(dirname "$0")/lib.sh"
imap_target
[ -n "$pid" ] && export REQUIRE_COMPRESS=1  # our own mstored must offer it
python3 "$root/Tools/interop/imap-compress.py" 2>>"$work/log" | tee "$work/compress.out"
status=${PIPESTATUS[0]}
passed=$(grep -c '^PASS ' "$work/compress.out"); failed=$(grep -c '^FAIL ' "$work/compress.out")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then echo "FAIL imap-compress.py exited with $status"; failed=1; fi
finish
