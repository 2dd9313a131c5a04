package pattern

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The differential test against YARA: random literals, hex strings and regexes (in the
// syntax both accept) drawn from real binaries and random data with planted matches;
// every (pattern, offset, length) must agree.

func requireYara(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("yara")
	if err != nil {
		t.Fatal("yara not found: install the Debian package yara")
	}
	return p
}

// realFiles returns up to limit bytes of each of a few system binaries.
func realFiles(t testing.TB, names []string, limit int) [][]byte {
	t.Helper()
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatalf("reading %s: %v", n, err)
		}
		if len(b) > limit {
			b = b[:limit]
		}
		out = append(out, b)
	}
	return out
}

type genPattern struct {
	def    Def
	yara   string // the YARA string definition
	plants [][]byte
}

func isAlnum(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// yaraText escapes bytes for a YARA text string.
func yaraText(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if isAlnum(c) || c == ' ' {
			s.WriteByte(c)
		} else {
			fmt.Fprintf(&s, `\x%02x`, c)
		}
	}
	return s.String()
}

func mods(r *rand.Rand, d *Def) string {
	var m []string
	if r.IntN(5) == 0 {
		d.Nocase = true
		m = append(m, "nocase")
	}
	if r.IntN(4) == 0 {
		d.Wide = true
		m = append(m, "wide")
		if r.IntN(2) == 0 {
			d.ASCII = true
			m = append(m, "ascii")
		}
	}
	return strings.Join(m, " ")
}

// plantForms returns the byte strings to plant so that the pattern's forms occur.
func plantForms(r *rand.Rand, d Def, sample []byte) [][]byte {
	s := append([]byte(nil), sample...)
	if d.Nocase {
		for i, c := range s {
			if isLetter(c) && r.IntN(2) == 0 {
				s[i] ^= 0x20
			}
		}
	}
	var out [][]byte
	if !d.Wide || d.ASCII {
		out = append(out, s)
	}
	if d.Wide {
		out = append(out, widen(s))
	}
	return out
}

func genLiteral(r *rand.Rand, sample []byte) genPattern {
	d := Def{Kind: Literal, Text: string(sample)}
	m := mods(r, &d)
	return genPattern{def: d, yara: fmt.Sprintf(`"%s" %s`, yaraText(sample), m), plants: plantForms(r, d, sample)}
}

func genHex(r *rand.Rand, sample []byte) genPattern {
	fixedAt := r.IntN(len(sample) - 2)
	var toks []string
	for i := 0; i < len(sample); i++ {
		c := sample[i]
		inFixed := i >= fixedAt && i < fixedAt+3
		last := i == len(sample)-1
		switch x := r.IntN(100); {
		case inFixed:
			toks = append(toks, fmt.Sprintf("%02X", c))
		case i > 1 && !last && x < 12 && !(i+1 >= fixedAt && i < fixedAt+3):
			// A jump over j bytes, not reaching the fixed run or the last byte.
			j := 1 + r.IntN(4)
			if i+j >= len(sample)-1 || (i < fixedAt && i+j > fixedAt) {
				j = 1
				if i+j >= len(sample)-1 || (i < fixedAt && i+j > fixedAt) {
					toks = append(toks, fmt.Sprintf("%02X", c))
					continue
				}
			}
			switch r.IntN(4) {
			case 0:
				toks = append(toks, fmt.Sprintf("[%d]", j))
			case 1:
				// kensa caps unbounded jumps at MaxJump; YARA does not, so YARA is
				// given the cap explicitly (rewritten below).
				toks = append(toks, fmt.Sprintf("[%d-]", r.IntN(j+1)))
			default:
				toks = append(toks, fmt.Sprintf("[%d-%d]", r.IntN(j+1), j+r.IntN(4)))
			}
			i += j - 1
			if len(toks) > 1 && strings.HasPrefix(toks[len(toks)-2], "[") {
				// Two jumps in a row are not allowed: undo.
				toks = toks[:len(toks)-1]
				toks = append(toks, fmt.Sprintf("%02X", c))
				i -= j - 1
			}
		case x < 22:
			toks = append(toks, "??")
		case x < 30:
			if r.IntN(2) == 0 {
				toks = append(toks, fmt.Sprintf("%X?", c>>4))
			} else {
				toks = append(toks, fmt.Sprintf("?%X", c&15))
			}
		case x < 38 && !last:
			alt := []string{fmt.Sprintf("%02X", c), fmt.Sprintf("%02X %02X", byte(r.IntN(256)), byte(r.IntN(256)))}
			if r.IntN(3) == 0 {
				alt = append(alt, fmt.Sprintf("%02X ?%X", byte(r.IntN(256)), r.IntN(16)))
			}
			r.Shuffle(len(alt), func(a, b int) { alt[a], alt[b] = alt[b], alt[a] })
			toks = append(toks, "( "+strings.Join(alt, " | ")+" )")
		default:
			toks = append(toks, fmt.Sprintf("%02X", c))
		}
	}
	text := strings.Join(toks, " ")
	ytext := regexp.MustCompile(`\[(\d+)-\]`).ReplaceAllString(text, fmt.Sprintf("[$1-%d]", MaxJump))
	return genPattern{def: Def{Kind: Hex, Text: text}, yara: "{ " + ytext + " }", plants: [][]byte{sample}}
}

