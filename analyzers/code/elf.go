package code

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
)

// ELF constants the analyzer needs (debug/elf is not used: every table here is read
// with its own bound).
const (
	emX86_64      = 62
	etExec        = 2
	etDyn         = 3
	shtProgbits   = 1
	shtSymtab     = 2
	shtRela       = 4
	shtDynsym     = 11
	shfWrite      = 0x1
	shfAlloc      = 0x2
	shfExec       = 0x4
	shnUndef      = 0
	sttFunc       = 2
	sttGnuIfunc   = 10
	rGlobDat      = 6
	rJumpSlot     = 7
	rIRelative    = 37
	shdrSize      = 64
	symSize       = 24
	relaSize      = 24
	maxNameLength = 256
)

// section is one section header.
type section struct {
	name               string
	typ                uint32
	flags              uint64
	addr, offset, size uint64
	link               uint32
	entsize            uint64
	index              int
}

func (s *section) contains(va uint64) bool { return va >= s.addr && va-s.addr < s.size }

// funcSym is a function symbol: where it starts, how long it is, where its name is.
type funcSym struct {
	addr, size uint64
	strtab     *section
	name       uint32
}

// image is the parts of an x86-64 ELF file the analyzer reads.
type image struct {
	r        io.ReaderAt
	size     int64
	typ      uint16
	sections []*section
	// funcs are the function symbols sorted by address.
	funcs []funcSym
	// slots maps a GOT slot address to the symbol its GLOB_DAT or JUMP_SLOT relocation
	// names, for the names the analyzer looks for; gotSlots maps every relocated GOT
	// slot to its symbol name index, resolved only when reported.
	slots    map[uint64]string
	allSlots map[uint64]symRef
	// imports are the undefined dynamic symbols the analyzer looks for.
	imports map[string]bool
	// staticFuncs maps the address of a defined function of interest to its name.
	staticFuncs map[uint64]string
	hasSymtab   bool
}

// symRef names a symbol by its string table and offset.
type symRef struct {
	strtab *section
	name   uint32
}

var errNotX86 = errors.New("not an x86-64 ELF file")

// readHeader reads the ELF header and the section headers.
func readHeader(r io.ReaderAt, size int64, b *budget) (*image, error) {
	var h [64]byte
	if n, _ := r.ReadAt(h[:], 0); n < 64 || string(h[:4]) != "\x7fELF" {
		return nil, errNotX86
	}
	if h[4] != 2 || h[5] != 1 || binary.LittleEndian.Uint16(h[18:]) != emX86_64 {
		return nil, errNotX86
	}
	im := &image{r: r, size: size, typ: binary.LittleEndian.Uint16(h[16:])}
	shoff := binary.LittleEndian.Uint64(h[40:])
	shentsize := binary.LittleEndian.Uint16(h[58:])
	shnum := uint64(binary.LittleEndian.Uint16(h[60:]))
	shstrndx := uint64(binary.LittleEndian.Uint16(h[62:]))
	if shoff == 0 {
		return im, nil
	}
	if shentsize != shdrSize {
		return nil, fmt.Errorf("code: section header entries are %d bytes, not 64", shentsize)
	}
	if !inFile(size, shoff, shdrSize) {
		return nil, errors.New("code: the section header table lies past the end of the file")
	}
	var first [shdrSize]byte
	if _, err := r.ReadAt(first[:], int64(shoff)); err != nil {
		return nil, fmt.Errorf("code: reading the section headers: %w", err)
	}
	if shnum == 0 {
		shnum = binary.LittleEndian.Uint64(first[32:])
	}
	if shstrndx == 0xffff {
		shstrndx = uint64(binary.LittleEndian.Uint32(first[40:]))
	}
	if shnum > maxSections {
		return nil, fmt.Errorf("%w: %d section headers, more than %d", errBound, shnum, maxSections)
	}
	if !inFile(size, shoff, shnum*shdrSize) {
		return nil, errors.New("code: the section header table lies past the end of the file")
	}
	br := bufio.NewReaderSize(io.NewSectionReader(r, int64(shoff), int64(shnum*shdrSize)), 64<<10)
	var raw [shdrSize]byte
	names := make([]uint32, shnum)
	for i := range shnum {
		if _, err := io.ReadFull(br, raw[:]); err != nil {
			return nil, fmt.Errorf("code: reading the section headers: %w", err)
		}
		le := binary.LittleEndian
		names[i] = le.Uint32(raw[0:])
		im.sections = append(im.sections, &section{
			typ: le.Uint32(raw[4:]), flags: le.Uint64(raw[8:]), addr: le.Uint64(raw[16:]),
			offset: le.Uint64(raw[24:]), size: le.Uint64(raw[32:]), link: le.Uint32(raw[40:]),
			entsize: le.Uint64(raw[56:]), index: int(i),
		})
	}
	if shstrndx < shnum {
		tab := im.sections[shstrndx]
		for i, s := range im.sections {
			s.name = im.str(tab, names[i], b)
		}
	}
	return im, nil
}

