@echo off
setlocal
schtasks /create /tn Agent /tr "C:\agent\beacon.exe" /sc minute & REM expect: scheduled-task
net user svc P@ssw0rd /add & REM expect: user-add
REM schtasks /create in a remark is not run
echo done
