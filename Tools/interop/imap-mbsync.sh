#!/usr/bin/env bash
# IMAP interop: mbsync (isync) syncing INBOX and a second folder both ways with a local Maildir.
# Server from the environment (see imap_target in lib.sh); without IMAP_PORT, a fresh mstored.
# mbsync logs in with AUTHENTICATE PLAIN and an initial response (SASL-IR).
. "$(dirname "$0")/lib.sh"
"$root/Tools/setup.sh" isync >/dev/null 2>&1
imap_target
export work
box=mbsync-test
mail="$work/mail"
mkdir -p "$mail"

cat > "$work/mbsyncrc" <<RC
IMAPAccount server
Host $IMAP_HOST
Port $IMAP_PORT
User $IMAP_USER
Pass $IMAP_PASS
SSLType None
AuthMechs PLAIN

IMAPStore far
Account server

MaildirStore near
Path $mail/
Inbox $mail/INBOX
SubFolders Verbatim

Channel both
Far :far:
Near :near:
Patterns INBOX $box
Create Both
Remove None
Expunge Both
Sync All
SyncState *
RC

msg() {  # msg SUBJECT: a small CRLF message
  printf 'From: Interop <interop@example.org>\r\nTo: %s@example.org\r\nSubject: %s\r\nMessage-ID: <%s.%s@interop>\r\nDate: Sun, 29 Nov 2026 12:00:00 +0000\r\n\r\nBody of %s.\r\n.leading dot\r\n' \
    "$IMAP_USER" "$1" "${1// /-}" "$RANDOM" "$1"
}
# mbsync prints its counters (C: channels B: boxes F: far +new *flags #deleted N: near ...) only to
# a terminal, so it runs under script(1); `counters` leaves them as "F+1*0#0 N+0*0#0".
sync() {
  script -qec "mbsync -c $work/mbsyncrc both" /dev/null >"$work/mbsync.out" 2>&1; local rc=$?
  tr '\r' '\n' <"$work/mbsync.out" | tee -a "$work/log" | grep '^C: ' | tail -n 1 |
    sed -E 's|.*F: \+([0-9]+)/[0-9]+ \*([0-9]+)/[0-9]+ #([0-9]+)/[0-9]+ +N: \+([0-9]+)/[0-9]+ \*([0-9]+)/[0-9]+ #([0-9]+)/[0-9]+.*|F+\1*\2#\3 N+\4*\5#\6|' \
    >"$work/counters"
  echo "counters: $(cat "$work/counters")"
  return $rc
}
counters() { [ "$(cat "$work/counters")" = "$1" ] || { echo "counters $(cat "$work/counters"), expected $1"; return 1; }; }
local_file() {  # local_file FOLDER SUBJECT: the one Maildir file with that subject
  local hits; hits=$(find "$mail/$1/cur" "$mail/$1/new" -type f -exec grep -l -x "Subject: $2" {} + || true)
  [ "$(echo "$hits" | grep -c .)" -eq 1 ] || { echo "not one local file with subject $2: $hits" >&2; return 1; }
  echo "$hits"
}
# mbsync stores LF line ends locally and adds an X-TUID header; undo both to compare bytes.
same_as_sent() {  # same_as_sent FILE ORIGINAL
  grep -v '^X-TUID: ' "$1" | sed 's/$/\r/' | cmp - "$2"
}
export -f msg sync counters local_file same_as_sent
export mail box imap

check "server side reset and seeded" bash -c '
  set -e
  $imap reset INBOX $box
  for s in "srv 1" "srv 2" "srv 3" "fold 1" "fold 2"; do msg "$s" > "$work/${s// /-}.eml"; done
  $imap append INBOX "$work/srv-1.eml"
  $imap append INBOX "$work/srv-2.eml" "\\Flagged"
  $imap append INBOX "$work/srv-3.eml"
  $imap append $box "$work/fold-1.eml" "\\Seen"
  $imap append $box "$work/fold-2.eml"'

