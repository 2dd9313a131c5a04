package archive

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"sort"
	"time"

	"kensa.dev/kensa/internal/limits"
)

// This reader parses the zip structure itself rather than through archive/zip: archive/zip
// reads every central directory record it finds before a caller can bound their number
// (it compares the count with the end record only modulo 65536), and it hides the offsets
// needed to find overlapping entries and to compare local headers with the central
// directory. Decompression is compress/flate, compress/bzip2 and this package's bounded
// zstd and xz readers.

const (
	zipLocalSig    = 0x04034b50
	zipCentralSig  = 0x02014b50
	zipEndSig      = 0x06054b50
	zip64EndSig    = 0x06064b50
	zip64LocSig    = 0x07064b50
	zipDescSig     = 0x08074b50
	zipDigSigSig   = 0x05054b50
	zipEndLen      = 22
	zipCentralLen  = 46
	zipLocalLen    = 30
	zip64EndLen    = 56
	zip64LocLen    = 20
	zipMaxAnomalys = 16
	// The general-purpose flags that change how an entry reads: encrypted, data
	// descriptor, strong encryption, UTF-8 names.
	zipCompareFlags = 0x1 | 0x8 | 0x40 | 0x800
)

// ZipInfo describes a zip archive as a whole.
type ZipInfo struct {
	// Prefix is the number of bytes before the first entry: a self-extractor stub, a
	// script, or anything else prepended to the archive.
	Prefix int64
	// Trailing is the number of bytes after the end-of-central-directory record and its
	// comment.
	Trailing int64
	// Comment is the archive comment.
	Comment string
	// Zip64 reports whether the archive uses zip64 end records.
	Zip64 bool
	// Entries is the number of entries in the central directory.
	Entries int
	// Anomalies are structural oddities of the archive as a whole: bytes that belong to no
	// entry, more than one plausible end record (a fake one in the comment), offsets
	// relative to a prepended stub.
	Anomalies []string
}

// ZipReader reads a zip (or jar) archive. It implements Reader: Next returns the entries
// in central directory order, the order in which the archive declares them.
type ZipReader struct {
	ra     io.ReaderAt
	size   int64
	lim    *limits.Limits
	budget *limits.Budget
	info   ZipInfo

	entries []zipEntry
	next    int

	cur     *zipEntry
	pre     []byte // content already read (a symlink target), served before body
	body    io.Reader
	bodyErr error
	opened  bool
	closer  func() error
}

type zipEntry struct {
	name     string
	flags    uint16
	method   uint16
	crc      uint32
	csize    uint64
	usize    uint64
	hdrOff   int64
	dataOff  int64
	zip64    bool
	entry    Entry
	mismatch string // how the local header disagrees with the central record
}

type zipEnd struct {
	pos     int64 // offset of the end record
	end     int64 // offset just past its comment
	dirEnd  int64 // where the central directory must end (the zip64 end record, if any)
	records uint64
	cdStart int64
	cdSize  int64
	base    int64
	comment string
	zip64   bool
	notes   []string
}

