package gobuild

import (
	"bytes"
	"compress/zlib"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// auditDoc is a cargo-auditable document: an app with a runtime and a build dependency,
// format 1.
const auditDoc = `{"format":1,"packages":[
{"name":"kensa-fixture","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},
{"name":"serde","version":"1.0.210","source":"crates.io","dependencies":[]},
{"name":"cc","version":"1.1.30","source":"crates.io","kind":"build"},
{"name":"private","version":"2.0.0","source":"registry"},
{"name":"forked","version":"0.3.0","source":"git"}]}`

var wantPackages = []RustPackage{
	{Name: "kensa-fixture", Version: "0.1.0", Source: "local", Kind: "runtime", Root: true, Dependencies: []int{1, 2}},
	{Name: "serde", Version: "1.0.210", Source: "crates.io", Kind: "runtime"},
	{Name: "cc", Version: "1.1.30", Source: "crates.io", Kind: "build"},
	{Name: "private", Version: "2.0.0", Source: "registry", Kind: "runtime"},
	{Name: "forked", Version: "0.3.0", Source: "git", Kind: "runtime"},
}

func zlibBytes(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// withSection adds a section holding data to the executable in, with objcopy (of pkg),
// and returns the new file's path.
func withSection(t *testing.T, objcopy, pkg, in, section string, data []byte) string {
	t.Helper()
	dir := t.TempDir()
	payload := filepath.Join(dir, "payload")
	if err := os.WriteFile(payload, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	run(t, ".", nil, pkg, objcopy, "--add-section", section+"="+payload, in, out)
	return out
}

var (
	cOnce                 sync.Once
	cELF, cPE, cErr, rbin string
)

// cFixtures builds testdata/rust/hello.c with gcc and x86_64-w64-mingw32-gcc.
func cFixtures(t *testing.T) (elfPath, pePath string) {
	t.Helper()
	dir := workDir(t)
	cOnce.Do(func() {
		var ftb fatalRecorder
		defer func() {
			if v := recover(); v != nil && v != errFatal {
				panic(v)
			}
			cErr = ftb.msg
		}()
		cELF, cPE = filepath.Join(dir, "c-elf"), filepath.Join(dir, "c.exe")
		run(&ftb, ".", nil, "gcc", "gcc", "-o", cELF, "testdata/rust/hello.c")
		run(&ftb, ".", nil, "gcc-mingw-w64-x86-64", "x86_64-w64-mingw32-gcc", "-o", cPE, "testdata/rust/hello.c")
	})
	if cErr != "" {
		t.Fatal(cErr)
	}
	return cELF, cPE
}

func analyzeRust(t testing.TB, b []byte) (*RustFacts, error) {
	t.Helper()
	facts, err := analyzeWith(t, NewRust(), b)
	if facts == nil {
		return nil, err
	}
	return facts.(*RustFacts), err
}

func checkAudit(t *testing.T, f *RustFacts, err error, section, segment string) {
	t.Helper()
	if err != nil || f == nil {
		t.Fatalf("facts %+v, error %v", f, err)
	}
	if !f.AuditData || f.Section != section || f.Segment != segment || f.FormatVersion != 1 || f.PackageCount != 5 || len(f.Anomalies) != 0 {
		t.Errorf("audit %v section %q segment %q format %d count %d anomalies %v", f.AuditData, f.Section, f.Segment, f.FormatVersion, f.PackageCount, f.Anomalies)
	}
	if f.CompressedSize != int64(len(zlibBytes([]byte(auditDoc)))) {
		t.Errorf("compressed size %d", f.CompressedSize)
	}
	if !reflect.DeepEqual(f.Packages, wantPackages) {
		t.Errorf("packages %+v", f.Packages)
	}
}

func TestRustELF(t *testing.T) {
	c, _ := cFixtures(t)
	p := withSection(t, "objcopy", "binutils", c, ".dep-v0", zlibBytes([]byte(auditDoc)))
	f, err := analyzeRust(t, readFile(t, p))
	checkAudit(t, f, err, ".dep-v0", "")
	if f.RustcVersion != "" || f.RustcCommits != nil {
		t.Errorf("rustc traces in a C program: %q %v", f.RustcVersion, f.RustcCommits)
	}
	// Without the section, a C program is not Rust.
	if facts, err := analyzeWith(t, NewRust(), readFile(t, c)); facts != nil || err != nil {
		t.Errorf("C program: %+v, %v", facts, err)
	}
}

func TestRustPE(t *testing.T) {
	_, pe := cFixtures(t)
	p := withSection(t, "x86_64-w64-mingw32-objcopy", "binutils-mingw-w64-x86-64", pe, ".dep-v0", zlibBytes([]byte(auditDoc)))
	f, err := analyzeRust(t, readFile(t, p))
	checkAudit(t, f, err, ".dep-v0", "")
}

func TestRustMachO(t *testing.T) {
	dir := goFixtures(t)
	p := withSection(t, "llvm-objcopy", "llvm", filepath.Join(dir, "darwin"), "__DATA,.dep-v0", zlibBytes([]byte(auditDoc)))
	f, err := analyzeRust(t, readFile(t, p))
	checkAudit(t, f, err, ".dep-v0", "__DATA")
	// The Go analyzer still reads the same file.
	g, err := analyzeGo(t, readFile(t, p))
	if err != nil || g == nil || g.Path != "example.com/app" {
		t.Errorf("go facts of the Mach-O with audit data: %+v, %v", g, err)
	}
}

var rustOnce sync.Once
var rustErr, rustVersion, rustCommit string

// rustcFixture builds testdata/rust/hello.rs with rustc.
func rustcFixture(t *testing.T) string {
	t.Helper()
	dir := workDir(t)
	rustOnce.Do(func() {
		var ftb fatalRecorder
		defer func() {
			if v := recover(); v != nil && v != errFatal {
				panic(v)
			}
			rustErr = ftb.msg
		}()
		rbin = filepath.Join(dir, "rust-hello")
		run(&ftb, ".", nil, "rustc", "rustc", "-O", "-o", rbin, "testdata/rust/hello.rs")
		for _, l := range strings.Split(run(&ftb, ".", nil, "rustc", "rustc", "-vV"), "\n") {
			if v, ok := strings.CutPrefix(l, "commit-hash: "); ok {
				rustCommit = v
			}
		}
		rustVersion = strings.TrimSpace(strings.TrimPrefix(run(&ftb, ".", nil, "rustc", "rustc", "--version"), "rustc "))
	})
	if rustErr != "" {
		t.Fatal(rustErr)
	}
	return rbin
}

func TestRustRustc(t *testing.T) {
	bin := rustcFixture(t)
	f, err := analyzeRust(t, readFile(t, bin))
	if err != nil || f == nil {
		t.Fatalf("facts %+v, error %v", f, err)
	}
	wantCommits := []string{rustCommit}
	if len(rustCommit) != 40 || !isHex([]byte(rustCommit)) {
		// A distribution build without a commit hash remaps no paths to /rustc/<hash>.
		wantCommits = f.RustcCommits
		t.Logf("rustc -vV names no commit (%q); commits seen: %v", rustCommit, f.RustcCommits)
	}
	if f.AuditData || f.RustcVersion != rustVersion || !reflect.DeepEqual(f.RustcCommits, wantCommits) {
		t.Errorf("audit %v version %q (rustc says %q) commits %v (rustc says %s)", f.AuditData, f.RustcVersion, rustVersion, f.RustcCommits, rustCommit)
	}
	// A real rustc executable with cargo-auditable data added as cargo-auditable does.
	p := withSection(t, "objcopy", "binutils", bin, ".dep-v0", zlibBytes([]byte(auditDoc)))
	f, err = analyzeRust(t, readFile(t, p))
	checkAudit(t, f, err, ".dep-v0", "")
	if f.RustcVersion != rustVersion || f.RustcCommits != nil {
		t.Errorf("version %q commits %v", f.RustcVersion, f.RustcCommits)
	}
	// A Go executable is no Rust one.
	if facts, err := analyzeWith(t, NewRust(), readFile(t, filepath.Join(goFixtures(t), "linux-trimpath"))); facts != nil || err != nil {
		t.Errorf("Go executable: %+v, %v", facts, err)
	}
}

func TestRustHostile(t *testing.T) {
	c, _ := cFixtures(t)
	bomb := zlibBytes(append([]byte(`{"packages":[],"x":"`), bytes.Repeat([]byte("A"), maxJSONBytes+10)...))
	cases := []struct {
		name    string
		data    []byte
		err     string
		anomaly string
	}{
		{"not zlib", []byte("not compressed at all"), "not zlib-compressed", ""},
		{"bomb", bomb, "decompresses to more than", ""},
		{"not JSON", zlibBytes([]byte("{{{")), "not cargo-auditable JSON", ""},
		{"no packages", zlibBytes([]byte(`{}`)), "no package list", "0 root packages"},
		{"bad indices", zlibBytes([]byte(`{"packages":[{"name":"a","version":"1","source":"local","root":true,"dependencies":[0,7,-1]}]}`)), "",
			"depends on package 7, which does not exist"},
		{"odd source", zlibBytes([]byte(`{"packages":[{"name":"a","version":"1","source":{"Other":"sparse+https://x"},"root":true}]}`)), "", ""},
	}
	for _, c2 := range cases {
		t.Run(c2.name, func(t *testing.T) {
			p := withSection(t, "objcopy", "binutils", c, ".dep-v0", c2.data)
			f, err := analyzeRust(t, readFile(t, p))
			if f == nil || !f.AuditData {
				t.Fatalf("facts %+v, error %v", f, err)
			}
			if c2.err == "" && err != nil || c2.err != "" && (err == nil || !strings.Contains(err.Error(), c2.err)) {
				t.Errorf("error %v, want %q", err, c2.err)
			}
			if c2.anomaly != "" && !strings.Contains(strings.Join(f.Anomalies, "\n"), c2.anomaly) {
				t.Errorf("anomalies %v lack %q", f.Anomalies, c2.anomaly)
			}
			if c2.name == "odd source" && (len(f.Packages) != 1 || f.Packages[0].Source != "sparse+https://x") {
				t.Errorf("packages %+v", f.Packages)
			}
		})
	}

	// A section header claiming more bytes than the file has.
	p := withSection(t, "objcopy", "binutils", c, ".dep-v0", zlibBytes([]byte(auditDoc)))
	b := readFile(t, p)
	ef, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	shoff := binary.LittleEndian.Uint64(b[0x28:])
	for i, s := range ef.Sections {
		if s.Name == ".dep-v0" {
			binary.LittleEndian.PutUint64(b[shoff+uint64(i)*64+32:], 1<<40) // sh_size
		}
	}
	f, err := analyzeRust(t, b)
	if f == nil || err == nil || !strings.Contains(err.Error(), "extends past the end of the file") {
		t.Errorf("oversized section: facts %+v, error %v", f, err)
	}
}
