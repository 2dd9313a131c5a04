#!/bin/sh
# useradd without -p has left the account disabled (password string is '!'),
# so ask for a password interactively.
passwd "$1"
