package elf

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/gobuild"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"
)

// FuzzAnalyze feeds the analyzer small fixtures and truncated and corrupted variants of
// them. Whatever the input, Analyze must not panic, every list must stay within its cap,
// the facts must encode as JSON, and two runs must give the same facts. The Go build
// information reader (analyzer "go" of package gobuild, which runs on every ELF file)
// reads each input too, seeded with a fixture whose writable segment carries a build
// information blob: it must not panic and must be deterministic as well.
func FuzzAnalyze(f *testing.F) {
	dir := buildFixtures(f)
	for _, name := range []string{"default", "stripped", "ifunc", "preload.so", "cet"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(b[:200])
		c := append([]byte(nil), b...)
		// e_shoff past the end, e_phnum large.
		c[40], c[41], c[42], c[43] = 0xff, 0xff, 0xff, 0x7f
		c[56] = 0xff
		f.Add(c)
		// No section headers: the dynamic segment and its hash tables are read instead.
		e := append([]byte(nil), b...)
		clear(e[40:48])
		clear(e[60:64])
		f.Add(e)
		d := append([]byte(nil), b...)
		for i := 0x100; i < len(d); i += 97 {
			d[i] ^= 0xa5
		}
		f.Add(d)
	}
	// Section names past the copy bound, and symbol and version tables naming long names.
	def, err := os.ReadFile(filepath.Join(dir, "default"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(costlyNames(f, def, 300, 64<<10, false))
	f.Add(symbolELF(64, costlyVerneed(8)))
	withGo := withBuildInfo(f, def)
	if g, err := goBuildInfo(withGo); err != nil || !strings.Contains(string(g), `"goVersion":"go1.99.1"`) {
		f.Fatalf("the build information seed gives %s, %v", g, err)
	}
	f.Add(withGo)
	f.Fuzz(func(t *testing.T, b []byte) {
		g1, gerr1 := goBuildInfo(b)
		g2, gerr2 := goBuildInfo(b)
		if !bytes.Equal(g1, g2) || (gerr1 == nil) != (gerr2 == nil) || gerr1 != nil && gerr1.Error() != gerr2.Error() {
			t.Fatalf("build information: two runs differ: %s (%v) and %s (%v)", g1, gerr1, g2, gerr2)
		}
		if gerr1 != nil && strings.Contains(gerr1.Error(), "recovered panic") {
			t.Fatal(gerr1)
		}
		facts, err := analyzeBytes(b)
		again, err2 := analyzeBytes(b)
		j1, _ := json.Marshal(facts)
		j2, _ := json.Marshal(again)
		if !bytes.Equal(j1, j2) || (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("two runs differ: %v and %v", err, err2)
		}
		// A recovered panic hides a bug of this package or of debug/elf: make it visible.
		if err != nil && strings.Contains(err.Error(), "made the parser fail") {
			t.Fatal(err)
		}
		if facts == nil {
			if err == nil {
				t.Fatal("no facts and no error")
			}
			return
		}
		if len(facts.ImportedSymbols) > maxSymbols || len(facts.ExportedSymbols) > maxSymbols ||
			len(facts.IFuncSymbols) > maxSymbols || len(facts.Sections) > maxSections ||
			len(facts.ProgramHeaders) > maxPrograms || len(facts.Anomalies) > maxAnomalies ||
			len(facts.Needed) > maxListEntries || len(facts.FortifiedFunctions) > maxSymbols {
			t.Fatalf("a list exceeds its cap: %d imports, %d exports, %d sections, %d programs, %d anomalies",
				len(facts.ImportedSymbols), len(facts.ExportedSymbols), len(facts.Sections), len(facts.ProgramHeaders), len(facts.Anomalies))
		}
		if facts.ImportedSymbolCount < len(facts.ImportedSymbols) || facts.ExportedSymbolCount < len(facts.ExportedSymbols) {
			t.Fatal("a count is below its list")
		}
		if o := facts.Overlay; o != nil && (o.Offset < 0 || o.Size <= 0 || o.Offset+o.Size != int64(len(b))) {
			t.Fatalf("overlay %+v in %d bytes", o, len(b))
		}
		for _, s := range facts.Sections {
			if s.Entropy != nil && (*s.Entropy < 0 || *s.Entropy > 8) {
				t.Fatalf("entropy %v", *s.Entropy)
			}
		}
		if _, err := json.Marshal(facts); err != nil {
			t.Fatal(err)
		}
	})
}

// goBuildInfo runs the Go build information analyzer on b as an ELF file and returns
// its facts in JSON.
func goBuildInfo(b []byte) ([]byte, error) {
	l := limits.Default()
	facts, err := gobuild.NewGo().Analyze(context.Background(), &analyzers.Artifact{
		Path: "test", Format: sniff.ELF, Size: int64(len(b)), Content: bytes.NewReader(b), Limits: &l,
	})
	if facts == nil {
		return nil, err
	}
	j, jerr := json.Marshal(facts)
	if jerr != nil {
		return nil, jerr
	}
	return j, err
}

// withBuildInfo returns the 64-bit little-endian ELF file b with a Go build information
// blob appended and its first writable, non-executable PT_LOAD segment remapped onto the
// blob (where debug/buildinfo looks when there is no .go.buildinfo section).
func withBuildInfo(tb testing.TB, b []byte) []byte {
	tb.Helper()
	le := binary.LittleEndian
	const modinfo = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\texample.com/dep\tv1.2.3\th1:AAAA\nbuild\t-compiler=gc\nbuild\tGOOS=linux\n"
	blob := make([]byte, 32)
	copy(blob, "\xff Go buildinf:")
	blob[14], blob[15] = 8, 2 // pointer size, inline strings
	blob = binary.AppendUvarint(blob, uint64(len("go1.99.1")))
	blob = append(blob, "go1.99.1"...)
	framed := "0w\xaf\x0c\x92t\b\x02A\xe1\xc1\a\xe6\xd6\x18\xe6" + modinfo + "\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2"
	blob = binary.AppendUvarint(blob, uint64(len(framed)))
	blob = append(blob, framed...)

	out := bytes.Clone(b)
	for len(out)%16 != 0 {
		out = append(out, 0)
	}
	off := uint64(len(out))
	out = append(out, blob...)
	phoff, phentsize, phnum := le.Uint64(out[32:]), uint64(le.Uint16(out[54:])), uint64(le.Uint16(out[56:]))
	for i := range phnum {
		ph := out[phoff+i*phentsize:]
		const ptLoad, pfX, pfW = 1, 1, 2
		if le.Uint32(ph) != ptLoad || le.Uint32(ph[4:])&(pfX|pfW) != pfW {
			continue
		}
		vaddr := (le.Uint64(ph[16:]) + 15) &^ 15
		le.PutUint64(ph[8:], off)
		le.PutUint64(ph[16:], vaddr)
		le.PutUint64(ph[24:], vaddr)
		le.PutUint64(ph[32:], uint64(len(blob)))
		le.PutUint64(ph[40:], uint64(len(blob)))
		return out
	}
	tb.Fatal("the fixture has no writable segment")
	return nil
}
