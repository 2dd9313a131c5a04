package macho

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkAnalyze compares the analyzer with llvm-objdump printing the load commands
// and dylibs of the same darwin/arm64 Go executable.
func BenchmarkAnalyze(b *testing.B) {
	data := readFixture(b, "hello-arm64")
	path := filepath.Join(goFixtures(b), "hello-arm64")
	b.Run("kensa", func(b *testing.B) {
		a := artifact(data)
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			a.Content = bytes.NewReader(data)
			if _, err := New().Analyze(context.Background(), a); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("llvm-objdump", func(b *testing.B) {
		if _, err := exec.LookPath("llvm-objdump"); err != nil {
			b.Fatal("llvm-objdump is not installed (Debian package llvm)")
		}
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if err := exec.Command("llvm-objdump", "--macho", "--private-headers", "--dylibs-used", path).Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
