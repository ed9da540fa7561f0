#!/usr/bin/env bash
# The main job: installs what is missing, builds, opens the default store (./mstore-data or
# $MSTORE_DATA) with a demo user, and runs mstored in the foreground (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh openssl
swift build 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)
export MSTORE_DATA="${MSTORE_DATA:-$PWD/mstore-data}"
if ! "$bin/mstore" user list | grep -qx demo; then
  echo demo | "$bin/mstore" user add demo --password-stdin
  printf 'From: mstore <postmaster@localhost>\r\nTo: demo@localhost\r\nSubject: Welcome to mstore\r\n\r\nThis store is ready.\r\n' \
    | "$bin/mstore" deliver demo
fi
# A self-signed certificate on first run, for STLS and POP3S.
tls="$MSTORE_DATA/tls"
if [ ! -f "$tls/cert.pem" ]; then
  mkdir -p "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 3650 \
    -keyout "$tls/key.pem" -out "$tls/cert.pem" >/dev/null 2>&1
  chmod 600 "$tls/key.pem"
fi
cat <<TXT
store:  $MSTORE_DATA
user:   demo   password: demo
IMAP:   127.0.0.1:1143 (STARTTLS offered), IMAPS: 127.0.0.1:1993 (self-signed certificate)
POP3:   127.0.0.1:1110 (STLS offered), POP3S: 127.0.0.1:1995 (self-signed certificate)
LMTP:   127.0.0.1:2424
try:    curl imap://demo:demo@127.0.0.1:1143/INBOX -X 'FETCH 1:* (FLAGS ENVELOPE)'
        mutt -f imap://demo@127.0.0.1:1143/INBOX
        curl pop3://demo:demo@127.0.0.1:1110/1
        python3 -c "import poplib; p=poplib.POP3('127.0.0.1',1110); p.user('demo'); p.pass_('demo'); print(p.stat())"
        python3 -c "import smtplib; smtplib.LMTP('127.0.0.1',2424).sendmail('me@x', ['demo'], b'Subject: hi\r\n\r\nhello\r\n')"
TXT
"$bin/mstore" mailbox status demo INBOX
exec "$bin/mstored" --data "$MSTORE_DATA" --imap 127.0.0.1:1143 --imaps 127.0.0.1:1993 --pop3 127.0.0.1:1110 --pop3s 127.0.0.1:1995 --lmtp 127.0.0.1:2424 \
  --tls-cert "$tls/cert.pem" --tls-key "$tls/key.pem"
