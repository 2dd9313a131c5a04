Set-MpPreference -DisableRealtimeMonitoring $true -DisableIOAVProtection $true
