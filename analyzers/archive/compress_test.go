package archive

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"

	"kensa.dev/kensa/internal/limits"
)

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// compressZeros compresses n zero bytes with c.
func compressZeros(t testing.TB, c Compression, n int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch c {
	case Gzip:
		w, err = gzip.NewWriterLevel(&buf, gzip.BestCompression)
	case Zstd:
		w, err = zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1))
	case XZ:
		w, err = xz.NewWriter(&buf)
	default:
		t.Fatalf("compressZeros %s", c)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(w, zeroReader{}, n); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var (
	bombOnce sync.Once
	gzipBomb []byte // 256 MiB of zeros
	zstdBomb []byte
)

func bombs(t testing.TB) {
	bombOnce.Do(func() {
		gzipBomb = compressZeros(t, Gzip, 256<<20)
		zstdBomb = compressZeros(t, Zstd, 256<<20)
	})
}

// drain reads a stream to its end and returns the bytes it produced.
func drain(r io.Reader) (int64, error) {
	return io.Copy(io.Discard, r)
}

func decompressAll(t testing.TB, c Compression, data []byte, l *limits.Limits, b *limits.Budget) (int64, error) {
	t.Helper()
	rc, err := Decompress(c, bytes.NewReader(data), l, b)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	return drain(rc)
}

func TestDetectCompression(t *testing.T) {
	for _, c := range []struct {
		head []byte
		want Compression
	}{
		{[]byte{0x1f, 0x8b, 8}, Gzip},
		{[]byte("BZh9"), Bzip2},
		{[]byte("BZh0"), NoCompression},
		{[]byte{0xfd, '7', 'z', 'X', 'Z', 0}, XZ},
		{[]byte{0x28, 0xb5, 0x2f, 0xfd}, Zstd},
		{[]byte{0x5d, 0, 0, 0x80, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, LZMA},
		{[]byte("070701"), NoCompression},
		{nil, NoCompression},
	} {
		if got := DetectCompression(c.head); got != c.want {
			t.Errorf("DetectCompression(%x) = %s, want %s", c.head, got, c.want)
		}
	}
}

// TestCompressionRoundTrip reads streams made by the real tools, single and concatenated.
func TestCompressionRoundTrip(t *testing.T) {
	need(t, "gzip", "bzip2", "xz", "lzma", "zstd")
	data := bytes.Repeat([]byte("kensa inspects deliveries; "), 40000)
	dir := t.TempDir()
	for _, c := range []struct {
		tool string
		args []string
		comp Compression
	}{
		{"gzip", []string{"-c"}, Gzip},
		{"bzip2", []string{"-c"}, Bzip2},
		{"xz", []string{"-c"}, XZ},
		{"xz", []string{"-c", "-9", "-T2", "--block-size=100000"}, XZ},
		{"lzma", []string{"-c"}, LZMA},
		{"zstd", []string{"-c", "-q"}, Zstd},
	} {
		cmd := exec.Command(c.tool, c.args...)
		cmd.Stdin = bytes.NewReader(data)
		cmd.Dir = dir
		one, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", c.tool, err)
		}
		if got := DetectCompression(one); got != c.comp {
			t.Fatalf("%s %v: detected %s", c.tool, c.args, got)
		}
		streams := [][]byte{one}
		if c.comp != LZMA {
			streams = append(streams, append(append([]byte(nil), one...), one...))
		}
		for i, s := range streams {
			rc, err := Decompress(c.comp, bytes.NewReader(s), lim(), nil)
			if err != nil {
				t.Fatalf("%s %v: %v", c.tool, c.args, err)
			}
			out, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatalf("%s %v (%d streams): %v", c.tool, c.args, i+1, err)
			}
			if !bytes.Equal(out, bytes.Repeat(data, i+1)) {
				t.Fatalf("%s %v (%d streams): output differs", c.tool, c.args, i+1)
			}
		}
		// C6: garbage after the last stream is an error, and so is a truncated stream.
		if _, err := decompressAll(t, c.comp, append(append([]byte(nil), one...), "garbage!"...), lim(), nil); err == nil {
			t.Errorf("%s: trailing garbage accepted", c.tool)
		}
		if _, err := decompressAll(t, c.comp, one[:len(one)/2], lim(), nil); err == nil {
			t.Errorf("%s: truncated stream accepted", c.tool)
		}
	}
}

