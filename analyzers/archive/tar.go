package archive

import (
	"archive/tar"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"

	"kensa.dev/kensa/internal/limits"
)

// NewTar returns a Reader over the tar archive r (ustar, GNU and PAX, as archive/tar reads
// them).
//
// Entry types map to Type (a type flag archive/tar does not know becomes Other, with an
// anomaly); Mode carries the permission, setuid, setgid and sticky bits; Xattrs come from
// PAX SCHILY.xattr.* records (and LIBARCHIVE.xattr.* ones). A PAX global header is not an
// entry: archive/tar does not apply its records to later entries, while GNU tar does, so
// when it carries records other than a comment every later entry notes that.
//
// Errors: more than lim.Entries entries, or a header (name, link name and PAX records)
// larger than lim.HeaderSize, give a *limits.Error. A PAX header or GNU long name over
// 1 MiB, the fixed bound of archive/tar (CVE-2022-2879), gives a *FormatError wrapping
// tar.ErrFieldTooLong; a sparse map over archive/tar's bound one wrapping its error.
// Truncation anywhere, including an archive that stops at an entry boundary without its
// end-of-archive blocks, gives an error wrapping io.ErrUnexpectedEOF: an empty or cut
// archive never reads as a complete one. Sparse files expand their holes on Read; that
// expansion is bounded like decompression (lim.EntrySize, and lim.Ratio against the
// stored bytes), and so is every entry's content.
func NewTar(r io.Reader, lim *limits.Limits) Reader {
	cr := &tailReader{r: r}
	return &tarReader{tr: tar.NewReader(cr), cr: cr, lim: lim, dataEnd: 0}
}

type tarReader struct {
	tr  *tar.Reader
	cr  *tailReader
	lim *limits.Limits
	err error

	n       int64
	names   nameSet
	globals string // keys of the last PAX global header, if it had any that matter

	cur     *tar.Header
	body    io.Reader
	hdrEnd  int64 // offset where the current entry's content starts
	dataEnd int64 // offset where the last entry's stored content ends; -1 if unknown
}

var errSparseTooLongText = "archive/tar: sparse map too long"

func (t *tarReader) Next() (*Entry, error) {
	if t.err != nil {
		return nil, t.err
	}
	for {
		h, err := t.tr.Next()
		if err != nil {
			t.err = t.mapErr(err)
			return nil, t.err
		}
		t.n++
		if t.n > t.lim.Entries {
			t.err = entryLimit("tar", t.lim)
			return nil, t.err
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			var keys []string
			for k := range h.PAXRecords {
				if k != "comment" {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			t.globals = strings.Join(keys, ", ")
			t.dataEnd = t.cr.n
			continue
		}
		if err := t.checkHeaderSize(h); err != nil {
			t.err = err
			return nil, err
		}
		return t.entry(h), nil
	}
}

func (t *tarReader) checkHeaderSize(h *tar.Header) error {
	size := int64(len(h.Name) + len(h.Linkname) + len(h.Uname) + len(h.Gname))
	for k, v := range h.PAXRecords {
		size += int64(len(k) + len(v))
	}
	if size > t.lim.HeaderSize {
		return &limits.Error{Limit: "header-size", Value: t.lim.HeaderSize,
			What: fmt.Sprintf("tar header of %s (%d bytes of names and PAX records)", quoteName(h.Name), size)}
	}
	return nil
}

func (t *tarReader) entry(h *tar.Header) *Entry {
	e := &Entry{
		Name:     h.Name,
		Mode:     unixMode(uint64(h.Mode)),
		Size:     h.Size,
		Linkname: h.Linkname,
		ModTime:  h.ModTime,
		UID:      h.Uid,
		GID:      h.Gid,
	}
	sparse := false
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeCont:
		e.Type = Regular
	case tar.TypeGNUSparse:
		e.Type = Regular
		sparse = true
	case tar.TypeDir:
		e.Type = Dir
	case tar.TypeSymlink:
		e.Type = Symlink
	case tar.TypeLink:
		e.Type = Hardlink
	case tar.TypeChar:
		e.Type = CharDevice
	case tar.TypeBlock:
		e.Type = BlockDevice
	case tar.TypeFifo:
		e.Type = FIFO
	default:
		e.Type = Other
		e.Anomalies = append(e.Anomalies, fmt.Sprintf("unknown tar type flag %q", h.Typeflag))
	}
	if h.PAXRecords["GNU.sparse.major"] != "" || h.PAXRecords["GNU.sparse.map"] != "" || h.PAXRecords["GNU.sparse.numblocks"] != "" {
		sparse = true
	}
	headerOnly := e.Type != Regular && e.Type != Other
	if headerOnly && h.Size > 0 {
		e.Anomalies = append(e.Anomalies, fmt.Sprintf("%s entry declares %d bytes of content; tar readers skip none", e.Type, h.Size))
		e.Size = 0
	}
	if sparse {
		e.Anomalies = append(e.Anomalies, fmt.Sprintf("sparse file of %d bytes; holes read as zeros", h.Size))
	}
	keys := make([]string, 0, len(h.PAXRecords))
	for k := range h.PAXRecords {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if name, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
			if e.Xattrs == nil {
				e.Xattrs = make(map[string]string)
			}
			e.Xattrs[name] = h.PAXRecords[k]
		}
	}
	for _, k := range keys {
		// libarchive writes the name URL-encoded and the value base64-encoded.
		if enc, ok := strings.CutPrefix(k, "LIBARCHIVE.xattr."); ok {
			v := h.PAXRecords[k]
			name, err1 := url.QueryUnescape(enc)
			val, err2 := base64.StdEncoding.DecodeString(v)
			if err1 != nil || err2 != nil {
				val, err2 = base64.RawStdEncoding.DecodeString(v)
			}
			if err1 != nil || err2 != nil {
				e.Anomalies = append(e.Anomalies, "undecodable LIBARCHIVE.xattr record "+quoteName(k))
				continue
			}
			if _, dup := e.Xattrs[name]; !dup {
				if e.Xattrs == nil {
					e.Xattrs = make(map[string]string)
				}
				e.Xattrs[name] = string(val)
			}
		}
	}
	if t.globals != "" {
		e.Anomalies = append(e.Anomalies, "follows a PAX global header with records ("+t.globals+") that GNU tar applies to later entries and this reader does not")
	}
	if prev, dup := t.names.add(h.Name, t.n-1, t.lim); dup {
		e.Anomalies = append(e.Anomalies, duplicateAnomaly(prev))
	}

	t.cur = h
	t.hdrEnd = t.cr.n
	t.dataEnd = -1
	if !sparse {
		stored := h.Size
		if headerOnly {
			stored = 0
		}
		t.dataEnd = t.hdrEnd + stored
	}
	g := &Guard{R: t.tr, Lim: t.lim, What: "tar entry " + quoteName(h.Name)}
	if sparse {
		start := t.hdrEnd
		g.In = func() int64 { return t.cr.n - start }
	}
	t.body = g
	return e
}

