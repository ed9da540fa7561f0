#!/usr/bin/env bash
# IMAP interop: curl's IMAP client (upload/APPEND, LIST, UID FETCH byte-exact, MIME sections,
# partial fetch, SEARCH URLs and custom requests: STORE, UID SEARCH, EXAMINE, STATUS).
# Server from the environment (see imap_target in lib.sh); without IMAP_PORT, a fresh mstored.
# curl logs in with AUTHENTICATE PLAIN and an initial response, and SELECTs the URL's mailbox.
. "$(dirname "$0")/lib.sh"
"$root/Tools/setup.sh" curl >/dev/null 2>&1
imap_target
box=curl-test
url="imap://$IMAP_USER:$IMAP_PASS@$IMAP_HOST:$IMAP_PORT"
export work box url imap

printf 'From: Curl <curl@example.org>\r\nTo: %s@example.org\r\nSubject: curl multipart\r\nMessage-ID: <curl.1@interop>\r\nDate: Sun, 29 Nov 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\npreamble\r\n--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nfirst part\r\n.leading dot\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQ==\r\n--b1--\r\n' \
  "$IMAP_USER" > "$work/multipart.eml"
printf 'From: Curl <curl@example.org>\r\nSubject: curl plain\r\nMessage-ID: <curl.2@interop>\r\n\r\nJust text.\r\n' > "$work/plain.eml"
uid_of() { $imap state $box | awk -F'\t' -v s="$1" '$3 == s { print $1 }'; }
export -f uid_of

check "server side reset" $imap reset $box

check "curl upload (APPEND) twice" bash -c '
  set -e
  curl -sS -T "$work/multipart.eml" "$url/$box"
  curl -sS -T "$work/plain.eml" "$url/$box"
  test "$($imap count $box)" -eq 2
  $imap state $box | grep -qP "^\d+\t\\\\Seen\tcurl multipart$"  # curl appends with (\Seen)'

check "curl LIST shows the mailboxes" bash -c '
  set -e
  curl -sS "$url/" | tr -d "\r" > "$work/list.out"
  grep -qE "^\* LIST \([^)]*\) \"/\" \"?INBOX\"?$" "$work/list.out"
  grep -qE "^\* LIST \([^)]*\) \"/\" \"?$box\"?$" "$work/list.out"'

check "curl UID FETCH (;UID=) byte-exact" bash -c '
  set -e
  curl -sS "$url/$box;UID=$(uid_of "curl multipart")" | cmp - "$work/multipart.eml"
  curl -sS "$url/$box;UID=$(uid_of "curl plain")" | cmp - "$work/plain.eml"'

check "curl FETCH by sequence number (;MAILINDEX=2) byte-exact" bash -c '
  curl -sS "$url/$box;MAILINDEX=2" | cmp - "$work/plain.eml"'

check "curl MIME parts (;SECTION=1, ;SECTION=2, ;SECTION=HEADER)" bash -c '
  set -e
  u=$(uid_of "curl multipart")
  test "$(curl -sS "$url/$box;UID=$u;SECTION=1" | od -c)" = "$(printf "first part\r\n.leading dot" | od -c)"
  test "$(curl -sS "$url/$box;UID=$u;SECTION=2")" = "AAECAwQFBgcICQ=="
  curl -sS "$url/$box;UID=$u;SECTION=HEADER" | cmp - <(sed -n "1,/^\r$/p" "$work/multipart.eml")'

check "curl partial fetch (;PARTIAL=6.5)" bash -c '
  test "$(curl -sS "$url/$box;UID=$(uid_of "curl plain");PARTIAL=6.5")" = "Curl "'

check "curl STORE -FLAGS / +FLAGS \\Seen (custom request)" bash -c '
  set -e
  curl -sS -X "STORE 1 -FLAGS \\Seen" "$url/$box" > "$work/store1.out"
  grep -qE "^\* 1 FETCH \((.* )?FLAGS \(\)" "$work/store1.out"  # other items (UID) may come along
  $imap state $box | grep -qP "^\d+\t\tcurl multipart$"
  curl -sS -X "STORE 1 +FLAGS \\Seen" "$url/$box" > "$work/store2.out"
  grep -qE "^\* 1 FETCH \((.* )?FLAGS \(\\\\Seen\)" "$work/store2.out"
  $imap state $box | grep -qP "^\d+\t\\\\Seen\tcurl multipart$"'

check "curl SEARCH URL (?SUBJECT ...)" bash -c '
  set -e
  curl -sS "$url/$box?SUBJECT%20multipart" | tr -d "\r" | grep -qx "\* SEARCH 1"
  curl -sS "$url/$box?SUBJECT%20nothing-matches" | tr -d "\r" | grep -qx "\* SEARCH"
  curl -sS "$url/$box?OR%20SUBJECT%20plain%20FROM%20nobody" | tr -d "\r" | grep -qx "\* SEARCH 2"'

check "curl UID SEARCH (custom request)" bash -c '
  set -e
  curl -sS -X "UID SEARCH SUBJECT plain" "$url/$box" | tr -d "\r" | grep -qx "\* SEARCH $(uid_of "curl plain")"
  curl -sS -X "UID SEARCH ALL" "$url/$box" | tr -d "\r" |
    grep -qx "\* SEARCH $(uid_of "curl multipart") $(uid_of "curl plain")"'

check "curl UID FETCH (custom request): FLAGS and RFC822.SIZE" bash -c '
  set -e
  curl -sS -X "UID FETCH $(uid_of "curl plain") (FLAGS RFC822.SIZE)" "$url/$box" > "$work/fetch.out"
  grep -qE "RFC822.SIZE $(wc -c < "$work/plain.eml")[ )]" "$work/fetch.out"
  grep -qE "FLAGS \(\\\\Seen\)" "$work/fetch.out"'

check "curl EXAMINE (custom request) is read-only and counts" bash -c '
  set -e
  curl -sS -X "EXAMINE $box" "$url/" | tr -d "\r" > "$work/examine.out"
  grep -qx "\* 2 EXISTS" "$work/examine.out"
  grep -qE "^\* OK \[UIDVALIDITY [0-9]+\]" "$work/examine.out"
  grep -qE "^\* OK \[UIDNEXT $(( $(uid_of "curl plain") + 1 ))\]" "$work/examine.out"
  grep -qE "^\* OK \[PERMANENTFLAGS \(\)\]" "$work/examine.out"'

check "curl STATUS (custom request)" bash -c '
  curl -sS -X "STATUS $box (MESSAGES UIDNEXT)" "$url/" | tr -d "\r" |
    grep -qE "^\* STATUS \"?$box\"? \((MESSAGES 2 UIDNEXT [0-9]+|UIDNEXT [0-9]+ MESSAGES 2)\)$"'

$imap drop $box >>"$work/log" 2>&1
finish
