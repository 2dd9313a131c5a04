package gobuild

import (
	"bytes"
	"debug/macho"
	"debug/pe"
	"encoding/binary"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"kensa.dev/kensa/analyzers/internal/debugsafe"
)

// costlyELF is an ELF file of 1000 sections all named by the start of a 300 KiB section
// name table with one NUL at its end: debug/elf would copy 300 MB of names.
func costlyELF() []byte {
	secs := make([]elfSection, 999)
	for i := range secs {
		secs[i] = elfSection{name: "x"}
	}
	b := miniELF(secs...)
	le := binary.LittleEndian
	shoff := le.Uint64(b[0x28:])
	n := int(le.Uint16(b[60:]))
	big := append(bytes.Repeat([]byte("A"), 300<<10), 0)
	strOff := len(b)
	b = append(b, big...)
	h := b[shoff+uint64(n-1)*64:]
	le.PutUint64(h[24:], uint64(strOff))
	le.PutUint64(h[32:], uint64(len(big)))
	for i := 1; i < n; i++ {
		le.PutUint32(b[shoff+uint64(i)*64:], 0)
	}
	return b
}

func TestSafeViewELF(t *testing.T) {
	b := costlyELF()
	for _, an := range []string{"go", "rust"} {
		var err error
		var facts any
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		if an == "go" {
			facts, err = analyzeWith(t, NewGo(), b)
		} else {
			facts, err = analyzeWith(t, NewRust(), b)
		}
		runtime.ReadMemStats(&m1)
		if facts != nil || !errors.Is(err, debugsafe.ErrCostly) || !strings.Contains(err.Error(), "1001 sections name a 307201-byte string table") {
			t.Errorf("%s: facts %v, error %v", an, facts, err)
		}
		if m1.TotalAlloc-m0.TotalAlloc > 16<<20 {
			t.Errorf("%s: allocated %d bytes", an, m1.TotalAlloc-m0.TotalAlloc)
		}
	}
}

func TestSafeViewPE(t *testing.T) {
	// The mingw build keeps its COFF symbols and has long section names (".debug_info",
	// stored as "/4" and resolved through the string table): the view hides the symbols
	// and the names still resolve.
	_, exe := cFixtures(t)
	b := readFile(t, exe)
	peOff := binary.LittleEndian.Uint32(b[0x3c:])
	if binary.LittleEndian.Uint32(b[peOff+4+12:]) == 0 {
		t.Fatal("the fixture has no COFF symbols")
	}
	v, err := debugsafe.View(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := pe.NewFile(v)
	if err != nil {
		t.Fatal(err)
	}
	if f.NumberOfSymbols != 0 || len(f.Symbols) != 0 || f.Section(".debug_info") == nil {
		t.Errorf("%d symbols, .debug_info %v", f.NumberOfSymbols, f.Section(".debug_info"))
	}
	// Many sections naming a big string table are refused.
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint16(c[peOff+4+2:], 0xffff)
	strOff := binary.LittleEndian.Uint32(c[peOff+4+8:]) + 18*binary.LittleEndian.Uint32(c[peOff+4+12:])
	binary.LittleEndian.PutUint32(c[strOff:], 1<<20)
	if _, err := debugsafe.View(bytes.NewReader(c), int64(len(c))); !errors.Is(err, debugsafe.ErrCostly) {
		t.Errorf("error %v", err)
	}
}

func TestSafeViewMachO(t *testing.T) {
	// The darwin fixture with every symbol named by the start of a string table that has
	// a single NUL at its end: debug/macho would copy symbols × table bytes.
	b := bytes.Clone(readFile(t, filepath.Join(goFixtures(t), "darwin")))
	mf, err := macho.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if mf.Symtab == nil || len(mf.Symtab.Syms) < 1000 {
		t.Fatal("the fixture has no symbol table")
	}
	raw := mf.Symtab.Raw()
	le := binary.LittleEndian
	symoff, nsyms, stroff, strsize := le.Uint32(raw[8:]), le.Uint32(raw[12:]), le.Uint32(raw[16:]), le.Uint32(raw[20:])
	strtab := b[stroff : stroff+strsize]
	for i := range strtab {
		strtab[i] = 'A'
	}
	strtab[len(strtab)-1] = 0
	for i := range nsyms {
		le.PutUint32(b[symoff+16*i:], 0)
	}
	cost := uint64(nsyms) * uint64(strsize)
	for _, fat := range []bool{false, true} {
		file := b
		if fat {
			file = make([]byte, 4096, 4096+len(b))
			binary.BigEndian.PutUint32(file, 0xcafebabe)
			binary.BigEndian.PutUint32(file[4:], 1)
			binary.BigEndian.PutUint32(file[8:], uint32(mf.Cpu))
			binary.BigEndian.PutUint32(file[12:], mf.SubCpu)
			binary.BigEndian.PutUint32(file[16:], 4096)
			binary.BigEndian.PutUint32(file[20:], uint32(len(b)))
			binary.BigEndian.PutUint32(file[24:], 12)
			file = append(file, b...)
		}
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		g, err := analyzeGo(t, file)
		runtime.ReadMemStats(&m1)
		if err != nil || g == nil || g.GOOS != "darwin" {
			t.Errorf("fat %v: facts %+v, error %v", fat, g, err)
		}
		if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > cost/4 {
			t.Errorf("fat %v: allocated %d bytes; the names would cost %d", fat, alloc, cost)
		}
	}
}
