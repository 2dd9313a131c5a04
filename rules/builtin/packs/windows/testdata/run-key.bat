@echo off
reg add "HKLM\Software\Microsoft\Windows\CurrentVersion\Run" /v HsTray /t REG_SZ /d "C:\Users\Public\hs\tray.exe" /f
