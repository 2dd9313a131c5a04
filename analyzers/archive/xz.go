package archive

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"kensa.dev/kensa/internal/limits"
)

// xzFramer passes an xz stream through unchanged while walking its structure (stream
// headers, block headers, LZMA2 chunk headers, index, footers) one step ahead of the
// decoder.
//
// It exists because github.com/ulikunitz/xz does not cap the dictionary of an LZMA2 block:
// its ReaderConfig.DictCap is a floor that the block header raises ("if dc >
// config.DictCap { config.DictCap = dc }"), and the decoder then allocates the whole
// dictionary, up to 4 GiB, before it decodes a byte. The framer refuses a block whose
// dictionary exceeds the xz-dictionary limit before the decoder sees its header.
//
// It also bounds the dictionaries of many blocks together: the decoder allocates a fresh
// dictionary for each block, so 2000 tiny blocks declaring 64 MiB each (44 KB of input)
// cost it 20 s of clearing memory. A block whose header declares its uncompressed size
// gets a dictionary no larger than that size (see blockHeader); beyond that, the
// dictionaries of a stream may add up to the limit plus four times the output its chunks
// declare so far. Streams written by xz(1) stay far below: single-threaded ones have one
// block, multi-threaded ones declare their block sizes.
type xzFramer struct {
	r       io.Reader
	dictMax int64

	buf []byte // structure read and checked but not yet handed to the decoder
	off int
	err error

	state    int
	streams  int    // complete streams seen
	check    int    // size of the block check field in this stream
	blocks   uint64 // blocks in this stream
	blockLen int64  // bytes of the current block so far
	indexLen int64  // bytes of the index so far
	records  uint64 // index records still to read
	dictSum  int64  // dictionaries asked for by this stream's blocks
	output   int64  // uncompressed bytes declared by this stream's chunks
	one      [1]byte
}

const (
	xzStreamHeader = iota
	xzBlockOrIndex
	xzChunk
	xzBlockEnd
	xzIndexRecords
	xzIndexEnd
	xzFooter
)

var xzMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}

func newXZFramer(r io.Reader, dictMax int64) *xzFramer {
	return &xzFramer{r: r, dictMax: dictMax}
}

func (f *xzFramer) Read(p []byte) (int, error) {
	for f.off == len(f.buf) && f.err == nil {
		f.buf, f.off = f.buf[:0], 0
		if f.err = f.step(); f.err != nil {
			// Withhold the unit that failed: the decoder must not see a block header
			// that was refused.
			f.buf = f.buf[:0]
		}
	}
	if f.off < len(f.buf) {
		n := copy(p, f.buf[f.off:])
		f.off += n
		return n, nil
	}
	return 0, f.err
}

func (f *xzFramer) fail(reason string) error {
	return formatErr("xz", -1, reason, nil)
}

// read appends n bytes of input to buf and returns them.
func (f *xzFramer) read(n int) ([]byte, error) {
	start := len(f.buf)
	f.buf = append(f.buf, make([]byte, n)...)
	m, err := io.ReadFull(f.r, f.buf[start:])
	if err != nil {
		f.buf = f.buf[:start+m]
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, formatErr("xz", -1, "truncated stream", err)
	}
	return f.buf[start:], nil
}

// uvarint reads a multibyte integer of the xz format (at most 9 bytes).
func (f *xzFramer) uvarint() (uint64, int, error) {
	var x uint64
	for i := 0; i < 9; i++ {
		b, err := f.read(1)
		if err != nil {
			return 0, 0, err
		}
		x |= uint64(b[0]&0x7f) << (7 * i)
		if b[0]&0x80 == 0 {
			if b[0] == 0 && i > 0 {
				return 0, 0, f.fail("integer not in its shortest form")
			}
			return x, i + 1, nil
		}
	}
	return 0, 0, f.fail("integer longer than 9 bytes")
}

var xzCheckSizes = [16]int{0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64}

