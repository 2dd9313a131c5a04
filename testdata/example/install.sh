#!/bin/sh
# Installs the Hoshizora Systems case-management agent 3.2.0.
set -eu
prefix=${PREFIX:-/opt/casemgr}
install -d "$prefix/bin" /etc/casemgr
install -m 0755 bin/agentd bin/agentctl "$prefix/bin/"
[ -f /etc/casemgr/agent.conf ] || install -m 0640 etc/agent.conf /etc/casemgr/agent.conf
echo "installed casemgr agent 3.2.0 in $prefix"