// NewZip reads the central directory of the zip archive in ra (size bytes) and checks the
// archive's structure before any entry is read:
//
//   - the entry count the end record declares is checked against lim.Entries (a
//     *limits.Error) and against the size of the central directory before anything is
//     allocated for it (Z2);
//   - every local header is read and compared with its central record (name, method,
//     flags, CRC and sizes); an entry whose headers disagree is still listed, with an
//     anomaly, but its Read fails with ErrHeaderMismatch, so that the archive has one
//     interpretation (Z3);
//   - entries that share bytes with each other or with the central directory fail the
//     whole archive with ErrOverlap (the overlapping-entry bomb, Z5);
//   - data before the first entry, after the end record, and between entries is reported
//     by Info (Z8); names used twice carry an anomaly on the later entry (Z9).
//
// When the archive holds more than one plausible end-of-central-directory record (a fake
// one in the comment), the last one in the file wins, as with archive/zip and Info-ZIP, and
// Info notes the others. Read fails for encrypted entries (ErrEncrypted), for compression
// methods other than store, deflate, bzip2, zstd (93) and xz (95) (ErrUnsupported), and at
// the end of an entry whose CRC-32 or size differs from the central directory
// (ErrChecksum); decompression is bounded by a Guard (lim.EntrySize, lim.Ratio, budget).
func NewZip(ra io.ReaderAt, size int64, lim *limits.Limits, budget *limits.Budget) (*ZipReader, error) {
	if size < zipEndLen {
		return nil, formatErr("zip", -1, "too small to be a zip archive", nil)
	}
	z := &ZipReader{ra: ra, size: size, lim: lim, budget: budget}
	end, err := z.findEnd()
	if err != nil {
		return nil, err
	}
	z.info.Comment = end.comment
	z.info.Zip64 = end.zip64
	z.info.Trailing = size - end.end
	z.info.Anomalies = append(z.info.Anomalies, end.notes...)
	if err := z.readDirectory(end); err != nil {
		return nil, err
	}
	if err := z.readLocalHeaders(); err != nil {
		return nil, err
	}
	if err := z.checkLayout(end); err != nil {
		return nil, err
	}
	var names nameSet
	for i := range z.entries {
		e := &z.entries[i]
		if prev, dup := names.add(e.name, int64(i), lim); dup {
			e.entry.Anomalies = append(e.entry.Anomalies, duplicateAnomaly(prev))
		}
	}
	z.info.Entries = len(z.entries)
	return z, nil
}

// Info describes the archive as a whole.
func (z *ZipReader) Info() ZipInfo {
	info := z.info
	info.Anomalies = append([]string(nil), z.info.Anomalies...)
	return info
}

