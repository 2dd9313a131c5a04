#!/bin/bash
# Show the last commands of the support session, from the history file.
HISTFILE=${HISTFILE:-$HOME/.bash_history}
HISTSIZE=5000
tail -n "${1:-50}" "$HISTFILE"
