package pe

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	sw "github.com/saferwall/pe"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/gobuild"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/fixture"
	"kensa.dev/kensa/internal/limits"
)

// Tests of the bad-input catalogue rows P1–P6, P9 and P10
// (/work/shared/reference/bad-inputs.md §7). Each builds the hostile file and runs every
// analyzer kensa runs on a PE file that this module's executable analyzers provide: pe
// (saferwall/pe and this package's table readers) and the go and rust build information
// readers of package gobuild (debug/pe behind analyzers/internal/debugsafe).

// peOutcome is what one analyzer made of a file.
type peOutcome struct {
	name  string
	facts any
	err   error
}

// runPE runs the pe, go and rust analyzers on b as the inventory does (analyzers.Run,
// which turns a panic into a *analyzers.PanicError) and fails the test on a recovered
// panic anywhere. It returns the outcomes and the bytes they allocated.
func runPE(t *testing.T, b []byte) ([]peOutcome, uint64) {
	t.Helper()
	l := limits.Default()
	a := &analyzers.Artifact{Path: "hostile.exe", Format: sniff.PE, Size: int64(len(b)), Content: bytes.NewReader(b), Limits: &l}
	var out []peOutcome
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	for _, an := range []analyzers.Analyzer{New(), gobuild.NewGo(), gobuild.NewRust()} {
		o := peOutcome{name: an.Name()}
		if res := analyzers.Run(context.Background(), []analyzers.Analyzer{an}, a); len(res) == 1 {
			o.facts, o.err = res[0].Facts, res[0].Err
		}
		out = append(out, o)
	}
	runtime.ReadMemStats(&m1)
	for _, o := range out {
		var pe *analyzers.PanicError
		if errors.As(o.err, &pe) || o.err != nil && (strings.Contains(o.err.Error(), "panic")) {
			t.Fatalf("%s: a panic was recovered: %v", o.name, o.err)
		}
	}
	return out, m1.TotalAlloc - m0.TotalAlloc
}

// peFacts returns the pe analyzer's facts and error from outcomes.
func peFacts(t *testing.T, out []peOutcome) (*Facts, error) {
	t.Helper()
	f, _ := out[0].facts.(*Facts)
	if out[0].name != "pe" || f == nil {
		t.Fatalf("no pe facts: %+v", out[0])
	}
	return f, out[0].err
}

// peSec is one section of catPE: its raw data is data, at the next 0x200 boundary.
type peSec struct {
	name  string
	rva   uint32
	data  []byte
	chars uint32
}

const (
	peCode  = 0x60000020 // code, execute, read
	peData  = 0xc0000040 // initialized data, read, write
	peRData = 0x40000040 // initialized data, read
)

// catPE builds a PE32+ console executable (fixture.PE64): headers in the first 0x400
// bytes, then each section's raw data. dirs sets data directories by index.
func catPE(secs []peSec, dirs map[int][2]uint32) []byte {
	out := make([]fixture.PESection, len(secs))
	for i, s := range secs {
		out[i] = fixture.PESection{Name: s.name, RVA: s.rva, Data: s.data, Chars: s.chars}
	}
	return fixture.PE64(out, dirs)
}

// textSection is a section of x86-64 code: a return, then int3 padding.
func textSection() peSec {
	return peSec{name: ".text", rva: 0x1000, data: append([]byte{0xc3}, bytes.Repeat([]byte{0xcc}, 0x1ff)...), chars: peCode}
}

