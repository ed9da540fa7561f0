#!/bin/bash
# Times `mstore import` (wall and CPU seconds) of the shared corpus repeated to N messages
# (default 20,000), each copy with its own X-Bench-Serial header: a fresh import into a new data
# directory, then the same import again (resumable: it skips all). Several binaries alternate, run by run, so a noisy
# machine hits them alike. With --doveadm USER, each run also times Dovecot's `doveadm import`
# of the same mbox into a fresh mailbox of USER on the peer (../shared/peer/start-dovecot.sh),
# which is what an operator migrating mbox files into Dovecot runs.
#
#   Tools/bench/import-bench.sh [--count N] [--runs R] [--doveadm USER] BIN [BIN...]
set -euo pipefail
count=20000 runs=5 doveadm_user=
while [ $# -gt 0 ]; do
  case $1 in
    --count) count=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --doveadm) doveadm_user=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--count N] [--runs R] [--doveadm USER] BIN [BIN...]" >&2; exit 2; }
corpus=${CORPUS:-$(dirname "$0")/../../../shared/corpus}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$corpus" "$count" "$work/in.mbox" <<'PY'
import re, sys
corpus, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
messages = []
for name in ["notmuch-git-patches.mbox", "notmuch-mailinglists.mbox"]:
    data = open(f"{corpus}/{name}", "rb").read()
    messages += [m for m in re.split(rb"(?m)^(?=From )", data) if m.startswith(b"From ")]
with open(out, "wb") as f:
    for n in range(count):
        first, rest = messages[n % len(messages)].split(b"\n", 1)
        f.write(first + b"\nX-Bench-Serial: %d\n" % n + rest)
PY
seconds() { local s e; s=$(date +%s.%N); "$@" > /dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
# Wall and CPU (user + system) seconds of a command, as "WALLs (cpu CPUs)".
timed() {
  local TIMEFORMAT='%R %U %S' t
  t=$( { time "$@" > /dev/null 2>&1; } 2>&1 )
  echo "$t" | awk '{ printf "%ss (cpu %.2fs)", $1, $2 + $3 }'
}
for run in $(seq "$runs"); do
  for bin in "$@"; do
    data=$work/data
    rm -rf "$data"
    echo pw | "$bin" user add bench --data "$data" --password-stdin > /dev/null
    fresh=$(timed "$bin" import bench "$work/in.mbox" --data "$data")
    again=$(timed "$bin" import bench "$work/in.mbox" --data "$data")
    echo "run $run $bin fresh $fresh again $again $("$bin" mailbox status bench INBOX --data "$data" | sed 's/ .*//')"
  done
  if [ -n "$doveadm_user" ]; then
    conf=/tmp/peer/dovecot.conf
    [ -f "$conf" ] || bash "$(dirname "$0")/../../../shared/peer/start-dovecot.sh" > /dev/null
    # Dovecot reads the mbox as the mail user, and wants to write its index beside it.
    chmod 777 "$work"; chmod 666 "$work/in.mbox"
    doveadm -c "$conf" mailbox delete -u "$doveadm_user" -s bench-import/INBOX bench-import > /dev/null 2>&1 || true
    took=$(seconds doveadm -c "$conf" import -u "$doveadm_user" -s "mbox:$work:INBOX=$work/in.mbox" bench-import all)
    echo "run $run doveadm import ${took}s $(doveadm -c "$conf" mailbox status -u "$doveadm_user" messages bench-import/INBOX | sed 's/.*=//')"
  fi
done
