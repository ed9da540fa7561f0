#!/bin/sh
# Builds the IMAP command parser libFuzzer harness and runs it.
#   Tools/fuzz/fuzz-imap-parser.sh [seconds]     (default 120)
# Output under .build-fuzz/imap-parser: fuzz-imap-parser (binary), corpus (seeds and finds),
# crashes/ (crashing inputs).
set -eu
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN=${1:-120}
OUT=.build-fuzz/imap-parser
mkdir -p "$OUT/corpus" "$OUT/crashes" "$OUT/modules"

# MailMessage as its own module (the parser imports it for SectionSpec and Charset).
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name MailMessage \
    -emit-module -emit-module-path "$OUT/modules/MailMessage.swiftmodule" \
    -emit-library -static Sources/MailMessage/*.swift -o "$OUT/modules/libMailMessage.a"

# The parser's sources plus the harness, as one module (libFuzzer provides main, hence
# -parse-as-library). Only these files: the rest of IMAPProtocol needs NIOCore.
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -use-ld=lld -module-name IMAPProtocol \
    -I "$OUT/modules" -L "$OUT/modules" -lMailMessage \
    Sources/IMAPProtocol/Command.swift Sources/IMAPProtocol/IMAPLimits.swift \
    Sources/IMAPProtocol/CommandParser*.swift Sources/IMAPProtocol/CommandAssembler.swift \
    Tools/fuzz/FuzzIMAPParser.swift -o "$OUT/fuzz-imap-parser"

# Seed corpus from the parser's test fixtures: one command per seed, and pipelined streams.
seed() { printf '%b' "$2" > "$OUT/corpus/seed-$1"; }
seed login 'a1 LOGIN {3}\r\nbob {6+}\r\nsecret'
seed login-quoted 'a login "bob smith" "p\\"a\\\\ss"'
seed auth 'a AUTHENTICATE PLAIN AGJvYgBwYXNz'
seed id 'a ID ("name" "mutt" "version" NIL)'
seed enable 'a ENABLE CONDSTORE QRESYNC UTF8=ACCEPT'
seed select 'a SELECT INBOX (CONDSTORE)'
seed qresync 'a EXAMINE INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976:29979)))'
seed create 'a CREATE "Sent Mail" (USE (\\Sent \\Junk))'
seed rename 'a RENAME old "new name"'
seed list 'a LIST "" *'
seed list-ext 'a LIST (SUBSCRIBED RECURSIVEMATCH SPECIAL-USE) "" (INBOX* "Sent*") RETURN (CHILDREN SUBSCRIBED SPECIAL-USE STATUS (MESSAGES UNSEEN))'
seed lsub 'a LSUB "" %'
seed status 'a STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT HIGHESTMODSEQ APPENDLIMIT)'
seed append 'a APPEND Drafts (\\Seen \\Draft $Forwarded) "17-Jul-1996 02:44:25 -0700" {19}\r\nSubject: hi\r\n\r\nbody'
seed multiappend 'a APPEND x (\\Seen) {1}\r\nA {2+}\r\nBC ~{3}\r\nD\000E'
seed search 'a SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith" OR (TO bob CC carol) HEADER Message-ID <a@b>'
seed search-ret 'a UID SEARCH RETURN (MIN MAX COUNT SAVE) CHARSET UTF-8 TEXT {6}\r\nXXXXXX LARGER 100 MODSEQ "/flags/\\\\draft" all 5 OLDER 60 2,4:* $'
seed search-keys 'a SEARCH ANSWERED DELETED DRAFT FLAGGED SEEN UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN NEW OLD RECENT KEYWORD $X UNKEYWORD Y BEFORE "01-Jan-2000" SENTON 3-Apr-2002 UID 1:*'
seed fetch 'a UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS.NOT (Received "X-Spam")]<0.1024>) (CHANGEDSINCE 12345 VANISHED)'
seed fetch-sections 'a FETCH 1 (BODY[] BODY[TEXT] BODY[1.2.3] BODY[1.MIME] BODY[4.HEADER.FIELDS (A)] BINARY.PEEK[1]<0.10> BINARY.SIZE[3] PREVIEW (LAZY) EMAILID THREADID SAVEDATE MODSEQ)'
seed fetch-macro 'a FETCH 1:5 FULL'
seed store 'a STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)'
seed store-bare 'a UID STORE 1 -FLAGS \\Seen \\Flagged'
seed copy 'a UID MOVE 1:* Trash'
seed expunge 'a UID EXPUNGE 3000:3002'
seed sort 'a UID SORT RETURN (MIN MAX ALL COUNT SAVE) (REVERSE DATE SUBJECT DISPLAYFROM cc) "utf-8" UNSEEN FROM {5}\r\nsmith $'
seed thread 'a THREAD REFERENCES US-ASCII OR SUBJECT lunch (SINCE 1-Feb-1994 NOT 2:4)'
seed stream 'a1 LOGIN {3}\r\nbob {6+}\r\nsecret\r\na2 SELECT "INBOX"\r\na3 APPEND INBOX {19}\r\nSubject: hi\r\n\r\nbody\r\na4 SEARCH SUBJECT "{5}" TEXT {5}\r\nhe}lo\r\na5 LOGIN {99999999999}\r\na6 NOOP\r\n'

SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 "$OUT/fuzz-imap-parser" "$OUT/corpus" \
    -max_total_time="$SECONDS_TO_RUN" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$OUT/crashes/" -print_final_stats=1
