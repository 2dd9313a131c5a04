// Package elf reports facts about ELF files (Linux and other Unix executables, shared
// libraries, objects and core dumps): the header, sections and segments with their
// entropy, the libraries and symbols the file imports and exports, the hardening its
// toolchain applied (RELRO, PIE, NX, stack protector, FORTIFY_SOURCE, CET and BTI), GNU
// notes, constructor tables, data appended after the last structure, marks of known
// packers and structural oddities.
//
// The file is hostile. debug/elf parses the header, the section headers and the program
// headers, behind recover and with the section name table checked first: when the
// section headers × name table bytes debug/elf could copy exceed a bound, it parses the
// file without names and the names are read here, each and all bounded. Everything else
// (the dynamic section, symbol and version tables, notes) is read here with every offset
// checked against the file size, every table and list capped, and the names kept for
// the report bounded in all.
package elf

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/entropy"
	"kensa.dev/kensa/analyzers/internal/debugsafe"
	"kensa.dev/kensa/analyzers/sniff"
)

// Caps on what one file may make the analyzer read, hold or report.
const (
	// maxSymbols caps each reported symbol list.
	maxSymbols = 20000
	// maxSections caps the reported sections; maxPrograms the reported program headers.
	maxSections = 2048
	maxPrograms = 512
	// maxSectionHeaders is the largest section header table parsed at all; past it the
	// file is read as the loader reads it, without section headers.
	maxSectionHeaders = 1 << 18
	// maxAnomalies caps the reported anomalies.
	maxAnomalies = 64
	// maxSymbolTableBytes caps how much of one symbol table is read, and
	// maxStringTableBytes how much of one string table is held in memory.
	maxSymbolTableBytes = 64 << 20
	maxStringTableBytes = 32 << 20
	// maxDynamicBytes caps how much of the dynamic section is read (65536 entries of 16
	// bytes); maxVersionBytes each version table; maxNoteBytes each note region.
	maxDynamicBytes = 1 << 20
	maxVersionBytes = 4 << 20
	maxNoteBytes    = 1 << 20
	// maxListEntries caps DT_NEEDED, DT_RPATH and DT_RUNPATH lists.
	maxListEntries = 1024
	// maxStringLength caps one string read from a string table.
	maxStringLength = 4096
	// maxNameCopyBytes bounds section headers × section name table bytes, the most
	// debug/elf could copy for section names (it copies each name up to the next NUL).
	// Past it, debug/elf parses the file without section names and they are read here,
	// each at most maxStringLength bytes, and at most maxSectionNameBytes in all.
	maxNameCopyBytes    = 16 << 20
	maxSectionNameBytes = 16 << 20
	// maxNameBytes bounds the bytes of distinct symbol, version and library names kept
	// for the report.
	maxNameBytes = 16 << 20
	// maxEntropyReadFactor bounds the bytes read to measure section entropy to this many
	// times the file size (sections may overlap, and a hostile file can make thousands of
	// them cover the whole file).
	maxEntropyReadFactor = 2
	// maxDecompressedSection is the largest uncompressed size a compressed section
	// (SHF_COMPRESSED) may declare without being reported. The analyzer decompresses no
	// section; a tool that does would allocate what the section declares.
	maxDecompressedSection = 128 << 20
	// maxCodeGapBytes bounds the bytes read to look for code outside every section, and
	// maxCodeGapSteps the section spans visited for it.
	maxCodeGapBytes = 16 << 20
	maxCodeGapSteps = 1 << 20
)

// New returns the elf analyzer.
func New() analyzers.Analyzer { return analyzer{} }

type analyzer struct{}

func (analyzer) Name() string { return "elf" }

func (analyzer) Wants(a *analyzers.Artifact) bool { return a.Format == sniff.ELF }

func (analyzer) Schema() any { return (*Facts)(nil) }

// Analyze reports the facts of one ELF file. On malformed input it returns what it could
// gather together with an error that says what is wrong.
func (analyzer) Analyze(ctx context.Context, a *analyzers.Artifact) (any, error) {
	if a.Content == nil || a.Size <= 0 {
		return nil, errors.New("elf: empty file")
	}
	s := &state{ctx: ctx, r: a.Content, size: a.Size, facts: &Facts{}, nameBudget: maxNameBytes}
	err := s.run()
	if s.facts.Class == "" {
		return nil, err
	}
	return s.facts, err
}

