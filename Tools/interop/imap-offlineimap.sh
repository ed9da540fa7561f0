#!/usr/bin/env bash
# IMAP interop: OfflineIMAP (Debian's offlineimap3) syncing INBOX and a second folder both ways
# with a local Maildir. Server from the environment (see imap_target in lib.sh); without
# IMAP_PORT, a fresh mstored.
. "$(dirname "$0")/lib.sh"
"$root/Tools/setup.sh" offlineimap3 >/dev/null 2>&1
imap_target
export work
box=oi-test
mail="$work/mail"
mkdir -p "$mail" "$work/meta"

cat > "$work/offlineimaprc" <<RC
[general]
accounts = interop
metadata = $work/meta
maxsyncaccounts = 1

[Account interop]
localrepository = near
remoterepository = far

[Repository near]
type = Maildir
localfolders = $mail
sep = /

[Repository far]
type = IMAP
remotehost = $IMAP_HOST
remoteport = $IMAP_PORT
remoteuser = $IMAP_USER
remotepass = $IMAP_PASS
ssl = no
starttls = no
folderfilter = lambda f: f in ["INBOX", "$box"]
maxconnections = 1
RC

msg() {  # msg SUBJECT: a small CRLF message
  printf 'From: Interop <interop@example.org>\r\nTo: %s@example.org\r\nSubject: %s\r\nMessage-ID: <%s.%s@interop>\r\nDate: Sun, 29 Nov 2026 12:00:00 +0000\r\n\r\nBody of %s.\r\n.leading dot\r\n' \
    "$IMAP_USER" "$1" "${1// /-}" "$RANDOM" "$1"
}
# One sync; `actions` then tells what OfflineIMAP said it did, as
# "down=N up=N flags=N deleted=N" (copies far->near, near->far, flag lines, deletion lines).
sync() {
  offlineimap -c "$work/offlineimaprc" -o -u basic >"$work/oi.out" 2>&1; local rc=$?
  cat "$work/oi.out" >>"$work/log"
  grep -qiE "^ *(ERROR|WARNING)" "$work/oi.out" && { echo "offlineimap reported a problem"; rc=1; }
  printf 'down=%s up=%s flags=%s deleted=%s\n' \
    "$(grep -c -- '-> near:' "$work/oi.out")" "$(grep -c -- '-> far:' "$work/oi.out")" \
    "$(grep -cE '^(Adding|Deleting) flag' "$work/oi.out")" "$(grep -cE '^Deleting [0-9]+ messages' "$work/oi.out")" >"$work/actions"
  echo "actions: $(cat "$work/actions")"
  return $rc
}
actions() { [ "$(cat "$work/actions")" = "$1" ] || { echo "actions $(cat "$work/actions"), expected $1"; return 1; }; }
local_file() {  # local_file FOLDER SUBJECT: the one Maildir file with that subject
  local hits; hits=$(find "$mail/$1/cur" "$mail/$1/new" -type f -exec grep -l -x "Subject: $2" {} + || true)
  [ "$(echo "$hits" | grep -c .)" -eq 1 ] || { echo "not one local file with subject $2: $hits" >&2; return 1; }
  echo "$hits"
}
# OfflineIMAP stores LF line ends locally; undo that to compare bytes.
same_as_sent() { sed 's/$/\r/' "$1" | cmp - "$2"; }
export -f msg sync actions local_file same_as_sent
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
  actions "down=5 up=0 flags=0 deleted=0"
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
  actions "down=0 up=2 flags=0 deleted=0"
  $imap state INBOX | grep -qP "^\d+\t\tlocal 1$"
  $imap state $box | grep -qP "^\d+\t\\\\Seen\tlocal 2$"
  $imap body INBOX "local 1" | grep -v "^X-OfflineIMAP: " | cmp - "$work/local-1.eml"
  test "$($imap count INBOX)" -eq 4'

check "a local flag change goes up" bash -c '
  set -e
  f=$(local_file INBOX "srv 1"); mv "$f" "${f%:2,*}:2,FS"
  sync
  actions "down=0 up=0 flags=2 deleted=0"
  $imap state INBOX | grep -qP "^\d+\t\\\\Flagged \\\\Seen\tsrv 1$"'

check "a server flag change comes down" bash -c '
  set -e
  $imap store INBOX "srv 3" +FLAGS "\\Answered"
  $imap store $box "fold 1" -FLAGS "\\Seen"
  sync
  actions "down=0 up=0 flags=2 deleted=0"
  local_file INBOX "srv 3" | grep -q ":2,R$"
  local_file $box "fold 1" | grep -q ":2,$"'

check "a local deletion expunges on the server" bash -c '
  set -e
  rm "$(local_file INBOX "srv 2")"
  sync
  actions "down=0 up=0 flags=0 deleted=1"
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
  actions "down=0 up=0 flags=0 deleted=1"
  ! local_file $box "fold 2" 2>/dev/null'

check "a second sync changes nothing, here or there" bash -c '
  set -e
  before=$($imap state INBOX; $imap state $box; $imap uidnext INBOX; $imap uidnext $box; cd "$mail" && find . -type f | sort)
  sync
  actions "down=0 up=0 flags=0 deleted=0"
  after=$($imap state INBOX; $imap state $box; $imap uidnext INBOX; $imap uidnext $box; cd "$mail" && find . -type f | sort)
  test "$before" = "$after"'

$imap drop $box >>"$work/log" 2>&1
finish
