# Report the protection state before installing; the installer refuses to run when
# real-time protection is off (DisableRealtimeMonitoring must be $false).
$p = Get-MpPreference
$s = Get-MpComputerStatus
if ($p.DisableRealtimeMonitoring -or -not $s.RealTimeProtectionEnabled) {
    Write-Error "Enable Microsoft Defender real-time protection first."
    exit 1
}
Write-Host "Exclusions configured:" ($p.ExclusionPath -join ', ')