func (t *tarReader) Read(p []byte) (int, error) {
	if t.body == nil {
		return 0, io.EOF
	}
	n, err := t.body.Read(p)
	switch {
	case err == io.EOF:
		t.dataEnd = t.cr.n // exact, sparse or not
	case err != nil:
		err = t.mapErr(err)
	}
	return n, err
}

// mapErr turns the errors of archive/tar into ones that say what happened.
func (t *tarReader) mapErr(err error) error {
	off := t.cr.n
	var le *limits.Error
	switch {
	case errors.As(err, &le):
		return err
	case err == io.EOF:
		if off == 0 {
			return formatErr("tar", 0, "empty input: no tar header", io.ErrUnexpectedEOF)
		}
		if !t.endMarker() {
			return formatErr("tar", off, "archive ends without its end-of-archive blocks: truncated", io.ErrUnexpectedEOF)
		}
		return io.EOF
	case err == io.ErrUnexpectedEOF:
		return formatErr("tar", off, "truncated archive", err)
	case errors.Is(err, tar.ErrFieldTooLong):
		return formatErr("tar", off, "a PAX extended header or GNU long name is larger than 1 MiB, the fixed bound of archive/tar (CVE-2022-2879); the archive cannot be read", err)
	case err.Error() == errSparseTooLongText:
		return formatErr("tar", off, "sparse map with more regions than archive/tar accepts (CVE-2025-58183)", err)
	case errors.Is(err, tar.ErrHeader):
		return formatErr("tar", off, "invalid header", err)
	}
	return formatErr("tar", off, "reading archive", err)
}

// endMarker reports whether the archive ended with an end-of-archive block: a zero block
// read after the content of the last entry.
func (t *tarReader) endMarker() bool {
	if t.cr.n%512 != 0 || !t.cr.tailZero() {
		return false
	}
	if t.dataEnd < 0 {
		// A sparse entry whose content was not read: its stored size is unknown, so rely
		// on the zero block alone.
		return true
	}
	return t.cr.n > (t.dataEnd+511)&^511
}

// tailReader counts the bytes read through it and keeps the last 512 of them.
type tailReader struct {
	r    io.Reader
	n    int64
	tail [512]byte
	tn   int // valid bytes at the end of tail
}

func (c *tailReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if n >= len(c.tail) {
		copy(c.tail[:], p[n-len(c.tail):n])
		c.tn = len(c.tail)
	} else if n > 0 {
		copy(c.tail[:], c.tail[n:])
		copy(c.tail[len(c.tail)-n:], p[:n])
		c.tn = min(c.tn+n, len(c.tail))
	}
	return n, err
}

func (c *tailReader) tailZero() bool {
	if c.tn < len(c.tail) {
		return false
	}
	for _, b := range c.tail {
		if b != 0 {
			return false
		}
	}
	return true
}
