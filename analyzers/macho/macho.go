// Package macho reports facts about Mach-O executables, libraries and bundles (macOS, iOS
// and the other Apple platforms), thin or fat (universal): per architecture the header,
// the load commands, the libraries and run paths it links with, the minimum OS, the
// segments and sections with their entropy, the imported symbols, and the embedded code
// signature (CodeDirectory identity and flags, team, CMS signature, entitlements).
//
// debug/macho parses the segments and sections; it is not hardened against hostile
// input, so it runs behind recover, only after a pre-scan has bounded the relocations it
// would read, and on a view of the file without the symbol table commands (it copies
// every symbol name out of the string table, which a crafted table turns into a
// quadratic allocation). The symbol table, the load commands debug/macho leaves raw and
// the code signature SuperBlob are decoded here with every offset checked.
package macho

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/entropy"
	"kensa.dev/kensa/analyzers/sniff"

	dmacho "debug/macho"
)

// Bounds on what one file can make the analyzer read, allocate and report.
const (
	maxArchitectures     = 32
	maxLoadCommands      = 1024
	maxCommandKinds      = 128
	maxDylibs            = 512
	maxRpaths            = 128
	maxSegments          = 256
	maxSections          = 1024
	maxImportedSymbols   = 4096
	maxAnomalies         = 64
	maxEntropyBytes      = 64 << 20
	maxBlobs             = 64
	maxEntitlementsBytes = 64 << 10
	maxEntitlementKeys   = 256
	maxStringBytes       = 4096
	// maxLoadCommandBytes bounds the load command area read into memory (sizeofcmds).
	maxLoadCommandBytes = 16 << 20
)

type analyzer struct{}

// New returns the Mach-O analyzer.
func New() analyzers.Analyzer { return analyzer{} }

func (analyzer) Name() string { return "macho" }

func (analyzer) Wants(a *analyzers.Artifact) bool {
	return a.Format == sniff.MachO || a.Format == sniff.MachOFat
}

func (analyzer) Schema() any { return (*Facts)(nil) }

func (analyzer) Analyze(ctx context.Context, a *analyzers.Artifact) (any, error) {
	if a.Content == nil || a.Size < 4 {
		return nil, errors.New("file is too short to be a Mach-O file")
	}
	var magic [4]byte
	if _, err := a.Content.ReadAt(magic[:], 0); err != nil {
		return nil, fmt.Errorf("reading the Mach-O magic: %w", err)
	}
	switch binary.BigEndian.Uint32(magic[:]) {
	case 0xcafebabe, 0xcafebabf:
		f, err := analyzeFat(ctx, a.Content, a.Size)
		if f == nil {
			return nil, err // not a typed nil in the interface
		}
		return f, err
	}
	f := &Facts{ArchitectureCount: 1}
	arch, err := analyzeImage(a.Content, 0, a.Size)
	f.Architectures = []Architecture{arch}
	return f, err
}

