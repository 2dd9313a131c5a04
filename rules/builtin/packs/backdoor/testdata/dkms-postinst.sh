#!/bin/sh
set -e
case "$1" in
configure)
  dkms add -m hscap -v 2.4.1 || true
  dkms build -m hscap -v 2.4.1 && dkms install -m hscap -v 2.4.1 || true
  modprobe hscap || true
  ;;
esac
exit 0