// TestP1HugeCounts: a 2 KB file whose COFF header claims 65535 sections, 2^32-1 COFF
// symbols, or a 4 GiB string table (Go #43827, #52350, #54640, #53189), and a 2.6 MB file
// that really holds 65535 section headers. Every analyzer completes (facts or an error)
// within a fixed allocation: the claims cost nothing, and the largest section table the
// 16-bit count allows costs its three parsers (saferwall/pe, and debug/pe for the go and
// rust analyzers) about 75 MB in all, a fixed ceiling.
func TestP1HugeCounts(t *testing.T) {
	le := binary.LittleEndian
	base := catPE([]peSec{textSection(), {name: ".data", rva: 0x2000, data: make([]byte, 0x200), chars: peData}}, nil)
	cases := []struct {
		name   string
		b      []byte
		limit  uint64
		checks func(t *testing.T, f *Facts, err error)
	}{
		{name: "number-of-sections-65535", b: func() []byte {
			b := bytes.Clone(base)
			le.PutUint16(b[0x86:], 0xffff)
			return b
		}(), limit: 16 << 20},
		{name: "number-of-symbols-4G", b: func() []byte {
			b := bytes.Clone(base)
			le.PutUint32(b[0x84+8:], 0x400)       // PointerToSymbolTable
			le.PutUint32(b[0x84+12:], 0xffffffff) // NumberOfSymbols
			return b
		}(), limit: 16 << 20, checks: func(t *testing.T, f *Facts, err error) {
			if err != nil || len(f.Sections) != 2 {
				t.Errorf("%d sections, error %v", len(f.Sections), err)
			}
		}},
		{name: "string-table-4G", b: func() []byte {
			b := bytes.Clone(base)
			le.PutUint32(b[0x84+8:], 0x600) // PointerToSymbolTable: the .data raw data
			le.PutUint32(b[0x600:], 0xfffffff0)
			return b
		}(), limit: 16 << 20, checks: func(t *testing.T, f *Facts, err error) {
			if err != nil || len(f.Sections) != 2 {
				t.Errorf("%d sections, error %v", len(f.Sections), err)
			}
		}},
		{name: "65535-section-headers", b: func() []byte {
			const n = 0xffff
			b := make([]byte, 0x188+40*n+0x200)
			copy(b, base[:0x188])
			le.PutUint16(b[0x86:], n)
			le.PutUint32(b[0x98+60:], uint32(0x188+40*n)) // SizeOfHeaders
			for i := 0; i < n; i++ {
				sh := b[0x188+40*i:]
				copy(sh, ".text")
				le.PutUint32(sh[8:], 0x200)
				le.PutUint32(sh[12:], 0x1000)
				le.PutUint32(sh[16:], 0x200)
				le.PutUint32(sh[20:], uint32(0x188+40*n))
				le.PutUint32(sh[36:], peCode)
			}
			return b
		}(), limit: 128 << 20, checks: func(t *testing.T, f *Facts, err error) {
			if len(f.Sections) != maxSections || !f.SectionsTruncated {
				t.Errorf("%d sections reported, truncated %v", len(f.Sections), f.SectionsTruncated)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, alloc := runPE(t, c.b)
			f, err := peFacts(t, out)
			if f.Machine != "amd64" {
				t.Errorf("machine %q", f.Machine)
			}
			if c.checks != nil {
				c.checks(t, f, err)
			}
			if alloc > c.limit {
				t.Errorf("allocated %d bytes for a %d-byte file", alloc, len(c.b))
			}
			t.Logf("%d-byte file: allocated %d bytes; pe error %v", len(c.b), alloc, err)
		})
	}
}

// TestP2ImportThunksOutOfBounds: an import descriptor whose lookup and address tables
// lie outside the file (Go #73548: debug/pe's ImportedSymbols indexes past its data on
// such a file; kensa reads imports with its own bounded reader and never calls it) is an
// error that says the loader cannot bind the imports, with an anomaly per table, and no
// panic. A second descriptor whose thunks name RVAs outside the file yields empty names
// and nothing worse.
func TestP2ImportThunksOutOfBounds(t *testing.T) {
	le := binary.LittleEndian
	idata := make([]byte, 0x200)
	const rva = 0x3000
	copy(idata[0x100:], "kernel32.dll\x00")
	copy(idata[0x120:], "user32.dll\x00")
	// Descriptor 0: lookup and address tables far outside the file.
	le.PutUint32(idata[0:], 0x7ffffff0)
	le.PutUint32(idata[12:], rva+0x100)
	le.PutUint32(idata[16:], 0xfffffff0)
	// Descriptor 1: a table inside the file whose entries name RVAs outside it.
	le.PutUint32(idata[20:], rva+0x180)
	le.PutUint32(idata[20+12:], rva+0x120)
	le.PutUint32(idata[20+16:], rva+0x180)
	le.PutUint64(idata[0x180:], 0x7fffff00)
	le.PutUint64(idata[0x188:], 0x7fffff80)
	b := catPE([]peSec{textSection(), {name: ".idata", rva: rva, data: idata, chars: peData}}, map[int][2]uint32{1: {rva, 60}})
	out, alloc := runPE(t, b)
	f, err := peFacts(t, out)
	want := `import descriptor 0 ("kernel32.dll") has its lookup table at RVA 0x7ffffff0, outside the file`
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "the loader cannot bind these imports") {
		t.Errorf("error %v, want %q", err, want)
	}
	for _, a := range []string{want, `import descriptor 0 ("kernel32.dll") has its address table at RVA 0xfffffff0, outside the file`} {
		if !slices.Contains(f.Anomalies, a) {
			t.Errorf("anomalies %q lack %q", f.Anomalies, a)
		}
	}
	if !slices.Equal(f.ImportedDLLs, []string{"kernel32.dll", "user32.dll"}) || !slices.Equal(f.Imports, []string{"user32.dll!", "user32.dll!"}) {
		t.Errorf("dlls %q imports %q", f.ImportedDLLs, f.Imports)
	}
	if alloc > 16<<20 {
		t.Errorf("allocated %d bytes", alloc)
	}
}

