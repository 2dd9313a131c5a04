#!/bin/sh
# A system account for the service: no password, no login shell.
getent passwd casemgr >/dev/null || useradd --system --no-create-home --shell /usr/sbin/nologin casemgr
