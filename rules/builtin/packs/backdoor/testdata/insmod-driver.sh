#!/bin/sh
# Load the capture card driver shipped with the appliance image.
set -e
KVER=$(uname -r)
if ! lsmod | grep -q '^hscap '; then
  insmod /opt/hscap/drivers/$KVER/hscap.ko buffers=16
fi
echo "hscap driver loaded" | logger -t hscap
