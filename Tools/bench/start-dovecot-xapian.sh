#!/bin/bash
# Starts a second Dovecot 2.3 (Debian's) with full-text search through dovecot-fts-xapian, for
# the search benchmark: IMAP on 127.0.0.1:11143 only, users xap1..xap5 (password 'pass'),
# mdbox mail and Xapian indexes under /tmp/peer-xapian. Idempotent; needs root.
set -eu
dir=/tmp/peer-xapian
if [ ! -e /usr/lib/dovecot/modules/lib21_fts_xapian_plugin.so ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq dovecot-imapd dovecot-fts-xapian >/dev/null 2>&1 || { apt-get update -qq; apt-get install -y -qq dovecot-imapd dovecot-fts-xapian >/dev/null; }
fi
mkdir -p $dir/run $dir/state $dir/mail
chmod 777 $dir/mail
: > $dir/users
for i in 1 2 3 4 5; do echo "xap$i:{PLAIN}pass::::::" >> $dir/users; done
cat > $dir/dovecot.conf <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $dir/run
state_dir = $dir/state
instance_name = peer-xapian
log_path = $dir/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = mdbox:~/mdbox
mail_plugins = \$mail_plugins fts fts_xapian
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $dir/users
}
userdb {
  driver = passwd-file
  args = username_format=%n $dir/users
  default_fields = uid=nobody gid=nogroup home=$dir/mail/%n
}
namespace inbox {
  inbox = yes
  separator = /
}
plugin {
  fts = xapian
  # Substrings of 3 to 20 characters are indexed, as the plugin's README recommends.
  fts_xapian = partial=3 full=20 verbose=0
  fts_autoindex = yes
  fts_enforced = yes
}
default_vsz_limit = 2G
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = 11143
  }
  inet_listener imaps {
    port = 0
  }
}
service indexer-worker {
  vsz_limit = 2G
}
service doveadm {
  inet_listener {
    port = 0
  }
}
CONF
if [ -s $dir/run/master.pid ] && kill -0 "$(cat $dir/run/master.pid)" 2>/dev/null; then
  echo "dovecot-xapian already running (pid $(cat $dir/run/master.pid))"; exit 0
fi
dovecot -c $dir/dovecot.conf
for _ in $(seq 1 50); do
  python3 -c 'import socket; socket.create_connection(("127.0.0.1", 11143), 1).close()' 2>/dev/null && break
  sleep 0.2
done
echo "dovecot-xapian running (pid $(cat $dir/run/master.pid)) on 127.0.0.1:11143"