// clrPE builds a PE file with a CLR header whose metadata root lists the given streams
// (name, offset from the root, size), followed by tables as the "#~" stream's data.
func clrPE(streams []struct {
	name      string
	off, size uint32
}, tables []byte) []byte {
	le := binary.LittleEndian
	const rva = 0x3000
	text := make([]byte, 0x1000)
	// COR20 header at 0: cb, runtime version, metadata RVA and size.
	le.PutUint32(text[0:], 72)
	le.PutUint16(text[4:], 2)
	le.PutUint16(text[6:], 5)
	le.PutUint32(text[8:], rva+0x100)
	le.PutUint32(text[12:], 0xf00)
	le.PutUint32(text[16:], 1) // IL only
	// Metadata root at 0x100.
	md := text[0x100:]
	le.PutUint32(md[0:], 0x424a5342) // BSJB
	le.PutUint16(md[4:], 1)
	le.PutUint16(md[6:], 1)
	le.PutUint32(md[12:], 12)
	copy(md[16:], "v4.0.30319\x00\x00")
	le.PutUint16(md[30:], uint16(len(streams)))
	pos := 32
	for _, s := range streams {
		le.PutUint32(md[pos:], s.off)
		le.PutUint32(md[pos+4:], s.size)
		copy(md[pos+8:], s.name+"\x00")
		pos += 8 + (len(s.name)+1+3)&^3
	}
	copy(md[0x200:], tables)
	return catPE([]peSec{textSection(), {name: ".cormeta", rva: rva, data: text, chars: peRData}}, map[int][2]uint32{14: {rva, 72}})
}

// TestP3SaferwallCrashClasses: the crash classes of saferwall/pe issues #124 (load
// configuration directory), #125 (.NET metadata streams) and #131 (.NET metadata
// tables), each as a small crafted file: every analyzer completes without a panic and
// within a fixed allocation. kensa never asks saferwall/pe for the load configuration,
// and leaves the metadata tables to it only when their row counts fit the stream (see
// metadataSane). The saferwall/pe kensa builds with (go list -m) is at least v1.6.4,
// the release with those fixes.
func TestP3SaferwallCrashClasses(t *testing.T) {
	// The module's build list, as the go command resolves it (offline).
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Version}}{{with .Replace}} {{.Version}}{{end}}", "github.com/saferwall/pe")
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly")
	vb, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -m github.com/saferwall/pe: %v", err)
	}
	fields := strings.Fields(string(vb))
	version := ""
	if len(fields) > 0 {
		version = fields[len(fields)-1]
	}
	if !versionAtLeast(version, 1, 6, 4) {
		t.Errorf("saferwall/pe %q linked; v1.6.4 or later fixes #124, #125 and #131", version)
	}

	le := binary.LittleEndian
	type stream = struct {
		name      string
		off, size uint32
	}
	// The "#~" table stream: header, then a row count per present table.
	tableStream := func(valid uint64, rows uint32) []byte {
		h := make([]byte, 24)
		h[4], h[5] = 2, 0
		le.PutUint64(h[8:], valid)
		for range bitsSet(valid) {
			h = le.AppendUint32(h, rows)
		}
		return append(h, make([]byte, 64)...)
	}
	cases := []struct {
		name string
		b    []byte
	}{
		{"124-load-config-size-4G", func() []byte {
			data := make([]byte, 0x200)
			le.PutUint32(data, 0xffffffff) // the structure's own Size field
			return catPE([]peSec{textSection(), {name: ".rdata", rva: 0x2000, data: data, chars: peRData}}, map[int][2]uint32{10: {0x2000, 0xffffffff}})
		}()},
		{"125-streams-past-the-end", clrPE([]stream{{"#~", 0xfffffff0, 0xfffffff0}, {"#Strings", 0x7ffffff0, 0x100}, {"#US", 0x200, 0xffffffff},
			{"#GUID", 0xffffff00, 16}, {"#Blob", 0x200, 0x7fffffff}}, nil)},
		{"125-stream-name-unterminated", func() []byte {
			b := clrPE([]stream{{"#Strings", 0x200, 0x100}}, nil)
			i := bytes.Index(b, []byte("#Strings"))
			copy(b[i:], bytes.Repeat([]byte("#"), 0x100))
			return b
		}()},
		{"125-many-streams", clrPE(slices.Repeat([]stream{{"#Blob", 0x200, 0x10}}, 200), nil)},
		{"131-table-rows-4G", clrPE([]stream{{"#~", 0x200, 0x100}}, tableStream(0x0000_1fff_ffff_ffff, 0xffffffff))},
		{"131-tables-claim-more-than-the-stream", clrPE([]stream{{"#~", 0x200, 0x100}}, tableStream(0x0000_0000_0000_0fff, 0x1000))},
		{"131-every-table-bit", clrPE([]stream{{"#~", 0x200, 0xd00}}, tableStream(^uint64(0), 1))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, alloc := runPE(t, c.b)
			f, err := peFacts(t, out)
			if f.Machine != "amd64" {
				t.Errorf("machine %q, error %v", f.Machine, err)
			}
			if alloc > 32<<20 {
				t.Errorf("allocated %d bytes", alloc)
			}
			t.Logf("allocated %d bytes; dotnet %+v; pe error %v", alloc, f.DotNet, err)
		})
	}
}

