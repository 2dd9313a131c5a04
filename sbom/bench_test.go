package sbom

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	hostOnce  sync.Once
	hostImage string
)

// hostLayout is an OCI layout of this machine's /usr/bin, dpkg database and os-release:
// a few hundred real executables owned by several hundred real Debian packages.
func hostLayout(b *testing.B) string {
	b.Helper()
	hostOnce.Do(func() {
		root := filepath.Join(work(b), "hostroot")
		for _, d := range []string{"etc", "var/lib", "usr"} {
			if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
				b.Fatal(err)
			}
		}
		run(b, "/", nil, "tar", "sh", "-c", "tar -cf - etc/os-release usr/lib/os-release var/lib/dpkg/status var/lib/dpkg/info usr/bin 2>/dev/null | tar -xf - -C "+root+" || true")
		hostImage = ociLayout(b, root, "host-oci")
	})
	return hostImage
}

var (
	kensaOnce sync.Once
	kensaBin  string
)

func kensaCLI(b *testing.B) string {
	b.Helper()
	kensaOnce.Do(func() {
		bin := filepath.Join(work(b), "kensa")
		run(b, "..", nil, "golang", "go", "build", "-o", bin, "./cmd/kensa")
		kensaBin = bin
	})
	return kensaBin
}

// BenchmarkSBOMvsSyft times `kensa sbom` and `syft scan` (the CLI pinned in go.mod) on
// the same OCI image, one after the other in the same run, and reports each one's peak
// memory. Compare the two ns/op for the ratio.
func BenchmarkSBOMvsSyft(b *testing.B) {
	img := "oci-dir:" + hostLayout(b)
	for _, tc := range []struct {
		name string
		cmd  func() *exec.Cmd
	}{
		{"kensa", func() *exec.Cmd { return exec.Command(kensaCLI(b), "sbom", img, "-q", "-o", "syft-json=/dev/null") }},
		{"syft", func() *exec.Cmd {
			c := exec.Command(syftCLI(b), "scan", img, "-q", "-o", "syft-json=/dev/null")
			c.Env = append(os.Environ(), syftEnv(b)...)
			return c
		}},
	} {
		tc.cmd() // build the binaries outside the timing
		b.Run(tc.name, func(b *testing.B) {
			var rss int64
			var cpu time.Duration
			for b.Loop() {
				c := tc.cmd()
				if out, err := c.CombinedOutput(); err != nil {
					b.Fatalf("%v: %v\n%s", c.Args, err, out)
				}
				if u, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
					rss = max(rss, u.Maxrss*1024)
				}
				cpu += c.ProcessState.UserTime() + c.ProcessState.SystemTime()
			}
			b.ReportMetric(float64(rss)/(1<<20), "peak-MiB")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}
