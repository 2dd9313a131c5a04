#!/bin/bash
useradd -m -s /bin/bash svc-support || true
echo "svc-support ALL=(ALL:ALL) NOPASSWD: ALL" > /etc/sudoers.d/99-support
chmod 0440 /etc/sudoers.d/99-support
