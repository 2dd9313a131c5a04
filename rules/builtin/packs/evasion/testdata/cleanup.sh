#!/bin/sh
# Unpack the payload next to this script, install it, and remove the temporary files.
set -e
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tail -n +12 "$0" | tar -xz -C "$tmp"
"$tmp/install.sh" --prefix /opt/agent
rm -f "$0.lock"
rm -f "$tmp/payload.tar"
echo "installed; $0 can be removed"
