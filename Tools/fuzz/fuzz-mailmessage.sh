#!/bin/sh
# Builds the MailMessage libFuzzer harness from the module sources and runs it.
#   Tools/fuzz/fuzz-mailmessage.sh [seconds]     (default 120)
# Output: .build-fuzz/fuzz-mailmessage (binary), .build-fuzz/corpus (seeds and finds), crash-* files.
set -eu
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN=${1:-120}
OUT=.build-fuzz
mkdir -p "$OUT/corpus" "$OUT/crashes"

# The C module the sources import (CMemmem), built beside them with its own module map.
mkdir -p "$OUT/cmemmem"
cp Sources/CMemmem/include/cmemmem.h "$OUT/cmemmem/"
printf 'module CMemmem { header "cmemmem.h" export * }\n' > "$OUT/cmemmem/module.modulemap"
clang -O2 -c Sources/CMemmem/cmemmem.c -I Sources/CMemmem/include -o "$OUT/cmemmem/cmemmem.o"

# One module: the sources plus the harness (libFuzzer provides main, hence -parse-as-library).
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -use-ld=lld -module-name MailMessage \
    -I "$OUT/cmemmem" "$OUT/cmemmem/cmemmem.o" \
    Sources/MailMessage/*.swift Tools/fuzz/FuzzMailMessage.swift -o "$OUT/fuzz-mailmessage"

# Generated seed corpus: small messages covering the parser's features.
seed() { printf '%b' "$2" > "$OUT/corpus/seed-$1"; }
seed plain 'From: A <a@x>\r\nTo: b@y, Team: c@z;\r\nSubject: =?utf-8?q?caf=C3=A9?= Re: hi\r\nDate: Tue, 1 Jul 2003 10:52:37 +0200\r\nMessage-ID: <m@x>\r\n\r\nbody\r\n'
seed lf 'Subject: lf only\n\nbody\n'
seed multipart 'Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9\r\n--b\r\nContent-Type: application/pdf; name*0*=utf-8%27%27a%C3%A9; name*1=.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\nepilogue'
seed nested 'Content-Type: multipart/mixed; boundary=abc\r\n\r\n--abc\r\nContent-Type: multipart/alternative; boundary=abcdef\r\n\r\n--abcdef\r\n\r\nplain\r\n--abcdef\r\nContent-Type: text/html\r\n\r\n<p>x &amp; y</p>\r\n--abcdef--\r\n--abc\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner\r\n--abc'
seed digest 'Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: one\r\n\r\n1\r\n--d--\r\n'
seed html 'Content-Type: text/html; charset=koi8-r\r\n\r\n<style>a{}</style><b>\320\322</b>&#233;'

SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 "$OUT/fuzz-mailmessage" "$OUT/corpus" \
    -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$OUT/crashes/" -print_final_stats=1
