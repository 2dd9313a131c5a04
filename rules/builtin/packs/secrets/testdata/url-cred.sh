#!/bin/sh
psql postgres://admin:Sup3rS3cret@db.internal:5432/casemgr -c 'select 1'