func (z *ZipReader) readAt(n int, off int64) ([]byte, error) {
	if off < 0 || off > z.size || int64(n) > z.size-off {
		return nil, formatErr("zip", off, fmt.Sprintf("%d bytes at offset %d run past the end of the archive", n, off), io.ErrUnexpectedEOF)
	}
	b := make([]byte, n)
	m, err := z.ra.ReadAt(b, off)
	if m == n {
		return b, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, formatErr("zip", off, "reading archive", err)
}

// findEnd finds the end-of-central-directory record: the last one in the file that points
// at a central directory.
func (z *ZipReader) findEnd() (*zipEnd, error) {
	tailLen := min(z.size, zipEndLen+0xffff)
	tail, err := z.readAt(int(tailLen), z.size-tailLen)
	if err != nil {
		return nil, err
	}
	var chosen *zipEnd
	var firstErr error
	var others []int64
	for i := len(tail) - zipEndLen; i >= 0; i-- {
		if binary.LittleEndian.Uint32(tail[i:]) != zipEndSig {
			continue
		}
		pos := z.size - tailLen + int64(i)
		d, err := z.parseEnd(tail[i:], pos)
		if limits.IsLimit(err) && chosen == nil {
			// The record that would be used declares too many entries.
			return nil, err
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if chosen == nil {
			chosen = d
		} else {
			others = append(others, pos)
		}
	}
	if chosen == nil {
		if firstErr != nil {
			return nil, firstErr
		}
		return nil, formatErr("zip", -1, "no end-of-central-directory record: not a zip archive, or truncated", nil)
	}
	for _, p := range others {
		chosen.notes = append(chosen.notes, fmt.Sprintf("another end-of-central-directory record at offset %d (in the comment or in data); this reader uses the one at %d", p, chosen.pos))
	}
	return chosen, nil
}

func (z *ZipReader) parseEnd(b []byte, pos int64) (*zipEnd, error) {
	le := binary.LittleEndian
	disk, cdDisk := le.Uint16(b[4:]), le.Uint16(b[6:])
	recDisk, records := le.Uint16(b[8:]), le.Uint16(b[10:])
	cdSize, cdOff := le.Uint32(b[12:]), le.Uint32(b[16:])
	clen := int(le.Uint16(b[20:]))
	if zipEndLen+clen > len(b) {
		return nil, formatErr("zip", pos, "end record's comment runs past the end of the file", nil)
	}
	d := &zipEnd{pos: pos, end: pos + zipEndLen + int64(clen), dirEnd: pos, comment: string(b[zipEndLen : zipEndLen+clen])}
	d.records, d.cdSize = uint64(records), int64(cdSize)
	off := uint64(cdOff)
	if records == 0xffff || recDisk == 0xffff || cdSize == 0xffffffff || cdOff == 0xffffffff {
		if z64, err := z.parseEnd64(pos); err != nil {
			return nil, err
		} else if z64 != nil {
			d.zip64 = true
			d.dirEnd = z64.pos
			d.records, off = z64.records, z64.cdOff
			if z64.cdSize > uint64(z.size) || off > uint64(z.size) {
				return nil, formatErr("zip", z64.pos, "zip64 end record points past the end of the file", nil)
			}
			d.cdSize = int64(z64.cdSize)
			disk, cdDisk = 0, 0
			if z64.disk != 0 || z64.cdDisk != 0 {
				disk = 1
			}
		}
	}
	if disk != 0 || cdDisk != 0 || (!d.zip64 && recDisk != records) {
		return nil, formatErr("zip", pos, "multi-disk (spanned) archives are not supported", ErrUnsupported)
	}
	// Offsets are relative to the start of the zip proper. If something was prepended and
	// the offsets were not adjusted (zip -A does that), the directory sits base bytes later.
	base := d.dirEnd - d.cdSize - int64(off)
	if base < 0 {
		return nil, formatErr("zip", pos, "central directory would start before the beginning of the file", nil)
	}
	if d.records > uint64(z.lim.Entries) {
		return nil, &limits.Error{Limit: "entries", Value: z.lim.Entries,
			What: fmt.Sprintf("zip archive declaring %d entries", d.records)}
	}
	if d.records > uint64(d.cdSize)/zipCentralLen {
		return nil, formatErr("zip", pos, fmt.Sprintf("end record declares %d entries but the central directory of %d bytes holds at most %d",
			d.records, d.cdSize, d.cdSize/zipCentralLen), nil)
	}
	d.cdStart = base + int64(off)
	if d.records > 0 && !z.centralAt(d.cdStart) {
		if base > 0 && z.centralAt(int64(off)) && int64(off)+d.cdSize <= d.dirEnd {
			base, d.cdStart = 0, int64(off)
		} else {
			return nil, formatErr("zip", pos, "end record does not point at a central directory", nil)
		}
	}
	d.base = base
	if base > 0 {
		d.notes = append(d.notes, fmt.Sprintf("offsets in the archive are relative to byte %d: %d bytes were prepended without adjusting them", base, base))
	}
	return d, nil
}

type zip64End struct {
	pos                    int64
	disk, cdDisk           uint32
	records, cdSize, cdOff uint64
}

// parseEnd64 reads the zip64 end record through the locator before the end record at pos;
// nil without error when there is no locator.
func (z *ZipReader) parseEnd64(pos int64) (*zip64End, error) {
	if pos < zip64LocLen+zip64EndLen {
		return nil, nil
	}
	loc, err := z.readAt(zip64LocLen, pos-zip64LocLen)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	if le.Uint32(loc) != zip64LocSig {
		return nil, nil
	}
	stated := le.Uint64(loc[8:])
	// The record normally ends where the locator starts; the locator's offset may be
	// relative to a prepended stub, so prefer the record found where it must end.
	var at int64 = -1
	for _, cand := range []int64{pos - zip64LocLen - zip64EndLen, int64(min(stated, uint64(z.size)))} {
		if cand < 0 || cand+zip64EndLen > pos-zip64LocLen {
			continue
		}
		b, err := z.readAt(4, cand)
		if err == nil && le.Uint32(b) == zip64EndSig {
			at = cand
			break
		}
	}
	if at < 0 {
		return nil, formatErr("zip", pos, "zip64 locator does not point at a zip64 end record", nil)
	}
	b, err := z.readAt(zip64EndLen, at)
	if err != nil {
		return nil, err
	}
	return &zip64End{
		pos: at, disk: le.Uint32(b[16:]), cdDisk: le.Uint32(b[20:]),
		records: le.Uint64(b[32:]), cdSize: le.Uint64(b[40:]), cdOff: le.Uint64(b[48:]),
	}, nil
}

func (z *ZipReader) centralAt(off int64) bool {
	b, err := z.readAt(4, off)
	return err == nil && binary.LittleEndian.Uint32(b) == zipCentralSig
}

// readDirectory reads exactly the number of central records the end record declares.
func (z *ZipReader) readDirectory(end *zipEnd) error {
	if end.cdStart+end.cdSize > end.dirEnd {
		return formatErr("zip", end.cdStart, "central directory overlaps its end record", ErrOverlap)
	}
	br := bufio.NewReaderSize(io.NewSectionReader(z.ra, end.cdStart, end.cdSize), 64<<10)
	z.entries = make([]zipEntry, 0, min(end.records, 1<<12)) // grows as records are read
	var hdr [zipCentralLen]byte
	off := end.cdStart
	le := binary.LittleEndian
	for i := uint64(0); i < end.records; i++ {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return formatErr("zip", off, fmt.Sprintf("central directory ends after %d of %d records", i, end.records), io.ErrUnexpectedEOF)
		}
		if le.Uint32(hdr[:]) != zipCentralSig {
			return formatErr("zip", off, fmt.Sprintf("central directory record %d has no signature", i), nil)
		}
		nameLen, extraLen, commentLen := int(le.Uint16(hdr[28:])), int(le.Uint16(hdr[30:])), int(le.Uint16(hdr[32:]))
		vars, err := readAllBounded(br, int64(nameLen+extraLen+commentLen))
		if err != nil {
			return formatErr("zip", off, fmt.Sprintf("central directory record %d is truncated", i), io.ErrUnexpectedEOF)
		}
		e := zipEntry{
			name:   string(vars[:nameLen]),
			flags:  le.Uint16(hdr[8:]),
			method: le.Uint16(hdr[10:]),
			crc:    le.Uint32(hdr[16:]),
			csize:  uint64(le.Uint32(hdr[20:])),
			usize:  uint64(le.Uint32(hdr[24:])),
		}
		diskStart := uint32(le.Uint16(hdr[34:]))
		localOff := uint64(le.Uint32(hdr[42:]))
		extra := vars[nameLen : nameLen+extraLen]
		if e.usize == 0xffffffff || e.csize == 0xffffffff || localOff == 0xffffffff || diskStart == 0xffff {
			f, ok := zipExtra(extra, 0x0001)
			need := func(v *uint64) bool {
				if *v != 0xffffffff {
					return true
				}
				if len(f) < 8 {
					return false
				}
				*v, f = le.Uint64(f), f[8:]
				return true
			}
			if !ok || !need(&e.usize) || !need(&e.csize) || !need(&localOff) {
				return formatErr("zip", off, fmt.Sprintf("record %d (%s) needs a zip64 extra field it lacks", i, quoteName(e.name)), nil)
			}
			e.zip64 = true
			if diskStart == 0xffff && len(f) >= 4 {
				diskStart = le.Uint32(f)
			}
		}
		if diskStart != 0 {
			return formatErr("zip", off, "entry on another disk: multi-disk archives are not supported", ErrUnsupported)
		}
		if localOff > uint64(z.size) {
			return formatErr("zip", off, fmt.Sprintf("record %d (%s) points past the end of the file", i, quoteName(e.name)), io.ErrUnexpectedEOF)
		}
		e.hdrOff = end.base + int64(localOff)
		z.describe(&e, hdr[:], extra)
		z.entries = append(z.entries, e)
		off += int64(zipCentralLen + len(vars))
	}
	rest := end.cdStart + end.cdSize - off
	if rest > 0 {
		head, _ := br.Peek(4)
		switch {
		case len(head) == 4 && le.Uint32(head) == zipCentralSig:
			return formatErr("zip", off, fmt.Sprintf("central directory holds more records than the %d its end record declares", end.records), ErrHeaderMismatch)
		case len(head) == 4 && le.Uint32(head) == zipDigSigSig:
		default:
			z.note(fmt.Sprintf("%d bytes of unknown data at the end of the central directory", rest))
		}
	}
	return nil
}

func (z *ZipReader) note(s string) {
	switch n := len(z.info.Anomalies); {
	case n < zipMaxAnomalys:
		z.info.Anomalies = append(z.info.Anomalies, s)
	case n == zipMaxAnomalys:
		z.info.Anomalies = append(z.info.Anomalies, "more anomalies not listed")
	}
}

// zipExtra returns the data of the extra field with the given id.
func zipExtra(extra []byte, id uint16) ([]byte, bool) {
	for len(extra) >= 4 {
		tag, n := binary.LittleEndian.Uint16(extra), int(binary.LittleEndian.Uint16(extra[2:]))
		extra = extra[4:]
		if n > len(extra) {
			return nil, false
		}
		if tag == id {
			return extra[:n], true
		}
		extra = extra[n:]
	}
	return nil, false
}

// describe fills the Entry of a central record: type, mode, times and owner.
func (z *ZipReader) describe(e *zipEntry, hdr, extra []byte) {
	le := binary.LittleEndian
	made := le.Uint16(hdr[4:])
	extAttr := le.Uint32(hdr[38:])
	ent := &e.entry
	ent.Name = e.name
	ent.Size = -1
	if e.usize <= 1<<62 {
		ent.Size = int64(e.usize)
	}
	ent.ModTime = msDosTime(le.Uint16(hdr[14:]), le.Uint16(hdr[12:]))
	if f, ok := zipExtra(extra, 0x5455); ok && len(f) >= 5 && f[0]&1 != 0 {
		ent.ModTime = time.Unix(int64(int32(le.Uint32(f[1:]))), 0).UTC()
	}
	if f, ok := zipExtra(extra, 0x7875); ok && len(f) >= 3 && f[0] == 1 {
		if n := int(f[1]); n <= 8 && len(f) >= 3+n {
			uid := leUint(f[2 : 2+n])
			if m := int(f[2+n]); m <= 8 && len(f) >= 3+n+m {
				gid := leUint(f[3+n : 3+n+m])
				if uid <= 1<<31 && gid <= 1<<31 {
					ent.UID, ent.GID = int(uid), int(gid)
				}
			}
		}
	}
	ent.Type = Regular
	ent.Mode = 0o666
	switch made >> 8 {
	case 3, 19: // Unix, OS X
		if m := uint64(extAttr >> 16); m != 0 {
			t, _ := unixType(m)
			ent.Type = t
			ent.Mode = unixMode(m)
			break
		}
		fallthrough
	default: // MS-DOS attributes
		if extAttr&0x10 != 0 {
			ent.Type = Dir
			ent.Mode = 0o777
		} else if extAttr&0x01 != 0 {
			ent.Mode = 0o444
		}
	}
	if len(e.name) > 0 && e.name[len(e.name)-1] == '/' && ent.Type != Dir {
		if ent.Type != Regular {
			ent.Anomalies = append(ent.Anomalies, fmt.Sprintf("name ends in / but the mode says %s", ent.Type))
		}
		ent.Type = Dir
		if ent.Mode == 0o666 {
			ent.Mode = 0o777
		}
	}
	if a := contentOnNonFile(ent.Type, ent.Size); a != "" && ent.Type != Symlink {
		ent.Anomalies = append(ent.Anomalies, a)
	}
}

func leUint(b []byte) uint64 {
	var x uint64
	for i := len(b) - 1; i >= 0; i-- {
		x = x<<8 | uint64(b[i])
	}
	return x
}

func msDosTime(date, tm uint16) time.Time {
	return time.Date(int(date>>9)+1980, time.Month(date>>5&0xf), int(date&0x1f),
		int(tm>>11), int(tm>>5&0x3f), int(tm&0x1f)*2, 0, time.UTC)
}

// readLocalHeaders reads every local header, works out where each entry's data lies, and
// notes how a local header disagrees with its central record.
func (z *ZipReader) readLocalHeaders() error {
	le := binary.LittleEndian
	for i := range z.entries {
		e := &z.entries[i]
		h, err := z.readAt(zipLocalLen, e.hdrOff)
		if err != nil {
			return err
		}
		if le.Uint32(h) != zipLocalSig {
			e.mismatch = "no local header at the offset the central directory gives"
			e.dataOff = e.hdrOff + zipLocalLen
			continue
		}
		nameLen, extraLen := int(le.Uint16(h[26:])), int(le.Uint16(h[28:]))
		vars, err := z.readAt(nameLen+extraLen, e.hdrOff+zipLocalLen)
		if err != nil {
			return err
		}
		e.dataOff = e.hdrOff + zipLocalLen + int64(nameLen+extraLen)
		if e.csize > uint64(z.size-e.dataOff) {
			return formatErr("zip", e.hdrOff, fmt.Sprintf("entry %s declares %d compressed bytes, more than the archive holds after it", quoteName(e.name), e.csize), io.ErrUnexpectedEOF)
		}
		flags, method := le.Uint16(h[6:]), le.Uint16(h[8:])
		crc, csize, usize := le.Uint32(h[14:]), uint64(le.Uint32(h[18:])), uint64(le.Uint32(h[22:]))
		var diffs []string
		if lname := string(vars[:nameLen]); lname != e.name {
			diffs = append(diffs, "name "+quoteName(lname))
		}
		if method != e.method {
			diffs = append(diffs, fmt.Sprintf("method %d (central %d)", method, e.method))
		}
		if flags&zipCompareFlags != e.flags&zipCompareFlags {
			diffs = append(diffs, fmt.Sprintf("flags 0x%x (central 0x%x)", flags&zipCompareFlags, e.flags&zipCompareFlags))
		}
		if flags&0x8 == 0 {
			if csize == 0xffffffff || usize == 0xffffffff {
				if f, ok := zipExtra(vars[nameLen:], 0x0001); ok && len(f) >= 16 {
					usize, csize = le.Uint64(f), le.Uint64(f[8:])
				}
			}
			if crc != e.crc {
				diffs = append(diffs, fmt.Sprintf("CRC-32 %08x (central %08x)", crc, e.crc))
			}
			if csize != e.csize {
				diffs = append(diffs, fmt.Sprintf("compressed size %d (central %d)", csize, e.csize))
			}
			if usize != e.usize {
				diffs = append(diffs, fmt.Sprintf("size %d (central %d)", usize, e.usize))
			}
		}
		if len(diffs) > 0 {
			e.mismatch = "local header has " + joinList(diffs)
		}
	}
	for i := range z.entries {
		if e := &z.entries[i]; e.mismatch != "" {
			e.entry.Anomalies = append(e.entry.Anomalies, e.mismatch)
		}
	}
	return nil
}

func joinList(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(x)
	}
	return b.String()
}

