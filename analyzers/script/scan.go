package script

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"

	"kensa.dev/kensa/analyzers/entropy"
)

// maxScan bounds the bytes of one file read for line, encoding and command facts. It is
// a variable only so that tests can lower it.
var maxScan int64 = 64 << 20

const (
	// maxLine bounds the bytes of one line kept for the command facts; the rest of a
	// longer line is counted, not examined.
	maxLine = 64 << 10
	// maxJoined bounds a line continued with backslashes, and maxJoinedLines the physical
	// lines joined into one.
	maxJoined      = 64 << 10
	maxJoinedLines = 256
	// maxObservations bounds the observations of one file, maxHookObservations those of
	// one hook body.
	maxObservations     = 256
	maxHookObservations = 64
)

// textStats are the line and encoding facts of a text.
type textStats struct {
	scanned   int64
	lines     int64
	longest   int64
	crlfLines int64
	bom       string
	entropy   float64
	obs       []Observation
	obsTrunc  bool
	lang      string // language the observations are made for
}

// scanner reads a text line by line and makes the observations.
type scanner struct {
	st      *textStats
	maxObs  int
	joined  []byte
	joinAt  int64 // line the joined logical line starts on
	nJoined int
	lineNo  int64
	low     []byte // the line in ASCII lower case
}

func (s *scanner) observe(line []byte, lineNo int64) {
	// Most lines hold none of the needles: pass them over before any string is made.
	s.low = s.low[:0]
	for _, c := range line {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		s.low = append(s.low, c)
	}
	if !mayObserveBytes(s.low) {
		return
	}
	for _, k := range observeLine(s.st.lang, string(line)) {
		if len(s.st.obs) >= s.maxObs {
			s.st.obsTrunc = true
			return
		}
		s.st.obs = append(s.st.obs, Observation{Kind: k, Line: lineNo, Text: cutText(string(line))})
	}
}

// line takes one physical line (without its end, cut to maxLine) and joins continued lines.
func (s *scanner) line(l []byte) {
	s.lineNo++
	cont := continues(s.st.lang, l)
	if s.joined == nil && !cont {
		s.observe(l, s.lineNo)
		return
	}
	if s.joined == nil {
		s.joinAt = s.lineNo
		s.joined = make([]byte, 0, 256)
	}
	if cont {
		l = l[:len(l)-1]
	}
	if len(s.joined)+len(l) <= maxJoined {
		s.joined = append(s.joined, l...)
		s.joined = append(s.joined, ' ')
	}
	s.nJoined++
	if !cont || s.nJoined >= maxJoinedLines {
		s.flush()
	}
}

func (s *scanner) flush() {
	if s.joined != nil {
		s.observe(s.joined, s.joinAt)
	}
	s.joined, s.nJoined = nil, 0
}

// continues reports whether a physical line continues on the next one.
func continues(lang string, l []byte) bool {
	if len(l) == 0 {
		return false
	}
	last := l[len(l)-1]
	switch lang {
	case "powershell":
		return last == '`'
	case "batch":
		return last == '^'
	case "vbscript":
		return last == '_' && len(l) > 1 && l[len(l)-2] == ' '
	}
	return last == '\\' && !(len(l) > 1 && l[len(l)-2] == '\\')
}

