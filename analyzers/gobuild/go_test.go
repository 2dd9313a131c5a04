package gobuild

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func analyzeGo(t testing.TB, b []byte) (*GoFacts, error) {
	t.Helper()
	facts, err := analyzeWith(t, NewGo(), b)
	if facts == nil {
		return nil, err
	}
	return facts.(*GoFacts), err
}

func TestGoFixtures(t *testing.T) {
	dir := goFixtures(t)
	for _, fx := range goFixtureList {
		t.Run(fx.name, func(t *testing.T) {
			f, err := analyzeGo(t, readFile(t, filepath.Join(dir, fx.name)))
			if err != nil || f == nil {
				t.Fatalf("facts %v, error %v", f, err)
			}
			if f.GoVersion != runtime.Version() || f.Path != "example.com/app" || f.Malformed {
				t.Errorf("goVersion %q path %q malformed %v", f.GoVersion, f.Path, f.Malformed)
			}
			if f.Main == nil || *f.Main != (Module{Path: "example.com/app", Version: "(devel)"}) {
				t.Errorf("main %+v", f.Main)
			}
			wantDeps := []Module{{Path: "example.com/dep", Version: "v1.2.3", Replace: &Module{Path: "../dep", Version: "(devel)"}}}
			if !reflect.DeepEqual(f.Deps, wantDeps) || f.DepCount != 1 {
				t.Errorf("deps %+v (count %d)", f.Deps, f.DepCount)
			}
			if f.GOOS != fx.goos || f.GOARCH != fx.goarch || f.BuildMode != "exe" || f.Compiler != "gc" || f.CgoEnabled != (fx.cgo == "1") {
				t.Errorf("goos %q goarch %q buildmode %q compiler %q cgo %v", f.GOOS, f.GOARCH, f.BuildMode, f.Compiler, f.CgoEnabled)
			}
			switch fx.goarch {
			case "amd64":
				if f.GOAMD64 != "v1" || f.GOARM64 != "" {
					t.Errorf("goamd64 %q goarm64 %q", f.GOAMD64, f.GOARM64)
				}
			case "arm64":
				if f.GOARM64 != "v8.0" || f.GOAMD64 != "" {
					t.Errorf("goamd64 %q goarm64 %q", f.GOAMD64, f.GOARM64)
				}
			}
			trim := strings.Contains(strings.Join(fx.flags, " "), "-trimpath")
			if f.Trimpath != trim || f.LDFlags != fx.wantLDFlags || f.Tags != fx.wantTags {
				t.Errorf("trimpath %v ldflags %q tags %q", f.Trimpath, f.LDFlags, f.Tags)
			}
			if fx.vcs {
				if f.VCS != "git" || f.VCSRevision != goVCS || f.VCSTime != vcsCommitTime || f.VCSModified {
					t.Errorf("vcs %q revision %q (want %q) time %q modified %v", f.VCS, f.VCSRevision, goVCS, f.VCSTime, f.VCSModified)
				}
			} else if f.VCS != "" || f.VCSRevision != "" {
				t.Errorf("vcs %q revision %q without VCS stamping", f.VCS, f.VCSRevision)
			}
			// The named fields mirror the ordered list.
			if len(f.Settings) < 6 || f.Settings[0] != (Setting{"-buildmode", "exe"}) || f.Settings[1] != (Setting{"-compiler", "gc"}) {
				t.Errorf("settings %+v", f.Settings)
			}
		})
	}
}

func TestGoNotGo(t *testing.T) {
	dir := workDir(t)
	c := filepath.Join(dir, "c-hello")
	run(t, ".", nil, "gcc", "gcc", "-o", c, "testdata/rust/hello.c")
	facts, err := analyzeWith(t, NewGo(), readFile(t, c))
	if facts != nil || err != nil {
		t.Errorf("a C executable gave facts %+v, error %v", facts, err)
	}
	// Neither is an ELF with its headers cut off.
	facts, err = analyzeWith(t, NewGo(), readFile(t, c)[:64])
	if facts != nil || err != nil {
		t.Errorf("a truncated ELF gave facts %+v, error %v", facts, err)
	}
}

// blobAt returns the offset of the build information blob in b.
func blobAt(t *testing.T, b []byte) int {
	t.Helper()
	for i := 0; ; {
		j := bytes.Index(b[i:], buildInfoMagic)
		if j < 0 {
			t.Fatal("no build information marker")
		}
		if (i+j)%16 == 0 {
			return i + j
		}
		i += j + 1
	}
}

