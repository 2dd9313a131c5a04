package script

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"kensa.dev/kensa/internal/fixture"
)

// bigScript is a shell script of about n bytes made of the samples, so that it has the
// mix of plain lines and observed ones a real installer has.
func bigScript(t testing.TB, n int) []byte {
	var b bytes.Buffer
	b.WriteString("#!/bin/sh\n")
	parts := [][]byte{readSample(t, "install.sh"), readSample(t, "clean.sh"), readSample(t, "setup-env.bash")}
	for i := 0; b.Len() < n; i++ {
		b.Write(parts[i%len(parts)])
	}
	return b.Bytes()
}

// BenchmarkScript compares the analyzer with file(1) telling the language of a 4 MiB shell
// script (file reads less and reports less: only the interpreter).
func BenchmarkScript(b *testing.B) {
	content := bigScript(b, 4<<20)
	dir := b.TempDir()
	p := filepath.Join(dir, "big.sh")
	if err := os.WriteFile(p, content, 0o755); err != nil {
		b.Fatal(err)
	}
	b.Run("kensa", func(b *testing.B) {
		b.SetBytes(int64(len(content)))
		for b.Loop() {
			a := artifact("x/big.sh", content)
			if _, err := New().Analyze(context.Background(), a); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("file", func(b *testing.B) {
		fixture.Need(b, "file", "file")
		b.SetBytes(int64(len(content)))
		for b.Loop() {
			if out, err := exec.Command("file", "-b", p).Output(); err != nil || !bytes.Contains(out, []byte("shell script")) {
				b.Fatalf("file: %v %s", err, out)
			}
		}
	})
}

// BenchmarkRPM compares reading the scriptlets of an rpm with rpm -qp --scripts.
func BenchmarkRPM(b *testing.B) {
	p := BuildRPM(b, b.TempDir())
	pkg, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("kensa", func(b *testing.B) {
		for b.Loop() {
			a := artifact("x/agent.rpm", pkg)
			v, err := New().Analyze(context.Background(), a)
			if err != nil || len(v.(*Facts).InstallHooks) != 8 {
				b.Fatalf("%v %v", v, err)
			}
		}
	})
	b.Run("rpm", func(b *testing.B) {
		for b.Loop() {
			if out, err := exec.Command("rpm", "-qp", "--scripts", "--triggers", p).Output(); err != nil || len(out) == 0 {
				b.Fatalf("rpm: %v", err)
			}
		}
	})
}
