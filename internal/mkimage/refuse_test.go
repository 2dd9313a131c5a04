package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefuses: binaries that would not run in a base-less linux/amd64 image are refused
// with a message that says how to build one, and nothing is written.
func TestRefuses(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "kensa.sh")
	if err := os.WriteFile(text, []byte("#!/bin/sh\necho kensa\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, bin, want string
	}{
		{"not-elf", text, "not an ELF executable"},
		{"arm64", helloBin(t, "arm64"), "the image is linux/amd64"},
		{"directory", dir, "not a regular file"},
		{"missing", filepath.Join(dir, "nonexistent"), "no such file"},
	}
	// A dynamically linked program of this machine (ls links libc).
	if ls, err := exec.LookPath("ls"); err == nil {
		cases = append(cases, struct{ name, bin, want string }{"dynamic", ls, "dynamically linked"})
	} else {
		t.Fatalf("no ls on this machine to stand for a dynamically linked binary: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "image")
			code, _, stderr := mkimage(t, "-out", out, "-bin", c.bin)
			if code != 1 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, c.want)
			}
			if c.name != "missing" && c.name != "directory" && !strings.Contains(stderr, "CGO_ENABLED=0") {
				t.Errorf("the message does not say how to build a static binary: %q", stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s written although the binary was refused", out)
			}
		})
	}
}

// TestStaticAccepted: a static linux/amd64 Go program passes the check (what the refusals
// above are measured against), and the labels take the version and commit its build info
// records over the tag.
func TestStaticAccepted(t *testing.T) {
	hello := helloBin(t, "amd64")
	b, err := os.ReadFile(hello)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkStatic(bytes.NewReader(b)); err != nil {
		t.Fatalf("static amd64 program refused: %v", err)
	}
	out := filepath.Join(t.TempDir(), "image")
	code, stdout, stderr := mkimage(t, "-out", out, "-bin", hello, "-tag", "registry.example/kensa:9.9.9", "-ca-certs", "")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "kensa 1.2.3-hello") {
		t.Errorf("version not taken from the binary's build info: %q", stdout)
	}
	img, _ := theImage(t, out)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := cf.Config.Labels["org.opencontainers.image.revision"]; got != "feedface" {
		t.Errorf("revision label %q, want the commit the build info records", got)
	}
	for _, e := range cf.Config.Env {
		if strings.HasPrefix(e, "SSL_CERT_FILE=") {
			t.Errorf("SSL_CERT_FILE set in an image built without certificates")
		}
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := ls[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if base, err := io.ReadAll(rc); err != nil || bytes.Contains(base, []byte("ca-certificates.crt")) {
		t.Errorf("certificates in an image built with -ca-certs \"\" (%v)", err)
	}
}

// TestUsage: bad command lines, tags and SOURCE_DATE_EPOCH are refused with exit 2 or 1,
// and an -out that holds something other than a layout is left alone.
func TestUsage(t *testing.T) {
	hello := helloBin(t, "amd64")
	if code, _, _ := mkimage(t, "-bin", hello); code != 2 {
		t.Errorf("without -out: exit %d, want 2", code)
	}
	if code, _, _ := mkimage(t, "-out", t.TempDir(), "-bin", hello, "extra"); code != 2 {
		t.Errorf("with an argument: exit %d, want 2", code)
	}
	if code, _, stderr := mkimage(t, "-out", filepath.Join(t.TempDir(), "i"), "-bin", hello, "-tag", "Not A Tag"); code != 1 || !strings.Contains(stderr, "-tag") {
		t.Errorf("bad tag: exit %d %q, want 1", code, stderr)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if code, _, stderr := mkimage(t, "-out", filepath.Join(t.TempDir(), "i"), "-bin", hello); code != 2 || !strings.Contains(stderr, "SOURCE_DATE_EPOCH") {
		t.Errorf("bad SOURCE_DATE_EPOCH: exit %d %q, want 2", code, stderr)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "")
	missing := filepath.Join(t.TempDir(), "ca.crt")
	if code, _, stderr := mkimage(t, "-out", filepath.Join(t.TempDir(), "i"), "-bin", hello, "-ca-certs", missing); code != 1 || !strings.Contains(stderr, "-ca-certs") {
		t.Errorf("-ca-certs naming a missing file: exit %d %q, want 1", code, stderr)
	}

	other := t.TempDir()
	keep := filepath.Join(other, "keep.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := mkimage(t, "-out", other, "-bin", hello); code != 1 || !strings.Contains(stderr, "not an OCI image layout") {
		t.Errorf("-out over a non-layout directory: exit %d %q, want 1", code, stderr)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("the directory's file was removed: %v", err)
	}

	// An earlier layout is replaced, not added to: the index still lists one image.
	out := filepath.Join(t.TempDir(), "image")
	for _, tag := range []string{"kensa.dev/kensa:1", "kensa.dev/kensa:2"} {
		if code, _, stderr := mkimage(t, "-out", out, "-bin", hello, "-tag", tag); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	}
	_, desc := theImage(t, out)
	if desc.Annotations["org.opencontainers.image.ref.name"] != "kensa.dev/kensa:2" {
		t.Errorf("rebuilt layout names %q", desc.Annotations["org.opencontainers.image.ref.name"])
	}
}

// FuzzCheckStatic: the binary check and the build-info reader never panic on arbitrary
// bytes, and nothing but an ELF passes.
func FuzzCheckStatic(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("#!/bin/sh\n"))
	f.Add([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00"))
	if ls, err := exec.LookPath("ls"); err == nil {
		if b, err := os.ReadFile(ls); err == nil && len(b) > 8192 {
			f.Add(b[:8192])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := checkStatic(bytes.NewReader(b))
		if err == nil && !bytes.HasPrefix(b, []byte("\x7fELF")) {
			t.Errorf("non-ELF input accepted")
		}
		buildVersion(bytes.NewReader(b))
	})
}
