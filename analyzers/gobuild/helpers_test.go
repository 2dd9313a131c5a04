package gobuild

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/fixture"
	"kensa.dev/kensa/internal/limits"
)

var (
	tmpOnce sync.Once
	tmpDir  string
	tmpErr  error
)

// workDir is one temporary directory for the fixtures of the whole test binary.
func workDir(tb testing.TB) string {
	tb.Helper()
	tmpOnce.Do(func() { tmpDir, tmpErr = os.MkdirTemp("", "kensa-gobuild-") })
	if tmpErr != nil {
		tb.Fatal(tmpErr)
	}
	return tmpDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
	os.Exit(code)
}

// run runs a command in dir and returns its output (see fixture.Run).
func run(tb testing.TB, dir string, env []string, pkg string, name string, args ...string) string {
	tb.Helper()
	return string(fixture.Run(tb, dir, env, pkg, name, args...))
}

// goFixture is one build of testdata/app.
type goFixture struct {
	name        string
	goos        string
	goarch      string
	cgo         string
	flags       []string
	vcs         bool // build in a fresh git repository with -buildvcs=true
	wantLDFlags string
	wantTags    string
}

var goFixtureList = []goFixture{
	{name: "linux-vcs", goos: "linux", goarch: "amd64", cgo: "0", vcs: true,
		flags:       []string{"-ldflags", "-X main.version=1.0.0", "-tags", "kensa,netgo"},
		wantLDFlags: "-X main.version=1.0.0", wantTags: "kensa,netgo"},
	{name: "linux-trimpath", goos: "linux", goarch: "amd64", cgo: "0", flags: []string{"-trimpath"}},
	{name: "linux-cgo", goos: "linux", goarch: "amd64", cgo: "1", flags: []string{"-ldflags=-s -w"}, wantLDFlags: "-s -w"},
	// With -trimpath, the toolchain does not record -ldflags.
	{name: "windows", goos: "windows", goarch: "amd64", cgo: "0", flags: []string{"-trimpath", "-ldflags=-s"}},
	{name: "darwin", goos: "darwin", goarch: "arm64", cgo: "0", flags: []string{"-trimpath"}},
}

// vcsCommitTime is the fixed commit time of the fixture repository.
const vcsCommitTime = "2024-02-03T04:05:06Z"

var (
	goOnce sync.Once
	goErr  string
	goVCS  string // the fixture repository's HEAD
)

// goFixtures builds every goFixtureList entry once and returns the directory holding
// them (named by fixture).
func goFixtures(tb testing.TB) string {
	tb.Helper()
	dir := workDir(tb)
	goOnce.Do(func() {
		var ftb fatalRecorder
		defer func() {
			if v := recover(); v != nil && v != errFatal {
				panic(v)
			}
			goErr = ftb.msg
		}()
		src := filepath.Join(dir, "src")
		fixture.CopyTree(&ftb, "testdata", src)
		app := filepath.Join(src, "app")
		gitEnv := []string{"GIT_AUTHOR_NAME=kensa", "GIT_AUTHOR_EMAIL=kensa@example.com", "GIT_COMMITTER_NAME=kensa",
			"GIT_COMMITTER_EMAIL=kensa@example.com", "GIT_AUTHOR_DATE=" + vcsCommitTime, "GIT_COMMITTER_DATE=" + vcsCommitTime,
			"GIT_CONFIG_NOSYSTEM=1", "HOME=" + dir}
		run(&ftb, src, gitEnv, "git", "git", "init", "-q", ".")
		run(&ftb, src, gitEnv, "git", "git", "add", ".")
		run(&ftb, src, gitEnv, "git", "git", "commit", "-q", "-m", "fixture")
		goVCS = strings.TrimSpace(run(&ftb, src, gitEnv, "git", "git", "rev-parse", "HEAD"))
		for _, fx := range goFixtureList {
			args := []string{"build", "-o", filepath.Join(dir, fx.name)}
			if fx.vcs {
				args = append(args, "-buildvcs=true")
			} else {
				args = append(args, "-buildvcs=false")
			}
			args = append(args, fx.flags...)
			args = append(args, ".")
			run(&ftb, app, []string{"GOOS=" + fx.goos, "GOARCH=" + fx.goarch, "CGO_ENABLED=" + fx.cgo, "GOWORK=off",
				"GOFLAGS=", "GOAMD64=v1", "GOARM64=v8.0"}, "golang", "go", args...)
		}
	})
	if goErr != "" {
		tb.Fatalf("building the Go fixtures: %s", goErr)
	}
	return dir
}

var errFatal = &struct{ s string }{"fatal"}

// fatalRecorder is a testing.TB for work done once for many tests: Fatal records the
// message and unwinds.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	panic(errFatal)
}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(errFatal)
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func artifact(b []byte) *analyzers.Artifact {
	lim := limits.Default()
	return &analyzers.Artifact{
		Path:    "f",
		Format:  sniff.Detect(b[:min(len(b), sniff.HeadSize)], "f", int64(len(b))).Format,
		Size:    int64(len(b)),
		Content: bytes.NewReader(b),
		Limits:  &lim,
	}
}

func analyzeWith(tb testing.TB, an analyzers.Analyzer, b []byte) (any, error) {
	tb.Helper()
	a := artifact(b)
	if !an.Wants(a) {
		tb.Fatalf("%s analyzer does not want a file sniffed as %q", an.Name(), a.Format)
	}
	return an.Analyze(context.Background(), a)
}

// elfSection is one section of miniELF.
type elfSection struct {
	name string
	data []byte
}

// miniELF builds a little-endian x86-64 ELF executable with the given sections
// (fixture.ELF).
func miniELF(sections ...elfSection) []byte {
	out := make([]fixture.ELFSection, len(sections))
	for i, sec := range sections {
		out[i] = fixture.ELFSection{Name: sec.name, Data: sec.data}
	}
	return fixture.ELF(out...)
}

// goBlob is a Go 1.18+ build information blob: header, version and module information
// (framed by the 16-byte sentinels the go command writes).
func goBlob(version, modinfo string) []byte {
	b := make([]byte, 32)
	copy(b, buildInfoMagic)
	b[14], b[15] = 8, 2 // pointer size, inline strings
	b = binary.AppendUvarint(b, uint64(len(version)))
	b = append(b, version...)
	framed := "0w\xaf\x0c\x92t\b\x02A\xe1\xc1\a\xe6\xd6\x18\xe6" + modinfo + "\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2"
	b = binary.AppendUvarint(b, uint64(len(framed)))
	return append(b, framed...)
}

func writeFile(tb testing.TB, path string, b []byte) {
	tb.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}
