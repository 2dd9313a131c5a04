package pattern

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func FuzzCompile(f *testing.F) {
	for _, s := range []string{"4D 5A", "4D 5A ?? [2-4] ( 01 | 02 03 ) 0?", "[-]", "( ( 01 02 | 03 04 ) | 05 06 )", "4D [5000] 5A", "ab(c|d)+e", `\x00\x01.{2}abc`, "(?i)abc[^x]", "a{1000}{1000}", `[\s\S]abc`} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(5))
	}
	f.Fuzz(func(t *testing.T, text string, flags uint8) {
		d := Def{ID: "f", Kind: Kind(flags%3) + 1, Text: text, Nocase: flags&4 != 0, Wide: flags&8 != 0, ASCII: flags&16 != 0}
		set, err := Compile([]Def{d})
		if err != nil {
			var ce *CompileError
			if !errors.As(err, &ce) || ce.Msg == "" || ce.Column < 0 || ce.Column > len(text)+1 {
				t.Fatalf("error %v (%T) for %q", err, err, text)
			}
			return
		}
		for _, sb := range set.subs {
			if sb.maxLen > MaxPatternLen || sb.atomL < MinAtomLen || sb.dmin > sb.dmax {
				t.Fatalf("%q: sub %+v out of bounds", text, sb)
			}
		}
		data := []byte("MZ\x90\x00abcABCabc\x00d\x00\x01\x02\x03\x04")
		if _, err := set.Scan(bytes.NewReader(data), int64(len(data)), ScanOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}

// naiveHex is the reference matcher: plain backtracking over the parsed hex string,
// fewest jump bytes and first alternative first; it returns the end or -1.
func naiveHex(seq []hexNode, data []byte, pos int, k func(int) int) int {
	if len(seq) == 0 {
		return k(pos)
	}
	n := seq[0]
	switch n.kind {
	case opByte:
		if pos >= len(data) || data[pos]&n.mask != n.val {
			return -1
		}
		return naiveHex(seq[1:], data, pos+1, k)
	case opJump:
		for j := n.min; j <= n.max && pos+j <= len(data); j++ {
			if r := naiveHex(seq[1:], data, pos+j, k); r >= 0 {
				return r
			}
		}
		return -1
	default:
		for _, a := range n.alts {
			if r := naiveHex(a, data, pos, func(p int) int { return naiveHex(seq[1:], data, p, k) }); r >= 0 {
				return r
			}
		}
		return -1
	}
}

func naiveMatches(d Def, data []byte) ([]hit, error) {
	var out []hit
	switch d.Kind {
	case Literal:
		var forms [][]byte
		if !d.Wide || d.ASCII {
			forms = append(forms, []byte(d.Text))
		}
		if d.Wide {
			forms = append(forms, widen([]byte(d.Text)))
		}
		for s := 0; s < len(data); s++ {
			for _, f := range forms {
				if s+len(f) <= len(data) && (string(data[s:s+len(f)]) == string(f) || d.Nocase && bytes.Equal(asciiOnly(data[s:s+len(f)]), asciiOnly(f))) {
					out = append(out, hit{int64(s), len(f)})
					break
				}
			}
		}
	case Hex:
		p := &hexParser{s: d.Text}
		seq, err := p.seq(false)
		if err != nil {
			return nil, err
		}
		for s := 0; s < len(data); s++ {
			if e := naiveHex(seq, data, s, func(p int) int { return p }); e >= 0 {
				out = append(out, hit{int64(s), e - s})
			}
		}
	}
	return out, nil
}

// asciiOnly lower-cases ASCII letters and leaves every other byte alone.
func asciiOnly(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 0x80 || !isLetter(c) {
			out[i] = c
			continue
		}
		out[i] = c | 0x20
	}
	return out
}

func FuzzScan(f *testing.F) {
	f.Add([]byte("xxMZ\x90\x00\x03MZ\x90\x90"), "4D 5A ( 90 | 91 ) [0-2] 90", true, uint8(0))
	f.Add([]byte("hello HeLLo h\x00e\x00l\x00l\x00o\x00"), "hello", false, uint8(7))
	f.Add([]byte("\x01AB\x02\x02\x02\x01AB\x02"), "41 42 [1-3] 02", true, uint8(0))
	f.Add([]byte("aaaaaaaa"), "61 61 [-] 61", true, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, text string, hex bool, flags uint8) {
		d := Def{ID: "f", Kind: Literal, Text: text, Nocase: flags&1 != 0, Wide: flags&2 != 0, ASCII: flags&4 != 0}
		if hex {
			d = Def{ID: "f", Kind: Hex, Text: text}
		}
		set, err := Compile([]Def{d})
		if err != nil {
			return
		}
		want, err := naiveMatches(d, data)
		if err != nil {
			t.Fatalf("engine accepts %q, reference parser does not: %v", text, err)
		}
		for _, chunk := range []int{0, 1} {
			m, err := set.Scan(bytes.NewReader(data), int64(len(data)), ScanOptions{MaxMatchesPerPattern: 1 << 20, ChunkSize: chunk})
			if err != nil {
				t.Fatal(err)
			}
			var got []hit
			for _, mt := range matchesOf(m) {
				got = append(got, hit{mt.Offset, mt.Length})
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s %q on %q: got %v, want %v", d.Kind, text, data, got, want)
			}
		}
		w := set.NewStream(ScanOptions{MaxMatchesPerPattern: 1 << 20}, 0)
		for d := data; len(d) > 0; d = d[min(7, len(d)):] {
			w.Write(d[:min(7, len(d))])
		}
		m, err := w.Close()
		if err != nil {
			t.Fatal(err)
		}
		var got []hit
		for _, mt := range matchesOf(m) {
			got = append(got, hit{mt.Offset, mt.Length})
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("stream: %s %q on %q: got %v, want %v", d.Kind, text, data, got, want)
		}
	})
}

// matchesOf is the matches of the fuzzed pattern "f"; a scan lists only patterns that
// matched.
func matchesOf(m *Matches) []Match {
	if pm := m.Get("f"); pm != nil {
		return pm.Matches
	}
	return nil
}