func regexByte(c byte) string {
	if isAlnum(c) {
		return string(c)
	}
	return fmt.Sprintf(`\x%02x`, c)
}

// genRealistic keeps generated regexes free of what YARA warns about as slow: no
// repetition on the first elements or on '.', \w and negated classes, which make
// every offset before the fixed string a match start.
var genRealistic bool

func genRegex(r *rand.Rand, sample []byte) genPattern {
	fixedAt := r.IntN(len(sample) - 2)
	var s strings.Builder
	for i := 0; i < len(sample); i++ {
		c := sample[i]
		var elem string
		switch x := r.IntN(100); {
		case i >= fixedAt && i < fixedAt+3:
			elem = regexByte(c)
		case x < 10 && c != '\n':
			elem = "."
		case x < 20:
			lo, hi := c-byte(r.IntN(int(c)+1)%8), c+byte(r.IntN(int(255-c)+1)%8)
			if r.IntN(4) == 0 {
				// A negated class of some other byte.
				o := c + 1 + byte(r.IntN(200))
				elem = "[^" + regexByte(o) + "]"
			} else {
				elem = "[" + regexByte(lo) + "-" + regexByte(hi) + "]"
			}
		case x < 25 && c >= '0' && c <= '9':
			elem = `\d`
		case x < 25 && (isAlnum(c) || c == '_'):
			elem = `\w`
		case x < 25 && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'):
			elem = `\s`
		case x < 30:
			elem = "(" + regexByte(c) + "|" + regexByte(byte(r.IntN(256))) + regexByte(byte(r.IntN(256))) + ")"
		default:
			elem = regexByte(c)
		}
		s.WriteString(elem)
		broad := elem == "." || strings.HasPrefix(elem, "[^") || elem == `\w`
		if genRealistic && (i < 2 || broad) {
			continue
		}
		if !(i >= fixedAt && i < fixedAt+3) {
			switch r.IntN(14) {
			case 0:
				s.WriteString("+")
			case 1:
				s.WriteString("?")
			case 2:
				s.WriteString("*")
			case 3:
				s.WriteString(fmt.Sprintf("{1,%d}", 1+r.IntN(4)))
			}
		}
	}
	d := Def{Kind: Regex, Text: s.String()}
	m := mods(r, &d)
	return genPattern{def: d, yara: fmt.Sprintf("/%s/ %s", d.Text, m), plants: plantForms(r, d, sample)}
}

// longJump finds a jump whose upper bound is 200 bytes or more.
var longJump = regexp.MustCompile(`-(\d{4,}|[2-9]\d\d)\]`)

// yaraMaxMatchData is the match length YARA reports at most (its MAX_MATCH_DATA).
const yaraMaxMatchData = 512

type ymatch struct {
	rule int
	off  int64
	n    int
}

