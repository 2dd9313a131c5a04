package gobuild

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"

	"kensa.dev/kensa/analyzers/internal/debugsafe"
)

func fuzzArtifact(b []byte) *analyzers.Artifact {
	lim := limits.Default()
	f := sniff.Detect(b[:min(len(b), sniff.HeadSize)], "f", int64(len(b))).Format
	if !f.Executable() {
		f = sniff.ELF
	}
	return &analyzers.Artifact{Path: "f", Format: f, Size: int64(len(b)), Content: bytes.NewReader(b), Limits: &lim}
}

// FuzzGo runs the go analyzer on the input as a file, and on a small ELF whose
// .go.buildinfo section holds the input as module information.
func FuzzGo(f *testing.F) {
	f.Add(miniELF(elfSection{".go.buildinfo", goBlob("go1.99.1", miniModinfo)}))
	f.Add([]byte(miniModinfo))
	f.Add(goBlob("go1.22.0", miniModinfo))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, file := range [][]byte{b, miniELF(elfSection{".go.buildinfo", goBlob("go1.99.1", string(b))}), miniELF(elfSection{".go.buildinfo", b})} {
			facts, err := NewGo().Analyze(context.Background(), fuzzArtifact(file))
			if facts == nil {
				continue
			}
			g := facts.(*GoFacts)
			if len(g.Deps) > maxDeps || len(g.Settings) > maxSettings || g.DepCount < len(g.Deps) {
				t.Fatalf("caps exceeded: %d deps (count %d), %d settings", len(g.Deps), g.DepCount, len(g.Settings))
			}
			if g.Malformed && err == nil {
				t.Fatal("malformed without an error")
			}
		}
	})
}

// FuzzRust runs the rust analyzer on the input as a file, and on a small ELF whose
// .dep-v0 section holds the input, raw and zlib-compressed.
func FuzzRust(f *testing.F) {
	f.Add([]byte(auditDoc))
	f.Add([]byte(`{"packages":[{"name":"a","version":"1","source":{"Other":"x"},"root":true,"dependencies":[0,5]}]}`))
	f.Add(miniELF(elfSection{".dep-v0", zlibBytes([]byte(auditDoc))}, elfSection{".comment", []byte("rustc version 1.95.0\x00")}))
	f.Add([]byte("\x00/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/rt.rs"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, file := range [][]byte{b, miniELF(elfSection{".dep-v0", b}), miniELF(elfSection{".dep-v0", zlibBytes(b)}, elfSection{".data", b})} {
			facts, _ := NewRust().Analyze(context.Background(), fuzzArtifact(file))
			if facts == nil {
				continue
			}
			r := facts.(*RustFacts)
			if len(r.Packages) > maxPackages || r.PackageCount < len(r.Packages) || len(r.RustcCommits) > maxCommits || len(r.Anomalies) > maxAnomalies {
				t.Fatalf("caps exceeded: %+v", r)
			}
			for _, p := range r.Packages {
				if len(p.Dependencies) > maxPackageDeps || p.Kind == "" {
					t.Fatalf("package %+v", p)
				}
			}
		}
	})
}