type zipSpan struct {
	start, end int64
	entry      int  // index of the entry, or spanDirectory, spanEnd
	desc       bool // an entry with a data descriptor after its data
}

const (
	spanDirectory = -1
	spanEnd       = -2
)

func (z *ZipReader) spanName(s zipSpan) string {
	switch s.entry {
	case spanDirectory:
		return "central directory"
	case spanEnd:
		return "end records"
	}
	return "entry " + quoteName(z.entries[s.entry].name)
}

// checkLayout fails on overlapping entries and notes bytes that belong to nothing.
func (z *ZipReader) checkLayout(end *zipEnd) error {
	spans := make([]zipSpan, 0, len(z.entries)+2)
	for i := range z.entries {
		e := &z.entries[i]
		spans = append(spans, zipSpan{e.hdrOff, e.dataOff + int64(e.csize), i, e.flags&0x8 != 0})
	}
	if end.cdSize > 0 {
		spans = append(spans, zipSpan{end.cdStart, end.cdStart + end.cdSize, spanDirectory, false})
	}
	spans = append(spans, zipSpan{end.dirEnd, end.end, spanEnd, false})
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	z.info.Prefix = spans[0].start
	for i := 1; i < len(spans); i++ {
		prev, cur := spans[i-1], spans[i]
		if cur.start < prev.end {
			return formatErr("zip", cur.start, fmt.Sprintf("%s overlaps %s (bytes %d to %d)", z.spanName(cur), z.spanName(prev), cur.start, min(prev.end, cur.end)), ErrOverlap)
		}
		gap := cur.start - prev.end
		if gap == 0 || (prev.desc && (gap == 12 || gap == 16 || gap == 20 || gap == 24)) {
			continue
		}
		z.note(fmt.Sprintf("%d bytes between %s and %s belong to no entry", gap, z.spanName(prev), z.spanName(cur)))
	}
	return nil
}

