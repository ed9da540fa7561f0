#!/usr/bin/env bash
# LMTP and SMTP interop: swaks over LMTP, Python's smtplib.LMTP and smtplib.SMTP (with
# STARTTLS), and the kill -9 crash test (lmtp-crash.py) against a real mstored.
. "$(dirname "$0")/lib.sh"

for u in alice bob carol; do echo secret | "$bin/mstore" user add "$u" --password-stdin >/dev/null; done
printf 'local_domains = ["example.org"]\n' > "$work/mstored.toml"
start_mstored --lmtp 127.0.0.1:0 --smtp 127.0.0.1:0 --config "$work/mstored.toml"
L=$(port lmtp); S=$(port smtp)
export L S bin work

check "swaks LMTP: 3 deliveries" bash -c '
  set -e
  for i in 1 2 3; do
    swaks --protocol LMTP --server 127.0.0.1 --port "$L" --from sender@x.example --to alice@example.org \
      --header "Subject: swaks $i" --silent 2
  done
  "$bin/mstore" mailbox status alice INBOX | grep -q "messages=3 "
  "$bin/mstore" fetch alice INBOX 2 | grep -q "^Subject: swaks 2"
  "$bin/mstore" fetch alice INBOX 2 | head -n 3 | grep -q "^Delivered-To: alice@example.org"'

check "swaks LMTP: one transaction, 2 recipients, a reply each" bash -c '
  set -e
  swaks --protocol LMTP --server 127.0.0.1 --port "$L" --from sender@x.example \
    --to bob@example.org,carol@example.org --header "Subject: two" > "$work/swaks2.out"
  grep -q "250 2.0.0 <bob@example.org> Delivered" "$work/swaks2.out"
  grep -q "250 2.0.0 <carol@example.org> Delivered" "$work/swaks2.out"
  "$bin/mstore" mailbox status bob INBOX | grep -q "messages=1 "
  "$bin/mstore" mailbox status carol INBOX | grep -q "messages=1 "'

check "swaks LMTP: unknown recipient refused with 550 5.1.1" bash -c '
  ! swaks --protocol LMTP --server 127.0.0.1 --port "$L" --from sender@x.example --to nobody@example.org \
    > "$work/swaks3.out"
  grep -q "550 5.1.1" "$work/swaks3.out"'

check "smtplib.LMTP: per-recipient replies after DATA" python3 - <<'PY'
import os, smtplib, subprocess
l = smtplib.LMTP("127.0.0.1", int(os.environ["L"]))
code, caps = l.ehlo("python.example")  # smtplib.LMTP sends LHLO
assert code == 250 and b"CHUNKING" in caps and b"PIPELINING" in caps, caps
assert l.mail("p@x.example")[0] == 250
assert l.rcpt("alice@example.org")[0] == 250
assert l.rcpt("bob@example.org")[0] == 250
assert l.rcpt("nobody@example.org")[0] == 550
code, text = l.data(b"Subject: smtplib lmtp\r\n\r\nbody\r\n.dot\r\n")  # smtplib dot-stuffs it
assert code == 250 and b"alice" in text, (code, text)
code, text = l.getreply()
assert code == 250 and b"bob" in text, (code, text)
l.quit()
raw = subprocess.run([os.environ["bin"] + "/mstore", "fetch", "bob", "INBOX", "2"], capture_output=True, check=True).stdout
assert raw.endswith(b"\r\n\r\nbody\r\n.dot\r\n") and b"Subject: smtplib lmtp" in raw, raw
PY

check "smtplib.SMTP: STARTTLS, local domain, relay refused" python3 - <<'PY'
import os, smtplib, ssl, subprocess
s = smtplib.SMTP("127.0.0.1", int(os.environ["S"]))
s.starttls(context=ssl._create_unverified_context())
refused = s.sendmail("p@x.example", ["carol@example.org", "nobody@example.org"], b"Subject: smtplib smtp\r\n\r\nhi\r\n")
assert list(refused) == ["nobody@example.org"] and refused["nobody@example.org"][0] == 550, refused
try:
    s.sendmail("p@x.example", ["alice@elsewhere.example"], b"Subject: relay\r\n\r\nno\r\n")
    raise SystemExit("relayed")
except smtplib.SMTPRecipientsRefused as e:
    assert e.recipients["alice@elsewhere.example"][0] == 550
    assert e.recipients["alice@elsewhere.example"][1].startswith(b"5.7.1"), e.recipients
s.quit()
raw = subprocess.run([os.environ["bin"] + "/mstore", "fetch", "carol", "INBOX", "2"], capture_output=True, check=True).stdout
assert b"Subject: smtplib smtp" in raw and b" with ESMTPS id " in raw, raw
PY

check "mstore check after the deliveries" "$bin/mstore" check

check "kill -9 crash test: 8 LMTP clients, 5 rounds" python3 "$(dirname "$0")/lmtp-crash.py" "$bin" "$work/crash-data" 5

finish
