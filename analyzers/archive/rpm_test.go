package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	fx "kensa.dev/kensa/internal/fixture"
	"kensa.dev/kensa/internal/limits"
)

// rv is one tag of a hand-made rpm header.
type rv struct {
	tag uint32
	typ uint32
	val any // string, []string, []int16, []int32, []int64, []byte
}

func rpmHeaderBytes(tags []rv) []byte {
	out := make([]fx.RPMTag, len(tags))
	for i, t := range tags {
		out[i] = fx.RPMTag{Tag: t.tag, Type: t.typ, Val: t.val}
	}
	return fx.RPMHeader(out)
}

const handRPMName = "kensa-hand-1-1"

type handRPM struct {
	files   []cpioMember // payload, with names "./path"
	extra   []rv         // more main header tags
	drop    map[uint32]bool
	comp    string // PAYLOADCOMPRESSOR
	sigTags []rv
	payload []byte // instead of the gzip of files
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// build makes a package whose header lists the payload's files, with SHA-256 file and
// payload digests and a SHA-256 header digest in the signature header.
func (h handRPM) build() []byte {
	payload := h.payload
	if payload == nil {
		payload = gzipBytes(newc(false, h.files...))
	}
	var base, dirs, digests []string
	var idx []int32
	var modes []int16
	var sizes []int32
	dirIndex := map[string]int32{}
	for _, f := range h.files {
		p := strings.TrimPrefix(f.name, ".")
		d, b := filepath.Dir(p)+"/", filepath.Base(p)
		if d == "//" {
			d = "/"
		}
		if _, ok := dirIndex[d]; !ok {
			dirIndex[d] = int32(len(dirs))
			dirs = append(dirs, d)
		}
		base = append(base, b)
		idx = append(idx, dirIndex[d])
		modes = append(modes, int16(f.mode))
		sizes = append(sizes, int32(len(f.content)))
		digest := ""
		if f.mode&0o170000 == 0o100000 {
			digest = sha256hex(f.content)
		}
		digests = append(digests, digest)
	}
	comp := h.comp
	if comp == "" {
		comp = "gzip"
	}
	tags := []rv{
		{tagName, rpmString, "kensa-hand"}, {tagVersion, rpmString, "1"}, {tagRelease, rpmString, "1"},
		{tagOS, rpmString, "linux"}, {tagArch, rpmString, "noarch"},
		{tagFileSizes, rpmInt32, sizes}, {tagFileModes, rpmInt16, modes}, {tagFileDigests, rpmStringArray, digests},
		{tagDirIndexes, rpmInt32, idx}, {tagBasenames, rpmStringArray, base}, {tagDirnames, rpmStringArray, dirs},
		{tagPayloadFormat, rpmString, "cpio"}, {tagPayloadComp, rpmString, comp},
		{tagFileDigestAlg, rpmInt32, []int32{8}},
		{tagPayloadDigest, rpmStringArray, []string{sha256hex(payload)}}, {tagPayloadDigAlg, rpmInt32, []int32{8}},
	}
	var kept []rv
	for _, t := range tags {
		if !h.drop[t.tag] {
			kept = append(kept, t)
		}
	}
	kept = append(kept, h.extra...)
	main := rpmHeaderBytes(kept)
	sig := h.sigTags
	if sig == nil {
		sig = []rv{{sigTagSHA256, rpmString, sha256hex(main)}, {1000, rpmInt32, []int32{int32(len(main) + len(payload))}}}
	}
	return fx.RPM(handRPMName, rpmHeaderBytes(sig), main, payload)
}

var handFiles = []cpioMember{
	{name: "./usr", mode: 0o40755},
	{name: "./usr/bin", mode: 0o40755},
	{name: "./usr/bin/tool", mode: 0o104755, content: []byte("tool binary")},
	{name: "./usr/bin/link", mode: 0o120777, content: []byte("tool")},
}

func readRPM(t testing.TB, b []byte, l *limits.Limits) (*RPMHeader, []got, error) {
	t.Helper()
	r, h, err := NewRPM(bytes.NewReader(b), l, nil)
	if err != nil {
		return nil, nil, err
	}
	entries, err := readAll(r, 1<<30)
	return h, entries, err
}

func TestRPMHandMade(t *testing.T) {
	need(t, "rpm")
	b := handRPM{files: handFiles}.build()
	// rpm itself reads the hand-made package.
	p := filepath.Join(t.TempDir(), "hand.rpm")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	listed := string(run(t, ".", "rpm", "-qp", "--nosignature", "--qf", "%{NAME} [%{FILENAMES}:%{FILEMODES:octal} ]", p))
	if listed != "kensa-hand /usr:40755 /usr/bin:40755 /usr/bin/tool:104755 /usr/bin/link:120777 " {
		t.Fatalf("rpm -qp: %q", listed)
	}
	cpioListed := strings.Fields(string(sh(t, ".", "rpm2cpio "+p+" | cpio --quiet -t")))
	if strings.Join(cpioListed, " ") != "./usr ./usr/bin ./usr/bin/tool ./usr/bin/link" {
		t.Fatalf("rpm2cpio: %q", cpioListed)
	}
	h, entries, err := readRPM(t, b, lim())
	if err != nil {
		t.Fatal(err)
	}
	if h.Name != "kensa-hand" || len(h.Files) != 4 || len(entries) != 4 || len(h.Anomalies) != 0 {
		t.Fatalf("%+v %+v", h, entries)
	}
	for _, g := range entries {
		if g.ReadErr != nil || len(g.Anomalies) > 0 {
			t.Errorf("%s: %v %q", g.Name, g.ReadErr, g.Anomalies)
		}
	}
}

// TestR1RPMHeaderBounds: R1 — counts, sizes and offsets of the headers are checked before
// use.
func TestR1RPMHeaderBounds(t *testing.T) {
	be := binary.BigEndian
	good := rpmHeaderBytes([]rv{{tagName, rpmString, "n"}, {tagFileSizes, rpmInt32, []int32{1, 2}}})
	patch := func(f func(h []byte)) []byte {
		h := append([]byte(nil), good...)
		f(h)
		return fx.RPM(handRPMName, rpmHeaderBytes([]rv{{1000, rpmInt32, []int32{0}}}), h, nil)
	}
	entry := func(i, field int) int { return 16 + i*16 + field*4 }
	for _, c := range []struct {
		name   string
		b      []byte
		limit  string
		reason string
	}{
		{"index count over rpm's maximum", patch(func(h []byte) { be.PutUint32(h[8:], 0x7fffffff) }), "", "more than rpm accepts"},
		{"negative index count", patch(func(h []byte) { be.PutUint32(h[8:], 0x80000000) }), "", "negative"},
		{"negative data size", patch(func(h []byte) { be.PutUint32(h[12:], 0xffffff00) }), "", "negative"},
		{"index larger than the file", patch(func(h []byte) { be.PutUint32(h[8:], 60000) }), "", "truncated"},
		{"offset past the store", patch(func(h []byte) { be.PutUint32(h[entry(0, 2):], 4000) }), "", "outside"},
		{"negative offset", patch(func(h []byte) { be.PutUint32(h[entry(0, 2):], 0xfffffff0) }), "", "outside"},
		{"count past the store", patch(func(h []byte) { be.PutUint32(h[entry(1, 3):], 1000) }), "", "outside"},
		{"array past the store", patch(func(h []byte) { be.PutUint32(h[entry(1, 3):], 3) }), "", "runs past"},
		{"misaligned int32", patch(func(h []byte) { be.PutUint32(h[entry(1, 2):], 1) }), "", "not aligned"},
		{"unknown type", patch(func(h []byte) { be.PutUint32(h[entry(0, 1):], 20) }), "", "unknown type"},
		{"string with count", patch(func(h []byte) { be.PutUint32(h[entry(0, 3):], 2) }), "", "string with count"},
		{"duplicate tag", patch(func(h []byte) { be.PutUint32(h[entry(1, 0):], tagName) }), "", "twice"},
		{"string without NUL", fx.RPM(handRPMName, rpmHeaderBytes([]rv{{1000, rpmInt32, []int32{0}}}), append(rpmHeaderBytes([]rv{{tagFileSizes, rpmInt32, []int32{1}}, {tagName, rpmString, "n"}})[:16+32+4+1], 'x'), nil), "", "runs past the end"},
		{"no header magic", patch(func(h []byte) { h[0] = 0 }), "", "no header magic"},
		{"no lead", bytes.Repeat([]byte("not an rpm "), 10), "", "not an rpm"},
	} {
		t.Run(c.name, func(t *testing.T) {
			bounded(t, 8<<20, func() {
				_, _, err := readRPM(t, c.b, lim())
				fe := wantFormat(t, err, "rpm", nil)
				if !strings.Contains(fe.Error(), c.reason) {
					t.Errorf("%v, want %q", err, c.reason)
				}
			})
		})
	}
	// The rpm-header limit covers both headers.
	l := lim()
	l.RPMHeader = 1000
	big := fx.RPM(handRPMName, rpmHeaderBytes([]rv{{1000, rpmInt32, []int32{0}}}), rpmHeaderBytes([]rv{{tagName, rpmString, strings.Repeat("n", 1000)}}), nil)
	_, _, err := readRPM(t, big, l)
	wantLimit(t, err, "rpm-header")
	// A declared header of 200 MiB in a small file allocates nothing near that.
	l = lim()
	l.RPMHeader = 256 << 20
	hdr := []byte{0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0x0c, 0, 0, 0}
	bounded(t, 8<<20, func() {
		_, _, err := readRPM(t, append(fx.RPMLead(handRPMName), hdr...), l)
		wantFormat(t, err, "rpm", io.ErrUnexpectedEOF)
	})
	// File arrays are bounded by the entries limit.
	l = lim()
	l.Entries = 3
	_, _, err = readRPM(t, handRPM{files: handFiles}.build(), l)
	wantLimit(t, err, "entries")
}

// TestR2RPMFileList: R2 — DIRINDEXES must index DIRNAMES; the file arrays must agree.
func TestR2RPMFileList(t *testing.T) {
	for _, c := range []struct {
		name   string
		extra  []rv
		drop   uint32
		reason string
	}{
		{"negative dirindex", []rv{{tagDirIndexes, rpmInt32, []int32{0, 0, 1, -1}}}, tagDirIndexes, "DIRINDEXES value -1"},
		{"dirindex past dirnames", []rv{{tagDirIndexes, rpmInt32, []int32{0, 0, 1, 7}}}, tagDirIndexes, "outside the"},
		{"fewer dirindexes", []rv{{tagDirIndexes, rpmInt32, []int32{0, 0, 1}}}, tagDirIndexes, "as many DIRINDEXES"},
		{"no dirnames", nil, tagDirnames, "DIRNAMES"},
		{"fewer sizes", []rv{{tagFileSizes, rpmInt32, []int32{1}}}, tagFileSizes, "1 values for 4 files"},
		{"dirindexes not integers", []rv{{tagDirIndexes, rpmString, "0"}}, tagDirIndexes, "not an integer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := readRPM(t, handRPM{files: handFiles, extra: c.extra, drop: map[uint32]bool{c.drop: true}}.build(), lim())
			fe := wantFormat(t, err, "rpm", nil)
			if !strings.Contains(fe.Reason, c.reason) {
				t.Errorf("%v, want %q", err, c.reason)
			}
		})
	}
}