// Next advances to the next entry in central directory order.
func (z *ZipReader) Next() (*Entry, error) {
	z.closeBody()
	if z.next >= len(z.entries) {
		z.cur = nil
		return nil, io.EOF
	}
	z.cur = &z.entries[z.next]
	z.next++
	e := z.cur.entry
	e.Anomalies = append([]string(nil), e.Anomalies...)
	if e.Type == Symlink {
		z.readLink(&e)
	}
	return &e, nil
}

// readLink reads a symbolic link's target (its content) into Linkname, up to
// lim.PathLength bytes; Read still returns the content.
func (z *ZipReader) readLink(e *Entry) {
	z.opened = true
	z.body, z.bodyErr = z.open(z.cur)
	if z.bodyErr != nil {
		return
	}
	target, err := io.ReadAll(io.LimitReader(z.body, int64(z.lim.PathLength)+1))
	z.pre = target
	if err != nil {
		z.bodyErr = err
		return
	}
	if len(target) > z.lim.PathLength {
		e.Anomalies = append(e.Anomalies, fmt.Sprintf("symbolic link target longer than the path-length limit of %d bytes", z.lim.PathLength))
		return
	}
	e.Linkname = string(target)
}

func (z *ZipReader) closeBody() {
	if z.closer != nil {
		z.closer()
	}
	z.pre, z.body, z.bodyErr, z.opened, z.closer = nil, nil, nil, false, nil
}

