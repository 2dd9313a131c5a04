// Package debugsafe guards the standard library's debug/elf, debug/pe and debug/macho
// against hostile files that are cheap to make and costly to parse.
//
// Those packages copy a name out of a string table for every section or symbol, up to
// the next NUL: a table without NULs named by many headers makes them allocate
// headers × table bytes from a small file (a 373 KB ELF file of 1001 sections naming a
// 300 KiB table costs debug/elf 300 MB). View checks or hides what would cost that before
// a caller opens a file with them; ELFNames reports the cost of an ELF file's section
// names so that a caller that needs the file anyway can parse it without them.
package debugsafe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// MaxNameBytes bounds section headers × section name table bytes (the most debug/elf or
// debug/pe could copy for section names) that View lets through.
const MaxNameBytes = 256 << 20

// maxFatArches bounds the slices of a fat Mach-O file that are prepared.
const maxFatArches = 32

// maxCommandBytes bounds the load commands of one Mach-O image that are read.
const maxCommandBytes = 16 << 20

// ErrCostly is the error View returns for a file it refuses.
var ErrCostly = errors.New("the executable's headers would cost too much memory to parse")

// patch is bytes laid over a file at an offset.
type patch struct {
	off  int64
	data []byte
}

// patchedReader is r with patches laid over it.
type patchedReader struct {
	r       io.ReaderAt
	patches []patch
}

func (p *patchedReader) ReadAt(b []byte, off int64) (int, error) {
	n, err := p.r.ReadAt(b, off)
	for _, pt := range p.patches {
		lo, hi := max(off, pt.off), min(off+int64(n), pt.off+int64(len(pt.data)))
		if lo < hi {
			copy(b[lo-off:hi-off], pt.data[lo-pt.off:hi-pt.off])
		}
	}
	return n, err
}

// View returns a view of the size-byte file in r that the debug packages can open
// without a quadratic allocation: Mach-O symbol table commands (of a thin file or of
// every slice of a fat file) and the PE COFF symbol table are hidden, so the view suits
// callers that need no symbols; an ELF or PE file whose section names could cost more
// than MaxNameBytes, a fat file of more than 32 architectures and a Mach-O image of more
// than 16 MiB of load commands are refused with an error wrapping ErrCostly. Other files
// are returned as they are.
func View(r io.ReaderAt, size int64) (io.ReaderAt, error) {
	var hdr [64]byte
	n, _ := r.ReadAt(hdr[:], 0)
	h := hdr[:n]
	if n < 16 {
		return r, nil
	}
	switch {
	case string(h[:4]) == "\x7fELF":
		if headers, table := ELFNames(r, size); headers > 0 && table > MaxNameBytes/headers {
			return nil, fmt.Errorf("%w: %d sections name a %d-byte string table", ErrCostly, headers, table)
		}
		return r, nil
	case string(h[:2]) == "MZ":
		return safePE(r, h, size)
	}
	switch binary.BigEndian.Uint32(h) {
	case 0xcafebabe, 0xcafebabf:
		return safeFat(r, h, size)
	}
	pr := &patchedReader{r: r}
	if err := hideMachOSymbols(pr, 0, size); err != nil {
		return nil, err
	}
	return pr, nil
}