// scanText reads up to maxScan bytes of r and returns the text facts. lang is the language
// observations are made for. Observations stop at maxObs.
func scanText(ctx context.Context, r io.Reader, lang string, maxObs int) (*textStats, error) {
	st := &textStats{lang: lang}
	br := bufio.NewReaderSize(io.LimitReader(r, maxScan), 64<<10)
	var cnt entropy.Counter
	var src io.Reader = br
	if bom, _ := br.Peek(3); bytes.HasPrefix(bom, []byte{0xef, 0xbb, 0xbf}) {
		st.bom = "utf-8"
	} else if bytes.HasPrefix(bom, []byte{0xff, 0xfe}) {
		st.bom = "utf-16le"
	} else if bytes.HasPrefix(bom, []byte{0xfe, 0xff}) {
		st.bom = "utf-16be"
	}
	counted := &countWriter{c: &cnt}
	src = io.TeeReader(br, counted)
	var text *bufio.Reader
	switch st.bom {
	case "utf-16le", "utf-16be":
		text = bufio.NewReaderSize(&utf16Reader{r: src, be: st.bom == "utf-16be"}, 64<<10)
	default:
		text = bufio.NewReaderSize(src, 64<<10)
	}
	if st.bom != "" {
		// Drop the mark: the #! line and the first line's observations come after it.
		if _, _, err := text.ReadRune(); err != nil && err != io.EOF {
			return st, err
		}
	}

	sc := &scanner{st: st, maxObs: maxObs}
	cur := make([]byte, 0, 256)
	var curLen int64
	var tail [2]byte // the last two bytes of the line so far
	var readErr error
	for n := 0; ; n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			readErr = ctx.Err()
			break
		}
		chunk, err := text.ReadSlice('\n')
		if len(chunk) > 0 {
			curLen += int64(len(chunk))
			if room := maxLine + 2 - len(cur); room > 0 {
				cur = append(cur, chunk[:min(len(chunk), room)]...)
			}
			if len(chunk) >= 2 {
				tail = [2]byte{chunk[len(chunk)-2], chunk[len(chunk)-1]}
			} else {
				tail = [2]byte{tail[1], chunk[0]}
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if curLen > 0 {
			line, length := cur, curLen
			if tail[1] == '\n' {
				length--
				if curLen >= 2 && tail[0] == '\r' {
					length--
					st.crlfLines++
				}
			}
			line = line[:min(int64(len(line)), length, maxLine)]
			st.lines++
			st.longest = max(st.longest, length)
			sc.line(line)
			cur, curLen, tail = cur[:0], 0, [2]byte{}
		}
		if err != nil {
			if err != io.EOF {
				readErr = err
			}
			break
		}
	}
	sc.flush()
	st.scanned = counted.n
	st.entropy = cnt.Entropy()
	if readErr != nil {
		var bad errUTF16
		if errors.As(readErr, &bad) {
			return st, readErr
		}
		return st, fmt.Errorf("reading the script: %w", readErr)
	}
	return st, nil
}

type countWriter struct {
	c *entropy.Counter
	n int64
}

func (w *countWriter) Write(p []byte) (int, error) {
	w.c.Write(p)
	w.n += int64(len(p))
	return len(p), nil
}

// errUTF16 reports UTF-16 text with an odd number of bytes.
type errUTF16 struct{}

func (errUTF16) Error() string { return "UTF-16 text ends in the middle of a character" }

// utf16Reader decodes UTF-16 to UTF-8; unpaired surrogates become U+FFFD.
type utf16Reader struct {
	r   io.Reader
	be  bool
	in  [4096]byte
	odd []byte
	out []byte
	hi  rune // a pending high surrogate
	err error
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.err != nil {
			if u.err == io.EOF && len(u.odd) > 0 {
				u.odd = nil
				return 0, errUTF16{}
			}
			return 0, u.err
		}
		n := copy(u.in[:], u.odd)
		m, err := u.r.Read(u.in[n:])
		n += m
		u.err = err
		u.odd = u.odd[:0]
		even := n &^ 1
		if even < n {
			u.odd = append(u.odd, u.in[even])
		}
		for i := 0; i < even; i += 2 {
			var c rune
			if u.be {
				c = rune(u.in[i])<<8 | rune(u.in[i+1])
			} else {
				c = rune(u.in[i+1])<<8 | rune(u.in[i])
			}
			switch {
			case u.hi != 0 && utf16.IsSurrogate(c) && c >= 0xdc00:
				u.out = utf8.AppendRune(u.out, utf16.DecodeRune(u.hi, c))
				u.hi = 0
				continue
			case u.hi != 0:
				u.out = utf8.AppendRune(u.out, utf8.RuneError)
				u.hi = 0
			}
			if c >= 0xd800 && c < 0xdc00 {
				u.hi = c
				continue
			}
			if utf16.IsSurrogate(c) {
				c = utf8.RuneError
			}
			u.out = utf8.AppendRune(u.out, c)
		}
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}
