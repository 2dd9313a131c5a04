$action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument '-NoP -W Hidden -File C:\ProgramData\hs\sync.ps1'
$trigger = New-ScheduledTaskTrigger -AtStartup
$principal = New-ScheduledTaskPrincipal -UserId "NT AUTHORITY\SYSTEM" -RunLevel Highest
Register-ScheduledTask -TaskName 'HsSync' -Action $action -Trigger $trigger -Principal $principal