// TestR3RPMSignatureTags: R3 — signature tags in the main header, a tag in both headers, and
// a header-only signature with no payload digest are anomalies; a header digest that does
// not match is an error.
func TestR3RPMSignatureTags(t *testing.T) {
	h, _, err := readRPM(t, handRPM{files: handFiles, extra: []rv{{sigTagDSA, rpmBin, []byte{1, 2, 3}}},
		sigTags: []rv{{sigTagDSA, rpmBin, []byte{1, 2, 3}}, {1000, rpmInt32, []int32{1}}}}.build(), lim())
	if err != nil {
		t.Fatal(err)
	}
	if !anyContains(h.Anomalies, "main header carries signature tag 267") || !anyContains(h.Anomalies, "tag 267 is in both headers") {
		t.Errorf("%q", h.Anomalies)
	}
	if fmt.Sprint(h.SignatureTags) != "[267 1000]" {
		t.Errorf("signature tags %v", h.SignatureTags)
	}
	h, _, err = readRPM(t, handRPM{files: handFiles, drop: map[uint32]bool{tagPayloadDigest: true},
		sigTags: []rv{{sigTagRSA, rpmBin, []byte{1}}, {1100, rpmString, "x"}}}.build(), lim())
	if err != nil {
		t.Fatal(err)
	}
	if !anyContains(h.Anomalies, "no signature covers the payload") || !anyContains(h.Anomalies, "not a signature tag") {
		t.Errorf("%q", h.Anomalies)
	}
	_, _, err = readRPM(t, handRPM{files: handFiles, sigTags: []rv{{sigTagSHA256, rpmString, sha256hex(nil)}}}.build(), lim())
	wantFormat(t, err, "rpm", ErrChecksum)
}

