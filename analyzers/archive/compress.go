package archive

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"

	"kensa.dev/kensa/internal/limits"
)

// Compression is a stream compression format.
type Compression uint8

// The compression formats.
const (
	NoCompression Compression = iota // not compressed, or not recognised
	Gzip                             // gzip (RFC 1952), members may be concatenated
	Bzip2                            // bzip2
	XZ                               // xz (LZMA2 filter chains)
	LZMA                             // the legacy LZMA "alone" format of lzma(1)
	Zstd                             // Zstandard
)

var compressionNames = [...]string{"none", "gzip", "bzip2", "xz", "lzma", "zstd"}

// String returns the format's name: "none", "gzip", "bzip2", "xz", "lzma" or "zstd".
func (c Compression) String() string {
	if int(c) < len(compressionNames) {
		return compressionNames[c]
	}
	return "unknown"
}

// DetectCompression recognises a compressed stream by its first bytes. LZMA (the legacy
// "alone" format) has no magic number and is only recognised by its usual header shape.
func DetectCompression(head []byte) Compression {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return Gzip
	case bytes.HasPrefix(head, []byte("BZh")) && len(head) >= 4 && head[3] >= '1' && head[3] <= '9':
		return Bzip2
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return XZ
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return Zstd
	case len(head) >= 13 && head[0] == 0x5d && head[1] == 0 && head[2] == 0:
		// properties 0x5d (lc=3 lp=0 pb=2), dictionary size little-endian; the common shape
		// written by lzma(1) and rpm.
		return LZMA
	}
	return NoCompression
}

// Decompress returns the decompressed stream of r. The stream is guarded: it fails with a
// *limits.Error once it produces more than lim.EntrySize bytes, once it produces more than
// lim.Ratio bytes per compressed byte after lim.RatioGrace, or once budget is spent. zstd
// windows and xz/lzma dictionaries beyond the limits are refused, with a *limits.Error,
// before any allocation. gzip, bzip2, xz and zstd streams may be concatenated; bytes after
// the last one that do not start another stream are an error (C6), never ignored, and so
// are bytes after the end of an lzma stream.
func Decompress(c Compression, r io.Reader, lim *limits.Limits, budget *limits.Budget) (io.ReadCloser, error) {
	if c == NoCompression {
		return io.NopCloser(r), nil
	}
	in := &countingReader{r: r}
	out, closer, err := newDecompressor(c, in, lim)
	if err != nil {
		return nil, err
	}
	g := &Guard{R: out, In: in.Count, Lim: lim, Budget: budget, What: c.String() + " stream"}
	return &readCloser{Reader: g, close: closer}, nil
}

// newDecompressor returns the bare decompressor of c over r, with the window and dictionary
// limits applied and its errors translated.
func newDecompressor(c Compression, r io.Reader, lim *limits.Limits) (io.Reader, func() error, error) {
	nop := func() error { return nil }
	switch c {
	case Gzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return &errReader{r: zr, format: "gzip", lim: lim}, zr.Close, nil
	case Bzip2:
		return &errReader{r: bzip2.NewReader(r), format: "bzip2", lim: lim}, nop, nil
	case XZ:
		// The framer enforces the dictionary limit (see xzFramer); DictCap is only the
		// smallest dictionary the decoder allocates, so keep it at the minimum.
		fr := newXZFramer(bufio.NewReaderSize(r, 64<<10), lim.XZDictionary)
		zr, err := xz.ReaderConfig{DictCap: lzma.MinDictCap}.NewReader(fr)
		if err != nil {
			return nil, nil, translate("xz", err, lim)
		}
		return &errReader{r: zr, format: "xz", lim: lim}, nop, nil
	case LZMA:
		// lzma.Reader reads byte by byte: buffer its input. Its DictCap is a cap: a header
		// asking for more fails with *lzma.ErrDictSize before the dictionary is allocated.
		br := bufio.NewReaderSize(r, 64<<10)
		zr, err := lzma.ReaderConfig{DictCap: int(clamp(lim.XZDictionary, lzma.MinDictCap, lzma.MaxDictCap))}.NewReader(br)
		if err != nil {
			return nil, nil, translate("lzma", err, lim)
		}
		return &errReader{r: &lzmaEnd{r: zr, rest: br}, format: "lzma", lim: lim}, nop, nil
	case Zstd:
		// In streaming mode klauspost's decoder applies WithDecoderMaxMemory to the window
		// only (the declared content size of a single-segment frame becomes its window);
		// set both to the window limit so that every window refusal means the same thing.
		// Concurrency 1 decodes synchronously, without goroutines.
		w := uint64(clamp(lim.ZstdWindow, zstd.MinWindowSize, 1<<41))
		zr, err := zstd.NewReader(r,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(w),
			zstd.WithDecoderMaxMemory(w))
		if err != nil {
			return nil, nil, translate("zstd", err, lim)
		}
		return &errReader{r: zr, format: "zstd", lim: lim}, func() error { zr.Close(); return nil }, nil
	}
	return nil, nil, fmt.Errorf("unknown compression %d", c)
}

