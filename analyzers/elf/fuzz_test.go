package elf

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzAnalyze feeds the analyzer small fixtures and truncated and corrupted variants of
// them. Whatever the input, Analyze must not panic, every list must stay within its cap,
// and the facts must encode as JSON.
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
	f.Fuzz(func(t *testing.T, b []byte) {
		facts, err := analyzeBytes(b)
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
