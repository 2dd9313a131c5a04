package archive

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"
	"testing"

	"kensa.dev/kensa/internal/limits"
)

type arMember struct {
	name    string // the raw 16-byte name field
	content []byte
	size    string // the size field; from len(content) when empty
	mode    string
}

func arHeader(m arMember) []byte {
	size := m.size
	if size == "" {
		size = fmt.Sprint(len(m.content))
	}
	mode := m.mode
	if mode == "" {
		mode = "100644"
	}
	return []byte(fmt.Sprintf("%-16s%-12s%-6s%-6s%-8s%-10s`\n", m.name, "1700000000", "0", "0", mode, size))
}

func arBytes(members ...arMember) []byte {
	b := []byte(arMagic)
	for _, m := range members {
		b = append(b, arHeader(m)...)
		b = append(b, m.content...)
		if len(m.content)%2 == 1 {
			b = append(b, '\n')
		}
	}
	return b
}

func readAr(t testing.TB, b []byte, l *limits.Limits) ([]got, error) {
	t.Helper()
	return readAll(NewAr(bytes.NewReader(b), l), 1<<20)
}

// TestD1ArNames: D1 — GNU names with a trailing slash, long names through the table, BSD
// names after the header, symbol tables skipped, hostile names returned as stored.
func TestD1ArNames(t *testing.T) {
	table := "a-very-long-member-name.o/\n../../etc/passwd/\n"
	b := arBytes(
		arMember{name: "/", content: []byte("symbols")},
		arMember{name: "//", content: []byte(table)},
		arMember{name: "short.o/", content: []byte("s")},
		arMember{name: "/0", content: []byte("long")},
		arMember{name: "/27", content: []byte("evil")},
		arMember{name: "../x/", content: []byte("x")},
		arMember{name: "#1/20", content: append([]byte("bsd-name-of-20-bytes"), "bsd content"...)},
		arMember{name: "#1/12", content: []byte("__.SYMDEF\x00\x00\x00")},
		arMember{name: "plain", content: []byte("p")},
	)
	got, err := readAr(t, b, lim())
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ name, content string }{
		{"short.o", "s"}, {"a-very-long-member-name.o", "long"}, {"../../etc/passwd", "evil"},
		{"../x", "x"}, {"bsd-name-of-20-bytes", "bsd content"}, {"plain", "p"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries: %+v", len(got), got)
	}
	for i, g := range got {
		if g.Name != want[i].name || string(g.Content) != want[i].content || g.Size != int64(len(want[i].content)) || g.Mode != 0o644 {
			t.Errorf("entry %d: %q %q %d %v", i, g.Name, g.Content, g.Size, g.Mode)
		}
	}
	if _, err := CleanName(got[2].Name, lim()); err == nil {
		t.Error("CleanName accepted ../../etc/passwd")
	}
}

