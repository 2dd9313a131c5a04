package elf

import (
	"io"
	"os/exec"
	"strings"
	"testing"
)

// BenchmarkAnalyze compares the analyzer with `readelf -W -a` on the same 50 ELF files of
// /usr/bin; one iteration reads all 50.
func BenchmarkAnalyze(b *testing.B) {
	var files []string
	for _, f := range systemELFs(b, maxSystemFiles) {
		if strings.HasPrefix(f, "/usr/bin/") && len(files) < 50 {
			files = append(files, f)
		}
	}
	if len(files) < 50 {
		b.Fatalf("only %d ELF files in /usr/bin", len(files))
	}
	b.Run("kensa", func(b *testing.B) {
		for b.Loop() {
			for _, f := range files {
				analyzeFile(b, f)
			}
		}
	})
	b.Run("readelf", func(b *testing.B) {
		if _, err := exec.LookPath("readelf"); err != nil {
			b.Fatal("readelf not found: install the Debian package binutils")
		}
		for b.Loop() {
			for _, f := range files {
				cmd := exec.Command("readelf", "-W", "-a", f)
				cmd.Stdout = io.Discard
				cmd.Stderr = io.Discard
				cmd.Run() // readelf exits 1 on files it only warns about
			}
		}
	})
}