func anyContains(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

// TestR4R5RPMPayloadChecks: R4 and R5 — payload entries the header does not list, content
// that does not match its digest, a payload that does not match the payload digest, a
// compressor tag that lies, header files missing from the payload.
func TestR4R5RPMPayloadChecks(t *testing.T) {
	// R4: a payload entry that climbs and is not in the header.
	evil := append(append([]cpioMember(nil), handFiles...), cpioMember{name: "../../etc/cron.d/evil", mode: 0o100644, content: []byte("* * * * * root sh")})
	b := handRPM{files: handFiles, payload: gzipBytes(newc(false, evil...))}.build()
	_, entries, err := readRPM(t, b, lim())
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1]
	if last.Name != "../../etc/cron.d/evil" || !hasAnomaly(last.Entry, "not listed in the rpm header") {
		t.Errorf("%+v", last)
	}
	if _, err := CleanName(last.Name, lim()); err == nil {
		t.Error("CleanName accepted the climbing name")
	}

	// File content that does not match its digest.
	tampered := append([]cpioMember(nil), handFiles...)
	tampered[2] = cpioMember{name: "./usr/bin/tool", mode: 0o104755, content: []byte("TOOL BINARY")}
	b = handRPM{files: handFiles, payload: gzipBytes(newc(false, tampered...)), extra: nil}.build()
	_, entries, err = readRPM(t, b, lim())
	if err != nil {
		t.Fatal(err)
	}
	wantFormat(t, entries[2].ReadErr, "rpm", ErrChecksum)

	// A payload that does not match the payload digest.
	b = handRPM{files: handFiles}.build()
	good := gzipBytes(newc(false, handFiles...))
	other := gzipBytes(append(newc(false, handFiles...), make([]byte, 512)...))
	b = append(b[:len(b)-len(good)], other...)
	_, _, err = readRPM(t, b, lim())
	wantFormat(t, err, "rpm", ErrChecksum)

	// R5: the compressor tag says xz, the payload is gzip.
	h, entries, err := readRPM(t, handRPM{files: handFiles, comp: "xz"}.build(), lim())
	if err != nil || len(entries) != 4 || h.PayloadCompression != Gzip || !anyContains(h.Anomalies, `tag says "xz" but the payload is gzip`) {
		t.Errorf("%v %q", err, h.Anomalies)
	}
	// Header files missing from the payload.
	h, _, err = readRPM(t, handRPM{files: handFiles, payload: gzipBytes(newc(false, handFiles[:2]...))}.build(), lim())
	if err != nil || !anyContains(h.Anomalies, "1 files of the header are not in the payload: /usr/bin/tool") {
		t.Errorf("%v %q", err, h.Anomalies)
	}
	// Payload that is neither compressed nor cpio.
	_, _, err = readRPM(t, handRPM{files: handFiles, payload: []byte("plain text, not a payload")}.build(), lim())
	wantFormat(t, err, "rpm", nil)
}