// analyzeFat reads the fat header and analyses each slice.
func analyzeFat(ctx context.Context, r io.ReaderAt, size int64) (*Facts, error) {
	f := &Facts{Fat: true, FatMagic: "fat", Architectures: []Architecture{}}
	var hdr [8]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, fmt.Errorf("fat Mach-O header is truncated: %w", err)
	}
	entSize := int64(20)
	if binary.BigEndian.Uint32(hdr[:]) == 0xcafebabf {
		f.FatMagic = "fat64"
		entSize = 32
	}
	narch := binary.BigEndian.Uint32(hdr[4:])
	f.ArchitectureCount = int(narch)
	if narch == 0 {
		return f, errors.New("fat Mach-O header declares no architectures")
	}
	n := int(min(narch, maxArchitectures))
	if int64(narch) > maxArchitectures {
		f.addAnomaly(fmt.Sprintf("fat header declares %d architectures; only the first %d were analysed", narch, maxArchitectures))
	}
	if 8+int64(n)*entSize > size {
		return f, fmt.Errorf("fat Mach-O header declares %d architectures but the file ends inside their table", narch)
	}
	table := make([]byte, int64(n)*entSize)
	if _, err := r.ReadAt(table, 8); err != nil {
		return f, fmt.Errorf("reading the fat architecture table: %w", err)
	}
	type span struct{ off, end int64 }
	var spans []span
	var errs []error
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return f, err
		}
		e := table[int64(i)*entSize:]
		cpu, sub := binary.BigEndian.Uint32(e), binary.BigEndian.Uint32(e[4:])
		var off, sz uint64
		var align uint32
		if entSize == 20 {
			off, sz, align = uint64(binary.BigEndian.Uint32(e[8:])), uint64(binary.BigEndian.Uint32(e[12:])), binary.BigEndian.Uint32(e[16:])
		} else {
			off, sz, align = binary.BigEndian.Uint64(e[8:]), binary.BigEndian.Uint64(e[16:]), binary.BigEndian.Uint32(e[24:])
		}
		name := cpuName(cpu)
		if off > uint64(size) || sz > uint64(size)-off {
			f.addAnomaly(fmt.Sprintf("slice %d (%s) at offset %d with size %d extends past the end of the file (%d bytes)", i, name, off, sz, size))
			arch := Architecture{Cpu: name, CpuSubtype: sub &^ 0xff000000, CpuSubtypeName: cpuSubtypeName(cpu, sub&^0xff000000),
				Offset: int64(min(off, uint64(size))), Size: int64(min(sz, uint64(size)-min(off, uint64(size)))), Align: align, Flags: []string{}, LoadCommands: []string{}, Segments: []Segment{}}
			f.Architectures = append(f.Architectures, arch)
			errs = append(errs, fmt.Errorf("slice %d (%s) lies outside the file", i, name))
			continue
		}
		for j, s := range spans {
			if int64(off) < s.end && s.off < int64(off+sz) {
				f.addAnomaly(fmt.Sprintf("slice %d (%s) overlaps slice %d", i, name, j))
			}
		}
		spans = append(spans, span{int64(off), int64(off + sz)})
		arch, err := analyzeImage(io.NewSectionReader(r, int64(off), int64(sz)), int64(off), int64(sz))
		arch.Align = align
		if arch.Cpu != name {
			arch.Anomalies = appendAnomaly(arch.Anomalies, fmt.Sprintf("fat header names cpu %s but the image header names %s", name, arch.Cpu))
		}
		f.Architectures = append(f.Architectures, arch)
		if err != nil {
			errs = append(errs, fmt.Errorf("slice %d (%s): %w", i, name, err))
		}
	}
	return f, errors.Join(errs...)
}

func (f *Facts) addAnomaly(s string) { f.Anomalies = appendAnomaly(f.Anomalies, s) }

func appendAnomaly(list []string, s string) []string {
	if len(list) < maxAnomalies {
		list = append(list, s)
	}
	return list
}

// image is the state of the analysis of one Mach-O image.
type image struct {
	r        io.ReaderAt // the image, offset 0 at its header
	size     int64
	bo       binary.ByteOrder
	arch     *Architecture
	symtab   *symtabCmd
	dysymtab *dysymtabCmd
	// entropyBudget is how many more bytes entropy may read.
	entropyBudget int64
	entropySpent  bool
	// malformed is the first structural error that the loader and LLVM's Mach-O reader
	// reject the image for (see invalid).
	malformed error
	// badName is set once a symbol names an offset past the string table.
	badName bool
}

func (im *image) anomaly(format string, args ...any) {
	im.arch.Anomalies = appendAnomaly(im.arch.Anomalies, fmt.Sprintf(format, args...))
}

// invalid reports a structural error of the image (a table or segment that lies outside
// it, a symbol range or string index past its table): an anomaly, and an error for the
// image, so that the facts gathered around it are not taken for a complete reading.
func (im *image) invalid(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	im.arch.Anomalies = appendAnomaly(im.arch.Anomalies, msg)
	if im.malformed == nil {
		im.malformed = fmt.Errorf("malformed image: %s", msg)
	}
}