// ELFNames reports the cost of the section names of the size-byte ELF file in r: the
// number of section headers and the bytes of the section name table that lie in the
// file (debug/elf copies each name from its offset up to the next NUL, so it may copy
// up to headers × table bytes). It follows the extended numbering of section 0 when
// e_shnum or e_shstrndx overflow. It returns zeros when r is not an ELF file or has no
// section name table to read.
func ELFNames(r io.ReaderAt, size int64) (headers, table uint64) {
	var hdr [64]byte
	n, _ := r.ReadAt(hdr[:], 0)
	h := hdr[:n]
	if n < 52 || string(h[:4]) != "\x7fELF" || h[4] == 2 && n < 64 {
		return 0, 0 // debug/elf rejects it
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if h[5] == 2 {
		bo = binary.BigEndian
	}
	is64 := h[4] == 2
	var shoff, shnum, shentsize, shstrndx uint64
	if is64 {
		shoff, shentsize, shnum, shstrndx = bo.Uint64(h[40:]), uint64(bo.Uint16(h[58:])), uint64(bo.Uint16(h[60:])), uint64(bo.Uint16(h[62:]))
	} else {
		shoff, shentsize, shnum, shstrndx = uint64(bo.Uint32(h[32:])), uint64(bo.Uint16(h[46:])), uint64(bo.Uint16(h[48:])), uint64(bo.Uint16(h[50:]))
	}
	if shoff == 0 || shentsize == 0 || shoff > 1<<62 {
		return 0, 0
	}
	// Section 0 holds the real count and index when they overflow 16 bits.
	if shnum == 0 || shstrndx == 0xffff {
		sh0 := make([]byte, min(shentsize, 64))
		if _, err := r.ReadAt(sh0, int64(shoff)); err != nil {
			return 0, 0
		}
		if is64 && len(sh0) >= 44 {
			if shnum == 0 {
				shnum = bo.Uint64(sh0[32:])
			}
			if shstrndx == 0xffff {
				shstrndx = uint64(bo.Uint32(sh0[40:]))
			}
		} else if !is64 && len(sh0) >= 28 {
			if shnum == 0 {
				shnum = uint64(bo.Uint32(sh0[20:]))
			}
			if shstrndx == 0xffff {
				shstrndx = uint64(bo.Uint32(sh0[24:]))
			}
		}
	}
	if shstrndx == 0 || shstrndx >= shnum || shstrndx > 1<<32 {
		return 0, 0
	}
	sh := make([]byte, min(shentsize, 64))
	if _, err := r.ReadAt(sh, int64(shoff+shstrndx*shentsize)); err != nil {
		return 0, 0
	}
	var off, sz uint64
	if is64 && len(sh) >= 40 {
		off, sz = bo.Uint64(sh[24:]), bo.Uint64(sh[32:])
	} else if !is64 && len(sh) >= 24 {
		off, sz = uint64(bo.Uint32(sh[16:])), uint64(bo.Uint32(sh[20:]))
	}
	if size < 0 || off >= uint64(size) {
		return shnum, 0
	}
	return shnum, min(sz, uint64(size)-off)
}

// safePE hides the COFF symbol table (keeping the string table where debug/pe looks for
// it, or hiding it too when it does not lie in the file), bounds sections × string table
// bytes, and renames the sections whose "/N" names debug/pe could not resolve (an offset
// that is not a number or lies outside the string table), which would make it refuse
// the whole file.
func safePE(r io.ReaderAt, h []byte, size int64) (io.ReaderAt, error) {
	if len(h) < 64 {
		return r, nil
	}
	le := binary.LittleEndian
	peOff := int64(le.Uint32(h[0x3c:]))
	var fh [20]byte
	if _, err := r.ReadAt(fh[:], peOff+4); err != nil {
		return r, nil // debug/pe rejects it
	}
	nsect := uint64(le.Uint16(fh[2:]))
	ptr, nsyms := le.Uint32(fh[8:]), le.Uint32(fh[12:])
	pr := &patchedReader{r: r}
	strLen := uint64(0) // the string table bytes after its length field
	if ptr != 0 {
		strOff := ptr + 18*nsyms // as debug/pe computes it, wrapping included
		p := make([]byte, 8)
		var l [4]byte
		if _, err := r.ReadAt(l[:], int64(strOff)); err == nil {
			n := uint64(le.Uint32(l[:]))
			if nsect > 0 && n > MaxNameBytes/nsect {
				return nil, fmt.Errorf("%w: %d sections name a %d-byte string table", ErrCostly, nsect, n)
			}
			if n <= 4 || int64(strOff)+int64(n) <= size {
				le.PutUint32(p, strOff)
				strLen = max(n, 4) - 4
			}
		}
		pr.patches = append(pr.patches, patch{off: peOff + 4 + 8, data: p})
	}
	tabOff := peOff + 24 + int64(le.Uint16(fh[16:]))
	tab := make([]byte, 40*nsect)
	n, _ := r.ReadAt(tab, tabOff)
	tab = tab[:n-n%40]
	renamed := false
	for i := 0; i < len(tab); i += 40 {
		if name := tab[i : i+8]; name[0] == '/' && !resolvable(name, strLen) {
			name[0] = '?'
			renamed = true
		}
	}
	if renamed {
		pr.patches = append(pr.patches, patch{off: tabOff, data: tab})
	}
	if len(pr.patches) == 0 {
		return r, nil
	}
	return pr, nil
}

// resolvable reports whether debug/pe resolves the section name "/N" against a string
// table of strLen bytes after its length field.
func resolvable(name []byte, strLen uint64) bool {
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	n, err := strconv.Atoi(string(name[1:]))
	off := uint64(uint32(n)) // debug/pe's conversion
	return err == nil && off >= 4 && off-4 <= strLen
}

// safeFat hides the symbol tables of every slice of a fat Mach-O file.
func safeFat(r io.ReaderAt, h []byte, size int64) (io.ReaderAt, error) {
	entSize := int64(20)
	if binary.BigEndian.Uint32(h) == 0xcafebabf {
		entSize = 32
	}
	n := int64(binary.BigEndian.Uint32(h[4:]))
	if n > maxFatArches {
		return nil, fmt.Errorf("%w: the fat header declares %d architectures", ErrCostly, n)
	}
	table := make([]byte, n*entSize)
	if _, err := r.ReadAt(table, 8); err != nil {
		return r, nil // debug/macho rejects it
	}
	pr := &patchedReader{r: r}
	for i := int64(0); i < n; i++ {
		e := table[i*entSize:]
		var off, sz int64
		if entSize == 20 {
			off, sz = int64(binary.BigEndian.Uint32(e[8:])), int64(binary.BigEndian.Uint32(e[12:]))
		} else {
			off, sz = int64(binary.BigEndian.Uint64(e[8:])), int64(binary.BigEndian.Uint64(e[16:]))
		}
		if off < 0 || sz < 0 || off > size || sz > size-off {
			continue // debug/macho rejects it
		}
		if err := hideMachOSymbols(pr, off, sz); err != nil {
			return nil, err
		}
	}
	return pr, nil
}

// hideMachOSymbols adds to pr a patch of the Mach-O image at base that turns its
// LC_SYMTAB and LC_DYSYMTAB into commands debug/macho does not interpret.
func hideMachOSymbols(pr *patchedReader, base, size int64) error {
	var hdr [28]byte
	if size < 28 {
		return nil
	}
	if _, err := pr.r.ReadAt(hdr[:], base); err != nil {
		return nil
	}
	var bo binary.ByteOrder
	hdrSize := int64(28)
	switch {
	case binary.LittleEndian.Uint32(hdr[:])&^1 == 0xfeedface:
		bo = binary.LittleEndian
	case binary.BigEndian.Uint32(hdr[:])&^1 == 0xfeedface:
		bo = binary.BigEndian
	default:
		return nil
	}
	if bo.Uint32(hdr[:]) == 0xfeedfacf {
		hdrSize = 32
	}
	ncmds, cmdsz := bo.Uint32(hdr[16:]), int64(bo.Uint32(hdr[20:]))
	if cmdsz > size-hdrSize {
		return nil // debug/macho fails reading them
	}
	if cmdsz > maxCommandBytes {
		return fmt.Errorf("%w: %d bytes of load commands", ErrCostly, cmdsz)
	}
	cmds := make([]byte, cmdsz)
	if _, err := pr.r.ReadAt(cmds, base+hdrSize); err != nil {
		return nil
	}
	dat := cmds
	for i := uint32(0); i < ncmds && len(dat) >= 8; i++ {
		cmd, siz := bo.Uint32(dat), bo.Uint32(dat[4:])
		if siz < 8 || int64(siz) > int64(len(dat)) {
			break
		}
		if cmd == 0x2 || cmd == 0xb {
			bo.PutUint32(dat, 0x7fff0000|cmd)
		}
		dat = dat[siz:]
	}
	pr.patches = append(pr.patches, patch{off: base + hdrSize, data: cmds})
	return nil
}
