package archive

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"strings"

	"kensa.dev/kensa/internal/limits"
)

// debControlExt and debDataExt are the member names dpkg-deb accepts, with the compression
// each name implies.
var (
	debControlExt = map[string]Compression{
		"control.tar": NoCompression, "control.tar.gz": Gzip, "control.tar.xz": XZ, "control.tar.zst": Zstd,
	}
	debDataExt = map[string]Compression{
		"data.tar": NoCompression, "data.tar.gz": Gzip, "data.tar.xz": XZ, "data.tar.zst": Zstd,
		"data.tar.bz2": Bzip2, "data.tar.lzma": LZMA,
	}
)

// NewDeb returns a Reader over the Debian binary package r. Its entries are the members of
// the package's ar archive, as NewAr reads them, with the rules of the deb format applied:
//
//   - the first member must be "debian-binary" and hold exactly "2.0\n"; otherwise Next
//     fails (dpkg would refuse or read the package differently);
//   - the package must have a control.tar[.gz|.xz|.zst] member and, after it, a
//     data.tar[.gz|.xz|.zst|.bz2|.lzma] member; at the end of the archive a missing one
//     is an error;
//   - a second control or data member, a member out of order, a member with a name dpkg
//     does not know, and a compressed member whose content does not start with the magic
//     number its name implies, carry an anomaly (dpkg uses the first control and data
//     members and ignores members whose names start with "_").
//
// The caller decompresses and reads control.tar.* and data.tar.* itself.
func NewDeb(r io.Reader, lim *limits.Limits) Reader {
	return &debReader{ar: &arReader{r: r, lim: lim}, lim: lim}
}

type debReader struct {
	ar  *arReader
	lim *limits.Limits
	err error

	n       int
	control string // first control member
	data    string // first data member
	body    io.Reader
}

func (d *debReader) fail(reason string) error {
	d.err = formatErr("deb", -1, reason, nil)
	return d.err
}

func (d *debReader) Next() (*Entry, error) {
	if d.err != nil {
		return nil, d.err
	}
	e, err := d.ar.Next()
	if err == io.EOF {
		switch {
		case d.n == 0:
			return nil, d.fail("empty archive: no debian-binary member")
		case d.control == "":
			return nil, d.fail("no control.tar member")
		case d.data == "":
			return nil, d.fail("no data.tar member")
		}
		d.err = io.EOF
		return nil, io.EOF
	}
	if err != nil {
		d.err = err
		return nil, err
	}
	d.n++
	d.body = d.ar
	if d.n == 1 {
		if e.Name != "debian-binary" {
			return nil, d.fail("first member is " + quoteName(e.Name) + ", not debian-binary")
		}
		if e.Size > 64 {
			return nil, d.fail(fmt.Sprintf("debian-binary member of %d bytes", e.Size))
		}
		v, err := readAllBounded(d.ar, e.Size)
		if err != nil {
			d.err = formatErr("deb", -1, "reading debian-binary", err)
			return nil, d.err
		}
		if string(v) != "2.0\n" {
			return nil, d.fail(fmt.Sprintf("debian-binary says %q; only format 2.0 is read", v))
		}
		d.body = bytes.NewReader(v)
		return e, nil
	}
	name := e.Name
	if c, ok := debControlExt[name]; ok {
		switch {
		case d.control != "":
			e.Anomalies = append(e.Anomalies, "second control member; dpkg uses the first, "+d.control)
		case d.data != "":
			e.Anomalies = append(e.Anomalies, "control member after the data member; dpkg refuses the package")
			d.control = name
		default:
			d.control = name
		}
		if err := d.sniff(e, c); err != nil {
			return nil, err
		}
		return e, nil
	}
	if c, ok := debDataExt[name]; ok {
		switch {
		case d.data != "":
			e.Anomalies = append(e.Anomalies, "second data member; dpkg uses the first, "+d.data)
		default:
			if d.control == "" {
				e.Anomalies = append(e.Anomalies, "data member before the control member; dpkg refuses the package")
			}
			d.data = name
		}
		if err := d.sniff(e, c); err != nil {
			return nil, err
		}
		return e, nil
	}
	switch {
	case strings.HasPrefix(name, "_"):
		e.Anomalies = append(e.Anomalies, "additional member; dpkg ignores members whose names start with _")
	case strings.HasPrefix(name, "control.tar") || strings.HasPrefix(name, "data.tar"):
		e.Anomalies = append(e.Anomalies, "member with a compression dpkg does not know ("+path.Ext(name)+")")
	default:
		e.Anomalies = append(e.Anomalies, "unknown member; dpkg does not expect it")
	}
	return e, nil
}

// sniff compares the first bytes of a control or data member with the compression its name
// implies; the bytes read are served again by Read.
func (d *debReader) sniff(e *Entry, want Compression) error {
	head := make([]byte, min(16, max(e.Size, 0)))
	n, err := io.ReadFull(d.ar, head)
	head = head[:n]
	if err != nil && err != io.EOF {
		d.err = err
		return err
	}
	got := DetectCompression(head)
	if got != want && !(want == NoCompression && got == NoCompression) {
		e.Anomalies = append(e.Anomalies, fmt.Sprintf("named as %s but the content is %s", want, got))
	}
	d.body = io.MultiReader(bytes.NewReader(head), d.ar)
	return nil
}

func (d *debReader) Read(p []byte) (int, error) {
	if d.body == nil {
		return 0, io.EOF
	}
	return d.body.Read(p)
}
