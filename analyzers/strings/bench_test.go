package strings

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
)

// benchFiles returns the largest regular files of /usr/bin (up to 3) and a generated
// 100 MB file of mixed strings, UTF-16 and noise.
func benchFiles(b *testing.B) []string {
	ents, err := os.ReadDir("/usr/bin")
	if err != nil {
		b.Fatal(err)
	}
	type fi struct {
		path string
		size int64
	}
	var all []fi
	for _, e := range ents {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			all = append(all, fi{filepath.Join("/usr/bin", e.Name()), info.Size()})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].size > all[j].size })
	var files []string
	for i := 0; i < len(all) && i < 3; i++ {
		files = append(files, all[i].path)
	}
	mixed := filepath.Join(b.TempDir(), "mixed-100M")
	if err := os.WriteFile(mixed, mixedBlob(42, 100<<20), 0o644); err != nil {
		b.Fatal(err)
	}
	return append(files, mixed)
}

// BenchmarkStrings compares the analyzer (ASCII, UTF-16LE, indicators and entropy in one
// pass) with GNU strings run for ASCII (-a -n 6) and for UTF-16LE (-a -n 6 -e l).
func BenchmarkStrings(b *testing.B) {
	if _, err := exec.LookPath("strings"); err != nil {
		b.Fatal("GNU strings is needed: install the Debian package binutils")
	}
	for _, path := range benchFiles(b) {
		info, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		name := filepath.Base(path)
		b.Run(name+"/kensa", func(b *testing.B) {
			b.SetBytes(info.Size())
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				a := &analyzers.Artifact{Path: name, Format: sniff.Data, Size: info.Size(), Content: f}
				if _, err := New().Analyze(context.Background(), a); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
		run := func(args ...string) {
			cmd := exec.Command("strings", append(args, path)...)
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(name+"/gnu-strings-ascii", func(b *testing.B) {
			b.SetBytes(info.Size())
			for b.Loop() {
				run("-a", "-n", "6")
			}
		})
		b.Run(name+"/gnu-strings-utf16", func(b *testing.B) {
			b.SetBytes(info.Size())
			for b.Loop() {
				run("-a", "-n", "6", "-e", "l")
			}
		})
	}
}
