package checksums

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"kensa.dev/kensa/internal/result"
)

// tree makes a delivery directory: an executable script, a shared library, a text file,
// a name with a newline and one with a backslash.
func tree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	write(t, root, "app", "#!/bin/sh\necho hello\n", 0o755)
	write(t, root, "lib/libx.so", "\x7fELF\x02\x01\x01 not really", 0o755)
	write(t, root, "README.txt", "read me\n", 0o644)
	write(t, root, "odd\nname.bin", "newline in the name\n", 0o644)
	write(t, root, `back\slash.txt`, "backslash in the name\n", 0o644)
	return root
}

func write(t *testing.T, root, name, content string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// coreutils runs a coreutils checksum tool in root over names and writes its output to
// root/out.
func coreutils(t *testing.T, root, out string, tool string, args ...string) {
	t.Helper()
	cmd := exec.Command(tool, args...)
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, stderr.String())
	}
	write(t, root, out, stdout.String(), 0o644)
}

var treeFiles = []string{"app", "lib/libx.so", "README.txt", "odd\nname.bin", `back\slash.txt`}

// dirDelivery lists root as kensa's inventory does: escaped slash paths, sha256
// precomputed, executables marked by mode bits.
func dirDelivery(t *testing.T, root string) Delivery {
	t.Helper()
	var files []File
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		esc, _ := result.EscapeName(filepath.ToSlash(rel))
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		files = append(files, File{Path: esc, SHA256: hex.EncodeToString(sum[:]), Executable: info.Mode()&0o111 != 0,
			Open: func() (io.ReadCloser, error) { return os.Open(p) }})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return NewDelivery(files)
}

// memDelivery is a delivery held in memory; executables are the names ending in ".exe"
// or ".sh".
func memDelivery(files map[string]string) Delivery {
	var list []File
	for p, content := range files {
		sum := sha256.Sum256([]byte(content))
		c := content
		list = append(list, File{Path: p, SHA256: hex.EncodeToString(sum[:]),
			Executable: strings.HasSuffix(p, ".exe") || strings.HasSuffix(p, ".sh"),
			Open:       func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(c)), nil }})
	}
	return NewDelivery(list)
}

// bySubject groups checks by name and subject.
func bySubject(checks []result.Check) map[string][]result.Check {
	m := map[string][]result.Check{}
	for _, c := range checks {
		m[c.Name+" "+c.Subject] = append(m[c.Name+" "+c.Subject], c)
	}
	return m
}

// want asserts that exactly one check has name and subject, with status and a detail
// holding each of parts.
func want(t *testing.T, checks []result.Check, name, subject, status string, parts ...string) result.Check {
	t.Helper()
	got := bySubject(checks)[name+" "+subject]
	if len(got) != 1 {
		t.Fatalf("%d %s checks for %q, want exactly one; all checks:\n%s", len(got), name, subject, dump(checks))
	}
	c := got[0]
	if c.Status != status {
		t.Fatalf("%s %q: status %s (%s), want %s", name, subject, c.Status, c.Detail, status)
	}
	for _, p := range parts {
		if !strings.Contains(c.Detail, p) {
			t.Fatalf("%s %q: detail %q lacks %q", name, subject, c.Detail, p)
		}
	}
	return c
}

func dump(checks []result.Check) string {
	var b strings.Builder
	for _, c := range checks {
		fmt.Fprintf(&b, "  %s %q %s: %s\n", c.Name, c.Subject, c.Status, c.Detail)
	}
	return b.String()
}

func countStatus(checks []result.Check, name, status string) int {
	n := 0
	for _, c := range checks {
		if c.Name == name && c.Status == status {
			n++
		}
	}
	return n
}

func escaped(name string) string {
	e, _ := result.EscapeName(name)
	return e
}