// state is one analysis in progress.
type state struct {
	ctx   context.Context
	r     io.ReaderAt
	size  int64
	facts *Facts
	f     *elf.File
	bo    binary.ByteOrder
	is64  bool
	dyn   *dynamic
	errs  []error
	// names holds the names kept for the report (see name), nameBudget what is left of
	// maxNameBytes, namesDropped the names reported empty past it.
	names        map[string]string
	nameBudget   int
	namesDropped int
}

func (s *state) fail(err error) {
	if err != nil && len(s.errs) < 8 {
		s.errs = append(s.errs, err)
	}
}

func (s *state) anomaly(format string, args ...any) {
	if len(s.facts.Anomalies) < maxAnomalies {
		s.facts.Anomalies = append(s.facts.Anomalies, fmt.Sprintf(format, args...))
	}
}

// run analyses the file phase by phase; a panic in any phase becomes an error and the
// facts gathered before it are kept.
func (s *state) run() (err error) {
	defer func() {
		if v := recover(); v != nil {
			s.fail(fmt.Errorf("elf: malformed file made the parser fail: %v", v))
		}
		err = errors.Join(s.errs...)
	}()
	if !s.open() {
		return
	}
	phases := []func(){s.header, s.programs, s.sections, s.dynamicFacts, s.dynamicSymbols,
		s.staticSymbols, s.notes, s.hardening, s.tables, s.overlay, s.packers, s.checks}
	for _, phase := range phases {
		if e := s.ctx.Err(); e != nil {
			s.fail(e)
			return
		}
		s.guard(phase)
	}
	return
}

func (s *state) guard(phase func()) {
	defer func() {
		if v := recover(); v != nil {
			s.fail(fmt.Errorf("elf: malformed file made the parser fail: %v", v))
		}
	}()
	phase()
}

// rawHeader is the part of the ELF header needed before debug/elf sees the file.
type rawHeader struct {
	is64                        bool
	bo                          binary.ByteOrder
	shoff                       uint64
	shentsize, shnum, shstrndx  uint16
	shoffAt, shnumAt, shstrndAt int
}

