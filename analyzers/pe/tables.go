package pe

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"

	sw "github.com/saferwall/pe"
)

// The import, delay-import, export and TLS tables are read here rather than by
// saferwall/pe, whose readers let a crafted file multiply work (every import descriptor
// may point at the same huge thunk table; every export name at the same megabyte-long
// string). Every walk below is bounded by a fixed count.

const (
	// maxImportDLLs bounds the import (and delay-import) descriptors read.
	maxImportDLLs = 4096
	// maxNameLength bounds one DLL or function name, in bytes.
	maxNameLength = 512
)

// rvaReader maps RVAs to file offsets the way the loader lays the file out.
type rvaReader struct {
	data          []byte
	secs          []sw.ImageSectionHeader
	sizeOfHeaders uint32
	is64          bool
	imageBase     uint64
}

func newRVAReader(data []byte, p *sw.File, o optFields) *rvaReader {
	r := &rvaReader{data: data, sizeOfHeaders: o.sizeOfHeaders, is64: p.Is64, imageBase: o.imageBase}
	for i, s := range p.Sections {
		if i == maxSections {
			break
		}
		r.secs = append(r.secs, s.Header)
	}
	return r
}

// offset returns the file offset of rva, and false when no byte of the file backs it.
func (r *rvaReader) offset(rva uint32) (int64, bool) {
	for _, s := range r.secs {
		if s.SizeOfRawData == 0 || rva < s.VirtualAddress {
			continue
		}
		d := rva - s.VirtualAddress
		if d < max(s.VirtualSize, s.SizeOfRawData) {
			if d >= s.SizeOfRawData {
				return 0, false
			}
			off := int64(s.PointerToRawData) + int64(d)
			return off, off < int64(len(r.data))
		}
	}
	if rva < r.sizeOfHeaders && int64(rva) < int64(len(r.data)) {
		return int64(rva), true
	}
	return 0, false
}

func (r *rvaReader) bytes(rva uint32, n int) ([]byte, bool) {
	off, ok := r.offset(rva)
	if !ok || off+int64(n) > int64(len(r.data)) {
		return nil, false
	}
	return r.data[off : off+int64(n)], true
}

func (r *rvaReader) u32(rva uint32) (uint32, bool) {
	b, ok := r.bytes(rva, 4)
	if !ok {
		return 0, false
	}
	return binary.LittleEndian.Uint32(b), true
}

// ptr reads a pointer-sized value (4 or 8 bytes).
func (r *rvaReader) ptr(rva uint32) (uint64, bool) {
	if !r.is64 {
		v, ok := r.u32(rva)
		return uint64(v), ok
	}
	b, ok := r.bytes(rva, 8)
	if !ok {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b), true
}

// cstr reads a NUL-terminated string of at most maxNameLength bytes.
func (r *rvaReader) cstr(rva uint32) (string, bool) {
	off, ok := r.offset(rva)
	if !ok {
		return "", false
	}
	end := min(off+maxNameLength, int64(len(r.data)))
	b := r.data[off:end]
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), true
}

// importTable reads one import lookup table: names as "dll!function" or "dll!#ordinal",
// at most budget of them.
func (r *rvaReader) importTable(dll string, rva uint32, budget int) (names []string, entries []importEntry, truncated bool) {
	size := uint32(4)
	flag := uint64(1) << 31
	if r.is64 {
		size, flag = 8, 1<<63
	}
	for {
		v, ok := r.ptr(rva)
		if !ok || v == 0 {
			return
		}
		if len(names) == budget {
			return names, entries, true
		}
		if v&flag != 0 {
			ord := uint32(v & 0xffff)
			names = append(names, fmt.Sprintf("%s!#%d", dll, ord))
			entries = append(entries, importEntry{dll: dll, byOrdinal: true, ordinal: ord})
		} else {
			fn, _ := r.cstr(uint32(v) + 2)
			names = append(names, dll+"!"+fn)
			entries = append(entries, importEntry{dll: dll, name: fn})
		}
		if rva+size < rva {
			return
		}
		rva += size
	}
}

