#!/bin/sh
# Documentation only: the health check listens on tcp/8080 (see /dev/null for output).
timeout 1 true
