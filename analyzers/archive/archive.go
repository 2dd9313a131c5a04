// Package archive reads the archive and compression formats a delivery arrives in (tar,
// zip and jar, ar and deb, cpio, rpm; gzip, bzip2, xz, lzma and zstd streams) as one
// sequential stream of entries, without extracting anything to disk.
//
// Every reader treats its input as hostile: entry counts, header sizes and decompressed
// sizes are bounded by the run's limits, and a reader never allocates by a size the input
// declares. Names are returned as stored; CleanName turns a stored name into a safe path
// relative to the archive root, or says why it cannot.
package archive

import (
	"io"
	"io/fs"
	"time"
)

// Type is the kind of an archive entry.
type Type uint8

// The entry types. Only Regular and Other entries carry content of their own; a zip or
// cpio symbolic link carries its target as content, and a cpio Hardlink may carry the
// content of its link group.
const (
	Regular     Type = iota // a regular file
	Dir                     // a directory
	Symlink                 // a symbolic link; Entry.Linkname is its target
	Hardlink                // a hard link; Entry.Linkname names the entry it links to
	CharDevice              // a character device node
	BlockDevice             // a block device node
	FIFO                    // a named pipe
	Socket                  // a Unix socket
	Other                   // a type the format defines and this package does not map
)

var typeNames = [...]string{"file", "dir", "symlink", "hardlink", "char", "block", "fifo", "socket", "other"}

// String returns the type's name: "file", "dir", "symlink", "hardlink", "char", "block",
// "fifo", "socket" or "other".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "other"
}

// Entry is one member of an archive, as its header describes it.
type Entry struct {
	// Name is the member name exactly as stored. Use CleanName before treating it as a path.
	Name string
	// Type is the kind of entry.
	Type Type
	// Mode holds the permission bits and the setuid, setgid and sticky bits.
	Mode fs.FileMode
	// Size is the size of the content in bytes as the header declares it; -1 if unknown.
	// Readers never trust it for allocation.
	Size int64
	// Linkname is the target of a symbolic or hard link.
	Linkname string
	// ModTime is the modification time the header records.
	ModTime time.Time
	// UID and GID are the numeric owner and group the header records.
	UID, GID int
	// Xattrs holds extended attributes recorded in the archive (security.capability and
	// the like); values are raw bytes.
	Xattrs map[string]string
	// Anomalies are structural oddities of this entry that do not stop reading it (a local
	// zip header that disagrees with the central directory, a duplicate name, data before
	// the first entry). They are facts for rules, not errors.
	Anomalies []string
}

// Reader is a sequential archive reader, in the style of archive/tar.
//
// Next advances to the next entry and returns io.EOF after the last. Any other error from
// Next is final: the archive cannot be read further. Read reads the content of the current
// entry; an error from Read concerns that entry only, and Next may still succeed.
type Reader interface {
	Next() (*Entry, error)
	io.Reader
}