// TestArHostile: long-name table tricks, oversized names and tables, bad fields,
// truncation, and the entry limit.
func TestArHostile(t *testing.T) {
	l := lim()
	for _, c := range []struct {
		name  string
		b     []byte
		limit string
		kind  error
	}{
		{"reference without table", arBytes(arMember{name: "/0", content: []byte("x")}), "", nil},
		{"reference outside table", arBytes(arMember{name: "//", content: []byte("a/\n")}, arMember{name: "/99", content: []byte("x")}), "", nil},
		{"unterminated long name", arBytes(arMember{name: "//", content: []byte("abc")}, arMember{name: "/0", content: []byte("x")}), "", nil},
		{"second table", arBytes(arMember{name: "//", content: []byte("a/\n")}, arMember{name: "//", content: []byte("b/\n")}), "", nil},
		{"table over header-size", arBytes(arMember{name: "//", size: fmt.Sprint(2 << 20)}), "header-size", nil},
		{"BSD name over header-size", arBytes(arMember{name: "#1/2000000", size: "3000000"}), "header-size", nil},
		{"BSD name longer than member", arBytes(arMember{name: "#1/20", content: []byte("short")}), "", nil},
		{"size not decimal", arBytes(arMember{name: "x", size: "-5"}), "", nil},
		{"size in hex", arBytes(arMember{name: "x", size: "0x10"}), "", nil},
		{"bad terminator", append([]byte(arMagic), bytes.Replace(arHeader(arMember{name: "x"}), []byte("`\n"), []byte("!!"), 1)...), "", nil},
		{"truncated header", append([]byte(arMagic), arHeader(arMember{name: "x"})[:30]...), "", io.ErrUnexpectedEOF},
		{"truncated member", append([]byte(arMagic), arHeader(arMember{name: "x", size: "100"})...), "", io.ErrUnexpectedEOF},
		{"thin archive", []byte(arThinMagic), "", ErrUnsupported},
		{"not ar", []byte("PK\x03\x04 not an ar"), "", nil},
		{"empty", nil, "", io.ErrUnexpectedEOF},
	} {
		t.Run(c.name, func(t *testing.T) {
			bounded(t, 8<<20, func() {
				got, err := readAr(t, c.b, l)
				for _, g := range got {
					if g.ReadErr != nil {
						err = g.ReadErr
					}
				}
				if c.limit != "" {
					wantLimit(t, err, c.limit)
					return
				}
				wantFormat(t, err, "ar", c.kind)
			})
		})
	}
	// A missing padding byte after the last member is tolerated, as binutils does.
	b := arBytes(arMember{name: "odd", content: []byte("abc")})
	if got, err := readAr(t, b[:len(b)-1], l); err != nil || string(got[0].Content) != "abc" {
		t.Errorf("missing final padding: %v", err)
	}
	// Entry limit.
	var members []arMember
	for i := 0; i < 11; i++ {
		members = append(members, arMember{name: fmt.Sprint(i), content: []byte("x")})
	}
	small := lim()
	small.Entries = 10
	_, err := readAr(t, arBytes(members...), small)
	wantLimit(t, err, "entries")
	// Duplicates and bad metadata fields are anomalies.
	got, err := readAr(t, arBytes(arMember{name: "x/", content: []byte("1")}, arMember{name: "x/", content: []byte("2"), mode: "9z"}), l)
	if err != nil || !hasAnomaly(got[1].Entry, "duplicate") || !hasAnomaly(got[1].Entry, "mode") {
		t.Errorf("%v %+v", err, got)
	}
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func readDeb(t testing.TB, b []byte) ([]got, error) {
	t.Helper()
	return readAll(NewDeb(bytes.NewReader(b), lim()), 1<<20)
}

// TestD3DebRules: D3 — the deb member rules: debian-binary first and "2.0\n", one control
// and one data member in that order; the rest are anomalies or errors.
func TestD3DebRules(t *testing.T) {
	db := arMember{name: "debian-binary", content: []byte("2.0\n")}
	ctl := arMember{name: "control.tar.gz", content: gzipBytes([]byte("control"))}
	data := arMember{name: "data.tar.xz", content: compressZeros(t, XZ, 100)}
	got, err := readDeb(t, arBytes(db, ctl, data))
	if err != nil || len(got) != 3 {
		t.Fatalf("%d members, %v", len(got), err)
	}
	for _, g := range got {
		if len(g.Anomalies) > 0 {
			t.Errorf("%s: %q", g.Name, g.Anomalies)
		}
	}
	if string(got[0].Content) != "2.0\n" || !bytes.Equal(got[1].Content, ctl.content) || !bytes.Equal(got[2].Content, data.content) {
		t.Error("member content")
	}

	for _, c := range []struct {
		name    string
		members []arMember
		member  int    // the member with the anomaly
		anomaly string // "" when Next must fail
		reason  string
	}{
		{"two control members", []arMember{db, ctl, ctl, data}, 2, "second control member", ""},
		{"data.tar.gz and data.tar.xz", []arMember{db, ctl, data, {name: "data.tar.gz", content: gzipBytes(nil)}}, 3, "second data member", ""},
		{"unknown member", []arMember{db, ctl, {name: "evil.sh", content: []byte("x")}, data}, 2, "unknown member", ""},
		{"underscore member", []arMember{db, ctl, data, {name: "_gpgorigin", content: []byte("sig")}}, 3, "dpkg ignores", ""},
		{"unknown compression", []arMember{db, ctl, {name: "data.tar.lz4", content: []byte("x")}, data}, 2, "compression dpkg does not know", ""},
		{"data before control", []arMember{db, data, ctl}, 1, "data member before the control member", ""},
		{"name says xz, content is gzip", []arMember{db, ctl, {name: "data.tar.xz", content: gzipBytes([]byte("x"))}}, 2, "named as xz but the content is gzip", ""},
		{"debian-binary 2.1", []arMember{{name: "debian-binary", content: []byte("2.1\n")}, ctl, data}, 0, "", "debian-binary says"},
		{"debian-binary without newline", []arMember{{name: "debian-binary", content: []byte("2.0")}, ctl, data}, 0, "", "debian-binary says"},
		{"debian-binary not first", []arMember{ctl, db, data}, 0, "", "not debian-binary"},
		{"huge debian-binary", []arMember{{name: "debian-binary", content: bytes.Repeat([]byte("2.0\n"), 100)}, ctl, data}, 0, "", "debian-binary member of"},
		{"no data", []arMember{db, ctl}, 0, "", "no data.tar member"},
		{"no control", []arMember{db, data}, 0, "", "no control.tar member"},
		{"empty", nil, 0, "", "empty archive"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := readDeb(t, arBytes(c.members...))
			if c.anomaly == "" {
				fe := wantFormat(t, err, "deb", nil)
				if !strings.Contains(fe.Reason, c.reason) {
					t.Errorf("reason %q, want %q", fe.Reason, c.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, g := range got {
				if has := hasAnomaly(g.Entry, c.anomaly); has != (i == c.member) {
					t.Errorf("member %d (%s): anomalies %q", i, g.Name, g.Anomalies)
				}
				if !bytes.Equal(g.Content, c.members[i].content) {
					t.Errorf("member %d: content differs", i)
				}
			}
		})
	}
}

func FuzzAr(f *testing.F) {
	f.Add(arBytes(arMember{name: "//", content: []byte("long-long-long-name/\n")}, arMember{name: "/0", content: []byte("x")},
		arMember{name: "#1/8", content: []byte("bsdname\x00data")}, arMember{name: "a/", content: []byte("odd")}))
	f.Add([]byte(arMagic))
	for _, b := range toolSeeds(f, []string{"ar"}, "cp d/f a-long-member-name-for-the-table && ar rc $OUT d/f s a-long-member-name-for-the-table") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := limits.Default()
		l.Entries = 1000
		l.HeaderSize = 1 << 16
		walk := func() string {
			var b strings.Builder
			r := NewAr(bytes.NewReader(data), &l)
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
				fmt.Fprintf(&b, "%q %v %d %d %v|", e.Name, e.Mode, e.Size, n, rerr)
			}
		}
		if a, b := walk(), walk(); a != b {
			t.Fatalf("not deterministic:\n%s\n%s", a, b)
		}
	})
}

