#!/usr/bin/env bash
# Installs the Debian packages mstore needs to build and test, when they are missing.
# Usage: Tools/setup.sh [extra-package ...]
set -euo pipefail
need=(liblmdb-dev libargon2-dev libcrypt-dev zlib1g-dev pkg-config "$@")
missing=()
for p in "${need[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
