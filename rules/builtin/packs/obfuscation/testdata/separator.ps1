# Writes the report with a box-drawing header.
param([string]$Path = "report.txt")
$line = [string]([char]0x2500) * 60
$tab = [char]9
$header = @('Host', 'Status', 'Checked') -join $tab
Set-Content -Path $Path -Value ($line, $header, $line -join [Environment]::NewLine)
Get-Service | ForEach-Object { Add-Content -Path $Path -Value ($_.Name, $_.Status -join $tab) }
