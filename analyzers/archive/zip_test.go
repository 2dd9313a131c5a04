package archive

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"kensa.dev/kensa/internal/limits"
)

// zf is one file of a hand-made zip archive.
type zf struct {
	name    string
	content []byte // uncompressed
	method  uint16 // 0 store, 8 deflate
	mode    uint32 // Unix mode for the external attributes; 0 for none
	flags   uint16
}

// rawZip is a hand-made archive and where its parts are.
type rawZip struct {
	b       []byte
	local   []int // offset of each local header
	central []int // offset of each central record
	cdStart int
	eocd    int
}

func deflateBytes(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// buildZip lays out files one after another, then the central directory and the end
// record with comment.
func buildZip(files []zf, comment string) *rawZip {
	le := binary.LittleEndian
	z := &rawZip{}
	var cd []byte
	for _, f := range files {
		data := f.content
		if f.method == 8 {
			data = deflateBytes(f.content)
		}
		crc := crc32.ChecksumIEEE(f.content)
		z.local = append(z.local, len(z.b))
		h := le.AppendUint32(nil, zipLocalSig)
		h = le.AppendUint16(h, 20)
		h = le.AppendUint16(h, f.flags)
		h = le.AppendUint16(h, f.method)
		h = le.AppendUint32(h, 0x21) // time and date
		h = le.AppendUint32(h, crc)
		h = le.AppendUint32(h, uint32(len(data)))
		h = le.AppendUint32(h, uint32(len(f.content)))
		h = le.AppendUint16(h, uint16(len(f.name)))
		h = le.AppendUint16(h, 0)
		c := le.AppendUint32(nil, zipCentralSig)
		made := uint16(0)
		if f.mode != 0 {
			made = 3 << 8
		}
		c = le.AppendUint16(c, made|20)
		c = append(c, h[4:28]...)
		c = le.AppendUint16(c, 0) // extra
		c = le.AppendUint16(c, 0) // comment
		c = le.AppendUint16(c, 0) // disk
		c = le.AppendUint16(c, 0) // internal attributes
		c = le.AppendUint32(c, f.mode<<16)
		c = le.AppendUint32(c, uint32(len(z.b)))
		c = append(c, f.name...)
		z.b = append(append(append(z.b, h...), f.name...), data...)
		cd = append(cd, c...)
	}
	z.cdStart = len(z.b)
	off := 0
	for range files {
		z.central = append(z.central, z.cdStart+off)
		nameLen := int(le.Uint16(cd[off+28:]))
		off += zipCentralLen + nameLen
	}
	z.b = append(z.b, cd...)
	count := uint16(len(files))
	if len(files) > 0xfffe {
		// zip64 end record and locator.
		count = 0xffff
		at := len(z.b)
		z64 := le.AppendUint32(nil, zip64EndSig)
		z64 = le.AppendUint64(z64, 44)
		z64 = append(z64, 45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0)
		z64 = le.AppendUint64(z64, uint64(len(files)))
		z64 = le.AppendUint64(z64, uint64(len(files)))
		z64 = le.AppendUint64(z64, uint64(len(cd)))
		z64 = le.AppendUint64(z64, uint64(z.cdStart))
		z64 = le.AppendUint32(z64, zip64LocSig)
		z64 = le.AppendUint32(z64, 0)
		z64 = le.AppendUint64(z64, uint64(at))
		z64 = le.AppendUint32(z64, 1)
		z.b = append(z.b, z64...)
	}
	z.eocd = len(z.b)
	e := le.AppendUint32(nil, zipEndSig)
	e = le.AppendUint32(e, 0)
	e = le.AppendUint16(e, count)
	e = le.AppendUint16(e, count)
	e = le.AppendUint32(e, uint32(len(cd)))
	e = le.AppendUint32(e, uint32(z.cdStart))
	e = le.AppendUint16(e, uint16(len(comment)))
	z.b = append(append(z.b, e...), comment...)
	return z
}

func (z *rawZip) put32(off int, v uint32) { binary.LittleEndian.PutUint32(z.b[off:], v) }
func (z *rawZip) put16(off int, v uint16) { binary.LittleEndian.PutUint16(z.b[off:], v) }

func openZip(t testing.TB, b []byte, l *limits.Limits, budget *limits.Budget) (*ZipReader, error) {
	t.Helper()
	return NewZip(bytes.NewReader(b), int64(len(b)), l, budget)
}

func readZip(t testing.TB, b []byte) (*ZipReader, []got) {
	t.Helper()
	z, err := openZip(t, b, lim(), nil)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := readAll(z, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return z, entries
}

func TestZipBasics(t *testing.T) {
	z := buildZip([]zf{
		{name: "a.txt", content: []byte("hello"), method: 8, mode: 0o100644},
		{name: "dir/", mode: 0o40755},
		{name: "run", content: []byte("#!/bin/sh"), mode: 0o104755},
		{name: "link", content: []byte("a.txt"), mode: 0o120777},
		{name: "dos.txt", content: []byte("dos")},
	}, "")
	_, entries := readZip(t, z.b)
	want := []struct {
		typ  Type
		mode string
	}{{Regular, "-rw-r--r--"}, {Dir, "-rwxr-xr-x"}, {Regular, "urwxr-xr-x"}, {Symlink, "-rwxrwxrwx"}, {Regular, "-rw-rw-rw-"}}
	for i, g := range entries {
		if g.Type != want[i].typ || g.Mode.String() != want[i].mode || g.ReadErr != nil {
			t.Errorf("%s: %s %s %v", g.Name, g.Type, g.Mode, g.ReadErr)
		}
	}
	if entries[0].Size != 5 || string(entries[0].Content) != "hello" || entries[3].Linkname != "a.txt" || string(entries[3].Content) != "a.txt" {
		t.Errorf("content or link: %+v %+v", entries[0], entries[3])
	}
}

// TestZ1ZipNames: Z1 — hostile and empty names are listed without panic; CleanName contains
// them.
func TestZ1ZipNames(t *testing.T) {
	names := []string{"../x", "/x", `\x`, "///", "..", "", `..\..\evil`, "a\x00b"}
	var files []zf
	for _, n := range names {
		files = append(files, zf{name: n, content: []byte(n)})
	}
	_, entries := readZip(t, buildZip(files, "").b)
	if len(entries) != len(names) {
		t.Fatalf("%d entries", len(entries))
	}
	for i, g := range entries {
		if g.Name != names[i] || string(g.Content) != names[i] {
			t.Errorf("entry %d: %q", i, g.Name)
		}
		clean, err := CleanName(g.Name, lim())
		if _, ok := err.(*UnsafePathError); !ok {
			t.Errorf("%q: %v", g.Name, err)
		}
		checkClean(t, g.Name, clean, lim())
	}
}

// TestZ2ZipEntryCount: Z2 — the count an end record declares is checked against the limit
// and against the directory's size before anything is allocated for it.
func TestZ2ZipEntryCount(t *testing.T) {
	le := binary.LittleEndian
	bounded(t, 1<<20, func() {
		// 65535 entries declared in a 22-byte file.
		e := le.AppendUint32(nil, zipEndSig)
		e = append(e, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
		_, err := openZip(t, e, lim(), nil)
		fe := wantFormat(t, err, "zip", nil)
		if !strings.Contains(fe.Reason, "declares 65535 entries") {
			t.Errorf("%v", err)
		}
		// A zip64 end record declaring 2^32 entries.
		z64 := le.AppendUint32(nil, zip64EndSig)
		z64 = le.AppendUint64(z64, 44)
		z64 = append(z64, 45, 0, 45, 0)
		z64 = le.AppendUint32(z64, 0)
		z64 = le.AppendUint32(z64, 0)
		z64 = le.AppendUint64(z64, 1<<32)
		z64 = le.AppendUint64(z64, 1<<32)
		z64 = le.AppendUint64(z64, 0)
		z64 = le.AppendUint64(z64, 0)
		loc := le.AppendUint32(nil, zip64LocSig)
		loc = le.AppendUint32(loc, 0)
		loc = le.AppendUint64(loc, 0)
		loc = le.AppendUint32(loc, 1)
		end := le.AppendUint32(nil, zipEndSig)
		end = append(end, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0)
		_, err = openZip(t, bytes.Join([][]byte{z64, loc, end}, nil), lim(), nil)
		wantLimit(t, err, "entries")
	})
	// A lowered limit.
	files := make([]zf, 11)
	for i := range files {
		files[i] = zf{name: fmt.Sprint(i)}
	}
	l := lim()
	l.Entries = 10
	_, err := openZip(t, buildZip(files, "").b, l, nil)
	wantLimit(t, err, "entries")
	l.Entries = 11
	if _, err := openZip(t, buildZip(files, "").b, l, nil); err != nil {
		t.Fatal(err)
	}
	// More records in the directory than the end record declares.
	z := buildZip(files, "")
	z.put16(z.eocd+8, 10)
	z.put16(z.eocd+10, 10)
	_, err = openZip(t, z.b, lim(), nil)
	wantFormat(t, err, "zip", ErrHeaderMismatch)
}

// TestZ3ZipLocalMismatch: Z3 — a local header that disagrees with its central record makes
// that entry unreadable (one interpretation), with an anomaly; the others read.
func TestZ3ZipLocalMismatch(t *testing.T) {
	files := []zf{{name: "good", content: []byte("good")}, {name: "evil", content: []byte("evil content"), method: 8}}
	for _, c := range []struct {
		name  string
		patch func(z *rawZip)
		want  string
	}{
		{"name", func(z *rawZip) { copy(z.b[z.local[1]+30:], "EVIL") }, "name"},
		{"method", func(z *rawZip) { z.put16(z.local[1]+8, 0) }, "method"},
		{"size", func(z *rawZip) { z.put32(z.local[1]+22, 5) }, "size 5"},
		{"compressed size", func(z *rawZip) { z.put32(z.local[1]+18, 3) }, "compressed size 3"},
		{"crc", func(z *rawZip) { z.put32(z.local[1]+14, 1) }, "CRC-32"},
		{"encryption flag", func(z *rawZip) { z.put16(z.local[1]+6, 1) }, "flags"},
		{"utf-8 flag", func(z *rawZip) { z.put16(z.local[1]+6, 0x800) }, "flags"},
		{"no local header", func(z *rawZip) { z.put32(z.local[1], 0) }, "no local header"},
	} {
		t.Run(c.name, func(t *testing.T) {
			z := buildZip(files, "")
			c.patch(z)
			_, entries := readZip(t, z.b)
			if entries[0].ReadErr != nil || string(entries[0].Content) != "good" {
				t.Errorf("good entry: %v", entries[0].ReadErr)
			}
			if !hasAnomaly(entries[1].Entry, c.want) {
				t.Errorf("anomalies %q", entries[1].Anomalies)
			}
			wantFormat(t, entries[1].ReadErr, "zip", ErrHeaderMismatch)
			if len(entries[1].Content) != 0 {
				t.Error("content read despite the mismatch")
			}
		})
	}
	// A corrupt central record fails the archive.
	z := buildZip(files, "")
	z.put32(z.central[1], 0x12345678)
	_, err := openZip(t, z.b, lim(), nil)
	wantFormat(t, err, "zip", nil)
}

// TestZ4ZipManyEntries: Z4 — 100k entries with one long colliding name are listed in
// bounded time, each later one flagged as a duplicate.
func TestZ4ZipManyEntries(t *testing.T) {
	name := strings.Repeat("collide/", 25)
	files := make([]zf, 100_000)
	for i := range files {
		files[i] = zf{name: name}
	}
	b := buildZip(files, "").b
	// About 50 MB of archive: allow a few times that, not more.
	bounded(t, 1<<30, func() {
		z, err := openZip(t, b, lim(), nil)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			e, err := z.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if n > 0 && !hasAnomaly(*e, "duplicate") {
				t.Fatalf("entry %d not flagged", n)
			}
			n++
		}
		if n != len(files) {
			t.Fatalf("%d entries", n)
		}
	})
}

// TestZ5ZipOverlap: Z5 — entries that share bytes (the overlapping-entry bomb) fail the
// archive.
func TestZ5ZipOverlap(t *testing.T) {
	files := []zf{{name: "a", content: bytes.Repeat([]byte("a"), 100), method: 8}, {name: "b", content: []byte("b")}}
	// Both central records point at the same local header.
	z := buildZip(files, "")
	z.put32(z.central[1]+42, uint32(z.local[0]))
	z.put16(z.central[1]+28, 1)
	copy(z.b[z.central[1]+46:], "a")
	_, err := openZip(t, z.b, lim(), nil)
	wantFormat(t, err, "zip", ErrOverlap)

	// zbsm: the first entry's data runs over the second entry's local header (a quoted
	// overlap), so that every file inflates the same kernel.
	z = buildZip(files, "")
	kernel := uint32(z.local[1] + 31 - (z.local[0] + 31))
	z.put32(z.local[0]+18, kernel)
	z.put32(z.central[0]+20, kernel)
	_, err = openZip(t, z.b, lim(), nil)
	wantFormat(t, err, "zip", ErrOverlap)

	// Data that runs into the central directory.
	z = buildZip(files, "")
	grow := uint32(z.cdStart - z.local[1] - 31 + 10)
	z.put32(z.local[1]+18, grow)
	z.put32(z.central[1]+20, grow)
	_, err = openZip(t, z.b, lim(), nil)
	wantFormat(t, err, "zip", ErrOverlap)
}

// TestZ6ZipDeclaredSize: Z6 — a tiny archive declaring 4 GB is read without allocating by
// the declared size, and fails because its content is shorter.
func TestZ6ZipDeclaredSize(t *testing.T) {
	z := buildZip([]zf{{name: "big", content: []byte("tiny"), method: 8}}, "")
	z.put32(z.local[0]+22, 0xfffffffe)
	z.put32(z.central[0]+24, 0xfffffffe)
	if len(z.b) > 200 {
		t.Fatalf("archive of %d bytes", len(z.b))
	}
	bounded(t, 1<<20, func() {
		zr, err := openZip(t, z.b, lim(), nil)
		if err != nil {
			t.Fatal(err)
		}
		e, err := zr.Next()
		if err != nil || e.Size != 0xfffffffe {
			t.Fatal(err)
		}
		_, err = drain(zr)
		wantFormat(t, err, "zip", ErrChecksum)
	})
}

// TestZ8ZipLayout: Z8 — a fake end record in the comment, bytes hidden between entries, and
// trailing data give one deterministic parse and are reported by Info.
func TestZ8ZipLayout(t *testing.T) {
	files := []zf{{name: "a", content: []byte("aaa")}, {name: "b", content: []byte("bbb")}}
	base := buildZip(files, "")
	// A comment holding a copy of the real end record: both point at the directory.
	fake := append([]byte(nil), base.b[base.eocd:base.eocd+22]...)
	z := buildZip(files, string(fake))
	zr, entries := readZip(t, z.b)
	info := zr.Info()
	// The last end record wins, as with archive/zip and Info-ZIP: the fake one. The real
	// one is then 22 bytes that belong to nothing.
	if len(entries) != 2 || len(info.Anomalies) != 2 || !strings.Contains(info.Anomalies[0], fmt.Sprintf("offset %d", z.eocd)) ||
		!strings.Contains(info.Anomalies[1], "22 bytes between central directory and end records") {
		t.Errorf("fake end record: %+v", info)
	}
	if info.Comment != "" || info.Trailing != 0 {
		t.Errorf("info %+v", info)
	}
	// Bytes between entries, as a second archive would put them.
	z = buildZip(files, "")
	hidden := append(append(append([]byte(nil), z.b[:z.local[1]]...), "HIDDEN PAYLOAD"...), z.b[z.local[1]:]...)
	shift := uint32(len("HIDDEN PAYLOAD"))
	hz := &rawZip{b: hidden}
	hz.put32(z.central[1]+int(shift)+42, uint32(z.local[1])+shift)
	hz.put32(z.eocd+int(shift)+16, uint32(z.cdStart)+shift)
	zr, entries = readZip(t, hz.b)
	info = zr.Info()
	if len(entries) != 2 || len(info.Anomalies) != 1 || !strings.Contains(info.Anomalies[0], "14 bytes between") {
		t.Errorf("hidden bytes: %+v", info)
	}
	// Trailing data.
	zr, _ = readZip(t, append(append([]byte(nil), base.b...), "tail"...))
	if zr.Info().Trailing != 4 {
		t.Errorf("trailing %d", zr.Info().Trailing)
	}
}

// TestZ9ZipDuplicates: Z9 — both entries of a duplicated name are returned, in directory
// order; the later is flagged.
func TestZ9ZipDuplicates(t *testing.T) {
	_, entries := readZip(t, buildZip([]zf{{name: "x", content: []byte("1")}, {name: "./x", content: []byte("2")}}, "").b)
	if string(entries[0].Content) != "1" || string(entries[1].Content) != "2" || !hasAnomaly(entries[1].Entry, "duplicate") || hasAnomaly(entries[0].Entry, "duplicate") {
		t.Errorf("%+v", entries)
	}
}

// TestZ10G5ZipContentErrors: Z10 and G5 — a CRC mismatch, a corrupt deflate stream, encrypted
// entries and unsupported methods fail Read with the reason; never an empty success.
func TestZ10G5ZipContentErrors(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789"), 1000)
	files := []zf{{name: "d", content: content, method: 8}}

	z := buildZip(files, "")
	z.put32(z.local[0]+14, 0xdeadbeef)
	z.put32(z.central[0]+16, 0xdeadbeef)
	_, entries := readZip(t, z.b)
	wantFormat(t, entries[0].ReadErr, "zip", ErrChecksum)

	z = buildZip(files, "")
	for i := z.local[0] + 31 + 10; i < z.local[0]+31+30; i++ {
		z.b[i] ^= 0xff
	}
	_, entries = readZip(t, z.b)
	if entries[0].ReadErr == nil {
		t.Error("corrupt deflate data read without error")
	}

	for _, c := range []struct {
		name   string
		method uint16
		flags  uint16
		kind   error
	}{
		{"traditional encryption", 8, 1, ErrEncrypted},
		{"strong encryption", 8, 0x41, ErrEncrypted},
		{"AES", 99, 0, ErrEncrypted},
		{"LZMA", 14, 0, ErrUnsupported},
		{"deflate64", 9, 0, ErrUnsupported},
		{"unknown", 200, 0, ErrUnsupported},
	} {
		z := buildZip(files, "")
		for _, off := range []int{z.local[0] + 8, z.central[0] + 10} {
			z.put16(off, c.method)
		}
		z.put16(z.local[0]+6, c.flags)
		z.put16(z.central[0]+8, c.flags)
		_, entries := readZip(t, z.b)
		fe := wantFormat(t, entries[0].ReadErr, "zip", c.kind)
		if fe.Entry != "d" {
			t.Errorf("%s: entry %q", c.name, fe.Entry)
		}
	}
}

// TestZipMethods reads zstd (93) and xz (95) entries, which are bounded like any stream,
// and bzip2 (12).
func TestZipMethods(t *testing.T) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	w.RegisterCompressor(93, func(w io.Writer) (io.WriteCloser, error) { return zstd.NewWriter(w) })
	// The xz writer writes its stream header when it is made, and archive/zip makes the
	// compressor before it writes the local header: make it on first use.
	w.RegisterCompressor(95, func(w io.Writer) (io.WriteCloser, error) { return &lazyXZ{w: w}, nil })
	content := bytes.Repeat([]byte("method "), 5000)
	for _, m := range []uint16{93, 95} {
		f, err := w.CreateHeader(&zip.FileHeader{Name: fmt.Sprint(m), Method: m})
		if err != nil {
			t.Fatal(err)
		}
		f.Write(content)
	}
	w.Close()
	_, entries := readZip(t, buf.Bytes())
	for _, g := range entries {
		if g.ReadErr != nil || !bytes.Equal(g.Content, content) {
			t.Errorf("method %s: %v", g.Name, g.ReadErr)
		}
	}
	// A zstd entry asking for a 2 GiB window.
	z := buildZip([]zf{{name: "w", content: zstdFrame(0x00, 21<<3)}}, "")
	z.put16(z.local[0]+8, 93)
	z.put16(z.central[0]+10, 93)
	_, entries = readZip(t, z.b)
	wantLimit(t, entries[0].ReadErr, "zstd-window")
}

// TestC2ZipBomb: C2 inside a zip — a deflate bomb stops at the ratio guard, at the entry
// size, and entries together at the budget.
func TestC2ZipBomb(t *testing.T) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for i := 0; i < 2; i++ {
		f, _ := w.CreateHeader(&zip.FileHeader{Name: fmt.Sprint(i), Method: zip.Deflate})
		io.CopyN(f, zeroReader{}, 128<<20)
	}
	w.Close()
	b := buf.Bytes()
	bounded(t, 32<<20, func() {
		z, err := openZip(t, b, lim(), nil)
		if err != nil {
			t.Fatal(err)
		}
		z.Next()
		n, err := drain(z)
		wantLimit(t, err, "ratio")
		if n > lim().RatioGrace+1<<20 {
			t.Errorf("%d bytes", n)
		}
	})
	l := lim()
	l.EntrySize = 1 << 20
	z, _ := openZip(t, b, l, nil)
	z.Next()
	_, err := drain(z)
	wantLimit(t, err, "entry-size")

	l = lim()
	l.Ratio = 10000
	budget := limits.NewBudget(200 << 20)
	z, _ = openZip(t, b, l, budget)
	z.Next()
	if _, err := drain(z); err != nil {
		t.Fatal(err)
	}
	z.Next()
	_, err = drain(z)
	wantLimit(t, err, "total-size")
}

