package strings

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"kensa.dev/kensa/analyzers/entropy"
)

const (
	encASCII = "ascii"
	encUTF16 = "utf16le"

	// maxSegment bounds the text of one run handed to the indicator extractor at a time;
	// longer runs are handed over in segments that overlap by segOverlap bytes, so that an
	// indicator shorter than segOverlap is never cut.
	maxSegment = 1 << 20
	segOverlap = 4096
	// minLine is the shortest line of a text file handed to the extractor.
	minLine = 3
)

// printable is GNU strings' STRING_ISGRAPHIC for the default encodings: tab and 0x20–0x7e.
var printable = func() (t [256]bool) {
	t['\t'] = true
	for c := 0x20; c <= 0x7e; c++ {
		t[c] = true
	}
	return
}()

// lineByte is every byte that can be part of a line of a text file.
var lineByte = func() (t [256]bool) {
	for c := range t {
		t[c] = c != '\n' && c != '\r' && c != 0
	}
	return
}()

// runState is a run of characters that has not ended at the end of a chunk.
type runState struct {
	enc     string
	stride  int64
	minLen  int64
	record  bool // report the run as a string
	feed    bool // hand the run to the indicator extractor
	open    bool
	start   int64 // offset of the run's first byte
	next    int64 // utf16le: offset of the next character
	n       int64 // characters so far
	head    []byte
	seg     []byte
	segChar int64 // index within the run of seg[0]
	scanned int   // leading characters of seg whose matches were reported already
}

type scanner struct {
	size int64
	text bool

	whole, region entropy.Counter
	window        int64
	regionOff     int64
	regions       []entropy.Region

	strs       []String
	notable    []String
	count      int64
	asciiCount int64
	utf16Count int64
	truncated  bool
	limit      int // strings listed at most: 0, or maxStrings for the listing analyzer

	ascii, utf16, line runState
	dec                []byte // scratch for decoded UTF-16LE
	ex                 *extractor
}

func newScanner(size int64, text bool, limit int) *scanner {
	s := &scanner{size: size, text: text, ex: newExtractor(), limit: limit}
	s.window = regionWindow
	if size/s.window >= maxRegions {
		s.window = (size + maxRegions - 1) / maxRegions
	}
	s.ascii = runState{enc: encASCII, stride: 1, minLen: MinLength, record: true, feed: !text}
	s.utf16 = runState{enc: encUTF16, stride: 2, minLen: MinLength, record: true, feed: true}
	s.line = runState{enc: encASCII, stride: 1, minLen: minLine, feed: true}
	return s
}

// run reads r (s.size bytes) once, chunk by chunk.
func (s *scanner) run(ctx context.Context, r io.ReaderAt) error {
	if s.size <= 0 {
		return nil
	}
	buf := make([]byte, 1+min(int64(chunkSize), s.size))
	var err error
	var prev byte
	for off := int64(0); off < s.size; {
		if e := ctx.Err(); e != nil {
			err = e
			break
		}
		want := min(int64(chunkSize), s.size-off)
		m, rerr := r.ReadAt(buf[1:1+want], off)
		if m > 0 {
			c := buf[1 : 1+m]
			s.countEntropy(c)
			s.scanRuns(c, off, &printable, &s.ascii)
			if s.text {
				s.scanRuns(c, off, &lineByte, &s.line)
			}
			if off > 0 {
				buf[0] = prev
				s.scanUTF16(buf[:1+m], off-1)
			} else {
				s.scanUTF16(c, off)
			}
			prev = c[m-1]
			off += int64(m)
		}
		if int64(m) < want {
			if rerr == nil || errors.Is(rerr, io.EOF) {
				rerr = fmt.Errorf("content ended at byte %d of the %d the artifact claims", off, s.size)
			} else {
				rerr = fmt.Errorf("reading at byte %d: %w", off, rerr)
			}
			err = rerr
			break
		}
	}
	s.endRun(&s.ascii)
	s.endRun(&s.line)
	s.endRun(&s.utf16)
	s.ex.finish()
	s.closeRegion()
	return err
}

// countEntropy adds c to the regions; each region's counts join the whole-file
// counter when it closes, so every byte is counted once.
func (s *scanner) countEntropy(c []byte) {
	for len(c) > 0 {
		k := min(int64(len(c)), s.window-int64(s.region.Len()))
		s.region.Write(c[:k])
		c = c[k:]
		if int64(s.region.Len()) == s.window {
			s.closeRegion()
		}
	}
}

