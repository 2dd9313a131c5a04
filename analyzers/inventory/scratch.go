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
	mem []byte // from spoolBuffers when the entry declared its size
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
	sw := &spoolWriter{s: s, lim: lim, disk: declared > lim.SpoolMemory}
	if !sw.disk && declared > 0 {
		// A declared size can lie low or high: the buffer grows past it as needed, and
		// what it reserves is at most lim.SpoolMemory, as an honest entry would take.
		sw.mem = getSpoolBuffer(int(declared))
	}
	return sw
}

// spoolBuffers keeps freed spool buffers by size class (powers of two from 4 KiB to
// maxPooledSpool): a walk spools tens of thousands of files, and a buffer grown by
// doubling and allocated anew for each costs more CPU in clearing memory than the
// analyzers spend reading it. They are kept in a free list of at most maxKeptSpool
// bytes, not in a sync.Pool: a pool is emptied by the garbage collector, which runs
// every few files in a walk, and a buffer allocated anew after the runtime returned
// its pages to the system is faulted in and cleared again page by page.
var spoolBuffers spoolFree

const (
	minPooledSpool = 4 << 10
	maxPooledSpool = 16 << 20
	spoolClasses   = 13 // 4 KiB << 12 = 16 MiB
	maxKeptSpool   = 48 << 20
)

type spoolFree struct {
	mu    sync.Mutex
	class [spoolClasses][][]byte
	kept  int // bytes held in class
}

// spoolClass returns the class of the smallest pooled buffer that holds n bytes, or -1.
func spoolClass(n int) int {
	for c, size := 0, minPooledSpool; c < spoolClasses; c, size = c+1, size*2 {
		if n <= size {
			return c
		}
	}
	return -1
}

// getSpoolBuffer returns an empty buffer that holds n bytes without growing.
func getSpoolBuffer(n int) []byte {
	c := spoolClass(n)
	if c < 0 {
		return make([]byte, 0, n)
	}
	f := &spoolBuffers
	f.mu.Lock()
	if k := len(f.class[c]); k > 0 {
		b := f.class[c][k-1]
		f.class[c][k-1] = nil
		f.class[c] = f.class[c][:k-1]
		f.kept -= cap(b)
		f.mu.Unlock()
		return b
	}
	f.mu.Unlock()
	return make([]byte, 0, minPooledSpool<<c)
}

// putSpoolBuffer keeps b for a later entry if its capacity is one of the classes and
// the free list has room.
func putSpoolBuffer(b []byte) {
	c := spoolClass(cap(b))
	if c < 0 || cap(b) != minPooledSpool<<c {
		return
	}
	f := &spoolBuffers
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.kept+cap(b) > maxKeptSpool {
		return
	}
	f.class[c] = append(f.class[c], b[:0])
	f.kept += cap(b)
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
		sw.mem = append(sw.mem, p...)
		return len(p), nil
	}
	if sw.f == nil {
		dir, err := sw.s.path()
		if err == nil {
			sw.f, err = os.CreateTemp(dir, "spool-")
		}
		if err == nil {
			_, err = sw.f.Write(sw.mem)
		}
		putSpoolBuffer(sw.mem)
		sw.mem = nil
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
	return bytes.NewReader(sw.mem), sw.n, nil
}

// free drops the copy. Nothing may read it afterwards: its memory goes to the next
// entry (the analyzers read it through ReadAt, which copies, and are done when
// analyze returns).
func (sw *spoolWriter) free() {
	putSpoolBuffer(sw.mem)
	sw.mem = nil
	if sw.f != nil {
		sw.f.Close()
		os.Remove(sw.f.Name())
		sw.f = nil
	}
}
