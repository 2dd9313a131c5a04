package rebuild

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"kensa.dev/kensa/analyzers"
	pean "kensa.dev/kensa/analyzers/pe"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"
)

// Caps on what is read of a PE file here (the pe analyzer bounds the rest).
const (
	maxCOFFSymbols     = 1 << 20
	maxCOFFStringBytes = 32 << 20
	maxDebugEntries    = 64
	maxDebugDataBytes  = 4 << 10
)

// peRaw is what the comparison reads from the PE headers itself.
type peRaw struct {
	lfanew                   int64
	symPtr, symCount         uint32
	optAt                    int64
	is64                     bool
	debugRVA, debugSize      uint32
	certOffset, certSize     uint32
	timeAt, checksumAt       int64
	hasDebugDir, hasCertsDir bool
}

func readPERaw(im *image) (*peRaw, error) {
	var h [64]byte
	if n, _ := im.r.ReadAt(h[:], 0); n < 64 || string(h[:2]) != "MZ" {
		return nil, errors.New("not a PE file (no MZ header)")
	}
	p := &peRaw{lfanew: int64(binary.LittleEndian.Uint32(h[0x3c:]))}
	if p.lfanew <= 0 || p.lfanew > im.size-24 {
		return nil, errors.New("PE header offset points outside the file")
	}
	var c [24]byte
	if _, err := im.r.ReadAt(c[:], p.lfanew); err != nil || string(c[:4]) != "PE\x00\x00" {
		return nil, errors.New("no PE signature where the DOS header points")
	}
	p.timeAt = p.lfanew + 8
	p.symPtr = binary.LittleEndian.Uint32(c[12:])
	p.symCount = binary.LittleEndian.Uint32(c[16:])
	p.optAt = p.lfanew + 24
	optSize := int64(binary.LittleEndian.Uint16(c[20:]))
	if optSize < 2 || p.optAt+optSize > im.size {
		return p, nil
	}
	opt := make([]byte, min(optSize, 240))
	if _, err := im.r.ReadAt(opt, p.optAt); err != nil {
		return nil, fmt.Errorf("reading the optional header: %w", err)
	}
	p.checksumAt = p.optAt + 64
	magic := binary.LittleEndian.Uint16(opt)
	dirs, countAt := 96, 92
	if magic == 0x20b {
		p.is64 = true
		dirs, countAt = 112, 108
	}
	if len(opt) < countAt+4 {
		return p, nil
	}
	count := int(binary.LittleEndian.Uint32(opt[countAt:]))
	dir := func(i int) (uint32, uint32, bool) {
		at := dirs + 8*i
		if i >= count || at+8 > len(opt) {
			return 0, 0, false
		}
		return binary.LittleEndian.Uint32(opt[at:]), binary.LittleEndian.Uint32(opt[at+4:]), true
	}
	p.certOffset, p.certSize, p.hasCertsDir = dir(4)
	p.debugRVA, p.debugSize, p.hasDebugDir = dir(6)
	return p, nil
}

// peSide is one PE file prepared for the comparison.
type peSide struct {
	*image
	facts *pean.Facts
	raw   *peRaw
	// funcs maps COFF function symbols to their extent (the distance to the next symbol
	// of the same section), when the file has a COFF symbol table.
	funcs map[string][]uint64
}

