#!/bin/sh
# Preflight: the installer must run as root or with working sudo.
if [ "$(id -u)" -ne 0 ]; then
  if ! sudo -n true 2>/dev/null; then
    echo "run as root, or add a rule such as 'admin ALL=(ALL) NOPASSWD: ALL' to sudoers yourself" >&2
    exit 1
  fi
fi
grep -q '^#includedir /etc/sudoers.d' /etc/sudoers || echo "warning: /etc/sudoers.d is not included"
