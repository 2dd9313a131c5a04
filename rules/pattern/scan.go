package pattern

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"sort"
)

// ScanOptions bound one scan. The zero value uses the defaults.
type ScanOptions struct {
	// MaxMatchesPerPattern is how many match offsets are kept per pattern (the count
	// goes on); 0 means DefaultMaxMatchesPerPattern.
	MaxMatchesPerPattern int
	// ChunkSize is how many bytes are read at a time (plus the overlap the patterns
	// need); 0 means 1 MiB, and it is capped at 16 MiB.
	ChunkSize int
	// WorkFactor bounds verification work: a scan stops verifying once it has spent
	// 64 MiB + WorkFactor × size byte-steps on it, and reports Incomplete. 0 means 256.
	WorkFactor int64
}

// Match is one match of a pattern.
type Match struct {
	// Offset is the match's start in the file, in bytes.
	Offset int64 `json:"offset"`
	// Length is the match's length in bytes.
	Length int `json:"length"`
	// Data is the first MaxEvidence bytes of the match.
	Data []byte `json:"data"`
}

// PatternMatches are the matches of one pattern.
type PatternMatches struct {
	// ID is the pattern's ID.
	ID string `json:"id"`
	// Count is the number of matches (distinct start offsets per form: a pattern with
	// both ascii and wide forms counts a start twice if both forms match there).
	Count int64 `json:"count"`
	// Matches are the first matches by offset, at most ScanOptions.MaxMatchesPerPattern.
	Matches []Match `json:"matches,omitempty"`
}

// Matches is the result of one scan.
type Matches struct {
	// Patterns has one entry per Def given to Compile that matched, in the order given.
	Patterns []PatternMatches `json:"patterns"`
	// Incomplete is set when the scan stopped verifying because it hit its work bound
	// (ScanOptions.WorkFactor); counts are then lower bounds.
	Incomplete bool `json:"incomplete,omitempty"`
}

// Get returns the matches of the first pattern with the given ID, or nil.
func (m *Matches) Get(id string) *PatternMatches {
	for i := range m.Patterns {
		if m.Patterns[i].ID == id {
			return &m.Patterns[i]
		}
	}
	return nil
}

// ErrWorkBound is returned (with the partial Matches) when a scan hit its work bound.
// maxChunk caps ScanOptions.ChunkSize.
const maxChunk = 16 << 20

// regexAttemptCost is the work charged for one anchored regex attempt.
const regexAttemptCost = 32

var ErrWorkBound = errors.New("pattern scan stopped at its verification work bound; matches are incomplete")

type subState struct {
	next    int64 // first start offset not yet tried
	count   int64
	matches []Match
}

type scanner struct {
	set     *Set
	max     int
	subs    []subState
	touched []int32 // subs whose state is not zero, in the order first touched
	hex     hexMatcher
	work    int64
	budget  int64
	stopped bool
	buf     []byte   // Scan's read buffer
	pending []uint64 // the automaton's hits in the second half of a chunk
	// The current chunk as regexes see it: high marks its 64-byte blocks holding a
	// byte above 0x7F; tt is a stretch of its Latin-1 transcoding, made only when a
	// regex that can match such bytes meets them.
	cdata    []byte
	high     []uint64
	highOK   bool
	tt       []byte
	fwd, rev []int32
	tlo, thi int // the stretch of the chunk tt holds
	ttOK     bool
}

// Scan matches every pattern of the set against the size bytes of r in one pass,
// reading bounded chunks. It returns the matches found so far with a read error, and
// ErrWorkBound with partial matches when verification hit its work bound.
func (s *Set) Scan(r io.ReaderAt, size int64, opts ScanOptions) (*Matches, error) {
	if size < 0 {
		return nil, fmt.Errorf("pattern scan: negative size %d", size)
	}
	sc, chunk := s.newScanner(opts, size)
	defer s.release(sc)
	buf := sc.readBuf(int(min(int64(s.back+chunk+s.fwd), size)))
	var st uint32
	var rerr error
	if len(s.subs) > 0 {
		for cs := int64(0); cs < size && !sc.stopped; cs += int64(chunk) {
			ce := min(cs+int64(chunk), size)
			rs := max(0, cs-int64(s.back))
			re := min(size, ce+int64(s.fwd))
			data := buf[:re-rs]
			n, err := r.ReadAt(data, rs)
			if n < len(data) {
				if err == nil || err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				rerr = fmt.Errorf("pattern scan: reading %d bytes at offset %d: %w", len(data), rs, err)
				break
			}
			st = sc.feed(st, data, rs, int(cs-rs), int(ce-rs))
		}
	}
	m := sc.result()
	if rerr != nil {
		return m, rerr
	}
	if sc.stopped {
		m.Incomplete = true
		return m, ErrWorkBound
	}
	return m, nil
}

