#!/usr/bin/env bash
# Hostile input against a real mstored (hostile.py: seeded mutations of real IMAP, POP3, LMTP and
# SMTP sessions, 8 connections at a time): the daemon keeps running and serves clean sessions
# afterwards, its log holds no control characters (client text is escaped), and the store
# passes `mstore check`.
. "$(dirname "$0")/lib.sh"

echo secret | "$bin/mstore" user add alice --password-stdin >/dev/null
start_mstored --imap 127.0.0.1:0 --pop3 127.0.0.1:0 --lmtp 127.0.0.1:0 --smtp 127.0.0.1:0
export targets="imap:$(port imap) pop3:$(port pop3) lmtp:$(port lmtp) smtp:$(port smtp)" root work pid bin

for seed in 1 2; do
  check "hostile sessions, seed $seed: no crash, clean sessions after" bash -c '
    python3 "$root/Tools/interop/hostile.py" $targets --rounds 300 --seed '"$seed"' && kill -0 "$pid"'
done
check "the log has no control characters from clients" bash -c '
  grep -q "authentication failed" "$work/mstored.err" &&
    ! LC_ALL=C grep -q -P "[\x00-\x08\x0B-\x1F\x7F]" "$work/mstored.err"'
check "mstore check passes after the storm" "$bin/mstore" check
finish
