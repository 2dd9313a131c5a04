package elf

import (
	"bytes"
	"context"
	"crypto/rand"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
)

func TestAnalyzerContract(t *testing.T) {
	a := New()
	if a.Name() != "elf" {
		t.Errorf("Name() = %q", a.Name())
	}
	if !a.Wants(&analyzers.Artifact{Format: sniff.ELF}) || a.Wants(&analyzers.Artifact{Format: sniff.PE}) {
		t.Error("Wants must select ELF artifacts only")
	}
	if _, ok := a.Schema().(*Facts); !ok {
		t.Errorf("Schema() is %T", a.Schema())
	}
}

// load analyzes one built fixture.
func load(t *testing.T, name string) *Facts {
	t.Helper()
	return analyzeFile(t, filepath.Join(buildFixtures(t), name))
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(buildFixtures(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func section(f *Facts, name string) *Section {
	for i := range f.Sections {
		if f.Sections[i].Name == name {
			return &f.Sections[i]
		}
	}
	return nil
}

func importNamed(f *Facts, name string) *ImportedSymbol {
	for i := range f.ImportedSymbols {
		if f.ImportedSymbols[i].Name == name {
			return &f.ImportedSymbols[i]
		}
	}
	return nil
}

func exportNamed(f *Facts, name string) *ExportedSymbol {
	for i := range f.ExportedSymbols {
		if f.ExportedSymbols[i].Name == name {
			return &f.ExportedSymbols[i]
		}
	}
	return nil
}

func TestDefaultBuild(t *testing.T) {
	f := load(t, "default")
	if f.Class != "elf64" || f.ByteOrder != "little" || f.OSABI != "none" || f.Machine != "x86_64" || f.Type != "dyn" {
		t.Errorf("header: %s %s %s %s %s", f.Class, f.ByteOrder, f.OSABI, f.Machine, f.Type)
	}
	if f.Interpreter != "/lib64/ld-linux-x86-64.so.2" {
		t.Errorf("interpreter %q", f.Interpreter)
	}
	if !slices.Equal(f.Needed, []string{"libc.so.6"}) {
		t.Errorf("needed %q", f.Needed)
	}
	if !f.PIE || f.Linking != "dynamic" || f.Relro != "partial" || !f.NX || !f.GNUStack || f.GNUStackExecutable {
		t.Errorf("pie %v linking %q relro %q nx %v gnuStack %v executable %v", f.PIE, f.Linking, f.Relro, f.NX, f.GNUStack, f.GNUStackExecutable)
	}
	if !f.Canary || !slices.Equal(f.CanarySymbols, []string{"__stack_chk_fail"}) {
		t.Errorf("canary %v %q", f.Canary, f.CanarySymbols)
	}
	if f.FortifiedCount != 0 || f.IBT || f.SHSTK || f.BTI || f.PAC {
		t.Errorf("fortified %d ibt %v shstk %v bti %v pac %v", f.FortifiedCount, f.IBT, f.SHSTK, f.BTI, f.PAC)
	}
	if f.Stripped || f.SymbolTableEntries == 0 {
		t.Errorf("stripped %v, %d symtab entries", f.Stripped, f.SymbolTableEntries)
	}
	if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(f.BuildID) {
		t.Errorf("build ID %q", f.BuildID)
	}
	if f.InitArray == nil || f.InitArray.Entries != 1 || f.InitArray.Size != 8 || f.FiniArray == nil || f.FiniArray.Entries != 1 || f.ConstructorCount != 1 {
		t.Errorf("init %+v fini %+v constructors %d", f.InitArray, f.FiniArray, f.ConstructorCount)
	}
	if f.Overlay != nil || len(f.Packers) != 0 || len(f.Anomalies) != 0 || f.WritableExecutableCount != 0 || f.TextRel {
		t.Errorf("overlay %+v packers %+v anomalies %q wx %d textrel %v", f.Overlay, f.Packers, f.Anomalies, f.WritableExecutableCount, f.TextRel)
	}
	for _, name := range []string{"printf", "strcpy", "strlen", "__stack_chk_fail", "__libc_start_main"} {
		s := importNamed(f, name)
		if s == nil {
			t.Errorf("import %s missing", name)
			continue
		}
		if s.Library != "libc.so.6" || !strings.HasPrefix(s.Version, "GLIBC_") || s.Binding != "global" || s.Type != "func" {
			t.Errorf("import %+v", *s)
		}
	}
	if s := importNamed(f, "__gmon_start__"); s == nil || s.Binding != "weak" || s.Version != "" {
		t.Errorf("weak unversioned import __gmon_start__: %+v", s)
	}
	if f.ImportedSymbolCount != len(f.ImportedSymbols) {
		t.Errorf("import count %d, listed %d", f.ImportedSymbolCount, len(f.ImportedSymbols))
	}
	text := section(f, ".text")
	if text == nil || text.Type != "progbits" || text.Flags != "AX" || text.Entropy == nil || *text.Entropy < 3 || *text.Entropy > 7 {
		t.Errorf(".text: %+v", text)
	}
	if s := section(f, ".bss"); s == nil || s.Type != "nobits" || s.Flags != "WA" || s.Entropy != nil {
		t.Errorf(".bss: %+v", s)
	}
	if s := section(f, ".rodata"); s == nil || s.Flags != "A" {
		t.Errorf(".rodata: %+v", s)
	}
	if s := section(f, ".comment"); s == nil || s.Flags != "MS" {
		t.Errorf(".comment: %+v", s)
	}
	if f.SectionCount != len(f.Sections) || f.SectionCount < 25 {
		t.Errorf("%d sections, %d listed", f.SectionCount, len(f.Sections))
	}
	var types, flags []string
	for _, p := range f.ProgramHeaders {
		types = append(types, p.Type)
		if p.Type == "load" {
			flags = append(flags, p.Flags)
		}
	}
	if !slices.Equal(flags, []string{"R", "RE", "R", "RW"}) {
		t.Errorf("PT_LOAD flags %q", flags)
	}
	for _, want := range []string{"phdr", "interp", "dynamic", "note", "gnu_eh_frame", "gnu_stack", "gnu_relro"} {
		if !slices.Contains(types, want) {
			t.Errorf("program header %s missing from %q", want, types)
		}
	}
	if f.ProgramHeaders[0].Type != "phdr" || f.ProgramHeaders[0].Offset != 64 || f.ProgramHeaders[0].Filesz != uint64(56*len(f.ProgramHeaders)) {
		t.Errorf("PT_PHDR %+v", f.ProgramHeaders[0])
	}
}

func TestHardeningVariants(t *testing.T) {
	nopie := load(t, "nopie")
	if nopie.Type != "exec" || nopie.PIE || nopie.Linking != "dynamic" {
		t.Errorf("nopie: type %q pie %v linking %q", nopie.Type, nopie.PIE, nopie.Linking)
	}
	exec := load(t, "execstack")
	if !exec.GNUStack || !exec.GNUStackExecutable || exec.NX {
		t.Errorf("execstack: gnuStack %v executable %v nx %v", exec.GNUStack, exec.GNUStackExecutable, exec.NX)
	}
	if p := exec.ProgramHeaders; !slices.ContainsFunc(p, func(p ProgramHeader) bool { return p.Type == "gnu_stack" && p.Flags == "RWE" }) {
		t.Errorf("execstack: no RWE gnu_stack in %+v", p)
	}
	if f := load(t, "norelro"); f.Relro != "none" {
		t.Errorf("norelro: relro %q", f.Relro)
	}
	if f := load(t, "nocanary"); f.Canary || len(f.CanarySymbols) != 0 || importNamed(f, "__stack_chk_fail") != nil {
		t.Errorf("nocanary: canary %v %q", f.Canary, f.CanarySymbols)
	}
	fort := load(t, "fortify")
	// GCC turns strcpy followed by strlen into stpcpy.
	if !slices.Contains(fort.FortifiedFunctions, "__printf_chk") ||
		!slices.Contains(fort.FortifiedFunctions, "__strcpy_chk") && !slices.Contains(fort.FortifiedFunctions, "__stpcpy_chk") {
		t.Errorf("fortify: %q", fort.FortifiedFunctions)
	}
	if fort.FortifiedCount != len(fort.FortifiedFunctions) || fort.FortifiedCount < 2 || slices.Contains(fort.FortifiedFunctions, "__stack_chk_fail") {
		t.Errorf("fortify: count %d, %q", fort.FortifiedCount, fort.FortifiedFunctions)
	}
	now := load(t, "now")
	if now.Relro != "full" || !slices.Contains(now.DynamicFlags, "bind_now") || !slices.Contains(now.DynamicFlags1, "now") || !slices.Contains(now.DynamicFlags1, "pie") {
		t.Errorf("now: relro %q flags %q flags1 %q", now.Relro, now.DynamicFlags, now.DynamicFlags1)
	}
	cet := load(t, "cet")
	if !cet.IBT || !cet.SHSTK || cet.BTI || cet.PAC {
		t.Errorf("cet: ibt %v shstk %v bti %v pac %v", cet.IBT, cet.SHSTK, cet.BTI, cet.PAC)
	}
}

func TestStaticBuilds(t *testing.T) {
	st := load(t, "static")
	if st.Type != "exec" || st.Linking != "static" || st.PIE || st.Interpreter != "" || len(st.Needed) != 0 || st.ImportedSymbolCount != 0 {
		t.Errorf("static: type %q linking %q pie %v interp %q needed %q imports %d", st.Type, st.Linking, st.PIE, st.Interpreter, st.Needed, st.ImportedSymbolCount)
	}
	// Static glibc selects its string functions with IFUNCs, listed in .symtab.
	if !slices.Contains(st.IFuncSymbols, "strcpy") || !slices.Contains(st.IFuncSymbols, "strlen") {
		t.Errorf("static: IFUNCs %q", st.IFuncSymbols)
	}
	sp := load(t, "staticpie")
	if sp.Type != "dyn" || sp.Linking != "static-pie" || !sp.PIE || sp.Interpreter != "" || len(sp.Needed) != 0 || !slices.Contains(sp.DynamicFlags1, "pie") {
		t.Errorf("static-pie: type %q linking %q pie %v interp %q needed %q flags1 %q", sp.Type, sp.Linking, sp.PIE, sp.Interpreter, sp.Needed, sp.DynamicFlags1)
	}
}

func TestStrippedIFuncConstructor(t *testing.T) {
	def := load(t, "default")
	st := load(t, "stripped")
	if !st.Stripped || st.SymbolTableEntries != 0 || section(st, ".symtab") != nil {
		t.Errorf("stripped: %v, %d entries", st.Stripped, st.SymbolTableEntries)
	}
	if st.BuildID == "" || st.ImportedSymbolCount != def.ImportedSymbolCount || !st.Canary {
		t.Errorf("stripped: build ID %q, %d imports (unstripped %d), canary %v", st.BuildID, st.ImportedSymbolCount, def.ImportedSymbolCount, st.Canary)
	}
	ifn := load(t, "ifunc")
	if !slices.Equal(ifn.IFuncSymbols, []string{"add"}) {
		t.Errorf("ifunc: %q", ifn.IFuncSymbols)
	}
	ctor := load(t, "ctor")
	if ctor.ConstructorCount != def.ConstructorCount+1 || ctor.InitArray == nil || ctor.InitArray.Entries != 2 || ctor.InitArray.Size != 16 {
		t.Errorf("ctor: %d constructors (default %d), init %+v", ctor.ConstructorCount, def.ConstructorCount, ctor.InitArray)
	}
}

func TestPreloadShape(t *testing.T) {
	f := load(t, "preload.so")
	if f.Type != "dyn" || f.PIE || f.Linking != "dynamic" || f.Interpreter != "" {
		t.Errorf("type %q pie %v linking %q interp %q", f.Type, f.PIE, f.Linking, f.Interpreter)
	}
	for _, name := range []string{"readdir", "fopen", "open"} {
		e := exportNamed(f, name)
		if e == nil || e.Binding != "global" || e.Type != "func" || e.Value == 0 || e.Size == 0 || e.Version != "" {
			t.Errorf("export %s: %+v", name, e)
		}
	}
	if f.ExportedSymbolCount != 3 {
		t.Errorf("%d exports: %+v", f.ExportedSymbolCount, f.ExportedSymbols)
	}
	d := importNamed(f, "dlsym")
	if d == nil || d.Library != "libc.so.6" || !strings.HasPrefix(d.Version, "GLIBC_") {
		t.Errorf("dlsym import: %+v", d)
	}
}

// TestVersionedExports checks defined versions against libc, whose exports are
// versioned, some of them with hidden (non-default) versions.
func TestVersionedExports(t *testing.T) {
	f := analyzeFile(t, "/lib/x86_64-linux-gnu/libc.so.6")
	if f.Soname != "libc.so.6" || f.PIE {
		t.Errorf("soname %q pie %v", f.Soname, f.PIE)
	}
	e := exportNamed(f, "fopen")
	if e == nil || !strings.HasPrefix(e.Version, "GLIBC_") || e.Type != "func" {
		t.Errorf("fopen: %+v", e)
	}
	hidden := 0
	for _, e := range f.ExportedSymbols {
		if e.Hidden {
			hidden++
		}
	}
	if hidden == 0 || f.ExportedSymbolCount < 1000 || len(f.IFuncSymbols) == 0 {
		t.Errorf("%d hidden versions among %d exports, %d IFUNCs", hidden, f.ExportedSymbolCount, len(f.IFuncSymbols))
	}
}

// TestModifiedFixtures changes built files byte by byte into the shapes that hide
// things: appended data, an entry point outside the code, overlapping sections, an
// unusable section header table, a section name table marked compressed.
func TestModifiedFixtures(t *testing.T) {
	orig := readFixture(t, "default")
	ef, err := elf.NewFile(bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	shoff := binary.LittleEndian.Uint64(orig[40:])

	t.Run("overlay", func(t *testing.T) {
		extra := make([]byte, 8192)
		rand.Read(extra)
		f, err := analyzeBytes(append(slices.Clone(orig), extra...))
		if err != nil {
			t.Fatal(err)
		}
		if f.Overlay == nil || f.Overlay.Offset != int64(len(orig)) || f.Overlay.Size != 8192 || f.Overlay.Entropy < 7.9 {
			t.Errorf("overlay %+v, file of %d bytes", f.Overlay, len(orig))
		}
	})
	t.Run("entry", func(t *testing.T) {
		b := slices.Clone(orig)
		binary.LittleEndian.PutUint64(b[24:], 0xdead0000)
		f, err := analyzeBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		if f.Entry != 0xdead0000 || !slices.Contains(f.Anomalies, "entry point 0xdead0000 is outside every executable segment") {
			t.Errorf("entry 0x%x, anomalies %q", f.Entry, f.Anomalies)
		}
	})
	t.Run("overlap", func(t *testing.T) {
		b := slices.Clone(orig)
		var data, text int
		for i, s := range ef.Sections {
			switch s.Name {
			case ".data":
				data = i
			case ".text":
				text = i
			}
		}
		// sh_offset of .data := sh_offset of .text
		binary.LittleEndian.PutUint64(b[shoff+uint64(data)*64+24:], ef.Sections[text].Offset)
		f, err := analyzeBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(f.Anomalies, "sections .text and .data overlap in the file") {
			t.Errorf("anomalies %q", f.Anomalies)
		}
	})
	t.Run("E2_E5_no-usable-section-headers", func(t *testing.T) {
		b := slices.Clone(orig)
		binary.LittleEndian.PutUint64(b[40:], 1<<40) // e_shoff far past the end
		f, err := analyzeBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Anomalies) == 0 || !strings.HasPrefix(f.Anomalies[0], "section header table unusable") || !slices.Contains(f.Anomalies, "no section header table") {
			t.Errorf("anomalies %q", f.Anomalies)
		}
		// The loader's view survives: program headers and the dynamic segment.
		if !slices.Equal(f.Needed, []string{"libc.so.6"}) || f.Interpreter == "" || !f.PIE || f.Relro != "partial" || f.BuildID == "" || f.SectionCount != 0 {
			t.Errorf("needed %q interp %q pie %v relro %q build ID %q sections %d", f.Needed, f.Interpreter, f.PIE, f.Relro, f.BuildID, f.SectionCount)
		}
		if f.InitArray == nil || f.InitArray.Entries != 1 {
			t.Errorf("init array from the dynamic section: %+v", f.InitArray)
		}
		// Imports come from DT_SYMTAB, sized by DT_GNU_HASH, with DT_VERSYM and DT_VERNEED.
		def := load(t, "default")
		if p := importNamed(f, "printf"); f.ImportedSymbolCount != def.ImportedSymbolCount || p == nil || p.Library != "libc.so.6" || !f.Canary {
			t.Errorf("%d imports (want %d), printf %+v, canary %v", f.ImportedSymbolCount, def.ImportedSymbolCount, p, f.Canary)
		}
	})
	t.Run("huge-section-count", func(t *testing.T) {
		b := slices.Clone(orig)
		binary.LittleEndian.PutUint16(b[60:], 0)           // e_shnum 0: the count is in section 0's sh_size
		binary.LittleEndian.PutUint64(b[shoff+32:], 1<<30) // sh_size of section 0
		f, err := analyzeBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Anomalies) == 0 || f.Anomalies[0] != "section header table claims 1073741824 entries; read without it" || f.SectionCount != 0 || !f.PIE {
			t.Errorf("anomalies %q, %d sections, pie %v", f.Anomalies, f.SectionCount, f.PIE)
		}
	})
	t.Run("compressed-names", func(t *testing.T) {
		b := slices.Clone(orig)
		shstrndx := binary.LittleEndian.Uint16(b[62:])
		at := shoff + uint64(shstrndx)*64 + 8
		binary.LittleEndian.PutUint64(b[at:], binary.LittleEndian.Uint64(b[at:])|uint64(elf.SHF_COMPRESSED))
		f, err := analyzeBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(f.Anomalies, "section name string table is marked compressed; section names not read") || f.SectionCount == 0 {
			t.Errorf("anomalies %q, %d sections", f.Anomalies, f.SectionCount)
		}
	})
}

// TestUPXShape builds a UPX-packed file's shape byte by byte (upx is not packaged for
// Debian bookworm): no section headers, one writable and executable PT_LOAD, the l_info
// "UPX!" magic right after the program headers, the stub's banners, the PackHeader
// magic near the end.
func TestUPXShape(t *testing.T) {
	payload := make([]byte, 16384)
	rand.Read(payload)
	var body bytes.Buffer
	body.Write([]byte{0x11, 0x22, 0x33, 0x44}) // l_info: l_checksum
	body.WriteString("UPX!")                   // l_magic
	body.Write([]byte{0x34, 0x12, 14, 22})     // l_lsize, l_version, l_format
	body.Write(payload)
	body.WriteString("\x00$Info: This file is packed with the UPX executable packer http://upx.sf.net $\n\x00")
	body.WriteString("$Id: UPX 4.02 Copyright (C) 1996-2023 the UPX Team. All Rights Reserved. $\n\x00")
	body.WriteString("PROT_EXEC|PROT_WRITE failed.\n\x00")
	body.Write(make([]byte, 16))
	body.WriteString("UPX!")
	body.Write(make([]byte, 32))
	b := buildELF(elf.EM_X86_64, elf.ET_EXEC, 0x400000+64+56, []phdr{
		{typ: elf.PT_LOAD, flags: elf.PF_R | elf.PF_W | elf.PF_X, whole: true, vaddr: 0x400000},
		{typ: elf.PT_GNU_STACK, flags: elf.PF_R | elf.PF_W},
	}, body.Bytes())
	f, err := analyzeBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	var evidence []string
	for _, p := range f.Packers {
		if p.Packer != "upx" {
			t.Errorf("packer %+v", p)
		}
		evidence = append(evidence, p.Evidence)
	}
	want := []string{
		`UPX! magic "UPX!" at offset 0xb4`, // 64-byte header, 2 program headers, l_checksum
		`UPX banner "$Info: This file is packed with the UPX" at offset 0x40bd`,
		`UPX banner "$Id: UPX" at offset 0x410c`,
		`UPX stub message "PROT_EXEC|PROT_WRITE failed." at offset 0x4158`,
	}
	if !slices.Equal(evidence, want) {
		t.Errorf("evidence\n%q\nwant\n%q", evidence, want)
	}
	if f.WritableExecutableCount != 1 || !slices.Equal(f.WritableExecutableSegments, []int{0}) || !f.Stripped || f.Linking != "static" || !f.NX {
		t.Errorf("wx %d %v stripped %v linking %q nx %v", f.WritableExecutableCount, f.WritableExecutableSegments, f.Stripped, f.Linking, f.NX)
	}
	if !slices.Equal(f.Anomalies, []string{"no section header table"}) || f.Overlay != nil {
		t.Errorf("anomalies %q overlay %+v", f.Anomalies, f.Overlay)
	}

	// UPX section names (PE-style UPX0/UPX1) are a sign too.
	named := withSections(t, readFixture(t, "default"), ".text", "UPX0")
	f, err = analyzeBytes(named)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(f.Packers, PackerSign{Packer: "upx", Evidence: "section UPX0"}) {
		t.Errorf("packers %+v", f.Packers)
	}
}

// withSections renames section old to new, which must not be longer, in the section
// name string table.
func withSections(t *testing.T, b []byte, old, new string) []byte {
	t.Helper()
	le := binary.LittleEndian
	shoff := le.Uint64(b[40:])
	shnum := int(le.Uint16(b[60:]))
	names := le.Uint64(b[shoff+uint64(le.Uint16(b[62:]))*64+24:])
	out := slices.Clone(b)
	for i := range shnum {
		at := names + uint64(le.Uint32(b[shoff+uint64(i)*64:]))
		if bytes.HasPrefix(b[at:], []byte(old+"\x00")) {
			copy(out[at:], new+"\x00")
			return out
		}
	}
	t.Fatalf("no section %s", old)
	return nil
}

// TestAArch64Properties builds an AArch64 file whose GNU property note marks BTI and PAC.
func TestAArch64Properties(t *testing.T) {
	var note bytes.Buffer
	le := binary.LittleEndian
	// NT_GNU_BUILD_ID
	binary.Write(&note, le, []uint32{4, 8, ntGNUBuildID})
	note.WriteString("GNU\x00")
	note.Write([]byte{1, 2, 3, 4, 5, 6, 7, 8})
	// NT_GNU_PROPERTY_TYPE_0 with GNU_PROPERTY_AARCH64_FEATURE_1_AND = BTI|PAC
	binary.Write(&note, le, []uint32{4, 16, ntGNUPropertyType0})
	note.WriteString("GNU\x00")
	binary.Write(&note, le, []uint32{propAArch64Feature1, 4, aarch64FeatureBTI | aarch64FeaturePAC, 0})
	b := buildELF(elf.EM_AARCH64, elf.ET_DYN, 0, []phdr{
		{typ: elf.PT_NOTE, flags: elf.PF_R, align: 8, body: true},
	}, note.Bytes())
	f, err := analyzeBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if f.Machine != "aarch64" || !f.BTI || !f.PAC || f.IBT || f.SHSTK || f.BuildID != "0102030405060708" {
		t.Errorf("machine %q bti %v pac %v ibt %v shstk %v build ID %q", f.Machine, f.BTI, f.PAC, f.IBT, f.SHSTK, f.BuildID)
	}
	// The same property number on x86 means something else and must not count.
	binary.LittleEndian.PutUint16(b[18:], uint16(elf.EM_X86_64))
	f, _ = analyzeBytes(b)
	if f.BTI || f.PAC || f.IBT {
		t.Errorf("x86: bti %v pac %v ibt %v", f.BTI, f.PAC, f.IBT)
	}
}

// phdr describes one program header of buildELF: whole covers the entire file, body
// covers the bytes after the headers.
type phdr struct {
	typ          elf.ProgType
	flags        elf.ProgFlag
	vaddr, align uint64
	whole, body  bool
}

// buildELF lays out a little-endian ELF64 file: header, program headers, body. It has no
// section headers.
func buildELF(m elf.Machine, typ elf.Type, entry uint64, ph []phdr, body []byte) []byte {
	le := binary.LittleEndian
	hdrEnd := uint64(64 + 56*len(ph))
	total := hdrEnd + uint64(len(body))
	b := make([]byte, total)
	copy(b, elf.ELFMAG)
	b[4], b[5], b[6] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	le.PutUint16(b[16:], uint16(typ))
	le.PutUint16(b[18:], uint16(m))
	le.PutUint32(b[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(b[24:], entry)
	le.PutUint64(b[32:], 64)
	le.PutUint16(b[52:], 64)
	le.PutUint16(b[54:], 56)
	le.PutUint16(b[56:], uint16(len(ph)))
	le.PutUint16(b[58:], 64)
	for i, p := range ph {
		o := 64 + 56*i
		var off, size uint64
		switch {
		case p.whole:
			off, size = 0, total
		case p.body:
			off, size = hdrEnd, uint64(len(body))
		}
		le.PutUint32(b[o:], uint32(p.typ))
		le.PutUint32(b[o+4:], uint32(p.flags))
		le.PutUint64(b[o+8:], off)
		le.PutUint64(b[o+16:], p.vaddr+off)
		le.PutUint64(b[o+24:], p.vaddr+off)
		le.PutUint64(b[o+32:], size)
		le.PutUint64(b[o+40:], size)
		le.PutUint64(b[o+48:], max(p.align, 1))
	}
	copy(b[hdrEnd:], body)
	return b
}

// TestJSONNames pins the JSON names rules are written against.
func TestJSONNames(t *testing.T) {
	f := load(t, "now")
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"class", "byteOrder", "osabi", "machine", "type", "entry", "interpreter", "needed",
		"importedSymbols", "exportedSymbolCount", "sections", "programHeaders", "relro", "pie", "nx", "canary",
		"fortifiedCount", "ibt", "shstk", "stripped", "buildId", "initArray", "constructorCount", "linking"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if m["relro"] != "full" {
		t.Errorf("relro %v", m["relro"])
	}
}

func TestContextCancelled(t *testing.T) {
	b := readFixture(t, "default")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out, err := New().Analyze(ctx, &analyzers.Artifact{Format: sniff.ELF, Size: int64(len(b)), Content: bytes.NewReader(b)})
	if err == nil {
		t.Errorf("no error from a cancelled context: %+v", out)
	}
}

func TestNotELF(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("MZ\x90\x00"), []byte("\x7fELF\x09\x01\x01"), []byte("\x7fELF\x02\x01\x01")} {
		out, err := analyzeBytes(b)
		if err == nil {
			t.Errorf("%q: no error, %+v", b, out)
		}
	}
}
