package inventory

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gabriel-vasile/mimetype"

	"kensa.dev/kensa/internal/limits"
)

// Stored says where the bytes of one artifact can be read again after the walk, when the
// walk kept them (Options.Keep).
type Stored struct {
	// File is a file on disk with the artifact's bytes: the original file of a directory
	// or file target, or the copy kept in the inventory's store. Empty for entries without
	// content (directories, links to nothing, devices) and for files that could not be kept.
	File string
	// MIME is the media type detected from the first bytes, as syft and stereoscope
	// detect it ("application/x-sharedlib"); empty for an empty file.
	MIME string
}

// store keeps the bytes of every file read from inside an archive or image, named by
// their sha256 digest so that identical files are kept once. It lives in its own private
// directory (mode 0700) until Inventory.Close.
type store struct {
	dir string

	mu   sync.Mutex
	mime map[string]string // by digest, for hard links
}

func newStore(parent string) (*store, error) {
	dir, err := os.MkdirTemp(parent, "kensa-kept-")
	if err != nil {
		return nil, err
	}
	return &store{dir: dir, mime: map[string]string{}}, nil
}

// file is where content with the given sha256 digest ("sha256:HEX") is kept.
func (s *store) file(digest string) string {
	hex, ok := strings.CutPrefix(digest, "sha256:")
	if !ok || len(hex) != 64 || strings.ContainsAny(hex, "/\\.") {
		return ""
	}
	return filepath.Join(s.dir, hex)
}

// keepWriter copies an entry's bytes into the store while the walk reads them. Like the
// spool, it never fails a write, so that it can sit beside the digest in a stream; a
// failure is reported by commit.
type keepWriter struct {
	s   *store
	lim *limits.Limits
	f   *os.File
	n   int64
	err error
}

func (s *store) writer(lim *limits.Limits) *keepWriter { return &keepWriter{s: s, lim: lim} }

func (k *keepWriter) Write(p []byte) (int, error) {
	if k.err != nil {
		return len(p), nil
	}
	if k.n+int64(len(p)) > k.lim.FileSize {
		k.err = &limits.Error{Limit: "file-size", Value: k.lim.FileSize, What: "this entry"}
		return len(p), nil
	}
	if k.f == nil {
		k.f, k.err = os.CreateTemp(k.s.dir, "part-")
		if k.err != nil {
			return len(p), nil
		}
	}
	k.n += int64(len(p))
	if _, err := k.f.Write(p); err != nil {
		k.err = err
	}
	return len(p), nil
}

// commit names what was written after its digest and returns the kept file.
func (k *keepWriter) commit(digest, mime string) (string, error) {
	final := k.s.file(digest)
	if k.f == nil && k.err == nil {
		// Nothing was written: the empty file.
		k.f, k.err = os.CreateTemp(k.s.dir, "part-")
	}
	if k.err != nil {
		k.discard()
		return "", k.err
	}
	tmp := k.f.Name()
	if err := k.f.Close(); err != nil {
		os.Remove(tmp)
		return "", err
	}
	k.f = nil
	if final == "" {
		os.Remove(tmp)
		return "", errors.New("bad digest " + digest)
	}
	// The same bytes may have been kept already, possibly at this very moment by
	// another file: a link that exists is as good as ours.
	err := os.Link(tmp, final)
	os.Remove(tmp)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	k.s.mu.Lock()
	k.s.mime[digest] = mime
	k.s.mu.Unlock()
	return final, nil
}

// discard drops a partial copy.
func (k *keepWriter) discard() {
	if k.f != nil {
		k.f.Close()
		os.Remove(k.f.Name())
		k.f = nil
	}
}

// mimeOf detects a media type from a file's first bytes (the sniffer's head, as many as
// mimetype reads) the way stereoscope does, without parameters.
func mimeOf(head []byte) string {
	if len(head) == 0 {
		return ""
	}
	t, _, _ := strings.Cut(mimetype.Detect(head).String(), ";")
	return t
}

// kept returns the kept file and MIME type of content with the given digest, if any.
func (s *store) kept(digest string) (Stored, bool) {
	s.mu.Lock()
	mime, ok := s.mime[digest]
	s.mu.Unlock()
	if !ok {
		return Stored{}, false
	}
	return Stored{File: s.file(digest), MIME: mime}, true
}