// TestC2DeflateBomb: C2 — a gzip stream of zeros stops at the ratio guard once past the
// grace, at the entry-size limit when that is lower, and at the shared budget.
func TestC2DeflateBomb(t *testing.T) {
	bombs(t)
	bounded(t, 64<<20, func() {
		n, err := decompressAll(t, Gzip, gzipBomb, lim(), nil)
		wantLimit(t, err, "ratio")
		if n > lim().RatioGrace+1<<20 {
			t.Errorf("produced %d bytes before the ratio guard", n)
		}
	})
	l := lim()
	l.EntrySize = 8 << 20
	n, err := decompressAll(t, Gzip, gzipBomb, l, nil)
	wantLimit(t, err, "entry-size")
	if n > l.EntrySize {
		t.Errorf("produced %d bytes, more than the entry size", n)
	}
	budget := limits.NewBudget(12 << 20)
	l.EntrySize = 10 << 20
	small := compressZeros(t, Gzip, 7<<20)
	if _, err := decompressAll(t, Gzip, small, l, budget); err != nil {
		t.Fatal(err)
	}
	_, err = decompressAll(t, Gzip, small, l, budget)
	wantLimit(t, err, "total-size")
}

// TestC1GzipEmptyMembers: C1 — a million concatenated empty gzip members read in bounded
// time and produce nothing.
func TestC1GzipEmptyMembers(t *testing.T) {
	var one bytes.Buffer
	w := gzip.NewWriter(&one)
	w.Close()
	for _, count := range []int{1000, 1_000_000} {
		data := bytes.Repeat(one.Bytes(), count)
		bounded(t, 1<<30, func() {
			n, err := decompressAll(t, Gzip, data, lim(), nil)
			if err != nil || n != 0 {
				t.Errorf("%d members: %d bytes, %v", count, n, err)
			}
		})
	}
}

// zstdFrame builds a zstd frame header followed by one empty raw last block.
func zstdFrame(header ...byte) []byte {
	return append(append([]byte{0x28, 0xb5, 0x2f, 0xfd}, header...), 0x01, 0, 0)
}

// TestC3ZstdLimits: C3 — a 2 GiB window, a single-segment frame declaring 1 TB, and a
// 32000:1 stream of zeros.
func TestC3ZstdLimits(t *testing.T) {
	bounded(t, 4<<20, func() {
		// Window descriptor exponent 21: 2^31 bytes.
		_, err := decompressAll(t, Zstd, zstdFrame(0x00, 21<<3), lim(), nil)
		wantLimit(t, err, "zstd-window")
		// Single segment, 8-byte content size of 1 TB: the window is the content size.
		fcs := binary.LittleEndian.AppendUint64([]byte{0xe0}, 1<<40)
		_, err = decompressAll(t, Zstd, zstdFrame(fcs...), lim(), nil)
		wantLimit(t, err, "zstd-window")
		// A 1 KB window declaring 1 TB of content, with an empty block: an error, not 1 TB.
		fcs = binary.LittleEndian.AppendUint64([]byte{0xc0, 0x00}, 1<<40)
		n, err := decompressAll(t, Zstd, zstdFrame(fcs...), lim(), nil)
		if err == nil || n != 0 {
			t.Errorf("frame with a false content size: %d bytes, %v", n, err)
		}
	})
	// A window just within a lowered limit is fine; one above is not.
	l := lim()
	l.ZstdWindow = 1 << 20
	if _, err := decompressAll(t, Zstd, zstdFrame(0x00, 10<<3), l, nil); err != nil {
		t.Errorf("1 MiB window: %v", err)
	}
	_, err := decompressAll(t, Zstd, zstdFrame(0x00, 11<<3), l, nil)
	wantLimit(t, err, "zstd-window")

	bombs(t)
	bounded(t, 300<<20, func() {
		_, err := decompressAll(t, Zstd, zstdBomb, lim(), nil)
		wantLimit(t, err, "ratio")
	})
}

