package inventory

import (
	"io/fs"
	"syscall"
)

// changeStamp is what the kernel changes on every write, truncation or metadata change of
// a file and what no user can set back: its status-change time (ctime), with the inode and
// device that identify it.
func changeStamp(fi fs.FileInfo) (stamp [4]int64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return stamp, false
	}
	return [4]int64{st.Ctim.Sec, st.Ctim.Nsec, int64(st.Ino), int64(st.Dev)}, true
}