func newPE(im *image, side string) (*peSide, error) {
	s := &peSide{image: im}
	facts, err := pean.New().Analyze(context.Background(), &analyzers.Artifact{
		Path: side, Format: sniff.PE, Size: im.size, Content: im.r,
	})
	if err != nil {
		return nil, fmt.Errorf("rebuild: %s PE file: %w", side, err)
	}
	s.facts, _ = facts.(*pean.Facts)
	if s.facts == nil {
		return nil, fmt.Errorf("rebuild: %s PE file could not be analysed", side)
	}
	if s.facts.SectionsTruncated || s.facts.ImportsTruncated || s.facts.ExportsTruncated {
		return nil, &limits.Error{Limit: "pe-tables", Value: 0, What: side + " PE file with more sections, imports or exports than are listed"}
	}
	if s.raw, err = readPERaw(im); err != nil {
		return nil, fmt.Errorf("rebuild: %s PE file: %w", side, err)
	}
	strtab := int64(s.raw.symPtr) + int64(s.raw.symCount)*18
	for _, sec := range s.facts.Sections {
		name := sec.Name
		if strings.HasPrefix(name, "/") && s.raw.symPtr != 0 {
			if n, err := strconv.Atoi(name[1:]); err == nil && n >= 0 {
				if long := s.cstr(strtab+int64(n), 256); long != "" {
					name = long
				}
			}
		}
		off, fs := int64(sec.RawOffset), int64(sec.RawSize)
		if off > im.size || fs > im.size-off {
			return nil, fmt.Errorf("rebuild: %s PE file: section %s raw data (offset %d, %d bytes) lies outside the file", side, name, off, fs)
		}
		exec, discard := false, false
		for _, f := range sec.Flags {
			exec = exec || f == "mem_execute" || f == "cnt_code"
			discard = discard || f == "mem_discardable"
		}
		x := section{Name: name, Offset: off, FileSize: fs, Size: uint64(sec.VirtualSize), Addr: uint64(sec.VirtualAddress),
			Alloc: !discard, Exec: exec}
		x.Strings = isDataSection(name)
		im.sections = append(im.sections, x)
		if peIgnored(x) && fs > 0 {
			im.stringMask = append(im.stringMask, span{off, off + fs})
		}
	}
	s.stripped = s.raw.symCount == 0
	s.maskLegitimate()
	if !s.stripped {
		if err := s.readFunctions(strtab); err != nil {
			return nil, fmt.Errorf("rebuild: %s PE file: %w", side, err)
		}
	}
	return s, nil
}