// inFile reports whether [off, off+n) lies inside a file of size bytes.
func inFile(size int64, off, n uint64) bool {
	return off <= uint64(size) && n <= uint64(size)-off
}

// str reads the NUL-terminated string at off in the string table tab, at most
// maxNameLength bytes; "" when it lies outside the table or the read budget is spent.
func (im *image) str(tab *section, off uint32, b *budget) string {
	if tab == nil || uint64(off) >= tab.size || !inFile(im.size, tab.offset, tab.size) || !b.read(maxNameLength) {
		return ""
	}
	buf := make([]byte, min(uint64(maxNameLength), tab.size-uint64(off)))
	n, _ := im.r.ReadAt(buf, int64(tab.offset+uint64(off)))
	buf = buf[:n]
	if i := bytes.IndexByte(buf, 0); i >= 0 {
		buf = buf[:i]
	}
	return string(buf)
}

// section returns the section named name, or nil.
func (im *image) section(name string) *section {
	for _, s := range im.sections {
		if s.name == name {
			return s
		}
	}
	return nil
}

// linked returns the section s links to, or nil.
func (im *image) linked(s *section) *section {
	if int(s.link) <= 0 || int(s.link) >= len(im.sections) {
		return nil
	}
	return im.sections[s.link]
}

// symbols reads the symbol tables: function symbols for naming call sites, the imports
// and static functions of interest. Each table is read in a stream, at most
// maxSymbols entries in all.
func (im *image) symbols(b *budget, interest map[string]bool) error {
	im.imports = map[string]bool{}
	im.staticFuncs = map[uint64]string{}
	left := maxSymbols
	var errs []error
	for _, s := range im.sections {
		if s.typ != shtSymtab && s.typ != shtDynsym {
			continue
		}
		if s.typ == shtSymtab {
			im.hasSymtab = true
		}
		strtab := im.linked(s)
		n := s.size / symSize
		if !inFile(im.size, s.offset, n*symSize) {
			errs = append(errs, fmt.Errorf("code: symbol table %s lies past the end of the file", s.name))
			continue
		}
		if n > uint64(left) {
			errs = append(errs, fmt.Errorf("%w: more than %d symbols", errBound, maxSymbols))
			n = uint64(left)
		}
		left -= int(n)
		br := bufio.NewReaderSize(io.NewSectionReader(im.r, int64(s.offset), int64(n*symSize)), 64<<10)
		var raw [symSize]byte
		for range n {
			if _, err := io.ReadFull(br, raw[:]); err != nil {
				break
			}
			le := binary.LittleEndian
			name := le.Uint32(raw[0:])
			info := raw[4]
			shndx := le.Uint16(raw[6:])
			value := le.Uint64(raw[8:])
			sz := le.Uint64(raw[16:])
			typ := info & 0xf
			if shndx == shnUndef {
				if s.typ == shtDynsym && name != 0 {
					if nm := im.str(strtab, name, b); interest[nm] || isLoaderInternal(nm) {
						im.imports[nm] = true
					}
				}
				continue
			}
			if (typ == sttFunc || typ == sttGnuIfunc) && value != 0 {
				im.funcs = append(im.funcs, funcSym{addr: value, size: sz, strtab: strtab, name: name})
				if s.typ == shtSymtab && !im.hasDynamic() {
					if nm := im.str(strtab, name, b); interest[nm] {
						im.staticFuncs[value] = nm
					}
				}
			}
		}
	}
	sort.Slice(im.funcs, func(i, j int) bool {
		if im.funcs[i].addr != im.funcs[j].addr {
			return im.funcs[i].addr < im.funcs[j].addr
		}
		return im.funcs[i].size > im.funcs[j].size
	})
	return errors.Join(errs...)
}

// hasDynamic reports whether the file has a dynamic symbol table.
func (im *image) hasDynamic() bool {
	for _, s := range im.sections {
		if s.typ == shtDynsym {
			return true
		}
	}
	return false
}

