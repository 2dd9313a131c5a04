#!/bin/sh
echo "support:Hoshizora2026!" | chpasswd
