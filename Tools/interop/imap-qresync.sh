#!/usr/bin/env bash
# IMAP interop: a QRESYNC round trip with Python's imaplib (imap-qresync.py). Server from the
# environment (see imap_target in lib.sh); without IMAP_PORT, a fresh mstored.
. "$(dirname "$0")/lib.sh"
imap_target
python3 "$root/Tools/interop/imap-qresync.py" 2>>"$work/log" | tee "$work/qresync.out"
status=${PIPESTATUS[0]}
passed=$(grep -c '^PASS ' "$work/qresync.out"); failed=$(grep -c '^FAIL ' "$work/qresync.out")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then echo "FAIL imap-qresync.py exited with $status"; failed=1; fi
finish
