package elf

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"slices"
)

// dynamic is the parsed dynamic section.
type dynamic struct {
	tags   []dynEntry
	flags  uint64
	flags1 uint64
	str    []byte // the dynamic string table, at most maxStringTableBytes
}

type dynEntry struct {
	tag elf.DynTag
	val uint64
}

func (d *dynamic) has(tag elf.DynTag) bool {
	_, ok := d.value(tag)
	return ok
}

func (d *dynamic) value(tag elf.DynTag) (uint64, bool) {
	for _, e := range d.tags {
		if e.tag == tag {
			return e.val, true
		}
	}
	return 0, false
}

// cbytes returns the NUL-terminated string at off of tab, at most maxStringLength bytes,
// without copying it.
func cbytes(tab []byte, off uint64) []byte {
	if off >= uint64(len(tab)) {
		return nil
	}
	b := tab[off:]
	if len(b) > maxStringLength {
		b = b[:maxStringLength]
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return b
}

// name returns the string at off of tab as a name to report. Equal names share one copy,
// and at most maxNameBytes of distinct names are kept: past that budget a name is
// reported empty and counted in namesDropped.
func (s *state) name(tab []byte, off uint64) string {
	b := cbytes(tab, off)
	if len(b) == 0 {
		return ""
	}
	if v, ok := s.names[string(b)]; ok {
		return v
	}
	if len(b) > s.nameBudget {
		s.namesDropped++
		return ""
	}
	if s.names == nil {
		s.names = map[string]string{}
	}
	v := string(b)
	s.names[v] = v
	s.nameBudget -= len(b)
	return v
}

// dynamicFacts reads the dynamic section the way the loader finds it, through PT_DYNAMIC,
// falling back to the SHT_DYNAMIC section header.
func (s *state) dynamicFacts() {
	var off, n uint64
	found := false
	for _, p := range s.f.Progs {
		if p.Type == elf.PT_DYNAMIC {
			off, n, found = p.Off, p.Filesz, true
			break
		}
	}
	var sec *elf.Section
	if sec = s.f.SectionByType(elf.SHT_DYNAMIC); !found && sec != nil {
		off, n, found = sec.Offset, sec.FileSize, true
	}
	if !found {
		return
	}
	n = min(n, maxDynamicBytes, uint64(s.size))
	b, err := s.read(off, n, maxDynamicBytes)
	if err != nil {
		s.fail(fmt.Errorf("elf: dynamic section unreadable: %w", err))
		return
	}
	d := &dynamic{}
	ent := 8
	if s.is64 {
		ent = 16
	}
	for i := 0; i+ent <= len(b); i += ent {
		var e dynEntry
		if s.is64 {
			e.tag, e.val = elf.DynTag(s.bo.Uint64(b[i:])), s.bo.Uint64(b[i+8:])
		} else {
			e.tag, e.val = elf.DynTag(int32(s.bo.Uint32(b[i:]))), uint64(s.bo.Uint32(b[i+4:]))
		}
		if e.tag == elf.DT_NULL {
			break
		}
		d.tags = append(d.tags, e)
		switch e.tag {
		case elf.DT_FLAGS:
			d.flags |= e.val
		case elf.DT_FLAGS_1:
			d.flags1 |= e.val
		}
	}
	s.dyn = d

	// The string table: DT_STRTAB and DT_STRSZ through the PT_LOAD mapping, as the
	// loader and readelf find it, else the dynamic section header's link.
	strOff, okOff := uint64(0), false
	if va, ok := d.value(elf.DT_STRTAB); ok {
		strOff, okOff = s.vaddrToOffset(va)
	}
	strSize, okSize := d.value(elf.DT_STRSZ)
	if okOff && okSize {
		d.str = s.table(strOff, strSize)
	} else if sec != nil && sec.Link > 0 && int(sec.Link) < len(s.f.Sections) {
		l := s.f.Sections[sec.Link]
		d.str = s.table(l.Offset, l.FileSize)
	}

	fx := s.facts
	for _, e := range d.tags {
		switch e.tag {
		case elf.DT_NEEDED:
			if len(fx.Needed) < maxListEntries {
				fx.Needed = append(fx.Needed, s.name(d.str, e.val))
			}
		case elf.DT_SONAME:
			fx.Soname = s.name(d.str, e.val)
		case elf.DT_RPATH:
			if len(fx.Rpath) < maxListEntries {
				fx.Rpath = append(fx.Rpath, s.name(d.str, e.val))
			}
		case elf.DT_RUNPATH:
			if len(fx.Runpath) < maxListEntries {
				fx.Runpath = append(fx.Runpath, s.name(d.str, e.val))
			}
		case elf.DT_TEXTREL:
			fx.TextRel = true
		}
	}
	fx.DynamicFlags = bitNames(d.flags, func(v uint64) string { return elf.DynFlag(v).String() }, "DF_")
	fx.DynamicFlags1 = bitNames(d.flags1, func(v uint64) string { return elf.DynFlag1(v).String() }, "DF_1_")
	if d.flags&uint64(elf.DF_TEXTREL) != 0 {
		fx.TextRel = true
	}
}

func bitNames(v uint64, name func(uint64) string, prefix string) []string {
	var out []string
	for bit := uint64(1); bit != 0 && bit <= v; bit <<= 1 {
		if v&bit != 0 {
			out = append(out, enumName(name(bit), prefix, bit))
		}
	}
	return out
}

// table reads a string table, keeping at most maxStringTableBytes of it.
func (s *state) table(off, n uint64) []byte {
	if off >= uint64(s.size) {
		return nil
	}
	n = min(n, uint64(s.size)-off, maxStringTableBytes)
	b, err := s.read(off, n, maxStringTableBytes)
	if err != nil {
		return nil
	}
	return b
}

// symbol is one decoded symbol table entry.
type symbol struct {
	name       uint32
	info       byte
	shndx      uint16
	value, siz uint64
}

func (s *state) symEntSize() int {
	if s.is64 {
		return elf.Sym64Size
	}
	return elf.Sym32Size
}

func (s *state) decodeSym(b []byte) symbol {
	if s.is64 {
		return symbol{name: s.bo.Uint32(b), info: b[4], shndx: s.bo.Uint16(b[6:]),
			value: s.bo.Uint64(b[8:]), siz: s.bo.Uint64(b[16:])}
	}
	return symbol{name: s.bo.Uint32(b), value: uint64(s.bo.Uint32(b[4:])), siz: uint64(s.bo.Uint32(b[8:])),
		info: b[12], shndx: s.bo.Uint16(b[14:])}
}

func bindName(b elf.SymBind) string {
	if b == stbGNUUnique {
		return "gnu_unique"
	}
	return enumName(b.String(), "STB_", uint64(b))
}

func typeName(t elf.SymType) string {
	return enumName(t.String(), "STT_", uint64(t))
}

// version is what a versym index stands for.
type version struct {
	name, library string
}

// versions reads the version definition and version needs tables of the dynamic symbol
// table into a map from version index to version.
func (s *state) versions(str []byte, need, def region) map[uint16]version {
	out := map[uint16]version{}
	if need.ok {
		b, err := s.read(need.off, min(need.n, maxVersionBytes), maxVersionBytes)
		if err == nil {
			// Elf_Verneed: vn_version, vn_cnt (2 each), vn_file, vn_aux, vn_next (4 each);
			// Elf_Vernaux: vna_hash (4), vna_flags, vna_other (2 each), vna_name, vna_next (4 each).
			// Both are 16 bytes: a table holds at most len(b)/16 of them, and the walk
			// stops there however its links loop or overlap.
			off := uint64(0)
			steps, maxSteps := 0, len(b)/16
			for ; off+16 <= uint64(len(b)) && steps < maxSteps; steps++ {
				cnt := int(s.bo.Uint16(b[off+2:]))
				file := s.name(str, uint64(s.bo.Uint32(b[off+4:])))
				aux := off + uint64(s.bo.Uint32(b[off+8:]))
				for j := 0; j < cnt && aux+16 <= uint64(len(b)) && aux >= off && steps < maxSteps; j++ {
					steps++
					idx := s.bo.Uint16(b[aux+6:]) & 0x7fff
					out[idx] = version{name: s.name(str, uint64(s.bo.Uint32(b[aux+8:]))), library: file}
					next := uint64(s.bo.Uint32(b[aux+12:]))
					if next == 0 {
						break
					}
					aux += next
				}
				next := uint64(s.bo.Uint32(b[off+12:]))
				if next == 0 {
					break
				}
				off += next
			}
			if steps >= maxSteps && maxSteps > 0 {
				s.anomaly("version needs table links more than the %d entries it can hold; read %d", maxSteps, maxSteps)
			}
		}
	}
	if def.ok {
		b, err := s.read(def.off, min(def.n, maxVersionBytes), maxVersionBytes)
		if err == nil {
			// Elf_Verdef: vd_version, vd_flags, vd_ndx, vd_cnt (2 each), vd_hash, vd_aux,
			// vd_next (4 each); Elf_Verdaux: vda_name, vda_next (4 each).
			off := uint64(0)
			for steps := 0; off+20 <= uint64(len(b)) && steps < len(b)/20; steps++ {
				flags := s.bo.Uint16(b[off+2:])
				idx := s.bo.Uint16(b[off+4:]) & 0x7fff
				aux := off + uint64(s.bo.Uint32(b[off+12:]))
				if flags&1 == 0 && aux+8 <= uint64(len(b)) && aux >= off { // VER_FLG_BASE names the file itself
					if _, dup := out[idx]; !dup {
						out[idx] = version{name: s.name(str, uint64(s.bo.Uint32(b[aux:])))}
					}
				}
				next := uint64(s.bo.Uint32(b[off+16:]))
				if next == 0 {
					break
				}
				off += next
			}
		}
	}
	return out
}

// region is a stretch of the file holding one table.
type region struct {
	off, n uint64
	ok     bool
}

// sectionRegion is the file bytes of the first section of type typ.
func (s *state) sectionRegion(typ elf.SectionType) region {
	sec := s.f.SectionByType(typ)
	if sec == nil || sec.Flags&elf.SHF_COMPRESSED != 0 {
		return region{}
	}
	return region{sec.Offset, sec.FileSize, true}
}

// dynRegion is the file bytes from the address the dynamic tag holds to the end of its
// PT_LOAD segment, at most max: where a table is when there are no section headers.
func (s *state) dynRegion(tag elf.DynTag, max uint64) region {
	va, ok := s.dyn.value(tag)
	if !ok {
		return region{}
	}
	off, ok := s.vaddrToOffset(va)
	if !ok || off >= uint64(s.size) {
		return region{}
	}
	return region{off, min(max, uint64(s.size)-off), true}
}

// dynamicSymbols reads the dynamic symbol table: imports, exports, IFUNCs, canary and
// FORTIFY_SOURCE symbols. The tables come from the section headers, as readelf reads them,
// or, in a file without section headers, from the dynamic section, as the loader finds
// them (the symbol count then comes from DT_HASH or DT_GNU_HASH).
func (s *state) dynamicSymbols() {
	var syms, versym, need, def region
	var str []byte
	if sec := s.f.SectionByType(elf.SHT_DYNSYM); sec != nil {
		if sec.Flags&elf.SHF_COMPRESSED != 0 {
			s.anomaly("dynamic symbol table is marked compressed; not read")
			return
		}
		syms = region{sec.Offset, sec.FileSize, true}
		if sec.Link > 0 && int(sec.Link) < len(s.f.Sections) {
			l := s.f.Sections[sec.Link]
			str = s.table(l.Offset, l.FileSize)
		}
		versym = s.sectionRegion(elf.SHT_GNU_VERSYM)
		need = s.sectionRegion(elf.SHT_GNU_VERNEED)
		def = s.sectionRegion(elf.SHT_GNU_VERDEF)
	} else if len(s.f.Sections) == 0 && s.dyn != nil {
		n, ok := s.dynSymbolCount()
		if !ok {
			return
		}
		ent := uint64(s.symEntSize())
		syms = s.dynRegion(elf.DT_SYMTAB, min(n, maxSymbolTableBytes/ent+1)*ent)
		if n > maxSymbolTableBytes/ent {
			s.facts.SymbolsTruncated = true
		}
		str = s.dyn.str
		versym = s.dynRegion(elf.DT_VERSYM, 2*n)
		need = s.dynRegion(elf.DT_VERNEED, maxVersionBytes)
		def = s.dynRegion(elf.DT_VERDEF, maxVersionBytes)
	}
	if !syms.ok {
		return
	}
	ent := s.symEntSize()
	n := syms.n
	if n > maxSymbolTableBytes {
		n = maxSymbolTableBytes
		s.facts.SymbolsTruncated = true
	}
	if !s.inFile(syms.off, n) {
		s.anomaly("dynamic symbol table extends past the end of the file")
		if syms.off >= uint64(s.size) {
			return
		}
		n = uint64(s.size) - syms.off
	}
	b, err := s.read(syms.off, n, maxSymbolTableBytes)
	if err != nil {
		s.fail(fmt.Errorf("elf: dynamic symbol table unreadable: %w", err))
		return
	}
	var vsym []byte
	var vers map[uint16]version
	if versym.ok {
		vsym, _ = s.read(versym.off, min(versym.n, uint64(len(b)/ent)*2, uint64(s.size)-versym.off), maxSymbolTableBytes)
		vers = s.versions(str, need, def)
	}
	fx := s.facts
	seenIFunc := map[string]bool{}
	seenChk := map[string]bool{}
	for i := 1; (i+1)*ent <= len(b); i++ { // entry 0 is the null symbol
		sym := s.decodeSym(b[i*ent:])
		raw := cbytes(str, uint64(sym.name))
		bind, typ := elf.ST_BIND(sym.info), elf.ST_TYPE(sym.info)
		var v version
		hidden := false
		if 2*i+2 <= len(vsym) {
			raw := s.bo.Uint16(vsym[2*i:])
			hidden = raw&0x8000 != 0
			if idx := raw & 0x7fff; idx > 1 {
				v = vers[idx]
			}
		}
		s.noteSymbol(str, uint64(sym.name), typ, seenIFunc)
		if sym.shndx == uint16(elf.SHN_UNDEF) {
			fx.ImportedSymbolCount++
			if len(fx.ImportedSymbols) < maxSymbols {
				fx.ImportedSymbols = append(fx.ImportedSymbols, ImportedSymbol{
					Name: s.name(str, uint64(sym.name)), Version: v.name, Library: v.library,
					Binding: bindName(bind), Type: typeName(typ),
				})
			} else {
				fx.SymbolsTruncated = true
			}
			if bytes.HasPrefix(raw, []byte("__")) && bytes.HasSuffix(raw, []byte("_chk")) && !isCanary(raw) && !seenChk[string(raw)] {
				name := s.name(str, uint64(sym.name))
				seenChk[name] = true
				fx.FortifiedCount++
				if len(fx.FortifiedFunctions) < maxSymbols {
					fx.FortifiedFunctions = append(fx.FortifiedFunctions, name)
				}
			}
			continue
		}
		if bind == elf.STB_GLOBAL || bind == elf.STB_WEAK || bind == stbGNUUnique {
			fx.ExportedSymbolCount++
			if len(fx.ExportedSymbols) < maxSymbols {
				fx.ExportedSymbols = append(fx.ExportedSymbols, ExportedSymbol{
					Name: s.name(str, uint64(sym.name)), Version: v.name, Hidden: hidden && v.name != "",
					Binding: bindName(bind), Type: typeName(typ), Value: sym.value, Size: sym.siz,
				})
			} else {
				fx.SymbolsTruncated = true
			}
		}
	}
}

var canaryNames = []string{"__stack_chk_fail", "__stack_chk_guard", "__intel_security_cookie"}

func isCanary(name []byte) bool {
	_, ok := canaryName(name)
	return ok
}

// canaryName returns the canary symbol name equal to name.
func canaryName(name []byte) (string, bool) {
	for _, c := range canaryNames {
		if string(name) == c {
			return c, true
		}
	}
	return "", false
}

// noteSymbol records the facts any symbol table contributes: IFUNCs and canary symbols.
// The symbol is named at off of str.
func (s *state) noteSymbol(str []byte, off uint64, typ elf.SymType, seenIFunc map[string]bool) {
	fx := s.facts
	raw := cbytes(str, off)
	if typ == elf.STT_GNU_IFUNC && len(raw) > 0 && !seenIFunc[string(raw)] {
		if len(fx.IFuncSymbols) < maxSymbols {
			if name := s.name(str, off); name != "" {
				seenIFunc[name] = true
				fx.IFuncSymbols = append(fx.IFuncSymbols, name)
			}
		} else {
			fx.SymbolsTruncated = true
		}
	}
	if c, ok := canaryName(raw); ok && !slices.Contains(fx.CanarySymbols, c) {
		fx.CanarySymbols = append(fx.CanarySymbols, c)
	}
}

// staticSymbols streams the static symbol table (.symtab) for IFUNCs and canary symbols
// without holding it in memory.
func (s *state) staticSymbols() {
	sec := s.f.SectionByType(elf.SHT_SYMTAB)
	if sec == nil {
		return
	}
	if sec.Flags&elf.SHF_COMPRESSED != 0 {
		s.anomaly("symbol table is marked compressed; not read")
		return
	}
	var str []byte
	if sec.Link > 0 && int(sec.Link) < len(s.f.Sections) {
		l := s.f.Sections[sec.Link]
		str = s.table(l.Offset, l.FileSize)
		if l.FileSize > maxStringTableBytes {
			s.facts.SymbolsTruncated = true
		}
	}
	if sec.Offset >= uint64(s.size) {
		s.anomaly("symbol table lies past the end of the file")
		return
	}
	n := min(sec.FileSize, uint64(s.size)-sec.Offset)
	ent := uint64(s.symEntSize())
	seen := map[string]bool{}
	for _, name := range s.facts.IFuncSymbols {
		seen[name] = true
	}
	r := io.NewSectionReader(s.r, int64(sec.Offset), int64(n))
	buf := make([]byte, 4096*ent)
	count := 0
	for first := true; ; first = false {
		m, err := io.ReadFull(r, buf)
		m -= m % int(ent)
		for i := 0; i < m; i += int(ent) {
			if first && i == 0 {
				continue
			}
			count++
			sym := s.decodeSym(buf[i:])
			if elf.ST_TYPE(sym.info) == elf.STT_GNU_IFUNC || bytes.HasPrefix(str[min(uint64(sym.name), uint64(len(str))):], []byte("__")) {
				s.noteSymbol(str, uint64(sym.name), elf.ST_TYPE(sym.info), seen)
			}
		}
		if err != nil || s.ctx.Err() != nil {
			break
		}
	}
	s.facts.SymbolTableEntries = count
}

// stbGNUUnique is STB_GNU_UNIQUE, a binding debug/elf does not name.
const stbGNUUnique elf.SymBind = 10

// maxHashBuckets caps the buckets of a DT_GNU_HASH table walked to count symbols.
const maxHashBuckets = 1 << 22

// dynSymbolCount is the number of dynamic symbols according to the hash tables: nchain of
// DT_HASH, or one past the highest symbol index DT_GNU_HASH reaches.
func (s *state) dynSymbolCount() (uint64, bool) {
	word := func(off uint64) (uint64, bool) {
		b, err := s.read(off, 4, 4)
		if err != nil {
			return 0, false
		}
		return uint64(s.bo.Uint32(b)), true
	}
	if r := s.dynRegion(elf.DT_HASH, 8); r.ok {
		return word(r.off + 4)
	}
	r := s.dynRegion(elf.DT_GNU_HASH, 16)
	if !r.ok {
		return 0, false
	}
	hdr, err := s.read(r.off, 16, 16)
	if err != nil {
		return 0, false
	}
	nbuckets := uint64(s.bo.Uint32(hdr))
	symoffset := uint64(s.bo.Uint32(hdr[4:]))
	bloomSize := uint64(s.bo.Uint32(hdr[8:]))
	if nbuckets > maxHashBuckets || bloomSize > maxHashBuckets {
		return 0, false
	}
	wordSize := uint64(4)
	if s.is64 {
		wordSize = 8
	}
	buckets := r.off + 16 + bloomSize*wordSize
	b, err := s.read(buckets, nbuckets*4, maxHashBuckets*4)
	if err != nil {
		return 0, false
	}
	last := uint64(0)
	for i := uint64(0); i < nbuckets; i++ {
		last = max(last, uint64(s.bo.Uint32(b[4*i:])))
	}
	if last < symoffset {
		return symoffset, true
	}
	// Walk the last chain to its end marker (low bit set), 4 KiB at a time.
	at := buckets + nbuckets*4 + (last-symoffset)*4
	limit := at + maxSymbolTableBytes/elf.Sym32Size*4
	for at < uint64(s.size) && at < limit {
		chain, err := s.read(at, min(uint64(s.size)-at, 4096), 4096)
		if err != nil {
			break
		}
		for i := 0; i+4 <= len(chain); i += 4 {
			if s.bo.Uint32(chain[i:])&1 != 0 {
				return last + 1, true
			}
			last++
		}
		at += uint64(len(chain))
		if len(chain) < 4 {
			break
		}
	}
	return last, true
}