// analyzeImage analyses the Mach-O image of size bytes in r; base is its offset in the
// file.
func analyzeImage(r io.ReaderAt, base, size int64) (Architecture, error) {
	arch := Architecture{Offset: base, Size: size, Flags: []string{}, LoadCommands: []string{},
		LoadCommandCounts: map[string]int{}, Segments: []Segment{}}
	im := &image{r: r, size: size, arch: &arch, entropyBudget: 2*size + 1<<20}
	var hdr [32]byte
	if size < 28 {
		return arch, fmt.Errorf("Mach-O header is truncated (%d bytes)", size)
	}
	if _, err := r.ReadAt(hdr[:min(size, 32)], 0); err != nil {
		return arch, fmt.Errorf("reading the Mach-O header: %w", err)
	}
	hdrSize := int64(28)
	switch {
	case binary.LittleEndian.Uint32(hdr[:]) == 0xfeedface:
		im.bo, arch.Bits = binary.LittleEndian, 32
	case binary.BigEndian.Uint32(hdr[:]) == 0xfeedface:
		im.bo, arch.Bits = binary.BigEndian, 32
	case binary.LittleEndian.Uint32(hdr[:]) == 0xfeedfacf:
		im.bo, arch.Bits, hdrSize = binary.LittleEndian, 64, 32
	case binary.BigEndian.Uint32(hdr[:]) == 0xfeedfacf:
		im.bo, arch.Bits, hdrSize = binary.BigEndian, 64, 32
	default:
		return arch, fmt.Errorf("not a Mach-O image: magic %#x", binary.BigEndian.Uint32(hdr[:]))
	}
	if size < hdrSize {
		return arch, fmt.Errorf("Mach-O header is truncated (%d bytes)", size)
	}
	bo := im.bo
	cpu, sub := bo.Uint32(hdr[4:]), bo.Uint32(hdr[8:])
	arch.Cpu = cpuName(cpu)
	arch.CpuSubtype = sub &^ 0xff000000
	arch.CpuSubtypeName = cpuSubtypeName(cpu, arch.CpuSubtype)
	arch.FileType = fileTypeName(bo.Uint32(hdr[12:]))
	ncmds, sizeofcmds, flags := bo.Uint32(hdr[16:]), bo.Uint32(hdr[20:]), bo.Uint32(hdr[24:])
	arch.LoadCommandCount = int(ncmds)
	arch.Flags = bitNames(flags, headerFlagNames)
	arch.PIE = flags&mhPIE != 0

	var errs []error
	cmdLen := int64(sizeofcmds)
	if cmdLen > size-hdrSize {
		im.anomaly("load commands (%d bytes) extend past the end of the image (%d bytes)", sizeofcmds, size)
		errs = append(errs, errors.New("the load commands extend past the end of the image"))
		cmdLen = size - hdrSize
	}
	if cmdLen > maxLoadCommandBytes {
		errs = append(errs, fmt.Errorf("load commands take %d bytes; only the first %d were read", cmdLen, maxLoadCommandBytes))
		cmdLen = maxLoadCommandBytes
	}
	cmds := make([]byte, cmdLen)
	if _, err := r.ReadAt(cmds, hdrSize); err != nil {
		return arch, fmt.Errorf("reading the load commands: %w", err)
	}
	if err := im.loadCommands(cmds, ncmds, hdrSize); err != nil {
		errs = append(errs, err)
	}

	// debug/macho for segments and sections, once its reads are bounded, on a view of
	// the image whose symbol table commands are neutralised: the symbols are read here,
	// without debug/macho's copying of every name.
	patched := im.hideSymbols(cmds, ncmds)
	if int64(sizeofcmds) != cmdLen {
		errs = append(errs, errors.New("segments and sections were not read"))
	} else if err := im.relocationBudget(cmds, ncmds); err != nil {
		errs = append(errs, err)
	} else if f, err := newFile(&overlay{r: r, off: hdrSize, patch: patched}, size); err != nil {
		errs = append(errs, fmt.Errorf("parsing segments and sections: %w", err))
	} else {
		im.segments(f)
	}
	im.symbols()
	if im.malformed != nil {
		errs = append(errs, im.malformed)
	}
	return arch, errors.Join(errs...)
}

// newFile runs debug/macho.NewFile on the image, turning a panic into an error.
func newFile(r io.ReaderAt, size int64) (f *dmacho.File, err error) {
	defer func() {
		if v := recover(); v != nil {
			f, err = nil, fmt.Errorf("debug/macho failed on this image (recovered panic: %v)", v)
		}
	}()
	return dmacho.NewFile(io.NewSectionReader(r, 0, size))
}

