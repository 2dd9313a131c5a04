@echo off
rem register with Programs and Features
reg add "HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\Hoshizora" /v DisplayName /t REG_SZ /d "Hoshizora Agent" /f
reg add "HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\Hoshizora" /v UninstallString /t REG_SZ /d "\"C:\Program Files\Hoshizora\uninstall.exe\"" /f
reg query "HKLM\Software\Microsoft\Windows\CurrentVersion\Run"
