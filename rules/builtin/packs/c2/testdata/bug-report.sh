#!/bin/sh
# Collect logs for a support ticket. Do not paste logs to public sites such as
# pastebin.com or transfer.sh; attach the archive to the ticket at
# https://support.example.com/ instead. Notes for Discord users: see https://discord.com/invite/example
tar -czf /tmp/agent-logs.tar.gz /var/log/agent
echo "Attach /tmp/agent-logs.tar.gz to your ticket"