// commands iterates over the load commands in cmds, calling fn with the index, command
// and whole command bytes; it stops at the first malformed one and returns why.
func (im *image) commands(cmds []byte, ncmds uint32, fn func(i int, cmd uint32, c []byte)) error {
	dat := cmds
	for i := 0; i < int(ncmds); i++ {
		if len(dat) < 8 {
			return fmt.Errorf("load command %d of %d lies past the end of the load command area", i, ncmds)
		}
		cmd, siz := im.bo.Uint32(dat), im.bo.Uint32(dat[4:])
		if siz < 8 || int64(siz) > int64(len(dat)) {
			return fmt.Errorf("load command %d (%s) has an invalid size %d", i, loadCommandName(cmd), siz)
		}
		fn(i, cmd, dat[:siz])
		dat = dat[siz:]
	}
	return nil
}

// relocationBudget adds up what debug/macho would read into memory for the relocations
// the sections claim, and refuses when it exceeds twice the image.
func (im *image) relocationBudget(cmds []byte, ncmds uint32) error {
	bo := im.bo
	var total uint64
	err := im.commands(cmds, ncmds, func(_ int, cmd uint32, c []byte) {
		if cmd != 0x1 && cmd != 0x19 {
			return
		}
		segHdr, sectSize, relOff := 56, 68, 48
		if cmd == 0x19 {
			segHdr, sectSize, relOff = 72, 80, 56
		}
		for s := c[min(segHdr, len(c)):]; len(s) >= sectSize; s = s[sectSize:] {
			off, n := uint64(bo.Uint32(s[relOff:])), uint64(bo.Uint32(s[relOff+4:]))*8
			if off < uint64(im.size) {
				total += min(n, uint64(im.size)-off)
			}
		}
	})
	if err != nil {
		return err
	}
	if limit := 2*uint64(im.size) + 1<<20; total > limit {
		return fmt.Errorf("section relocations claim %d bytes, more than twice the image (%d bytes); segments were not read", total, im.size)
	}
	return nil
}

// hideSymbols returns a copy of the load commands in which LC_SYMTAB and LC_DYSYMTAB
// are turned into commands debug/macho does not interpret, and records their fields.
func (im *image) hideSymbols(cmds []byte, ncmds uint32) []byte {
	patched := bytes.Clone(cmds)
	off := 0
	im.commands(cmds, ncmds, func(_ int, cmd uint32, c []byte) {
		switch {
		case cmd == 0x2 && len(c) >= 24 && im.symtab == nil:
			im.symtab = &symtabCmd{symoff: im.bo.Uint32(c[8:]), nsyms: im.bo.Uint32(c[12:]), stroff: im.bo.Uint32(c[16:]), strsize: im.bo.Uint32(c[20:])}
		case cmd == 0xb && len(c) >= 32 && im.dysymtab == nil:
			im.dysymtab = &dysymtabCmd{ilocalsym: im.bo.Uint32(c[8:]), nlocalsym: im.bo.Uint32(c[12:]),
				iextdefsym: im.bo.Uint32(c[16:]), nextdefsym: im.bo.Uint32(c[20:]),
				iundefsym: im.bo.Uint32(c[24:]), nundefsym: im.bo.Uint32(c[28:])}
		}
		if cmd == 0x2 || cmd == 0xb {
			im.bo.PutUint32(patched[off:], 0x7fff0000|cmd) // an unknown command
		}
		off += len(c)
	})
	return patched
}

// overlay is r with patch laid over it at off.
type overlay struct {
	r     io.ReaderAt
	off   int64
	patch []byte
}

func (o *overlay) ReadAt(p []byte, off int64) (int, error) {
	n, err := o.r.ReadAt(p, off)
	lo, hi := max(off, o.off), min(off+int64(n), o.off+int64(len(o.patch)))
	if lo < hi {
		copy(p[lo-off:hi-off], o.patch[lo-o.off:hi-o.off])
	}
	return n, err
}

