package elf

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// allocated runs fn and returns the bytes it allocated.
func allocated(fn func()) uint64 {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	fn()
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc
}

// allocFactor widens allocation bounds under the race detector, which allocates more.
func allocFactor() uint64 {
	if raceEnabled {
		return 4
	}
	return 1
}

// costlyNames rebuilds an ELF64 file with n section headers: its own, then empty
// sections all named by the start of a run of 'A' of run bytes appended to the section
// name table with one NUL at its end. debug/elf would copy about n × run bytes of names.
// With short, the added sections are named by the last four 'A' instead.
func costlyNames(t testing.TB, orig []byte, n, run int, short bool) []byte {
	t.Helper()
	le := binary.LittleEndian
	shoff := le.Uint64(orig[40:])
	shnum := int(le.Uint16(orig[60:]))
	shstrndx := int(le.Uint16(orig[62:]))
	if n <= shnum {
		t.Fatalf("%d sections already", shnum)
	}
	strHdr := orig[shoff+uint64(shstrndx)*64:]
	names := orig[le.Uint64(strHdr[24:]):][:le.Uint64(strHdr[32:])]
	b := slices.Clone(orig)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	// The new name table: the old names, then the run of 'A'.
	strOff, runOff := len(b), len(names)
	b = append(b, names...)
	b = append(b, bytes.Repeat([]byte("A"), run)...)
	b = append(b, 0)
	if short {
		runOff = len(b) - 5 - strOff
	}
	strSize := len(b) - strOff
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	newShoff := len(b)
	b = append(b, orig[shoff:shoff+uint64(shnum)*64]...)
	for i := shnum; i < n; i++ {
		h := make([]byte, 64)
		le.PutUint32(h[0:], uint32(runOff))
		le.PutUint32(h[4:], uint32(elf.SHT_PROGBITS))
		le.PutUint64(h[48:], 1)
		b = append(b, h...)
	}
	h := b[newShoff+shstrndx*64:]
	le.PutUint64(h[24:], uint64(strOff))
	le.PutUint64(h[32:], uint64(strSize))
	le.PutUint64(b[40:], uint64(newShoff))
	le.PutUint16(b[60:], uint16(n))
	return b
}

// TestCostlySectionNames analyzes a file whose section headers all name a large table
// without NULs: the names are read with a bound and everything else is still reported.
func TestCostlySectionNames(t *testing.T) {
	orig := readFixture(t, "default")
	want := load(t, "default")
	b := costlyNames(t, orig, 1001, 300<<10, false)
	var f *Facts
	var err error
	alloc := allocated(func() { f, err = analyzeBytes(b) })
	t.Logf("%d-byte file: %d bytes allocated", len(b), alloc)
	if err != nil {
		t.Fatal(err)
	}
	if limit := 32 << 20 * allocFactor(); alloc > limit {
		t.Errorf("allocated %d bytes, more than %d", alloc, limit)
	}
	if f.Interpreter != want.Interpreter || !slices.Equal(f.Needed, want.Needed) || f.PIE != want.PIE || !f.PIE ||
		f.Relro != want.Relro || f.Canary != want.Canary || f.BuildID != want.BuildID {
		t.Errorf("interpreter %q needed %q pie %v relro %q canary %v build ID %q; want %q %q %v %q %v %q",
			f.Interpreter, f.Needed, f.PIE, f.Relro, f.Canary, f.BuildID,
			want.Interpreter, want.Needed, want.PIE, want.Relro, want.Canary, want.BuildID)
	}
	if f.ImportedSymbolCount != want.ImportedSymbolCount || importNamed(f, "printf") == nil || f.SymbolTableEntries != want.SymbolTableEntries {
		t.Errorf("%d imports (want %d), %d symtab entries (want %d)", f.ImportedSymbolCount, want.ImportedSymbolCount, f.SymbolTableEntries, want.SymbolTableEntries)
	}
	// The file's own sections keep their names; the added ones are cut at the bound.
	if f.SectionCount != 1001 || len(f.Sections) != 1001 {
		t.Fatalf("%d sections, %d listed", f.SectionCount, len(f.Sections))
	}
	for i, s := range want.Sections {
		if f.Sections[i].Name != s.Name || f.Sections[i].Type != s.Type {
			t.Errorf("section %d: %q %s, want %q %s", i, f.Sections[i].Name, f.Sections[i].Type, s.Name, s.Type)
		}
	}
	if s := f.Sections[1000]; s.Name != strings.Repeat("A", maxStringLength) {
		t.Errorf("added section named %d bytes %.16q", len(s.Name), s.Name)
	}
	table := section(f, ".shstrtab")
	if table == nil || table.Size < 300<<10 {
		t.Fatalf(".shstrtab %+v", table)
	}
	anomaly := fmt.Sprintf("section names read with a bound of 4096 bytes each because 1001 section headers name a %d-byte table; %d names cut",
		table.Size, 1001-len(want.Sections))
	if !slices.Contains(f.Anomalies, anomaly) {
		t.Errorf("anomalies %q, want %q", f.Anomalies, anomaly)
	}
}