// readImports reads the import directory. A descriptor whose DLL name or function
// table lies outside the file (which the loader cannot bind) is an anomaly and an error.
func readImports(r *rvaReader, dir sw.DataDirectory, f *Facts) ([]importEntry, error) {
	var all []importEntry
	var bad error
	seen := map[string]bool{}
	for i := uint32(0); i < maxImportDLLs; i++ {
		d, ok := r.bytes(dir.VirtualAddress+20*i, 20)
		if !ok || allZero(d) {
			break
		}
		oft := binary.LittleEndian.Uint32(d)
		nameRVA := binary.LittleEndian.Uint32(d[12:])
		name, nameOK := r.cstr(nameRVA)
		ft := binary.LittleEndian.Uint32(d[16:])
		for _, t := range []struct {
			what string
			rva  uint32
			ok   bool
		}{{"DLL name", nameRVA, nameOK}, {"lookup table", oft, oft == 0 || r.readable(oft)}, {"address table", ft, r.readable(ft)}} {
			if !t.ok {
				msg := fmt.Sprintf("import descriptor %d (%q) has its %s at RVA 0x%x, outside the file", i, name, t.what, t.rva)
				if len(f.Anomalies) < maxAnomalies {
					f.Anomalies = append(f.Anomalies, msg)
				}
				if bad == nil {
					bad = fmt.Errorf("pe: %s: the loader cannot bind these imports", msg)
				}
			}
		}
		if !seen[name] {
			seen[name] = true
			f.ImportedDLLs = append(f.ImportedDLLs, name)
		}
		table := oft
		if table == 0 {
			table = ft
		}
		names, entries, trunc := r.importTable(name, table, maxImports-len(f.Imports))
		f.Imports = append(f.Imports, names...)
		all = append(all, entries...)
		if trunc {
			f.ImportsTruncated = true
			break
		}
	}
	return all, bad
}

// readable reports whether a byte of the file backs rva.
func (r *rvaReader) readable(rva uint32) bool {
	_, ok := r.offset(rva)
	return ok
}

// readDelayImports reads the delay-load import directory.
func readDelayImports(r *rvaReader, dir sw.DataDirectory, f *Facts) {
	for i := uint32(0); i < maxImportDLLs; i++ {
		d, ok := r.bytes(dir.VirtualAddress+32*i, 32)
		if !ok || allZero(d) {
			break
		}
		attrs := binary.LittleEndian.Uint32(d)
		nameRVA := binary.LittleEndian.Uint32(d[4:])
		intRVA := binary.LittleEndian.Uint32(d[16:])
		if attrs&1 == 0 {
			// Version 1 descriptors (Visual C++ 6) hold virtual addresses.
			nameRVA -= uint32(r.imageBase)
			intRVA -= uint32(r.imageBase)
		}
		name, _ := r.cstr(nameRVA)
		names, _, trunc := r.importTable(name, intRVA, maxImports-len(f.DelayImports))
		f.DelayImports = append(f.DelayImports, names...)
		if trunc {
			f.ImportsTruncated = true
			break
		}
	}
}

