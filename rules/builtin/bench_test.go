package builtin_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"testing"

	"kensa.dev/kensa/internal/cli"
)

// benchCorpus copies up to limit bytes of this machine's /usr/bin executables into a
// directory, once per run.
func benchCorpus(b *testing.B, limit int64) (dir string, files []string, total int64) {
	b.Helper()
	entries, err := os.ReadDir("/usr/bin")
	if err != nil {
		b.Fatal(err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	dir = b.TempDir()
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		src := filepath.Join("/usr/bin", e.Name())
		fi, err := e.Info()
		if err != nil || fi.Size() == 0 || total+fi.Size() > limit {
			continue
		}
		in, err := os.Open(src)
		if err != nil {
			continue
		}
		dst := filepath.Join(dir, e.Name())
		out, err := os.Create(dst)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(out, in)
		in.Close()
		out.Close()
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, dst)
		total += n
	}
	return dir, files, total
}

// BenchmarkScan scans a few hundred MB of real executables with every built-in pack
// (inventory, digests, the analyzers the rules need, one pattern pass) next to sha256sum
// over the same files, the floor of any tool that reads every byte.
func BenchmarkScan(b *testing.B) {
	dir, files, total := benchCorpus(b, 300<<20)
	cores := float64(runtime.GOMAXPROCS(0))
	// kensa as it runs by default (a walk worker and analysis workers), and with every
	// parser in kensa's own process (--isolation none): the difference is what isolation costs.
	for _, c := range []struct{ name, isolation string }{{"kensa", "process"}, {"kensa-isolation-none", "none"}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(total)
			for b.Loop() {
				var out, errb bytes.Buffer
				if code := cli.Run([]string{"scan", "-q", "--format", "json", "--isolation", c.isolation, dir}, &out, &errb); code == 2 {
					b.Fatalf("scan: %s", errb.String())
				}
			}
			b.ReportMetric(float64(total)/1e6/(b.Elapsed().Seconds()/float64(b.N))/cores, "MB/s/core")
		})
	}
	b.Run("sha256sum", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			cmd := exec.Command("sha256sum", files...)
			cmd.Stdout = io.Discard
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(total)/1e6/(b.Elapsed().Seconds()/float64(b.N)), "MB/s/core")
	})
}
