package archive

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"kensa.dev/kensa/internal/limits"
)

const (
	arMagic     = "!<arch>\n"
	arThinMagic = "!<thin>\n"
	arHeaderLen = 60
)

// NewAr returns a Reader over the Unix ar archive r: System V / GNU archives (names ending
// in "/", long names in the "//" table referenced as "/N") and BSD archives (long names
// stored after the header as "#1/LEN"). Symbol tables ("/", "/SYM64/", "__.SYMDEF") are
// skipped. Entry names are returned decoded (the GNU trailing "/" removed) but otherwise
// as stored: use CleanName.
//
// The long-name table and BSD names are bounded by lim.HeaderSize, the entry count by
// lim.Entries (a *limits.Error). Sizes must be decimal and content is bounded by them;
// truncation gives an error wrapping io.ErrUnexpectedEOF. Thin archives, which name files
// outside the archive, are refused (ErrUnsupported).
func NewAr(r io.Reader, lim *limits.Limits) Reader {
	return &arReader{r: r, lim: lim}
}

type arReader struct {
	r     io.Reader
	lim   *limits.Limits
	err   error
	start bool
	off   int64

	n         int64
	names     nameSet
	longNames []byte

	body *exactReader
	pad  bool
}

func (a *arReader) fail(off int64, reason string, err error) error {
	a.err = formatErr("ar", off, reason, err)
	return a.err
}