// TestR5RPMPayloadBomb: R5 — a payload whose one file inflates without end stops at the
// guards, and a tiny file declares a 4 GiB entry.
func TestR5RPMPayloadBomb(t *testing.T) {
	bombs(t)
	hdr := newc(true, cpioMember{name: "./big", mode: 0o100644})
	copy(hdr[54:62], "FFFFFFFF") // file size
	payload := append(gzipBytes(hdr), gzipBomb...)
	files := []cpioMember{{name: "./big", mode: 0o100644}}
	b := handRPM{files: files, payload: payload}.build()
	bounded(t, 32<<20, func() {
		r, _, err := NewRPM(bytes.NewReader(b), lim(), nil)
		if err != nil {
			t.Fatal(err)
		}
		e, err := r.Next()
		if err != nil || e.Size != 0xffffffff {
			t.Fatalf("%v %+v", err, e)
		}
		_, err = drain(r)
		wantLimit(t, err, "ratio")
	})
	l := lim()
	l.EntrySize = 1 << 20
	r, _, _ := NewRPM(bytes.NewReader(b), l, nil)
	r.Next()
	_, err := drain(r)
	wantLimit(t, err, "entry-size")
	l = lim()
	l.Ratio = 1 << 20
	r, _, _ = NewRPM(bytes.NewReader(b), l, limits.NewBudget(8<<20))
	r.Next()
	_, err = drain(r)
	wantLimit(t, err, "total-size")
}

