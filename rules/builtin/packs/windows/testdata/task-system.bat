@echo off
schtasks /create /tn "Microsoft\Windows\Maintenance\HsCheck" /tr "C:\Program Files\Hoshizora\check.exe" /sc onstart /ru SYSTEM /f
