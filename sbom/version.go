package sbom

import (
	"strings"
)

// CompareVersions orders two versions of one component: -1, 0 or 1. It follows dpkg's
// algorithm (an optional epoch, then alternating runs of non-digits, compared
// character by character with "~" before everything, and digits, compared as numbers),
// which orders Debian, RPM and most upstream version strings as their ecosystems do.
// For semantic versions (Go modules, npm, cargo) a pre-release ("1.2.0-rc.1") sorts
// before its release, and a leading "v" is ignored.
func CompareVersions(typ, a, b string) int {
	if a == b {
		return 0
	}
	switch typ {
	case "deb", "rpm", "apk", "alpm":
	default:
		a, b = strings.TrimPrefix(a, "v"), strings.TrimPrefix(b, "v")
		ca, pa, _ := strings.Cut(a, "-")
		cb, pb, _ := strings.Cut(b, "-")
		ca, _, _ = strings.Cut(ca, "+")
		cb, _, _ = strings.Cut(cb, "+")
		if c := dpkgCompare(ca, cb); c != 0 || (pa == "" && pb == "") {
			return c
		}
		switch {
		case pa == "":
			return 1
		case pb == "":
			return -1
		}
		return dpkgCompare(pa, pb)
	}
	return dpkgCompare(a, b)
}

// dpkgCompare is dpkg's verrevcmp with the epoch.
func dpkgCompare(a, b string) int {
	ea, ra := epoch(a)
	eb, rb := epoch(b)
	if ea != eb {
		return cmpInt(ea, eb)
	}
	ua, va := splitRevision(ra)
	ub, vb := splitRevision(rb)
	if c := verrevcmp(ua, ub); c != 0 {
		return c
	}
	return verrevcmp(va, vb)
}

func epoch(v string) (int, string) {
	i := strings.IndexByte(v, ':')
	if i <= 0 {
		return 0, v
	}
	n := 0
	for _, c := range v[:i] {
		if c < '0' || c > '9' {
			return 0, v
		}
		n = min(n*10+int(c-'0'), 1<<30)
	}
	return n, v[i+1:]
}

func splitRevision(v string) (string, string) {
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return v[:i], v[i+1:]
	}
	return v, ""
}

func order(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return 0
	case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		return int(c)
	case c == '~':
		return -1
	case c == 0:
		return 0
	}
	return int(c) + 256
}

func verrevcmp(a, b string) int {
	at := func(s string, k int) byte {
		if k < len(s) {
			return s[k]
		}
		return 0
	}
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		firstDiff := 0
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			if ac, bc := order(at(a, i)), order(at(b, j)); ac != bc {
				return cmpInt(ac, bc)
			}
			i++
			j++
		}
		for at(a, i) == '0' {
			i++
		}
		for at(b, j) == '0' {
			j++
		}
		for isDigit(at(a, i)) && isDigit(at(b, j)) {
			if firstDiff == 0 {
				firstDiff = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if isDigit(at(a, i)) {
			return 1
		}
		if isDigit(at(b, j)) {
			return -1
		}
		if firstDiff != 0 {
			return cmpInt(firstDiff, 0)
		}
	}
	return 0
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