check "first sync: 5 messages arrive locally, byte-exact, flags mapped" bash -c '
  set -e
  sync
  counters "F+0*0#0 N+5*0#0"
  test "$(ls "$mail/INBOX/new" "$mail/INBOX/cur" | grep -c ,U=)" -eq 3
  test "$(ls "$mail/$box/new" "$mail/$box/cur" | grep -c ,U=)" -eq 2
  for s in "srv 1" "srv 2" "srv 3"; do same_as_sent "$(local_file INBOX "$s")" "$work/${s// /-}.eml"; done
  for s in "fold 1" "fold 2"; do same_as_sent "$(local_file $box "$s")" "$work/${s// /-}.eml"; done
  local_file INBOX "srv 2" | grep -q ":2,F$"
  local_file $box "fold 1" | grep -q ":2,S$"
  local_file INBOX "srv 1" | grep -q ":2,$"'

check "a local new message goes up (INBOX and $box)" bash -c '
  set -e
  msg "local 1" > "$work/local-1.eml"; msg "local 2" > "$work/local-2.eml"
  tr -d "\r" < "$work/local-1.eml" > "$mail/INBOX/new/1700000000.1.interop"
  tr -d "\r" < "$work/local-2.eml" > "$mail/$box/cur/1700000000.2.interop:2,S"
  sync
  counters "F+2*0#0 N+0*0#0"
  $imap state INBOX | grep -qP "^\d+\t\tlocal 1$"
  $imap state $box | grep -qP "^\d+\t\\\\Seen\tlocal 2$"
  $imap body INBOX "local 1" | grep -v "^X-TUID: " | cmp - "$work/local-1.eml"
  test "$($imap count INBOX)" -eq 4'

check "a local flag change goes up" bash -c '
  set -e
  f=$(local_file INBOX "srv 1"); mv "$f" "${f%:2,*}:2,FS"
  sync
  counters "F+0*1#0 N+0*0#0"
  $imap state INBOX | grep -qP "^\d+\t\\\\Flagged \\\\Seen\tsrv 1$"'

check "a server flag change comes down" bash -c '
  set -e
  $imap store INBOX "srv 3" +FLAGS "\\Answered"
  $imap store $box "fold 1" -FLAGS "\\Seen"
  sync
  counters "F+0*0#0 N+0*2#0"
  local_file INBOX "srv 3" | grep -q ":2,R$"
  local_file $box "fold 1" | grep -q ":2,$"'

check "a local deletion expunges on the server" bash -c '
  set -e
  rm "$(local_file INBOX "srv 2")"
  sync
  counters "F+0*1#0 N+0*0#0"  # mbsync counts the deletion as a flag change (\\Deleted), then expunges
  ! $imap state INBOX | grep -q "srv 2"
  test "$($imap count INBOX)" -eq 3'

check "a server expunge comes down" bash -c '
  set -e
  $imap store $box "fold 2" +FLAGS "\\Deleted"
  python3 -c "
import imaplib, os
m = imaplib.IMAP4(os.environ[\"IMAP_HOST\"], int(os.environ[\"IMAP_PORT\"]))
m.login(os.environ[\"IMAP_USER\"], os.environ[\"IMAP_PASS\"]); m.select(\"$box\"); m.expunge(); m.logout()"
  sync
  counters "F+0*0#0 N+0*1#0"
  ! local_file $box "fold 2" 2>/dev/null'

check "a second sync changes nothing, here or there" bash -c '
  set -e
  before=$($imap state INBOX; $imap state $box; $imap uidnext INBOX; $imap uidnext $box; cd "$mail" && find . -type f ! -name ".mbsync*" | sort)
  sync
  counters "F+0*0#0 N+0*0#0"
  after=$($imap state INBOX; $imap state $box; $imap uidnext INBOX; $imap uidnext $box; cd "$mail" && find . -type f ! -name ".mbsync*" | sort)
  test "$before" = "$after"'

$imap drop $box >>"$work/log" 2>&1
finish
