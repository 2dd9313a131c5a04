package gobuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"
)

// goVersionM runs `go version -m` on path and parses what it prints back into build
// information (its lines are debug.BuildInfo.String() indented by a tab, after a
// "PATH: goVERSION" line).
func goVersionM(t *testing.T, path string) *debug.BuildInfo {
	t.Helper()
	out, err := exec.Command("go", "version", "-m", path).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m %s: %v\n%s", path, err, out)
	}
	first, rest, _ := strings.Cut(string(out), "\n")
	_, ver, ok := strings.Cut(first, ": ")
	if !ok {
		t.Fatalf("go version -m %s printed %q", path, out)
	}
	var lines []string
	for _, l := range strings.Split(rest, "\n") {
		lines = append(lines, strings.TrimPrefix(l, "\t"))
	}
	bi, err := debug.ParseBuildInfo(strings.Join(lines, "\n"))
	if err != nil {
		t.Fatalf("parsing go version -m %s: %v\n%s", path, err, out)
	}
	bi.GoVersion = ver
	return bi
}

// toolchainGoBinaries lists the Go executables of the toolchain and of GOPATH/bin.
func toolchainGoBinaries(t *testing.T) []string {
	var dirs []string
	root := goroot(t)
	dirs = append(dirs, filepath.Join(root, "bin"), filepath.Join(root, "pkg", "tool", "linux_amd64"))
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, p := range filepath.SplitList(strings.TrimSpace(string(out))) {
			dirs = append(dirs, filepath.Join(p, "bin"))
		}
	}
	var files []string
	for _, d := range dirs {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
				files = append(files, filepath.Join(d, e.Name()))
			}
		}
	}
	return files
}

func goroot(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestDifferentialGoVersion compares the analyzer with `go version -m` on the fixtures
// and on every Go executable of the toolchain and GOPATH/bin.
func TestDifferentialGoVersion(t *testing.T) {
	dir := goFixtures(t)
	var files []string
	for _, fx := range goFixtureList {
		files = append(files, filepath.Join(dir, fx.name))
	}
	fixtures := len(files)
	files = append(files, toolchainGoBinaries(t)...)
	agree := 0
	for _, p := range files {
		want := goVersionM(t, p)
		f, err := analyzeGo(t, readFile(t, p))
		if err != nil || f == nil {
			t.Errorf("%s: facts %v, error %v", p, f, err)
			continue
		}
		ok := true
		check := func(what string, got, want any) {
			if !reflect.DeepEqual(got, want) {
				ok = false
				t.Errorf("%s: %s: kensa %+v, go version -m %+v", p, what, got, want)
			}
		}
		check("go version", f.GoVersion, want.GoVersion)
		check("path", f.Path, want.Path)
		var wantMain *Module
		if want.Main.Path != "" {
			wantMain = module(&want.Main)
		}
		check("main", f.Main, wantMain)
		var wantDeps []Module
		for _, d := range want.Deps {
			wantDeps = append(wantDeps, *module(d))
		}
		check("deps", f.Deps, wantDeps)
		var wantSettings []Setting
		for _, s := range want.Settings {
			wantSettings = append(wantSettings, Setting{s.Key, s.Value})
		}
		check("settings", f.Settings, wantSettings)
		if ok {
			agree++
		}
	}
	t.Logf("agreement with go version -m: %d of %d executables (%d fixtures, %d from the toolchain and GOPATH/bin)",
		agree, len(files), fixtures, len(files)-fixtures)
	if len(files)-fixtures < 2 {
		t.Errorf("found only %d toolchain executables (go and gofmt at least)", len(files)-fixtures)
	}
}
