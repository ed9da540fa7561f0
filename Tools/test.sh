#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds once, runs the Swift tests and the
# interop scripts, and ends with a line "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
log=$(mktemp)
swift build --build-tests 2>&1 | tail -n 3
swift test --skip-build 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -cE '^􁁛|✔ Test .* passed' "$log" || true)
failed=$(grep -cE '^􀢄|✘ Test .* failed' "$log" || true)
# Swift Testing prints one line per test; count them.
passed=$(grep -E '(✔|􁁛) Test "?[^ ]' "$log" | grep -vc 'Test run with' || true)
failed=$(grep -E '(✘|􀢄) Test "?[^ ]' "$log" | grep -vc 'Test run with' || true)
rm -f "$log"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
exit "$status"
