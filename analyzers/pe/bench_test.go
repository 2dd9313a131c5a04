package pe

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkAnalyze compares Analyze with `x86_64-w64-mingw32-objdump -p` (headers,
// imports, exports, resources) on the same files. The objdump figure includes starting
// the process, which is part of what using it costs.
func BenchmarkAnalyze(b *testing.B) {
	fx := getFixtures(b)
	for _, p := range []string{fx.exe, fx.dll, fx.timestamped, fx.goExe} {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		name := filepath.Base(p)
		b.Run(name+"/kensa", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if f, err := analyzeBytes(data); err != nil || f == nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/objdump", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := exec.Command("x86_64-w64-mingw32-objdump", "-p", p).Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
