package checksums

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gnupg runs the real GnuPG in a private home under t.TempDir(), in batch mode with
// loopback pinentry and unprotected test keys; its agent is stopped when the test ends.
type gnupg struct {
	t    *testing.T
	home string
}

func newGnuPG(t *testing.T) *gnupg {
	t.Helper()
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Fatalf("gpg is needed for the OpenPGP interoperability tests (Debian package gnupg): %v", err)
	}
	home := filepath.Join(t.TempDir(), "g")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	g := &gnupg{t: t, home: home}
	t.Cleanup(func() {
		cmd := exec.Command("gpgconf", "--homedir", home, "--kill", "all")
		cmd.Env = g.env()
		_ = cmd.Run()
	})
	return g
}

func (g *gnupg) env() []string {
	return append(os.Environ(), "GNUPGHOME="+g.home, "LC_ALL=C", "TZ=UTC")
}

// run runs gpg with args, stdin, and returns stdout.
func (g *gnupg) run(stdin []byte, args ...string) []byte {
	g.t.Helper()
	full := append([]string{"--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", "",
		"--no-auto-key-locate", "--no-auto-key-retrieve", "--trust-model", "always"}, args...)
	cmd := exec.Command("gpg", full...)
	cmd.Env = g.env()
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		g.t.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.Bytes()
}

// genKey makes a key for uid and returns its fingerprint. extra goes before the command
// (e.g. --faked-system-time).
func (g *gnupg) genKey(uid, algo, expire string, extra ...string) string {
	g.t.Helper()
	args := append(append([]string{}, extra...), "--quick-gen-key", uid, algo, "sign", expire)
	g.run(nil, args...)
	return g.fingerprint(uid)
}

// fingerprint returns the primary fingerprint of the key with uid.
func (g *gnupg) fingerprint(uid string) string {
	g.t.Helper()
	out := g.run(nil, "--with-colons", "--fingerprint", "--list-keys", uid)
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "fpr:") {
			return strings.Split(line, ":")[9]
		}
	}
	g.t.Fatalf("no fingerprint for %s in\n%s", uid, out)
	return ""
}

// export returns the armored public key (with subkeys and revocations).
func (g *gnupg) export(fpr string) []byte {
	g.t.Helper()
	return g.run(nil, "--armor", "--export", fpr)
}

// sign signs data as user (a fingerprint; "FPR!" forces that very key): mode is "armor" (detached, armored), "binary"
// (detached) or "clear" (clearsigned); extra goes before the command.
func (g *gnupg) sign(user, mode string, data []byte, extra ...string) []byte {
	g.t.Helper()
	args := append(append([]string{}, extra...), "--local-user", user)
	switch mode {
	case "armor":
		args = append(args, "--armor", "--detach-sign")
	case "binary":
		args = append(args, "--detach-sign")
	case "clear":
		args = append(args, "--clearsign")
	default:
		g.t.Fatalf("unknown mode %s", mode)
	}
	return g.run(data, args...)
}
