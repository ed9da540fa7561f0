#!/usr/bin/env bash
# IMAP interop: mutt. Batch-mode sending with `record` in an IMAP Sent folder (a sendmail stub
# takes the message, so nothing leaves), then mutt on a terminal (under script(1)) opening INBOX,
# saving a message to another folder, flagging one and syncing (UID COPY, UID STORE, EXPUNGE).
# Server from the environment (see imap_target in lib.sh); without IMAP_PORT, a fresh mstored.
. "$(dirname "$0")/lib.sh"
"$root/Tools/setup.sh" mutt >/dev/null 2>&1
imap_target
box=mutt-copy
export work box imap

cat > "$work/sendmail" <<STUB
#!/bin/sh
printf '%s\n' "\$*" > "$work/sendmail.args"
cat > "$work/sendmail.eml"
STUB
chmod +x "$work/sendmail"
cat > "$work/muttrc" <<RC
set sendmail="$work/sendmail"
set from="Interop <interop@example.org>"
set use_from=yes
set folder="imap://$IMAP_USER@$IMAP_HOST:$IMAP_PORT/"
set spoolfile="+INBOX"
set record="imap://$IMAP_USER@$IMAP_HOST:$IMAP_PORT/Sent"
set imap_user="$IMAP_USER"
set imap_pass="$IMAP_PASS"
set ssl_starttls=no
set ssl_force_tls=no
set copy=yes
set header_cache=""
set message_cachedir=""
set quit=yes
set confirmappend=no
set delete=yes
set move=no
set mark_old=no
set sort=date
RC

check "server side reset and seeded" bash -c '
  set -e
  $imap empty Sent
  $imap reset INBOX $box
  for i in 1 2 3; do
    printf "From: Interop <interop@example.org>\r\nSubject: inbox %s\r\nMessage-ID: <inbox.%s.%s@interop>\r\nDate: Sun, 29 Nov 2026 12:0%s:00 +0000\r\n\r\nBody %s\r\n" \
      $i $i $RANDOM $i $i > "$work/in$i.eml"
    $imap append INBOX "$work/in$i.eml"
  done'

check "mutt batch send hands the message to sendmail" bash -c '
  set -e
  echo "Hello from mutt, in batch mode." |
    timeout 60 mutt -n -F "$work/muttrc" -s "mutt batch send" -- rcpt@example.org
  grep -q "rcpt@example.org" "$work/sendmail.args"
  grep -qx "Subject: mutt batch send" "$work/sendmail.eml"
  grep -qx "Hello from mutt, in batch mode." "$work/sendmail.eml"'

check "mutt record= saved a copy in the IMAP Sent folder" bash -c '
  set -e
  test "$($imap count Sent)" -eq 1
  $imap state Sent | grep -qP "^\d+\t\\\\Seen\tmutt batch send$"
  $imap body Sent "mutt batch send" | tr -d "\r" > "$work/fcc.eml"
  id=$(grep -i "^Message-ID:" "$work/sendmail.eml")
  test -n "$id" && grep -qxF "$id" "$work/fcc.eml"
  grep -qx "Hello from mutt, in batch mode." "$work/fcc.eml"'

# On a terminal: find "inbox 2", save it to $box (mutt then marks it deleted and moves on to
# "inbox 3"), flag "inbox 3", sync (expunges "inbox 2") and quit.
check "mutt opens INBOX, saves to another folder, flags, syncs" bash -c '
  set -e
  TERM=xterm timeout 60 script -qec "mutt -n -F $work/muttrc -f =INBOX -e '\''push \"<search>inbox 2<enter><save-message>=$box<enter><flag-message><sync-mailbox><quit>\"'\''" \
    /dev/null > "$work/screen.out"
  $imap state INBOX | cut -f2- > "$work/inbox.state"
  printf "\tinbox 1\n\\\\Flagged\tinbox 3\n" | diff - "$work/inbox.state"
  $imap state $box | grep -qP "^\d+\t\tinbox 2$"
  $imap body $box "inbox 2" | cmp - "$work/in2.eml"'

$imap drop $box >>"$work/log" 2>&1
finish
