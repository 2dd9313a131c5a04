package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"kensa.dev/kensa/internal/limits"
)

// NewCpio returns a Reader over the cpio archive r in the portable formats: newc
// ("070701"), crc ("070702", whose checksum is verified at the end of each entry's
// content: ErrChecksum) and odc ("070707"). The "TRAILER!!!" entry ends the archive;
// input that ends before it is truncated (io.ErrUnexpectedEOF). Binary (old) cpio and
// rpm's stripped entries ("07070X") are refused (ErrUnsupported).
//
// Names are bounded by lim.HeaderSize and the entry count by lim.Entries (a
// *limits.Error). A symbolic link's target is its content; it is read into Linkname when
// it fits lim.PathLength, and Read still returns it.
//
// Hard links: every non-directory entry whose link count is above one is a member of the
// group of entries with the same device and inode numbers. The first of a group is
// returned as a file; the later ones as Hardlink entries whose Linkname is the first's
// name. newc writers store the content once, with the last link, so the first may have
// no content and a Hardlink entry may carry the group's content; both facts are noted as
// anomalies, and Read returns whatever content the entry carries.
func NewCpio(r io.Reader, lim *limits.Limits) Reader {
	return &cpioReader{r: r, lim: lim}
}

type cpioKey struct{ dev, ino uint64 }

type cpioReader struct {
	r   io.Reader
	lim *limits.Limits
	err error
	off int64

	n     int64
	names nameSet
	links map[cpioKey]string

	body *cpioBody
	pad  int64

	// stripped, when set, resolves rpm's stripped entries ("07070X" and a file index).
	stripped func(index uint64) (*Entry, error)
}

// cpioBody is the content of one entry: pre (bytes already read) then the rest, checked
// against the crc format's checksum at its end.
type cpioBody struct {
	c      *cpioReader
	name   string
	pre    []byte
	r      exactReader
	check  bool
	want   uint32
	sum    uint32
	err    error
	hdrOff int64
}

