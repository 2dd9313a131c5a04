package inventory

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"time"
)

// errChanged is the error of a file of a directory target that changed while kensa read
// it: its digest and its facts may describe different bytes.
var errChanged = errors.New("the file changed while it was being read (its digest and what the analyzers saw may be of different bytes); inspect a copy that nothing writes to")

// errChangedSince is the error of reading a directory target's file again after the walk
// when it is no longer the file the walk hashed.
var errChangedSince = errors.New("the file changed after it was inspected (it is no longer the file whose digest kensa reported); inspect a copy that nothing writes to")

// diskStamp is what a file of a directory target looked like when the walk read it: a
// write, a truncation, a modification time set back or a rename over it all change it.
type diskStamp struct {
	size   int64
	mtime  time.Time
	change [4]int64 // ctime (seconds, nanoseconds), inode, device
	ok     bool     // change was read
}

func stampOf(fi fs.FileInfo) *diskStamp {
	s := &diskStamp{size: fi.Size(), mtime: fi.ModTime()}
	s.change, s.ok = changeStamp(fi)
	return s
}

// matches reports whether fi still describes the stamped file.
func (s *diskStamp) matches(fi fs.FileInfo) bool {
	if fi.Size() != s.size || !fi.ModTime().Equal(s.mtime) {
		return false
	}
	c, ok := changeStamp(fi)
	return ok == s.ok && c == s.change
}

// changedSince reports whether the open file f is no longer the file before describes, or
// its path now names another file. The digest is computed from one read and the analyzers
// read the file again, so a change between before and now may make them disagree.
func changedSince(f *os.File, path string, before fs.FileInfo) bool {
	s := stampOf(before)
	now, err := f.Stat()
	if err != nil || !s.matches(now) {
		return true
	}
	named, err := os.Lstat(path)
	return err != nil || !s.matches(named)
}

// checkedFile is a directory target's file opened again after the walk: reading it to its
// end fails when it changed since the walk hashed it. It has only the methods below, so
// that io.Copy cannot read around them (through *os.File's WriteTo).
type checkedFile struct {
	f     *os.File
	stamp *diskStamp
}

func (c checkedFile) check(err error) error {
	if err == io.EOF {
		if fi, serr := c.f.Stat(); serr != nil || !c.stamp.matches(fi) {
			return errChangedSince
		}
	}
	return err
}

func (c checkedFile) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	return n, c.check(err)
}

func (c checkedFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.f.ReadAt(p, off)
	return n, c.check(err)
}

func (c checkedFile) Seek(off int64, whence int) (int64, error) { return c.f.Seek(off, whence) }
func (c checkedFile) Close() error                              { return c.f.Close() }
