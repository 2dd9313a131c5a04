package archive

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"

	"kensa.dev/kensa/internal/limits"
)

// The kinds of error a reader reports besides limit violations (*limits.Error) and
// truncation (io.ErrUnexpectedEOF). Test for them with errors.Is; the *FormatError that
// wraps them says which archive and where.
var (
	// ErrChecksum: an entry's content does not match the checksum or digest its archive
	// records for it (zip CRC-32, cpio crc sum, rpm file digest, rpm payload digest).
	ErrChecksum = errors.New("checksum mismatch")
	// ErrEncrypted: an entry is encrypted, so its content cannot be inspected.
	ErrEncrypted = errors.New("entry is encrypted")
	// ErrUnsupported: a valid construct this package does not read (a zip compression
	// method, a thin ar archive, a binary cpio archive).
	ErrUnsupported = errors.New("unsupported")
	// ErrOverlap: two zip entries, or an entry and the central directory, share bytes (the
	// overlapping-entry bomb).
	ErrOverlap = errors.New("entries overlap")
	// ErrHeaderMismatch: two records that describe the same entry disagree (a zip local
	// header and its central directory record), so the archive has more than one
	// interpretation.
	ErrHeaderMismatch = errors.New("headers disagree")
)

// FormatError reports input that breaks the rules of its format.
type FormatError struct {
	// Format is the format being read: "tar", "zip", "ar", "deb", "cpio", "rpm", "xz".
	Format string
	// Offset is the byte offset of the problem in the archive, or -1 if not known.
	Offset int64
	// Entry is the stored name of the entry concerned, if any.
	Entry string
	// Reason says what is wrong.
	Reason string
	// Err is the kind of problem (ErrChecksum, io.ErrUnexpectedEOF, …) or the error of an
	// underlying reader; nil if Reason says it all.
	Err error
}

// Error says which format, entry and offset, and what is wrong.
func (e *FormatError) Error() string {
	var b bytes.Buffer
	b.WriteString(e.Format)
	if e.Entry != "" {
		fmt.Fprintf(&b, ": entry %s", quoteName(e.Entry))
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " (offset %d)", e.Offset)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	if e.Err != nil && e.Err.Error() != e.Reason {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the kind of the error.
func (e *FormatError) Unwrap() error { return e.Err }

func formatErr(format string, off int64, reason string, err error) *FormatError {
	return &FormatError{Format: format, Offset: off, Reason: reason, Err: err}
}

// quoteName quotes a stored name for an error message: escaped, and shortened when long,
// so that hostile names cannot break a terminal or a log line.
func quoteName(s string) string {
	const max = 200
	if len(s) > max {
		return strconv.Quote(s[:max]) + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return strconv.Quote(s)
}

// entryLimit returns the error for an archive with more than lim.Entries entries.
func entryLimit(format string, lim *limits.Limits) error {
	return &limits.Error{Limit: "entries", Value: lim.Entries, What: format + " archive with more entries"}
}

// nameSet notes which member names an archive has already used. It keeps a digest of
// each cleaned name, not the name, so that its memory is bounded by the entry count.
type nameSet struct {
	seen map[[16]byte]int64
}

// add records name as entry index and reports the index of an earlier entry with the
// same cleaned name.
func (s *nameSet) add(name string, index int64, lim *limits.Limits) (int64, bool) {
	if s.seen == nil {
		s.seen = make(map[[16]byte]int64)
	}
	clean, _ := CleanName(name, lim)
	sum := sha256.Sum256([]byte(clean))
	var k [16]byte
	copy(k[:], sum[:16])
	if prev, ok := s.seen[k]; ok {
		return prev, true
	}
	s.seen[k] = index
	return 0, false
}

func duplicateAnomaly(prev int64) string {
	return fmt.Sprintf("duplicate name: entry %d has the same path; extractors keep the last one, this reader returns both", prev)
}

// readAllBounded reads exactly n bytes from r without allocating n up front: the buffer
// grows only as data arrives, so a lying length costs nothing. Fewer bytes give
// io.ErrUnexpectedEOF.
func readAllBounded(r io.Reader, n int64) ([]byte, error) {
	if n <= 64<<10 {
		// Small enough to allocate whatever it claims.
		b := make([]byte, n)
		m, err := io.ReadFull(r, b)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return b[:m], err
	}
	var b bytes.Buffer
	m, err := b.ReadFrom(io.LimitReader(r, n))
	if err != nil {
		return b.Bytes(), err
	}
	if m < n {
		return b.Bytes(), io.ErrUnexpectedEOF
	}
	return b.Bytes(), nil
}

// exactReader reads exactly n bytes of r and reports io.ErrUnexpectedEOF if r ends early.
type exactReader struct {
	r io.Reader
	n int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.n {
		p = p[:e.n]
	}
	n, err := e.r.Read(p)
	e.n -= int64(n)
	if err == io.EOF {
		err = nil
		if e.n > 0 {
			err = io.ErrUnexpectedEOF
		}
	}
	return n, err
}

// skip discards n bytes of r.
func skip(r io.Reader, n int64) error {
	if n <= 0 {
		return nil
	}
	m, err := io.CopyN(io.Discard, r, n)
	if m < n && (err == nil || err == io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// unixMode converts the permission and special bits of a Unix st_mode to fs.FileMode.
func unixMode(m uint64) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// unixType converts the file type bits of a Unix st_mode (S_IFMT) to a Type.
func unixType(m uint64) (Type, bool) {
	switch m & 0o170000 {
	case 0o100000:
		return Regular, true
	case 0o040000:
		return Dir, true
	case 0o120000:
		return Symlink, true
	case 0o020000:
		return CharDevice, true
	case 0o060000:
		return BlockDevice, true
	case 0o010000:
		return FIFO, true
	case 0o140000:
		return Socket, true
	case 0:
		return Regular, false
	}
	return Other, false
}

// contentOnNonFile returns the anomaly for a link, directory or device entry that declares
// content, or "".
func contentOnNonFile(t Type, size int64) string {
	if size > 0 && t != Regular && t != Other {
		return fmt.Sprintf("%s entry declares %d bytes of content", t, size)
	}
	return ""
}
