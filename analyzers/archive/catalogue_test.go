package archive

import (
	"bytes"
	"testing"
)

// TestD2StanzaCounter: the stanzas of a control file are the paragraphs between blank
// lines (lines of spaces, tabs or CR count as blank; leading, trailing and repeated blank
// lines separate nothing), counted the same however the bytes are split into writes.
func TestD2StanzaCounter(t *testing.T) {
	for _, c := range []struct {
		text string
		want int
	}{
		{"", 0},
		{"\n\n \t\r\n", 0},
		{"Package: a\nVersion: 1\n", 1},
		{"Package: a\nVersion: 1", 1},
		{"\n\nPackage: a\n Description continued\n .\n\n\n", 1},
		{"Package: a\n\nPackage: evil\n", 2},
		{"Package: a\r\n\r\nPackage: evil\r\n", 2},
		{"Package: a\n \t\nPackage: evil\n\n\nPackage: third", 3},
	} {
		for _, chunk := range []int{1, 2, 7, 1 << 20} {
			var sc StanzaCounter
			b := []byte(c.text)
			for len(b) > 0 {
				n := min(chunk, len(b))
				sc.Write(b[:n])
				b = b[n:]
			}
			if got := sc.Stanzas(); got != c.want {
				t.Errorf("%q in writes of %d: %d stanzas, want %d", c.text, chunk, got, c.want)
			}
		}
	}
	// Constant memory: a long control file costs nothing to count.
	var sc StanzaCounter
	long := bytes.Repeat([]byte("X: y\n\n"), 1<<16)
	allocs := testing.AllocsPerRun(10, func() { sc.Write(long) })
	if allocs != 0 {
		t.Errorf("%v allocations per write", allocs)
	}
	for _, name := range []string{"control.tar", "control.tar.gz", "control.tar.xz", "control.tar.zst"} {
		if !IsDebControlMember(name) {
			t.Errorf("%s is a control member", name)
		}
	}
	if IsDebControlMember("data.tar.gz") || IsDebControlMember("control") {
		t.Error("not control members")
	}
}