func (s *Set) newScanner(opts ScanOptions, size int64) (*scanner, int) {
	sc, _ := s.scanners.Get().(*scanner)
	if sc == nil {
		sc = &scanner{set: s, subs: make([]subState, len(s.subs))}
	}
	sc.max = opts.MaxMatchesPerPattern
	if sc.max <= 0 {
		sc.max = DefaultMaxMatchesPerPattern
	}
	wf := opts.WorkFactor
	if wf <= 0 {
		wf = 256
	}
	sc.budget = 64<<20 + min(wf, 1<<20)*min(size, 1<<40)
	chunk := opts.ChunkSize
	if chunk <= 0 {
		chunk = 1 << 20
	}
	return sc, max(min(chunk, maxChunk), 4*(s.back+s.fwd), 4096)
}

// release returns a scanner, its result taken, for the next scan to reuse: a set has
// hundreds of subs and a walk scans tens of thousands of files, most of them small.
func (s *Set) release(sc *scanner) {
	for _, si := range sc.touched {
		sc.subs[si] = subState{}
	}
	sc.touched = sc.touched[:0]
	sc.work, sc.stopped = 0, false
	sc.cdata, sc.highOK, sc.ttOK = nil, false, false
	if cap(sc.buf) > maxPooledBuf {
		sc.buf = nil
	}
	s.scanners.Put(sc)
}

// maxPooledBuf is the largest read buffer a pooled scanner keeps.
const maxPooledBuf = 4 << 20

// readBuf returns a buffer of n bytes, reused from the scanner's last scan if it can.
func (sc *scanner) readBuf(n int) []byte {
	if cap(sc.buf) < n {
		sc.buf = make([]byte, n)
	}
	return sc.buf[:n]
}

// Stream matches a set against a file written to it in pieces, so that the
// matching can share one read with hashing (io.MultiWriter). It keeps at most one
// chunk plus the patterns' overlap in memory. A Stream is not safe for concurrent use.
type Stream struct {
	sc    *scanner
	st    uint32
	chunk int
	buf   []byte // file bytes from offset base
	base  int64
	fed   int64 // bytes the automaton has read
}

// NewStream returns a Stream for one file. Its work bound (ScanOptions.WorkFactor)
// is computed from sizeHint, the expected file size (0 if unknown).
func (s *Set) NewStream(opts ScanOptions, sizeHint int64) *Stream {
	sc, chunk := s.newScanner(opts, max(sizeHint, 0))
	return &Stream{sc: sc, chunk: chunk}
}

// Write feeds the next bytes of the file. It never fails; it returns len(p).
func (w *Stream) Write(p []byte) (int, error) {
	n := len(p)
	set := w.sc.set
	for len(p) > 0 {
		k := min(len(p), w.chunk)
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		end := w.base + int64(len(w.buf))
		if end-w.fed < int64(w.chunk+set.fwd) {
			continue
		}
		to := end - int64(set.fwd)
		w.st = w.sc.feed(w.st, w.buf, w.base, int(w.fed-w.base), int(to-w.base))
		w.fed = to
		// Keep what verification of later hits may look back at.
		keep := max(w.base, w.fed-int64(set.back))
		w.buf = append(w.buf[:0], w.buf[keep-w.base:]...)
		w.base = keep
	}
	return n, nil
}

