#!/usr/bin/env bash
# IMAP interop: Python's imaplib walking every command (imap-imaplib.py), one check per command
# or behaviour. Server from the environment (see imap_target in lib.sh); without IMAP_PORT, a
# fresh mstored, whose LMTP listener also feeds an IDLE check. A check the RFC decides against
# a known peer's behaviour prints XFAIL for that peer (counted apart, listed at the end).
. "$(dirname "$0")/lib.sh"
imap_target
python3 "$root/Tools/interop/imap-imaplib.py" 2>>"$work/log" | tee "$work/walk.out"
status=${PIPESTATUS[0]}
passed=$(grep -c '^PASS ' "$work/walk.out"); failed=$(grep -c '^FAIL ' "$work/walk.out")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then echo "FAIL imap-imaplib.py exited with $status"; failed=1; fi
xfail=$(grep -c '^XFAIL ' "$work/walk.out")
[ "$xfail" -gt 0 ] && echo "($xfail known deviations of this server from RFC 9051, listed as XFAIL above)"
finish