// Read reads the content of the current entry, decompressed and checked.
func (z *ZipReader) Read(p []byte) (int, error) {
	if z.cur == nil {
		return 0, io.EOF
	}
	if len(z.pre) > 0 {
		n := copy(p, z.pre)
		z.pre = z.pre[n:]
		return n, nil
	}
	if !z.opened {
		z.opened = true
		z.body, z.bodyErr = z.open(z.cur)
	}
	if z.bodyErr != nil {
		return 0, z.bodyErr
	}
	n, err := z.body.Read(p)
	if err != nil && err != io.EOF {
		z.bodyErr = err
	}
	return n, err
}

func (z *ZipReader) entryErr(e *zipEntry, reason string, err error) error {
	return &FormatError{Format: "zip", Offset: e.hdrOff, Entry: e.name, Reason: reason, Err: err}
}

// zipMethods names the compression methods of APPNOTE 4.4.5 this reader may meet.
var zipMethods = map[uint16]string{
	0: "store", 1: "shrink", 6: "implode", 8: "deflate", 9: "deflate64", 10: "PKWARE DCL implode",
	12: "bzip2", 14: "LZMA", 18: "IBM TERSE", 19: "IBM LZ77", 93: "zstd", 95: "xz", 96: "JPEG",
	97: "WavPack", 98: "PPMd", 99: "AES encryption",
}

