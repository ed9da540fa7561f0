#!/usr/bin/env bash
# IMAP interop: SORT, ESORT, SORT=DISPLAY and THREAD with Python's imaplib (imap-sort.py) over
# hand-checked fixture mailboxes. Server from the environment (see imap_target in lib.sh);
# without IMAP_PORT, a fresh mstored. IMAP_PEER_PORT, IMAP_PEER_USER and IMAP_PEER_PASS (and
# IMAP_PEER_HOST) add a side-by-side comparison with another server, such as the Dovecot peer:
#   IMAP_PEER_PORT=10143 IMAP_PEER_USER=user187 IMAP_PEER_PASS=pass bash Tools/interop/imap-sort.sh
. "$(dirname "$0")/lib.sh"
imap_target
python3 "$root/Tools/interop/imap-sort.py" 2>>"$work/log" | tee "$work/sort.out"
status=${PIPESTATUS[0]}
passed=$(grep -c '^PASS ' "$work/sort.out"); failed=$(grep -c '^FAIL ' "$work/sort.out")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then echo "FAIL imap-sort.py exited with $status"; failed=1; fi
diffs=$(grep -c '^DIFF ' "$work/sort.out")
[ "$diffs" -gt 0 ] && echo "($diffs answers differ from the peer's, listed as DIFF above)"
finish