// runYara scans file with rules and returns its matches, sorted.
func runYara(t testing.TB, yaraPath, rules, file string) []ymatch {
	t.Helper()
	cmd := exec.Command(yaraPath, "-s", "-L", "-w", rules, file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("yara: %v: %s", err, stderr.String())
	}
	var res []ymatch
	rule := -1
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "0x") {
			f := strings.SplitN(line, ":", 4)
			off, err1 := strconv.ParseInt(f[0][2:], 16, 64)
			n, err2 := strconv.Atoi(f[1])
			if err1 != nil || err2 != nil || rule < 0 {
				t.Fatalf("yara output line %q", line)
			}
			res = append(res, ymatch{rule, off, n})
			continue
		}
		if name, _, ok := strings.Cut(line, " "); ok && strings.HasPrefix(name, "r") {
			if v, err := strconv.Atoi(name[1:]); err == nil {
				rule = v
				continue
			}
		}
		t.Fatalf("unexpected yara output line %q", line)
	}
	sortY(res)
	return res
}

func sortY(m []ymatch) {
	sort.Slice(m, func(i, j int) bool {
		if m[i].rule != m[j].rule {
			return m[i].rule < m[j].rule
		}
		if m[i].off != m[j].off {
			return m[i].off < m[j].off
		}
		return m[i].n < m[j].n
	})
}

