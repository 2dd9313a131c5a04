package sbom

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/source"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/internal/result"
)

// TestReplayedFilesystemsYieldTheSame catalogs filesystems of one file each, the inside
// of compressed files, the way an image's are: those that answer nothing to the
// questions asked of the first are not cataloged, and every filesystem's SBOM is the one
// syft makes of it on its own. It fails too when syft's catalogers list every file of a
// filesystem in more places than the one replay.go allows for.
func TestReplayedFilesystemsYieldTheSame(t *testing.T) {
	dir := t.TempDir()
	files := []struct{ name, content, mime string }{
		{"java.1", ".TH JAVA 1\n.SH NAME\njava \\- launch a Java application\n", "text/troff"},
		{"ls.1", ".TH LS 1\n.SH NAME\nls \\- list directory contents\n", "text/troff"},
		{"busybox", "\x7fELF\x02\x01\x01 BusyBox v1.36.1 (2023-01-01) multi-call binary", "application/x-executable"},
		{"changelog", "bash (5.2.15-2) unstable; urgency=medium\n", "text/plain"},
		{"store", "nix", "text/plain"},
	}
	var roots []*fsys
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, []byte(f.content), 0o644); err != nil {
			t.Fatal(err)
		}
		r := newFsys("/usr/share/"+f.name+".gz", nil)
		a := result.Artifact{Path: "usr/share/" + f.name + ".gz!" + f.name, Type: "file", Mode: "0755", Size: int64(len(f.content))}
		if err := r.add("/"+f.name, &a, inventory.Stored{File: p, Size: a.Size, MIME: f.mime}); err != nil {
			t.Fatal(err)
		}
		r.finish()
		if !r.oneFileAtTop() {
			t.Fatalf("%s: not one file at the top", f.name)
		}
		roots = append(roots, r)
	}
	cfg := syft.DefaultCreateSBOMConfig().WithTool("kensa", "test").WithoutFiles()
	desc := source.Description{ID: "test", Name: "test", Metadata: source.ImageMetadata{UserInput: "test"}}
	ctx, err := Prepare(context.Background()).licenseContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, err := catalogRoots(ctx, desc, roots, cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	skipped := 0
	for i, r := range roots {
		rec := &recorder{fsys: r}
		want, err := syft.CreateSBOM(ctx, &delivery{desc: desc, res: rec}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if n := countAll(rec.questions); n != 1 {
			t.Errorf("%s: syft listed every file %d times, replay.go allows for once (the nix store cataloger)", files[i].name, n)
		}
		if got[i] == nil {
			skipped++
			if !addsNothing(want) {
				t.Errorf("%s: not cataloged, but syft finds %d packages in it", files[i].name, want.Artifacts.Packages.PackageCount())
			}
			continue
		}
		if g, w := got[i].Artifacts.Packages.PackageCount(), want.Artifacts.Packages.PackageCount(); g != w {
			t.Errorf("%s: %d packages, syft alone finds %d", files[i].name, g, w)
		}
	}
	if got[2] == nil || got[2].Artifacts.Packages.PackageCount() != 1 {
		t.Errorf("busybox: cataloged %v, want its one package", got[2] != nil)
	}
	if skipped != 3 { // ls.1, changelog, store; java.1 is the one asked first
		t.Errorf("%d filesystems not cataloged, want 3", skipped)
	}
}

func countAll(qs []question) int {
	n := 0
	for _, q := range qs {
		if q.kind == "all" {
			n++
		}
	}
	return n
}
