#!/usr/bin/env bash
# POP3 interop: Python's poplib (plain, STLS, implicit TLS), curl, fetchmail (keep and delete
# modes) and getmail6 against a real mstored.
. "$(dirname "$0")/lib.sh"

echo secret | "$bin/mstore" user add alice --password-stdin >/dev/null
deliver() { for i in $(seq 1 "$1"); do
  printf 'From: sender%s@example.org\r\nTo: alice@localhost\r\nSubject: interop %s\r\nMessage-ID: <%s.%s@interop>\r\n\r\nBody %s\r\n.leading dot\r\n' \
    "$i" "$i" "$i" "$RANDOM" "$i" | "$bin/mstore" deliver alice >/dev/null; done; }
deliver 5
start_mstored --pop3 127.0.0.1:0 --pop3s 127.0.0.1:0
P=$(port pop3); PS=$(port pop3s)

check "poplib over STLS and POP3_SSL, RETR byte-exact" python3 - "$P" "$PS" "$bin" <<'PY'
import poplib, ssl, subprocess, sys
port, sport, bindir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl._create_unverified_context()
p = poplib.POP3("127.0.0.1", port); p.stls(context=ctx)
assert "STLS" not in p.capa(), "no STLS once on TLS"
p.user("alice"); p.pass_("secret")
count, _ = p.stat(); assert count == 5, count
uidl = [l.split()[1] for l in p.uidl()[1]]
resp, lines, octets = p.retr(3)
raw = subprocess.run([bindir + "/mstore", "fetch", "alice", "INBOX", "3"], capture_output=True, check=True).stdout
assert b"\r\n".join(lines) + b"\r\n" == raw, "byte-exact RETR"
assert octets - 2 * len(lines) <= len(raw) + 2
p.quit()
s = poplib.POP3_SSL("127.0.0.1", sport, context=ctx)
s.user("alice"); s.pass_("secret")
assert [l.split()[1] for l in s.uidl()[1]] == uidl, "UIDL stable across sessions"
s.quit()
PY

check "curl LIST, UIDL, TOP, RETR byte-exact" bash -c '
  set -e
  curl -s "pop3://alice:secret@127.0.0.1:'"$P"'/" | grep -c "^[0-9]" | grep -qx 5
  curl -s -X UIDL "pop3://alice:secret@127.0.0.1:'"$P"'/" | grep -q "^1 "
  curl -s -X "TOP 2 0" "pop3://alice:secret@127.0.0.1:'"$P"'/" | grep -q "^Subject: interop 2"
  curl -s "pop3://alice:secret@127.0.0.1:'"$P"'/4" > "'"$work"'/curl4.eml"
  "'"$bin"'/mstore" fetch alice INBOX 4 | cmp - "'"$work"'/curl4.eml"'

check "curl DELE takes effect at QUIT" bash -c '
  set -e
  curl -s -X DELE -I "pop3://alice:secret@127.0.0.1:'"$P"'/5"
  "'"$bin"'/mstore" mailbox status alice INBOX | grep -q "messages=4 "'

mkdir -p "$work/fm"
cat > "$work/fetchmailrc" <<RC
set no bouncemail
poll 127.0.0.1 service $P protocol pop3 uidl
  user alice password secret is root here
  mda "cat >> $work/fm/mbox"
  sslproto '' 
RC
chmod 600 "$work/fetchmailrc"
check "fetchmail keep mode fetches all and tracks UIDL" bash -c '
  set -e
  fetchmail -f "'"$work"'/fetchmailrc" -i "'"$work"'/fm/ids" --nosslcertck -k -v >>"'"$work"'/log" 2>&1
  test "$(grep -c "^Subject: interop" "'"$work"'/fm/mbox")" -eq 4
  # A second run fetches nothing new (UIDL tracking); fetchmail exits 1 for "no mail".
  fetchmail -f "'"$work"'/fetchmailrc" -i "'"$work"'/fm/ids" -k >>"'"$work"'/log" 2>&1 || test $? -eq 1
  test "$(grep -c "^Subject: interop" "'"$work"'/fm/mbox")" -eq 4
  "'"$bin"'/mstore" mailbox status alice INBOX | grep -q "messages=4 "'

check "fetchmail delete mode empties the maildrop" bash -c '
  set -e
  fetchmail -f "'"$work"'/fetchmailrc" -i "'"$work"'/fm/ids2" -a >>"'"$work"'/log" 2>&1
  "'"$bin"'/mstore" mailbox status alice INBOX | grep -q "messages=0 "'

deliver 3
mkdir -p "$work/gm/Maildir/"{cur,new,tmp} "$work/gm/rc"
owner=""; [ "$(id -u)" -eq 0 ] && { owner="user = nobody"; chown -R nobody "$work/gm"; chmod 755 "$work"; }
cat > "$work/gm/rc/getmailrc" <<RC
[retriever]
type = SimplePOP3Retriever
server = 127.0.0.1
port = $P
username = alice
password = secret
[destination]
type = Maildir
path = $work/gm/Maildir/
$owner
[options]
read_all = true
delete = false
RC
check "getmail6 into a Maildir" bash -c '
  set -e
  getmail --getmaildir "'"$work"'/gm/rc" --rcfile getmailrc >>"'"$work"'/log" 2>&1
  test "$(ls "'"$work"'/gm/Maildir/new" | wc -l)" -eq 3'

finish