func (s *scanner) closeRegion() {
	n := int64(s.region.Len())
	if n == 0 {
		return
	}
	s.regions = append(s.regions, entropy.Region{Offset: s.regionOff, Size: n, Entropy: s.region.Entropy()})
	s.whole.Add(&s.region)
	s.regionOff += n
	s.region.Reset()
}

// scanRuns finds the runs of bytes in tbl within c (at file offset base), continuing the
// run rs left open at the end of the previous chunk.
func (s *scanner) scanRuns(c []byte, base int64, tbl *[256]bool, rs *runState) {
	i, n := 0, len(c)
	if rs.open {
		for i < n && tbl[c[i]] {
			i++
		}
		s.add(rs, c[:i])
		if i == n {
			return
		}
		s.endRun(rs)
	}
	m := int(rs.minLen)
	for i < n {
		// No run of m bytes or more starts at or before a byte outside tbl that lies
		// within m-1 bytes: step over such stretches m bytes at a time.
		for i+m <= n && !tbl[c[i+m-1]] {
			i += m
		}
		for i < n && !tbl[c[i]] {
			i++
		}
		if i == n {
			break
		}
		st := i
		for i < n && tbl[c[i]] {
			i++
		}
		if i == n {
			rs.open, rs.start = true, base+int64(st)
			s.add(rs, c[st:])
			break
		}
		if int64(i-st) >= rs.minLen {
			s.whole1(rs, base+int64(st), c[st:i])
		}
	}
}

// scanUTF16 finds UTF-16LE runs: printable bytes each followed by a zero byte, at any
// alignment. d starts at file offset base; positions whose second byte is past d are
// left to the next chunk, which starts with d's last byte.
func (s *scanner) scanUTF16(d []byte, base int64) {
	rs := &s.utf16
	end := len(d) - 1
	i := 0
	if rs.open {
		i = int(rs.next - base)
		j := i
		for j < end && d[j+1] == 0 && printable[d[j]] {
			j += 2
		}
		s.add(rs, s.decode(d[i:j]))
		if j >= end {
			rs.next = base + int64(j)
			return
		}
		s.endRun(rs)
		i = j
	}
	for i < end {
		// A run of MinLength characters spans 2*MinLength bytes, so it holds one of the
		// byte pairs sampled every 2*MinLength-2 bytes, and a pair inside a run has one
		// zero and one printable byte. Skip ahead while the samples say no run is there:
		// a run that holds the first passing sample starts after the last failing one.
		const step = 2*MinLength - 2
		q := i + step
		for q+1 < len(d) && (!printable[d[q]|d[q+1]] || (d[q] != 0 && d[q+1] != 0)) {
			q += step
		}
		if q > i+step {
			i = max(i, q-step-(step-1))
			if i >= end {
				break
			}
		}
		if d[i+1] != 0 || !printable[d[i]] {
			i++
			continue
		}
		j := i + 2
		for j < end && d[j+1] == 0 && printable[d[j]] {
			j += 2
		}
		if j >= end {
			rs.open, rs.start, rs.next = true, base+int64(i), base+int64(j)
			s.add(rs, s.decode(d[i:j]))
			return
		}
		if int64(j-i)/2 >= rs.minLen {
			s.whole1(rs, base+int64(i), s.decode(d[i:j]))
		}
		i = j
	}
}

// decode returns the low bytes of the UTF-16LE characters of d, in scratch space.
func (s *scanner) decode(d []byte) []byte {
	s.dec = s.dec[:0]
	for k := 0; k+1 < len(d); k += 2 {
		s.dec = append(s.dec, d[k])
	}
	return s.dec
}

// whole1 handles a run that starts and ends within one chunk.
func (s *scanner) whole1(rs *runState, off int64, t []byte) {
	if rs.record {
		s.record(rs.enc, off, t[:min(len(t), maxValue)], int64(len(t)))
	}
	if rs.feed {
		s.ex.scan(t, off, rs.stride, rs.enc, 0, false)
	}
}

