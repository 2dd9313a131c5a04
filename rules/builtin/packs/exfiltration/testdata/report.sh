#!/bin/sh
# Send the anonymous usage report the customer opted into.
curl -s -X POST -H 'Content-Type: application/json' --data @/var/lib/casemgr/usage.json https://telemetry.hoshizora.example/v1/usage
