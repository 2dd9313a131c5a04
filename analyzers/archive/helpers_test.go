package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"kensa.dev/kensa/internal/limits"
)

// toolPackages names the Debian package of each external tool the tests use.
var toolPackages = map[string]string{
	"tar": "tar", "gzip": "gzip", "bzip2": "bzip2", "xz": "xz-utils", "lzma": "xz-utils",
	"zstd": "zstd", "zip": "zip", "unzip": "unzip", "ar": "binutils", "cpio": "cpio",
	"dpkg-deb": "dpkg", "rpmbuild": "rpm", "rpm2cpio": "rpm2cpio", "rpm": "rpm",
}

// need fails the test when an external tool is missing, naming the package to install.
func need(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			pkg := toolPackages[tool]
			t.Fatalf("%s is not installed: install the Debian package %s (DEBIAN_FRONTEND=noninteractive apt-get install -y %s)", tool, pkg, pkg)
		}
	}
}

// run runs a command in dir and returns its standard output.
func run(t testing.TB, dir, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// sh runs a shell command line in dir.
func sh(t testing.TB, dir, script string) []byte {
	t.Helper()
	return run(t, dir, "sh", "-c", script)
}

func lim() *limits.Limits {
	l := limits.Default()
	return &l
}

// got is one entry as a reader returned it, with its content.
type got struct {
	Entry
	Content []byte
	ReadErr error
}

// readAll reads every entry of r and its content (at most max bytes each); it returns the
// entries and the error that ended the walk (nil at io.EOF).
func readAll(r Reader, max int64) ([]got, error) {
	var out []got
	for {
		e, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if e == nil {
			return out, errors.New("Next returned a nil entry without an error")
		}
		var buf bytes.Buffer
		_, rerr := io.Copy(&buf, io.LimitReader(r, max))
		out = append(out, got{Entry: *e, Content: buf.Bytes(), ReadErr: rerr})
	}
}

func limitErr(err error) (*limits.Error, bool) {
	var le *limits.Error
	ok := errors.As(err, &le)
	return le, ok
}

// wantLimit fails unless err is a *limits.Error for the named limit.
func wantLimit(t testing.TB, err error, name string) {
	t.Helper()
	le, ok := limitErr(err)
	if !ok {
		t.Fatalf("want a %s limit error, got %v (%T)", name, err, err)
	}
	if le.Limit != name {
		t.Fatalf("want the %s limit, got %s: %v", name, le.Limit, err)
	}
}

// wantFormat fails unless err is a *FormatError of the format wrapping kind (nil: any).
func wantFormat(t testing.TB, err error, format string, kind error) *FormatError {
	t.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("want a %s *FormatError, got %v (%T)", format, err, err)
	}
	if fe.Format != format {
		t.Fatalf("want format %s, got %s: %v", format, fe.Format, err)
	}
	if kind != nil && !errors.Is(err, kind) {
		t.Fatalf("want an error wrapping %q, got %v", kind, err)
	}
	return fe
}

// bounded runs f and fails if it allocates more than maxAlloc bytes in total: the work
// must not grow past what the limits allow, whatever the input claims.
func bounded(t testing.TB, maxAlloc uint64, f func()) {
	t.Helper()
	if raceEnabled {
		// The race detector moves more values to the heap; the bound is about growth
		// with the input, so a constant factor is fine.
		maxAlloc *= 4
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	if a := after.TotalAlloc - before.TotalAlloc; a > maxAlloc {
		t.Errorf("allocated %d bytes, more than %d", a, maxAlloc)
	}
}

func hasAnomaly(e Entry, substr string) bool {
	for _, a := range e.Anomalies {
		if strings.Contains(a, substr) {
			return true
		}
	}
	return false
}

// toolSeeds runs shell commands that each write an archive to $OUT from a small tree (a
// file, a directory, a symbolic link, a hard link, a setuid file) and returns the archives,
// as fuzz seeds made by the real tools.
func toolSeeds(f *testing.F, tools []string, scripts ...string) [][]byte {
	f.Helper()
	need(f, tools...)
	dir := f.TempDir()
	sh(f, dir, "mkdir -p tree/d && printf hello > tree/d/f && ln -s d/f tree/l && ln tree/d/f tree/h && printf x > tree/s && chmod 4755 tree/s")
	var out [][]byte
	for i, s := range scripts {
		p := fmt.Sprintf("%s/out%d", dir, i)
		sh(f, dir+"/tree", "OUT="+p+"; "+s)
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}
