package archive

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"testing"

	"kensa.dev/kensa/internal/limits"
)

type tarEntry struct {
	hdr     tar.Header
	content string
}

func tarBytes(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Size == 0 && h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.content))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := w.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, e.content); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readTar(t testing.TB, data []byte, l *limits.Limits) ([]got, error) {
	t.Helper()
	return readAll(NewTar(bytes.NewReader(data), l), 1<<30)
}

// TestT1TarNames: T1 — hostile names are returned as stored; CleanName says why each is
// unsafe and gives a contained name.
func TestT1TarNames(t *testing.T) {
	names := []string{"../x", "/etc/x", "a/../../x", `..\x`, `C:\x`, "./../x", `\\host\share\x`}
	var entries []tarEntry
	for _, n := range names {
		entries = append(entries, tarEntry{hdr: tar.Header{Name: n}, content: "x"})
	}
	got, err := readTar(t, tarBytes(t, entries...), lim())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(names) {
		t.Fatalf("%d entries", len(got))
	}
	for i, g := range got {
		if g.Name != names[i] {
			t.Errorf("name %q, stored %q", g.Name, names[i])
		}
		clean, err := CleanName(g.Name, lim())
		var ue *UnsafePathError
		if !asUnsafe(err, &ue) {
			t.Errorf("%q: CleanName gave %v", g.Name, err)
		}
		checkClean(t, g.Name, clean, lim())
	}
}

func asUnsafe(err error, ue **UnsafePathError) bool {
	e, ok := err.(*UnsafePathError)
	if ok {
		*ue = e
	}
	return ok
}

// TestTarLinks: T3, T4, T5 — links are metadata: their targets are returned as stored,
// nothing is resolved, and hard links have no content.
func TestTarLinks(t *testing.T) {
	data := tarBytes(t,
		tarEntry{hdr: tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "/etc"}},
		tarEntry{hdr: tar.Header{Name: "l/passwd"}, content: "root::0:0"},
		tarEntry{hdr: tar.Header{Name: "up", Typeflag: tar.TypeSymlink, Linkname: "../../.."}},
		tarEntry{hdr: tar.Header{Name: "h1", Typeflag: tar.TypeLink, Linkname: "/etc/shadow"}},
		tarEntry{hdr: tar.Header{Name: "h2", Typeflag: tar.TypeLink, Linkname: "../x"}},
		tarEntry{hdr: tar.Header{Name: "h3", Typeflag: tar.TypeLink, Linkname: "later"}},
		tarEntry{hdr: tar.Header{Name: "h4", Typeflag: tar.TypeLink, Linkname: "h4"}},
		tarEntry{hdr: tar.Header{Name: "a", Typeflag: tar.TypeSymlink, Linkname: "b"}},
		tarEntry{hdr: tar.Header{Name: "b", Typeflag: tar.TypeSymlink, Linkname: "a"}},
		tarEntry{hdr: tar.Header{Name: "later"}, content: "data"},
	)
	got, err := readTar(t, data, lim())
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		typ  Type
		link string
	}{{Symlink, "/etc"}, {Regular, ""}, {Symlink, "../../.."}, {Hardlink, "/etc/shadow"}, {Hardlink, "../x"},
		{Hardlink, "later"}, {Hardlink, "h4"}, {Symlink, "b"}, {Symlink, "a"}, {Regular, ""}}
	for i, g := range got {
		if g.Type != want[i].typ || g.Linkname != want[i].link {
			t.Errorf("%s: %s → %q, want %s → %q", g.Name, g.Type, g.Linkname, want[i].typ, want[i].link)
		}
		if g.Type != Regular && len(g.Content) != 0 {
			t.Errorf("%s: %d bytes of content", g.Name, len(g.Content))
		}
	}
}

// TestT6TarPAXTooLarge: T6 — a PAX header over 1 MiB is an error naming archive/tar's bound,
// read in bounded memory.
func TestT6TarPAXTooLarge(t *testing.T) {
	var buf bytes.Buffer
	hdr := &tar.Header{Name: "././@PaxHeader", Typeflag: tar.TypeXHeader, Size: 2 << 20, Mode: 0o644}
	w := tar.NewWriter(&buf)
	// Write the raw header block by hand: tar.Writer refuses oversized PAX records.
	w.Close()
	buf.Reset()
	block := rawHeader(hdr)
	buf.Write(block)
	rec := "a=" + strings.Repeat("x", 2<<20)
	rec = strconv.Itoa(len(rec)+8) + " " + rec + "\n"
	buf.WriteString(rec[:2<<20])
	buf.Write(make([]byte, 1024))
	bounded(t, 16<<20, func() {
		_, err := readTar(t, buf.Bytes(), lim())
		wantFormat(t, err, "tar", tar.ErrFieldTooLong)
	})
}