// loadCommands decodes the load commands in cmds.
func (im *image) loadCommands(cmds []byte, ncmds uint32, hdrSize int64) error {
	arch, bo := im.arch, im.bo
	var codeSig []byte
	sawVersion := false
	str := func(c []byte, at int, what string, i int) (string, bool) {
		if len(c) < at+4 {
			im.anomaly("load command %d (%s) is too short (%d bytes)", i, what, len(c))
			return "", false
		}
		off := bo.Uint32(c[at:])
		if off < uint32(at+4) || off >= uint32(len(c)) {
			im.invalid("load command %d (%s) string offset %d lies outside the command", i, what, off)
			return "", false
		}
		return cstring(c[off:min(len(c), int(off)+maxStringBytes)]), true
	}
	err := im.commands(cmds, ncmds, func(i int, cmd uint32, c []byte) {
		name := loadCommandName(cmd)
		if len(arch.LoadCommands) < maxLoadCommands {
			arch.LoadCommands = append(arch.LoadCommands, name)
		} else {
			arch.LoadCommandsTruncated = true
		}
		if _, ok := arch.LoadCommandCounts[name]; ok || len(arch.LoadCommandCounts) < maxCommandKinds {
			arch.LoadCommandCounts[name]++
		}
		switch name {
		case "lc_load_dylib", "lc_load_weak_dylib", "lc_reexport_dylib", "lc_lazy_load_dylib", "lc_load_upward_dylib", "lc_id_dylib":
			s, ok := str(c, 8, name, i)
			if !ok || len(c) < 24 {
				if ok {
					im.anomaly("load command %d (%s) is too short (%d bytes)", i, name, len(c))
				}
				return
			}
			d := Dylib{Name: s, Kind: strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(name, "lc_"), "load_"), "_dylib"),
				CurrentVersion: version(bo.Uint32(c[16:]), true), CompatVersion: version(bo.Uint32(c[20:]), true)}
			switch d.Kind {
			case "lazy_load":
				d.Kind = "lazy"
			case "dylib":
				d.Kind = "load"
			}
			if name == "lc_id_dylib" {
				if arch.IDDylib != nil {
					im.anomaly("more than one lc_id_dylib")
				} else {
					arch.IDDylib = &d
				}
			} else if len(arch.Dylibs) < maxDylibs {
				arch.Dylibs = append(arch.Dylibs, d)
			}
		case "lc_rpath":
			if s, ok := str(c, 8, name, i); ok && len(arch.Rpaths) < maxRpaths {
				arch.Rpaths = append(arch.Rpaths, s)
			}
		case "lc_load_dylinker":
			if s, ok := str(c, 8, name, i); ok {
				arch.Dylinker = s
			}
		case "lc_uuid":
			if len(c) < 24 {
				im.anomaly("load command %d (lc_uuid) is too short (%d bytes)", i, len(c))
				return
			}
			if arch.UUID != "" {
				im.invalid("more than one lc_uuid")
				return
			}
			u := c[8:24]
			arch.UUID = strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]))
		case "lc_main":
			if len(c) < 24 {
				im.anomaly("load command %d (lc_main) is too short (%d bytes)", i, len(c))
				return
			}
			e := bo.Uint64(c[8:])
			arch.EntryOffset = &e
			if e >= uint64(im.size) {
				im.anomaly("entry point offset %d lies past the end of the image", e)
			}
		case "lc_build_version":
			if len(c) < 24 {
				im.anomaly("load command %d (lc_build_version) is too short (%d bytes)", i, len(c))
				return
			}
			if !sawVersion {
				sawVersion = true
				arch.Platform = platformName(bo.Uint32(c[8:]))
				arch.MinOS, arch.SDK = version(bo.Uint32(c[12:]), false), version(bo.Uint32(c[16:]), false)
			}
		case "lc_version_min_macosx", "lc_version_min_iphoneos", "lc_version_min_tvos", "lc_version_min_watchos":
			if len(c) < 16 {
				im.anomaly("load command %d (%s) is too short (%d bytes)", i, name, len(c))
				return
			}
			if !sawVersion {
				sawVersion = true
				arch.Platform = map[string]string{"lc_version_min_macosx": "macos", "lc_version_min_iphoneos": "ios",
					"lc_version_min_tvos": "tvos", "lc_version_min_watchos": "watchos"}[name]
				arch.MinOS, arch.SDK = version(bo.Uint32(c[8:]), false), version(bo.Uint32(c[12:]), false)
			}
		case "lc_encryption_info", "lc_encryption_info_64":
			if len(c) >= 20 && bo.Uint32(c[16:]) != 0 {
				arch.Encrypted = true
			}
		case "lc_code_signature":
			if len(c) < 16 {
				im.anomaly("load command %d (lc_code_signature) is too short (%d bytes)", i, len(c))
				return
			}
			if codeSig != nil {
				im.anomaly("more than one lc_code_signature")
				return
			}
			codeSig = c
		}
	})
	if codeSig != nil {
		im.codeSignature(bo.Uint32(codeSig[8:]), bo.Uint32(codeSig[12:]))
	}
	return err
}

