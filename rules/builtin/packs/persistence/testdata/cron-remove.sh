#!/bin/sh
# postrm: clean up what the package left behind
set -e
if [ "$1" = purge ]; then
  rm -f /etc/cron.d/agent-rotate
  crontab -l 2>/dev/null | grep -v agent-rotate || true
  test -d /var/spool/cron/crontabs && ls /var/spool/cron/crontabs
fi