// Close verifies the rest of the file and returns the matches; like Scan it returns
// ErrWorkBound with partial matches when verification hit its bound.
func (w *Stream) Close() (*Matches, error) {
	w.st = w.sc.feed(w.st, w.buf, w.base, int(w.fed-w.base), len(w.buf))
	w.fed = w.base + int64(len(w.buf))
	m := w.sc.result()
	stopped := w.sc.stopped
	w.sc.set.release(w.sc)
	w.sc = nil
	if stopped {
		m.Incomplete = true
		return m, ErrWorkBound
	}
	return m, nil
}

// feed runs the automaton from state st over data[from:to] (data starts at file
// offset base and holds the bytes verification needs around it) and verifies the
// hits; it returns the new state.
func (sc *scanner) feed(st uint32, data []byte, base int64, from, to int) uint32 {
	if sc.stopped {
		return st
	}
	sc.cdata, sc.highOK, sc.ttOK = data, false, false
	return sc.set.ac.next(st, data[from:to], &sc.pending, func(i int, state uint32) bool {
		sc.hits(data, base, from+i+1, state)
		return !sc.stopped
	})
}

// hits handles the atoms ending at data[end-1] (data starts at file offset base).
func (sc *scanner) hits(data []byte, base int64, end int, state uint32) {
	set := sc.set
	for _, ai := range set.ac.outputs(state) {
		p := int64(end-set.ac.atomLen[ai]) + base // atom start in the file
		for _, si := range set.atomSubs[ai] {
			sb := &set.subs[si]
			ss := &sc.subs[si]
			lo := max(p-int64(sb.dmax), ss.next, 0)
			hi := p - int64(sb.dmin)
			if hi < lo {
				continue
			}
			if ss.next == 0 && ss.count == 0 {
				sc.touched = append(sc.touched, si)
			}
			ss.next = hi + 1
			sc.verify(sb, ss, data, base, lo, hi)
			if sc.work > sc.budget {
				sc.stopped = true
				return
			}
		}
	}
}

func (sc *scanner) record(ss *subState, data []byte, base, start int64, length int) {
	ss.count++
	if len(ss.matches) >= sc.max {
		return
	}
	i := int(start - base)
	ev := data[i : i+min(length, MaxEvidence)]
	ss.matches = append(ss.matches, Match{Offset: start, Length: length, Data: append([]byte(nil), ev...)})
}

// verify tries every start in [lo, hi] (file offsets) for sub sb.
func (sc *scanner) verify(sb *sub, ss *subState, data []byte, base, lo, hi int64) {
	switch sb.kind {
	case Literal:
		for s := lo; s <= hi; s++ {
			i := int(s - base)
			sc.work += int64(len(sb.lit))
			if i+len(sb.lit) > len(data) {
				continue
			}
			if equalLit(data[i:i+len(sb.lit)], sb.lit, sb.nocase) {
				sc.record(ss, data, base, s, len(sb.lit))
			}
		}
	case Hex:
		sc.hex.steps = 0
		sc.hex.begin(sb.hex, data, int(lo-base), int(hi-lo)+sb.maxLen+1)
		for s := lo; s <= hi; s++ {
			if n := sc.hex.match(int(s - base)); n >= 0 {
				sc.record(ss, data, base, s, n)
			}
		}
		sc.work += int64(sc.hex.steps)
	case Regex:
		sc.verifyRegex(sb, ss, data, base, lo, hi)
	}
}

func equalLit(d, lit []byte, nocase bool) bool {
	if !nocase {
		return string(d) == string(lit)
	}
	for k, c := range lit {
		b := d[k]
		if b != c {
			if !isLetter(c) || b|0x20 != c|0x20 {
				return false
			}
		}
	}
	return true
}

