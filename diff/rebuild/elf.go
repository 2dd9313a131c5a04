package rebuild

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"kensa.dev/kensa/analyzers"
	elfan "kensa.dev/kensa/analyzers/elf"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// Caps on the static symbol table.
const (
	maxSymtabBytes    = 64 << 20
	maxStrtabBytes    = 32 << 20
	maxSymbolNameLen  = 1024
	maxSymbolNameSum  = 32 << 20
	maxCommentBytes   = 1 << 20
	maxBuildIDNoteLen = 4 << 10
)

// elfSide is one ELF file prepared for the comparison.
type elfSide struct {
	*image
	facts *elfan.Facts
	// funcs maps each defined function symbol of .symtab to its sizes.
	funcs map[string][]uint64
}

// newELF reads the file through the elf analyzer, which parses it with every table and
// name bounded and recovers from the standard library's panics.
func newELF(im *image, side string) (*elfSide, error) {
	s := &elfSide{image: im}
	facts, err := elfan.New().Analyze(context.Background(), &analyzers.Artifact{
		Path: side, Format: sniff.ELF, Size: im.size, Content: im.r,
	})
	if err != nil {
		return nil, fmt.Errorf("rebuild: %s ELF file: %w", side, err)
	}
	s.facts, _ = facts.(*elfan.Facts)
	if s.facts == nil {
		return nil, fmt.Errorf("rebuild: %s ELF file could not be analysed", side)
	}
	if s.facts.SectionCount > len(s.facts.Sections) {
		return nil, &limits.Error{Limit: "sections", Value: int64(len(s.facts.Sections)), What: fmt.Sprintf("%s ELF file of %d sections", side, s.facts.SectionCount)}
	}
	s.stripped = s.facts.Stripped
	symtab := -1
	for i, sec := range s.facts.Sections {
		if sec.Type == "null" {
			continue
		}
		fs := int64(sec.Size)
		if sec.Type == "nobits" || sec.Size > uint64(im.size) || sec.Offset > uint64(im.size)-sec.Size {
			fs = 0
		}
		if sec.Type == "symtab" && symtab < 0 {
			symtab = i
		}
		off := int64(min(sec.Offset, uint64(im.size)))
		x := section{Name: sec.Name, Offset: off, FileSize: fs, Size: sec.Size, Addr: sec.Addr,
			Alloc: strings.Contains(sec.Flags, "A"), Exec: strings.Contains(sec.Flags, "X")}
		x.Strings = sec.Type != "nobits" && isDataSection(sec.Name)
		im.sections = append(im.sections, x)
		if elfIgnored(x) && fs > 0 {
			im.stringMask = append(im.stringMask, span{off, off + fs})
		}
	}
	if symtab >= 0 {
		if err := s.readFunctions(symtab); err != nil {
			return nil, fmt.Errorf("rebuild: %s ELF file: %w", side, err)
		}
	}
	return s, nil
}

func isDataSection(name string) bool {
	for _, p := range []string{".rodata", ".data", ".rdata"} {
		if name == p || strings.HasPrefix(name, p+".") {
			return true
		}
	}
	return false
}