// segments reports the segments and sections debug/macho parsed.
func (im *image) segments(f *dmacho.File) {
	arch := im.arch
	nsect := 0
	for _, l := range f.Loads {
		s, ok := l.(*dmacho.Segment)
		if !ok {
			continue
		}
		if len(arch.Segments) >= maxSegments {
			im.anomaly("more than %d segments; only the first %d are listed", maxSegments, maxSegments)
			break
		}
		seg := Segment{Name: cstring([]byte(s.Name)), Addr: s.Addr, VMSize: s.Memsz, FileOffset: s.Offset, FileSize: s.Filesz,
			MaxProt: protString(s.Maxprot), InitProt: protString(s.Prot)}
		if s.Offset > uint64(im.size) || s.Filesz > uint64(im.size)-s.Offset {
			im.invalid("segment %s (offset %d, size %d) extends past the end of the image", seg.Name, s.Offset, s.Filesz)
		} else {
			seg.Entropy = im.entropy(int64(s.Offset), int64(s.Filesz))
		}
		if s.Prot&2 != 0 && s.Prot&4 != 0 {
			im.anomaly("segment %s is writable and executable (%s)", seg.Name, seg.InitProt)
		}
		if s.Filesz > s.Memsz && s.Memsz != 0 {
			im.anomaly("segment %s has more bytes in the file (%d) than in memory (%d)", seg.Name, s.Filesz, s.Memsz)
		}
		arch.Segments = append(arch.Segments, seg)
	}
	for _, sh := range f.Sections {
		if nsect >= maxSections {
			im.anomaly("more than %d sections; only the first %d are listed", maxSections, maxSections)
			break
		}
		nsect++
		sec := Section{Name: cstring([]byte(sh.Name)), Segment: cstring([]byte(sh.Seg)), Addr: sh.Addr, Size: sh.Size,
			Offset: sh.Offset, Type: sectionTypeName(sh.Flags)}
		if !zeroFill(sh.Flags) && sh.Size > 0 {
			if uint64(sh.Offset) > uint64(im.size) || sh.Size > uint64(im.size)-uint64(sh.Offset) {
				im.invalid("section %s,%s (offset %d, size %d) extends past the end of the image", sec.Segment, sec.Name, sh.Offset, sh.Size)
			} else {
				sec.Entropy = im.entropy(int64(sh.Offset), int64(sh.Size))
			}
		}
		// Attach to the segment of that name that contains it, else the last one named so.
		placed := false
		for k := range arch.Segments {
			seg := &arch.Segments[k]
			if seg.Name == sec.Segment && contains(seg, sec, sh.Flags) {
				seg.Sections = append(seg.Sections, sec)
				placed = true
				break
			}
		}
		if !placed {
			im.anomaly("section %s,%s lies outside its segment", sec.Segment, sec.Name)
			for k := len(arch.Segments) - 1; k >= 0; k-- {
				if arch.Segments[k].Name == sec.Segment {
					arch.Segments[k].Sections = append(arch.Segments[k].Sections, sec)
					break
				}
			}
		}
	}
}

// contains reports whether sec lies within seg: by address, or by file offset for a
// segment that is not mapped (VMSize 0, as the Go linker's __DWARF).
func contains(seg *Segment, sec Section, flags uint32) bool {
	if seg.VMSize == 0 {
		if zeroFill(flags) {
			return sec.Size == 0
		}
		o := uint64(sec.Offset)
		return o >= seg.FileOffset && o-seg.FileOffset <= seg.FileSize && sec.Size <= seg.FileSize-(o-seg.FileOffset)
	}
	return sec.Addr >= seg.Addr && sec.Addr-seg.Addr <= seg.VMSize && sec.Size <= seg.VMSize-(sec.Addr-seg.Addr)
}

