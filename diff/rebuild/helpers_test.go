package rebuild

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The fixtures are built at test time from testdata: the C handler with gcc (ELF) and
// x86_64-w64-mingw32-gcc (PE), the Go handler with the go command. Each delivered and
// rebuilt binary comes from its own copy of the source in its own directory, with its own
// time stamps, as a vendor's build and a buyer's rebuild would.

// fixtureDir holds the binaries built once for all tests of a run.
var (
	fixtureOnce sync.Once
	fixtureRoot string
	fixtureErr  error
)

func root(t testing.TB) string {
	t.Helper()
	fixtureOnce.Do(func() {
		fixtureRoot, fixtureErr = os.MkdirTemp("", "rebuild-fixtures-")
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixtureRoot
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureRoot != "" {
		os.RemoveAll(fixtureRoot)
	}
	os.Exit(code)
}

var builtMu sync.Mutex
var built = map[string]string{}

// cBuild describes one build of testdata/handler.c.
type cBuild struct {
	cc    string // gcc or x86_64-w64-mingw32-gcc
	dir   string // build directory name (same length for every build: the layout stays)
	epoch string // SOURCE_DATE_EPOCH: __DATE__, __TIME__ and the PE time stamp
	stamp string // -DBUILD_TIME
	flags []string
	strip bool
}

// buildC builds the handler as b says and returns the binary's path; the same build is
// made once per run.
func buildC(t testing.TB, b cBuild) string {
	t.Helper()
	key := strings.Join(append([]string{b.cc, b.dir, b.epoch, b.stamp, strings.Join(b.flags, " ")}, map[bool]string{true: "strip"}[b.strip]), "|")
	builtMu.Lock()
	defer builtMu.Unlock()
	if p, ok := built[key]; ok {
		return p
	}
	if _, err := exec.LookPath(b.cc); err != nil {
		t.Fatalf("%s is needed to build the fixtures: %v", b.cc, err)
	}
	src, err := os.ReadFile(filepath.Join("testdata", "handler.c"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root(t), b.dir, "src")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfile := filepath.Join(dir, "handler.c")
	if err := os.WriteFile(cfile, src, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root(t), "bin", strings.NewReplacer("|", "_", " ", "", "/", "", "=", "", "-", "", ":", "").Replace(key))
	if strings.Contains(b.cc, "mingw") {
		out += ".exe"
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-O2", "-DBUILD_TIME=\"" + b.stamp + "\""}, b.flags...)
	args = append(args, "-o", out, cfile)
	cmd := exec.Command(b.cc, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+b.epoch)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", b.cc, strings.Join(args, " "), err, msg)
	}
	if b.strip {
		stripper := "strip"
		if strings.Contains(b.cc, "mingw") {
			stripper = "x86_64-w64-mingw32-strip"
		}
		if msg, err := exec.Command(stripper, "--strip-all", out).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", stripper, err, msg)
		}
	}
	built[key] = out
	return out
}

// The two builds of a pair: the vendor's (delivered) and the buyer's (rebuilt).
func vendorBuild(cc string, flags ...string) cBuild {
	return cBuild{cc: cc, dir: "build-vendor", epoch: "1764100000", stamp: "2025-11-25T19:46:40Z", flags: flags}
}

func buyerBuild(cc string, flags ...string) cBuild {
	return cBuild{cc: cc, dir: "build-buyerx", epoch: "1764230000", stamp: "2025-11-27T07:53:20Z", flags: flags}
}

// goBuild builds testdata/goprog in its own copy under dir, with edit applied to
// main.go, for goos/goarch, and returns the binary's path.
func goBuild(t testing.TB, dir, goos, goarch string, edit func(string) string) string {
	t.Helper()
	builtMu.Lock()
	defer builtMu.Unlock()
	key := "go|" + dir + "|" + goos + "|" + goarch
	if p, ok := built[key]; ok {
		return p
	}
	src, err := os.ReadFile(filepath.Join("testdata", "goprog", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join("testdata", "goprog", "go.mod.txt"))
	if err != nil {
		t.Fatal(err)
	}
	code := string(src)
	if edit != nil {
		code = edit(code)
		if code == string(src) {
			t.Fatal("the edit changed nothing")
		}
	}
	d := filepath.Join(root(t), dir)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "main.go"), []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "go.mod"), mod, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root(t), "bin", strings.ReplaceAll(key, "|", "_"))
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, ".")
	cmd.Dir = d
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false",
		"GOTOOLCHAIN=local", "GOPROXY=off", "GOWORK=off")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	built[key] = out
	return out
}

// compareFiles runs CompareBinary on two files.
func compareFiles(t testing.TB, delivered, rebuilt string) *BinaryDiff {
	t.Helper()
	d, err := os.ReadFile(delivered)
	if err != nil {
		t.Fatal(err)
	}
	r, err := os.ReadFile(rebuilt)
	if err != nil {
		t.Fatal(err)
	}
	bd, err := CompareBinary(bytes.NewReader(d), bytes.NewReader(r), int64(len(d)), int64(len(r)))
	if err != nil {
		t.Fatalf("CompareBinary(%s, %s): %v", delivered, rebuilt, err)
	}
	return bd
}

// has reports whether some difference of the kind has a message containing every part.
func has(l []Difference, kind string, parts ...string) bool {
	for _, d := range l {
		if kind != "" && d.Kind != kind {
			continue
		}
		ok := true
		for _, p := range parts {
			if !strings.Contains(d.Message, p) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func dump(t testing.TB, bd *BinaryDiff) {
	t.Helper()
	t.Logf("format %s verdict %s: %d differences, %d ignored", bd.Format, bd.Verdict, len(bd.Differences), len(bd.Ignored))
	for _, d := range bd.Differences {
		t.Logf("  %s %s: %s", d.Severity, d.Kind, d.Message)
	}
	for _, d := range bd.Ignored {
		t.Logf("  ignored %s: %s", d.Kind, d.Message)
	}
}
