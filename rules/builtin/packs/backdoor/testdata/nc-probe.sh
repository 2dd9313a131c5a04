#!/bin/sh
# Wait until the database answers before starting.
until nc -z -w 2 db.internal 5432; do sleep 1; done
exec /opt/app/bin/server
