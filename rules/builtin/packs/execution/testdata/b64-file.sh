#!/bin/sh
# Unpack the bundled certificate.
base64 -d cert.b64 > /etc/casemgr/ca.pem
chmod 0644 /etc/casemgr/ca.pem