// readExports reads the export directory, in export address table order.
func readExports(r *rvaReader, dir sw.DataDirectory, f *Facts) {
	d, ok := r.bytes(dir.VirtualAddress, 40)
	if !ok {
		return
	}
	le := binary.LittleEndian
	f.ExportName, _ = r.cstr(le.Uint32(d[12:]))
	base := le.Uint32(d[16:])
	nFuncs, nNames := le.Uint32(d[20:]), le.Uint32(d[24:])
	eat, namesRVA, ordsRVA := le.Uint32(d[28:]), le.Uint32(d[32:]), le.Uint32(d[36:])
	if nFuncs > maxExports {
		nFuncs = maxExports
		f.ExportsTruncated = true
	}
	names := map[uint32]string{}
	for i := uint32(0); i < min(nNames, maxExports); i++ {
		nameRVA, ok1 := r.u32(namesRVA + 4*i)
		ob, ok2 := r.bytes(ordsRVA+2*i, 2)
		if !ok1 || !ok2 {
			break
		}
		idx := uint32(le.Uint16(ob))
		if _, dup := names[idx]; !dup {
			names[idx], _ = r.cstr(nameRVA)
		}
	}
	for i := uint32(0); i < nFuncs; i++ {
		rva, ok := r.u32(eat + 4*i)
		if !ok {
			break
		}
		if rva == 0 {
			continue
		}
		e := Export{Name: names[i], Ordinal: base + i, RVA: rva}
		if rva >= dir.VirtualAddress && uint64(rva) < uint64(dir.VirtualAddress)+uint64(dir.Size) {
			e.Forwarder, _ = r.cstr(rva)
		}
		f.Exports = append(f.Exports, e)
	}
}