func readRawHeader(r io.ReaderAt) (*rawHeader, error) {
	var b [64]byte
	n, _ := r.ReadAt(b[:], 0)
	if n < 16 || !bytes.Equal(b[:4], []byte(elf.ELFMAG)) {
		return nil, errors.New("elf: not an ELF file (bad magic number)")
	}
	h := &rawHeader{}
	switch elf.Class(b[elf.EI_CLASS]) {
	case elf.ELFCLASS32:
	case elf.ELFCLASS64:
		h.is64 = true
	default:
		return nil, fmt.Errorf("elf: unknown ELF class %d", b[elf.EI_CLASS])
	}
	switch elf.Data(b[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		h.bo = binary.LittleEndian
	case elf.ELFDATA2MSB:
		h.bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("elf: unknown ELF data encoding %d", b[elf.EI_DATA])
	}
	if h.is64 {
		if n < 64 {
			return nil, errors.New("elf: file ends inside the ELF header")
		}
		h.shoffAt, h.shnumAt, h.shstrndAt = 40, 60, 62
		h.shoff = h.bo.Uint64(b[40:])
		h.shentsize = h.bo.Uint16(b[58:])
	} else {
		if n < 52 {
			return nil, errors.New("elf: file ends inside the ELF header")
		}
		h.shoffAt, h.shnumAt, h.shstrndAt = 32, 48, 50
		h.shoff = uint64(h.bo.Uint32(b[32:]))
		h.shentsize = h.bo.Uint16(b[46:])
	}
	h.shnum = h.bo.Uint16(b[h.shnumAt:])
	h.shstrndx = h.bo.Uint16(b[h.shstrndAt:])
	return h, nil
}

// sectionCount is the number of section headers the header claims, following the
// extended numbering of section 0's sh_size when e_shnum is 0.
func (h *rawHeader) sectionCount(r io.ReaderAt) uint64 {
	if h.shnum != 0 || h.shoff == 0 || h.shoff > 1<<62 {
		return uint64(h.shnum)
	}
	var b [8]byte
	at, w := int64(20), 4
	if h.is64 {
		at, w = 32, 8
	}
	if _, err := r.ReadAt(b[:w], int64(h.shoff)+at); err != nil {
		return 0
	}
	if h.is64 {
		return h.bo.Uint64(b[:])
	}
	return uint64(h.bo.Uint32(b[:]))
}

// shstrCompressed reports whether the section name table is marked compressed, which
// would make debug/elf decompress it to whatever size it claims.
func (h *rawHeader) shstrCompressed(r io.ReaderAt) bool {
	if h.shentsize < 16 || h.shoff > 1<<62 {
		return false
	}
	idx := uint64(h.shstrndx)
	if h.shstrndx == uint16(elf.SHN_XINDEX) {
		// The real index is in sh_link of section 0.
		var l [4]byte
		at := 24
		if h.is64 {
			at = 40
		}
		if _, err := r.ReadAt(l[:], int64(h.shoff)+int64(at)); err != nil {
			return false
		}
		idx = uint64(h.bo.Uint32(l[:]))
	}
	if idx == 0 {
		return false
	}
	off := h.shoff + idx*uint64(h.shentsize)
	var b [16]byte
	if off > 1<<62 {
		return false
	}
	if _, err := r.ReadAt(b[:], int64(off)); err != nil {
		return false
	}
	var flags uint64
	if h.is64 {
		flags = h.bo.Uint64(b[8:])
	} else {
		flags = uint64(h.bo.Uint32(b[8:]))
	}
	return flags&uint64(elf.SHF_COMPRESSED) != 0
}

// patched overlays bytes on a reader: the header fields that make debug/elf skip a
// section header table it cannot use.
type patched struct {
	r     io.ReaderAt
	at    int64
	patch []byte
}

func (p *patched) ReadAt(b []byte, off int64) (int, error) {
	n, err := p.r.ReadAt(b, off)
	for i := range p.patch {
		j := p.at + int64(i) - off
		if j >= 0 && j < int64(n) {
			b[j] = p.patch[i]
		}
	}
	return n, err
}

// withoutSections makes debug/elf see no section header table (e_shoff, e_shnum and
// e_shstrndx zero).
func withoutSections(r io.ReaderAt, h *rawHeader) io.ReaderAt {
	var p patched
	p.r = r
	p.at = int64(h.shoffAt)
	p.patch = make([]byte, h.shstrndAt+2-h.shoffAt)
	// Keep the fields between e_shoff and e_shnum (flags, sizes, program header count).
	full := make([]byte, h.shstrndAt+2)
	if _, err := r.ReadAt(full, 0); err == nil {
		copy(p.patch, full[h.shoffAt:])
	}
	w := 8
	if !h.is64 {
		w = 4
	}
	clear(p.patch[:w])
	clear(p.patch[h.shnumAt-h.shoffAt:])
	return &p
}

// withoutNames makes debug/elf skip the section name table (e_shstrndx zero).
func withoutNames(r io.ReaderAt, h *rawHeader) io.ReaderAt {
	return &patched{r: r, at: int64(h.shstrndAt), patch: []byte{0, 0}}
}

func newFile(r io.ReaderAt) (f *elf.File, err error) {
	defer func() {
		if v := recover(); v != nil {
			f, err = nil, fmt.Errorf("elf: malformed headers made the parser fail: %v", v)
		}
	}()
	return elf.NewFile(r)
}

// open parses the headers. When the section header table is unusable it parses the file
// again without it, as the loader does, and says so in the anomalies.
func (s *state) open() bool {
	h, err := readRawHeader(s.r)
	if err != nil {
		s.fail(err)
		return false
	}
	s.is64, s.bo = h.is64, h.bo
	if h.is64 {
		s.facts.Class = "elf64"
	} else {
		s.facts.Class = "elf32"
	}
	if h.bo == binary.LittleEndian {
		s.facts.ByteOrder = "little"
	} else {
		s.facts.ByteOrder = "big"
	}
	r := s.r
	names := true // debug/elf reads the section names
	if h.shstrCompressed(s.r) {
		s.anomaly("section name string table is marked compressed; section names not read")
		r = withoutNames(s.r, h)
		names = false
	}
	if n := h.sectionCount(s.r); n > maxSectionHeaders {
		s.anomaly("section header table claims %d entries; read without it", n)
		r = withoutSections(r, h)
		names = false
	}
	var headers, table uint64
	if names {
		headers, table = debugsafe.ELFNames(s.r, s.size)
		if headers > 0 && table > maxNameCopyBytes/headers {
			r = withoutNames(r, h)
		} else {
			headers = 0
		}
	}
	f, err := newFile(r)
	if err != nil {
		f2, err2 := newFile(withoutSections(r, h))
		if err2 != nil {
			s.fail(fmt.Errorf("elf: %w", err))
			return false
		}
		s.anomaly("section header table unusable (%v); read without it", err)
		f, headers = f2, 0
	}
	s.f = f
	if headers > 0 {
		s.sectionNames(h, headers, table)
	}
	return true
}

// sectionName is one name sectionNames read: cut when the bound or the table's end
// stopped it before its NUL.
type sectionName struct {
	name string
	cut  bool
}

// sectionNames names the sections of a file parsed without its section name table,
// reading each name at most maxStringLength bytes long, at most maxSectionNameBytes of
// distinct names in all. The anomaly says so when that changed a name.
func (s *state) sectionNames(h *rawHeader, headers, table uint64) {
	secs := s.f.Sections
	idx := uint64(h.shstrndx)
	if h.shstrndx == uint16(elf.SHN_XINDEX) && len(secs) > 0 {
		idx = uint64(secs[0].Link)
	}
	if idx == 0 || idx >= uint64(len(secs)) {
		return
	}
	tab := secs[idx]
	if tab.Type != elf.SHT_STRTAB {
		s.anomaly("section name table (section %d) is of type %s; section names not read", idx, enumName(tab.Type.String(), "SHT_", uint64(tab.Type)))
		return
	}
	// The bytes of the table in the file.
	size := uint64(0)
	if tab.Offset < uint64(s.size) {
		size = min(tab.FileSize, uint64(s.size)-tab.Offset)
	}
	hr := bufio.NewReaderSize(io.NewSectionReader(s.r, int64(h.shoff), int64(len(secs))*int64(h.shentsize)), 64<<10)
	var (
		raw    [4]byte
		buf    = make([]byte, maxStringLength)
		seen   = map[uint32]sectionName{}
		budget = maxSectionNameBytes
		cut    = 0
	)
	for _, sec := range secs {
		if _, err := io.ReadFull(hr, raw[:]); err != nil {
			break
		}
		if _, err := hr.Discard(int(h.shentsize) - 4); err != nil {
			break
		}
		off := s.bo.Uint32(raw[:])
		nm, ok := seen[off]
		if !ok {
			nm = sectionName{cut: true} // a name outside the table
			if uint64(off) < size {
				n, _ := s.r.ReadAt(buf[:min(uint64(len(buf)), size-uint64(off))], int64(tab.Offset)+int64(off))
				b := buf[:n]
				i := bytes.IndexByte(b, 0)
				if i >= 0 {
					b = b[:i]
				}
				if len(b) <= budget {
					budget -= len(b)
					nm = sectionName{name: string(b), cut: i < 0}
				}
			}
			seen[off] = nm
		}
		sec.Name = nm.name
		if nm.cut {
			cut++
		}
	}
	if cut > 0 {
		s.anomaly("section names read with a bound of %d bytes each because %d section headers name a %d-byte table; %d names cut",
			maxStringLength, headers, table, cut)
	}
}

func enumName(name, prefix string, v uint64) string {
	if !strings.HasPrefix(name, prefix) || strings.ContainsAny(name, "+") {
		return fmt.Sprintf("0x%x", v)
	}
	return strings.ToLower(strings.TrimPrefix(name, prefix))
}

func (s *state) header() {
	f := s.f
	s.facts.OSABI = enumName(f.OSABI.String(), "ELFOSABI_", uint64(f.OSABI))
	s.facts.Machine = enumName(f.Machine.String(), "EM_", uint64(f.Machine))
	s.facts.Type = enumName(f.Type.String(), "ET_", uint64(f.Type))
	s.facts.Entry = f.Entry
}

func progFlags(fl elf.ProgFlag) string {
	var b strings.Builder
	if fl&elf.PF_R != 0 {
		b.WriteByte('R')
	}
	if fl&elf.PF_W != 0 {
		b.WriteByte('W')
	}
	if fl&elf.PF_X != 0 {
		b.WriteByte('E')
	}
	return b.String()
}

// inFile reports whether [off, off+n) lies inside the file.
func (s *state) inFile(off, n uint64) bool {
	return off <= uint64(s.size) && n <= uint64(s.size)-off
}

// read reads n bytes at off, which must lie inside the file and be at most max.
func (s *state) read(off, n uint64, max int) ([]byte, error) {
	if n > uint64(max) {
		return nil, fmt.Errorf("%d bytes at offset 0x%x exceed the cap of %d", n, off, max)
	}
	if !s.inFile(off, n) {
		return nil, fmt.Errorf("%d bytes at offset 0x%x lie past the end of the file (%d bytes)", n, off, s.size)
	}
	b := make([]byte, n)
	if _, err := s.r.ReadAt(b, int64(off)); err != nil && !(err == io.EOF) {
		return nil, err
	}
	return b, nil
}

func (s *state) programs() {
	f := s.f
	s.facts.ProgramHeaderCount = len(f.Progs)
	interps := 0
	for i, p := range f.Progs {
		if i < maxPrograms {
			s.facts.ProgramHeaders = append(s.facts.ProgramHeaders, ProgramHeader{
				Type:   enumName(p.Type.String(), "PT_", uint64(p.Type)),
				Flags:  progFlags(p.Flags),
				Offset: p.Off, Vaddr: p.Vaddr, Filesz: p.Filesz, Memsz: p.Memsz,
			})
		}
		if p.Type != elf.PT_NULL && p.Filesz > 0 && !s.inFile(p.Off, p.Filesz) {
			s.anomaly("segment %d (%s) extends past the end of the file", i, enumName(p.Type.String(), "PT_", uint64(p.Type)))
		}
		switch p.Type {
		case elf.PT_LOAD:
			if p.Flags&elf.PF_W != 0 && p.Flags&elf.PF_X != 0 {
				s.facts.WritableExecutableCount++
				if len(s.facts.WritableExecutableSegments) < maxPrograms {
					s.facts.WritableExecutableSegments = append(s.facts.WritableExecutableSegments, i)
				}
			}
		case elf.PT_GNU_STACK:
			if !s.facts.GNUStack {
				s.facts.GNUStack = true
				s.facts.GNUStackExecutable = p.Flags&elf.PF_X != 0
			}
		case elf.PT_INTERP:
			interps++
			if interps > 1 {
				continue
			}
			b, err := s.read(p.Off, min(p.Filesz, maxStringLength), maxStringLength)
			if err != nil {
				s.anomaly("PT_INTERP unreadable: %v", err)
				continue
			}
			if i := bytes.IndexByte(b, 0); i >= 0 {
				b = b[:i]
			}
			s.facts.Interpreter = string(b)
		}
	}
	if interps > 1 {
		s.anomaly("%d PT_INTERP segments", interps)
	}
}

func sectionFlags(fl elf.SectionFlag) string {
	var b strings.Builder
	letters := []struct {
		bit elf.SectionFlag
		c   byte
	}{
		{elf.SHF_WRITE, 'W'}, {elf.SHF_ALLOC, 'A'}, {elf.SHF_EXECINSTR, 'X'},
		{elf.SHF_MERGE, 'M'}, {elf.SHF_STRINGS, 'S'}, {elf.SHF_INFO_LINK, 'I'},
		{elf.SHF_LINK_ORDER, 'L'}, {elf.SHF_OS_NONCONFORMING, 'O'}, {elf.SHF_GROUP, 'G'},
		{elf.SHF_TLS, 'T'}, {elf.SHF_COMPRESSED, 'C'}, {shfGNURetain, 'R'}, {shfExclude, 'E'},
	}
	rest := fl
	for _, l := range letters {
		if fl&l.bit != 0 {
			b.WriteByte(l.c)
			rest &^= l.bit
		}
	}
	if rest&elf.SHF_MASKOS != 0 {
		b.WriteByte('o')
	}
	if rest&elf.SHF_MASKPROC != 0 {
		b.WriteByte('p')
	}
	if rest&^(elf.SHF_MASKOS|elf.SHF_MASKPROC) != 0 {
		b.WriteByte('x')
	}
	return b.String()
}

const (
	shfGNURetain elf.SectionFlag = 0x200000
	shfExclude   elf.SectionFlag = 0x80000000
)

func (s *state) sections() {
	f := s.f
	s.facts.SectionCount = len(f.Sections)
	s.facts.Stripped = true
	budget := maxEntropyReadFactor*s.size + 1<<20
	for i, sec := range f.Sections {
		if sec.Type == elf.SHT_SYMTAB {
			s.facts.Stripped = false
		}
		if strings.HasPrefix(sec.Name, "UPX") {
			s.facts.Packers = append(s.facts.Packers, PackerSign{Packer: "upx", Evidence: "section " + sec.Name})
		}
		inFile := sec.Type == elf.SHT_NOBITS || sec.Type == elf.SHT_NULL || sec.FileSize == 0 || s.inFile(sec.Offset, sec.FileSize)
		if !inFile {
			s.anomaly("section %d (%s) extends past the end of the file", i, sec.Name)
		}
		if sec.Flags&elf.SHF_COMPRESSED != 0 && sec.Size > maxDecompressedSection {
			s.compressedSize(i, sec)
		}
		if i >= maxSections {
			continue
		}
		out := Section{
			Name:   sec.Name,
			Type:   enumName(sec.Type.String(), "SHT_", uint64(sec.Type)),
			Flags:  sectionFlags(sec.Flags),
			Addr:   sec.Addr,
			Offset: sec.Offset,
			Size:   sec.FileSize,
		}
		if sec.Type != elf.SHT_NOBITS && sec.Type != elf.SHT_NULL && sec.FileSize > 0 && inFile && int64(sec.FileSize) <= budget {
			budget -= int64(sec.FileSize)
			if e, err := entropy.Section(s.r, int64(sec.Offset), int64(sec.FileSize)); err == nil {
				out.Entropy = &e
			}
		}
		s.facts.Sections = append(s.facts.Sections, out)
	}
	if len(f.Sections) == 0 && (f.Type == elf.ET_EXEC || f.Type == elf.ET_DYN) {
		s.anomaly("no section header table")
	}
	s.overlaps()
	s.uncoveredCode()
}

// compressedSize reports a compressed section whose declared uncompressed size
// (ch_size of its compression header, which debug/elf reports as the section's Size)
// exceeds maxDecompressedSection.
func (s *state) compressedSize(i int, sec *elf.Section) {
	kind := "unknown compression"
	if b, err := s.read(sec.Offset, 4, 4); err == nil {
		switch elf.CompressionType(s.bo.Uint32(b)) {
		case elf.COMPRESS_ZLIB:
			kind = "zlib"
		case elf.COMPRESS_ZSTD:
			kind = "zstd"
		}
	}
	s.anomaly("section %d (%s) declares %d bytes when decompressed (%s), more than %d MiB; not decompressed",
		i, sec.Name, sec.Size, kind, maxDecompressedSection>>20)
}

// uncoveredCode reports bytes of executable PT_LOAD segments that lie in no section and
// are not all zero: code the loader maps but that tools which read sections (objdump -d,
// disassemblers) do not show. The ELF header and the program header table, which the
// first segment often maps, count as covered.
func (s *state) uncoveredCode() {
	f := s.f
	if len(f.Sections) == 0 {
		return // reported as "no section header table"
	}
	type span struct{ off, end uint64 }
	var covered []span
	for _, sec := range f.Sections {
		if sec.Type == elf.SHT_NOBITS || sec.Type == elf.SHT_NULL || sec.FileSize == 0 || !s.inFile(sec.Offset, sec.FileSize) {
			continue
		}
		covered = append(covered, span{sec.Offset, sec.Offset + sec.FileSize})
	}
	// The ELF header, the program header table and the section header table (which the
	// Go linker places in the first, executable segment).
	ehsize, phoff, phsize, shoff, shsize := uint64(52), uint64(0), uint64(0), uint64(0), uint64(0)
	hdr := make([]byte, 64)
	if n, _ := s.r.ReadAt(hdr, 0); s.is64 && n >= 64 {
		ehsize, phoff, phsize = 64, s.bo.Uint64(hdr[32:]), uint64(s.bo.Uint16(hdr[54:]))*uint64(len(f.Progs))
		shoff, shsize = s.bo.Uint64(hdr[40:]), uint64(s.bo.Uint16(hdr[58:]))*uint64(len(f.Sections))
	} else if !s.is64 && n >= 52 {
		phoff, phsize = uint64(s.bo.Uint32(hdr[28:])), uint64(s.bo.Uint16(hdr[42:]))*uint64(len(f.Progs))
		shoff, shsize = uint64(s.bo.Uint32(hdr[32:])), uint64(s.bo.Uint16(hdr[46:]))*uint64(len(f.Sections))
	}
	covered = append(covered, span{0, ehsize})
	for _, t := range []span{{phoff, phoff + phsize}, {shoff, shoff + shsize}} {
		if t.end > t.off {
			covered = append(covered, t)
		}
	}
	// Merged into disjoint spans in file order.
	sort.Slice(covered, func(i, j int) bool { return covered[i].off < covered[j].off })
	merged := covered[:0]
	for _, c := range covered {
		if k := len(merged) - 1; k >= 0 && c.off <= merged[k].end {
			merged[k].end = max(merged[k].end, c.end)
		} else {
			merged = append(merged, c)
		}
	}
	budget, steps := int64(maxCodeGapBytes), maxCodeGapSteps
	var buf []byte
	// nonZero reports whether [lo, hi) holds a byte other than 0, reading at most budget.
	nonZero := func(lo, hi uint64) bool {
		for lo < hi && budget > 0 {
			n := min(hi-lo, 64<<10, uint64(budget))
			if buf == nil {
				buf = make([]byte, 64<<10)
			}
			b := buf[:n]
			m, _ := s.r.ReadAt(b, int64(lo))
			budget -= int64(n)
			for _, c := range b[:m] {
				if c != 0 {
					return true
				}
			}
			lo += n
		}
		return false
	}
	for i, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Flags&elf.PF_X == 0 || p.Filesz == 0 || !s.inFile(p.Off, p.Filesz) {
			continue
		}
		var gaps, size, first uint64
		gap := func(lo, hi uint64) {
			if hi > lo && nonZero(lo, hi) {
				if gaps == 0 {
					first = lo
				}
				gaps++
				size += hi - lo
			}
		}
		pos, end := p.Off, p.Off+p.Filesz
		for k := sort.Search(len(merged), func(k int) bool { return merged[k].end > pos }); k < len(merged) && merged[k].off < end && steps > 0; k++ {
			steps--
			gap(pos, merged[k].off)
			pos = max(pos, merged[k].end)
		}
		if pos < end {
			gap(pos, end)
		}
		if gaps > 0 {
			s.anomaly("executable segment %d maps %d bytes that no section covers (%d ranges, the first at offset 0x%x)",
				i, size, gaps, first)
		}
	}
}

