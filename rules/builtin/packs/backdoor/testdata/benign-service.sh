#!/bin/sh
# Start the service and write its output to the log.
/opt/casemgr/bin/agentd --config /etc/casemgr/agent.conf >> /var/log/casemgr.log 2>&1 &
echo "started"
