#!/bin/sh
# List user processes, leaving out kernel threads such as [kworker/0:1] and [kthreadd].
ps -eo pid,user,args --no-headers | grep -v ' \[k' | sort -k2