// overlaps reports sections whose file bytes overlap.
func (s *state) overlaps() {
	type span struct {
		name     string
		off, end uint64
	}
	var spans []span
	for _, sec := range s.f.Sections {
		if sec.Type == elf.SHT_NOBITS || sec.Type == elf.SHT_NULL || sec.FileSize == 0 || !s.inFile(sec.Offset, sec.FileSize) {
			continue
		}
		spans = append(spans, span{sec.Name, sec.Offset, sec.Offset + sec.FileSize})
	}
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].off < spans[j].off })
	last := -1
	for i, sp := range spans {
		if last >= 0 && sp.off < spans[last].end {
			s.anomaly("sections %s and %s overlap in the file", spans[last].name, sp.name)
		}
		if last < 0 || sp.end > spans[last].end {
			last = i
		}
	}
}

// vaddrToOffset maps a virtual address to a file offset through the PT_LOAD segments.
func (s *state) vaddrToOffset(va uint64) (uint64, bool) {
	for _, p := range s.f.Progs {
		if p.Type == elf.PT_LOAD && va >= p.Vaddr && va-p.Vaddr < p.Filesz {
			return p.Off + (va - p.Vaddr), true
		}
	}
	return 0, false
}

func (s *state) hardening() {
	f := s.f
	fx := s.facts
	hasRelro := false
	for _, p := range f.Progs {
		if p.Type == elf.PT_GNU_RELRO {
			hasRelro = true
		}
	}
	d := s.dyn
	switch {
	case !hasRelro:
		fx.Relro = "none"
	case d != nil && (d.has(elf.DT_BIND_NOW) || d.flags&uint64(elf.DF_BIND_NOW) != 0 || d.flags1&uint64(elf.DF_1_NOW) != 0):
		fx.Relro = "full"
	default:
		fx.Relro = "partial"
	}
	fx.NX = fx.GNUStack && !fx.GNUStackExecutable
	if f.Type == elf.ET_DYN && d != nil && (d.flags1&uint64(elf.DF_1_PIE) != 0 || d.has(elf.DT_DEBUG)) {
		fx.PIE = true
	}
	hasInterp, hasDynamic := false, false
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			hasInterp = true
		case elf.PT_DYNAMIC:
			hasDynamic = true
		}
	}
	switch {
	case f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN:
	case hasInterp:
		fx.Linking = "dynamic"
	case fx.PIE && hasDynamic:
		fx.Linking = "static-pie"
	case hasDynamic:
		fx.Linking = "dynamic"
	default:
		fx.Linking = "static"
	}
	fx.Canary = len(fx.CanarySymbols) > 0
}

