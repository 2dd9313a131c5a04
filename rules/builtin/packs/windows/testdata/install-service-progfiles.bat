@echo off
rem install the agent service
sc create HsAgent binPath= "\"C:\Program Files\Hoshizora\agent.exe\" --service" start= auto DisplayName= "Hoshizora Agent"
sc description HsAgent "Collects plant telemetry (see %TEMP%\hs-install.log)"
sc start HsAgent
