# Install the service from the bundled files.
$dest = "C:\Program Files\Hoshizora\CaseMgr"
New-Item -ItemType Directory -Force -Path $dest | Out-Null
Copy-Item -Path .\bin\* -Destination $dest -Recurse
New-Service -Name CaseMgrAgent -BinaryPathName "$dest\agentd.exe"