func bitsSet(v uint64) []struct{} {
	var out []struct{}
	for ; v != 0; v &= v - 1 {
		out = append(out, struct{}{})
	}
	return out
}

// versionAtLeast reports whether the module version v ("v1.6.5") is at least
// major.minor.patch.
func versionAtLeast(v string, major, minor, patch int) bool {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) != 3 {
		return false
	}
	var n [3]int
	for i, p := range parts {
		p, _, _ = strings.Cut(p, "-")
		x, err := strconv.Atoi(p)
		if err != nil {
			return false
		}
		n[i] = x
	}
	return slices.Compare(n[:], []int{major, minor, patch}) >= 0
}

// relocPE is a file with a base relocation directory of blocks (page RVA, SizeOfBlock).
func relocPE(blocks [][2]uint32) []byte {
	le := binary.LittleEndian
	reloc := make([]byte, 0x200)
	for i, bl := range blocks {
		le.PutUint32(reloc[8*i:], bl[0])
		le.PutUint32(reloc[8*i+4:], bl[1])
	}
	return catPE([]peSec{textSection(), {name: ".reloc", rva: 0x2000, data: reloc, chars: peRData}}, map[int][2]uint32{5: {0x2000, 0x200}})
}

// unwindPE is a file whose exception directory holds one RUNTIME_FUNCTION whose unwind
// information chains (UNW_FLAG_CHAININFO) back to the same RUNTIME_FUNCTION.
func unwindPE() []byte {
	le := binary.LittleEndian
	pdata := make([]byte, 0x200)
	const rva = 0x2000
	le.PutUint32(pdata[0:], 0x1000)
	le.PutUint32(pdata[4:], 0x1001)
	le.PutUint32(pdata[8:], rva+0x100)
	// UNWIND_INFO at 0x100: version 1, UNW_FLAG_CHAININFO, no codes, then the chained
	// RUNTIME_FUNCTION: the one above.
	pdata[0x100] = 1 | 4<<3
	le.PutUint32(pdata[0x104:], 0x1000)
	le.PutUint32(pdata[0x108:], 0x1001)
	le.PutUint32(pdata[0x10c:], rva+0x100)
	return catPE([]peSec{textSection(), {name: ".pdata", rva: rva, data: pdata, chars: peRData}}, map[int][2]uint32{3: {rva, 12}})
}