func (s *state) tables() {
	ptr := uint64(4)
	if s.is64 {
		ptr = 8
	}
	fx := s.facts
	for _, sec := range s.f.Sections {
		var t **FunctionTable
		switch {
		case sec.Type == elf.SHT_INIT_ARRAY:
			t = &fx.InitArray
		case sec.Type == elf.SHT_FINI_ARRAY:
			t = &fx.FiniArray
		case sec.Type == elf.SHT_PREINIT_ARRAY:
			t = &fx.PreinitArray
		case sec.Name == ".ctors" && sec.Type == elf.SHT_PROGBITS:
			t = &fx.Ctors
		case sec.Name == ".dtors" && sec.Type == elf.SHT_PROGBITS:
			t = &fx.Dtors
		default:
			continue
		}
		if *t == nil {
			*t = &FunctionTable{}
		}
		(*t).Size += sec.Size
		n := sec.Size / ptr
		if sec.Name == ".ctors" || sec.Name == ".dtors" {
			n = max(n, 2) - 2
		}
		(*t).Entries += n
	}
	// Without section headers the dynamic section still gives the array sizes.
	if len(s.f.Sections) == 0 && s.dyn != nil {
		for _, c := range []struct {
			tag elf.DynTag
			t   **FunctionTable
		}{{elf.DT_INIT_ARRAYSZ, &fx.InitArray}, {elf.DT_FINI_ARRAYSZ, &fx.FiniArray}, {elf.DT_PREINIT_ARRAYSZ, &fx.PreinitArray}} {
			if v, ok := s.dyn.value(c.tag); ok {
				*c.t = &FunctionTable{Size: v, Entries: v / ptr}
			}
		}
	}
	for _, t := range []*FunctionTable{fx.PreinitArray, fx.InitArray, fx.Ctors} {
		if t != nil {
			fx.ConstructorCount += int(min(t.Entries, 1<<31))
		}
	}
}