func TestGoMalformed(t *testing.T) {
	dir := goFixtures(t)
	linux := readFile(t, filepath.Join(dir, "linux-trimpath"))

	garbled := bytes.Clone(linux)
	off := blobAt(t, garbled)
	i := off + bytes.Index(garbled[off:], []byte("\nbuild\t-buildmode=exe"))
	garbled[i+17] = '!' // "build line missing '='"
	f, err := analyzeGo(t, garbled)
	if err == nil || !strings.Contains(err.Error(), "malformed") || f == nil || !f.Malformed || f.GoVersion != runtime.Version() || f.Path != "" {
		t.Errorf("garbled module information: facts %+v, error %v", f, err)
	}

	// An ELF file cut inside its build information, its section headers (which would
	// have been past the cut) removed so that the program headers lead to the data:
	// debug/buildinfo only says "not a Go executable", but the marker went by.
	noSections := bytes.Clone(linux)
	binary.LittleEndian.PutUint64(noSections[0x28:], 0) // e_shoff
	binary.LittleEndian.PutUint16(noSections[0x3c:], 0) // e_shnum
	binary.LittleEndian.PutUint16(noSections[0x3e:], 0) // e_shstrndx
	if f, err := analyzeGo(t, noSections); err != nil || f == nil || f.Path != "example.com/app" {
		t.Fatalf("without section headers: facts %+v, error %v", f, err)
	}
	off = blobAt(t, noSections)
	f, err = analyzeGo(t, noSections[:off+48])
	if err == nil || f == nil || !f.Malformed || f.GoVersion != runtime.Version() {
		t.Errorf("truncated build information: facts %+v, error %v", f, err)
	}
	f, err = analyzeGo(t, noSections[:off+20])
	if err == nil || f == nil || !f.Malformed || f.GoVersion != "" {
		t.Errorf("truncated header: facts %+v, error %v", f, err)
	}

	// A version length of 2^62: an error, and no allocation of that size.
	huge := bytes.Clone(linux)
	off = blobAt(t, huge)
	n := binary.PutUvarint(huge[off+32:], 1<<62)
	if n > 10 {
		t.Fatal(n)
	}
	f, err = analyzeGo(t, huge)
	if err == nil || f == nil || !f.Malformed || f.GoVersion != "" {
		t.Errorf("huge version length: facts %+v, error %v", f, err)
	}
}

func TestBudgetReader(t *testing.T) {
	data := make([]byte, 100)
	copy(data[48:], buildInfoMagic)
	copy(data[3:], buildInfoMagic) // not 16-byte aligned: ignored
	br := &budgetReader{r: bytes.NewReader(data), budget: 90, magicOff: -1}
	if n, err := br.ReadAt(make([]byte, 80), 0); n != 80 || err != nil || br.magicOff != 48 {
		t.Fatalf("n %d err %v magic at %d", n, err, br.magicOff)
	}
	if _, err := br.ReadAt(make([]byte, 11), 0); err != errBudget {
		t.Errorf("read past the budget: %v", err)
	}
}

const miniModinfo = "path\texample.com/mini\nmod\texample.com/mini\tv0.0.1\th1:abc=\ndep\tgolang.org/x/net\tv0.62.0\th1:def=\n=>\t../net\t\t\nbuild\t-buildmode=exe\nbuild\tCGO_ENABLED=0\nbuild\tGOOS=linux\nbuild\tGOARCH=amd64\nbuild\tvcs.modified=true\n"

func TestGoMiniELF(t *testing.T) {
	b := miniELF(elfSection{".go.buildinfo", goBlob("go1.99.1", miniModinfo)})
	f, err := analyzeGo(t, b)
	if err != nil || f == nil {
		t.Fatalf("facts %+v, error %v", f, err)
	}
	want := &GoFacts{GoVersion: "go1.99.1", Path: "example.com/mini", Main: &Module{"example.com/mini", "v0.0.1", "h1:abc=", nil},
		Deps: []Module{{"golang.org/x/net", "v0.62.0", "h1:def=", &Module{Path: "../net"}}}, DepCount: 1,
		Settings:  []Setting{{"-buildmode", "exe"}, {"CGO_ENABLED", "0"}, {"GOOS", "linux"}, {"GOARCH", "amd64"}, {"vcs.modified", "true"}},
		BuildMode: "exe", GOOS: "linux", GOARCH: "amd64", VCSModified: true}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("got  %+v\nwant %+v", f, want)
	}
}
