package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"kensa.dev/kensa/internal/limits"
)

// layoutFS is the file tree of an OCI image layout: a directory or a tar archive of one.
type layoutFS interface {
	// open opens a regular file of the layout by its slash-separated name, with its size.
	open(name string) (io.ReadCloser, int64, error)
	close() error
}

// layoutSource serves blobs from blobs/<algorithm>/<hex> of a layout.
type layoutSource struct {
	fs   layoutFS
	what string
}

func (s *layoutSource) fetch(ctx context.Context, d v1.Descriptor, _ bool) (io.ReadCloser, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	// The digest was parsed by v1.Hash (known algorithm, lowercase hex of the right length),
	// so the name cannot leave the blobs directory.
	name := "blobs/" + d.Digest.Algorithm + "/" + d.Digest.Hex
	rc, size, err := s.fs.open(name)
	if err != nil {
		return nil, "", err
	}
	if size != d.Size {
		rc.Close()
		return nil, "", newError(CodeSize, s.what+": "+name, "the file is %d bytes, but its descriptor states %d", size, d.Size)
	}
	return rc, "", nil
}

func (s *layoutSource) close() error { return s.fs.close() }

// dirFS reads a layout directory. Every file it opens must be a regular file with a single
// link, reached without following any symbolic link, inside the directory (O9).
type dirFS struct {
	root *os.Root
	dir  string
}

func (d *dirFS) open(name string) (io.ReadCloser, int64, error) {
	what := d.dir + "/" + name
	parts := strings.Split(name, "/")
	for i := 1; i < len(parts); i++ {
		fi, err := d.root.Lstat(strings.Join(parts[:i], "/"))
		if err != nil {
			return nil, 0, notFound(what, err)
		}
		if !fi.IsDir() {
			return nil, 0, newError(CodeNotRegular, what, "%s is a %s, not a directory; layouts may not contain links", strings.Join(parts[:i], "/"), typeName(fi.Mode()))
		}
	}
	fi, err := d.root.Lstat(name)
	if err != nil {
		return nil, 0, notFound(what, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, newError(CodeNotRegular, what, "is a %s, not a regular file; an OCI layout must hold its blobs as regular files (a link could make kensa read a file outside the layout)", typeName(fi.Mode()))
	}
	if n := nlink(fi); n > 1 {
		return nil, 0, newError(CodeNotRegular, what, "has %d hard links; kensa cannot tell whether they lead outside the layout, so it refuses them: copy the layout without hard links (cp -r) and scan the copy", n)
	}
	f, err := d.root.OpenFile(name, os.O_RDONLY|oNoFollow, 0)
	if err != nil {
		return nil, 0, notFound(what, err)
	}
	fi2, err := f.Stat()
	if err != nil || !os.SameFile(fi, fi2) || !fi2.Mode().IsRegular() {
		f.Close()
		return nil, 0, newError(CodeNotRegular, what, "changed while it was being opened")
	}
	return f, fi2.Size(), nil
}

func (d *dirFS) close() error { return d.root.Close() }

func typeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

func notFound(what string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &Error{Code: CodeNotFound, What: what, Detail: "missing from the layout"}
	}
	return &Error{Code: CodeMalformed, What: what, Err: err}
}

// tarFS reads an OCI layout archived in a tar, in place. Links are refused as in a
// directory (O9).
type tarFS struct {
	c   io.Closer
	ix  *tarIndex
	lim *limits.Limits
}

func (t *tarFS) open(name string) (io.ReadCloser, int64, error) {
	m, err := t.ix.lookup(name, false, t.lim)
	if err != nil {
		return nil, 0, err
	}
	return io.NopCloser(t.ix.open(m)), m.size, nil
}

func (t *tarFS) close() error { return t.c.Close() }

// readSmall reads a small layout file that no descriptor describes (oci-layout,
// index.json), bounded by the manifest-size limit.
func readSmall(f layoutFS, name, what string, lim *limits.Limits) ([]byte, error) {
	rc, size, err := f.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > lim.ManifestSize {
		return nil, &limits.Error{Limit: "manifest-size", Value: lim.ManifestSize, What: fmt.Sprintf("%s (%d bytes)", what, size)}
	}
	b, err := io.ReadAll(io.LimitReader(rc, size))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) != size {
		return nil, newError(CodeSize, what, "shorter than its %d bytes", size)
	}
	return b, nil
}