// verifyRegex finds every start in [lo, hi] where the regex matches, trying an
// anchored match at each start whose bytes can begin one. A match may span at most
// sb.maxLen bytes (RegexWindow for unbounded regexes).
func (sc *scanner) verifyRegex(sb *sub, ss *subState, data []byte, base, lo, hi int64) {
	w := int64(sb.maxLen)
	dataEnd := base + int64(len(data))
	pre := sb.prefix.get()
	try := func(s int64) {
		if pre != nil && !pre.canStart(data, int(s-base)) {
			return
		}
		if n := sc.regexAt(sb, int(s-base), int(min(s+w, dataEnd)-base)); n >= 0 {
			sc.record(ss, data, base, s, n)
		}
	}
	if pre == nil || pre.few == nil {
		for s := lo; s <= hi; s++ {
			sc.work++
			try(s)
		}
		return
	}
	// A regex that begins with one of a few bytes: the window (thousands of bytes before
	// an atom when a gap of any length leads to it) is searched for them.
	few := pre.few
	var at [maxFew]int64 // the next offset of each byte at or after s, or hi+1
	for k := range few {
		at[k] = lo - 1
	}
	for s := lo; s <= hi; {
		next := hi + 1
		for k, b := range few {
			if at[k] < s {
				at[k] = hi + 1
				if j := bytes.IndexByte(data[s-base:hi+1-base], b); j >= 0 {
					at[k] = s + int64(j)
				}
			}
			next = min(next, at[k])
		}
		if next > hi {
			break
		}
		sc.work++
		try(next)
		s = next + 1
	}
}

// regexAt returns the length of the anchored match at data[a:b] of the current chunk,
// or -1. Go's regexp reads UTF-8 while a pattern's bytes above 0x7F stand for
// themselves: a window of ASCII bytes is matched as it is, and so is the part before
// the first byte above 0x7F for a regex that cannot match one; only otherwise is a
// stretch of the chunk transcoded (transcode).
func (sc *scanner) regexAt(sb *sub, a, b int) int {
	// The bytes a failed attempt examined are unknown; it is charged a fixed cost
	// plus an eighth of its window, a successful one its length too.
	sc.work += regexAttemptCost + int64(b-a)/8
	var n int
	if h := sc.firstHigh(a, b); h == b || sb.ascii {
		loc := sb.reA.FindIndex(sc.cdata[a:h])
		if loc == nil {
			return -1
		}
		n = loc[1]
	} else {
		sc.transcode(a, b)
		ts, te := sc.fwd[a-sc.tlo], sc.fwd[b-sc.tlo]
		loc := sb.reA.FindIndex(sc.tt[ts:te])
		if loc == nil {
			return -1
		}
		n = int(sc.rev[int(ts)+loc[1]]) - a
	}
	sc.work += int64(n)
	return n
}

// firstHigh returns the offset of the first byte above 0x7F in cdata[a:b], or b. It
// marks the chunk's 64-byte blocks that hold one the first time it is asked.
func (sc *scanner) firstHigh(a, b int) int {
	data := sc.cdata
	if !sc.highOK {
		sc.highOK = true
		words := (len(data) + 64*64 - 1) / (64 * 64)
		if cap(sc.high) < words {
			sc.high = make([]uint64, words)
		}
		sc.high = sc.high[:words]
		clear(sc.high)
		for blk := 0; blk*64 < len(data); blk++ {
			if hasHigh(data[blk*64 : min(blk*64+64, len(data))]) {
				sc.high[blk/64] |= 1 << (blk % 64)
			}
		}
	}
	for blk := a / 64; blk*64 < b; {
		word := sc.high[blk/64] >> (blk % 64)
		if word == 0 {
			blk = (blk/64 + 1) * 64
			continue
		}
		blk += bits.TrailingZeros64(word)
		if blk*64 >= b {
			break
		}
		for i := max(a, blk*64); i < min(b, blk*64+64); i++ {
			if data[i] >= 0x80 {
				return i
			}
		}
		blk++
	}
	return b
}

// hasHigh reports whether p holds a byte above 0x7F, eight bytes at a time.
func hasHigh(p []byte) bool {
	var acc uint64
	for len(p) >= 8 {
		acc |= binary.LittleEndian.Uint64(p)
		p = p[8:]
	}
	for _, c := range p {
		acc |= uint64(c)
	}
	return acc&0x8080808080808080 != 0
}

// transcodeSpan is the least a transcoding covers: the requests of one chunk's atoms
// move forward through it, reaching back and forth by at most a regex window.
const transcodeSpan = 64 << 10