// overlay finds data after the end of every section, segment and header table.
func (s *state) overlay() {
	f := s.f
	end := uint64(64)
	if !s.is64 {
		end = 52
	}
	grow := func(off, n uint64) {
		if e := off + n; e >= off && e > end {
			end = e
		}
	}
	for _, sec := range f.Sections {
		if sec.Type != elf.SHT_NOBITS && sec.Type != elf.SHT_NULL {
			grow(sec.Offset, sec.FileSize)
		}
	}
	for _, p := range f.Progs {
		grow(p.Off, p.Filesz)
	}
	if h, err := readRawHeader(s.r); err == nil {
		if len(f.Sections) > 0 {
			grow(h.shoff, uint64(len(f.Sections))*uint64(h.shentsize))
		}
	}
	if len(f.Progs) > 0 {
		var phoff uint64
		var phentsize uint64
		b := make([]byte, 64)
		if n, _ := s.r.ReadAt(b, 0); n >= 52 {
			if s.is64 && n >= 64 {
				phoff, phentsize = s.bo.Uint64(b[32:]), uint64(s.bo.Uint16(b[54:]))
			} else if !s.is64 {
				phoff, phentsize = uint64(s.bo.Uint32(b[28:])), uint64(s.bo.Uint16(b[42:]))
			}
		}
		grow(phoff, uint64(len(f.Progs))*phentsize)
	}
	if end >= uint64(s.size) {
		return
	}
	o := &Overlay{Offset: int64(end), Size: s.size - int64(end)}
	e, err := entropy.Section(s.r, o.Offset, o.Size)
	s.fail(err)
	o.Entropy = e
	s.facts.Overlay = o
}