func (b *cpioBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(b.pre) > 0 {
		n := copy(p, b.pre)
		b.pre = b.pre[n:]
		return n, nil
	}
	n, err := b.r.Read(p)
	b.c.off += int64(n)
	if b.check {
		for _, x := range p[:n] {
			b.sum += uint32(x)
		}
	}
	switch {
	case err == io.EOF && b.check && b.sum != b.want:
		err = &FormatError{Format: "cpio", Offset: b.hdrOff, Entry: b.name, Reason: fmt.Sprintf("content sums to %08x, the header says %08x", b.sum, b.want), Err: ErrChecksum}
	case err == io.ErrUnexpectedEOF:
		err = &FormatError{Format: "cpio", Offset: b.c.off, Entry: b.name, Reason: "truncated content", Err: err}
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

func (c *cpioReader) fail(off int64, reason string, err error) error {
	c.err = formatErr("cpio", off, reason, err)
	return c.err
}

// read reads exactly len(b) bytes of header.
func (c *cpioReader) read(b []byte, what string) error {
	n, err := io.ReadFull(c.r, b)
	c.off += int64(n)
	if err != nil {
		return c.fail(c.off, "truncated "+what, io.ErrUnexpectedEOF)
	}
	return nil
}

func (c *cpioReader) skipRest() error {
	if c.body == nil {
		return nil
	}
	b := c.body
	c.body = nil
	b.pre = nil
	b.check = false
	if errors.Is(b.err, ErrChecksum) {
		b.err = nil // the content was read to its end; only its sum was wrong
	}
	if _, err := io.Copy(io.Discard, b); err != nil {
		return c.fail(c.off, "truncated content", io.ErrUnexpectedEOF)
	}
	if c.pad > 0 {
		if err := skip(c.r, c.pad); err != nil {
			return c.fail(c.off, "truncated padding", io.ErrUnexpectedEOF)
		}
		c.off += c.pad
		c.pad = 0
	}
	return nil
}

// cpioHeader holds the fields of one header, whatever its format.
type cpioHeader struct {
	dev, ino, mode, uid, gid, nlink, mtime, size, namesize, check uint64
	newc, crc                                                     bool
}

func (c *cpioReader) Next() (*Entry, error) {
	if c.err != nil {
		return nil, c.err
	}
	if err := c.skipRest(); err != nil {
		return nil, err
	}
	hdrOff := c.off
	var magic [6]byte
	n, err := io.ReadFull(c.r, magic[:])
	c.off += int64(n)
	if err != nil {
		return nil, c.fail(hdrOff, "archive ends without its TRAILER!!! entry: truncated", io.ErrUnexpectedEOF)
	}
	var h cpioHeader
	switch m := string(magic[:]); m {
	case "070701", "070702":
		var b [104]byte
		if err := c.read(b[:], "header"); err != nil {
			return nil, err
		}
		var f [13]uint64
		for i := range f {
			v, err := strconv.ParseUint(string(b[i*8:i*8+8]), 16, 32)
			if err != nil {
				return nil, c.fail(hdrOff, fmt.Sprintf("header field %d is not hexadecimal", i), nil)
			}
			f[i] = v
		}
		h = cpioHeader{ino: f[0], mode: f[1], uid: f[2], gid: f[3], nlink: f[4], mtime: f[5], size: f[6],
			dev: f[7]<<32 | f[8], namesize: f[11], check: f[12], newc: true, crc: m == "070702"}
	case "070707":
		var b [70]byte
		if err := c.read(b[:], "header"); err != nil {
			return nil, err
		}
		widths := []int{6, 6, 6, 6, 6, 6, 6, 11, 6, 11}
		var f [10]uint64
		pos := 0
		for i, w := range widths {
			v, err := strconv.ParseUint(string(b[pos:pos+w]), 8, 64)
			if err != nil {
				return nil, c.fail(hdrOff, fmt.Sprintf("header field %d is not octal", i), nil)
			}
			f[i], pos = v, pos+w
		}
		h = cpioHeader{dev: f[0], ino: f[1], mode: f[2], uid: f[3], gid: f[4], nlink: f[5], mtime: f[7], namesize: f[8], size: f[9]}
	case "07070X":
		if c.stripped == nil {
			return nil, c.fail(hdrOff, "stripped entry (07070X) outside an rpm payload", ErrUnsupported)
		}
		return c.nextStripped(hdrOff)
	default:
		if (magic[0] == 0xc7 && magic[1] == 0x71) || (magic[0] == 0x71 && magic[1] == 0xc7) {
			return nil, c.fail(hdrOff, "binary (old) cpio format", ErrUnsupported)
		}
		return nil, c.fail(hdrOff, "not a cpio header", nil)
	}

	if h.namesize == 0 {
		return nil, c.fail(hdrOff, "entry without a name", nil)
	}
	if int64(h.namesize) > c.lim.HeaderSize {
		c.err = &limits.Error{Limit: "header-size", Value: c.lim.HeaderSize, What: fmt.Sprintf("cpio name of %d bytes", h.namesize)}
		return nil, c.err
	}
	raw, err := readAllBounded(c.r, int64(h.namesize))
	c.off += int64(len(raw))
	if err != nil {
		return nil, c.fail(c.off, "truncated name", io.ErrUnexpectedEOF)
	}
	if raw[len(raw)-1] != 0 {
		return nil, c.fail(hdrOff, "name is not NUL-terminated", nil)
	}
	name := string(raw[:bytes.IndexByte(raw, 0)])
	if h.newc {
		if pad := (4 - (110+int64(h.namesize))%4) % 4; pad > 0 {
			if err := skip(c.r, pad); err != nil {
				return nil, c.fail(c.off, "truncated name padding", io.ErrUnexpectedEOF)
			}
			c.off += pad
		}
	}
	if name == "TRAILER!!!" {
		c.err = io.EOF
		return nil, io.EOF
	}

	c.n++
	if c.n > c.lim.Entries {
		c.err = entryLimit("cpio", c.lim)
		return nil, c.err
	}
	e := &Entry{
		Name:    name,
		Mode:    unixMode(h.mode),
		Size:    int64(h.size),
		ModTime: time.Unix(int64(h.mtime), 0).UTC(),
		UID:     int(h.uid),
		GID:     int(h.gid),
	}
	if len(name)+1 < len(raw) {
		e.Anomalies = append(e.Anomalies, "name has bytes after its NUL terminator")
	}
	t, known := unixType(h.mode)
	e.Type = t
	if !known {
		e.Anomalies = append(e.Anomalies, fmt.Sprintf("unknown file type in mode %o", h.mode))
	}
	if a := contentOnNonFile(t, e.Size); a != "" && t != Symlink {
		e.Anomalies = append(e.Anomalies, a)
	}
	// Writers compute the crc format's checksum over regular files only; for other
	// types the field is zero.
	check := h.crc && (t == Regular || h.check != 0)
	c.body = &cpioBody{c: c, name: name, r: exactReader{r: c.r, n: int64(h.size)}, check: check, want: uint32(h.check), hdrOff: hdrOff}
	if h.newc {
		c.pad = (4 - int64(h.size)%4) % 4
	}
	if h.nlink > 1 && t != Dir {
		c.link(e, cpioKey{h.dev, h.ino}, h.nlink)
	}
	if t == Symlink {
		if err := c.readLink(e); err != nil {
			return nil, err
		}
	}
	if prev, dup := c.names.add(name, c.n-1, c.lim); dup {
		e.Anomalies = append(e.Anomalies, duplicateAnomaly(prev))
	}
	return e, nil
}

func (c *cpioReader) link(e *Entry, k cpioKey, nlink uint64) {
	if c.links == nil {
		c.links = make(map[cpioKey]string)
	}
	first, seen := c.links[k]
	if !seen {
		c.links[k] = e.Name
		if e.Size == 0 {
			e.Anomalies = append(e.Anomalies, fmt.Sprintf("first of %d hard links; its content is stored with a later link", nlink))
		}
		return
	}
	if e.Type == Regular {
		e.Type = Hardlink
		e.Linkname = first
		if e.Size > 0 {
			e.Anomalies = append(e.Anomalies, "hard link that carries the content of its link group")
		}
	}
}

// readLink reads a symbolic link's target, when it fits the path-length limit.
func (c *cpioReader) readLink(e *Entry) error {
	if e.Size > int64(c.lim.PathLength) {
		e.Anomalies = append(e.Anomalies, fmt.Sprintf("symbolic link target longer than the path-length limit of %d bytes", c.lim.PathLength))
		return nil
	}
	target, err := io.ReadAll(c.body)
	if err != nil {
		return nil // Read reports it; the link target stays unknown
	}
	e.Linkname = string(target)
	c.body.pre = target
	c.body.err = nil
	return nil
}

// nextStripped reads an rpm stripped entry: a file index, then content whose size and name
// the rpm header gives.
func (c *cpioReader) nextStripped(hdrOff int64) (*Entry, error) {
	var b [8]byte
	if err := c.read(b[:], "stripped header"); err != nil {
		return nil, err
	}
	fx, err := strconv.ParseUint(string(b[:]), 16, 32)
	if err != nil {
		return nil, c.fail(hdrOff, "stripped entry index is not hexadecimal", nil)
	}
	// rpm pads the stripped header to a multiple of four bytes of the payload.
	if pad := (4 - c.off%4) % 4; pad > 0 {
		if err := skip(c.r, pad); err != nil {
			return nil, c.fail(c.off, "truncated padding", io.ErrUnexpectedEOF)
		}
		c.off += pad
	}
	c.n++
	if c.n > c.lim.Entries {
		c.err = entryLimit("cpio", c.lim)
		return nil, c.err
	}
	e, err := c.stripped(fx)
	if err != nil {
		c.err = err
		return nil, err
	}
	size := max(e.Size, 0)
	c.body = &cpioBody{c: c, name: e.Name, r: exactReader{r: c.r, n: size}, hdrOff: hdrOff}
	c.pad = (4 - size%4) % 4
	return e, nil
}

func (c *cpioReader) Read(p []byte) (int, error) {
	if c.body == nil {
		return 0, io.EOF
	}
	return c.body.Read(p)
}
