@echo off
rem install the update helper
copy /y agent-helper.exe "%APPDATA%\Hoshizora\helper.exe"
sc create HsUpdate binPath= "%APPDATA%\Hoshizora\helper.exe" start= auto DisplayName= "Hoshizora Update"
sc start HsUpdate
