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
// declared is the size the archive declares for r, or -1.
func (s *scratch) spool(r io.Reader, lim *limits.Limits, declared int64) (io.ReaderAt, int64, func(), error) {
	sw := s.newSpool(lim, declared)
	if _, err := io.Copy(sw, r); err != nil {
		sw.free()
		return nil, 0, nil, err
	}
	ra, n, err := sw.reader()
	if err != nil {
		sw.free()
		return nil, 0, nil, err
	}
	return ra, n, sw.free, nil
}

// spoolWriter keeps what is written to it: in memory up to lim.SpoolMemory, then in a
// file in the scratch directory, up to lim.FileSize. It never fails a write, so that it
// can sit beside the digest in a stream; a failure is reported by reader.
type spoolWriter struct {
	s   *scratch
	lim *limits.Limits
	mem bytes.Buffer
	f   *os.File
	n   int64
	err error
	// disk sends every byte to the file: the entry declared more than lim.SpoolMemory,
	// so holding its start in memory would only cost a copy.
	disk bool
}

// newSpool makes a spoolWriter for an entry that declares declared bytes (-1: unknown).
// A declared size is only a hint: a lie can send a small entry to disk, never a large
// one to memory.
func (s *scratch) newSpool(lim *limits.Limits, declared int64) *spoolWriter {
	return &spoolWriter{s: s, lim: lim, disk: declared > lim.SpoolMemory}
}

func (sw *spoolWriter) Write(p []byte) (int, error) {
	if sw.err != nil {
		return len(p), nil
	}
	if sw.n+int64(len(p)) > sw.lim.FileSize {
		sw.err = &limits.Error{Limit: "file-size", Value: sw.lim.FileSize, What: "this entry"}
		return len(p), nil
	}
	sw.n += int64(len(p))
	if sw.f == nil && !sw.disk && sw.n <= sw.lim.SpoolMemory {
		sw.mem.Write(p)
		return len(p), nil
	}
	if sw.f == nil {
		dir, err := sw.s.path()
		if err == nil {
			sw.f, err = os.CreateTemp(dir, "spool-")
		}
		if err == nil {
			_, err = sw.f.Write(sw.mem.Bytes())
		}
		sw.mem = bytes.Buffer{}
		if err != nil {
			sw.err = err
			return len(p), nil
		}
	}
	if _, err := sw.f.Write(p); err != nil {
		sw.err = err
	}
	return len(p), nil
}

// reader gives random access to what was written, and its length.
func (sw *spoolWriter) reader() (io.ReaderAt, int64, error) {
	if sw.err != nil {
		return nil, 0, sw.err
	}
	if sw.f != nil {
		return sw.f, sw.n, nil
	}
	return bytes.NewReader(sw.mem.Bytes()), sw.n, nil
}

// free drops the copy.
func (sw *spoolWriter) free() {
	sw.mem = bytes.Buffer{}
	if sw.f != nil {
		sw.f.Close()
		os.Remove(sw.f.Name())
		sw.f = nil
	}
}
