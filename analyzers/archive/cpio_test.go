package archive

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"kensa.dev/kensa/internal/limits"
)

type cpioMember struct {
	name     string
	mode     uint32
	content  []byte
	ino      uint32
	nlink    uint32
	namesize int // 0: len(name)+1
	check    int // -1: the right sum
	magic    string
}

// newc encodes members in the newc (or crc) format, with a trailer unless noTrailer.
func newc(noTrailer bool, members ...cpioMember) []byte {
	var b []byte
	pad := func() {
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	if !noTrailer {
		members = append(members[:len(members):len(members)], cpioMember{name: "TRAILER!!!", nlink: 1})
	}
	for i, m := range members {
		magic := m.magic
		if magic == "" {
			magic = "070701"
		}
		namesize := m.namesize
		if namesize == 0 {
			namesize = len(m.name) + 1
		}
		var sum uint32
		for _, c := range m.content {
			sum += uint32(c)
		}
		check := uint32(0)
		if magic == "070702" {
			check = sum
			if m.check >= 0 && m.check != 0 {
				check = uint32(m.check)
			}
		}
		ino, nlink := m.ino, m.nlink
		if ino == 0 {
			ino = uint32(i + 1)
		}
		if nlink == 0 {
			nlink = 1
		}
		b = append(b, fmt.Sprintf("%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			magic, ino, m.mode, 0, 0, nlink, 1700000000, len(m.content), 0, 0, 0, 0, namesize, check)...)
		b = append(b, m.name...)
		b = append(b, 0)
		pad()
		b = append(b, m.content...)
		pad()
	}
	return b
}

func readCpio(t testing.TB, b []byte, l *limits.Limits) ([]got, error) {
	t.Helper()
	return readAll(NewCpio(bytes.NewReader(b), l), 1<<20)
}

func TestCpioBasics(t *testing.T) {
	b := newc(false,
		cpioMember{name: ".", mode: 0o40755},
		cpioMember{name: "./bin/run", mode: 0o104755, content: []byte("#!/bin/sh\n")},
		cpioMember{name: "./link", mode: 0o120777, content: []byte("bin/run")},
		cpioMember{name: "./dev/null", mode: 0o20666},
		cpioMember{name: "./fifo", mode: 0o10644},
		cpioMember{name: "./sock", mode: 0o140755},
		cpioMember{name: "../../etc/cron.d/x", mode: 0o100644, content: []byte("* * * * * root sh")},
	)
	got, err := readCpio(t, b, lim())
	if err != nil {
		t.Fatal(err)
	}
	want := []Type{Dir, Regular, Symlink, CharDevice, FIFO, Socket, Regular}
	for i, g := range got {
		if g.Type != want[i] || g.ReadErr != nil {
			t.Errorf("%s: %s, want %s (%v)", g.Name, g.Type, want[i], g.ReadErr)
		}
	}
	if got[1].Mode.String() != "urwxr-xr-x" || string(got[1].Content) != "#!/bin/sh\n" || got[2].Linkname != "bin/run" || string(got[2].Content) != "bin/run" {
		t.Errorf("%+v %+v", got[1], got[2])
	}
	// R4: a payload name that climbs is returned as stored; CleanName contains it.
	if clean, err := CleanName(got[6].Name, lim()); clean != "etc/cron.d/x" || err == nil {
		t.Errorf("CleanName: %q %v", clean, err)
	}
}

func TestCpioHostile(t *testing.T) {
	good := cpioMember{name: "a", mode: 0o100644, content: []byte("abc")}
	for _, c := range []struct {
		name  string
		b     []byte
		limit string
		kind  error
	}{
		{"no trailer", newc(true, good), "", io.ErrUnexpectedEOF},
		{"empty", nil, "", io.ErrUnexpectedEOF},
		{"truncated header", newc(false, good)[:50], "", io.ErrUnexpectedEOF},
		{"truncated name", newc(false, good)[:111], "", io.ErrUnexpectedEOF},
		{"truncated content", newc(true, cpioMember{name: "a", mode: 0o100644, content: make([]byte, 100)})[:120], "", io.ErrUnexpectedEOF},
		{"name over header-size", newc(false, cpioMember{name: "a", mode: 0o100644, namesize: 2 << 20}), "header-size", nil},
		{"name size zero", []byte("070701" + strings.Repeat("0", 88) + "00000000" + strings.Repeat("0", 8)), "", nil},
		{"name not terminated", newc(false, cpioMember{name: "ab", mode: 0o100644, namesize: 2}), "", nil},
		{"not hexadecimal", []byte("070701" + strings.Repeat("Z", 104)), "", nil},
		{"binary cpio", append([]byte{0xc7, 0x71}, make([]byte, 30)...), "", ErrUnsupported},
		{"stripped outside rpm", []byte("07070X00000000"), "", ErrUnsupported},
		{"not cpio", []byte("garbage garbage"), "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			bounded(t, 8<<20, func() {
				got, err := readCpio(t, c.b, lim())
				for _, g := range got {
					if g.ReadErr != nil {
						err = g.ReadErr
					}
				}
				if c.limit != "" {
					wantLimit(t, err, c.limit)
					return
				}
				wantFormat(t, err, "cpio", c.kind)
			})
		})
	}
	// crc format: a wrong sum fails that entry's Read; the next entry reads.
	got, err := readCpio(t, newc(false,
		cpioMember{name: "bad", mode: 0o100644, content: []byte("abc"), magic: "070702", check: 7},
		cpioMember{name: "good", mode: 0o100644, content: []byte("abc"), magic: "070702", check: -1},
	), lim())
	if err != nil || len(got) != 2 {
		t.Fatalf("%v", err)
	}
	wantFormat(t, got[0].ReadErr, "cpio", ErrChecksum)
	if got[1].ReadErr != nil || string(got[1].Content) != "abc" {
		t.Errorf("good entry: %v", got[1].ReadErr)
	}
	// Entry limit.
	members := make([]cpioMember, 11)
	for i := range members {
		members[i] = cpioMember{name: fmt.Sprint(i), mode: 0o100644}
	}
	l := lim()
	l.Entries = 10
	_, err = readCpio(t, newc(false, members...), l)
	wantLimit(t, err, "entries")
	// Odd things that do not stop reading.
	l = lim()
	l.PathLength = 10
	got, err = readCpio(t, newc(false,
		cpioMember{name: "d", mode: 0o40755, content: []byte("hidden")},
		cpioMember{name: "l", mode: 0o120777, content: []byte(strings.Repeat("t", 20))},
		cpioMember{name: "x\x00y", mode: 0o100644, namesize: 4},
		cpioMember{name: "?", mode: 0o170644},
		cpioMember{name: "x", mode: 0o100644},
	), l)
	if err != nil {
		t.Fatal(err)
	}
	if !hasAnomaly(got[0].Entry, "declares 6 bytes") || string(got[0].Content) != "hidden" ||
		!hasAnomaly(got[1].Entry, "longer than the path-length") || got[1].Linkname != "" || len(got[1].Content) != 20 ||
		got[2].Name != "x" || !hasAnomaly(got[2].Entry, "after its NUL") ||
		got[3].Type != Other || !hasAnomaly(got[4].Entry, "duplicate") {
		t.Errorf("%+v", got)
	}
}