func (f *xzFramer) step() error {
	switch f.state {
	case xzStreamHeader:
		var h []byte
		if f.streams > 0 {
			// Stream padding (groups of four zero bytes), the end, or another stream.
			m, err := io.ReadFull(f.r, f.one[:])
			if m == 0 && err == io.EOF {
				return io.EOF
			}
			if err != nil {
				return formatErr("xz", -1, "reading after a stream", err)
			}
			if f.one[0] == 0 {
				f.buf = append(f.buf, 0)
				rest, err := f.read(3)
				if err != nil {
					return err
				}
				if !bytes.Equal(rest, []byte{0, 0, 0}) {
					return f.fail("stream padding is not a multiple of four zero bytes")
				}
				return nil
			}
			f.buf = append(f.buf, f.one[0])
			if _, err := f.read(11); err != nil {
				return err
			}
			h = f.buf
		} else {
			var err error
			if h, err = f.read(12); err != nil {
				return err
			}
		}
		if !bytes.Equal(h[:6], xzMagic) {
			return f.fail("not an xz stream header")
		}
		if h[6] != 0 || h[7]&0xf0 != 0 {
			return f.fail("unsupported stream flags")
		}
		f.check = xzCheckSizes[h[7]&0x0f]
		f.blocks, f.dictSum, f.output = 0, 0, 0
		f.state = xzBlockOrIndex
		return nil

	case xzBlockOrIndex:
		b, err := f.read(1)
		if err != nil {
			return err
		}
		if b[0] == 0 {
			f.indexLen = 1
			n, l, err := f.uvarint()
			if err != nil {
				return err
			}
			if n != f.blocks {
				return f.fail(fmt.Sprintf("index lists %d records for %d blocks", n, f.blocks))
			}
			f.indexLen += int64(l)
			f.records = n
			f.state = xzIndexRecords
			return nil
		}
		size := (int(b[0]) + 1) * 4
		if _, err := f.read(size - 1); err != nil {
			return err
		}
		if err := f.blockHeader(f.buf[len(f.buf)-size:]); err != nil {
			return err
		}
		f.blocks++
		f.blockLen = int64(size)
		f.state = xzChunk
		return nil

	case xzChunk:
		c, err := f.read(1)
		if err != nil {
			return err
		}
		f.blockLen++
		switch ctl := c[0]; {
		case ctl == 0:
			f.state = xzBlockEnd
		case ctl == 1 || ctl == 2:
			h, err := f.read(2)
			if err != nil {
				return err
			}
			n := int(binary.BigEndian.Uint16(h)) + 1
			if _, err := f.read(n); err != nil {
				return err
			}
			f.blockLen += int64(2 + n)
			f.output += int64(n)
		case ctl >= 0x80:
			hl := 4
			if ctl >= 0xc0 {
				hl = 5
			}
			h, err := f.read(hl)
			if err != nil {
				return err
			}
			u := (int64(ctl&0x1f)<<16 | int64(binary.BigEndian.Uint16(h[0:2]))) + 1
			n := int(binary.BigEndian.Uint16(h[2:4])) + 1
			if _, err := f.read(n); err != nil {
				return err
			}
			f.blockLen += int64(hl + n)
			f.output += u
		default:
			return f.fail(fmt.Sprintf("invalid LZMA2 chunk control byte 0x%02x", ctl))
		}
		return nil

	case xzBlockEnd:
		pad := int((4 - f.blockLen%4) % 4)
		b, err := f.read(pad + f.check)
		if err != nil {
			return err
		}
		for _, x := range b[:pad] {
			if x != 0 {
				return f.fail("non-zero block padding")
			}
		}
		f.state = xzBlockOrIndex
		return nil

	case xzIndexRecords:
		if f.records == 0 {
			f.state = xzIndexEnd
			return nil
		}
		for i := 0; i < 2; i++ {
			_, l, err := f.uvarint()
			if err != nil {
				return err
			}
			f.indexLen += int64(l)
		}
		f.records--
		return nil

	case xzIndexEnd:
		pad := int((4 - f.indexLen%4) % 4)
		if _, err := f.read(pad + 4); err != nil {
			return err
		}
		f.state = xzFooter
		return nil

	case xzFooter:
		h, err := f.read(12)
		if err != nil {
			return err
		}
		if h[10] != 'Y' || h[11] != 'Z' {
			return f.fail("not an xz stream footer")
		}
		f.streams++
		f.state = xzStreamHeader
		return nil
	}
	return errors.New("xz: internal state error")
}