// relocations reads the RELA sections that relocate GOT slots with dynamic symbols:
// the slots of the functions of interest get their names now, every other slot only
// its symbol reference.
func (im *image) relocations(b *budget, interest map[string]bool) error {
	im.slots = map[uint64]string{}
	im.allSlots = map[uint64]symRef{}
	left := maxRelocations
	var errs []error
	for _, s := range im.sections {
		if s.typ != shtRela {
			continue
		}
		symtab := im.linked(s)
		if symtab != nil && symtab.typ != shtDynsym {
			symtab = nil // only IRELATIVE relocations are read
		}
		var strtab *section
		if symtab != nil {
			strtab = im.linked(symtab)
		}
		n := s.size / relaSize
		if !inFile(im.size, s.offset, n*relaSize) {
			errs = append(errs, fmt.Errorf("code: relocation section %s lies past the end of the file", s.name))
			continue
		}
		if n > uint64(left) {
			errs = append(errs, fmt.Errorf("%w: more than %d relocations", errBound, maxRelocations))
			n = uint64(left)
		}
		left -= int(n)
		br := bufio.NewReaderSize(io.NewSectionReader(im.r, int64(s.offset), int64(n*relaSize)), 64<<10)
		var raw [relaSize]byte
		var sym [symSize]byte
		for range n {
			if _, err := io.ReadFull(br, raw[:]); err != nil {
				break
			}
			off := binary.LittleEndian.Uint64(raw[0:])
			info := binary.LittleEndian.Uint64(raw[8:])
			typ, idx := uint32(info), info>>32
			if typ == rIRelative {
				// A statically linked file calls an IFUNC (strcmp, memcmp) through a
				// slot the start-up code fills by calling the resolver in the addend.
				if nm, ok := im.staticFuncs[binary.LittleEndian.Uint64(raw[16:])]; ok {
					im.slots[off] = nm
				}
				continue
			}
			if symtab == nil || (typ != rGlobDat && typ != rJumpSlot) || idx == 0 || idx >= symtab.size/symSize {
				continue
			}
			if _, err := im.r.ReadAt(sym[:], int64(symtab.offset+idx*symSize)); err != nil {
				continue
			}
			ref := symRef{strtab: strtab, name: binary.LittleEndian.Uint32(sym[:])}
			if len(im.allSlots) < maxRelocations {
				im.allSlots[off] = ref
			}
			if nm := im.str(strtab, ref.name, b); interest[nm] {
				im.slots[off] = nm
			}
		}
	}
	return errors.Join(errs...)
}

// function names the function symbol that covers va, "" when none does.
func (im *image) function(va uint64, b *budget) string {
	i := sort.Search(len(im.funcs), func(i int) bool { return im.funcs[i].addr > va }) - 1
	for start := i; i >= 0 && start-i <= maxFuncBacktrack; i-- {
		f := im.funcs[i]
		if va-f.addr < max(f.size, 1) {
			return im.str(f.strtab, f.name, b)
		}
		if f.size != 0 {
			break
		}
	}
	return ""
}

// funcStart returns the start of the function symbol that covers va, or of the nearest
// function symbol before it; ok is false when there is none.
func (im *image) funcStart(va uint64) (uint64, bool) {
	i := sort.Search(len(im.funcs), func(i int) bool { return im.funcs[i].addr > va }) - 1
	if i < 0 {
		return 0, false
	}
	return im.funcs[i].addr, true
}

// sectionAt returns the section whose addresses hold va and that satisfies ok.
func (im *image) sectionAt(va uint64, ok func(*section) bool) *section {
	for _, s := range im.sections {
		if s.flags&shfAlloc != 0 && s.contains(va) && ok(s) {
			return s
		}
	}
	return nil
}

// readOnlyData reports a section of initialised read-only, non-executable data.
func readOnlyData(s *section) bool {
	return s.typ == shtProgbits && s.flags&(shfWrite|shfExec) == 0
}

// isLoaderInternal reports a name of the dynamic loader's internals or of its list of
// loaded objects.
func isLoaderInternal(name string) bool {
	switch {
	case name == "_r_debug", name == "_r_debug_extended", name == "dl_iterate_phdr",
		name == "_dl_iterate_phdr":
		return true
	case len(name) > 4 && name[:4] == "_dl_", len(name) > 6 && name[:6] == "_rtld_":
		return true
	}
	return false
}