// TestRPMTampered flips bytes of a package rpmbuild made: in the main header, and in the
// payload; each is an error, never a quiet success.
func TestRPMTampered(t *testing.T) {
	need(t, "rpmbuild", "rpm")
	orig, err := os.ReadFile(buildRPM(t, "w9.gzdio"))
	if err != nil {
		t.Fatal(err)
	}
	r, h, err := NewRPM(bytes.NewReader(orig), lim(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(r, 1<<30); err != nil {
		t.Fatal(err)
	}
	// The main header follows the lead and the signature header.
	sigLen := 16 + 16*int(binary.BigEndian.Uint32(orig[96+8:])) + int(binary.BigEndian.Uint32(orig[96+12:]))
	mainAt := 96 + sigLen + (8-sigLen%8)%8
	nameTag := bytes.Index(orig[mainAt:], []byte("kensa-test\x00"))
	b := append([]byte(nil), orig...)
	b[mainAt+nameTag] = 'K'
	_, _, err = NewRPM(bytes.NewReader(b), lim(), nil)
	wantFormat(t, err, "rpm", ErrChecksum)

	b = append([]byte(nil), orig...)
	b[len(b)-100] ^= 0x55
	r, _, err = NewRPM(bytes.NewReader(b), lim(), nil)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := readAll(r, 1<<30)
	for _, g := range entries {
		if g.ReadErr != nil {
			err = g.ReadErr
		}
	}
	if err == nil {
		t.Error("payload with a flipped byte read without error")
	}
	_ = h
}

func FuzzRPMHeader(f *testing.F) {
	f.Add(handRPM{files: handFiles}.build())
	f.Add(handRPM{files: handFiles, extra: []rv{{1023, rpmString, "echo pre"}, {1085, rpmStringArray, []string{"/bin/sh", "-e"}},
		{1065, rpmStringArray, []string{"echo t"}}, {tagEpoch, rpmInt32, []int32{3}}}}.build())
	// Without digests in the signature header, so that mutations of the main header reach
	// the parser instead of the digest check.
	noDigest := []rv{{1000, rpmInt32, []int32{0}}}
	f.Add(handRPM{files: handFiles, sigTags: noDigest}.build())
	f.Add(handRPM{files: handFiles, sigTags: noDigest, drop: map[uint32]bool{tagPayloadDigest: true},
		extra: []rv{{1024, rpmString, "echo post"}, {1086, rpmString, "/bin/sh"}, {tagLongFileSizes, rpmInt64, []int64{0, 0, 11, 4}}}}.build())
	need(f, "rpmbuild")
	for _, payload := range []string{"w9.gzdio", "w6.xzdio", "w19.zstdio"} {
		b, err := os.ReadFile(buildRPM(f, payload))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := limits.Default()
		l.EntrySize = 1 << 20
		l.RatioGrace = 1 << 16
		l.Entries = 1000
		l.RPMHeader = 1 << 20
		walk := func() string {
			r, h, err := NewRPM(bytes.NewReader(data), &l, limits.NewBudget(4<<20))
			if err != nil {
				return err.Error()
			}
			var b strings.Builder
			fmt.Fprintf(&b, "%s %s %d %d|", h.Name, h.PayloadCompression, len(h.Files), len(h.Scriptlets))
			for {
				e, err := r.Next()
				if err != nil {
					fmt.Fprintf(&b, "end %v %q", err, h.Anomalies)
					return b.String()
				}
				n, rerr := io.Copy(io.Discard, r)
				if n > l.EntrySize {
					t.Fatalf("%d bytes", n)
				}
				fmt.Fprintf(&b, "%q %s %d %v %q|", e.Name, e.Type, n, rerr, e.Anomalies)
			}
		}
		if a, b := walk(), walk(); a != b {
			t.Fatalf("not deterministic:\n%s\n%s", a, b)
		}
	})
}

// TestRPMStripped reads an rpm payload in rpm's stripped cpio form ("07070X" and a file
// index, used for files of 4 GiB and more): names and sizes come from the header.
func TestRPMStripped(t *testing.T) {
	content := []byte("large file stand-in")
	files := []cpioMember{{name: "./big", mode: 0o100644, content: content}}
	var payload []byte
	payload = append(payload, "07070X00000000"...)
	payload = append(payload, 0, 0) // padding to four bytes
	payload = append(payload, content...)
	for len(payload)%4 != 0 {
		payload = append(payload, 0)
	}
	payload = append(payload, newc(false)...)
	h, entries, err := readRPM(t, handRPM{files: files, payload: gzipBytes(payload)}.build(), lim())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name != "./big" || !bytes.Equal(entries[0].Content, content) || entries[0].ReadErr != nil || len(h.Anomalies) != 0 {
		t.Fatalf("%+v %q", entries, h.Anomalies)
	}
	// An index outside the file list.
	bad := append([]byte("07070X00000005"), 0, 0)
	_, _, err = readRPM(t, handRPM{files: files, payload: gzipBytes(append(bad, newc(false)...))}.build(), lim())
	wantFormat(t, err, "rpm", nil)
}