// FuzzBuildInfo drives the go analyzer (debug/buildinfo behind the package's budget and
// safe view) on build information carried by the three executable formats: the input as
// a whole file, and as the data of an ELF .go.buildinfo section, of a PE .data section
// and of a Mach-O __DATA,__go_buildinfo section. It is seeded with the build information
// blobs of the Go fixtures (ELF, PE and Mach-O builds). Whatever the input, nothing
// panics (not even inside debug/buildinfo, whose recovered panics fail the target), two
// runs give the same facts and error, and the facts only repeat what the file claims:
// every reported string is in the file's bytes, and the named fields are the values of
// their settings.
func FuzzBuildInfo(f *testing.F) {
	dir := goFixtures(f)
	for _, name := range []string{"linux-vcs", "windows", "darwin"} {
		b := readFile(f, filepath.Join(dir, name))
		blob := realBlob(f, b)
		// Each container carries the real blob to the decoder.
		for _, file := range [][]byte{miniELF(elfSection{".go.buildinfo", blob}), miniPE(blob), miniMachO(blob)} {
			facts, err := NewGo().Analyze(context.Background(), fuzzArtifact(file))
			if g, ok := facts.(*GoFacts); !ok || err != nil || g.GoVersion != runtime.Version() || g.Path != "example.com/app" {
				f.Fatalf("%s: the build information in a small %s file gave %+v, %v", name, sniff.Detect(file, "f", int64(len(file))).Format, facts, err)
			}
		}
		f.Add(blob)
		f.Add(blob[:len(blob)/2])
	}
	f.Add(goBlob("go1.22.0", miniModinfo))
	f.Add(miniPE(goBlob("go1.99.1", miniModinfo)))
	f.Add(miniMachO(goBlob("go1.99.1", miniModinfo)))
	// The pre-1.18 form: pointers to the version and module strings.
	old := make([]byte, 64)
	copy(old, buildInfoMagic)
	old[14], old[15] = 8, 0
	binary.LittleEndian.PutUint64(old[16:], 0x400000+128+32)
	binary.LittleEndian.PutUint64(old[24:], 0x400000+128+48)
	f.Add(old)
	f.Fuzz(func(t *testing.T, b []byte) {
		files := [][]byte{b, miniELF(elfSection{".go.buildinfo", b}), miniPE(b), miniMachO(b)}
		for i, file := range files {
			facts, err := NewGo().Analyze(context.Background(), fuzzArtifact(file))
			again, err2 := NewGo().Analyze(context.Background(), fuzzArtifact(file))
			if err != nil && strings.Contains(err.Error(), "recovered panic") {
				t.Fatalf("file %d: %v", i, err)
			}
			j1, _ := json.Marshal(facts)
			j2, _ := json.Marshal(again)
			if !bytes.Equal(j1, j2) || errText(err) != errText(err2) {
				t.Fatalf("file %d: two runs differ: %s (%v) and %s (%v)", i, j1, err, j2, err2)
			}
			if facts == nil {
				// The only error without facts: a file whose headers would cost too
				// much to parse is refused before anything is read from it.
				if err != nil && !errors.Is(err, debugsafe.ErrCostly) {
					t.Fatalf("file %d: an error without facts: %v", i, err)
				}
				continue
			}
			g := facts.(*GoFacts)
			if g.Malformed != (err != nil) {
				t.Fatalf("file %d: malformed %v with error %v", i, g.Malformed, err)
			}
			if !bytes.Contains(file, buildInfoMagic) {
				t.Fatalf("file %d: facts %s from a file without the build information marker", i, j1)
			}
			checkClaimed(t, file, g)
		}
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// checkClaimed fails when g reports a string that is not in file, or a named field that
// is not the value of its setting.
func checkClaimed(t *testing.T, file []byte, g *GoFacts) {
	t.Helper()
	// A setting key or value may be quoted in the file (strconv.Quote form), so it is
	// only looked for verbatim when the file has no quote character.
	quoted := bytes.ContainsAny(file, "\"`")
	in := func(what, s string, maybeQuoted bool) {
		// clean replaces invalid UTF-8 (and a cut rune) by U+FFFD.
		if s == "" || strings.ContainsRune(s, utf8.RuneError) || maybeQuoted && quoted {
			return
		}
		if !bytes.Contains(file, []byte(s)) {
			t.Fatalf("%s %q is not in the file", what, s)
		}
	}
	mod := func(what string, m *Module) {
		if m == nil {
			return
		}
		in(what+" path", m.Path, false)
		in(what+" version", m.Version, false)
		in(what+" sum", m.Sum, false)
		if m.Replace != nil {
			in(what+" replacement path", m.Replace.Path, false)
			in(what+" replacement version", m.Replace.Version, false)
			in(what+" replacement sum", m.Replace.Sum, false)
		}
	}
	in("go version", g.GoVersion, false)
	in("path", g.Path, false)
	mod("main module", g.Main)
	if len(g.Deps) > maxDeps || len(g.Deps) > g.DepCount || len(g.Settings) > maxSettings {
		t.Fatalf("%d deps (count %d), %d settings", len(g.Deps), g.DepCount, len(g.Settings))
	}
	for i := range g.Deps {
		mod("dependency", &g.Deps[i])
	}
	last := map[string]string{}
	for _, s := range g.Settings {
		in("setting key", s.Key, true)
		in("setting value", s.Value, true)
		last[s.Key] = s.Value
	}
	named := []struct{ key, got string }{
		{"-buildmode", g.BuildMode}, {"-compiler", g.Compiler}, {"GOOS", g.GOOS}, {"GOARCH", g.GOARCH},
		{"GOAMD64", g.GOAMD64}, {"GOARM64", g.GOARM64}, {"-ldflags", g.LDFlags}, {"-tags", g.Tags},
		{"vcs", g.VCS}, {"vcs.revision", g.VCSRevision}, {"vcs.time", g.VCSTime},
	}
	for _, n := range named {
		if n.got != last[n.key] {
			t.Fatalf("field of %s is %q, its last setting %q", n.key, n.got, last[n.key])
		}
	}
	if g.CgoEnabled != (last["CGO_ENABLED"] == "1") || g.Trimpath != (last["-trimpath"] == "true") ||
		g.VCSModified != (last["vcs.modified"] == "true") {
		t.Fatalf("cgo %v trimpath %v modified %v, settings %v", g.CgoEnabled, g.Trimpath, g.VCSModified, g.Settings)
	}
}

// realBlob returns the build information blob of a Go executable: header, version and
// module information, as the linker wrote them.
func realBlob(tb testing.TB, b []byte) []byte {
	tb.Helper()
	for i := 0; ; {
		j := bytes.Index(b[i:], buildInfoMagic)
		if j < 0 {
			tb.Fatal("no build information marker")
		}
		if off := i + j; off%16 == 0 && b[off+15]&2 != 0 {
			end := off + 32
			for range 2 {
				n, k := binary.Uvarint(b[end:])
				if k <= 0 {
					tb.Fatal("malformed build information")
				}
				end += k + int(n)
			}
			return bytes.Clone(b[off:end])
		}
		i += j + 1
	}
}

// miniPE builds a PE32+ executable with one initialized read-write section, .data at
// RVA 0x1000, holding data (debug/buildinfo looks for the build information in the first
// such section).
func miniPE(data []byte) []byte {
	const imageBase, rva, fileAlign, rawOff = 0x140000000, 0x1000, 0x200, 0x200
	le := binary.LittleEndian
	raw := (len(data) + fileAlign - 1) / fileAlign * fileAlign
	out := make([]byte, rawOff+raw)
	copy(out, "MZ")
	le.PutUint32(out[0x3c:], 0x40)
	copy(out[0x40:], "PE\x00\x00")
	coff := out[0x44:]
	le.PutUint16(coff[0:], 0x8664) // x86-64
	le.PutUint16(coff[2:], 1)      // sections
	le.PutUint16(coff[16:], 240)   // optional header size
	le.PutUint16(coff[18:], 0x22)  // executable, large address aware
	opt := out[0x58:]
	le.PutUint16(opt[0:], 0x20b) // PE32+
	le.PutUint64(opt[24:], imageBase)
	le.PutUint32(opt[32:], 0x1000)
	le.PutUint32(opt[36:], fileAlign)
	le.PutUint32(opt[56:], uint32(rva+(raw+0xfff)/0x1000*0x1000)) // image size
	le.PutUint32(opt[60:], rawOff)                                // header size
	le.PutUint16(opt[68:], 3)                                     // console
	le.PutUint32(opt[108:], 16)                                   // data directories
	sh := out[0x58+240:]
	copy(sh, ".data")
	le.PutUint32(sh[8:], uint32(raw))
	le.PutUint32(sh[12:], rva)
	le.PutUint32(sh[16:], uint32(raw))
	le.PutUint32(sh[20:], rawOff)
	le.PutUint32(sh[36:], 0xc0000040) // initialized data, read, write
	copy(out[rawOff:], data)
	return out
}

// miniMachO builds a 64-bit x86-64 Mach-O executable with one __DATA segment mapping the
// whole file, whose __go_buildinfo section holds data.
func miniMachO(data []byte) []byte {
	const base, dataOff = 0x100000000, 192
	le := binary.LittleEndian
	out := make([]byte, dataOff+len(data))
	le.PutUint32(out[0:], 0xfeedfacf)
	le.PutUint32(out[4:], 0x01000007) // x86-64
	le.PutUint32(out[8:], 3)
	le.PutUint32(out[12:], 2) // MH_EXECUTE
	le.PutUint32(out[16:], 1) // one load command
	le.PutUint32(out[20:], 72+80)
	seg := out[32:]
	le.PutUint32(seg[0:], 0x19) // LC_SEGMENT_64
	le.PutUint32(seg[4:], 72+80)
	copy(seg[8:], "__DATA")
	le.PutUint64(seg[24:], base)
	le.PutUint64(seg[32:], uint64(len(out)))
	le.PutUint64(seg[40:], 0)
	le.PutUint64(seg[48:], uint64(len(out)))
	le.PutUint32(seg[56:], 3) // max protection rw
	le.PutUint32(seg[60:], 3) // initial protection rw
	le.PutUint32(seg[64:], 1) // one section
	sec := seg[72:]
	copy(sec[0:], "__go_buildinfo")
	copy(sec[16:], "__DATA")
	le.PutUint64(sec[32:], base+dataOff)
	le.PutUint64(sec[40:], uint64(len(data)))
	le.PutUint32(sec[48:], dataOff)
	le.PutUint32(sec[52:], 4) // 16-byte alignment
	copy(out[dataOff:], data)
	return out
}
