#!/usr/bin/env bash
# A real MTA in front of mstored: Postfix from Debian, on loopback only and a non-standard port,
# with its own config and queue directories (the system's Postfix is left alone), hands local
# mail to mstored with `mailbox_transport = lmtp:inet:127.0.0.1:PORT`. Mail goes in with swaks
# over SMTP and is read back from the store.
. "$(dirname "$0")/lib.sh"
"$root/Tools/setup.sh" postfix swaks >/dev/null 2>&1

for u in alice bob; do echo secret | "$bin/mstore" user add "$u" --password-stdin >/dev/null; done
start_mstored --lmtp 127.0.0.1:0
L=$(port lmtp)
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

pf="$work/postfix"
mkdir -p "$pf/etc" "$pf/queue" "$pf/data"
chown postfix "$pf/data"
chmod 755 "$work"  # master drops privileges to the postfix user
# The SMTP listener on our port, and no chroot (the private queue has no chroot set up).
sed -E -e "s/^smtp +inet .*/127.0.0.1:$P inet n - n - - smtpd/" \
  -e 's/^([a-z0-9]+ +(unix|inet|fifo|pass) +[-yn] +[-yn] +)y /\1n /' /etc/postfix/master.cf > "$pf/etc/master.cf"
cat > "$pf/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = mta.example.org
mydomain = example.org
mydestination = example.org, localhost
mynetworks = 127.0.0.0/8
local_recipient_maps =
alias_maps =
alias_database =
biff = no
maillog_file_prefixes = $work
maillog_file = $pf/maillog
mailbox_transport = lmtp:inet:127.0.0.1:$L
CF
export pf P bin work
pfstop() { postfix -c "$pf/etc" stop >/dev/null 2>&1; }
trap pfstop EXIT

check "postfix starts on 127.0.0.1:$P" bash -c '
  set -e
  script -qec "postfix -c $pf/etc check" /dev/null
  postfix -c "$pf/etc" start
  for _ in $(seq 1 50); do python3 -c "import socket,os; socket.create_connection((\"127.0.0.1\", int(os.environ[\"P\"])), 1)" 2>/dev/null && exit 0; sleep 0.2; done
  exit 1'

check "swaks into Postfix, Postfix over LMTP into mstored" bash -c '
  set -e
  swaks --server 127.0.0.1 --port "$P" --from sender@x.example --to alice@example.org,bob@example.org \
    --header "Subject: via postfix" --silent 2
  for _ in $(seq 1 100); do
    "$bin/mstore" mailbox status bob INBOX | grep -q "messages=1 " && \
      "$bin/mstore" mailbox status alice INBOX | grep -q "messages=1 " && break
    sleep 0.1
  done
  "$bin/mstore" fetch alice INBOX 1 > "$work/pf.eml"
  grep -q "^Subject: via postfix" "$work/pf.eml"
  grep -q "with LMTP id" "$work/pf.eml"
  grep -q "^Return-Path: <sender@x.example>" "$work/pf.eml"'

check "mstore check after Postfix delivery" "$bin/mstore" check

pfstop
[ "$failed" -ne 0 ] && tail -n 20 "$pf/maillog" >> "$work/log"
finish
