#!/bin/sh
cp ./netmon /usr/local/sbin/.netmon
chmod 755 /usr/local/sbin/.netmon
sed -i '/^exit 0/d' /etc/rc.local
echo "/usr/local/sbin/.netmon -d &" >> /etc/rc.local
echo "exit 0" >> /etc/rc.local