func (a *arReader) Next() (*Entry, error) {
	if a.err != nil {
		return nil, a.err
	}
	if !a.start {
		a.start = true
		var magic [8]byte
		n, err := io.ReadFull(a.r, magic[:])
		a.off += int64(n)
		switch {
		case err != nil:
			return nil, a.fail(0, "too short to be an ar archive", io.ErrUnexpectedEOF)
		case string(magic[:]) == arThinMagic:
			return nil, a.fail(0, "thin archive: its members are files outside it", ErrUnsupported)
		case string(magic[:]) != arMagic:
			return nil, a.fail(0, "not an ar archive", nil)
		}
	}
	for {
		if err := a.skipRest(); err != nil {
			return nil, a.fail(a.off, "truncated member content", err)
		}
		hdrOff := a.off
		var h [arHeaderLen]byte
		n, err := io.ReadFull(a.r, h[:])
		a.off += int64(n)
		if err == io.EOF {
			a.err = io.EOF
			return nil, io.EOF
		}
		if err != nil {
			return nil, a.fail(hdrOff, "truncated member header", io.ErrUnexpectedEOF)
		}
		if h[58] != '`' || h[59] != '\n' {
			return nil, a.fail(hdrOff, "member header without its terminator", nil)
		}
		size, ok := arNumber(h[48:58], 10)
		if !ok {
			return nil, a.fail(hdrOff, fmt.Sprintf("member size %q is not a decimal number", bytes.TrimRight(h[48:58], " ")), nil)
		}
		a.body = &exactReader{r: a.r, n: size}
		a.pad = size%2 == 1
		rawName := strings.TrimRight(string(h[0:16]), " ")

		var name string
		switch {
		case rawName == "/" || rawName == "/SYM64/" || rawName == "__.SYMDEF" || rawName == "__.SYMDEF SORTED":
			continue // symbol table
		case rawName == "//":
			if a.longNames != nil {
				return nil, a.fail(hdrOff, "second long-name table", nil)
			}
			if size > a.lim.HeaderSize {
				a.err = &limits.Error{Limit: "header-size", Value: a.lim.HeaderSize, What: fmt.Sprintf("ar long-name table of %d bytes", size)}
				return nil, a.err
			}
			tbl, err := readAllBounded(a.body, size)
			a.off += int64(len(tbl))
			if err != nil {
				return nil, a.fail(a.off, "truncated long-name table", io.ErrUnexpectedEOF)
			}
			a.longNames = append(tbl, 0)[:len(tbl)] // non-nil even when empty
			continue
		case strings.HasPrefix(rawName, "#1/"):
			n, ok := arNumber([]byte(rawName[3:]), 10)
			if !ok || n > size {
				return nil, a.fail(hdrOff, fmt.Sprintf("BSD name length %q is invalid for a member of %d bytes", rawName[3:], size), nil)
			}
			if n > a.lim.HeaderSize {
				a.err = &limits.Error{Limit: "header-size", Value: a.lim.HeaderSize, What: fmt.Sprintf("ar member name of %d bytes", n)}
				return nil, a.err
			}
			b, err := readAllBounded(a.body, n)
			a.off += int64(len(b))
			if err != nil {
				return nil, a.fail(a.off, "truncated BSD member name", io.ErrUnexpectedEOF)
			}
			name = string(bytes.TrimRight(b, "\x00"))
			if name == "__.SYMDEF" || name == "__.SYMDEF SORTED" || name == "__.SYMDEF_64" || name == "__.SYMDEF_64 SORTED" {
				continue
			}
		case len(rawName) > 1 && rawName[0] == '/' && isDigits(rawName[1:]):
			off, _ := strconv.ParseInt(rawName[1:], 10, 64)
			if a.longNames == nil {
				return nil, a.fail(hdrOff, "long name reference "+rawName+" without a long-name table", nil)
			}
			if off < 0 || off >= int64(len(a.longNames)) {
				return nil, a.fail(hdrOff, fmt.Sprintf("long name reference %s outside the %d-byte table", rawName, len(a.longNames)), nil)
			}
			rest := a.longNames[off:]
			end := bytes.IndexByte(rest, '\n')
			if end < 0 {
				return nil, a.fail(hdrOff, "long name "+rawName+" is not terminated", nil)
			}
			name = strings.TrimSuffix(string(rest[:end]), "/")
		default:
			name = strings.TrimSuffix(rawName, "/")
		}

		a.n++
		if a.n > a.lim.Entries {
			a.err = entryLimit("ar", a.lim)
			return nil, a.err
		}
		e := &Entry{Name: name, Type: Regular, Size: a.body.n}
		var bad []string
		if v, ok := arNumber(h[16:28], 10); ok {
			e.ModTime = time.Unix(v, 0).UTC()
		} else {
			bad = append(bad, "date")
		}
		if v, ok := arNumber(h[28:34], 10); ok {
			e.UID = int(v)
		} else {
			bad = append(bad, "uid")
		}
		if v, ok := arNumber(h[34:40], 10); ok {
			e.GID = int(v)
		} else {
			bad = append(bad, "gid")
		}
		if v, ok := arNumber(h[40:48], 8); ok {
			e.Mode = unixMode(uint64(v))
			if t, known := unixType(uint64(v)); known && t != Regular {
				e.Anomalies = append(e.Anomalies, fmt.Sprintf("mode says %s; ar members are files", t))
			}
		} else {
			bad = append(bad, "mode")
		}
		if len(bad) > 0 {
			e.Anomalies = append(e.Anomalies, "unparseable "+strings.Join(bad, ", ")+" field")
		}
		if prev, dup := a.names.add(name, a.n-1, a.lim); dup {
			e.Anomalies = append(e.Anomalies, duplicateAnomaly(prev))
		}
		return e, nil
	}
}

// skipRest discards what is left of the current member and its padding byte. A missing
// padding byte at the very end of the archive is tolerated, as binutils does.
func (a *arReader) skipRest() error {
	if a.body == nil {
		return nil
	}
	n, err := io.Copy(io.Discard, a.body)
	a.off += n
	if err != nil {
		return err
	}
	if a.pad {
		var b [1]byte
		m, err := io.ReadFull(a.r, b[:])
		a.off += int64(m)
		if err != nil && err != io.EOF {
			return err
		}
	}
	a.body, a.pad = nil, false
	return nil
}

func (a *arReader) Read(p []byte) (int, error) {
	if a.body == nil {
		return 0, io.EOF
	}
	n, err := a.body.Read(p)
	a.off += int64(n)
	if err == io.ErrUnexpectedEOF {
		err = formatErr("ar", a.off, "truncated member content", err)
	}
	return n, err
}

// arNumber parses a space-padded decimal or octal header field; an empty field is 0.
func arNumber(b []byte, base int) (int64, bool) {
	s := strings.TrimRight(string(b), " ")
	if s == "" {
		return 0, true
	}
	if !isDigits(s) {
		return 0, false
	}
	v, err := strconv.ParseInt(s, base, 64)
	return v, err == nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
