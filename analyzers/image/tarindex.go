package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"kensa.dev/kensa/internal/limits"
)

// member is one file of a tar archive, located by offset so that it can be read in place.
type member struct {
	name     string
	typ      byte
	offset   int64
	size     int64
	linkname string
	sparse   bool
	count    int // how many members have this name
}

// tarIndex maps the members of an image archive (a docker save tarball or an OCI archive)
// to their place in the file. Only headers are read to build it; contents are read later
// through io.SectionReader, so several layers can be read at once and nothing is extracted.
type tarIndex struct {
	r       io.ReaderAt
	size    int64
	what    string
	members map[string]*member
}

// errNotTar means the file does not start with a tar header.
var errNotTar = errors.New("not a tar archive")

// indexTar reads every header of the tar in r (size bytes). Members with names that are
// absolute or climb out of the archive are left out of the index, so nothing can ever look
// them up.
func indexTar(r io.ReaderAt, size int64, lim *limits.Limits, what string) (*tarIndex, error) {
	sr := io.NewSectionReader(r, 0, size)
	tr := tar.NewReader(sr)
	ix := &tarIndex{r: r, size: size, what: what, members: map[string]*member{}}
	var n int64
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			if n == 0 {
				return nil, errNotTar
			}
			return ix, nil
		}
		if err != nil {
			if n == 0 {
				return nil, errNotTar
			}
			return nil, &Error{Code: CodeMalformed, What: what, Detail: fmt.Sprintf("tar header %d", n+1), Err: err}
		}
		n++
		if n > lim.Entries {
			return nil, &limits.Error{Limit: "entries", Value: lim.Entries, What: what + ": members of the archive"}
		}
		if len(hdr.Name) > lim.PathLength {
			return nil, &limits.Error{Limit: "path-length", Value: int64(lim.PathLength), What: fmt.Sprintf("%s: name of member %d", what, n)}
		}
		name, ok := cleanMemberName(hdr.Name)
		if !ok || name == "" || hdr.Typeflag == tar.TypeDir {
			continue
		}
		off, _ := sr.Seek(0, io.SeekCurrent)
		if hdr.Size < 0 || hdr.Size > size-off {
			return nil, newError(CodeMalformed, what, "member %q claims %d bytes but the archive ends first (truncated?)", hdr.Name, hdr.Size)
		}
		if m := ix.members[name]; m != nil {
			m.count++
			continue
		}
		sparse := hdr.Typeflag == tar.TypeGNUSparse
		for k := range hdr.PAXRecords {
			if strings.HasPrefix(k, "GNU.sparse.") {
				sparse = true
			}
		}
		ix.members[name] = &member{name: name, typ: hdr.Typeflag, offset: off, size: hdr.Size, linkname: hdr.Linkname, sparse: sparse, count: 1}
	}
}

// cleanMemberName turns a stored member name into a clean relative path; ok is false for
// names that are absolute, climb out with "..", or use backslashes.
func cleanMemberName(name string) (string, bool) {
	if strings.HasPrefix(name, "/") || strings.Contains(name, "\\") {
		return "", false
	}
	c := path.Clean(name)
	if c == "." {
		return "", true
	}
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", false
	}
	return c, true
}

// cleanRef checks a path that a document inside the archive uses to name a member (a layer
// path in manifest.json, O10): it must stay inside the archive.
func cleanRef(p, what string) (string, error) {
	c, ok := cleanMemberName(p)
	if !ok || c == "" {
		return "", newError(CodeUnsafePath, what, "path %q is absolute or leaves the archive; refusing it", p)
	}
	return c, nil
}

// lookup finds the regular file member name. With follow, symbolic and hard links are
// resolved inside the archive (docker save links identical layers), never outside it, in
// at most lim.SymlinkHops steps; without it a link is an error.
func (ix *tarIndex) lookup(name string, follow bool, lim *limits.Limits) (*member, error) {
	seen := map[string]bool{}
	for hops := 0; ; hops++ {
		m := ix.members[name]
		if m == nil {
			return nil, newError(CodeNotFound, ix.what, "no member %q in the archive", name)
		}
		if m.count > 1 {
			return nil, newError(CodeAmbiguous, ix.what, "member %q appears %d times; tools disagree on which copy counts, so kensa refuses to choose", name, m.count)
		}
		switch m.typ {
		case tar.TypeReg: // archive/tar reports the old TypeRegA as TypeReg
			if m.sparse {
				return nil, newError(CodeUnsupported, ix.what, "member %q is a sparse file, which image archives never need", name)
			}
			return m, nil
		case tar.TypeSymlink, tar.TypeLink:
			if !follow {
				return nil, newError(CodeNotRegular, ix.what, "member %q is a link (to %q); image layouts must hold regular files", name, m.linkname)
			}
		default:
			return nil, newError(CodeNotRegular, ix.what, "member %q is not a regular file (type %q)", name, m.typ)
		}
		if seen[name] {
			return nil, newError(CodeCycle, ix.what, "links starting at %q form a cycle", name)
		}
		seen[name] = true
		if hops >= lim.SymlinkHops {
			return nil, &limits.Error{Limit: "symlink-hops", Value: int64(lim.SymlinkHops), What: ix.what + ": links to resolve " + name}
		}
		target := m.linkname
		if m.typ == tar.TypeSymlink && !strings.HasPrefix(target, "/") {
			target = path.Join(path.Dir(name), target)
		}
		next, ok := cleanMemberName(target)
		if !ok || next == "" {
			return nil, newError(CodeUnsafePath, ix.what, "member %q links to %q, outside the archive", name, m.linkname)
		}
		name = next
	}
}

// open returns the content of a member found by lookup.
func (ix *tarIndex) open(m *member) *io.SectionReader {
	return io.NewSectionReader(ix.r, m.offset, m.size)
}

// has reports whether a regular, unique member of that name exists.
func (ix *tarIndex) has(name string) bool {
	m := ix.members[name]
	return m != nil && m.count == 1 && m.typ == tar.TypeReg
}

// openRegular opens a file that must be a regular file (not a link, device or directory).
func openRegular(p string) (*os.File, int64, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, newError(CodeNotRegular, p, "not a regular file (%s)", fi.Mode().Type())
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, err
	}
	fi2, err := f.Stat()
	if err != nil || !os.SameFile(fi, fi2) {
		f.Close()
		return nil, 0, newError(CodeNotRegular, p, "the file changed while it was being opened")
	}
	return f, fi2.Size(), nil
}

// DetectArchive tells whether the tar file at path is a container image: a docker save
// tarball (manifest.json at the root) or an OCI image layout archive (oci-layout and
// index.json at the root). It reads member headers only. ok is false, with a nil error, for
// a file that is not a tar or is a tar of something else. An archive that is both (docker
// save since Docker 25 writes an OCI layout beside manifest.json) is reported as
// OCIArchive, since its OCI index carries the image's real manifests and digests; open it
// as DockerArchive to read it through manifest.json instead. Compressed tarballs are not
// recognised: decompress them first.
func DetectArchive(path string) (Kind, bool, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	lim := limits.Default()
	ix, err := indexTar(f, size, &lim, path)
	if errors.Is(err, errNotTar) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	switch {
	case ix.has("oci-layout") && ix.has("index.json"):
		return OCIArchive, true, nil
	case ix.has("manifest.json"):
		return DockerArchive, true, nil
	}
	return 0, false, nil
}
