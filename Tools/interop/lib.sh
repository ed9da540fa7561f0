# Shared helpers for the interop scripts: start a real mstored on free loopback ports over a
# temporary store, and report each check as "PASS name" or "FAIL name".
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${MSTORE_BIN:-$(cd "$root" && swift build --show-bin-path)}
work=$(mktemp -d /tmp/mstore-interop.XXXXXX)
export MSTORE_DATA="$work/data"
passed=0; failed=0

check() {  # check NAME COMMAND...
  local name=$1; shift
  if "$@" >>"$work/log" 2>&1; then echo "PASS $name"; passed=$((passed+1))
  else echo "FAIL $name"; failed=$((failed+1)); fi
}

start_mstored() {  # start_mstored ARGS... ; sets $pid and port variables from the ready lines
  openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
    -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1
  "$bin/mstored" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" "$@" >"$work/mstored.out" 2>"$work/mstored.err" &
  pid=$!
  for _ in $(seq 1 100); do grep -q "mstored: ready" "$work/mstored.out" 2>/dev/null && break; sleep 0.1; done
  port() { grep "listening $1 " "$work/mstored.out" | sed 's/.*://'; }
}

finish() {
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  if [ "$failed" -ne 0 ]; then echo "--- log"; tail -n 40 "$work/log"; echo "--- mstored"; tail -n 20 "$work/mstored.err"; fi
  rm -rf "$work"
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