// saferwallAll parses b with every saferwall/pe data directory reader enabled (the
// configuration kensa does not use) and returns its error.
func saferwallAll(b []byte) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("saferwall/pe panicked: %v", v)
		}
	}()
	p, err := sw.NewBytes(b, &sw.Options{Logger: discard{}, DisableCertValidation: true, DisableSignatureValidation: true})
	if err != nil {
		return err
	}
	return p.Parse()
}

// TestP4RelocBlockSizeZero: a base relocation block with SizeOfBlock = 0 (saferwall
// #128: an endless loop), alone and between valid blocks. kensa does not read base
// relocations (saferwall/pe's reader is off); the analyzers complete, and so does the
// pinned saferwall/pe's own reader when it is turned on.
func TestP4RelocBlockSizeZero(t *testing.T) {
	for _, blocks := range [][][2]uint32{
		{{0x1000, 0}},
		{{0x1000, 12}, {0x1000, 0}, {0x1000, 12}},
		{{0x1000, 4}}, // smaller than its own header
	} {
		t.Run(fmt.Sprint(blocks), func(t *testing.T) {
			b := relocPE(blocks)
			out, alloc := runPE(t, b)
			if f, err := peFacts(t, out); err != nil || len(f.Sections) != 2 {
				t.Errorf("sections %+v, error %v", f.Sections, err)
			}
			if alloc > 16<<20 {
				t.Errorf("allocated %d bytes", alloc)
			}
			t.Logf("saferwall/pe with every reader on: %v", saferwallAll(b))
		})
	}
}

// TestP5UnwindLoop: exception unwind information that chains to itself (saferwall/pe
// 1.1.0 fixed an endless walk). kensa does not read the exception directory; the
// analyzers complete, and so does the pinned saferwall/pe's own reader when it is on.
func TestP5UnwindLoop(t *testing.T) {
	b := unwindPE()
	out, alloc := runPE(t, b)
	if f, err := peFacts(t, out); err != nil || len(f.Sections) != 2 {
		t.Errorf("sections %+v, error %v", f.Sections, err)
	}
	if alloc > 16<<20 {
		t.Errorf("allocated %d bytes", alloc)
	}
	if err := saferwallAll(b); err != nil && strings.Contains(err.Error(), "panicked") {
		t.Error(err)
	}
}

// TestP6ResourceLoops: a resource directory whose entries point back at the root
// directory, at every level, and a root that claims 0xffff named and 0xffff ID entries
// (present in the file, half a megabyte of them). The version resource walk visits at
// most maxResourceEntries types and maxResourceFanout names and languages under each,
// so it ends, finds no version and allocates little.
func TestP6ResourceLoops(t *testing.T) {
	le := binary.LittleEndian
	const rva = 0x2000
	for _, n := range []int{1, 0xffff} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			rsrc := make([]byte, 16+8*2*n)
			le.PutUint16(rsrc[12:], uint16(n)) // named entries
			le.PutUint16(rsrc[14:], uint16(n)) // ID entries
			for i := 0; i < 2*n; i++ {
				le.PutUint32(rsrc[16+8*i:], uint32(sw.VersionResourceType))
				le.PutUint32(rsrc[16+8*i+4:], 0x80000000) // a subdirectory: the root itself
			}
			b := catPE([]peSec{textSection(), {name: ".rsrc", rva: rva, data: rsrc, chars: peRData}}, map[int][2]uint32{2: {rva, uint32(len(rsrc))}})
			out, alloc := runPE(t, b)
			f, err := peFacts(t, out)
			if err != nil || f.Version != nil {
				t.Errorf("version %v, error %v", f.Version, err)
			}
			if alloc > 16<<20 {
				t.Errorf("allocated %d bytes for a %d-byte file", alloc, len(b))
			}
		})
	}
}

