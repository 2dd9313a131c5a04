package inventory

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gabriel-vasile/mimetype"

	"kensa.dev/kensa/internal/fixture"
	"kensa.dev/kensa/internal/limits"
)

// TestKeep checks that with Options.Keep every file's bytes can be read after the walk:
// files of a directory where they are, files from inside archives from the store (once
// per content), hard links through the file they share bytes with; and that Close
// removes the store.
func TestKeep(t *testing.T) {
	elf, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	inner := fixture.Zip(fixture.ZipEntry{Name: "in-zip.txt", Body: []byte("zipped")})
	tarball := fixture.Gzip(fixture.Tar(
		fixture.File("a.txt", []byte("hello")),
		fixture.File("same.txt", []byte("hello")),
		fixture.Exec("bin/true", elf),
		fixture.Hardlink("bin/true2", "bin/true"),
		fixture.Symlink("bin/link", "true"),
		fixture.File("nested.zip", inner),
	))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "delivery.tar.gz"), tarball, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("on disk"), 0o644); err != nil {
		t.Fatal(err)
	}
	scratch := t.TempDir()
	inv, err := Take(context.Background(), []string{dir}, Options{Limits: limits.Default(), Keep: true, Scratch: scratch})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Stored) != len(inv.Artifacts) {
		t.Fatalf("%d stored, %d artifacts", len(inv.Stored), len(inv.Artifacts))
	}
	want := map[string][]byte{
		"notes.txt":                             []byte("on disk"),
		"delivery.tar.gz":                       tarball,
		"delivery.tar.gz!a.txt":                 []byte("hello"),
		"delivery.tar.gz!same.txt":              []byte("hello"),
		"delivery.tar.gz!bin/true":              elf,
		"delivery.tar.gz!bin/true2":             elf,
		"delivery.tar.gz!nested.zip":            inner,
		"delivery.tar.gz!nested.zip!in-zip.txt": []byte("zipped"),
	}
	files := map[string]string{}
	for i, a := range inv.Artifacts {
		s := inv.Stored[i]
		body, ok := want[a.Path]
		if !ok {
			if s.File != "" {
				t.Errorf("%s (%s): kept as %s", a.Path, a.Type, s.File)
			}
			continue
		}
		delete(want, a.Path)
		r, err := s.Open()
		var got []byte
		if err == nil {
			got, err = io.ReadAll(r)
			r.Close()
		}
		if err != nil || !bytes.Equal(got, body) || s.Size != int64(len(body)) {
			t.Errorf("%s: kept %q (%v), want its %d bytes", a.Path, s.File, err, len(body))
		}
		if m, _, _ := strings.Cut(mimetype.Detect(body).String(), ";"); s.MIME != m {
			t.Errorf("%s: MIME %q, want %q", a.Path, s.MIME, m)
		}
		files[a.Path] = fmt.Sprintf("%s@%d", s.File, s.Offset)
	}
	for p := range want {
		t.Errorf("%s: not listed", p)
	}
	if files["notes.txt"] != filepath.Join(dir, "notes.txt")+"@0" {
		t.Errorf("a file of the directory was copied: %s", files["notes.txt"])
	}
	if files["delivery.tar.gz!a.txt"] != files["delivery.tar.gz!same.txt"] {
		t.Error("the same bytes were kept twice")
	}
	pack, _, _ := strings.Cut(files["delivery.tar.gz!a.txt"], "@")
	store := filepath.Dir(pack)
	if filepath.Dir(store) != scratch {
		t.Errorf("the store %s is not in the scratch directory %s", store, scratch)
	}
	if fi, err := os.Stat(store); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("store mode: %v %v", fi.Mode(), err)
	}
	if err := inv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(store); !os.IsNotExist(err) {
		t.Errorf("Close left the store: %v", err)
	}
	if left, _ := os.ReadDir(scratch); len(left) != 0 {
		t.Errorf("left in the scratch directory: %v", left)
	}

	// Without Keep nothing is stored.
	inv, err = Take(context.Background(), []string{dir}, Options{Limits: limits.Default(), Scratch: scratch})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Stored != nil {
		t.Error("Stored without Keep")
	}
	if left, _ := os.ReadDir(scratch); len(left) != 0 {
		t.Errorf("left in the scratch directory: %v", left)
	}
}
