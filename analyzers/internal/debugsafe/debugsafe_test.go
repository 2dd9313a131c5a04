package debugsafe

import (
	"bytes"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// testELF builds a little-endian ELF file of n section headers (the null section, n-2
// sections named at offset 0 of the name table, the name table last) with the given
// name table. With extended, e_shnum and e_shstrndx hold 0 and SHN_XINDEX and section
// 0 holds the real values.
func testELF(is64 bool, n int, names []byte, extended bool) []byte {
	le := binary.LittleEndian
	ehsize, shentsize := 52, 40
	if is64 {
		ehsize, shentsize = 64, 64
	}
	b := make([]byte, ehsize)
	strOff := len(b)
	b = append(b, names...)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	shoff := len(b)
	b = append(b, make([]byte, n*shentsize)...)
	copy(b, "\x7fELF")
	b[5], b[6] = 1, 1
	le.PutUint16(b[16:], uint16(elf.ET_REL))
	le.PutUint16(b[18:], uint16(elf.EM_X86_64))
	le.PutUint32(b[20:], 1)
	shnum, shstrndx := uint16(n), uint16(n-1)
	if extended {
		shnum, shstrndx = 0, uint16(elf.SHN_XINDEX)
	}
	sh := func(i int) []byte { return b[shoff+i*shentsize:] }
	if is64 {
		b[4] = 2
		le.PutUint64(b[40:], uint64(shoff))
		le.PutUint16(b[52:], uint16(ehsize))
		le.PutUint16(b[58:], uint16(shentsize))
		le.PutUint16(b[60:], shnum)
		le.PutUint16(b[62:], shstrndx)
		if extended {
			le.PutUint64(sh(0)[32:], uint64(n))
			le.PutUint32(sh(0)[40:], uint32(n-1))
		}
		for i := 1; i < n-1; i++ {
			le.PutUint32(sh(i)[4:], uint32(elf.SHT_PROGBITS))
		}
		le.PutUint32(sh(n - 1)[4:], uint32(elf.SHT_STRTAB))
		le.PutUint64(sh(n - 1)[24:], uint64(strOff))
		le.PutUint64(sh(n - 1)[32:], uint64(len(names)))
	} else {
		b[4] = 1
		le.PutUint32(b[32:], uint32(shoff))
		le.PutUint16(b[40:], uint16(ehsize))
		le.PutUint16(b[46:], uint16(shentsize))
		le.PutUint16(b[48:], shnum)
		le.PutUint16(b[50:], shstrndx)
		if extended {
			le.PutUint32(sh(0)[20:], uint32(n))
			le.PutUint32(sh(0)[24:], uint32(n-1))
		}
		for i := 1; i < n-1; i++ {
			le.PutUint32(sh(i)[4:], uint32(elf.SHT_PROGBITS))
		}
		le.PutUint32(sh(n - 1)[4:], uint32(elf.SHT_STRTAB))
		le.PutUint32(sh(n - 1)[16:], uint32(strOff))
		le.PutUint32(sh(n - 1)[20:], uint32(len(names)))
	}
	return b
}

// costlyNames is a section name table of 300 KiB of 'A' and one NUL at its end.
func costlyNames() []byte { return append(bytes.Repeat([]byte("A"), 300<<10), 0) }

func TestELFNames(t *testing.T) {
	for _, c := range []struct {
		name          string
		b             []byte
		headers, want uint64
	}{
		{"elf64", testELF(true, 1001, costlyNames(), false), 1001, 307201},
		{"elf32", testELF(false, 1001, costlyNames(), false), 1001, 307201},
		{"elf64-extended", testELF(true, 70000, []byte("\x00.text\x00"), true), 70000, 7},
		{"elf32-extended", testELF(false, 70000, []byte("\x00.text\x00"), true), 70000, 7},
		{"small", testELF(true, 3, []byte("\x00.text\x00.shstrtab\x00"), false), 3, 17},
		{"not-elf", []byte("MZ\x90\x00 not an ELF file at all, but long enough to be read as a header"), 0, 0},
		{"short", []byte("\x7fELF\x02\x01\x01"), 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, n := ELFNames(bytes.NewReader(c.b), int64(len(c.b)))
			if h != c.headers || n != c.want {
				t.Errorf("%d headers, %d-byte table; want %d, %d", h, n, c.headers, c.want)
			}
		})
	}
	// A table claimed past the end of the file costs only what lies in the file.
	b := testELF(true, 4, []byte("\x00.text\x00"), false)
	sh := binary.LittleEndian.Uint64(b[40:]) + 3*64
	binary.LittleEndian.PutUint64(b[sh+32:], 1<<40)
	if h, n := ELFNames(bytes.NewReader(b), int64(len(b))); h != 4 || n != uint64(len(b))-64 {
		t.Errorf("claimed past the end: %d headers, %d-byte table; want 4, %d", h, n, len(b)-64)
	}
	// No name table (e_shstrndx 0).
	binary.LittleEndian.PutUint16(b[62:], 0)
	if h, n := ELFNames(bytes.NewReader(b), int64(len(b))); h != 0 || n != 0 {
		t.Errorf("no name table: %d headers, %d-byte table", h, n)
	}
}