// TestBoundedSectionNames checks that names read with the bound are the names debug/elf
// reads when every name ends within it: no anomaly then.
func TestBoundedSectionNames(t *testing.T) {
	b := costlyNames(t, readFixture(t, "default"), 1001, 300<<10, true)
	ef, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if h, n := uint64(len(ef.Sections)), ef.Section(".shstrtab").FileSize; h*n <= maxNameCopyBytes {
		t.Fatalf("%d headers × %d bytes is within the bound", h, n)
	}
	f, err := analyzeBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Sections) != len(ef.Sections) || len(f.Anomalies) != 0 {
		t.Fatalf("%d sections (want %d), anomalies %q", len(f.Sections), len(ef.Sections), f.Anomalies)
	}
	for i, s := range ef.Sections {
		if f.Sections[i].Name != s.Name {
			t.Errorf("section %d named %q, want %q", i, f.Sections[i].Name, s.Name)
		}
	}
	if f.Sections[1000].Name != "AAAA" {
		t.Errorf("added section named %q", f.Sections[1000].Name)
	}
}

// symbolELF builds a little-endian ELF64 shared object without program headers whose
// sections are .dynsym (nsyms symbols after the null one: odd ones undefined, even ones
// defined, every fourth an IFUNC, symbol i named at offset 1 + i mod 60000 of .dynstr),
// .dynstr (symbolStrtab), .gnu.version (version index 2 for every symbol) and
// .gnu.version_r (verneed, when not empty).
func symbolELF(nsyms int, verneed []byte) []byte {
	le := binary.LittleEndian
	type sec struct {
		name       string
		typ        elf.SectionType
		link       uint32
		data       []byte
		entsize    uint64
		off, shoff int
	}
	dynsym := make([]byte, 24*(nsyms+1))
	for i := 1; i <= nsyms; i++ {
		e := dynsym[24*i:]
		le.PutUint32(e, uint32(1+i%60000))
		typ := elf.STT_FUNC
		if i%4 == 0 {
			typ = elf.STT_GNU_IFUNC
		}
		e[4] = byte(elf.STB_GLOBAL)<<4 | byte(typ)
		if i%2 == 0 {
			le.PutUint16(e[6:], 1)
			le.PutUint64(e[8:], uint64(0x1000+i))
		}
	}
	dynstr := symbolStrtab()
	versym := make([]byte, 2*(nsyms+1))
	for i := 1; i <= nsyms; i++ {
		le.PutUint16(versym[2*i:], 2)
	}
	secs := []sec{
		{name: ".dynsym", typ: elf.SHT_DYNSYM, link: 2, data: dynsym, entsize: 24},
		{name: ".dynstr", typ: elf.SHT_STRTAB, data: dynstr},
		{name: ".gnu.version", typ: elf.SHT_GNU_VERSYM, link: 1, data: versym, entsize: 2},
	}
	if len(verneed) > 0 {
		secs = append(secs, sec{name: ".gnu.version_r", typ: elf.SHT_GNU_VERNEED, link: 2, data: verneed})
	}
	shstr := []byte{0}
	for i := range secs {
		secs[i].shoff = len(shstr)
		shstr = append(append(shstr, secs[i].name...), 0)
	}
	secs = append(secs, sec{name: ".shstrtab", typ: elf.SHT_STRTAB, shoff: len(shstr), data: append(shstr, ".shstrtab\x00"...)})
	b := make([]byte, 64)
	for i := range secs {
		for len(b)%8 != 0 {
			b = append(b, 0)
		}
		secs[i].off = len(b)
		b = append(b, secs[i].data...)
	}
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	shoff := len(b)
	b = append(b, make([]byte, 64)...)
	for _, s := range secs {
		h := make([]byte, 64)
		le.PutUint32(h[0:], uint32(s.shoff))
		le.PutUint32(h[4:], uint32(s.typ))
		le.PutUint64(h[24:], uint64(s.off))
		le.PutUint64(h[32:], uint64(len(s.data)))
		le.PutUint32(h[40:], s.link)
		le.PutUint64(h[48:], 8)
		le.PutUint64(h[56:], s.entsize)
		b = append(b, h...)
	}
	copy(b, elf.ELFMAG)
	b[4], b[5], b[6] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	le.PutUint16(b[16:], uint16(elf.ET_DYN))
	le.PutUint16(b[18:], uint16(elf.EM_X86_64))
	le.PutUint32(b[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(b[40:], uint64(shoff))
	le.PutUint16(b[52:], 64)
	le.PutUint16(b[58:], 64)
	le.PutUint16(b[60:], uint16(len(secs)+1))
	le.PutUint16(b[62:], uint16(len(secs)))
	return b
}

// symbolStrtab is a NUL, 64 KiB of pseudo-random letters and a NUL: a string table whose
// names at different offsets differ, each as long as the table allows.
func symbolStrtab() []byte {
	b := make([]byte, 1, 64<<10+2)
	x := uint32(1)
	for range 64 << 10 {
		x = x*1664525 + 1013904223
		b = append(b, 'a'+byte(x>>24)%26)
	}
	return append(b, 0)
}

// costlyVerneed is a version needs table of n Elf_Verneed entries, each claiming 65535
// Elf_Vernaux entries and pointing at the same chain of n Elf_Vernaux entries after
// them, whose names are distinct offsets of symbolELF's .dynstr: walked naively, it
// names n × n versions of 4096 bytes.
func costlyVerneed(n int) []byte {
	le := binary.LittleEndian
	b := make([]byte, 32*n)
	for i := range n {
		e := b[16*i:]
		le.PutUint16(e[0:], 1)
		le.PutUint16(e[2:], 0xffff)
		le.PutUint32(e[4:], uint32(1+i))
		le.PutUint32(e[8:], uint32(16*(n-i)))
		le.PutUint32(e[12:], 16)
		a := b[16*(n+i):]
		le.PutUint16(a[6:], uint16(2+i))
		le.PutUint32(a[8:], uint32(1+i))
		le.PutUint32(a[12:], 16)
	}
	return b
}

// TestCostlySymbolNames analyzes symbol and version tables whose every entry names a
// distinct offset of a string table without NULs, so that every name is as long as
// allowed: the names kept stay within their budget.
func TestCostlySymbolNames(t *testing.T) {
	t.Run("symbols", func(t *testing.T) {
		b := symbolELF(60000, nil)
		var f *Facts
		var err error
		alloc := allocated(func() { f, err = analyzeBytes(b) })
		t.Logf("%d-byte file: %d bytes allocated", len(b), alloc)
		if err != nil {
			t.Fatal(err)
		}
		// The names kept (maxNameBytes) and the lists of 20000 imports and exports.
		if limit := 48 << 20 * allocFactor(); alloc > limit {
			t.Errorf("allocated %d bytes, more than %d", alloc, limit)
		}
		if f.ImportedSymbolCount != 30000 || f.ExportedSymbolCount != 30000 || len(f.ImportedSymbols) != maxSymbols ||
			len(f.ExportedSymbols) != maxSymbols || !f.SymbolsTruncated {
			t.Errorf("%d imports (%d listed), %d exports (%d listed), truncated %v", f.ImportedSymbolCount, len(f.ImportedSymbols),
				f.ExportedSymbolCount, len(f.ExportedSymbols), f.SymbolsTruncated)
		}
		if n := f.ImportedSymbols[0].Name; n != string(symbolStrtab()[2:2+maxStringLength]) {
			t.Errorf("first import named %d bytes %.16q", len(n), n)
		}
		// 4096 names of 4096 bytes fill the budget; the other listed names are empty.
		kept := 0
		for _, s := range f.ImportedSymbols {
			if s.Name != "" {
				kept++
			}
		}
		for _, s := range f.ExportedSymbols {
			if s.Name != "" {
				kept++
			}
		}
		if kept != maxNameBytes/maxStringLength {
			t.Errorf("%d names kept", kept)
		}
		found := false
		for _, a := range f.Anomalies {
			found = found || strings.HasPrefix(a, "symbol and version names past 16777216 bytes in all were not kept; ")
		}
		if !found {
			t.Errorf("anomalies %q", f.Anomalies)
		}
	})
	t.Run("versions", func(t *testing.T) {
		b := symbolELF(8, costlyVerneed(1024))
		var f *Facts
		var err error
		alloc := allocated(func() { f, err = analyzeBytes(b) })
		t.Logf("%d-byte file: %d bytes allocated", len(b), alloc)
		if err != nil {
			t.Fatal(err)
		}
		if limit := 32 << 20 * allocFactor(); alloc > limit {
			t.Errorf("allocated %d bytes, more than %d", alloc, limit)
		}
		// Symbol 1 is named at offset 2 and version index 2 at offset 1; the last
		// Elf_Verneed walked before the cap, the second, names its library at offset 2.
		str := string(symbolStrtab())
		if s := importNamed(f, str[2:2+maxStringLength]); s == nil || s.Version != str[1:1+maxStringLength] || s.Library != str[2:2+maxStringLength] {
			t.Errorf("import %.40q", s)
		}
		if !slices.Contains(f.Anomalies, "version needs table links more than the 2048 entries it can hold; read 2048") {
			t.Errorf("anomalies %q", f.Anomalies)
		}
	})
}

// TestCostlySectionNamesExtended is TestCostlySectionNames with the section count and the
// name table index in section 0 (e_shnum 0, e_shstrndx SHN_XINDEX), which debug/elf
// accepts from 0xff00 sections on.
func TestCostlySectionNamesExtended(t *testing.T) {
	want := load(t, "default")
	const n = 0xff01
	b := costlyNames(t, readFixture(t, "default"), n, 300<<10, false)
	le := binary.LittleEndian
	shoff := le.Uint64(b[40:])
	le.PutUint64(b[shoff+32:], uint64(le.Uint16(b[60:])))
	le.PutUint32(b[shoff+40:], uint32(le.Uint16(b[62:])))
	le.PutUint16(b[60:], 0)
	le.PutUint16(b[62:], uint16(elf.SHN_XINDEX))
	var f *Facts
	var err error
	alloc := allocated(func() { f, err = analyzeBytes(b) })
	t.Logf("%d-byte file: %d bytes allocated", len(b), alloc)
	if err != nil {
		t.Fatal(err)
	}
	if limit := 32 << 20 * allocFactor(); alloc > limit {
		t.Errorf("allocated %d bytes, more than %d", alloc, limit)
	}
	if f.SectionCount != n || len(f.Sections) != maxSections || f.Interpreter != want.Interpreter || f.ImportedSymbolCount != want.ImportedSymbolCount {
		t.Fatalf("%d sections, interpreter %q, %d imports", len(f.Sections), f.Interpreter, f.ImportedSymbolCount)
	}
	for i, s := range want.Sections {
		if f.Sections[i].Name != s.Name {
			t.Errorf("section %d: %q, want %q", i, f.Sections[i].Name, s.Name)
		}
	}
	found := false
	for _, a := range f.Anomalies {
		found = found || strings.HasPrefix(a, "section names read with a bound of 4096 bytes each because 65281 section headers name a ")
	}
	if !found {
		t.Errorf("anomalies %q", f.Anomalies)
	}
}
