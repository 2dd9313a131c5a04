package gobuild

import (
	"bytes"
	"context"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"
)

func fuzzArtifact(b []byte) *analyzers.Artifact {
	lim := limits.Default()
	f := sniff.Detect(b[:min(len(b), sniff.HeadSize)], "f", int64(len(b))).Format
	if !f.Executable() {
		f = sniff.ELF
	}
	return &analyzers.Artifact{Path: "f", Format: f, Size: int64(len(b)), Content: bytes.NewReader(b), Limits: &lim}
}

// FuzzGo runs the go analyzer on the input as a file, and on a small ELF whose
// .go.buildinfo section holds the input as module information.
func FuzzGo(f *testing.F) {
	f.Add(miniELF(elfSection{".go.buildinfo", goBlob("go1.99.1", miniModinfo)}))
	f.Add([]byte(miniModinfo))
	f.Add(goBlob("go1.22.0", miniModinfo))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, file := range [][]byte{b, miniELF(elfSection{".go.buildinfo", goBlob("go1.99.1", string(b))}), miniELF(elfSection{".go.buildinfo", b})} {
			facts, err := NewGo().Analyze(context.Background(), fuzzArtifact(file))
			if facts == nil {
				continue
			}
			g := facts.(*GoFacts)
			if len(g.Deps) > maxDeps || len(g.Settings) > maxSettings || g.DepCount < len(g.Deps) {
				t.Fatalf("caps exceeded: %d deps (count %d), %d settings", len(g.Deps), g.DepCount, len(g.Settings))
			}
			if g.Malformed && err == nil {
				t.Fatal("malformed without an error")
			}
		}
	})
}

// FuzzRust runs the rust analyzer on the input as a file, and on a small ELF whose
// .dep-v0 section holds the input, raw and zlib-compressed.
func FuzzRust(f *testing.F) {
	f.Add([]byte(auditDoc))
	f.Add([]byte(`{"packages":[{"name":"a","version":"1","source":{"Other":"x"},"root":true,"dependencies":[0,5]}]}`))
	f.Add(miniELF(elfSection{".dep-v0", zlibBytes([]byte(auditDoc))}, elfSection{".comment", []byte("rustc version 1.95.0\x00")}))
	f.Add([]byte("\x00/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/rt.rs"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, file := range [][]byte{b, miniELF(elfSection{".dep-v0", b}), miniELF(elfSection{".dep-v0", zlibBytes(b)}, elfSection{".data", b})} {
			facts, _ := NewRust().Analyze(context.Background(), fuzzArtifact(file))
			if facts == nil {
				continue
			}
			r := facts.(*RustFacts)
			if len(r.Packages) > maxPackages || r.PackageCount < len(r.Packages) || len(r.RustcCommits) > maxCommits || len(r.Anomalies) > maxAnomalies {
				t.Fatalf("caps exceeded: %+v", r)
			}
			for _, p := range r.Packages {
				if len(p.Dependencies) > maxPackageDeps || p.Kind == "" {
					t.Fatalf("package %+v", p)
				}
			}
		}
	})
}