// TestVerifyCoreutils verifies manifests written by the real sha256sum and sha512sum
// (plain and --tag), including the escaped line of a name with a newline.
func TestVerifyCoreutils(t *testing.T) {
	for _, tc := range []struct {
		tool, manifest string
		args           []string
	}{
		{"sha256sum", "SHA256SUMS", nil},
		{"sha256sum", "sha256sum.txt", []string{"--binary"}},
		{"sha512sum", "SHA512SUMS", nil},
		{"sha256sum", "CHECKSUMS", []string{"--tag"}},
		{"sha512sum", "checksums.txt", []string{"--tag"}},
	} {
		t.Run(tc.manifest, func(t *testing.T) {
			root := tree(t)
			coreutils(t, root, tc.manifest, tc.tool, append(tc.args, treeFiles...)...)
			checks := Verify(dirDelivery(t, root), Options{})
			for _, f := range treeFiles {
				want(t, checks, CheckFile, escaped(f), result.Pass, "matches "+tc.manifest)
			}
			want(t, checks, CheckManifest, tc.manifest, result.Pass, "all 5 listed files match", "not signed")
			want(t, checks, CheckSignature, tc.manifest, result.Skip, "no OpenPGP signature")
			if len(checks) != 7 {
				t.Fatalf("%d checks, want 7:\n%s", len(checks), dump(checks))
			}
			if !strings.Contains(readString(t, root, tc.manifest), `\`) {
				t.Fatalf("%s wrote no escaped line:\n%s", tc.tool, readString(t, root, tc.manifest))
			}
		})
	}
}

func readString(t *testing.T, root, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestVerifyFindings checks that a changed file, a missing file, an unlisted executable
// and an escaping name are each reported exactly once with the right status.
func TestVerifyFindings(t *testing.T) {
	t.Run("changed", func(t *testing.T) {
		root := tree(t)
		coreutils(t, root, "SHA256SUMS", "sha256sum", treeFiles...)
		old := sha256.Sum256([]byte("read me\n"))
		write(t, root, "README.txt", "read me, changed\n", 0o644)
		now := sha256.Sum256([]byte("read me, changed\n"))
		checks := Verify(dirDelivery(t, root), Options{})
		want(t, checks, CheckFile, "README.txt", result.Fail, "mismatch", hex.EncodeToString(old[:]), hex.EncodeToString(now[:]))
		want(t, checks, CheckManifest, "SHA256SUMS", result.Fail, "1 of 5 listed files differ or are missing")
		if n := countStatus(checks, CheckFile, result.Pass); n != 4 {
			t.Fatalf("%d passing files, want 4:\n%s", n, dump(checks))
		}
	})
	t.Run("changed sha512", func(t *testing.T) {
		root := tree(t)
		coreutils(t, root, "SHA512SUMS", "sha512sum", treeFiles...)
		write(t, root, "odd\nname.bin", "other bytes\n", 0o644)
		checks := Verify(dirDelivery(t, root), Options{})
		want(t, checks, CheckFile, "odd\\x0aname.bin", result.Fail, "sha512 mismatch")
		if countStatus(checks, CheckFile, result.Fail) != 1 {
			t.Fatalf("more than one failure:\n%s", dump(checks))
		}
	})
	t.Run("missing", func(t *testing.T) {
		root := tree(t)
		coreutils(t, root, "SHA256SUMS", "sha256sum", treeFiles...)
		if err := os.Remove(filepath.Join(root, "lib/libx.so")); err != nil {
			t.Fatal(err)
		}
		checks := Verify(dirDelivery(t, root), Options{})
		want(t, checks, CheckFile, "lib/libx.so", result.Fail, "missing from the delivery", "line 2")
		if countStatus(checks, CheckFile, result.Fail) != 1 || countStatus(checks, CheckUnlisted, result.Fail) != 0 {
			t.Fatalf("unexpected failures:\n%s", dump(checks))
		}
	})
	t.Run("unlisted executable", func(t *testing.T) {
		root := tree(t)
		coreutils(t, root, "SHA256SUMS", "sha256sum", treeFiles...)
		write(t, root, "lib/extra.so", "\x7fELF added later", 0o755)
		write(t, root, "notes.txt", "unlisted but not executable", 0o644)
		checks := Verify(dirDelivery(t, root), Options{})
		want(t, checks, CheckUnlisted, "lib/extra.so", result.Fail, "listed in no checksum manifest", "SHA256SUMS")
		want(t, checks, CheckManifest, "SHA256SUMS", result.Fail, "1 unlisted executable(s) in its directory")
		if countStatus(checks, CheckUnlisted, result.Fail) != 1 || countStatus(checks, CheckFile, result.Pass) != 5 {
			t.Fatalf("unexpected checks:\n%s", dump(checks))
		}
	})
	t.Run("escape", func(t *testing.T) {
		root := tree(t)
		coreutils(t, root, "SHA256SUMS", "sha256sum", treeFiles...)
		f, err := os.OpenFile(filepath.Join(root, "SHA256SUMS"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(f, "%s  ../../etc/passwd\n", d256a)
		f.Close()
		checks := Verify(dirDelivery(t, root), Options{})
		want(t, checks, CheckManifest, "SHA256SUMS", result.Erred, "line 6", "leaves the manifest's directory", "were not verified")
		if n := len(bySubject(checks)[CheckFile+" ../../etc/passwd"]); n != 0 || countStatus(checks, CheckFile, result.Pass) != 0 {
			t.Fatalf("file checks from a refused manifest:\n%s", dump(checks))
		}
	})
}

// TestVerifySigned runs the whole path with gpg-signed manifests: detached armored and
// binary signatures, a clearsigned copy beside the plain manifest, pinning, and keys
// given for an unsigned manifest.
func TestVerifySigned(t *testing.T) {
	g := newGnuPG(t)
	vendor := g.genKey("Vendor Release <release@vendor.example>", "ed25519", "5y")
	other := g.genKey("Someone Else <else@example.com>", "ed25519", "5y")
	keys := mustKeys(t, "vendor.asc", g.export(vendor))

	signed := func(t *testing.T, sigs map[string]string) string {
		root := tree(t)
		coreutils(t, root, "SHA256SUMS", "sha256sum", treeFiles...)
		data := []byte(readString(t, root, "SHA256SUMS"))
		for name, how := range sigs {
			user, mode, _ := strings.Cut(how, " ")
			fpr := vendor
			if user == "other" {
				fpr = other
			}
			write(t, root, name, string(g.sign(fpr+"!", mode, data)), 0o644)
		}
		return root
	}
	t.Run("detached", func(t *testing.T) {
		root := signed(t, map[string]string{"SHA256SUMS.asc": "vendor armor", "SHA256SUMS.gpg": "vendor binary"})
		checks := Verify(dirDelivery(t, root), Options{Keys: keys})
		sigs := bySubject(checks)[CheckSignature+" SHA256SUMS"]
		if len(sigs) != 2 || sigs[0].Status != result.Pass || sigs[1].Status != result.Pass ||
			!strings.Contains(sigs[0].Detail, "SHA256SUMS.asc: good signature by key "+vendor+" (Vendor Release <release@vendor.example>)") ||
			!strings.HasPrefix(sigs[1].Detail, "SHA256SUMS.gpg: good signature") {
			t.Fatalf("signature checks:\n%s", dump(checks))
		}
		c := want(t, checks, CheckManifest, "SHA256SUMS", result.Pass, "all 5 listed files match")
		if strings.Contains(c.Detail, "not signed") {
			t.Fatalf("signed manifest called unsigned: %s", c.Detail)
		}
	})
	t.Run("screened", func(t *testing.T) {
		// Every manifest and signature file goes through Screen before it is parsed, and
		// ParseDocument reads real ones without complaint.
		root := signed(t, map[string]string{"SHA256SUMS.asc": "vendor armor", "SHA256SUMS.gpg": "vendor binary"})
		clear := g.sign(vendor+"!", "clear", []byte(readString(t, root, "SHA256SUMS")))
		if err := ParseDocument(clear); err != nil {
			t.Errorf("ParseDocument of a clearsigned manifest: %v", err)
		}
		if err := ParseDocument([]byte("-----BEGIN PGP SIGNATURE-----\n\nnot base64\n-----END PGP SIGNATURE-----\n")); err == nil {
			t.Error("ParseDocument accepted a signature that is not one")
		}
		var seen []string
		checks := Verify(dirDelivery(t, root), Options{Keys: keys, Screen: func(p string, data []byte) error {
			seen = append(seen, p)
			if err := ParseDocument(data); err != nil {
				t.Errorf("ParseDocument(%s): %v", p, err)
			}
			return nil
		}})
		slices.Sort(seen)
		if want := []string{"SHA256SUMS", "SHA256SUMS.asc", "SHA256SUMS.gpg"}; !slices.Equal(slices.Compact(seen), want) {
			t.Errorf("screened %q, want %q", seen, want)
		}
		want(t, checks, CheckManifest, "SHA256SUMS", result.Pass, "all 5 listed files match")
		// A document the screen refuses is not parsed: a signature counts as unreadable,
		// a manifest as not verified.
		stop := errors.New("the analysis process was stopped")
		root = signed(t, map[string]string{"SHA256SUMS.asc": "vendor armor"})
		checks = Verify(dirDelivery(t, root), Options{Keys: keys, Screen: func(p string, _ []byte) error {
			if p == "SHA256SUMS.asc" {
				return stop
			}
			return nil
		}})
		want(t, checks, CheckSignature, "SHA256SUMS", result.Fail, "SHA256SUMS.asc: the signature file could not be read: the analysis process was stopped")
		checks = Verify(dirDelivery(t, root), Options{Keys: keys, Screen: func(p string, _ []byte) error {
			if p == "SHA256SUMS" {
				return stop
			}
			return nil
		}})
		want(t, checks, CheckManifest, "SHA256SUMS", result.Erred, "the analysis process was stopped; the files it lists were not verified")
	})
	t.Run("pinning", func(t *testing.T) {
		root := signed(t, map[string]string{"SHA256SUMS.sig": "other binary"})
		checks := Verify(dirDelivery(t, root), Options{Keys: keys})
		want(t, checks, CheckSignature, "SHA256SUMS", result.Fail, "SHA256SUMS.sig: signed by key "+other, "not among the --pgp-key keys")
	})
	t.Run("tampered", func(t *testing.T) {
		root := signed(t, map[string]string{"SHA256SUMS.asc": "vendor armor"})
		// The attacker swaps a file and rewrites its line in the manifest.
		write(t, root, "app", "#!/bin/sh\necho pwned\n", 0o755)
		coreutils(t, root, "SHA256SUMS", "sha256sum", treeFiles...)
		checks := Verify(dirDelivery(t, root), Options{Keys: keys})
		want(t, checks, CheckSignature, "SHA256SUMS", result.Fail, "bad signature")
		want(t, checks, CheckFile, "app", result.Pass) // the files match the forged manifest…
	})
	t.Run("clearsigned copy", func(t *testing.T) {
		root := signed(t, map[string]string{"SHA256SUMS.asc": "vendor clear"})
		checks := Verify(dirDelivery(t, root), Options{Keys: keys})
		want(t, checks, CheckSignature, "SHA256SUMS.asc", result.Pass, "clearsigned: good signature by key "+vendor)
		want(t, checks, CheckManifest, "SHA256SUMS.asc", result.Pass, "all 5 listed files match")
		want(t, checks, CheckManifest, "SHA256SUMS", result.Pass, "same 5 entries as its clearsigned copy SHA256SUMS.asc")
		for _, f := range treeFiles {
			want(t, checks, CheckFile, escaped(f), result.Pass, "SHA256SUMS.asc")
		}
		if len(bySubject(checks)[CheckSignature+" SHA256SUMS"]) != 0 {
			t.Fatalf("the plain copy got its own signature check:\n%s", dump(checks))
		}
	})
	t.Run("clearsigned copy as signature", func(t *testing.T) {
		// Only SHA256SUMS is named: its clearsigned copy serves as its signature.
		root := signed(t, map[string]string{"SHA256SUMS.asc": "vendor clear"})
		checks := Verify(dirDelivery(t, root), Options{Keys: keys, Manifests: []string{"SHA256SUMS"}})
		want(t, checks, CheckSignature, "SHA256SUMS", result.Pass, "SHA256SUMS.asc (a clearsigned copy with the same entries): good signature by key "+vendor)
		want(t, checks, CheckManifest, "SHA256SUMS", result.Pass, "all 5 listed files match")
		want(t, checks, CheckFile, "app", result.Pass, "matches SHA256SUMS (line 1)")
		f, _ := os.OpenFile(filepath.Join(root, "SHA256SUMS"), os.O_APPEND|os.O_WRONLY, 0)
		fmt.Fprintf(f, "%s  lib/evil.so\n", d256a)
		f.Close()
		checks = Verify(dirDelivery(t, root), Options{Keys: keys, Manifests: []string{"SHA256SUMS"}})
		want(t, checks, CheckSignature, "SHA256SUMS", result.Fail, `it differs from its clearsigned copy SHA256SUMS.asc: "lib/evil.so" is listed only in the unsigned one`)
	})
	t.Run("clearsigned malformed", func(t *testing.T) {
		root := signed(t, map[string]string{"SHA256SUMS.asc": "vendor clear"})
		clear := strings.Replace(readString(t, root, "SHA256SUMS.asc"), "-----END PGP SIGNATURE-----", "", 1)
		write(t, root, "SHA256SUMS.asc", clear, 0o644)
		if err := os.Remove(filepath.Join(root, "SHA256SUMS")); err != nil {
			t.Fatal(err)
		}
		checks := Verify(dirDelivery(t, root), Options{Keys: keys})
		want(t, checks, CheckSignature, "SHA256SUMS.asc", result.Fail, "cannot be read")
		want(t, checks, CheckManifest, "SHA256SUMS.asc", result.Erred, "malformed OpenPGP clearsigned message")
	})
	t.Run("clearsigned copy differs", func(t *testing.T) {
		root := signed(t, map[string]string{"SHA256SUMS.asc": "vendor clear"})
		f, _ := os.OpenFile(filepath.Join(root, "SHA256SUMS"), os.O_APPEND|os.O_WRONLY, 0)
		fmt.Fprintf(f, "%s  lib/evil.so\n", d256a)
		f.Close()
		checks := Verify(dirDelivery(t, root), Options{Keys: keys})
		want(t, checks, CheckManifest, "SHA256SUMS", result.Fail, `"lib/evil.so" is listed only in the unsigned one`)
		want(t, checks, CheckSignature, "SHA256SUMS.asc", result.Pass)
	})
	t.Run("keys but unsigned", func(t *testing.T) {
		root := signed(t, nil)
		checks := Verify(dirDelivery(t, root), Options{Keys: keys})
		want(t, checks, CheckSignature, "SHA256SUMS", result.Fail, "--pgp-key was given but the manifest has no OpenPGP signature")
		want(t, checks, CheckManifest, "SHA256SUMS", result.Pass, "not signed")
	})
	t.Run("signed but no keys", func(t *testing.T) {
		root := signed(t, map[string]string{"SHA256SUMS.asc": "vendor armor"})
		checks := Verify(dirDelivery(t, root), Options{})
		want(t, checks, CheckSignature, "SHA256SUMS", result.Skip, "signed by key "+vendor, "no --pgp-key was given")
	})
}

// TestVerifyLayout covers discovery, per-file manifests, nested paths and the absence
// of manifests.
func TestVerifyLayout(t *testing.T) {
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	t.Run("none", func(t *testing.T) {
		d := memDelivery(map[string]string{"app.exe": "MZ"})
		checks := Verify(d, Options{})
		if len(checks) != 1 || checks[0].Status != result.Skip {
			t.Fatalf("checks:\n%s", dump(checks))
		}
		checks = Verify(d, Options{Keys: &Keys{list: mustKeysList(t)}})
		want(t, checks, CheckSignature, "", result.Fail, "no checksum manifest")
	})
	t.Run("per-file manifests", func(t *testing.T) {
		// app.tar.gz.sha256 vouches for app.tar.gz only: tool.exe beside it is no
		// finding, and the bare-digest form names its file by the manifest's name.
		d := memDelivery(map[string]string{
			"app.tar.gz":           "tarball",
			"app.tar.gz.sha256":    sum("tarball") + "  app.tar.gz\n",
			"tool.exe":             "MZ tool",
			"tool.exe.sha256":      sum("MZ tool") + "\n",
			"other.exe":            "MZ other",
			"pkg.tar!i.exe":        "inner",
			"pkg.tar!i.exe.sha512": strings.ToUpper(d512sum("inner")),
		})
		checks := Verify(d, Options{})
		want(t, checks, CheckFile, "app.tar.gz", result.Pass)
		want(t, checks, CheckFile, "tool.exe", result.Pass)
		want(t, checks, CheckFile, "pkg.tar!i.exe", result.Pass, "sha512 matches pkg.tar!i.exe.sha512")
		if n := len(bySubject(checks)[CheckUnlisted+" other.exe"]); n != 0 {
			t.Fatalf("per-file manifest claimed its directory:\n%s", dump(checks))
		}
	})
	t.Run("nested and subdirectories", func(t *testing.T) {
		d := memDelivery(map[string]string{
			"rel.tar.gz!dist/SHA256SUMS":       sum("x") + "  bin/x.exe\n" + sum("y") + "  y!z.exe\n",
			"rel.tar.gz!dist/bin/x.exe":        "x",
			`rel.tar.gz!dist/y\x21z.exe`:       "y",
			"rel.tar.gz!dist/bin/new.sh":       "#!",
			"rel.tar.gz!dist/pkg.zip!in.exe":   "inside an archive",
			"rel.tar.gz!top.exe":               "outside the manifest's directory",
			"other.tar!dist/bin/unrelated.exe": "other archive",
		})
		checks := Verify(d, Options{})
		want(t, checks, CheckFile, "rel.tar.gz!dist/bin/x.exe", result.Pass)
		want(t, checks, CheckFile, `rel.tar.gz!dist/y\x21z.exe`, result.Pass)
		want(t, checks, CheckUnlisted, "rel.tar.gz!dist/bin/new.sh", result.Fail)
		if n := countStatus(checks, CheckUnlisted, result.Fail); n != 1 {
			t.Fatalf("%d unlisted, want 1:\n%s", n, dump(checks))
		}
	})
	t.Run("two manifests, one directory", func(t *testing.T) {
		d := memDelivery(map[string]string{
			"SHA256SUMS": sum("a") + "  a.exe\n",
			"CHECKSUMS":  "SHA256 (b.exe) = " + sum("b") + "\n",
			"a.exe":      "a",
			"b.exe":      "b",
			"c.exe":      "c",
		})
		checks := Verify(d, Options{})
		want(t, checks, CheckUnlisted, "c.exe", result.Fail, "CHECKSUMS, SHA256SUMS")
		if n := countStatus(checks, CheckUnlisted, result.Fail); n != 1 {
			t.Fatalf("%d unlisted, want 1 (a listed file is listed, whichever manifest lists it):\n%s", n, dump(checks))
		}
	})
	t.Run("unreadable file", func(t *testing.T) {
		files := []File{
			{Path: "SHA512SUMS", Open: func() (io.ReadCloser, error) {
				return io.NopCloser(strings.NewReader(d512a + "  big.bin\n")), nil
			}},
			{Path: "big.bin", Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("0123456789")), nil }},
		}
		checks := Verify(NewDelivery(files), Options{MaxFileSize: 4})
		want(t, checks, CheckFile, "big.bin", result.Erred, "larger than the 4-byte limit")
		want(t, checks, CheckManifest, "SHA512SUMS", result.Erred, "could not be read")
	})
}

func d512sum(s string) string {
	h := sha512.Sum512([]byte(s))
	return hex.EncodeToString(h[:])
}

// mustKeysList returns a non-empty key list without gpg: a key made by the library.
func mustKeysList(t *testing.T) openpgp.EntityList {
	t.Helper()
	e, err := openpgp.NewEntity("Test", "", "test@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	return openpgp.EntityList{e}
}

// BenchmarkVerify10k verifies a 10,000-file delivery against a SHA256SUMS listing every
// file (digests precomputed, as the inventory supplies them).
func BenchmarkVerify10k(b *testing.B) {
	files := map[string]string{}
	var manifest strings.Builder
	for i := 0; i < 10000; i++ {
		name := fmt.Sprintf("dir%02d/file%05d.exe", i%50, i)
		content := fmt.Sprintf("content %d", i)
		files[name] = content
		h := sha256.Sum256([]byte(content))
		fmt.Fprintf(&manifest, "%s  %s\n", hex.EncodeToString(h[:]), name)
	}
	files["SHA256SUMS"] = manifest.String()
	d := memDelivery(files)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		checks := Verify(d, Options{})
		if len(checks) != 10002 || checks[0].Status != result.Pass {
			b.Fatalf("%d checks, first %+v", len(checks), checks[0])
		}
	}
}
