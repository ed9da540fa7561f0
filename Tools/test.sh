#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds once, runs the Swift tests (and, as
# they land, the interop scripts in Tools/interop), and ends with "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! swift build --build-tests 2>&1 | tail -n 5; then :; fi
swift test --skip-build 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
total=$(grep -oE 'Test run with [0-9]+ tests?' "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0)
failed=$(grep -E '✘ Test ' "$log" | grep -vc 'Test run with' || true)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$(( total - failed < 0 ? 0 : total - failed )) passed, $failed failed"
exit "$status"