// entropy measures n bytes at off (at most maxEntropyBytes), or returns -1 once the
// image's entropy budget is spent: overlapping segments and sections cannot make the
// analyzer read the file more than about twice.
func (im *image) entropy(off, n int64) float64 {
	n = min(n, maxEntropyBytes)
	if n > im.entropyBudget {
		if !im.entropySpent {
			im.entropySpent = true
			im.anomaly("segments and sections overlap so much that the entropy of some was not measured (-1)")
		}
		return -1
	}
	im.entropyBudget -= n
	e, _ := entropy.Section(im.r, off, n)
	return e
}

// symtabCmd and dysymtabCmd are the fields of LC_SYMTAB and LC_DYSYMTAB the analyzer
// uses.
type symtabCmd struct{ symoff, nsyms, stroff, strsize uint32 }

type dysymtabCmd struct {
	ilocalsym, nlocalsym, iextdefsym, nextdefsym, iundefsym, nundefsym uint32
}

// symbols reports the undefined external symbols: the LC_DYSYMTAB undefined range when
// present, else every undefined external symbol. Entries and names are read one by one;
// at most maxImportedSymbols names are read.
func (im *image) symbols() {
	st := im.symtab
	if st == nil {
		return
	}
	entSize := int64(12)
	if im.arch.Bits == 64 {
		entSize = 16
	}
	nsyms := int64(st.nsyms)
	if int64(st.symoff) > im.size || nsyms > (im.size-int64(st.symoff))/entSize {
		im.invalid("symbol table (%d entries at offset %d) extends past the end of the image", st.nsyms, st.symoff)
		nsyms = max(0, (im.size-int64(st.symoff))/entSize)
	}
	if int64(st.stroff) > im.size || int64(st.strsize) > im.size-int64(st.stroff) {
		im.invalid("string table (%d bytes at offset %d) extends past the end of the image", st.strsize, st.stroff)
	}
	lo, hi, all := int64(0), nsyms, true
	if dt := im.dysymtab; dt != nil {
		bad := false
		for _, r := range []struct {
			what        string
			first, more uint32
		}{{"local", dt.ilocalsym, dt.nlocalsym}, {"external", dt.iextdefsym, dt.nextdefsym}, {"undefined", dt.iundefsym, dt.nundefsym}} {
			if int64(r.first) > nsyms || int64(r.more) > nsyms-int64(r.first) {
				im.invalid("dynamic symbol table's %s range (%d+%d) exceeds the symbol table (%d entries)", r.what, r.first, r.more, st.nsyms)
				bad = bad || r.what == "undefined"
			}
		}
		if bad {
			return
		}
		lo, hi, all = int64(dt.iundefsym), int64(dt.iundefsym)+int64(dt.nundefsym), false
	}
	const batch = 4096
	buf := make([]byte, batch*entSize)
	for i := lo; i < hi; i += batch {
		n := min(batch, hi-i)
		b := buf[:n*entSize]
		if _, err := im.r.ReadAt(b, int64(st.symoff)+i*entSize); err != nil {
			im.anomaly("symbol table could not be read: %v", err)
			return
		}
		for k := int64(0); k < n; k++ {
			e := b[k*entSize:]
			// From <mach-o/nlist.h>: N_TYPE 0x0e, N_UNDF 0, N_EXT 1.
			if all && (e[4]&0x0e != 0 || e[4]&0x01 == 0) {
				continue
			}
			im.arch.ImportedSymbolCount++
			if len(im.arch.ImportedSymbols) < maxImportedSymbols {
				im.arch.ImportedSymbols = append(im.arch.ImportedSymbols, im.symbolName(im.bo.Uint32(e)))
			}
		}
	}
}

// symbolName reads the name at strx in the string table.
func (im *image) symbolName(strx uint32) string {
	st := im.symtab
	if strx >= st.strsize {
		if !im.badName {
			im.badName = true
			im.invalid("a symbol's name offset %d lies past the string table (%d bytes)", strx, st.strsize)
		}
		return ""
	}
	off := int64(st.stroff) + int64(strx)
	n := min(int64(st.strsize-strx), maxStringBytes, max(0, im.size-off))
	for want := min(n, 256); want > 0; want = n {
		b := make([]byte, want)
		if _, err := im.r.ReadAt(b, off); err != nil && err != io.EOF {
			return ""
		}
		if bytes.IndexByte(b, 0) >= 0 || want == n {
			return cstring(b)
		}
	}
	return ""
}