func TestViewELF(t *testing.T) {
	b := testELF(true, 1001, costlyNames(), false)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	v, err := View(bytes.NewReader(b), int64(len(b)))
	runtime.ReadMemStats(&m1)
	if v != nil || !errors.Is(err, ErrCostly) || !strings.Contains(err.Error(), "1001 sections name a 307201-byte string table") {
		t.Errorf("view %v, error %v", v, err)
	}
	if a := m1.TotalAlloc - m0.TotalAlloc; a > 1<<20 {
		t.Errorf("checking allocated %d bytes", a)
	}
	// An ordinary file is returned as it is, and debug/elf reads its names.
	b = testELF(true, 3, []byte("\x00.text\x00.shstrtab\x00"), false)
	r := bytes.NewReader(b)
	v, err = View(r, int64(len(b)))
	if err != nil || v != r {
		t.Fatalf("view %v, error %v", v, err)
	}
	f, err := elf.NewFile(v)
	if err != nil || len(f.Sections) != 3 || f.Sections[1].Name != "" || f.Sections[2].Name != "" {
		t.Fatalf("sections %v, error %v", f, err)
	}
}

// testPE builds a PE file of one section named through the string table ("/4",
// ".debug_info"), a COFF symbol table of nsyms symbols and the string table after it,
// whose length field is strSize.
func testPE(nsect uint16, nsyms uint32, strSize uint32) []byte {
	le := binary.LittleEndian
	b := make([]byte, 0x80)
	copy(b, "MZ")
	le.PutUint32(b[0x3c:], 0x40)
	copy(b[0x40:], "PE\x00\x00")
	fh := b[0x44:]
	le.PutUint16(fh[0:], 0x8664)
	le.PutUint16(fh[2:], nsect)
	secs := make([]byte, 40*int(nsect))
	for i := 0; i < int(nsect); i++ {
		copy(secs[40*i:], "/4")
	}
	b = append(b[:0x58], secs...)
	symOff := len(b)
	for i := uint32(0); i < nsyms; i++ {
		sym := make([]byte, 18)
		copy(sym, "sym")
		b = append(b, sym...)
	}
	fh = b[0x44:]
	le.PutUint32(fh[8:], uint32(symOff))
	le.PutUint32(fh[12:], nsyms)
	str := make([]byte, 4)
	le.PutUint32(str, strSize)
	str = append(str, ".debug_info\x00"...)
	return append(b, str...)
}

