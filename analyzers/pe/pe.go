// Package pe reports facts about PE files (Windows executables, DLLs and drivers): header
// flags that rules about exploit mitigations need (ASLR, DEP, CFG, …), imports and their
// imphash, exports, sections with their entropy, TLS callbacks, overlays, version
// resources, build time stamps, the Rich header, .NET identity, the PE checksum, and the
// structure and integrity of the Authenticode signature.
//
// github.com/saferwall/pe reads the headers, the section table, the Rich header and the
// CLR header of an in-memory copy of the file (bounded by maxImageSize), with its logger
// silenced and its panics recovered. The import, export, TLS, debug and resource tables,
// the certificate table, the authentihash and the overlay are read here, with fixed
// bounds on every walk: saferwall's own readers of those let a small crafted file claim
// millions of entries or gigabyte allocations. Authenticode facts are about integrity
// only (does the signature cover these bytes and verify with the embedded signer
// certificate); whether the signer is trusted is decided elsewhere, from the embedded
// chain reported here (kensa.dev/kensa/attest/authenticode, through ReadAuthenticode).
package pe

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	sw "github.com/saferwall/pe"
	swlog "github.com/saferwall/pe/log"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/entropy"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"
)

// Caps on what one file may make the analyzer hold or report.
const (
	// maxImageSize bounds the bytes loaded in memory for parsing; larger PE files are
	// refused with a file-size limit error. saferwall/pe addresses files with 32-bit
	// offsets and builds tables in proportion to the file, so the bound is well below 4G.
	maxImageSize = 256 << 20
	maxSections  = 1024
	maxImports   = 20000
	maxExports   = 20000
	// maxTLSCallbacks bounds the TLS callbacks counted and reported.
	maxTLSCallbacks = 256
	maxDebug        = 64
	maxRichEntries  = 512
	maxAnomalies    = 256
	maxSignatures   = 16
	maxCertificates = 64
	// maxCertEntries bounds the WIN_CERTIFICATE entries walked in the certificate table.
	maxCertEntries = 64
	// maxCOFFSymbols and maxRelocs bound saferwall's symbol and relocation tables.
	maxCOFFSymbols = 1 << 16
	maxRelocs      = 1 << 16
	// maxVersionStrings bounds the version resource strings read.
	maxVersionStrings = 256
)

// Analyzer reports facts about PE files.
type Analyzer struct{}

// New returns the pe analyzer.
func New() analyzers.Analyzer { return Analyzer{} }

// Name is "pe".
func (Analyzer) Name() string { return "pe" }

// Wants PE files.
func (Analyzer) Wants(a *analyzers.Artifact) bool { return a.Format == sniff.PE }

// Schema returns a nil *Facts.
func (Analyzer) Schema() any { return (*Facts)(nil) }

// discard is a saferwall logger that writes nothing: the library logs to stdout by
// default, and stdout carries kensa's result.
type discard struct{}

func (discard) Log(swlog.Level, ...any) error { return nil }

