package drift

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

type tarEntry struct {
	name, body, link string
	typ              byte
}

func writeTarGz(t *testing.T, entries []tarEntry) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: e.typ, Linkname: e.link}
		if e.typ == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "p-1.tar.gz")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func hasError(errs []result.Error, path, kind string) bool {
	for _, e := range errs {
		if strings.HasSuffix(e.Path, path) && e.Kind == kind {
			return true
		}
	}
	return false
}

func TestReleaseTreeHostile(t *testing.T) {
	tarball := writeTarGz(t, []tarEntry{
		{name: "p-1/", typ: tar.TypeDir},
		{name: "p-1/ok.txt", body: "ok\n"},
		{name: "p-1/../../escape.txt", body: "escaped\n"},
		{name: "p-1/abs", typ: tar.TypeSymlink, link: "/etc/passwd"},
		{name: "p-1/up", typ: tar.TypeSymlink, link: "../outside"},
		{name: "p-1/in", typ: tar.TypeSymlink, link: "ok.txt"},
		{name: "p-1/hard", typ: tar.TypeLink, link: "p-1/ok.txt"},
	})
	rel, err := ReleaseTree(context.Background(), tarball, inventory.Options{Limits: limits.Default()}, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("errors: %+v", rel.Errors)
	for p := range rel.files {
		if strings.Contains(p, "..") || strings.Contains(p, "escape") {
			t.Errorf("an entry outside the root is in the tree: %q", p)
		}
	}
	if !hasErrorContaining(rel.Errors, "escape.txt", result.KindUnsafe) {
		t.Errorf("no unsafe error for the escaping path")
	}
	for _, p := range []string{"abs", "up"} {
		if !hasError(rel.Errors, p, result.KindUnsafe) {
			t.Errorf("%s: no unsafe error for a link leaving the tree", p)
		}
		if e := rel.files[p]; e == nil || e.typ != "symlink" || e.data != nil {
			t.Errorf("%s: %+v, want a link, not followed", p, e)
		}
	}
	if hasError(rel.Errors, "in", result.KindUnsafe) {
		t.Errorf("a link inside the tree is an error")
	}
	if e := rel.files["hard"]; e == nil || string(e.data) != "ok\n" {
		t.Errorf("hard link: %+v", e)
	}
	// A comparison with these errors carries them: it is never clean.
	src, err := DirTree(t.TempDir(), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Compare(src, rel, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) == 0 || rep.Summary.Errors != len(rep.Errors) {
		t.Fatalf("report errors %v", rep.Errors)
	}
	var txt bytes.Buffer
	if err := rep.WriteText(&txt); err != nil || !strings.Contains(txt.String(), "cannot be clean") {
		t.Fatalf("text: %v\n%s", err, txt.String())
	}
}

func hasErrorContaining(errs []result.Error, s, kind string) bool {
	for _, e := range errs {
		if (strings.Contains(e.Path, s) || strings.Contains(e.Error, s)) && e.Kind == kind {
			return true
		}
	}
	return false
}

func TestDirTreeHostile(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "big.bin"), bytes.Repeat([]byte{1}, 2048), 0o644))
	must(os.Symlink(outside, filepath.Join(dir, "abs")))
	must(os.Symlink("../../../../../../"+outside, filepath.Join(dir, "up")))
	must(os.Symlink("a.txt", filepath.Join(dir, "in")))
	must(os.MkdirAll(filepath.Join(dir, ".git"), 0o755))
	must(os.WriteFile(filepath.Join(dir, ".git/config"), []byte("x"), 0o644))
	// A link to a directory outside is not walked into.
	must(os.Symlink(filepath.Dir(outside), filepath.Join(dir, "dirlink")))

	tr, err := DirTree(dir, Limits{FileSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("errors: %+v", tr.Errors)
	for _, p := range []string{"abs", "up", "dirlink"} {
		if !hasError(tr.Errors, p, result.KindUnsafe) {
			t.Errorf("%s: no unsafe error", p)
		}
		if e := tr.files[p]; e == nil || e.typ != "symlink" || e.data != nil {
			t.Errorf("%s: %+v, want a link, not followed", p, e)
		}
	}
	for p, e := range tr.files {
		if bytes.Contains(e.data, []byte("secret")) || strings.HasPrefix(p, ".git") || strings.HasPrefix(p, "dirlink/") {
			t.Errorf("%s read", p)
		}
	}
	if !hasError(tr.Errors, "big.bin", result.KindLimit) || tr.files["big.bin"].read {
		t.Errorf("big.bin past the file-size limit: %+v", tr.files["big.bin"])
	}
	if hasError(tr.Errors, "in", result.KindUnsafe) || tr.files["a.txt"] == nil {
		t.Errorf("inside link or a.txt wrong")
	}
	rep, err := Compare(tr, tr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) == 0 {
		t.Fatal("a tree with errors compared clean")
	}

	// The file-count and total-size limits stop the reading with an error.
	tr, err = DirTree(dir, Limits{Files: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !hasErrorContaining(tr.Errors, "more than 2 entries", result.KindLimit) || tr.Len() > 2 {
		t.Errorf("file count: %d files, errors %+v", tr.Len(), tr.Errors)
	}
	tr, err = DirTree(dir, Limits{TotalSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if !hasError(tr.Errors, "big.bin", result.KindLimit) {
		t.Errorf("total size: errors %+v", tr.Errors)
	}
	if _, err := DirTree(filepath.Join(dir, "missing"), DefaultLimits()); err == nil {
		t.Error("a missing directory read")
	}
}

func TestReleaseTreeLimits(t *testing.T) {
	tarball := writeTarGz(t, []tarEntry{{name: "p-1/big", body: strings.Repeat("x", 4096)}, {name: "p-1/small", body: "s"}})
	// The inventory's own limit.
	lim := limits.Default()
	lim.FileSize = 1024
	rel, err := ReleaseTree(context.Background(), tarball, inventory.Options{Limits: lim}, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if !hasError(rel.Errors, "big", result.KindLimit) {
		t.Errorf("inventory limit: %+v", rel.Errors)
	}
	// drift's limit on what it holds.
	rel, err = ReleaseTree(context.Background(), tarball, inventory.Options{Limits: limits.Default()}, Limits{FileSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if !hasError(rel.Errors, "big", result.KindLimit) || rel.files["small"] == nil || !rel.files["small"].read {
		t.Errorf("drift limit: %+v", rel.Errors)
	}
	// Archives inside the release, even corrupt ones, are files compared as they are.
	var inner bytes.Buffer
	zw := gzip.NewWriter(&inner)
	zw.Write([]byte("payload"))
	zw.Close()
	corrupt := append([]byte{0xfd, '7', 'z', 'X', 'Z', 0}, bytes.Repeat([]byte{0xee}, 100)...)
	tarball = writeTarGz(t, []tarEntry{{name: "p-1/tests/good.gz", body: inner.String()}, {name: "p-1/tests/bad.xz", body: string(corrupt)}})
	rel, err = ReleaseTree(context.Background(), tarball, inventory.Options{Limits: limits.Default()}, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if len(rel.Errors) != 0 || rel.Len() != 2 || !bytes.Equal(rel.files["tests/bad.xz"].data, corrupt) || !bytes.Equal(rel.files["tests/good.gz"].data, inner.Bytes()) {
		t.Errorf("nested archives: %d files, errors %+v", rel.Len(), rel.Errors)
	}
	// An empty release is never a clean one.
	rel, err = ReleaseTree(context.Background(), writeTarGz(t, nil), inventory.Options{}, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	empty, err := DirTree(t.TempDir(), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Compare(empty, rel, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) == 0 && len(rep.Findings) == 0 {
		t.Errorf("an empty release compared clean: %+v", rep)
	}
	// Not an archive.
	notTar := filepath.Join(t.TempDir(), "x.txt")
	if err := os.WriteFile(notTar, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReleaseTree(context.Background(), notTar, inventory.Options{}, DefaultLimits()); err == nil {
		t.Error("a text file read as a release")
	}
}

func TestGitTreeSymlinkOutside(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "abs")); err != nil {
		t.Fatal(err)
	}
	for _, s := range [][]string{{"git", "-c", "init.defaultBranch=main", "init", "-q"}, {"git", "add", "-A"}, {"git", "commit", "-q", "-m", "x"}} {
		if err := run(dir, s[0], s[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := GitTree(dir, "HEAD", DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if !hasError(tr.Errors, "abs", result.KindUnsafe) || tr.files["abs"].link != "/etc/passwd" || tr.files["abs"].data != nil {
		t.Errorf("errors %+v, abs %+v", tr.Errors, tr.files["abs"])
	}
	tr, err = GitTree(dir, "HEAD", Limits{FileSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !hasError(tr.Errors, "a.txt", result.KindLimit) {
		t.Errorf("git file-size limit: %+v", tr.Errors)
	}
}