func TestViewPE(t *testing.T) {
	b := testPE(1, 20, 16)
	f, err := pe.NewFile(bytes.NewReader(b))
	if err != nil || len(f.COFFSymbols) != 20 || f.Section(".debug_info") == nil {
		t.Fatalf("the fixture: %v, error %v", f, err)
	}
	v, err := View(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	f, err = pe.NewFile(v)
	if err != nil {
		t.Fatal(err)
	}
	if f.NumberOfSymbols != 0 || len(f.Symbols) != 0 || f.Section(".debug_info") == nil {
		t.Errorf("%d symbols, .debug_info %v", f.NumberOfSymbols, f.Section(".debug_info"))
	}
	// Many sections naming a big string table are refused.
	c := testPE(0xffff, 20, 1<<20)
	if _, err := View(bytes.NewReader(c), int64(len(c))); !errors.Is(err, ErrCostly) || !strings.Contains(err.Error(), "65535 sections name a 1048576-byte string table") {
		t.Errorf("error %v", err)
	}
}

// testMachO builds a 64-bit little-endian Mach-O executable whose only load command is
// an LC_SYMTAB of nsyms symbols all named by offset 1 of a strSize-byte string table
// (one NUL at each end).
func testMachO(nsyms, strSize uint32) []byte {
	le := binary.LittleEndian
	b := make([]byte, 32+24)
	le.PutUint32(b[0:], macho.Magic64)
	le.PutUint32(b[4:], uint32(macho.CpuArm64))
	le.PutUint32(b[12:], uint32(macho.TypeExec))
	le.PutUint32(b[16:], 1)
	le.PutUint32(b[20:], 24)
	c := b[32:]
	le.PutUint32(c[0:], uint32(macho.LoadCmdSymtab))
	le.PutUint32(c[4:], 24)
	le.PutUint32(c[8:], uint32(len(b)))
	le.PutUint32(c[12:], nsyms)
	for i := uint32(0); i < nsyms; i++ {
		sym := make([]byte, 16)
		le.PutUint32(sym, 1)
		sym[4] = 0xf // N_SECT|N_EXT
		b = append(b, sym...)
	}
	c = b[32:]
	le.PutUint32(c[16:], uint32(len(b)))
	le.PutUint32(c[20:], strSize)
	str := bytes.Repeat([]byte("A"), int(strSize))
	str[0], str[len(str)-1] = 0, 0
	return append(b, str...)
}

// fat wraps a Mach-O image in a fat file of one architecture.
func fat(b []byte) []byte {
	be := binary.BigEndian
	out := make([]byte, 4096, 4096+len(b))
	be.PutUint32(out, macho.MagicFat)
	be.PutUint32(out[4:], 1)
	be.PutUint32(out[8:], uint32(macho.CpuArm64))
	be.PutUint32(out[16:], 4096)
	be.PutUint32(out[20:], uint32(len(b)))
	be.PutUint32(out[24:], 12)
	return append(out, b...)
}

func TestViewMachO(t *testing.T) {
	b := testMachO(1000, 64<<10)
	f, err := macho.NewFile(bytes.NewReader(b))
	if err != nil || f.Symtab == nil || len(f.Symtab.Syms) != 1000 {
		t.Fatalf("the fixture: %v, error %v", f, err)
	}
	v, err := View(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	f, err = macho.NewFile(v)
	runtime.ReadMemStats(&m1)
	if err != nil || f.Symtab != nil || f.Cpu != macho.CpuArm64 {
		t.Errorf("thin: %+v, error %v", f, err)
	}
	if a := m1.TotalAlloc - m0.TotalAlloc; a > 4<<20 {
		t.Errorf("thin: debug/macho allocated %d bytes", a)
	}

	fb := fat(b)
	v, err = View(bytes.NewReader(fb), int64(len(fb)))
	if err != nil {
		t.Fatal(err)
	}
	ff, err := macho.NewFatFile(v)
	if err != nil || len(ff.Arches) != 1 || ff.Arches[0].Symtab != nil {
		t.Fatalf("fat: %+v, error %v", ff, err)
	}

	// A fat header declaring too many architectures is refused.
	binary.BigEndian.PutUint32(fb[4:], 1000)
	if _, err := View(bytes.NewReader(fb), int64(len(fb))); !errors.Is(err, ErrCostly) || !strings.Contains(err.Error(), "1000 architectures") {
		t.Errorf("1000 architectures: %v", err)
	}
}

func TestPatchedReader(t *testing.T) {
	r := &patchedReader{r: bytes.NewReader([]byte("0123456789")), patches: []patch{{off: 2, data: []byte("ab")}, {off: 8, data: []byte("xyz")}}}
	for _, c := range []struct {
		off  int64
		n    int
		want string
	}{{0, 10, "01ab4567xy"}, {3, 2, "b4"}, {9, 4, "y"}, {4, 3, "456"}} {
		b := make([]byte, c.n)
		n, _ := r.ReadAt(b, c.off)
		if got := string(b[:n]); got != c.want {
			t.Errorf("ReadAt(%d, %d) = %q, want %q", c.n, c.off, got, c.want)
		}
	}
}