// xzBlock is one block of a hand-made xz stream: a dictionary property code and the data
// of uncompressed LZMA2 chunks.
type xzBlock struct {
	dict byte
	data []byte
	// declare, when set, is written into the block header as its uncompressed size.
	declare uint64
}

func xzUvarint(b []byte, x uint64) []byte {
	for x >= 0x80 {
		b = append(b, byte(x)|0x80)
		x >>= 7
	}
	return append(b, byte(x))
}

// xzStream builds a valid xz stream (no check) from blocks.
func xzStream(blocks ...xzBlock) []byte {
	le := binary.LittleEndian
	flags := []byte{0, 0}
	out := append([]byte{0xfd, '7', 'z', 'X', 'Z', 0}, flags...)
	out = le.AppendUint32(out, crc32.ChecksumIEEE(flags))
	var index []byte
	for _, b := range blocks {
		hdr := []byte{0, 0x00}
		if b.declare > 0 {
			hdr[1] = 0x80
			hdr = xzUvarint(hdr, b.declare)
		}
		hdr = append(hdr, 0x21, 0x01, b.dict)
		hdr = append(hdr, make([]byte, (4-(len(hdr)+4)%4)%4)...)
		hdr[0] = byte((len(hdr)+4)/4 - 1)
		hdr = le.AppendUint32(hdr, crc32.ChecksumIEEE(hdr))
		var lz []byte
		for i, rest := 0, b.data; len(rest) > 0; i++ {
			n := min(len(rest), 65536)
			ctl := byte(2)
			if i == 0 {
				ctl = 1
			}
			lz = append(lz, ctl, byte((n-1)>>8), byte(n-1))
			lz = append(lz, rest[:n]...)
			rest = rest[n:]
		}
		lz = append(lz, 0)
		out = append(append(out, hdr...), lz...)
		unpadded := len(hdr) + len(lz)
		out = append(out, make([]byte, (4-unpadded%4)%4)...)
		index = xzUvarint(xzUvarint(index, uint64(unpadded)), uint64(len(b.data)))
	}
	idx := xzUvarint([]byte{0}, uint64(len(blocks)))
	idx = append(idx, index...)
	idx = append(idx, make([]byte, (4-len(idx)%4)%4)...)
	idx = le.AppendUint32(idx, crc32.ChecksumIEEE(idx))
	out = append(out, idx...)
	foot := le.AppendUint32(nil, uint32(len(idx)/4-1))
	foot = append(foot, flags...)
	out = le.AppendUint32(out, crc32.ChecksumIEEE(foot))
	return append(append(out, foot...), 'Y', 'Z')
}