func FuzzDeb(f *testing.F) {
	f.Add(arBytes(arMember{name: "debian-binary", content: []byte("2.0\n")}, arMember{name: "control.tar.gz", content: gzipBytes([]byte("c"))},
		arMember{name: "data.tar", content: []byte("d")}, arMember{name: "_sig", content: []byte("s")}))
	for _, b := range toolSeeds(f, []string{"dpkg-deb"}, `mkdir -p ../pkg/DEBIAN && cp -a . ../pkg/ && printf 'Package: seed\nVersion: 1\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: seed\n' > ../pkg/DEBIAN/control && dpkg-deb -Zgzip --root-owner-group --build ../pkg $OUT >/dev/null`) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := limits.Default()
		l.Entries = 1000
		walk := func() string {
			var b strings.Builder
			r := NewDeb(bytes.NewReader(data), &l)
			for i := 0; ; i++ {
				e, err := r.Next()
				if err != nil {
					fmt.Fprintf(&b, "end %v", err)
					return b.String()
				}
				if i == 0 && e.Name != "debian-binary" {
					t.Fatalf("first member %q", e.Name)
				}
				n, rerr := io.Copy(io.Discard, r)
				if n > int64(len(data)) {
					t.Fatalf("%d bytes", n)
				}
				fmt.Fprintf(&b, "%q %d %v %q|", e.Name, n, rerr, e.Anomalies)
			}
		}
		if a, b := walk(), walk(); a != b {
			t.Fatalf("not deterministic:\n%s\n%s", a, b)
		}
	})
}