func clamp(v, lo, hi int64) int64 {
	return min(max(v, lo), hi)
}

// translate turns a decoder's refusal of a window or dictionary into the *limits.Error it
// amounts to, and prefixes other errors with the format.
func translate(format string, err error, lim *limits.Limits) error {
	var de *lzma.ErrDictSize
	var le *limits.Error
	var fe *FormatError
	switch {
	case err == nil || err == io.EOF || errors.As(err, &le) || errors.As(err, &fe):
		return err
	case errors.As(err, &de):
		return &limits.Error{Limit: "xz-dictionary", Value: lim.XZDictionary,
			What: fmt.Sprintf("%s dictionary of %d bytes", format, de.HeaderDictSize)}
	case errors.Is(err, zstd.ErrWindowSizeExceeded), errors.Is(err, zstd.ErrDecoderSizeExceeded):
		return &limits.Error{Limit: "zstd-window", Value: lim.ZstdWindow,
			What: "zstd frame window (or the declared content size of a single-segment frame)"}
	case err == io.ErrUnexpectedEOF:
		return fmt.Errorf("%s: truncated stream: %w", format, err)
	}
	return fmt.Errorf("%s: %w", format, err)
}

// lzmaEnd fails when data follows the end of an LZMA stream: the format has no way to
// concatenate streams, so the bytes would otherwise go unread.
type lzmaEnd struct {
	r    io.Reader
	rest *bufio.Reader
}

func (l *lzmaEnd) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if err == io.EOF {
		if _, perr := l.rest.ReadByte(); perr == nil {
			return n, errors.New("data after the end of the stream")
		}
	}
	return n, err
}

// errReader translates the errors of a decoder.
type errReader struct {
	r      io.Reader
	format string
	lim    *limits.Limits
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	return n, translate(e.format, err, e.lim)
}

// Guard bounds a stream of decompressed bytes: past Lim.EntrySize bytes, past Lim.Ratio
// bytes per input byte once Lim.RatioGrace bytes are out, or once Budget is spent, Read
// fails with a *limits.Error and keeps failing. In, when set, reports how many compressed
// bytes have been consumed so far, for the ratio check; What names the stream in errors.
type Guard struct {
	R      io.Reader
	In     func() int64
	Lim    *limits.Limits
	Budget *limits.Budget
	What   string
	n      int64
	err    error
}

// Read reads decompressed bytes from R and charges them to the limits.
func (g *Guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.R.Read(p)
	g.n += int64(n)
	switch {
	case g.n > g.Lim.EntrySize:
		g.err = &limits.Error{Limit: "entry-size", Value: g.Lim.EntrySize, What: g.What}
	case g.In != nil && g.n > g.Lim.RatioGrace && overRatio(g.n, g.In(), g.Lim.Ratio):
		g.err = &limits.Error{Limit: "ratio", Value: g.Lim.Ratio, What: fmt.Sprintf("%s (%d bytes from %d compressed)", g.What, g.n, g.In())}
	default:
		if berr := g.Budget.Take(int64(n)); berr != nil {
			g.err = berr
		}
	}
	if g.err != nil {
		return 0, g.err
	}
	return n, err
}

// overRatio reports whether out > ratio*in, without overflow.
func overRatio(out, in, ratio int64) bool {
	in = max(in, 1)
	if ratio <= 0 || in > math.MaxInt64/ratio {
		return false
	}
	return out > ratio*in
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) Count() int64 { return c.n }

type readCloser struct {
	io.Reader
	close func() error
}

func (r *readCloser) Close() error { return r.close() }