// Analyze parses a and returns its *Facts.
func (Analyzer) Analyze(ctx context.Context, a *analyzers.Artifact) (facts any, err error) {
	capSize := int64(maxImageSize)
	if a.Limits != nil && a.Limits.FileSize > 0 && a.Limits.FileSize < capSize {
		capSize = a.Limits.FileSize
	}
	if a.Size > capSize {
		return nil, &limits.Error{Limit: "file-size", Value: capSize,
			What: fmt.Sprintf("PE file of %d bytes (PE files are parsed in memory)", a.Size)}
	}
	if a.Size < 0 || a.Content == nil {
		return nil, errors.New("pe: artifact has no content")
	}
	data := make([]byte, a.Size)
	if n, rerr := a.Content.ReadAt(data, 0); int64(n) != a.Size {
		return nil, fmt.Errorf("pe: reading %d bytes: %w", a.Size, rerr)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f := &Facts{}
	defer func() {
		if v := recover(); v != nil {
			facts = f
			err = fmt.Errorf("pe: internal error on this file (panic: %v); please report it with the file", v)
		}
	}()
	err = analyze(ctx, data, f)
	if f.Machine == "" {
		return nil, err
	}
	return f, err
}

// parse runs saferwall on data for the headers, the sections and the CLR header,
// turning a panic into an error.
func parse(data []byte) (p *sw.File, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("pe: malformed PE file (parser panic: %v)", v)
		}
	}()
	opts := &sw.Options{
		Logger:                     discard{},
		MaxCOFFSymbolsCount:        maxCOFFSymbols,
		MaxRelocEntriesCount:       maxRelocs,
		DisableCertValidation:      true,
		DisableSignatureValidation: true,
		// Read here instead, with bounds saferwall/pe lacks.
		OmitSecurityDirectory:    true,
		OmitImportDirectory:      true,
		OmitDelayImportDirectory: true,
		OmitExportDirectory:      true,
		OmitTLSDirectory:         true,
		OmitResourceDirectory:    true,
		OmitDebugDirectory:       true,
		// Not reported.
		OmitExceptionDirectory:    true,
		OmitRelocDirectory:        true,
		OmitIATDirectory:          true,
		OmitGlobalPtrDirectory:    true,
		OmitLoadConfigDirectory:   true,
		OmitBoundImportDirectory:  true,
		OmitArchitectureDirectory: true,
	}
	p, err = sw.NewBytes(data, opts)
	if err != nil {
		return nil, err
	}
	// File.Parse without the COFF symbol table, which images do not need and whose
	// string reader is quadratic in a string's length.
	if len(data) < sw.TinyPESize {
		return p, sw.ErrInvalidPESize
	}
	if err := p.ParseDOSHeader(); err != nil {
		return p, err
	}
	// A malformed Rich header (saferwall indexes it without checks) loses only itself.
	func() {
		defer func() {
			if recover() != nil {
				p.HasRichHdr = false
				p.RichHeader = sw.RichHeader{}
			}
		}()
		_ = p.ParseRichHeader()
	}()
	if err := p.ParseNTHeader(); err != nil {
		return p, err
	}
	if err := p.ParseSectionHeader(); err != nil {
		return p, err
	}
	if o, ok := optional(p); ok && o.numRvaAndSizes > 14 && o.dirs[14].VirtualAddress != 0 {
		opts.OmitCLRMetadata = !metadataSane(newRVAReader(data, p, o), o.dirs[14])
	}
	return p, p.ParseDataDirectories()
}

func analyze(ctx context.Context, data []byte, f *Facts) error {
	p, perr := parse(data)
	if p == nil || !p.HasNTHdr {
		if perr == nil {
			perr = errors.New("no NT header")
		}
		return fmt.Errorf("pe: not a readable PE file: %w", perr)
	}
	var errs []error
	if perr != nil {
		errs = append(errs, fmt.Errorf("pe: %w", perr))
	}
	hdr(p, f)
	sections(data, p, f)
	if err := tables(data, p, f); err != nil {
		errs = append(errs, err)
	}
	rich(p, f)
	dotnet(p, f)
	if err := ctx.Err(); err != nil {
		return err
	}
	f.Checksum = checksum(data, p)
	au, certStart, certEnd := authenticode(data, p, nil)
	f.Authenticode = au
	overlay(data, p, f, certStart, certEnd)
	anomalies(data, p, f, certStart, certEnd)
	return errors.Join(errs...)
}

// optional returns the fields of either optional header kind.
type optFields struct {
	imageBase               uint64
	entry                   uint32
	subsystem, dllChars     uint16
	checksum                uint32
	sizeOfHeaders           uint32
	numRvaAndSizes          uint32
	dirs                    [16]sw.DataDirectory
	checksumOff, certDirOff uint32
}

func optional(p *sw.File) (o optFields, ok bool) {
	optOff := p.DOSHeader.AddressOfNewEXEHeader + 4 + 20
	switch oh := p.NtHeader.OptionalHeader.(type) {
	case sw.ImageOptionalHeader64:
		o = optFields{oh.ImageBase, oh.AddressOfEntryPoint, uint16(oh.Subsystem), uint16(oh.DllCharacteristics),
			oh.CheckSum, oh.SizeOfHeaders, oh.NumberOfRvaAndSizes, oh.DataDirectory, optOff + 64, optOff + 144}
	case sw.ImageOptionalHeader32:
		o = optFields{uint64(oh.ImageBase), oh.AddressOfEntryPoint, uint16(oh.Subsystem), uint16(oh.DllCharacteristics),
			oh.CheckSum, oh.SizeOfHeaders, oh.NumberOfRvaAndSizes, oh.DataDirectory, optOff + 64, optOff + 128}
	default:
		return o, false
	}
	return o, true
}

