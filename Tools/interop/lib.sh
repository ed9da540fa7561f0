# Shared helpers for the interop scripts: start a real mstored on free loopback ports over a
# temporary store, and report each check as "PASS name" or "FAIL name".
# IMAP scripts call imap_target, which can point them at another server instead (see there).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -n "${MSTORE_BIN:-}" ]; then bin=$MSTORE_BIN
elif [ -n "${IMAP_PORT:-}" ]; then bin=""  # an IMAP script against an outside server needs no build
else bin=$(cd "$root" && swift build --show-bin-path); fi
work=$(mktemp -d /tmp/mstore-interop.XXXXXX)
export MSTORE_DATA="$work/data"
passed=0; failed=0; pid=""; failed_names=()

# A `bash -c` check traces its commands into the log (BASH_ENV; only the check's own shell, not
# the shells it starts), so a failed check's part of the log ends at the command that failed.
printf '[ -z "${CHECK_TRACED:-}" ] && { export CHECK_TRACED=1; set -x; }\n' >"$work/xtrace.sh"

check() {  # check NAME COMMAND...
  local name=$1; shift
  echo "=== $name" >>"$work/log"
  if BASH_ENV="$work/xtrace.sh" "$@" >>"$work/log" 2>&1; then echo "PASS $name"; passed=$((passed+1))
  else echo "FAIL $name"; failed=$((failed+1)); failed_names+=("$name"); fi
}

start_mstored() {  # start_mstored ARGS... ; sets $pid and port variables from the ready lines
  openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
    -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1
  "$bin/mstored" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" "$@" >"$work/mstored.out" 2>"$work/mstored.err" &
  pid=$!
  for _ in $(seq 1 100); do grep -q "mstored: ready" "$work/mstored.out" 2>/dev/null && break; sleep 0.1; done
  port() { grep "listening $1 " "$work/mstored.out" | sed 's/.*://'; }
}

# imap_target: the IMAP server under test, exported as IMAP_HOST IMAP_PORT IMAP_USER IMAP_PASS.
# - With IMAP_PORT set, an already running server, e.g. the Dovecot peer:
#     IMAP_HOST=127.0.0.1 IMAP_PORT=10143 IMAP_USER=user1 IMAP_PASS=pass bash Tools/interop/imap-curl.sh
#   The user must exist; the script empties its INBOX and recreates the folders it uses.
# - Without it, a fresh mstored (IMAP, IMAPS and LMTP; IMAPS_PORT and LMTP_PORT exported too)
#   with one user. An mstored that has no IMAP front end yet makes the script end with a SKIP
#   line and status 0.
# IMAP_TRACE=FILE puts imap-trace.py in between and logs both directions of every connection.
imap_target() {
  if [ -n "${IMAP_PORT:-}" ]; then
    IMAP_HOST=${IMAP_HOST:-127.0.0.1}; IMAP_USER=${IMAP_USER:?IMAP_USER is needed with IMAP_PORT}
    IMAP_PASS=${IMAP_PASS:?IMAP_PASS is needed with IMAP_PORT}
  else
    IMAP_HOST=127.0.0.1; IMAP_USER=${IMAP_USER:-alice}; IMAP_PASS=${IMAP_PASS:-secret}
    echo "$IMAP_PASS" | "$bin/mstore" user add "$IMAP_USER" --password-stdin >/dev/null
    start_mstored --imap 127.0.0.1:0 --imaps 127.0.0.1:0 --lmtp 127.0.0.1:0
    if ! kill -0 "$pid" 2>/dev/null; then echo "FAIL mstored starts"; failed=1; finish; exit 1; fi
    IMAP_PORT=$(port imap)
    if [ -z "$IMAP_PORT" ]; then echo "SKIP $(basename "$0"): mstored serves no IMAP yet"; finish; exit 0; fi
    LMTP_PORT=$(port lmtp); export LMTP_PORT
    IMAPS_PORT=$(port imaps); [ -n "$IMAPS_PORT" ] && export IMAPS_PORT
  fi
  if [ -n "${IMAP_TRACE:-}" ]; then
    python3 "$root/Tools/interop/imap-trace.py" "$IMAP_HOST" "$IMAP_PORT" "$IMAP_TRACE" >"$work/trace.port" &
    trace_pid=$!
    for _ in $(seq 1 50); do [ -s "$work/trace.port" ] && break; sleep 0.1; done
    IMAP_HOST=127.0.0.1; IMAP_PORT=$(cat "$work/trace.port")
  fi
  export IMAP_HOST IMAP_PORT IMAP_USER IMAP_PASS
  imap="python3 $root/Tools/interop/imap-util.py"
}

finish() {
  [ -n "$pid" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
  [ -n "${trace_pid:-}" ] && { kill "$trace_pid" 2>/dev/null; wait "$trace_pid" 2>/dev/null; }
  if [ "$failed" -ne 0 ]; then
    if [ ${#failed_names[@]} -eq 0 ]; then echo "--- log"; tail -n 40 "$work/log"; fi
    for name in "${failed_names[@]}"; do  # each failed check's own part of the log
      echo "--- log of: $name"
      awk -v h="=== $name" '$0 == h { on = 1; next } /^=== / { on = 0 } on' "$work/log" | tail -n 40
    done
    [ -n "$pid" ] && { echo "--- mstored"; tail -n 20 "$work/mstored.err"; }
  fi
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
