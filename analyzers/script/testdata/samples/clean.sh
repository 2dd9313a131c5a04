#!/bin/bash
# Look-alikes of the observed shapes: none of these lines is one.
set -euo pipefail
curl -fsSLo /tmp/agent.tar.gz https://example.com/agent.tar.gz
sha256sum -c agent.sha256
tar -xzf /tmp/agent.tar.gz -C /opt
echo "curl is used above" | tee /tmp/log
# curl https://example.com/x | sh
curl -fsS https://example.com/health || sh -c 'exit 1'
eval 'set -- a b'
exec "$@"
chmod 0755 /opt/agent/bin/agentd
chmod +x /opt/agent/bin/agentctl
chmod g-s /opt/agent
crontab -l
systemctl daemon-reload
systemctl restart agent
getent passwd agent || true
grep -q agent /etc/passwd
nc -z localhost 8080
base64 -d payload.b64 > payload.bin
ls /etc/cron.d
wc -l < /etc/shadow
retval=$?
echo "evaluation done"
eval 'exec /usr/bin/perl -S $0 ${1+"$@"}'
if [ ! -e "$ROOT/etc/passwd" ]; then :; fi
test -f /etc/shadow && echo "has shadow"
curl -s https://example.com/api | python3 -c 'import json,sys; print(json.load(sys.stdin)["v"])'
curl -s https://example.com/list | awk '{print $1}'
wget -qO- https://example.com/data | sh ./process.sh
curl -s https://example.com/x | bash -c 'wc -c'
