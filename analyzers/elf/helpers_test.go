package elf

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"
)

// analyzeBytes runs the analyzer on b.
func analyzeBytes(b []byte) (*Facts, error) {
	l := limits.Default()
	out, err := New().Analyze(context.Background(), &analyzers.Artifact{
		Path: "test", Format: sniff.ELF, Size: int64(len(b)), Content: bytes.NewReader(b), Limits: &l,
	})
	f, _ := out.(*Facts)
	return f, err
}

// analyzeFile runs the analyzer on the file at path.
func analyzeFile(t testing.TB, path string) *Facts {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	l := limits.Default()
	out, err := New().Analyze(context.Background(), &analyzers.Artifact{
		Path: path, Format: sniff.ELF, Size: st.Size(), Content: f, Limits: &l,
	})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out.(*Facts)
}

// fixture is one ELF file built from testdata.
type fixture struct {
	name  string
	src   string
	args  []string
	strip bool
}

// fixtures are the gcc builds the tests assert facts about. "default" is the hardened
// baseline; every other build differs from it in one respect.
var fixtures = []fixture{
	{name: "default", src: "hello.c", args: []string{"-fstack-protector-strong"}},
	{name: "nopie", src: "hello.c", args: []string{"-fstack-protector-strong", "-fno-pie", "-no-pie"}},
	{name: "execstack", src: "hello.c", args: []string{"-fstack-protector-strong", "-z", "execstack"}},
	{name: "norelro", src: "hello.c", args: []string{"-fstack-protector-strong", "-Wl,-z,norelro"}},
	{name: "nocanary", src: "hello.c", args: []string{"-fno-stack-protector"}},
	{name: "fortify", src: "hello.c", args: []string{"-fstack-protector-strong", "-D_FORTIFY_SOURCE=2", "-O2"}},
	{name: "now", src: "hello.c", args: []string{"-fstack-protector-strong", "-Wl,-z,now"}},
	{name: "static", src: "hello.c", args: []string{"-static"}},
	{name: "staticpie", src: "hello.c", args: []string{"-static-pie"}},
	// Debian's crt files carry no CET property, so the linker is told to mark the output.
	{name: "cet", src: "hello.c", args: []string{"-fcf-protection=full", "-Wl,-z,ibt,-z,shstk"}},
	{name: "stripped", src: "hello.c", args: []string{"-fstack-protector-strong"}, strip: true},
	{name: "ifunc", src: "ifunc.c"},
	{name: "ctor", src: "ctor.c"},
	{name: "preload.so", src: "preload.c", args: []string{"-shared", "-fPIC", "-ldl"}},
}

var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixtureErr  error
)

// buildFixtures compiles every fixture once per test binary, in parallel.
func buildFixtures(t testing.TB) string {
	t.Helper()
	fixtureOnce.Do(func() {
		for _, tool := range []string{"gcc", "strip"} {
			if _, err := exec.LookPath(tool); err != nil {
				fixtureErr = fmt.Errorf("%s not found: install the Debian packages gcc and binutils", tool)
				return
			}
		}
		fixtureDir, fixtureErr = os.MkdirTemp("", "kensa-elf-fixtures-")
		if fixtureErr != nil {
			return
		}
		var wg sync.WaitGroup
		errs := make([]error, len(fixtures))
		sem := make(chan struct{}, 4)
		for i, fx := range fixtures {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				out := filepath.Join(fixtureDir, fx.name)
				args := append([]string{"-o", out, filepath.Join("testdata", fx.src)}, fx.args...)
				if b, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
					errs[i] = fmt.Errorf("gcc %s: %v\n%s", strings.Join(args, " "), err, b)
					return
				}
				if fx.strip {
					if b, err := exec.Command("strip", out).CombinedOutput(); err != nil {
						errs[i] = fmt.Errorf("strip %s: %v\n%s", out, err, b)
					}
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				fixtureErr = err
				return
			}
		}
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixtureDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}