func (z *ZipReader) open(e *zipEntry) (io.Reader, error) {
	if e.mismatch != "" {
		return nil, z.entryErr(e, e.mismatch+"; the archive reads differently depending on the reader", ErrHeaderMismatch)
	}
	if e.flags&0x41 != 0 || e.method == 99 {
		return nil, z.entryErr(e, "content is encrypted and cannot be inspected", ErrEncrypted)
	}
	sec := &countingReader{r: io.NewSectionReader(z.ra, e.dataOff, int64(e.csize))}
	var dec io.Reader
	switch e.method {
	case 0:
		if e.csize != e.usize {
			return nil, z.entryErr(e, fmt.Sprintf("stored entry with compressed size %d and size %d", e.csize, e.usize), ErrHeaderMismatch)
		}
		dec = sec
	case 8:
		fr := flate.NewReader(sec)
		dec, z.closer = fr, fr.Close
	case 12:
		dec, z.closer, _ = newDecompressor(Bzip2, sec, z.lim)
	case 93, 95:
		c := Zstd
		if e.method == 95 {
			c = XZ
		}
		var err error
		if dec, z.closer, err = newDecompressor(c, sec, z.lim); err != nil {
			return nil, z.entryErr(e, "opening "+c.String()+" data", err)
		}
	default:
		name := zipMethods[e.method]
		if name == "" {
			name = "unknown"
		}
		return nil, z.entryErr(e, fmt.Sprintf("compression method %d (%s) is not supported; supported: store, deflate, bzip2, zstd, xz", e.method, name), ErrUnsupported)
	}
	g := &Guard{R: dec, In: sec.Count, Lim: z.lim, Budget: z.budget, What: "zip entry " + quoteName(e.name)}
	return &zipBody{z: z, e: e, r: g, crc: crc32.NewIEEE()}, nil
}

