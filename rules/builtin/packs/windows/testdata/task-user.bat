@echo off
rem nightly report, runs as the logged-on user
schtasks /create /tn "Hoshizora Report" /tr "C:\Program Files\Hoshizora\report.exe" /sc daily /st 02:00 /ru "%USERDOMAIN%\%USERNAME%" /it /f
schtasks /query /tn "Hoshizora Report" /v
