package rebuild

import (
	"context"
	"fmt"
	"strings"

	"kensa.dev/kensa/analyzers"
	machoan "kensa.dev/kensa/analyzers/macho"
	"kensa.dev/kensa/analyzers/sniff"
)

// machoSide is one thin Mach-O file prepared for the comparison.
type machoSide struct {
	*image
	arch *machoan.Architecture
}

func newMachO(im *image, side string) (*machoSide, error) {
	facts, err := machoan.New().Analyze(context.Background(), &analyzers.Artifact{
		Path: side, Format: sniff.MachO, Size: im.size, Content: im.r,
	})
	if err != nil {
		return nil, fmt.Errorf("rebuild: %s Mach-O file: %w", side, err)
	}
	f, _ := facts.(*machoan.Facts)
	if f == nil || len(f.Architectures) != 1 {
		return nil, fmt.Errorf("rebuild: %s Mach-O file could not be analysed", side)
	}
	s := &machoSide{image: im, arch: &f.Architectures[0]}
	if s.arch.LoadCommandsTruncated {
		return nil, fmt.Errorf("rebuild: %s Mach-O file has more load commands than are read; it cannot be compared", side)
	}
	// The symbol tables are not read (the analyzer lists imports only): strings come from
	// the whole file, less the signature and __LINKEDIT's other contents below.
	s.stripped = true
	for _, seg := range s.arch.Segments {
		if seg.Name == "__LINKEDIT" {
			off := int64(min(seg.FileOffset, uint64(im.size)))
			s.stringMask = append(s.stringMask, span{off, off + int64(min(seg.FileSize, uint64(im.size)-uint64(off)))})
		}
		for _, sec := range seg.Sections {
			fs := int64(sec.Size)
			if sec.Type == "zerofill" || sec.Offset == 0 {
				fs = 0
			}
			exec := strings.Contains(seg.InitProt, "x") || strings.Contains(seg.MaxProt, "x")
			x := section{Name: sec.Segment + "," + sec.Name, Offset: int64(sec.Offset), FileSize: fs, Size: sec.Size, Addr: sec.Addr,
				Alloc: seg.Name != "__DWARF", Exec: exec}
			im.sections = append(im.sections, x)
			if machoIgnored(x) && fs > 0 {
				im.stringMask = append(im.stringMask, span{x.Offset, x.Offset + fs})
			}
		}
	}
	return s, nil
}

// machoIgnored: DWARF sections hold build paths; they are ignored in a segment that is
// not executable.
func machoIgnored(s section) bool {
	return !s.Exec && strings.HasPrefix(s.Name, "__DWARF,")
}

func compareMachO(c *comparison, dim, rim *image) error {
	d, err := newMachO(dim, "delivered")
	if err != nil {
		return err
	}
	r, err := newMachO(rim, "rebuilt")
	if err != nil {
		return err
	}
	da, ra := d.arch, r.arch
	header := []struct{ what, d, r string }{
		{"cpu", da.Cpu, ra.Cpu},
		{"file type", da.FileType, ra.FileType},
		{"flags", strings.Join(da.Flags, ","), strings.Join(ra.Flags, ",")},
		{"dylinker", da.Dylinker, ra.Dylinker},
		{"rpaths", strings.Join(da.Rpaths, ":"), strings.Join(ra.Rpaths, ":")},
	}
	for _, h := range header {
		if h.d != h.r {
			c.differ("header", h.what, "%s is %q in the delivered file, %q in the rebuild", h.what, h.d, h.r)
		}
	}
	dylibs := func(a *machoan.Architecture) []string {
		var out []string
		for _, l := range a.Dylibs {
			out = append(out, l.Name)
		}
		return out
	}
	compareSets(c, "library", "library", dylibs(da), dylibs(ra))
	compareSets(c, "import", "import", da.ImportedSymbols, ra.ImportedSymbols)
	c.ignore("symbol-table", "", "Mach-O symbol tables are not compared: functions are compared through sections, imports and strings only")
	if err := compareSections(c, d.image, r.image, machoIgnored); err != nil {
		return err
	}
	if err := compareStrings(c, d.image, r.image); err != nil {
		return err
	}
	if da.UUID != ra.UUID {
		c.ignore("build-id", "LC_UUID", "LC_UUID differs (%s → %s)", orNone(ra.UUID), orNone(da.UUID))
	}
	dsig, rsig := da.CodeSignature != nil, ra.CodeSignature != nil
	switch {
	case dsig && !rsig:
		c.ignore("signature", "LC_CODE_SIGNATURE", "the delivered file is code-signed and the rebuild is not; the signature is verified separately")
	case !dsig && rsig:
		c.ignore("signature", "LC_CODE_SIGNATURE", "the rebuild is code-signed and the delivered file is not")
	case dsig:
		c.ignore("signature", "LC_CODE_SIGNATURE", "code signatures are not compared (they hash the other bytes)")
	}
	compareGo(c, d.image, r.image)
	return nil
}
