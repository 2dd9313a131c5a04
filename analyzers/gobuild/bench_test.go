package gobuild

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkGo compares the go analyzer with `go version -m` on the same executable.
func BenchmarkGo(b *testing.B) {
	path := filepath.Join(goFixtures(b), "linux-vcs")
	data := readFile(b, path)
	b.Run("kensa", func(b *testing.B) {
		a := artifact(data)
		for b.Loop() {
			a.Content = bytes.NewReader(data)
			if f, err := NewGo().Analyze(context.Background(), a); f == nil || err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go-version-m", func(b *testing.B) {
		for b.Loop() {
			if err := exec.Command("go", "version", "-m", path).Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRust compares the rust analyzer (find, decompress and decode the audit data)
// with objdump dumping the same .dep-v0 section (find and print only).
func BenchmarkRust(b *testing.B) {
	dir := b.TempDir()
	payload := filepath.Join(dir, "dep")
	c := filepath.Join(dir, "c")
	writeFile(b, payload, zlibBytes([]byte(auditDoc)))
	run(b, ".", nil, "gcc", "gcc", "-o", c, "testdata/rust/hello.c")
	path := filepath.Join(dir, "c-dep")
	run(b, ".", nil, "binutils", "objcopy", "--add-section", ".dep-v0="+payload, c, path)
	data := readFile(b, path)
	b.Run("kensa", func(b *testing.B) {
		a := artifact(data)
		for b.Loop() {
			a.Content = bytes.NewReader(data)
			if f, err := NewRust().Analyze(context.Background(), a); f == nil || err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("objdump", func(b *testing.B) {
		for b.Loop() {
			if err := exec.Command("objdump", "-s", "-j", ".dep-v0", path).Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