// checks reports oddities that need the whole picture.
func (s *state) checks() {
	f := s.f
	if s.namesDropped > 0 {
		s.anomaly("symbol and version names past %d bytes in all were not kept; %d names reported empty", maxNameBytes, s.namesDropped)
	}
	if (f.Type == elf.ET_EXEC || f.Type == elf.ET_DYN) && f.Entry != 0 {
		loads, inside := 0, false
		for _, p := range f.Progs {
			if p.Type != elf.PT_LOAD {
				continue
			}
			loads++
			if p.Flags&elf.PF_X != 0 && f.Entry >= p.Vaddr && f.Entry-p.Vaddr < p.Memsz {
				inside = true
			}
		}
		if loads > 0 && !inside {
			s.anomaly("entry point 0x%x is outside every executable segment", f.Entry)
		}
	}
	var dynProg *elf.Prog
	nDyn := 0
	for _, p := range f.Progs {
		if p.Type == elf.PT_DYNAMIC {
			nDyn++
			if dynProg == nil {
				dynProg = p
			}
		}
	}
	if nDyn > 1 {
		s.anomaly("%d PT_DYNAMIC segments", nDyn)
	}
	if sec := f.SectionByType(elf.SHT_DYNAMIC); sec != nil && dynProg != nil && sec.Offset != dynProg.Off {
		s.anomaly("dynamic section at offset 0x%x but PT_DYNAMIC at offset 0x%x", sec.Offset, dynProg.Off)
	}
	if sec := f.Section(".interp"); sec != nil && s.facts.Interpreter != "" {
		if b, err := s.read(sec.Offset, min(sec.FileSize, maxStringLength), maxStringLength); err == nil {
			if i := bytes.IndexByte(b, 0); i >= 0 {
				b = b[:i]
			}
			if string(b) != s.facts.Interpreter {
				s.anomaly("section .interp names %q but PT_INTERP names %q", b, s.facts.Interpreter)
			}
		}
	}
}