// TestC4XZDictionary: C4 — a 4 GiB LZMA2 dictionary is refused before the decoder allocates
// it (github.com/ulikunitz/xz raises its DictCap to what the block asks), and so are many
// tiny blocks that each ask for a large dictionary.
func TestC4XZDictionary(t *testing.T) {
	need(t, "xz")
	data := bytes.Repeat([]byte("abc"), 50000)
	valid := xzStream(xzBlock{dict: 16, data: data[:70000]}, xzBlock{dict: 16, data: data[70000:]})
	// The hand-made stream is valid for xz(1) and for the reader.
	cmd := exec.Command("xz", "-dc")
	cmd.Stdin = bytes.NewReader(valid)
	if out, err := cmd.Output(); err != nil || !bytes.Equal(out, data) {
		t.Fatalf("xz -dc rejects the hand-made stream: %v", err)
	}
	rc, err := Decompress(XZ, bytes.NewReader(valid), lim(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := io.ReadAll(rc); err != nil || !bytes.Equal(out, data) {
		t.Fatalf("multi-block stream: %v", err)
	}

	bounded(t, 16<<20, func() {
		_, err := decompressAll(t, XZ, xzStream(xzBlock{dict: 40, data: []byte("x")}), lim(), nil)
		wantLimit(t, err, "xz-dictionary")
		_, err = decompressAll(t, XZ, xzStream(xzBlock{dict: 30, data: []byte("x")}), lim(), nil) // 128 MiB
		wantLimit(t, err, "xz-dictionary")
	})
	// 20000 empty blocks of 64 MiB dictionaries (about 400 KB): xz(1) decodes it, clearing
	// 1.3 TB of dictionaries; the reader stops at the second block.
	many := make([]xzBlock, 20000)
	for i := range many {
		many[i] = xzBlock{dict: 28}
	}
	stream := xzStream(many...)
	bounded(t, 200<<20, func() {
		_, err := decompressAll(t, XZ, stream, lim(), nil)
		wantLimit(t, err, "xz-dictionary")
	})
	// Blocks that declare a size get a dictionary of that size, whatever they ask for;
	// blocks that declare more than they hold fail at their end.
	for i := range many[:2000] {
		many[i] = xzBlock{dict: 28, data: []byte("x"), declare: 1}
	}
	stream = xzStream(many[:2000]...)
	bounded(t, 200<<20, func() {
		if n, err := decompressAll(t, XZ, stream, lim(), nil); err != nil || n != 2000 {
			t.Errorf("declared blocks: %d bytes, %v", n, err)
		}
	})
	for i := range many[:2000] {
		many[i] = xzBlock{dict: 28, declare: 64 << 20}
	}
	stream = xzStream(many[:2000]...)
	bounded(t, 200<<20, func() {
		if _, err := decompressAll(t, XZ, stream, lim(), nil); err == nil {
			t.Error("blocks declaring more than they hold accepted")
		}
	})
	// xz -T writes the sizes: small blocks of a -9 stream cost small dictionaries.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<17) // 2 MiB
	cmd = exec.Command("xz", "-9", "-T2", "--block-size=100000", "-c")
	cmd.Stdin = bytes.NewReader(big)
	mt, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	bounded(t, 64<<20, func() {
		if n, err := decompressAll(t, XZ, mt, lim(), nil); err != nil || n != int64(len(big)) {
			t.Errorf("xz -T: %d bytes, %v", n, err)
		}
	})
	// Blocks that carry data earn their dictionaries.
	blocks := make([]xzBlock, 4)
	for i := range blocks {
		blocks[i] = xzBlock{dict: 20, data: bytes.Repeat([]byte{byte(i)}, 2<<20)} // 2 MiB dictionaries
	}
	l := lim()
	l.XZDictionary = 4 << 20
	if n, err := decompressAll(t, XZ, xzStream(blocks...), l, nil); err != nil || n != 8<<20 {
		t.Errorf("blocks with data: %d bytes, %v", n, err)
	}
	// A real xz -9 stream (64 MiB dictionary) fails a lowered limit.
	cmd = exec.Command("xz", "-9", "-c")
	cmd.Stdin = bytes.NewReader(data)
	nine, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	l.XZDictionary = 32 << 20
	_, err = decompressAll(t, XZ, nine, l, nil)
	wantLimit(t, err, "xz-dictionary")

	// CVE-2021-29482 shape: an over-long integer in a block header and in the index.
	hdr := []byte{3, 0x40, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0}
	hdr = binary.LittleEndian.AppendUint32(hdr[:12], crc32.ChecksumIEEE(hdr[:12]))
	bad := append(xzStream()[:12], hdr...)
	_, err = decompressAll(t, XZ, bad, lim(), nil)
	wantFormat(t, err, "xz", nil)
	bad = append(xzStream()[:12], 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 1)
	_, err = decompressAll(t, XZ, bad, lim(), nil)
	wantFormat(t, err, "xz", nil)
}

// TestC4LZMADictionary: C4 for the legacy format — lzma's ReaderConfig.DictCap is a cap, and
// its refusal becomes an xz-dictionary limit error; corrupt concatenations stay bounded.
func TestC4LZMADictionary(t *testing.T) {
	var buf bytes.Buffer
	w, err := lzma.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("hello"))
	w.Close()
	good := buf.Bytes()
	if n, err := decompressAll(t, LZMA, good, lim(), nil); err != nil || n != 5 {
		t.Fatalf("%d, %v", n, err)
	}
	bounded(t, 16<<20, func() {
		huge := append([]byte{0x5d, 0xff, 0xff, 0xff, 0xff}, good[5:]...)
		_, err := decompressAll(t, LZMA, huge, lim(), nil)
		wantLimit(t, err, "xz-dictionary")
	})
	bounded(t, 100<<20, func() {
		// CVE-2025-58058 shape: many corrupt LZMA headers one after another.
		var many []byte
		for i := 0; i < 10000; i++ {
			many = append(many, 0x5d, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xde, 0xad)
		}
		if _, err := decompressAll(t, LZMA, many, lim(), nil); err == nil {
			t.Error("corrupt lzma accepted")
		}
	})
}

// TestC5Mislabelled: C5 — a stream read as the wrong compression fails instead of producing
// garbage.
func TestC5Mislabelled(t *testing.T) {
	z := compressZeros(t, Zstd, 1000)
	if DetectCompression(z) != Zstd {
		t.Fatal("zstd not detected")
	}
	for _, c := range []Compression{Gzip, Bzip2, XZ, LZMA} {
		if _, err := decompressAll(t, c, z, lim(), nil); err == nil {
			t.Errorf("zstd bytes read as %s without error", c)
		}
	}
}

func TestGuardRatioOverflow(t *testing.T) {
	l := lim()
	l.Ratio = 1 << 62
	l.RatioGrace = 0
	g := &Guard{R: bytes.NewReader(make([]byte, 100)), In: func() int64 { return 1 << 40 }, Lim: l}
	if _, err := drain(g); err != nil {
		t.Fatalf("a huge ratio overflowed: %v", err)
	}
	g = &Guard{R: bytes.NewReader(make([]byte, 1000)), In: func() int64 { return 1 }, Lim: &limits.Limits{EntrySize: 1 << 20, Ratio: 10}}
	_, err := drain(g)
	wantLimit(t, err, "ratio")
	if _, err2 := g.Read(make([]byte, 10)); !errors.Is(err2, err) {
		t.Error("guard does not keep failing")
	}
}

func FuzzDecompress(f *testing.F) {
	f.Add(byte(Gzip), compressZeros(f, Gzip, 5000))
	f.Add(byte(Zstd), compressZeros(f, Zstd, 5000))
	f.Add(byte(XZ), compressZeros(f, XZ, 5000))
	f.Add(byte(XZ), xzStream(xzBlock{dict: 16, data: []byte("abc")}, xzBlock{dict: 20, data: []byte("def")}))
	f.Add(byte(Zstd), zstdFrame(0x00, 21<<3))
	var b bytes.Buffer
	w, _ := lzma.NewWriter(&b)
	w.Write([]byte(strings.Repeat("lzma ", 100)))
	w.Close()
	f.Add(byte(LZMA), b.Bytes())
	f.Add(byte(Bzip2), []byte("BZh91AY&SY"))
	f.Fuzz(func(t *testing.T, c byte, data []byte) {
		l := limits.Default()
		l.EntrySize = 1 << 20
		l.RatioGrace = 64 << 10
		l.XZDictionary = 1 << 20
		l.ZstdWindow = 1 << 20
		comp := Compression(c % 6)
		var allocs []uint64
		run := func() (int64, string) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			n, err := decompressAll(t, comp, data, &l, limits.NewBudget(4<<20))
			runtime.ReadMemStats(&after)
			// TotalAlloc is process-wide: fail only when both runs are over the bound.
			allocs = append(allocs, after.TotalAlloc-before.TotalAlloc)
			if len(allocs) == 2 && min(allocs[0], allocs[1]) > 64<<20 {
				t.Fatalf("%s: allocated %d bytes", comp, min(allocs[0], allocs[1]))
			}
			if n > l.EntrySize {
				t.Fatalf("%s: %d bytes out, over the entry size", comp, n)
			}
			if err != nil {
				return n, err.Error()
			}
			return n, ""
		}
		n1, e1 := run()
		n2, e2 := run()
		if n1 != n2 || e1 != e2 {
			t.Fatalf("not deterministic: %d %q, then %d %q", n1, e1, n2, e2)
		}
	})
}
