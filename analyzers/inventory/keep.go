package inventory

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/gabriel-vasile/mimetype"

	"kensa.dev/kensa/internal/limits"
)

// Stored says where the bytes of one artifact can be read again after the walk, when the
// walk kept them (Options.Keep).
type Stored struct {
	// File is the file on disk holding the artifact's bytes: the original file of a
	// directory or file target, or one of the inventory's pack files, at Offset. Empty for
	// entries without content (directories, links, devices) and files that could not be
	// kept.
	File   string
	Offset int64
	Size   int64
	// MIME is the media type detected from the first bytes, as syft and stereoscope
	// detect it ("application/x-sharedlib"); empty for an empty file.
	MIME string

	pack   *os.File // the open pack holding the bytes, when they were copied
	inPack bool
	stamp  *diskStamp // File as the walk read it, for a directory or file target's file
}

// ReadSeekCloser is what Open returns.
type ReadSeekCloser interface {
	io.Reader
	io.ReaderAt
	io.Seeker
	io.Closer
}

// Open reads the kept bytes. It does not follow a symbolic link put in place of a
// directory target's file since the walk. Valid until Inventory.Close.
func (s Stored) Open() (ReadSeekCloser, error) {
	if s.inPack {
		if s.Size == 0 {
			return section{io.NewSectionReader(emptyReader{}, 0, 0)}, nil
		}
		return section{io.NewSectionReader(s.pack, s.Offset, s.Size)}, nil
	}
	if s.File == "" {
		return nil, errors.New("the bytes of this entry were not kept")
	}
	f, err := os.OpenFile(s.File, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	if s.stamp == nil {
		return f, nil
	}
	// The file is read where it is: it must still be the file the walk hashed.
	if fi, err := f.Stat(); err != nil || !s.stamp.matches(fi) {
		f.Close()
		return nil, fmt.Errorf("%s: %w", s.File, errChangedSince)
	}
	return checkedFile{f, s.stamp}, nil
}

type section struct{ *io.SectionReader }

type emptyReader struct{}

func (emptyReader) ReadAt([]byte, int64) (int, error) { return 0, io.EOF }

func (section) Close() error { return nil }

// store keeps the bytes of every file read from inside an archive or image in pack
// files: append-only files in a private directory (mode 0700), one per writer at a time,
// so that keeping a file costs its writes and no more. Identical content is kept once.
// Everything is removed by Inventory.Close.
type store struct {
	dir string

	mu       sync.Mutex
	free     []*packFile
	packs    []*packFile
	byDigest map[string]Stored
}

type packFile struct {
	f    *os.File
	size int64
}

func newStore(parent string) (*store, error) {
	dir, err := os.MkdirTemp(parent, "kensa-kept-")
	if err != nil {
		return nil, err
	}
	return &store{dir: dir, byDigest: map[string]Stored{}}, nil
}

// take lends a pack to one writer.
func (s *store) take() (*packFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.free); n > 0 {
		p := s.free[n-1]
		s.free = s.free[:n-1]
		return p, nil
	}
	f, err := os.OpenFile(filepath.Join(s.dir, fmt.Sprintf("pack-%d", len(s.packs))), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	p := &packFile{f: f}
	s.packs = append(s.packs, p)
	return p, nil
}

func (s *store) give(p *packFile) {
	s.mu.Lock()
	s.free = append(s.free, p)
	s.mu.Unlock()
}

func (s *store) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.packs {
		p.f.Close()
	}
	s.packs, s.free = nil, nil
	return os.RemoveAll(s.dir)
}

// kept returns what is kept for a digest, if anything.
func (s *store) kept(digest string) (Stored, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.byDigest[digest]
	return st, ok
}

// keepWriter appends an entry's bytes to a pack while the walk reads them. Like the
// spool, it never fails a write, so that it can sit beside the digest in a stream; a
// failure is reported by commit.
type keepWriter struct {
	s     *store
	lim   *limits.Limits
	p     *packFile
	start int64
	n     int64
	err   error
}

func (s *store) writer(lim *limits.Limits) *keepWriter { return &keepWriter{s: s, lim: lim} }

func (k *keepWriter) Write(b []byte) (int, error) {
	if k.err != nil {
		return len(b), nil
	}
	if k.n+int64(len(b)) > k.lim.FileSize {
		k.err = &limits.Error{Limit: "file-size", Value: k.lim.FileSize, What: "this entry"}
		return len(b), nil
	}
	if k.p == nil {
		if k.p, k.err = k.s.take(); k.err != nil {
			return len(b), nil
		}
		k.start = k.p.size
	}
	m, err := k.p.f.WriteAt(b, k.start+k.n)
	k.n += int64(m)
	if err != nil {
		k.err = err
	}
	return len(b), nil
}

// commit records what was written under its digest and returns where it is kept.
func (k *keepWriter) commit(digest, mime string) (Stored, error) {
	defer k.release()
	if k.err != nil {
		return Stored{}, k.err
	}
	k.s.mu.Lock()
	defer k.s.mu.Unlock()
	if st, ok := k.s.byDigest[digest]; ok {
		// Kept already: this copy's bytes are dropped (release leaves the pack's end
		// where it was).
		k.n = 0
		return st, nil
	}
	st := Stored{Size: k.n, MIME: mime, inPack: true}
	if k.p != nil {
		st.File, st.Offset, st.pack = k.p.f.Name(), k.start, k.p.f
		k.p.size = k.start + k.n
	} else {
		st.File = k.s.dir // the empty file: nothing to read
	}
	k.s.byDigest[digest] = st
	return st, nil
}

// release gives the pack back; whatever was not committed is overwritten by its next
// writer.
func (k *keepWriter) release() {
	if k.p != nil {
		k.s.give(k.p)
		k.p = nil
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
