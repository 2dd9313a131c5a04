package strings

// NotableMarkers are the substrings, compared without regard to ASCII case, that make a
// string notable: paths, commands and APIs that backdoors, droppers and persistence
// use. A change of executable that brings a new notable string is worth a reader's
// look (kensa diff lists it), where the thousands of other strings of a program are not.
var NotableMarkers = []string{
	"/etc/shadow", "/etc/passwd", "/etc/sudoers", "ld.so.preload", "authorized_keys", "/.ssh/",
	"/dev/tcp/", "/dev/udp/", "/bin/sh", "/bin/bash", "cmd.exe", "powershell", "wscript", "rundll32",
	"crontab", "/etc/cron", "systemctl", "/etc/rc.local", "/etc/init.d/", "ld_preload",
	"/proc/self/", "/proc/%d/", "ptrace", "chmod +s", "chmod 4755", "curl ", "wget ", "nc -e",
	"mkfifo", "base64 -d", "iex(", "invoke-expression", "downloadstring", "currentversion\\run",
	"/tmp/.", "/dev/shm/", "stratum+tcp", "xmrig",
}

// maxNotable bounds the notable strings listed per file.
const maxNotable = 100

// notableIndex finds the markers that start with two given bytes (lower case):
// notableLists[notableIndex[b0<<8|b1]-1], or none for 0.
var notableIndex, notableLists = func() (*[1 << 16]uint8, [][]string) {
	idx := new([1 << 16]uint8)
	var lists [][]string
	for _, m := range NotableMarkers {
		k := uint16(m[0])<<8 | uint16(m[1])
		if idx[k] == 0 {
			lists = append(lists, nil)
			idx[k] = uint8(len(lists))
		}
		lists[idx[k]-1] = append(lists[idx[k]-1], m)
	}
	return idx, lists
}()

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// notable reports whether s holds one of NotableMarkers, in any ASCII case.
func notable(s []byte) bool {
	for i := 0; i+1 < len(s); i++ {
		k := notableIndex[uint16(lowerByte(s[i]))<<8|uint16(lowerByte(s[i+1]))]
		if k == 0 {
			continue
		}
		for _, m := range notableLists[k-1] {
			if hasPrefixFold(s[i:], m) {
				return true
			}
		}
	}
	return false
}

// hasPrefixFold reports whether s starts with the lower-case marker m in any ASCII case.
func hasPrefixFold(s []byte, m string) bool {
	if len(s) < len(m) {
		return false
	}
	for k := 0; k < len(m); k++ {
		if lowerByte(s[k]) != m[k] {
			return false
		}
	}
	return true
}