// rawHeader encodes a ustar header block for hdr, whatever its type and size.
func rawHeader(h *tar.Header) []byte {
	b := make([]byte, 512)
	copy(b[0:100], h.Name)
	copy(b[100:108], fmt.Sprintf("%07o\x00", h.Mode))
	copy(b[108:116], "0000000\x00")
	copy(b[116:124], "0000000\x00")
	copy(b[124:136], fmt.Sprintf("%011o\x00", h.Size))
	copy(b[136:148], "00000000000\x00")
	b[156] = h.Typeflag
	copy(b[157:257], h.Linkname)
	copy(b[257:265], "ustar\x0000")
	copy(b[148:156], "        ")
	var sum int64
	for _, c := range b {
		sum += int64(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

// endless yields prefix, then repeats block forever.
type endless struct {
	prefix []byte
	block  []byte
	off    int
	n      int64
}

func (e *endless) Read(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		if len(e.prefix) > 0 {
			n := copy(p, e.prefix)
			e.prefix = e.prefix[n:]
			p, total = p[n:], total+n
			continue
		}
		n := copy(p, e.block[e.off:])
		e.off = (e.off + n) % len(e.block)
		p, total = p[n:], total+n
	}
	e.n += int64(total)
	return total, nil
}

// TestT7TarSparseBombs: T7 — sparse maps of millions of regions (old GNU extension blocks,
// PAX 1.0 maps) stop at archive/tar's bound after reading about a megabyte; a sparse file
// whose holes expand to a terabyte stops at the ratio and entry-size guards.
func TestT7TarSparseBombs(t *testing.T) {
	// Old GNU: a header with the "extended" flag, then extension blocks that each hold 21
	// regions and ask for another.
	hdr := rawHeader(&tar.Header{Name: "sparse", Typeflag: tar.TypeGNUSparse, Size: 0, Mode: 0o644})
	copy(hdr[257:265], "ustar  \x00")
	hdr[482] = 1 // isextended
	copy(hdr[483:495], fmt.Sprintf("%011o\x00", 1<<40))
	setChecksum(hdr)
	ext := make([]byte, 512)
	for i := 0; i < 21; i++ {
		copy(ext[i*24:], fmt.Sprintf("%011o\x00%011o\x00", i*2, 1))
	}
	ext[504] = 1
	src := &endless{prefix: hdr, block: ext}
	bounded(t, 64<<20, func() {
		_, err := readAll(NewTar(src, lim()), 1<<20)
		fe := wantFormat(t, err, "tar", nil)
		if !strings.Contains(fe.Reason, "sparse map") {
			t.Errorf("error %v", err)
		}
		if src.n > 8<<20 {
			t.Errorf("read %d bytes of sparse map", src.n)
		}
	})

	// PAX 1.0: the map is at the start of the data, as decimal lines.
	pax := paxHeader(map[string]string{"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "s", "GNU.sparse.realsize": "1099511627776"})
	file := rawHeader(&tar.Header{Name: "GNUSparseFile.0/s", Typeflag: tar.TypeReg, Size: 1 << 40, Mode: 0o644})
	src = &endless{prefix: append(append(pax, file...), "10000000\n"...), block: []byte("0\n1\n")}
	bounded(t, 64<<20, func() {
		_, err := readAll(NewTar(src, lim()), 1<<20)
		wantFormat(t, err, "tar", nil)
		if src.n > 8<<20 {
			t.Errorf("read %d bytes of sparse map", src.n)
		}
	})

	// A valid sparse file of 1 TB with one byte of data.
	pax = paxHeader(map[string]string{"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "s", "GNU.sparse.realsize": "1099511627776"})
	file = rawHeader(&tar.Header{Name: "GNUSparseFile.0/s", Typeflag: tar.TypeReg, Size: 512 + 512, Mode: 0o644})
	sparseMap := make([]byte, 512)
	copy(sparseMap, "1\n0\n1\n")
	data := make([]byte, 512)
	data[0] = 'x'
	archive := bytes.Join([][]byte{pax, file, sparseMap, data, make([]byte, 1024)}, nil)
	bounded(t, 16<<20, func() {
		r := NewTar(bytes.NewReader(archive), lim())
		e, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e.Size != 1<<40 || !hasAnomaly(*e, "sparse") {
			t.Fatalf("%+v", e)
		}
		n, err := drain(r)
		wantLimit(t, err, "ratio")
		if n > lim().RatioGrace+1<<20 {
			t.Errorf("%d bytes before the ratio guard", n)
		}
	})
	l := lim()
	l.EntrySize = 1 << 20
	got, err := readTar(t, archive, l)
	if err != nil {
		t.Fatal(err)
	}
	wantLimit(t, got[0].ReadErr, "entry-size")
}

func setChecksum(b []byte) {
	copy(b[148:156], "        ")
	var sum int64
	for _, c := range b[:512] {
		sum += int64(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
}

// paxHeader encodes a PAX extended header block and its records.
func paxHeader(records map[string]string) []byte {
	var recs bytes.Buffer
	for _, k := range sortedKeys(records) {
		line := " " + k + "=" + records[k] + "\n"
		n := len(line) + 1
		for len(strconv.Itoa(n))+len(line) != n {
			n++
		}
		recs.WriteString(strconv.Itoa(n) + line)
	}
	h := rawHeader(&tar.Header{Name: "PaxHeaders/x", Typeflag: tar.TypeXHeader, Size: int64(recs.Len()), Mode: 0o644})
	body := recs.Bytes()
	body = append(body, make([]byte, (512-len(body)%512)%512)...)
	return append(h, body...)
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

// TestT8TarDuplicates: T8 — the same path twice, and a directory then a file of the same
// name, are both returned; the later one carries an anomaly.
func TestT8TarDuplicates(t *testing.T) {
	data := tarBytes(t,
		tarEntry{hdr: tar.Header{Name: "etc/conf"}, content: "first"},
		tarEntry{hdr: tar.Header{Name: "./etc/conf"}, content: "second"},
		tarEntry{hdr: tar.Header{Name: "bin/", Typeflag: tar.TypeDir}},
		tarEntry{hdr: tar.Header{Name: "bin"}, content: "file"},
	)
	got, err := readTar(t, data, lim())
	if err != nil {
		t.Fatal(err)
	}
	if hasAnomaly(got[0].Entry, "duplicate") || !hasAnomaly(got[1].Entry, "entry 0") || !hasAnomaly(got[3].Entry, "entry 2") {
		t.Errorf("anomalies %q %q %q", got[0].Anomalies, got[1].Anomalies, got[3].Anomalies)
	}
	if string(got[0].Content) != "first" || string(got[1].Content) != "second" {
		t.Error("contents")
	}
}

// TestT9TarTruncated: T9 — truncation in content, in a header, at an entry boundary without
// the end blocks, and an empty input are all io.ErrUnexpectedEOF, never a quiet end.
func TestT9TarTruncated(t *testing.T) {
	full := tarBytes(t,
		tarEntry{hdr: tar.Header{Name: "a"}, content: strings.Repeat("a", 1000)},
		tarEntry{hdr: tar.Header{Name: "b"}, content: strings.Repeat("b", 512)},
		tarEntry{hdr: tar.Header{Name: "zeros"}, content: string(make([]byte, 1024))},
	)
	if got, err := readTar(t, full, lim()); err != nil || len(got) != 3 {
		t.Fatalf("complete archive: %d entries, %v", len(got), err)
	}
	// The last entry's content is zeros, so an archive cut after it ends in zero blocks
	// that are not end blocks.
	for _, c := range []struct {
		name string
		n    int
	}{
		{"empty", 0},
		{"mid header", 100},
		{"mid content", 512 + 600},
		{"content cut in its padding", 512 + 1000},
		{"at an entry boundary", 512 + 1024},
		{"after the last entry, without end blocks", len(full) - 1024},
		{"mid end block", len(full) - 1024 + 100},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := readTar(t, full[:c.n], lim())
			for _, g := range got {
				if g.ReadErr != nil {
					err = g.ReadErr
				}
			}
			wantFormat(t, err, "tar", io.ErrUnexpectedEOF)
		})
	}
	// One end block is enough (archive/tar accepts it, and so does GNU tar).
	if _, err := readTar(t, full[:len(full)-512], lim()); err != nil {
		t.Errorf("one end block: %v", err)
	}
	// A declared size larger than what follows.
	hdr := rawHeader(&tar.Header{Name: "big", Typeflag: tar.TypeReg, Size: 1 << 30, Mode: 0o644})
	got, err := readTar(t, append(hdr, make([]byte, 4096)...), lim())
	if err == nil && (len(got) == 0 || got[0].ReadErr == nil) {
		t.Fatal("no error")
	}
	if len(got) > 0 {
		wantFormat(t, got[0].ReadErr, "tar", io.ErrUnexpectedEOF)
	}
}

// TestT10TarSpecialFiles: T10 — devices, FIFOs and header-only types are metadata; a size
// declared for them is noted and not read.
func TestT10TarSpecialFiles(t *testing.T) {
	var buf bytes.Buffer
	for _, h := range []*tar.Header{
		{Name: "dev/null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3, Mode: 0o666},
		{Name: "dev/sda", Typeflag: tar.TypeBlock, Devmajor: 8, Mode: 0o660},
		{Name: "fifo", Typeflag: tar.TypeFifo, Mode: 0o644},
		{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "target", Size: 100, Mode: 0o777},
		{Name: "weird", Typeflag: 'Z', Size: 3, Mode: 0o644},
	} {
		buf.Write(rawHeader(h))
		if h.Typeflag == 'Z' {
			buf.Write(append([]byte("abc"), make([]byte, 509)...))
		}
	}
	buf.Write(make([]byte, 1024))
	got, err := readTar(t, buf.Bytes(), lim())
	if err != nil {
		t.Fatal(err)
	}
	want := []Type{CharDevice, BlockDevice, FIFO, Symlink, Other}
	for i, g := range got {
		if g.Type != want[i] {
			t.Errorf("%s: %s, want %s", g.Name, g.Type, want[i])
		}
	}
	if got[3].Size != 0 || !hasAnomaly(got[3].Entry, "declares 100 bytes") || len(got[3].Content) != 0 {
		t.Errorf("symlink with a size: %+v", got[3])
	}
	if string(got[4].Content) != "abc" || !hasAnomaly(got[4].Entry, "unknown tar type flag") {
		t.Errorf("unknown type: %+v", got[4])
	}
}

// TestT11TarDeepAndLong: T11 — 600-level nesting and 5000-byte names are read, and CleanName
// bounds them; a header larger than a lowered header-size limit is refused.
func TestT11TarDeepAndLong(t *testing.T) {
	deep := strings.Repeat("d/", 600) + "f"
	long := strings.Repeat("n", 5000)
	data := tarBytes(t, tarEntry{hdr: tar.Header{Name: deep}, content: "x"}, tarEntry{hdr: tar.Header{Name: long}, content: "y"})
	got, err := readTar(t, data, lim())
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Name != deep || got[1].Name != long {
		t.Fatal("names")
	}
	_, err = CleanName(got[0].Name, lim())
	wantLimit(t, err, "path-components")
	_, err = CleanName(got[1].Name, lim())
	wantLimit(t, err, "path-length")
	l := lim()
	l.HeaderSize = 4096
	_, err = readTar(t, data, l)
	wantLimit(t, err, "header-size")
}

// zeroEntries yields a tar archive of n empty files, generated as it is read.
type zeroEntries struct {
	block []byte
	left  int64
	tail  int
}

func newZeroEntries(n int64) *zeroEntries {
	return &zeroEntries{block: rawHeader(&tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o644}), left: n, tail: 1024}
}

func (z *zeroEntries) Read(p []byte) (int, error) {
	n := 0
	for len(p)-n >= 512 && z.left > 0 {
		n += copy(p[n:], z.block)
		z.left--
	}
	for n < len(p) && z.left == 0 && z.tail > 0 {
		p[n] = 0
		n++
		z.tail--
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// TestT12TarEntryLimit: T12 — millions of empty entries stop at the entries limit: a lowered
// one, and the default one (a million).
func TestT12TarEntryLimit(t *testing.T) {
	l := lim()
	l.Entries = 1000
	n := 0
	_, err := readAll(NewTar(newZeroEntries(5_000_000), l), 0)
	wantLimit(t, err, "entries")
	r := NewTar(newZeroEntries(1000), l)
	for {
		_, err := r.Next()
		if err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		n++
	}
	if n != 1000 {
		t.Fatalf("%d entries at the limit", n)
	}
	// archive/tar itself takes about 2 µs a header: allow for a loaded machine.
	bounded(t, 1<<30, func() {
		r := NewTar(newZeroEntries(5_000_000), lim())
		count := 0
		for {
			_, err := r.Next()
			if err != nil {
				wantLimit(t, err, "entries")
				break
			}
			count++
		}
		if count != 1_000_000 {
			t.Errorf("%d entries before the limit", count)
		}
	})
}

// TestT13TarModesAndXattrs: T13 — setuid, setgid, sticky and world-writable modes and
// extended attributes (SCHILY and LIBARCHIVE) are reported, not applied.
func TestT13TarModesAndXattrs(t *testing.T) {
	data := tarBytes(t,
		tarEntry{hdr: tar.Header{Name: "suid", Mode: 0o4755}, content: "s"},
		tarEntry{hdr: tar.Header{Name: "sgid", Mode: 0o2711}, content: "g"},
		tarEntry{hdr: tar.Header{Name: "tmp", Typeflag: tar.TypeDir, Mode: 0o1777}},
		tarEntry{hdr: tar.Header{Name: "ww", Mode: 0o666}, content: "w"},
		tarEntry{hdr: tar.Header{Name: "cap", Mode: 0o755, PAXRecords: map[string]string{
			"SCHILY.xattr.security.capability": "\x01\x00\x00\x02\x00\x20\x00\x00",
			"LIBARCHIVE.xattr.user.x%3Dy":      "dmFsdWU=",
		}}, content: "c"},
	)
	got, err := readTar(t, data, lim())
	if err != nil {
		t.Fatal(err)
	}
	want := []fs.FileMode{0o755 | fs.ModeSetuid, 0o711 | fs.ModeSetgid, 0o777 | fs.ModeSticky, 0o666, 0o755}
	for i, g := range got {
		if g.Mode != want[i] {
			t.Errorf("%s: mode %v, want %v", g.Name, g.Mode, want[i])
		}
	}
	x := got[4].Xattrs
	if x["security.capability"] != "\x01\x00\x00\x02\x00\x20\x00\x00" || x["user.x=y"] != "value" || len(x) != 2 {
		t.Errorf("xattrs %q", x)
	}
}

// TestTarGlobalHeader: a PAX global header is not an entry, and its records are noted on
// the entries after it.
func TestTarGlobalHeader(t *testing.T) {
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	w.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "abc"}})
	w.WriteHeader(&tar.Header{Name: "a", Mode: 0o644})
	w.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "g", PAXRecords: map[string]string{"path": "evil", "comment": "x"}})
	w.WriteHeader(&tar.Header{Name: "b", Mode: 0o644})
	w.Close()
	got, err := readTar(t, buf.Bytes(), lim())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "a" || len(got[0].Anomalies) != 0 || !hasAnomaly(got[1].Entry, "records (path)") {
		t.Fatalf("%+v", got)
	}
}

func FuzzTarWalk(f *testing.F) {
	f.Add(tarBytes(f,
		tarEntry{hdr: tar.Header{Name: "../x", Mode: 0o4755}, content: "x"},
		tarEntry{hdr: tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "/etc"}},
		tarEntry{hdr: tar.Header{Name: "d/", Typeflag: tar.TypeDir, PAXRecords: map[string]string{"SCHILY.xattr.user.a": "b"}}},
		tarEntry{hdr: tar.Header{Name: strings.Repeat("long/", 30) + "f", Format: tar.FormatGNU}, content: "gnu"},
	))
	f.Add(append(paxHeader(map[string]string{"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "s", "GNU.sparse.realsize": "100000"}),
		append(rawHeader(&tar.Header{Name: "GNUSparseFile.0/s", Typeflag: tar.TypeReg, Size: 1024, Mode: 0o644}), append([]byte("1\n0\n1\n"), make([]byte, 506+512+1024)...)...)...))
	f.Add([]byte{})
	for _, b := range toolSeeds(f, []string{"tar"}, "tar -b1 --format=gnu -cf $OUT .", "tar -b1 --format=posix -cf $OUT .", "tar -b1 --format=ustar -cf $OUT .",
		"truncate -s 100000 sparse && printf x >> sparse && tar -b1 --format=posix --sparse -cf $OUT sparse",
		"truncate -s 100000 sparse && printf x >> sparse && tar -b1 --format=gnu --sparse -cf $OUT sparse") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Small content bounds keep each input fast: sparse holes expand up to them.
		l := limits.Default()
		l.EntrySize = 1 << 16
		l.RatioGrace = 1 << 12
		l.Entries = 1000
		walk := func() string {
			var b strings.Builder
			r := NewTar(bytes.NewReader(data), &l)
			for {
				e, err := r.Next()
				if err != nil {
					fmt.Fprintf(&b, "end %v", err)
					return b.String()
				}
				clean, _ := CleanName(e.Name, &l)
				checkClean(t, e.Name, clean, &l)
				n, rerr := io.Copy(io.Discard, r)
				if n > l.EntrySize {
					t.Fatalf("%d bytes of content", n)
				}
				fmt.Fprintf(&b, "%q %s %v %d %q %d %v|", e.Name, e.Type, e.Mode, e.Size, e.Linkname, n, rerr)
			}
		}
		if a, b := walk(), walk(); a != b {
			t.Fatalf("not deterministic:\n%s\n%s", a, b)
		}
	})
}
