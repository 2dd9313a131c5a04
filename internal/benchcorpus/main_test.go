package main

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// twoLayers makes a base layer (a file, a hard link to it, a symbolic link, a dpkg
// status) and an upper layer that replaces the status.
func twoLayers(t *testing.T) (base, upper string) {
	dir := t.TempDir()
	base, upper = filepath.Join(dir, "base"), filepath.Join(dir, "upper")
	write(t, filepath.Join(base, "usr/bin/perl"), "perl binary")
	if err := os.Link(filepath.Join(base, "usr/bin/perl"), filepath.Join(base, "usr/bin/perl5.36")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("usr/bin", filepath.Join(base, "bin")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(base, "var/lib/dpkg/status"), "Package: perl\n")
	write(t, filepath.Join(upper, "var/lib/dpkg/status"), "Package: perl\n\nPackage: nginx\n")
	write(t, filepath.Join(upper, "usr/sbin/nginx"), "nginx binary")
	return base, upper
}

// files reads a tar stream into name → entry (content in Linkname for links).
func files(t *testing.T, r io.Reader) map[string]*tar.Header {
	t.Helper()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			h.PAXRecords = map[string]string{"content": string(b)}
		}
		out[h.Name] = h
	}
}

func TestBothFormatsHoldTheSameImage(t *testing.T) {
	base, upper := twoLayers(t)
	out := t.TempDir()
	docker, oci := filepath.Join(out, "img.tar"), filepath.Join(out, "img.oci")
	err := run([]string{"-work", filepath.Join(out, "work"), "-layer", "base=" + base, "-layer", "upper=" + upper,
		"-docker", docker, "-oci", oci, "-tag", "kensa.dev/bench:test"})
	if err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(filepath.Join(out, "work")); len(left) != 0 {
		t.Errorf("layer tars left in the work directory: %v", left)
	}

	dimg, err := tarball.ImageFromPath(docker, nil)
	if err != nil {
		t.Fatalf("docker archive does not load: %v", err)
	}
	p, err := layout.FromPath(oci)
	if err != nil {
		t.Fatalf("OCI layout does not load: %v", err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "kensa.dev/bench:test" {
		t.Fatalf("OCI index: %+v", im.Manifests)
	}
	oimg, err := p.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	dcfg, _ := dimg.ConfigName()
	ocfg, _ := oimg.ConfigName()
	if dcfg != ocfg {
		t.Errorf("image IDs differ: docker-archive %s, OCI %s", dcfg, ocfg)
	}
	cf, err := oimg.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if len(cf.RootFS.DiffIDs) != 2 || len(cf.History) != 2 || cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("config: %+v", cf)
	}

	// Every OCI layer is gzip and its digests are what the manifest says.
	ols, err := oimg.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range ols {
		if err := verifyLayer(l, cf.RootFS.DiffIDs[i]); err != nil {
			t.Errorf("OCI layer %d: %v", i, err)
		}
	}

	// The docker archive holds the base layer uncompressed, hard link kept.
	dls, err := dimg.Layers()
	if err != nil || len(dls) != 2 {
		t.Fatalf("docker layers: %v %v", dls, err)
	}
	rc, err := dls[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	got := files(t, rc)
	rc.Close()
	if h := got["usr/bin/perl5.36"]; h == nil || h.Typeflag != tar.TypeLink || h.Linkname != "usr/bin/perl" {
		t.Errorf("hard link: %+v", h)
	}
	if h := got["bin"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "usr/bin" {
		t.Errorf("symbolic link: %+v", h)
	}
	if h := got["usr/"]; h == nil || h.Typeflag != tar.TypeDir {
		t.Errorf("directory: %+v", h)
	}

	// The squashed filesystem has the upper layer's dpkg status.
	sq := files(t, mutate.Extract(dimg))
	if h := sq["var/lib/dpkg/status"]; h == nil || !strings.Contains(h.PAXRecords["content"], "nginx") {
		t.Errorf("squashed status: %+v", h)
	}
	if h := sq["usr/bin/perl"]; h == nil || h.PAXRecords["content"] != "perl binary" {
		t.Errorf("squashed perl: %+v", h)
	}
}

func verifyLayer(l v1.Layer, diffID v1.Hash) error {
	d, err := l.DiffID()
	if err != nil {
		return err
	}
	if d != diffID {
		return &mismatch{"diff id", d.String(), diffID.String()}
	}
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	h, _, err := v1.SHA256(rc)
	if err != nil {
		return err
	}
	if h != diffID {
		return &mismatch{"uncompressed content", h.String(), diffID.String()}
	}
	return nil
}

type mismatch struct{ what, got, want string }

func (m *mismatch) Error() string { return m.what + ": got " + m.got + ", want " + m.want }

func TestRefusesWhatALayerCannotHold(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	err := run([]string{"-work", out, "-layer", "base=" + dir, "-docker", filepath.Join(out, "img.tar")})
	if err == nil || !strings.Contains(err.Error(), "unsupported file type") {
		t.Fatalf("a named pipe was accepted: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "img.tar")); !os.IsNotExist(err) {
		t.Errorf("an image was written despite the error: %v", err)
	}
	if left, _ := os.ReadDir(out); len(left) != 0 {
		t.Errorf("files left behind: %v", left)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-work", "w", "-docker", "x.tar"},
		{"-work", "w", "-layer", "base", "-docker", "x.tar"},
		{"-work", "w", "-layer", "a/b=dir", "-docker", "x.tar"},
		{"-work", "w", "-layer", "base=dir"},
		{"-work", "w", "-layer", "base=dir", "-docker", "x.tar", "extra"},
		{"-layer", "base=dir", "-docker", "x.tar"},
	} {
		if err := run(args); err == nil {
			t.Errorf("run(%q) accepted", args)
		}
	}
}
