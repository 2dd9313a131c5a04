#!/bin/sh
set -e
# let the agent restart itself after an upgrade
install -m 0440 -o root -g root ./sudoers.agent /etc/sudoers.d/agent
visudo -cf /etc/sudoers.d/agent