func hdr(p *sw.File, f *Facts) {
	fh := p.NtHeader.FileHeader
	f.Machine = machineName(uint16(fh.Machine))
	f.Characteristics = flagNames(uint32(fh.Characteristics), fileCharacteristics)
	f.DLL = fh.Characteristics&0x2000 != 0
	f.RelocsStripped = fh.Characteristics&0x1 != 0
	f.Timestamps.COFFRaw = fh.TimeDateStamp
	f.Timestamps.COFF = stamp(fh.TimeDateStamp)
	o, ok := optional(p)
	if !ok {
		f.DLLCharacteristics = []string{}
		return
	}
	f.Is64 = p.Is64
	f.Bits = 32
	if p.Is64 {
		f.Bits = 64
	}
	f.ImageBase = o.imageBase
	f.EntryPointRVA = o.entry
	f.Subsystem = subsystemName(o.subsystem)
	d := uint32(o.dllChars)
	f.DLLCharacteristics = flagNames(d, dllCharacteristics)
	f.ASLR = d&dllDynamicBase != 0
	f.HighEntropyVA = d&dllHighEntropyVA != 0
	f.DEP = d&dllNXCompat != 0
	f.CFG = d&dllGuardCF != 0
	f.NoSEH = d&dllNoSEH != 0
	f.ForceIntegrity = d&dllForceIntegrity != 0
	f.AppContainer = d&dllAppContainer != 0
}

func stamp(t uint32) string {
	if t == 0 {
		return ""
	}
	return time.Unix(int64(t), 0).UTC().Format(time.RFC3339)
}

func sections(data []byte, p *sw.File, f *Facts) {
	f.Sections = []Section{}
	// Overlapping sections could make entropy read the file once per section.
	budget := 2 * int64(len(data))
	for i, s := range p.Sections {
		if i == maxSections {
			f.SectionsTruncated = true
			break
		}
		h := s.Header
		sec := Section{
			Name:           cleanName(h.Name[:]),
			Flags:          flagNames(h.Characteristics, sectionFlags),
			Perm:           perm(h.Characteristics),
			VirtualAddress: h.VirtualAddress,
			VirtualSize:    h.VirtualSize,
			RawOffset:      h.PointerToRawData,
			RawSize:        h.SizeOfRawData,
		}
		start, end := clamp(int64(h.PointerToRawData), int64(h.SizeOfRawData), int64(len(data)))
		if budget -= end - start; budget >= 0 {
			sec.Entropy = entropy.Of(data[start:end])
		} else {
			sec.EntropySkipped = true
		}
		f.Sections = append(f.Sections, sec)
		if f.EntryPointRVA != 0 && f.EntryPointSection == "" && inSection(h, f.EntryPointRVA) {
			f.EntryPointSection = sec.Name
		}
	}
}

// inSection reports whether rva falls in the section's memory image.
func inSection(h sw.ImageSectionHeader, rva uint32) bool {
	size := max(h.VirtualSize, h.SizeOfRawData)
	return rva >= h.VirtualAddress && uint64(rva) < uint64(h.VirtualAddress)+uint64(size)
}

// clamp returns the part of [off, off+n) inside [0, size).
func clamp(off, n, size int64) (int64, int64) {
	if off > size {
		off = size
	}
	end := off + n
	if end > size || end < off {
		end = size
	}
	return off, end
}

// tables reads the import, delay-import, export and TLS directories. It returns an
// error for an import table the loader could not bind.
func tables(data []byte, p *sw.File, f *Facts) error {
	f.Imports = []string{}
	f.ImportedDLLs = []string{}
	o, ok := optional(p)
	if !ok {
		return nil
	}
	r := newRVAReader(data, p, o)
	dir := func(i int) (sw.DataDirectory, bool) {
		if uint32(i) >= o.numRvaAndSizes || o.dirs[i].VirtualAddress == 0 {
			return sw.DataDirectory{}, false
		}
		return o.dirs[i], true
	}
	var err error
	if d, ok := dir(1); ok {
		var list []importEntry
		list, err = readImports(r, d, f)
		f.ImpHash = imphash(list)
	}
	if d, ok := dir(13); ok {
		readDelayImports(r, d, f)
	}
	if d, ok := dir(0); ok {
		readExports(r, d, f)
	}
	if d, ok := dir(9); ok {
		readTLS(r, d, f)
	}
	if d, ok := dir(6); ok {
		readDebug(r, d, f)
	}
	if d, ok := dir(2); ok {
		f.Version = versionResource(r, d)
	}
	return err
}

// importEntry is one import as imphash sees it.
type importEntry struct {
	dll, name string
	byOrdinal bool
	ordinal   uint32
}