// blockHeader checks one block header (h includes its size byte and CRC-32): the filter
// chain must end in LZMA2, and the LZMA2 dictionary must be within the limits.
//
// When the header declares the block's uncompressed size and the dictionary is larger,
// the dictionary property is lowered to the smallest one that holds the whole block, and
// the header CRC-32 recomputed: every block starts with a dictionary reset, so a
// dictionary the size of the block decodes it exactly as the declared one would, and the
// decoder, which allocates the declared dictionary for every block, does not clear 64 MiB
// for a block of a few bytes. (xz -T writes the sizes into every block header.)
func (f *xzFramer) blockHeader(h []byte) error {
	flags := h[1]
	if flags&0x3c != 0 {
		return f.fail("unsupported block flags")
	}
	body := h[2 : len(h)-4]
	pos := 0
	uv := func() (uint64, error) {
		var x uint64
		for i := 0; i < 9; i++ {
			if pos >= len(body) {
				return 0, f.fail("block header too short")
			}
			b := body[pos]
			pos++
			x |= uint64(b&0x7f) << (7 * i)
			if b&0x80 == 0 {
				return x, nil
			}
		}
		return 0, f.fail("integer longer than 9 bytes in block header")
	}
	if flags&0x40 != 0 {
		if _, err := uv(); err != nil {
			return err
		}
	}
	usize := uint64(1<<64 - 1)
	if flags&0x80 != 0 {
		var err error
		if usize, err = uv(); err != nil {
			return err
		}
	}
	filters := int(flags&3) + 1
	var id uint64
	var props []byte
	for i := 0; i < filters; i++ {
		var err error
		if id, err = uv(); err != nil {
			return err
		}
		n, err := uv()
		if err != nil {
			return err
		}
		if n > uint64(len(body)-pos) {
			return f.fail("filter properties run past the block header")
		}
		props = body[pos : pos+int(n)]
		pos += int(n)
	}
	if id != 0x21 {
		return formatErr("xz", -1, fmt.Sprintf("filter chain ends in filter 0x%x, not LZMA2", id), ErrUnsupported)
	}
	if len(props) != 1 || props[0] > 40 {
		return f.fail("invalid LZMA2 dictionary property")
	}
	dict := xzDictSize(props[0])
	if dict > f.dictMax {
		return &limits.Error{Limit: "xz-dictionary", Value: f.dictMax,
			What: fmt.Sprintf("xz block dictionary of %d bytes", dict)}
	}
	crcOK := binary.LittleEndian.Uint32(h[len(h)-4:]) == crc32.ChecksumIEEE(h[:len(h)-4])
	if crcOK && usize < uint64(dict) {
		c := byte(0)
		for xzDictSize(c) < int64(usize) {
			c++
		}
		props[0] = c
		dict = xzDictSize(c)
		binary.LittleEndian.PutUint32(h[len(h)-4:], crc32.ChecksumIEEE(h[:len(h)-4]))
	}
	f.dictSum += dict
	if f.dictSum > f.dictMax+4*f.output {
		return &limits.Error{Limit: "xz-dictionary", Value: f.dictMax,
			What: fmt.Sprintf("xz stream whose %d blocks ask for %d bytes of dictionaries for %d bytes of output", f.blocks+1, f.dictSum, f.output)}
	}
	return nil
}

// xzDictSize decodes an LZMA2 dictionary property (0 to 40).
func xzDictSize(c byte) int64 {
	if c >= 40 {
		return 1<<32 - 1
	}
	return int64(2|c&1) << (c/2 + 11)
}