func openLayoutDir(ctx context.Context, ref string, opts Options, lim *limits.Limits) (*Image, error) {
	p, selector, err := splitSelector(ref)
	if err != nil {
		return nil, fmt.Errorf("oci-dir %s: %w", ref, err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("oci-dir %s: not a directory; for a tar of a layout use oci-archive:%s", p, p)
	}
	root, err := os.OpenRoot(p)
	if err != nil {
		return nil, err
	}
	lfs := &dirFS{root: root, dir: p}
	img, err := readLayout(ctx, lfs, p, selector, opts, lim)
	if err != nil {
		lfs.close()
		return nil, err
	}
	return img, nil
}

// openArchiveFile opens a docker-archive or oci-archive file.
func openArchiveFile(ctx context.Context, kind Kind, ref string, opts Options, lim *limits.Limits) (*Image, error) {
	p, selector, err := splitSelector(ref)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", kind, ref, err)
	}
	f, size, err := openRegular(p)
	if err != nil {
		return nil, err
	}
	return openArchive(ctx, kind, f, size, f, p, selector, opts, lim)
}

// openArchive reads an image archive of size bytes from r, in place; c is closed with the
// image, or at once when opening fails.
func openArchive(ctx context.Context, kind Kind, r io.ReaderAt, size int64, c io.Closer, p, selector string, opts Options, lim *limits.Limits) (*Image, error) {
	img, err := func() (*Image, error) {
		ix, err := indexTar(r, size, lim, p)
		if errors.Is(err, errNotTar) {
			return nil, fmt.Errorf("%s %s: not a tar archive (compressed? decompress it first)", kind, p)
		}
		if err != nil {
			return nil, err
		}
		if kind == DockerArchive {
			want, err := parsePlatform(opts.Platform)
			if err != nil {
				return nil, err
			}
			return readDockerArchive(ctx, c, ix, p, selector, want, lim)
		}
		return readLayout(ctx, &tarFS{c: c, ix: ix, lim: lim}, p, selector, opts, lim)
	}()
	if err != nil {
		c.Close()
		return nil, err
	}
	return img, nil
}

func readLayout(ctx context.Context, lfs layoutFS, p, selector string, opts Options, lim *limits.Limits) (*Image, error) {
	lb, err := readSmall(lfs, "oci-layout", p+": oci-layout", lim)
	if err != nil {
		if HasCode(err, CodeNotFound) {
			return nil, fmt.Errorf("%s is not an OCI image layout (no oci-layout file): %w", p, err)
		}
		return nil, err
	}
	if _, err := scanJSON(lb, p+": oci-layout", nil); err != nil {
		return nil, err
	}
	var layout struct {
		Version string `json:"imageLayoutVersion"`
	}
	if err := json.Unmarshal(lb, &layout); err != nil || !strings.HasPrefix(layout.Version, "1.") {
		return nil, newError(CodeUnsupported, p+": oci-layout", "imageLayoutVersion %q; kensa reads version 1 layouts", layout.Version)
	}
	ib, err := readSmall(lfs, "index.json", p+": index.json", lim)
	if err != nil {
		return nil, err
	}
	src := &layoutSource{fs: lfs, what: p}
	r := newResolver(ctx, src, lim, p)
	var filter func(v1.Descriptor) bool
	if selector != "" {
		filter = func(d v1.Descriptor) bool {
			if d.Digest.String() == selector {
				return true
			}
			for _, n := range entryNames(d) {
				if n == selector || strings.HasSuffix(n, "/"+selector) {
					return true
				}
			}
			return false
		}
	}
	img, err := r.resolve(ib, v1.Descriptor{}, "", opts.Platform, filter)
	if err != nil {
		if selector != "" && HasCode(err, CodeSelect) {
			return nil, fmt.Errorf("%w (selector %q)", err, selector)
		}
		return nil, err
	}
	return img, nil
}