// readTLS reads the TLS directory's callback array.
func readTLS(r *rvaReader, dir sw.DataDirectory, f *Facts) {
	off := uint32(12)
	if r.is64 {
		off = 24
	}
	va, ok := r.ptr(dir.VirtualAddress + off)
	if !ok {
		return
	}
	f.TLS.Present = true
	if va == 0 || va < r.imageBase || va-r.imageBase > 0xffffffff {
		return
	}
	rva := uint32(va - r.imageBase)
	step := uint32(4)
	if r.is64 {
		step = 8
	}
	for i := 0; ; i++ {
		cb, ok := r.ptr(rva + uint32(i)*step)
		if !ok || cb == 0 {
			return
		}
		if i == maxTLSCallbacks {
			f.TLS.CallbacksTruncated = true
			return
		}
		f.TLS.Callbacks++
		f.TLS.CallbackRVAs = append(f.TLS.CallbackRVAs, cb-r.imageBase)
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// readDebug reads the debug directory entries and the CodeView PDB path.
func readDebug(r *rvaReader, dir sw.DataDirectory, f *Facts) {
	n := min(dir.Size/28, maxDebug)
	le := binary.LittleEndian
	for i := uint32(0); i < n; i++ {
		d, ok := r.bytes(dir.VirtualAddress+28*i, 28)
		if !ok {
			return
		}
		stamp32, typ := le.Uint32(d[4:]), le.Uint32(d[12:])
		f.Timestamps.Debug = append(f.Timestamps.Debug, DebugEntry{Type: debugTypeName(typ), TimeDateStamp: stamp32, Time: stamp(stamp32)})
		if typ != 2 || f.Timestamps.PDBPath != "" {
			continue
		}
		size, off := int64(le.Uint32(d[16:])), int64(le.Uint32(d[24:]))
		_, end := clamp(off, min(size, 4096), int64(len(r.data)))
		if off >= end {
			continue
		}
		cv := r.data[off:end]
		var path []byte
		switch {
		case len(cv) > 24 && string(cv[:4]) == "RSDS":
			path = cv[24:]
		case len(cv) > 16 && string(cv[:4]) == "NB10":
			path = cv[16:]
		}
		if i := strings.IndexByte(string(path), 0); i >= 0 {
			path = path[:i]
		}
		f.Timestamps.PDBPath = strings.ToValidUTF8(string(path), "\uFFFD")
	}
}

// maxResourceEntries bounds the entries looked at in one resource directory, and
// maxResourceFanout the names and languages tried below the version type.
const (
	maxResourceEntries = 4096
	maxResourceFanout  = 16
)

// resourceEntries returns the (id or name, offset) pairs of the resource directory at
// offset off from the resource root.
func resourceEntries(r *rvaReader, root, off uint32, limit int) [][2]uint32 {
	h, ok := r.bytes(root+off, 16)
	if !ok {
		return nil
	}
	n := min(int(binary.LittleEndian.Uint16(h[12:]))+int(binary.LittleEndian.Uint16(h[14:])), limit)
	var out [][2]uint32
	for i := 0; i < n; i++ {
		e, ok := r.bytes(root+off+16+uint32(8*i), 8)
		if !ok {
			break
		}
		out = append(out, [2]uint32{binary.LittleEndian.Uint32(e), binary.LittleEndian.Uint32(e[4:])})
	}
	return out
}

// versionResource finds the data of the first RT_VERSION resource that yields strings.
func versionResource(r *rvaReader, dir sw.DataDirectory) map[string]string {
	const subdir = 0x80000000
	root := dir.VirtualAddress
	for _, typ := range resourceEntries(r, root, 0, maxResourceEntries) {
		if typ[0] != sw.VersionResourceType || typ[1]&subdir == 0 {
			continue
		}
		for _, name := range resourceEntries(r, root, typ[1]&^subdir, maxResourceFanout) {
			if name[1]&subdir == 0 {
				continue
			}
			for _, lang := range resourceEntries(r, root, name[1]&^subdir, maxResourceFanout) {
				if lang[1]&subdir != 0 {
					continue
				}
				d, ok := r.bytes(root+lang[1], 8)
				if !ok {
					continue
				}
				rva, size := binary.LittleEndian.Uint32(d), binary.LittleEndian.Uint32(d[4:])
				off, ok := r.offset(rva)
				if !ok {
					continue
				}
				_, end := clamp(off, int64(min(size, maxVersionResource)), int64(len(r.data)))
				out := map[string]string{}
				walkVersion(r.data[off:end], 0, "", out)
				if len(out) > 0 {
					return out
				}
			}
		}
		return nil
	}
	return nil
}

// maxMetadataRows bounds the metadata table rows a .NET assembly may claim before its
// tables are left unread (saferwall/pe allocates every claimed row).
const maxMetadataRows = 1 << 20

// metadataSane reports whether the CLR metadata tables stream claims no more rows than
// maxMetadataRows and than its own size can hold (every row takes at least 2 bytes).
func metadataSane(r *rvaReader, dir sw.DataDirectory) bool {
	le := binary.LittleEndian
	cor, ok := r.bytes(dir.VirtualAddress, 16)
	if !ok {
		return true // saferwall stops at the same place
	}
	md := le.Uint32(cor[8:])
	root, ok := r.bytes(md, 16)
	if !ok || le.Uint32(root) != 0x424a5342 {
		return true
	}
	vlen := le.Uint32(root[12:])
	if vlen > 255 {
		return false
	}
	h, ok := r.bytes(md+16+vlen, 4)
	if !ok {
		return true
	}
	n := int(le.Uint16(h[2:]))
	pos := md + 16 + vlen + 4
	for i := 0; i < n && i < 64; i++ {
		sh, ok := r.bytes(pos, 8)
		if !ok {
			return true
		}
		soff, ssize := le.Uint32(sh), le.Uint32(sh[4:])
		name, _ := r.cstr(pos + 8)
		if len(name) > 32 {
			return false
		}
		pos += 8 + uint32(align4(len(name)+1))
		if name != "#~" && name != "#-" {
			continue
		}
		th, ok := r.bytes(md+soff, 24)
		if !ok {
			return true
		}
		valid := le.Uint64(th[8:])
		rows := uint64(0)
		for bit := 0; bit < 64; bit++ {
			if valid&(1<<bit) == 0 {
				continue
			}
			v, ok := r.u32(md + soff + 24 + uint32(4*bits.OnesCount64(valid&(1<<bit-1))))
			if !ok {
				return false
			}
			rows += uint64(v)
		}
		return rows <= maxMetadataRows && rows*2 <= uint64(ssize)
	}
	return true
}
