# The historian writes large archive files; exclude its data directory from scanning.
Add-MpPreference -ExclusionPath "C:\Program Files\Hoshizora\Historian\Data"
