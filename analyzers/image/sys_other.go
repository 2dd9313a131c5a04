//go:build !unix

package image

import "io/fs"

// nlink returns the number of hard links of a file; where the system does not say, 1.
func nlink(fi fs.FileInfo) uint64 { return 1 }

// oNoFollow makes open fail on a symbolic link where the system has such a flag.
const oNoFollow = 0
