#!/bin/bash
# Colour helpers for the installer's messages.
RED=$'\x1b[31m'; GREEN=$'\x1b[32m'; RESET=$'\x1b[0m'
BOX=$'\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80'
ok() { printf '%s%s%s\n' "$GREEN" "$*" "$RESET"; }
fail() { printf '%s%s%s\n' "$RED" "$*" "$RESET" >&2; exit 1; }
echo "$BOX"
if bash -c 'command -v systemctl' >/dev/null; then ok "systemd found"; else fail "systemd missing"; fi
eval "$(dircolors -b)"
