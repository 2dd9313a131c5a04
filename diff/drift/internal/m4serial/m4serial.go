// Package m4serial reads the serial line of an m4 macro file, the version stamp aclocal
// compares when it decides which copy of a macro file to install ("# serial 12",
// "#serial 31", "# gettext.m4 serial 71 (gettext-0.20.2)", "dnl serial 11").
package m4serial

import "bytes"

// MaxLine bounds the length of a line the reader looks at; longer lines are skipped.
const MaxLine = 512

// Serial is the first serial line of an m4 file.
type Serial struct {
	// Name is the file name the line states ("gettext.m4" in "# gettext.m4 serial 71"),
	// or empty when the line states none.
	Name string
	// Number is the serial, digits separated by dots.
	Number string
	// Line is the 1-based line number.
	Line int
}

// Find returns the first serial line of content, or ok false when it has none.
func Find(content []byte) (s Serial, ok bool) {
	line := 0
	for len(content) > 0 {
		line++
		var l []byte
		if i := bytes.IndexByte(content, '\n'); i >= 0 {
			l, content = content[:i], content[i+1:]
		} else {
			l, content = content, nil
		}
		if len(l) > MaxLine {
			continue
		}
		if name, num, ok := parse(l); ok {
			return Serial{Name: name, Number: num, Line: line}, true
		}
	}
	return Serial{}, false
}

// parse reads "# [NAME ]serial N[ anything]" or "dnl [NAME ]serial N[ anything]".
func parse(l []byte) (name, num string, ok bool) {
	l = bytes.TrimRight(l, "\r")
	switch {
	case bytes.HasPrefix(l, []byte("#")):
		l = l[1:]
	case bytes.HasPrefix(l, []byte("dnl")) && (len(l) == 3 || l[3] == ' ' || l[3] == '\t'):
		l = l[3:]
	default:
		return "", "", false
	}
	f := bytes.Fields(l)
	switch {
	case len(f) >= 2 && string(f[0]) == "serial":
		num = string(f[1])
	case len(f) >= 3 && string(f[1]) == "serial" && bytes.HasSuffix(f[0], []byte(".m4")):
		name, num = string(f[0]), string(f[2])
	default:
		return "", "", false
	}
	if !valid(num) {
		return "", "", false
	}
	return name, num, true
}

// valid reports a serial number: digits, optionally separated by single dots.
func valid(n string) bool {
	if n == "" || len(n) > 32 {
		return false
	}
	digit := false
	for i := 0; i < len(n); i++ {
		switch c := n[i]; {
		case c >= '0' && c <= '9':
			digit = true
		case c == '.' && digit && i+1 < len(n):
			digit = false
		default:
			return false
		}
	}
	return digit
}