// transcode makes sc.tt a stretch of the current chunk that holds [a, b), from tlo to
// thi, with every byte above 0x7F written as the UTF-8 encoding of the rune of that
// value, so that Go's regexp sees one rune per byte; fwd maps chunk offsets from tlo to
// tt offsets and rev maps tt offsets back to chunk offsets. It runs when a regex that
// can match a byte above 0x7F meets one, and keeps its stretch for the next requests.
func (sc *scanner) transcode(a, b int) {
	if sc.ttOK && sc.tlo <= a && b <= sc.thi {
		return
	}
	data := sc.cdata
	lo := max(0, a-regexWindow)
	hi := min(len(data), max(b, lo+transcodeSpan))
	sc.ttOK, sc.tlo, sc.thi = true, lo, hi
	n := hi - lo
	// Sized for the worst case (every byte above 0x7F takes two), then filled by index.
	need := 2*n + 1
	if cap(sc.tt) < need {
		sc.tt = make([]byte, need)
		sc.rev = make([]int32, need)
	}
	if cap(sc.fwd) < n+1 {
		sc.fwd = make([]int32, n+1)
	}
	t, fwd, rev := sc.tt[:need], sc.fwd[:n+1], sc.rev[:need]
	j := 0
	for i, c := range data[lo:hi] {
		fwd[i] = int32(j)
		if c < 0x80 {
			t[j] = c
			rev[j] = int32(lo + i)
			j++
			continue
		}
		t[j], t[j+1] = 0xC0|c>>6, 0x80|c&0x3F
		rev[j], rev[j+1] = int32(lo+i), int32(lo+i)
		j += 2
	}
	fwd[n] = int32(j)
	rev[j] = int32(hi)
	sc.tt, sc.fwd, sc.rev = t[:j], fwd, rev[:j+1]
}

func (sc *scanner) result() *Matches {
	set := sc.set
	m := &Matches{Patterns: []PatternMatches{}}
	// Only the patterns that matched are kept: a file holds few of a rule set's hundreds
	// of patterns, and an inventory keeps the matches of every file. Subs are in the
	// order of their patterns, and a pattern's plain form comes before its wide form.
	slices.Sort(sc.touched)
	last := -1     // the pattern of m.Patterns' last entry
	var pats []int // the pattern of each entry, when some patterns are reported twice
	for _, si := range sc.touched {
		ss := &sc.subs[si]
		if ss.count == 0 {
			continue
		}
		p := set.subs[si].pat
		if p != last {
			m.Patterns = append(m.Patterns, PatternMatches{ID: set.ids[p]})
			last = p
			if len(set.same) > 0 {
				pats = append(pats, p)
			}
		}
		pm := &m.Patterns[len(m.Patterns)-1]
		pm.Count += ss.count
		pm.Matches = append(pm.Matches, ss.matches...)
	}
	if len(set.same) > 0 {
		m.Patterns = sc.addSame(m.Patterns, pats)
	}
	for i := range m.Patterns {
		pm := &m.Patterns[i]
		sort.SliceStable(pm.Matches, func(a, b int) bool { return pm.Matches[a].Offset < pm.Matches[b].Offset })
		// The plain and wide forms of a degenerate text (one byte then NULs) can both
		// match at one offset; keep the first form's match there, as YARA does.
		kept := pm.Matches[:0]
		for _, mt := range pm.Matches {
			if len(kept) > 0 && mt.Offset == kept[len(kept)-1].Offset {
				continue
			}
			kept = append(kept, mt)
		}
		pm.Matches = kept
		if len(pm.Matches) > sc.max {
			pm.Matches = pm.Matches[:sc.max]
		}
	}
	return m
}

// addSame adds, for each later pattern identical to one that matched (and not matched
// itself), the matches of the first; pats are the patterns of pms. The order of the
// patterns is kept.
func (sc *scanner) addSame(pms []PatternMatches, pats []int) []PatternMatches {
	at := make(map[int]int, len(pats))
	for i, p := range pats {
		at[p] = i
	}
	n := len(pms)
	for _, fl := range sc.set.same {
		if i, ok := at[fl[0]]; ok {
			pms = append(pms, PatternMatches{ID: sc.set.ids[fl[1]], Count: pms[i].Count, Matches: slices.Clone(pms[i].Matches)})
			pats = append(pats, fl[1])
		}
	}
	if len(pms) == n {
		return pms
	}
	order := make([]int, len(pms))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return pats[a] - pats[b] })
	out := make([]PatternMatches, len(pms))
	for i, k := range order {
		out[i] = pms[k]
	}
	return out
}
