#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds once, runs the Swift tests and then
# the interop scripts in Tools/interop (real clients against a real mstored), and ends with
# one line "N passed, M failed" over both.
set -uo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh curl openssl fetchmail getmail6 python3 swaks isync offlineimap3 mutt gdb
# Bounds far above a normal run (Swift tests about 6 minutes, each interop script under one):
# a hang ends as a failure that shows where it hung, not as a CI run that never finishes.
SWIFT_TEST_LIMIT=${SWIFT_TEST_LIMIT:-1800}
INTEROP_SCRIPT_LIMIT=${INTEROP_SCRIPT_LIMIT:-600}

# Prints the thread stacks of the test process and of every mstored, then kills the tests.
dump_and_kill() {
  for pid in $(pgrep -f 'PackageTests.xctest|/mstored ' || true); do
    echo "== hung: $(ps -o args= -p "$pid" | cut -c1-200)"
    gdb -p "$pid" -batch -ex 'thread apply all bt 25' 2>/dev/null | grep -E '^(Thread|#)' || true
  done
  pkill -KILL -f 'PackageTests.xctest' || true
}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift build --build-tests 2>&1 | tail -n 5
# `&&`: when the tests end first, the sleep is killed, and nothing is reported or dumped.
( sleep "$SWIFT_TEST_LIMIT" && { echo "swift test still running after $SWIFT_TEST_LIMIT s"; dump_and_kill; } ) &
watchdog=$!
swift test --skip-build 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
pkill -P "$watchdog" 2>/dev/null; kill "$watchdog" 2>/dev/null || true
total=$(grep -oE 'Test run with [0-9]+ tests?' "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0)
failed=$(grep -E '✘ Test ' "$log" | grep -vc 'Test run with' || true)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
passed=$(( total - failed < 0 ? 0 : total - failed ))

export MSTORE_BIN
MSTORE_BIN=$(swift build --show-bin-path)
for script in Tools/interop/*.sh; do
  [ "$(basename "$script")" = lib.sh ] && continue
  echo "== $script"
  timeout -k 10 "$INTEROP_SCRIPT_LIMIT" "$script" 2>&1 | tee "$log"
  [ "${PIPESTATUS[0]}" -ne 0 ] && status=1
  p=$(grep -cE '^PASS ' "$log" || true); f=$(grep -cE '^FAIL ' "$log" || true)
  passed=$((passed + p)); failed=$((failed + f))
done
echo "$passed passed, $failed failed"
exit "$status"