type lazyXZ struct {
	w  io.Writer
	xw *xz.Writer
}

func (l *lazyXZ) Write(p []byte) (int, error) {
	if l.xw == nil {
		var err error
		if l.xw, err = xz.NewWriter(l.w); err != nil {
			return 0, err
		}
	}
	return l.xw.Write(p)
}

func (l *lazyXZ) Close() error {
	if l.xw == nil {
		if _, err := l.Write(nil); err != nil {
			return err
		}
	}
	return l.xw.Close()
}

func FuzzZipWalk(f *testing.F) {
	f.Add(buildZip([]zf{{name: "a", content: []byte("hello"), method: 8, mode: 0o100644}, {name: "l", content: []byte("a"), mode: 0o120777}}, "comment").b)
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	fh, _ := w.CreateHeader(&zip.FileHeader{Name: "d/x", Method: zip.Deflate})
	fh.Write([]byte("data descriptor"))
	w.Close()
	f.Add(buf.Bytes())
	for _, b := range toolSeeds(f, []string{"zip"}, "zip -q -r -y $OUT.zip . && mv $OUT.zip $OUT", "zip -q -r -0 $OUT.zip . && mv $OUT.zip $OUT",
		"zip -q -r -P pw $OUT.zip . && mv $OUT.zip $OUT") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := limits.Default()
		l.EntrySize = 1 << 20
		l.RatioGrace = 1 << 16
		l.Entries = 1000
		walk := func() string {
			var b strings.Builder
			z, err := NewZip(bytes.NewReader(data), int64(len(data)), &l, limits.NewBudget(4<<20))
			if err != nil {
				return err.Error()
			}
			info := z.Info()
			fmt.Fprintf(&b, "%+v|", info)
			spans := map[int64]bool{}
			for i := range z.entries {
				// Central and local headers agree or the entry cannot be read; entries never
				// share bytes.
				e := &z.entries[i]
				if spans[e.hdrOff] {
					t.Fatalf("two entries at offset %d", e.hdrOff)
				}
				spans[e.hdrOff] = true
			}
			for {
				e, err := z.Next()
				if err != nil {
					fmt.Fprintf(&b, "end %v", err)
					return b.String()
				}
				clean, _ := CleanName(e.Name, &l)
				checkClean(t, e.Name, clean, &l)
				n, rerr := io.Copy(io.Discard, z)
				if n > l.EntrySize {
					t.Fatalf("%d bytes", n)
				}
				if rerr == nil && hasAnomaly(*e, "local header has") {
					t.Fatalf("entry with a header mismatch read without error")
				}
				fmt.Fprintf(&b, "%q %s %v %d %q %d %v|", e.Name, e.Type, e.Mode, e.Size, e.Linkname, n, rerr)
			}
		}
		if a, b := walk(), walk(); a != b {
			t.Fatalf("not deterministic:\n%s\n%s", a, b)
		}
	})
}
