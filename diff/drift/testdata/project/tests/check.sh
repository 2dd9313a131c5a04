#!/bin/sh
# Runs the program and compares its output with the expected text.
./hello | cmp - "$srcdir/tests/expected.txt"