// zipBody checks the content of an entry against its central record as it is read.
type zipBody struct {
	z   *ZipReader
	e   *zipEntry
	r   io.Reader
	crc hash.Hash32
	n   uint64
	err error
}

func (b *zipBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	b.crc.Write(p[:n])
	b.n += uint64(n)
	switch {
	case b.n > b.e.usize:
		err = b.z.entryErr(b.e, fmt.Sprintf("content is longer than the %d bytes the central directory declares", b.e.usize), ErrChecksum)
		n = 0
	case err == io.EOF:
		err = b.finish()
	case err == io.ErrUnexpectedEOF:
		err = b.z.entryErr(b.e, "compressed data is truncated", err)
	case err != nil:
		var le *limits.Error
		if !errors.As(err, &le) {
			err = b.z.entryErr(b.e, "reading content", err)
		}
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

func (b *zipBody) finish() error {
	e := b.e
	if b.n != e.usize {
		return b.z.entryErr(e, fmt.Sprintf("content ends after %d of the %d bytes the central directory declares", b.n, e.usize), ErrChecksum)
	}
	if sum := b.crc.Sum32(); sum != e.crc {
		return b.z.entryErr(e, fmt.Sprintf("CRC-32 of the content is %08x, the central directory says %08x", sum, e.crc), ErrChecksum)
	}
	if e.flags&0x8 != 0 {
		// The data descriptor after the data must agree too.
		d, err := b.z.readAt(min(16, int(b.z.size-(e.dataOff+int64(e.csize)))), e.dataOff+int64(e.csize))
		if err == nil && len(d) >= 4 {
			if binary.LittleEndian.Uint32(d) == zipDescSig {
				d = d[4:]
			}
			if len(d) >= 4 && binary.LittleEndian.Uint32(d) != e.crc {
				return b.z.entryErr(e, fmt.Sprintf("data descriptor CRC-32 %08x differs from the central directory's %08x", binary.LittleEndian.Uint32(d), e.crc), ErrHeaderMismatch)
			}
		}
	}
	return io.EOF
}

var _ Reader = (*ZipReader)(nil)
