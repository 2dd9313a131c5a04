// Package entropy measures the Shannon entropy of bytes, in bits per byte (0 to 8).
// Compressed or encrypted data is close to 8; code is around 5 to 6.5; text is around 4 to
// 5. Packed or encrypted payloads hidden in a binary show up as regions of high entropy.
package entropy

import (
	"encoding/binary"
	"io"
	"math"
	"sync"
)

// Counter accumulates byte counts; it is an io.Writer so that it can sit in a stream.
// The zero value is ready to use.
type Counter struct {
	counts [256]uint64
	n      uint64
}

// Write counts p. It never fails.
//
// A long p is counted into four tables, eight bytes at a time, and the tables added up:
// with one table, a run of one byte value (the zeros of a binary) makes every increment
// wait for the one before it.
func (c *Counter) Write(p []byte) (int, error) {
	c.n += uint64(len(p))
	if len(p) < 512 {
		for _, b := range p {
			c.counts[b]++
		}
		return len(p), nil
	}
	n := len(p)
	var t [4][256]uint32
	for len(p) >= 8 {
		// A table's count is at most a quarter of a block's bytes: no uint32 overflows.
		block := p[:min(len(p), 1<<30)&^7]
		p = p[len(block):]
		for i := 0; i+8 <= len(block); i += 8 {
			w := binary.LittleEndian.Uint64(block[i:])
			t[0][byte(w)]++
			t[1][byte(w>>8)]++
			t[2][byte(w>>16)]++
			t[3][byte(w>>24)]++
			t[0][byte(w>>32)]++
			t[1][byte(w>>40)]++
			t[2][byte(w>>48)]++
			t[3][byte(w>>56)]++
		}
		for b := range c.counts {
			c.counts[b] += uint64(t[0][b]) + uint64(t[1][b]) + uint64(t[2][b]) + uint64(t[3][b])
		}
		t = [4][256]uint32{}
	}
	for _, b := range p {
		c.counts[b]++
	}
	return n, nil
}

// Add adds the counts of o, so that a stream can be counted once per region and the
// regions' counters summed for the whole.
func (c *Counter) Add(o *Counter) {
	for i, k := range o.counts {
		c.counts[i] += k
	}
	c.n += o.n
}

// Len is how many bytes were counted.
func (c *Counter) Len() uint64 { return c.n }

// Entropy is the Shannon entropy of the bytes counted so far, rounded to three decimals;
// 0 when nothing was counted.
func (c *Counter) Entropy() float64 {
	if c.n == 0 {
		return 0
	}
	total := float64(c.n)
	h := 0.0
	for _, k := range c.counts {
		if k == 0 {
			continue
		}
		p := float64(k) / total
		h -= p * math.Log2(p)
	}
	return Round(h)
}

// Reset clears the counts.
func (c *Counter) Reset() { *c = Counter{} }

// Of is the entropy of b.
func Of(b []byte) float64 {
	var c Counter
	c.Write(b)
	return c.Entropy()
}

// sectionBuffers are the chunks Section reads into: an ELF file has dozens of sections,
// and a buffer made for each would be most of what measuring them allocates.
var sectionBuffers = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// Section is the entropy of the n bytes of r at off, read in bounded chunks. It stops
// early, with what it counted, at the end of r.
func Section(r io.ReaderAt, off, n int64) (float64, error) {
	var c Counter
	bp := sectionBuffers.Get().(*[]byte)
	defer sectionBuffers.Put(bp)
	buf := *bp
	for n > 0 {
		k, err := r.ReadAt(buf[:min(int64(len(buf)), n)], off)
		c.Write(buf[:k])
		off += int64(k)
		n -= int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return c.Entropy(), err
		}
		if k == 0 {
			return c.Entropy(), io.ErrNoProgress
		}
	}
	return c.Entropy(), nil
}

// Region is the entropy of one stretch of a file.
type Region struct {
	// Offset is where the region starts in the file, in bytes.
	Offset int64 `json:"offset"`
	// Size is the region's length in bytes.
	Size int64 `json:"size"`
	// Entropy is the region's Shannon entropy in bits per byte (0 to 8).
	Entropy float64 `json:"entropy"`
}

// Regions measures r (size bytes) in consecutive windows of the given size and returns
// at most max of them; when the file holds more windows than max, the window grows so
// that max windows cover it.
func Regions(r io.ReaderAt, size, window int64, max int) ([]Region, error) {
	if size <= 0 || window <= 0 || max <= 0 {
		return nil, nil
	}
	if size/window >= int64(max) {
		window = (size + int64(max) - 1) / int64(max)
	}
	var out []Region
	for off := int64(0); off < size; off += window {
		n := min(window, size-off)
		e, err := Section(r, off, n)
		if err != nil {
			return out, err
		}
		out = append(out, Region{Offset: off, Size: n, Entropy: e})
	}
	return out, nil
}

// Round rounds to three decimals, so that JSON output stays short and stable.
func Round(h float64) float64 { return math.Round(h*1000) / 1000 }