// add appends the characters t to the open run rs.
func (s *scanner) add(rs *runState, t []byte) {
	rs.n += int64(len(t))
	if rs.record && len(rs.head) < maxValue {
		rs.head = append(rs.head, t[:min(len(t), maxValue-len(rs.head))]...)
	}
	if !rs.feed {
		return
	}
	for len(t) > 0 {
		k := min(len(t), maxSegment-len(rs.seg))
		rs.seg = append(rs.seg, t[:k]...)
		t = t[k:]
		if len(rs.seg) == maxSegment {
			s.ex.scan(rs.seg, rs.start+rs.segChar*rs.stride, rs.stride, rs.enc, rs.scanned, true)
			keep := rs.seg[len(rs.seg)-segOverlap:]
			rs.segChar += int64(len(rs.seg) - segOverlap)
			rs.seg = append(rs.seg[:0], keep...)
			rs.scanned = segOverlap / 2
		}
	}
}

// endRun closes the open run rs.
func (s *scanner) endRun(rs *runState) {
	if !rs.open {
		return
	}
	if rs.n >= rs.minLen {
		if rs.record {
			s.record(rs.enc, rs.start, rs.head, rs.n)
		}
		if rs.feed && len(rs.seg) > rs.scanned {
			s.ex.scan(rs.seg, rs.start+rs.segChar*rs.stride, rs.stride, rs.enc, rs.scanned, false)
		}
	}
	rs.open, rs.n, rs.segChar, rs.scanned = false, 0, 0, 0
	rs.head, rs.seg = rs.head[:0], rs.seg[:0]
	if cap(rs.seg) > 64<<10 {
		rs.seg = nil
	}
}

func (s *scanner) record(enc string, off int64, head []byte, n int64) {
	s.count++
	if enc == encASCII {
		s.asciiCount++
	} else {
		s.utf16Count++
	}
	if len(s.notable) < maxNotable && notable(head) {
		s.notable = append(s.notable, String{Offset: off, Encoding: enc, Value: string(head), Length: n})
	}
	if len(s.strs) >= s.limit {
		s.truncated = s.limit > 0
		return
	}
	s.strs = append(s.strs, String{Offset: off, Encoding: enc, Value: string(head), Length: n})
}

// facts assembles the facts, redacting the strings that hold a credential.
func (s *scanner) facts() *Facts {
	f := &Facts{
		MinLength:        MinLength,
		Strings:          s.strs,
		Notable:          s.notable,
		StringCount:      s.count,
		ASCIICount:       s.asciiCount,
		UTF16Count:       s.utf16Count,
		StringsTruncated: s.truncated,
		Indicators:       s.ex.indicators(),
		Entropy:          s.whole.Entropy(),
		RegionSize:       s.window,
		Regions:          s.regions,
	}
	if f.Strings == nil && s.limit > 0 {
		f.Strings = []String{}
	}
	if f.Notable == nil {
		f.Notable = []String{}
	}
	if f.Regions == nil {
		f.Regions = []entropy.Region{}
	}
	for i := range f.Regions {
		if f.MaxRegion == nil || f.Regions[i].Entropy > f.MaxRegion.Entropy {
			r := f.Regions[i]
			f.MaxRegion = &r
		}
	}
	s.redactStrings(f.Strings)
	s.redactStrings(f.Notable)
	return f
}

// redactStrings replaces the secret parts of every listed string by their redacted form.
func (s *scanner) redactStrings(list []String) {
	spans := s.ex.spans
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	for i := range list {
		st := &list[i]
		stride := int64(1)
		if st.Encoding == encUTF16 {
			stride = 2
		}
		lo, hi := st.Offset, st.Offset+int64(len(st.Value))*stride
		if s.ex.redactFrom >= 0 && st.Offset+st.Length*stride > s.ex.redactFrom {
			st.Value, st.Redacted = "[redacted]", true
			continue
		}
		// Spans are at most maxSpan bytes long: only those starting after lo-maxSpan
		// can overlap.
		k := sort.Search(len(spans), func(k int) bool { return spans[k].start >= lo-maxSpan })
		var out []byte
		last := int64(0) // characters of Value copied so far
		for ; k < len(spans) && spans[k].start < hi; k++ {
			sp := spans[k]
			if sp.end <= lo {
				continue
			}
			a := max(0, (sp.start-lo)/stride)
			b := min(int64(len(st.Value)), (sp.end-lo+stride-1)/stride)
			if a < last {
				a = last
			}
			if b <= a {
				continue
			}
			out = append(out, st.Value[last:a]...)
			out = append(out, sp.repl...)
			last = b
		}
		if out != nil {
			out = append(out, st.Value[last:]...)
			st.Value, st.Redacted = string(out), true
		}
	}
}