// TestCpioHardLinks: a hard-link group (same inode, link count above one) is one file
// and links to it, whichever member carries the content.
func TestCpioHardLinks(t *testing.T) {
	got, err := readCpio(t, newc(false,
		cpioMember{name: "a", mode: 0o100644, ino: 7, nlink: 3},
		cpioMember{name: "b", mode: 0o100644, ino: 7, nlink: 3},
		cpioMember{name: "c", mode: 0o100644, ino: 7, nlink: 3, content: []byte("shared")},
		cpioMember{name: "d", mode: 0o40755, ino: 8, nlink: 2},
		cpioMember{name: "e", mode: 0o40755, ino: 8, nlink: 2},
	), lim())
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Type != Regular || !hasAnomaly(got[0].Entry, "first of 3 hard links") ||
		got[1].Type != Hardlink || got[1].Linkname != "a" ||
		got[2].Type != Hardlink || got[2].Linkname != "a" || string(got[2].Content) != "shared" || !hasAnomaly(got[2].Entry, "carries the content") ||
		got[3].Type != Dir || got[4].Type != Dir {
		t.Errorf("%+v", got)
	}
}

func FuzzCpio(f *testing.F) {
	f.Add(newc(false, cpioMember{name: ".", mode: 0o40755}, cpioMember{name: "a", mode: 0o100644, content: []byte("abc"), ino: 3, nlink: 2},
		cpioMember{name: "b", mode: 0o100644, ino: 3, nlink: 2}, cpioMember{name: "l", mode: 0o120777, content: []byte("a")}))
	f.Add(newc(false, cpioMember{name: "c", mode: 0o100644, content: []byte("crc"), magic: "070702", check: -1}))
	f.Add([]byte("0707070000000000000100644000000000000000010000000000000000000000000200000000004a\x00abcd07070700000000000000000000000000000000000000000000000000000000000000013000000000000TRAILER!!!\x00"))
	for _, b := range toolSeeds(f, []string{"cpio"}, "find . | cpio --quiet -o -H newc > $OUT", "find . | cpio --quiet -o -H crc > $OUT",
		"find . | cpio --quiet -o -H odc > $OUT") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := limits.Default()
		l.Entries = 1000
		l.HeaderSize = 1 << 16
		walk := func() string {
			var b strings.Builder
			r := NewCpio(bytes.NewReader(data), &l)
			total := int64(0)
			for {
				e, err := r.Next()
				if err != nil {
					fmt.Fprintf(&b, "end %v", err)
					return b.String()
				}
				clean, _ := CleanName(e.Name, &l)
				checkClean(t, e.Name, clean, &l)
				n, rerr := io.Copy(io.Discard, r)
				if total += n; total > int64(len(data)) {
					t.Fatalf("%d bytes of content from %d bytes", total, len(data))
				}
				fmt.Fprintf(&b, "%q %s %v %q %d %v %q|", e.Name, e.Type, e.Mode, e.Linkname, n, rerr, e.Anomalies)
			}
		}
		if a, b := walk(), walk(); a != b {
			t.Fatalf("not deterministic:\n%s\n%s", a, b)
		}
	})
}
