#!/usr/bin/python3.11
import sys
print(sys.version)
