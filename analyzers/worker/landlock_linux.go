package worker

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// landlockABI is the Landlock ABI version of the kernel, or 0 without Landlock (before
// Linux 5.13, or disabled).
func landlockABI() int {
	v, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if errno != 0 {
		return 0
	}
	return int(v)
}

// readable are the paths a worker may still read (and execute, for the binary and the
// system's libraries) once confined: what a Go program, or a race-detector build of one,
// reads to start. /proc does not expose kensa's own entries to it: Landlock denies a
// confined process access to the memory and environment of processes outside its domain.
var readable = []string{"/proc", "/sys", "/lib", "/lib64", "/usr/lib", "/usr/lib64", "/etc/ld.so.cache"}

// domain is what a process confined by Landlock may still do.
type domain struct {
	// exe may be read and executed; readExec are read and executed beneath (libraries);
	// read are read beneath; write are read, written, created in and removed from beneath.
	exe      string
	readExec []string
	read     []string
	write    []string
	// readAll leaves reading and executing unrestricted: only what changes the file
	// system is confined (to write).
	readAll bool
	// tcp allows connecting TCP sockets (binding stays denied).
	tcp bool
}

// analysisDomain is the analysis workers': their binary, the system's libraries, /proc
// and /sys, no writing, no TCP.
func analysisDomain(exe string) domain { return domain{exe: exe, readExec: readable} }

// confineThread puts the calling OS thread in a Landlock domain that allows d and denies
// every other file system access, TCP bind (and connect unless d.tcp), and signals and
// abstract sockets outside the domain. A process started from the thread inherits the
// domain. The caller locks the goroutine to its thread and lets the thread end with it.
func confineThread(abi int, d domain) error {
	const readExec = unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_READ_DIR
	attr := unix.LandlockRulesetAttr{Handled_access_fs: 1<<13 - 1} // ABI 1: execute … make_sym
	size := unsafe.Sizeof(attr.Handled_access_fs)
	if abi >= 2 {
		attr.Handled_access_fs |= unix.LANDLOCK_ACCESS_FS_REFER
	}
	if abi >= 3 {
		attr.Handled_access_fs |= unix.LANDLOCK_ACCESS_FS_TRUNCATE
	}
	if abi >= 4 {
		attr.Handled_access_net = unix.LANDLOCK_ACCESS_NET_BIND_TCP | unix.LANDLOCK_ACCESS_NET_CONNECT_TCP
		if d.tcp {
			attr.Handled_access_net = unix.LANDLOCK_ACCESS_NET_BIND_TCP
		}
		size = unsafe.Offsetof(attr.Handled_access_net) + unsafe.Sizeof(attr.Handled_access_net)
	}
	if abi >= 5 {
		attr.Handled_access_fs |= unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
	}
	if abi >= 6 {
		attr.Scoped = unix.LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | unix.LANDLOCK_SCOPE_SIGNAL
		size = unsafe.Offsetof(attr.Scoped) + unsafe.Sizeof(attr.Scoped)
	}
	if d.readAll {
		attr.Handled_access_fs &^= readExec
	}
	handled := attr.Handled_access_fs
	rs, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr)), size, 0)
	if errno != 0 {
		return fmt.Errorf("creating the Landlock ruleset: %w", errno)
	}
	defer unix.Close(int(rs))
	allow := func(path string, access uint64) error {
		access &= handled
		if access == 0 {
			return nil
		}
		fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				return nil
			}
			return err
		}
		defer unix.Close(fd)
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			// A file takes file rights only.
			access &= unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_WRITE_FILE | unix.LANDLOCK_ACCESS_FS_TRUNCATE | unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
		}
		rule := unix.LandlockPathBeneathAttr{Allowed_access: access, Parent_fd: int32(fd)}
		if _, _, errno := unix.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, rs, unix.LANDLOCK_RULE_PATH_BENEATH, uintptr(unsafe.Pointer(&rule)), 0, 0, 0); errno != 0 {
			return fmt.Errorf("allowing %s: %w", path, errno)
		}
		return nil
	}
	if d.exe != "" {
		if err := allow(d.exe, unix.LANDLOCK_ACCESS_FS_EXECUTE|unix.LANDLOCK_ACCESS_FS_READ_FILE); err != nil {
			return err
		}
	}
	for _, p := range d.readExec {
		if err := allow(p, readExec); err != nil {
			return err
		}
	}
	for _, p := range d.read {
		if err := allow(p, unix.LANDLOCK_ACCESS_FS_READ_FILE|unix.LANDLOCK_ACCESS_FS_READ_DIR); err != nil {
			return err
		}
	}
	for _, p := range d.write {
		// Everything but executing, making devices and the like: the walk's scratch files.
		w := uint64(unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_READ_DIR | unix.LANDLOCK_ACCESS_FS_WRITE_FILE |
			unix.LANDLOCK_ACCESS_FS_REMOVE_DIR | unix.LANDLOCK_ACCESS_FS_REMOVE_FILE | unix.LANDLOCK_ACCESS_FS_MAKE_DIR |
			unix.LANDLOCK_ACCESS_FS_MAKE_REG | unix.LANDLOCK_ACCESS_FS_TRUNCATE)
		if err := allow(p, w); err != nil {
			return err
		}
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if _, _, errno := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, rs, 0, 0); errno != 0 {
		return fmt.Errorf("entering the Landlock domain: %w", errno)
	}
	return nil
}
