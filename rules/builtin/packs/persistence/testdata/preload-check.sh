#!/bin/sh
# Refuse to run when something is preloaded: the agent must see the real libc.
if [ -s /etc/ld.so.preload ]; then
  echo "warning: /etc/ld.so.preload is not empty" >&2
fi