func TestDifferentialYara(t *testing.T) {
	yaraPath := requireYara(t)
	seed := uint64(envInt("KENSA_PATTERN_DIFF_SEED", 1))
	r := rand.New(rand.NewPCG(seed, 2))
	bins := realFiles(t, []string{"/usr/bin/ls", "/usr/bin/bash", "/usr/bin/gdb"}, envInt("KENSA_PATTERN_DIFF_FILE_LIMIT", 1<<20))
	random := make([]byte, 512<<10)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	// Text-like regions so that regexes over letters find runs.
	for k := 0; k < 200; k++ {
		off := r.IntN(len(random) - 200)
		for i := 0; i < 100; i++ {
			random[off+i] = "abcdefghijklmnopqrstuvwxyz ABCXYZ 0123456789\n"[r.IntN(45)]
		}
	}
	perKind := envInt("KENSA_PATTERN_DIFF_PER_KIND", 100)
	var gens []genPattern
	for k := 0; k < 3*perKind; k++ {
		var src []byte
		if k%2 == 0 {
			src = bins[r.IntN(len(bins))]
		} else {
			src = random
		}
		// Samples of a few distinct bytes (runs of zeros) match everywhere; redraw.
		var sample []byte
		for {
			n := 4 + r.IntN(20)
			off := r.IntN(len(src) - n)
			sample = src[off : off+n]
			var seen [256]bool
			distinct := 0
			for _, c := range sample {
				if !seen[c] {
					seen[c] = true
					distinct++
				}
			}
			if distinct*2 >= len(sample) {
				break
			}
		}
		switch k % 3 {
		case 0:
			gens = append(gens, genLiteral(r, sample))
		case 1:
			gens = append(gens, genHex(r, sample))
		default:
			gens = append(gens, genRegex(r, sample))
		}
	}
	// Plant every form of every pattern in the random data.
	for _, g := range gens {
		for _, p := range g.plants {
			off := r.IntN(len(random) - len(p))
			copy(random[off:], p)
		}
	}
	// Compile each pattern alone to learn which ones the engine refuses.
	var defs []Def
	var yrules strings.Builder
	refused := map[Kind]int{}
	for i, g := range gens {
		g.def.ID = fmt.Sprintf("r%d", i)
		if _, err := Compile([]Def{g.def}); err != nil {
			if refused[g.def.Kind] < 3 {
				t.Logf("refused: %v", err)
			}
			refused[g.def.Kind]++
			continue
		}
		fmt.Fprintf(&yrules, "rule r%d { strings: $s = %s condition: $s }\n", i, g.yara)
		defs = append(defs, g.def)
	}
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yar")
	if err := os.WriteFile(rulesPath, []byte(yrules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := Compile(defs)
	if err != nil {
		t.Fatal(err)
	}
	files := append(bins, random)
	kindOf := map[int]Kind{}
	for _, d := range defs {
		v, _ := strconv.Atoi(d.ID[1:])
		kindOf[v] = d.Kind
	}
	type tally struct{ both, lenDiff, oursOnly, yaraOnly, beyond int }
	tallies := map[Kind]*tally{Literal: {}, Hex: {}, Regex: {}}
	for fi, data := range files {
		path := filepath.Join(dir, fmt.Sprintf("f%d", fi))
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		want := runYara(t, yaraPath, rulesPath, path)
		t1 := time.Now()
		m, err := set.Scan(bytes.NewReader(data), int64(len(data)), ScanOptions{MaxMatchesPerPattern: 1 << 20, ChunkSize: 64 << 10, WorkFactor: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("file %d (%d bytes): yara %v, kensa %v", fi, len(data), t1.Sub(t0), time.Since(t1))
		var got []ymatch
		for _, pm := range m.Patterns {
			v, _ := strconv.Atoi(pm.ID[1:])
			for _, mt := range pm.Matches {
				got = append(got, ymatch{v, mt.Offset, mt.Length})
			}
		}
		sortY(got)
		// Merge the two sorted lists by (rule, offset).
		i, j := 0, 0
		reported := 0
		for i < len(got) || j < len(want) {
			var g, w *ymatch
			if i < len(got) {
				g = &got[i]
			}
			if j < len(want) {
				w = &want[j]
			}
			switch {
			case g != nil && w != nil && g.rule == w.rule && g.off == w.off:
				if min(g.n, yaraMaxMatchData) == w.n {
					tallies[kindOf[g.rule]].both++
				} else if beyondWindow(t, gens[g.rule].def, data, g.off) {
					tallies[kindOf[g.rule]].beyond++
				} else {
					tallies[kindOf[g.rule]].lenDiff++
					if reported < 10 {
						reported++
						t.Errorf("file %d, r%d %s %q: at %d length %d, yara %d", fi, g.rule, kindOf[g.rule], gens[g.rule].def.Text, g.off, g.n, w.n)
					}
				}
				i++
				j++
			case (w == nil || g != nil && (g.rule < w.rule || g.rule == w.rule && g.off < w.off)) && kindOf[g.rule] == Hex && (g.n > RegexWindow || longJump.MatchString(gens[g.rule].yara)):
				// YARA verifies at most 4096 bytes on each side of its atom, and
				// splits hex strings at jumps over 200 bytes into chained pieces
				// with limits of their own.
				tallies[kindOf[g.rule]].beyond++
				i++
			case w == nil || g != nil && (g.rule < w.rule || g.rule == w.rule && g.off < w.off):
				tallies[kindOf[g.rule]].oursOnly++
				if reported < 10 {
					reported++
					t.Errorf("file %d, r%d %s %q: match at %d (len %d) that yara does not report", fi, g.rule, kindOf[g.rule], gens[g.rule].yara, g.off, g.n)
				}
				i++
			case beyondWindow(t, gens[w.rule].def, data, w.off):
				tallies[kindOf[w.rule]].beyond++
				j++
			default:
				tallies[kindOf[w.rule]].yaraOnly++
				if reported < 10 {
					reported++
					t.Errorf("file %d, r%d %s %q: yara match at %d (len %d) missed", fi, w.rule, kindOf[w.rule], gens[w.rule].yara, w.off, w.n)
				}
				j++
			}
		}
	}
	for _, k := range []Kind{Literal, Hex, Regex} {
		tl := tallies[k]
		t.Logf("%-7s patterns %d (refused %d): agree %d, length differs %d, only ours %d, only yara %d (+%d beyond YARA's 4096-byte or chained-jump limits, documented)",
			k, perKind-refused[k], refused[k], tl.both, tl.lenDiff, tl.oursOnly, tl.yaraOnly, tl.beyond)
		if tl.both == 0 {
			t.Errorf("%s: no agreeing matches at all; the generator is broken", k)
		}
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// beyondWindow reports whether a regex matches at off only with a match longer than
// RegexWindow (YARA allows 4096 bytes on each side of its atom; kensa 4096 in all).
func beyondWindow(t testing.TB, d Def, data []byte, off int64) bool {
	if d.Kind != Regex {
		return false
	}
	regexWindow = 4 * RegexWindow
	defer func() { regexWindow = RegexWindow }()
	set, err := Compile([]Def{d})
	if err != nil {
		t.Fatal(err)
	}
	hi := min(int64(len(data)), off+4*RegexWindow)
	sc := scanner{cdata: data[off:hi]}
	for k := range set.subs {
		if n := sc.regexAt(&set.subs[k], 0, int(hi-off)); n > RegexWindow {
			return true
		}
	}
	return false
}