// peIgnored: DWARF sections a MinGW build keeps (they hold build paths), when they are
// discardable and not code, as a linker makes them.
func peIgnored(s section) bool {
	return !s.Alloc && !s.Exec && (strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_"))
}

func (s *peSide) cstr(off int64, n int) string {
	if off < 0 || off >= s.size {
		return ""
	}
	b := make([]byte, min(int64(n), s.size-off))
	if _, err := s.r.ReadAt(b, off); err != nil && len(b) == 0 {
		return ""
	}
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// rvaToOffset maps an RVA to a file offset through the section headers.
func (s *peSide) rvaToOffset(rva uint32) (int64, bool) {
	for _, sec := range s.facts.Sections {
		if rva >= sec.VirtualAddress && rva-sec.VirtualAddress < max(sec.VirtualSize, sec.RawSize) && rva-sec.VirtualAddress < sec.RawSize {
			return int64(sec.RawOffset) + int64(rva-sec.VirtualAddress), true
		}
	}
	return 0, false
}

// maskLegitimate marks what legitimately differs between two PE builds: the debug
// directory and the data of its entries (CodeView GUID, age and PDB path, repro hash),
// bounded so that it can never hide a section; and, for strings only, the time stamp,
// checksum, Rich header and certificate table.
func (s *peSide) maskLegitimate() {
	p := s.raw
	s.stringMask = append(s.stringMask, span{p.timeAt, p.timeAt + 4})
	if p.checksumAt > 0 {
		s.stringMask = append(s.stringMask, span{p.checksumAt, p.checksumAt + 4})
	}
	if p.lfanew > 0x80 {
		s.stringMask = append(s.stringMask, span{0x80, p.lfanew})
	}
	if p.certOffset != 0 && p.certSize != 0 {
		s.stringMask = append(s.stringMask, span{int64(p.certOffset), int64(p.certOffset) + int64(p.certSize)})
	}
	if p.debugRVA == 0 || p.debugSize == 0 {
		return
	}
	off, ok := s.rvaToOffset(p.debugRVA)
	if !ok {
		return
	}
	n := min(int64(p.debugSize)/28, maxDebugEntries)
	if s.inCode(span{off, off + n*28}) {
		return // a debug directory inside code is not set aside
	}
	s.mask = append(s.mask, span{off, off + n*28})
	b := make([]byte, n*28)
	if _, err := s.r.ReadAt(b, off); err != nil {
		return
	}
	for i := int64(0); i < n; i++ {
		e := b[i*28:]
		size := int64(binary.LittleEndian.Uint32(e[16:]))
		ptr := int64(binary.LittleEndian.Uint32(e[24:]))
		if m := (span{ptr, ptr + min(size, maxDebugDataBytes)}); size > 0 && ptr > 0 && !s.inCode(m) {
			s.mask = append(s.mask, m)
		}
	}
}

// inCode reports whether m overlaps an executable section: such bytes are never set
// aside, whatever the debug directory says.
func (s *peSide) inCode(m span) bool {
	for _, sec := range s.sections {
		if sec.Exec && m.Off < sec.Offset+sec.FileSize && sec.Offset < m.End {
			return true
		}
	}
	return false
}

// readFunctions reads the function symbols of the COFF symbol table (a MinGW build keeps
// one). COFF symbols carry no size: a function's extent is the distance to the next
// symbol of its section, which grows when code is added to it.
func (s *peSide) readFunctions(strtab int64) error {
	s.funcs = map[string][]uint64{}
	if s.raw.symCount > maxCOFFSymbols {
		return &limits.Error{Limit: "coff-symbols", Value: maxCOFFSymbols, What: fmt.Sprintf("COFF symbol table of %d symbols", s.raw.symCount)}
	}
	tab, err := s.read(section{Name: "COFF symbol table", Offset: int64(s.raw.symPtr), FileSize: int64(s.raw.symCount) * 18})
	if err != nil {
		return err
	}
	var strs []byte
	if strtab+4 <= s.size {
		var l [4]byte
		if _, err := s.r.ReadAt(l[:], strtab); err == nil {
			n := int64(binary.LittleEndian.Uint32(l[:]))
			if n > maxCOFFStringBytes {
				return &limits.Error{Limit: "coff-strings", Value: maxCOFFStringBytes, What: fmt.Sprintf("COFF string table of %d bytes", n)}
			}
			n = min(n, s.size-strtab)
			if strs, err = s.read(section{Name: "COFF string table", Offset: strtab, FileSize: n}); err != nil {
				return err
			}
		}
	}
	type sym struct {
		name    string
		value   uint32
		section int16
		fn      bool
	}
	var syms []sym
	budget := maxSymbolNameSum
	for i := 0; i+18 <= len(tab); i += 18 {
		e := tab[i : i+18]
		aux := int(e[17])
		var name string
		if binary.LittleEndian.Uint32(e) == 0 {
			name = cString(strs, binary.LittleEndian.Uint32(e[4:]))
		} else {
			name = strings.TrimRight(string(e[:8]), "\x00")
		}
		sec := int16(binary.LittleEndian.Uint16(e[12:]))
		typ := binary.LittleEndian.Uint16(e[14:])
		class := e[16]
		i += 18 * aux
		// External (2) and static (3) symbols defined in a section.
		if sec <= 0 || (class != 2 && class != 3) || strings.HasPrefix(name, ".") {
			continue
		}
		if budget -= len(name); budget < 0 {
			return &limits.Error{Limit: "symbol-names", Value: maxSymbolNameSum, What: "bytes of COFF symbol names"}
		}
		syms = append(syms, sym{name, binary.LittleEndian.Uint32(e[8:]), sec, typ>>4 == 2})
	}
	sort.SliceStable(syms, func(i, j int) bool {
		if syms[i].section != syms[j].section {
			return syms[i].section < syms[j].section
		}
		return syms[i].value < syms[j].value
	})
	for i, y := range syms {
		if !y.fn {
			continue
		}
		end := uint32(0)
		for j := i + 1; j < len(syms) && syms[j].section == y.section; j++ {
			if syms[j].value > y.value {
				end = syms[j].value
				break
			}
		}
		if end == 0 && int(y.section) <= len(s.facts.Sections) {
			end = s.facts.Sections[y.section-1].VirtualSize
		}
		if end < y.value {
			end = y.value
		}
		s.funcs[y.name] = append(s.funcs[y.name], uint64(end-y.value))
	}
	for _, v := range s.funcs {
		sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	}
	return nil
}

func comparePE(c *comparison, dim, rim *image) error {
	d, err := newPE(dim, "delivered")
	if err != nil {
		return err
	}
	r, err := newPE(rim, "rebuilt")
	if err != nil {
		return err
	}
	df, rf := d.facts, r.facts
	header := []struct{ what, d, r string }{
		{"machine", df.Machine, rf.Machine},
		{"bits", fmt.Sprint(df.Bits), fmt.Sprint(rf.Bits)},
		{"DLL", fmt.Sprint(df.DLL), fmt.Sprint(rf.DLL)},
		{"subsystem", df.Subsystem, rf.Subsystem},
		{"DLL characteristics", strings.Join(df.DLLCharacteristics, ","), strings.Join(rf.DLLCharacteristics, ",")},
		{"entry point section", df.EntryPointSection, rf.EntryPointSection},
		{"TLS callbacks", fmt.Sprint(df.TLS.Callbacks), fmt.Sprint(rf.TLS.Callbacks)},
	}
	for _, h := range header {
		if h.d != h.r {
			c.differ("header", h.what, "%s is %q in the delivered file, %q in the rebuild", h.what, h.d, h.r)
		}
	}
	if df.EntryPointRVA != rf.EntryPointRVA {
		c.ignore("layout", "entry", "entry point address differs (%#x → %#x); addresses are not compared", rf.EntryPointRVA, df.EntryPointRVA)
	}
	compareSets(c, "library", "imported DLL", lower(df.ImportedDLLs), lower(rf.ImportedDLLs))
	compareSets(c, "import", "import", lower(append(df.Imports, df.DelayImports...)), lower(append(rf.Imports, rf.DelayImports...)))
	compareSets(c, "export", "export", peExports(df), peExports(rf))
	switch {
	case !d.stripped && !r.stripped:
		compareFunctions(c, d.funcs, r.funcs)
	case d.stripped && r.stripped:
		c.ignore("symbol-table", "", "neither file has a COFF symbol table: functions are compared through sections, imports and strings only")
	default:
		c.ignore("symbol-table", "", "only the %s has a COFF symbol table: functions are compared through sections, imports and strings only", which(!d.stripped, !r.stripped))
	}
	if err := compareSections(c, d.image, r.image, peIgnored); err != nil {
		return err
	}
	if err := compareStrings(c, d.image, r.image); err != nil {
		return err
	}
	if err := compareOverlay(c, d, r); err != nil {
		return err
	}
	if df.Timestamps.COFFRaw != rf.Timestamps.COFFRaw {
		c.ignore("timestamp", "TimeDateStamp", "COFF TimeDateStamp differs (%s → %s)", stamp(rf.Timestamps.COFF), stamp(df.Timestamps.COFF))
	}
	if df.Checksum.Stored != rf.Checksum.Stored {
		c.ignore("checksum", "CheckSum", "optional header CheckSum differs (%#x → %#x)", rf.Checksum.Stored, df.Checksum.Stored)
	}
	if fmt.Sprint(df.Timestamps.Debug) != fmt.Sprint(rf.Timestamps.Debug) || df.Timestamps.PDBPath != rf.Timestamps.PDBPath {
		c.ignore("debug-info", "debug directory", "debug directory differs (CodeView GUID/age, PDB path %q → %q, time stamps, repro hash)", rf.Timestamps.PDBPath, df.Timestamps.PDBPath)
	}
	var debug []string
	dm, _ := keyed(d.sections)
	rm, _ := keyed(r.sections)
	for k, s := range dm {
		if !peIgnored(s) {
			continue
		}
		if rs, ok := rm[k]; !ok || rs.FileSize != s.FileSize {
			debug = append(debug, k)
		} else if same, err := sameRange(d.image, r.image, s, rs); err != nil {
			return err
		} else if !same {
			debug = append(debug, k)
		}
	}
	sort.Strings(debug)
	if len(debug) > 0 {
		c.ignore("debug-info", strings.Join(debug, ","), "debug sections differ (%s): they hold build paths and are not compared", listNames(debug))
	}
	switch {
	case df.Authenticode.Present && !rf.Authenticode.Present:
		c.ignore("signature", "certificate table", "the delivered file is signed (Authenticode certificate table of %d bytes) and the rebuild is not; the signature is verified separately", df.Authenticode.TableSize)
	case !df.Authenticode.Present && rf.Authenticode.Present:
		c.ignore("signature", "certificate table", "the rebuild is signed and the delivered file is not")
	case df.Authenticode.Present && df.Authenticode.TableSize != rf.Authenticode.TableSize:
		c.ignore("signature", "certificate table", "the certificate tables differ (%d → %d bytes)", rf.Authenticode.TableSize, df.Authenticode.TableSize)
	}
	if df.Authenticode.TrailingBytes != 0 {
		c.differ("signature", "certificate table", "the delivered file's certificate table has %d bytes after the signature: data hidden where Authenticode does not check it", df.Authenticode.TrailingBytes)
	}
	if fmt.Sprint(df.Rich) != fmt.Sprint(rf.Rich) {
		c.ignore("rich-header", "Rich", "Rich header differs (linker records of the toolchain)")
	}
	return nil
}

func stamp(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

func lower(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = strings.ToLower(s)
	}
	return out
}

func peExports(f *pean.Facts) []string {
	var out []string
	for _, e := range f.Exports {
		n := e.Name
		if n == "" {
			n = fmt.Sprintf("#%d", e.Ordinal)
		}
		if e.Forwarder != "" {
			n += " -> " + e.Forwarder
		}
		out = append(out, n)
	}
	return out
}

// overlay is the data past the last section, less a COFF symbol and string table
// that begins it (MinGW writes them there; they are compared as functions) and the
// zeros that align a certificate table.
func (s *peSide) overlay() *pean.Overlay {
	o := s.facts.Overlay
	if o != nil && s.raw.symPtr != 0 && int64(s.raw.symPtr) == o.Offset {
		end := int64(s.raw.symPtr) + int64(s.raw.symCount)*18
		var l [4]byte
		if _, err := s.r.ReadAt(l[:], end); err == nil {
			end += int64(binary.LittleEndian.Uint32(l[:]))
		}
		if end >= o.Offset+o.Size {
			return nil
		}
		o = &pean.Overlay{Offset: end, Size: o.Offset + o.Size - end}
	}
	if o != nil && o.Size < 8 && s.raw.certOffset != 0 && o.Offset+o.Size == int64(s.raw.certOffset) {
		// Zeros that align the certificate table to 8 bytes, as signing tools add them.
		pad := make([]byte, o.Size)
		if _, err := s.r.ReadAt(pad, o.Offset); err == nil && bytes.Count(pad, []byte{0}) == len(pad) {
			return nil
		}
	}
	return o
}

// compareOverlay compares the data past the last section (not the certificate table).
func compareOverlay(c *comparison, d, r *peSide) error {
	do, ro := d.overlay(), r.overlay()
	switch {
	case do == nil && ro == nil:
		return nil
	case ro == nil:
		c.differ("overlay", "", "the delivered file has %d bytes of data past its last section; the rebuild has none", do.Size)
		return nil
	case do == nil:
		c.differ("overlay", "", "the rebuild has %d bytes of data past its last section; the delivered file has none", ro.Size)
		return nil
	case do.Size != ro.Size:
		c.differ("overlay", "", "data past the last section is %s (%d → %d)", larger(uint64(ro.Size), uint64(do.Size)), ro.Size, do.Size)
		return nil
	}
	same, err := sameRange(d.image, r.image, section{Name: "overlay", Offset: do.Offset, FileSize: do.Size}, section{Name: "overlay", Offset: ro.Offset, FileSize: ro.Size})
	if err != nil {
		return err
	}
	if !same {
		c.differ("overlay", "", "the %d bytes of data past the last section differ", do.Size)
	}
	return nil
}
