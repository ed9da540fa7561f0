#!/bin/bash
# What one durable commit writes: pages and write calls per fdatasync, for the single-writer
# append benchmark and its raw-LMDB baseline (Benchmarks/, MailStoreBench), counted with strace.
# Every B-tree an append touches adds a leaf (and, in a larger tree, a branch) to each commit,
# and each run of pages that are not next to each other costs a pwrite64/writev of its own, so
# this is the figure to watch when changing what an append writes: the single-writer ratio to
# raw LMDB follows it (session 13: 19.4 pages in 13.8 calls against 5.4 in 4.8).
#
#   Tools/bench/commit-pages.sh [SECONDS]    (strace each benchmark for SECONDS, default 20)
set -euo pipefail
seconds=${1:-20}
command -v strace > /dev/null || apt-get install -y strace > /dev/null
cd "$(dirname "$0")/../../Benchmarks"
swift build -c release --product MailStoreBench > /dev/null
bin=.build/x86_64-unknown-linux-gnu/release/MailStoreBench
trace=$(mktemp)
trap 'rm -f "$trace"' EXIT
for filter in "store append 4KiB durable, 1 writers.*" "raw LMDB put 4KiB, fsync per commit \\(.*"; do
  LD_LIBRARY_PATH=$(dirname "$bin") timeout "$seconds" \
    strace -f -e trace=pwrite64,writev,fdatasync -o "$trace" "$bin" --filter "$filter" > /dev/null 2>&1 || true
  # A commit ends with the fdatasync of its pages and then LMDB's O_DSYNC write of the meta
  # page, so the writes between two fdatasyncs are one commit's (the meta page included).
  awk -v name="$filter" '
    # The wrapper keeps the file written ahead of its pages (Environment.keepReserve): a pwrite
    # of zeros, at least 64 KiB, then an fdatasync of its own, before a commit. Counted apart.
    /pwrite64\(.*"\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0/ && match($0, /= [0-9]+$/) && substr($0, RSTART + 2) + 0 >= 65536 {
        fills++; fillBytes += substr($0, RSTART + 2); fillSync = 1; next }
    /fdatasync/ { if (fillSync) { fillSync = 0; next } commits++ }
    /pwrite64|writev/ && match($0, /= [0-9]+$/) { bytes += substr($0, RSTART + 2); calls++ }
    END { if (commits == 0) { print name ": no commits traced"; exit }
          printf "%-42s %6d commits  %5.1f pages  %5.1f write calls per commit  (%d reserve fills, %.1f MB)\n",
                 name, commits, bytes / commits / 4096, calls / commits, fills, fillBytes / 1e6 }' "$trace"
done
