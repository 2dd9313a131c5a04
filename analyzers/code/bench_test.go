package code

import (
	"os"
	"testing"
)

// BenchmarkAnalyze measures the analyzer on real programs and libraries of this
// machine, held in memory; one iteration analyses them all, and the rate is in bytes of
// file per second.
func BenchmarkAnalyze(b *testing.B) {
	var files [][]byte
	var total int64
	for _, p := range []string{"/usr/bin/git", "/usr/bin/bash", "/usr/bin/ssh",
		"/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "/usr/lib/x86_64-linux-gnu/libc.so.6",
		"/usr/lib/x86_64-linux-gnu/libstdc++.so.6"} {
		c, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		files = append(files, c)
		total += int64(len(c))
	}
	if len(files) < 3 {
		b.Fatalf("only %d of the benchmark's system files are on this machine", len(files))
	}
	b.SetBytes(total)
	for b.Loop() {
		for _, c := range files {
			if _, err := analyzeBytes(b, c); err != nil {
				b.Fatal(err)
			}
		}
	}
}