// imphash is pefile's PE.get_imphash: the DLL name lower-cased with a final .ocx, .sys
// or .dll removed, the function name lower-cased or, for an import by ordinal, the name
// pefile's ordlookup knows for ws2_32/wsock32/oleaut32 or "ordN"; joined as "dll.func"
// with commas and MD5-hashed.
func imphash(list []importEntry) string {
	if len(list) == 0 {
		return ""
	}
	var parts []string
	for _, e := range list {
		lib := strings.ToLower(e.dll)
		if i := strings.LastIndexByte(lib, '.'); i >= 0 {
			switch lib[i+1:] {
			case "ocx", "sys", "dll":
				lib = lib[:i]
			}
		}
		fn := e.name
		if e.byOrdinal {
			fn = sw.OrdLookup(strings.ToLower(e.dll), uint64(e.ordinal), true)
		}
		if fn == "" {
			continue
		}
		parts = append(parts, lib+"."+strings.ToLower(fn))
	}
	sum := md5.Sum([]byte(strings.Join(parts, ",")))
	return hex.EncodeToString(sum[:])
}

func rich(p *sw.File, f *Facts) {
	if !p.HasRichHdr {
		return
	}
	f.Rich.Present = true
	for i, c := range p.RichHeader.CompIDs {
		if i == maxRichEntries {
			break
		}
		f.Rich.Entries = append(f.Rich.Entries, RichEntry{ProductID: c.ProdID, Build: c.MinorCV, Count: c.Count})
	}
	if p.RichHeader.DansOffset >= 0 && p.RichHeader.DansOffset <= 0x1000 {
		f.Rich.ChecksumValid = p.RichHeaderChecksum() == p.RichHeader.XORKey
	}
}

func checksum(data []byte, p *sw.File) Checksum {
	o, ok := optional(p)
	if !ok {
		return Checksum{}
	}
	var sum uint64
	add := func(w uint32) {
		sum += uint64(w)
		sum = (sum & 0xffffffff) + (sum >> 32)
	}
	whole := len(data) &^ 3
	for i := 0; i < whole; i += 4 {
		if uint32(i) != o.checksumOff {
			add(binary.LittleEndian.Uint32(data[i:]))
		}
	}
	if whole < len(data) && uint32(whole) != o.checksumOff {
		var w [4]byte
		copy(w[:], data[whole:])
		add(binary.LittleEndian.Uint32(w[:]))
	}
	sum = (sum & 0xffff) + (sum >> 16)
	sum = (sum + (sum >> 16)) & 0xffff
	c := uint32(sum) + uint32(len(data))
	return Checksum{Stored: o.checksum, Computed: c, Valid: c == o.checksum}
}

// overlay reports the bytes after the last section's raw data, less the certificate
// table [certStart, certEnd).
func overlay(data []byte, p *sw.File, f *Facts, certStart, certEnd int64) {
	size := int64(len(data))
	off := p.OverlayOffset
	if off <= 0 || off >= size {
		return
	}
	var c entropy.Counter
	n, first := int64(0), int64(-1)
	add := func(s, e int64) {
		s, e = max(s, off), min(e, size)
		if e > s {
			c.Write(data[s:e])
			n += e - s
			if first < 0 {
				first = s
			}
		}
	}
	if certEnd > certStart {
		add(off, certStart)
		add(certEnd, size)
	} else {
		add(off, size)
	}
	if n == 0 {
		return
	}
	f.Overlay = &Overlay{Offset: first, Size: n, Entropy: c.Entropy()}
}

