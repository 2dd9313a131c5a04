package inventory

import (
	"bytes"
	"io"
	"os"
	"sync"

	"kensa.dev/kensa/internal/limits"
)

// scratch is the private directory where entries that need random access and are too
// large for memory are spooled. It is made on first use with mode 0700 and removed, with
// everything in it, when the walk ends. Nothing else is ever written to disk.
type scratch struct {
	parent string
	once   sync.Once
	dir    string
	err    error
}

func (s *scratch) path() (string, error) {
	s.once.Do(func() { s.dir, s.err = os.MkdirTemp(s.parent, "kensa-scratch-") })
	return s.dir, s.err
}

func (s *scratch) remove() {
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// spool copies r into memory, or into a file in the scratch directory once it passes
// lim.SpoolMemory, and returns random access to the copy and a function that frees it.
func (s *scratch) spool(r io.Reader, lim *limits.Limits) (io.ReaderAt, int64, func(), error) {
	var mem bytes.Buffer
	n, err := io.Copy(&mem, io.LimitReader(r, lim.SpoolMemory+1))
	if err != nil {
		return nil, 0, nil, err
	}
	if n <= lim.SpoolMemory {
		b := mem.Bytes()
		return bytes.NewReader(b), int64(len(b)), func() {}, nil
	}
	dir, err := s.path()
	if err != nil {
		return nil, 0, nil, err
	}
	f, err := os.CreateTemp(dir, "spool-")
	if err != nil {
		return nil, 0, nil, err
	}
	done := func() { f.Close(); os.Remove(f.Name()) }
	if _, err := f.Write(mem.Bytes()); err != nil {
		done()
		return nil, 0, nil, err
	}
	m, err := io.Copy(f, io.LimitReader(r, lim.FileSize-n+1))
	if err != nil {
		done()
		return nil, 0, nil, err
	}
	if n+m > lim.FileSize {
		done()
		return nil, 0, nil, &limits.Error{Limit: "file-size", Value: lim.FileSize, What: "this entry"}
	}
	return f, n + m, done, nil
}
