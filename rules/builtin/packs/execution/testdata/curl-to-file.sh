#!/bin/sh
# Fetch the published checksum list and compare.
curl -fsSL -o SHA256SUMS https://downloads.example.org/casemgr/3.2.0/SHA256SUMS
sha256sum -c SHA256SUMS | grep OK