func anomalies(data []byte, p *sw.File, f *Facts, certStart, certEnd int64) {
	add := func(format string, args ...any) {
		if len(f.Anomalies) < maxAnomalies {
			f.Anomalies = append(f.Anomalies, fmt.Sprintf(format, args...))
		}
	}
	size := int64(len(data))
	var hdrs []sw.ImageSectionHeader
	for i, s := range p.Sections {
		if i == maxSections {
			break
		}
		hdrs = append(hdrs, s.Header)
	}
	for i, h := range hdrs {
		name := cleanName(h.Name[:])
		if h.SizeOfRawData > 0 && int64(h.PointerToRawData)+int64(h.SizeOfRawData) > size {
			add("section %s raw data ends past the end of the file", name)
		}
		if perm(h.Characteristics) == "RWX" {
			add("section %s is writable and executable", name)
		}
		// Pairwise overlap checks are bounded by maxSections² only for small tables.
		if len(hdrs) > 96 {
			continue
		}
		for _, g := range hdrs[i+1:] {
			other := cleanName(g.Name[:])
			if h.SizeOfRawData > 0 && g.SizeOfRawData > 0 && overlaps(h.PointerToRawData, h.SizeOfRawData, g.PointerToRawData, g.SizeOfRawData) {
				add("sections %s and %s overlap in the file", name, other)
			}
			if h.VirtualSize > 0 && g.VirtualSize > 0 && overlaps(h.VirtualAddress, h.VirtualSize, g.VirtualAddress, g.VirtualSize) {
				add("sections %s and %s overlap in memory", name, other)
			}
		}
	}
	if f.EntryPointRVA != 0 {
		var ep *sw.ImageSectionHeader
		for i := range hdrs {
			if inSection(hdrs[i], f.EntryPointRVA) {
				ep = &hdrs[i]
				break
			}
		}
		switch {
		case ep == nil:
			add("entry point 0x%x is outside every section", f.EntryPointRVA)
		default:
			if ep.Characteristics&scnMemWrite != 0 {
				add("entry point is in a writable section (%s)", cleanName(ep.Name[:]))
			}
			if ep.Characteristics&scnMemExecute == 0 {
				add("entry point is in a section that is not executable (%s)", cleanName(ep.Name[:]))
			}
		}
	}
	for _, rva := range f.TLS.CallbackRVAs {
		in := false
		for _, h := range hdrs {
			if inSection(h, uint32(rva)) && rva <= 0xffffffff {
				in = true
				break
			}
		}
		if !in {
			add("TLS callback 0x%x is outside every section", rva)
		}
	}
	if certEnd > certStart && certEnd < size {
		add("%d bytes follow the certificate table", size-certEnd)
	}
	if f.Authenticode.TrailingBytes > 0 {
		add("certificate table holds %d non-zero bytes outside any signature", f.Authenticode.TrailingBytes)
	}
	strtab := coffStringTable(data, p)
	for _, h := range hdrs {
		if name := cleanName(h.Name[:]); len(name) > 1 && name[0] == '/' {
			if n, err := strconv.ParseUint(name[1:], 10, 32); err != nil || n < 4 || n >= strtab {
				add("section name %s refers to no entry of the COFF string table (%d bytes); it is reported as written", name, strtab)
			}
		}
	}
	if at, ok := zipEnd(data); ok {
		add("the file is also a zip archive (end of central directory at offset %d): a self-extracting archive or a polyglot, whose entries are not part of these facts", at)
	}
	if f.Checksum.Stored != 0 && !f.Checksum.Valid {
		add("stored checksum 0x%08x differs from the computed 0x%08x", f.Checksum.Stored, f.Checksum.Computed)
	}
	seen := map[string]bool{}
	for _, s := range f.Anomalies {
		seen[s] = true
	}
	extra := append([]string(nil), p.Anomalies...)
	sort.Strings(extra)
	for _, s := range extra {
		if !seen[s] {
			seen[s] = true
			add("%s", strings.ToValidUTF8(s, "\uFFFD"))
		}
	}
}

// coffStringTable returns the length of the COFF string table (its length field
// included), 0 when the file has none. Long section names ("/4") refer into it.
func coffStringTable(data []byte, p *sw.File) uint64 {
	fh := p.NtHeader.FileHeader
	if fh.PointerToSymbolTable == 0 {
		return 0
	}
	off := uint64(fh.PointerToSymbolTable) + 18*uint64(fh.NumberOfSymbols)
	if off+4 > uint64(len(data)) {
		return 0
	}
	n := uint64(binary.LittleEndian.Uint32(data[off:]))
	return min(n, uint64(len(data))-off)
}

// zipEnd finds a zip end-of-central-directory record whose comment ends the file, where
// zip readers look for it, and returns its offset.
func zipEnd(data []byte) (int64, bool) {
	const recLen, maxComment = 22, 0xffff
	for i := len(data) - recLen; i >= 0 && i >= len(data)-recLen-maxComment; i-- {
		if string(data[i:i+4]) == "PK\x05\x06" && i+recLen+int(binary.LittleEndian.Uint16(data[i+20:])) == len(data) {
			return int64(i), true
		}
	}
	return 0, false
}

func overlaps(a, an, b, bn uint32) bool {
	return uint64(a) < uint64(b)+uint64(bn) && uint64(b) < uint64(a)+uint64(an)
}