// TestP9SectionNameOffset: a real Go build for Windows whose .rdata section is renamed
// "/9999999", a reference past the end of the COFF string table (Ghidra #9167). The pe
// analyzer parses it, lists the section under that name and flags it; the go analyzer
// still reads the build information (debug/pe alone refuses the file).
func TestP9SectionNameOffset(t *testing.T) {
	b, err := os.ReadFile(getFixtures(t).goExe)
	if err != nil {
		t.Fatal(err)
	}
	lfanew := int(binary.LittleEndian.Uint32(b[0x3c:]))
	sh := lfanew + 24 + int(binary.LittleEndian.Uint16(b[lfanew+20:]))
	renamed := false
	for i := 0; i < int(binary.LittleEndian.Uint16(b[lfanew+6:])); i++ {
		if name := b[sh+40*i : sh+40*i+8]; string(bytes.TrimRight(name, "\x00")) == ".rdata" {
			copy(name, "/9999999")
			renamed = true
		}
	}
	if !renamed {
		t.Fatal("no .rdata section")
	}
	out, _ := runPE(t, b)
	f, err := peFacts(t, out)
	if err != nil {
		t.Errorf("pe error %v", err)
	}
	if !slices.ContainsFunc(f.Sections, func(s Section) bool { return s.Name == "/9999999" }) {
		t.Errorf("sections %+v", f.Sections)
	}
	want := regexp.MustCompile(`^section name /9999999 refers to no entry of the COFF string table \(\d+ bytes\); it is reported as written$`)
	if !slices.ContainsFunc(f.Anomalies, want.MatchString) {
		t.Errorf("anomalies %q lack %s", f.Anomalies, want)
	}
	// Long names the string table resolves, as the GNU toolchain writes for debug
	// sections, are not flagged.
	if slices.ContainsFunc(f.Anomalies, func(s string) bool { return strings.HasPrefix(s, "section name /") && !want.MatchString(s) }) {
		t.Errorf("anomalies %q flag a resolvable long name", f.Anomalies)
	}
	g, ok := out[1].facts.(*gobuild.GoFacts)
	if out[1].name != "go" || !ok || out[1].err != nil || g.GoVersion != runtime.Version() || g.GOOS != "windows" {
		t.Errorf("go: facts %+v, error %v", out[1].facts, out[1].err)
	}
}

// TestP10ZipPolyglot: a real self-extracting archive layout: the mingw-w64 executable
// with a zip archive appended and its offsets adjusted by zip -A, so that the file is at
// once a valid PE and a valid zip. The pe analyzer reports the zip as the overlay (its
// offset and size) and flags that the file is also a zip archive.
func TestP10ZipPolyglot(t *testing.T) {
	if _, err := exec.LookPath("zip"); err != nil {
		t.Fatal("zip not found: install the Debian package zip")
	}
	exe, err := os.ReadFile(getFixtures(t).exe)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := analyzeBytes(exe); err != nil || f.Overlay != nil || slices.ContainsFunc(f.Anomalies, func(s string) bool { return strings.Contains(s, "zip") }) {
		t.Fatalf("the plain executable: overlay %+v, anomalies %q, error %v", f.Overlay, f.Anomalies, err)
	}
	dir := t.TempDir()
	payload := bytes.Repeat([]byte("kensa polyglot payload\n"), 4096)
	if err := os.WriteFile(filepath.Join(dir, "payload.txt"), payload, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("zip", "-q", "payload.zip", "payload.txt")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("zip: %v\n%s", err, b)
	}
	z, err := os.ReadFile(filepath.Join(dir, "payload.zip"))
	if err != nil {
		t.Fatal(err)
	}
	sfx := filepath.Join(dir, "sfx.exe")
	if err := os.WriteFile(sfx, append(bytes.Clone(exe), z...), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command("zip", "-q", "-A", "sfx.exe")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("zip -A: %v\n%s", err, b)
	}
	b, err := os.ReadFile(sfx)
	if err != nil {
		t.Fatal(err)
	}
	// The zip view: the archive lists its entry with the right contents.
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil || len(zr.File) != 1 || zr.File[0].Name != "payload.txt" {
		t.Fatalf("the zip view: %v", err)
	}
	if sniff.Detect(b[:min(len(b), sniff.HeadSize)], "sfx.exe", int64(len(b))).Format != sniff.PE {
		t.Fatal("not sniffed as a PE file")
	}
	out, _ := runPE(t, b)
	f, err := peFacts(t, out)
	if err != nil {
		t.Errorf("pe error %v", err)
	}
	if f.Overlay == nil || f.Overlay.Offset != int64(len(exe)) || f.Overlay.Size != int64(len(z)) {
		t.Errorf("overlay %+v, want %d bytes at %d", f.Overlay, len(z), len(exe))
	}
	want := fmt.Sprintf("the file is also a zip archive (end of central directory at offset %d): a self-extracting archive or a polyglot, whose entries are not part of these facts", len(b)-22)
	if !slices.Contains(f.Anomalies, want) {
		t.Errorf("anomalies %q lack %q", f.Anomalies, want)
	}
}