// elfIgnored reports the sections whose bytes legitimately differ between builds. Debug,
// comment and symbol table sections count only when they are not loaded, build ID notes
// only when small and not executable: a section that only borrows such a name is
// compared like any other.
func elfIgnored(s section) bool {
	switch s.Name {
	case ".note.gnu.build-id", ".note.go.buildid":
		// A build ID note is small and never code.
		return !s.Exec && s.Size <= maxBuildIDNoteLen
	case ".gnu_debuglink", ".gnu_debugaltlink", ".comment", ".symtab", ".strtab", ".shstrtab", ".gnu_debugdata":
		return !s.Alloc
	}
	return !s.Alloc && (strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_"))
}

// readFunctions reads the defined function symbols of the symbol table (section index
// symtab) with their sizes, every table and name bounded.
func (s *elfSide) readFunctions(symtab int) error {
	s.funcs = map[string][]uint64{}
	var hdr [64]byte
	if n, _ := s.r.ReadAt(hdr[:], 0); n < 52 {
		return errors.New("file ends inside the ELF header")
	}
	is64 := s.facts.Class == "elf64"
	var bo binary.ByteOrder = binary.LittleEndian
	if s.facts.ByteOrder == "big" {
		bo = binary.BigEndian
	}
	var shoff, shentsize uint64
	if is64 {
		shoff, shentsize = bo.Uint64(hdr[40:]), uint64(bo.Uint16(hdr[58:]))
	} else {
		shoff, shentsize = uint64(bo.Uint32(hdr[32:])), uint64(bo.Uint16(hdr[46:]))
	}
	linkAt := uint64(24)
	if is64 {
		linkAt = 40
	}
	if shentsize < linkAt+4 || shoff > uint64(s.size) {
		return errors.New("section headers too short to hold the symbol table's link")
	}
	var lb [4]byte
	if _, err := s.r.ReadAt(lb[:], int64(shoff+uint64(symtab)*shentsize+linkAt)); err != nil {
		return fmt.Errorf("reading the symbol table's section header: %w", err)
	}
	link := int(bo.Uint32(lb[:]))
	if link <= 0 || link >= len(s.facts.Sections) {
		return fmt.Errorf("symbol table links to section %d, which does not exist", link)
	}
	st, str := s.facts.Sections[symtab], s.facts.Sections[link]
	entSize := uint64(16)
	if is64 {
		entSize = 24
	}
	if st.Size > maxSymtabBytes {
		return &limits.Error{Limit: "symbol-table", Value: maxSymtabBytes, What: fmt.Sprintf("symbol table of %d bytes", st.Size)}
	}
	if str.Size > maxStrtabBytes {
		return &limits.Error{Limit: "string-table", Value: maxStrtabBytes, What: fmt.Sprintf("symbol string table of %d bytes", str.Size)}
	}
	syms, err := s.read(section{Name: st.Name, Offset: int64(st.Offset), FileSize: int64(st.Size)})
	if err != nil {
		return err
	}
	strs, err := s.read(section{Name: str.Name, Offset: int64(str.Offset), FileSize: int64(str.Size)})
	if err != nil {
		return err
	}
	names := map[uint32]string{}
	budget := maxSymbolNameSum
	for off := entSize; off+entSize <= uint64(len(syms)); off += entSize {
		e := syms[off : off+entSize]
		var nameOff uint32
		var info byte
		var shndx uint16
		var size uint64
		if is64 {
			nameOff, info, shndx, size = bo.Uint32(e[0:]), e[4], bo.Uint16(e[6:]), bo.Uint64(e[16:])
		} else {
			nameOff, size, info, shndx = bo.Uint32(e[0:]), uint64(bo.Uint32(e[8:])), e[12], bo.Uint16(e[14:])
		}
		if elf.ST_TYPE(info) != elf.STT_FUNC || shndx == uint16(elf.SHN_UNDEF) {
			continue
		}
		name, ok := names[nameOff]
		if !ok {
			name = cString(strs, nameOff)
			if budget -= len(name); budget < 0 {
				return &limits.Error{Limit: "symbol-names", Value: maxSymbolNameSum, What: "bytes of distinct function names"}
			}
			names[nameOff] = name
		}
		if name == "" {
			continue
		}
		s.funcs[name] = append(s.funcs[name], size)
	}
	for _, v := range s.funcs {
		sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	}
	return nil
}

// cString reads the NUL-terminated string at off of b, at most maxSymbolNameLen bytes.
func cString(b []byte, off uint32) string {
	if uint64(off) >= uint64(len(b)) {
		return ""
	}
	b = b[off:]
	if len(b) > maxSymbolNameLen {
		b = b[:maxSymbolNameLen]
	}
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func compareELF(c *comparison, dim, rim *image) error {
	d, err := newELF(dim, "delivered")
	if err != nil {
		return err
	}
	r, err := newELF(rim, "rebuilt")
	if err != nil {
		return err
	}
	df, rf := d.facts, r.facts
	header := []struct{ what, d, r string }{
		{"class", df.Class, rf.Class},
		{"machine", df.Machine, rf.Machine},
		{"type", df.Type, rf.Type},
		{"interpreter", df.Interpreter, rf.Interpreter},
		{"linking", df.Linking, rf.Linking},
		{"RELRO", df.Relro, rf.Relro},
		{"PIE", fmt.Sprint(df.PIE), fmt.Sprint(rf.PIE)},
		{"non-executable stack", fmt.Sprint(df.NX), fmt.Sprint(rf.NX)},
		{"stack protector", fmt.Sprint(df.Canary), fmt.Sprint(rf.Canary)},
		{"RPATH", strings.Join(df.Rpath, ":"), strings.Join(rf.Rpath, ":")},
		{"RUNPATH", strings.Join(df.Runpath, ":"), strings.Join(rf.Runpath, ":")},
	}
	for _, h := range header {
		if h.d != h.r {
			c.differ("header", h.what, "%s is %q in the delivered file, %q in the rebuild", h.what, h.d, h.r)
		}
	}
	if df.Entry != rf.Entry {
		c.ignore("layout", "entry", "entry point address differs (%#x → %#x); addresses are not compared", rf.Entry, df.Entry)
	}
	compareSets(c, "library", "needed library", df.Needed, rf.Needed)
	compareSets(c, "import", "import", importNames(df), importNames(rf))
	compareSets(c, "export", "export", exportNames(df), exportNames(rf))
	switch {
	case !d.stripped && !r.stripped:
		compareFunctions(c, d.funcs, r.funcs)
	case d.stripped && r.stripped:
		c.ignore("symbol-table", "", "both files are stripped: functions are compared through sections, imports and strings only")
	case d.stripped:
		c.ignore("symbol-table", "", "the delivered file is stripped and the rebuild is not: functions are compared through sections, imports and strings only")
	default:
		c.ignore("symbol-table", "", "the rebuild is stripped and the delivered file is not: functions are compared through sections, imports and strings only")
	}
	if err := compareSections(c, d.image, r.image, elfIgnored); err != nil {
		return err
	}
	if err := compareStrings(c, d.image, r.image); err != nil {
		return err
	}
	if df.BuildID != rf.BuildID {
		c.ignore("build-id", ".note.gnu.build-id", "GNU build ID differs (%s → %s)", orNone(rf.BuildID), orNone(df.BuildID))
	}
	if err := ignoredSections(c, d, r); err != nil {
		return err
	}
	compareGo(c, d.image, r.image)
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func importNames(f *elfan.Facts) []string {
	var out []string
	for _, s := range f.ImportedSymbols {
		n := s.Name
		if s.Version != "" {
			n += "@" + s.Version
		}
		out = append(out, n)
	}
	return out
}

func exportNames(f *elfan.Facts) []string {
	var out []string
	for _, s := range f.ExportedSymbols {
		n := s.Name
		if s.Version != "" {
			n += "@" + s.Version
		}
		out = append(out, n)
	}
	return out
}

// ignoredSections says which ignored sections differ and how, and reports a compiler
// change (.comment) as low.
func ignoredSections(c *comparison, d, r *elfSide) error {
	dm, dOrder := keyed(d.sections)
	rm, _ := keyed(r.sections)
	var debug, symtab []string
	for _, k := range dOrder {
		ds := dm[k]
		if !elfIgnored(ds) {
			continue
		}
		rs, ok := rm[k]
		same := ok && ds.FileSize == rs.FileSize
		if same {
			var err error
			if same, err = sameRange(d.image, r.image, ds, rs); err != nil {
				return err
			}
		}
		switch {
		case ds.Name == ".comment":
			if !same {
				dc, err := commentOf(d.image, ds)
				if err != nil {
					return err
				}
				rc := ""
				if ok {
					if rc, err = commentOf(r.image, rs); err != nil {
						return err
					}
				}
				if dc != rc {
					c.add(result.Low, "toolchain", ".comment", "compiler changed: %q → %q", clip(orNone(rc)), clip(dc))
				}
			}
		case ds.Name == ".note.go.buildid":
			if !same {
				c.ignore("build-id", ".note.go.buildid", "Go build ID note differs (%s → %s)", goNoteID(r.image, rs, ok), goNoteID(d.image, ds, true))
			}
		case ds.Name == ".symtab" || ds.Name == ".strtab":
			if !same {
				symtab = append(symtab, k)
			}
		case ds.Name == ".note.gnu.build-id", ds.Name == ".shstrtab":
			// Reported from the facts; the section names are compared as a set.
		default:
			if !same {
				debug = append(debug, k)
			}
		}
	}
	if len(debug) > 0 {
		c.ignore("debug-info", strings.Join(debug, ","), "debug sections differ or exist on one side only (%s): they hold build paths and times and are not compared", listNames(debug))
	}
	if len(symtab) > 0 {
		c.ignore("symbol-table", strings.Join(symtab, ","), "symbol table bytes differ (%s): function symbols are compared by name and size instead", listNames(symtab))
	}
	return nil
}

func listNames(l []string) string {
	if len(l) > 8 {
		return strings.Join(l[:8], ", ") + fmt.Sprintf(" and %d more", len(l)-8)
	}
	return strings.Join(l, ", ")
}

// sameRange compares the file bytes of two equally long sections without holding them.
func sameRange(d, r *image, ds, rs section) (bool, error) {
	if ds.FileSize != rs.FileSize {
		return false, nil
	}
	if ds.Offset+ds.FileSize > d.size || rs.Offset+rs.FileSize > r.size {
		return false, fmt.Errorf("rebuild: section %s lies outside the file", ds.Name)
	}
	return sameBytes(io.NewSectionReader(d.r, ds.Offset, ds.FileSize), io.NewSectionReader(r.r, rs.Offset, rs.FileSize), ds.FileSize)
}

func commentOf(im *image, s section) (string, error) {
	if s.FileSize > maxCommentBytes {
		s.FileSize = maxCommentBytes
	}
	b, err := im.read(s)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, p := range strings.Split(string(b), "\x00") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "; "), nil
}

// goNoteID returns the build ID of a .note.go.buildid section for the message.
func goNoteID(im *image, s section, ok bool) string {
	if !ok || s.FileSize <= 16 || s.FileSize > maxBuildIDNoteLen {
		return "none"
	}
	b, err := im.read(s)
	if err != nil || len(b) < 16 {
		return "unreadable"
	}
	return clip(strings.TrimRight(string(b[16:]), "\x00"))
}
