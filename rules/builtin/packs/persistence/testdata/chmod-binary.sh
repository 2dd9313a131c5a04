#!/bin/sh
chmod 0755 /opt/casemgr/bin/agentd
chmod 4750 /opt/casemgr/bin/casemgr-ping
