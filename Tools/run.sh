#!/usr/bin/env bash
# The main job: installs what is missing, builds, opens the default store (./mstore-data or
# $MSTORE_DATA) with a demo user, and starts mstored.
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
swift build 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)
export MSTORE_DATA="${MSTORE_DATA:-$PWD/mstore-data}"
if ! "$bin/mstore" user list | grep -qx demo; then
  echo demo | "$bin/mstore" user add demo --password-stdin
  printf 'From: mstore <postmaster@localhost>\r\nTo: demo@localhost\r\nSubject: Welcome to mstore\r\n\r\nThis store is ready.\r\n' \
    | "$bin/mstore" deliver demo
fi
echo "store: $MSTORE_DATA   user: demo   password: demo"
"$bin/mstore" mailbox status demo INBOX
exec "$bin/mstored" --data "$MSTORE_DATA"
