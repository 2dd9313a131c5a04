package pattern

import (
	"regexp/syntax"
	"sort"
)

// All three pattern kinds are turned into a regexp/syntax tree over bytes (a rune
// 0x00–0xFF stands for that byte) so that nocase, wide, lengths and atom extraction
// are done once.

const inf = 1 << 30

func lit(runes ...rune) *syntax.Regexp {
	return &syntax.Regexp{Op: syntax.OpLiteral, Rune: runes}
}

func class(set *[256]bool) *syntax.Regexp {
	var r []rune
	for b := 0; b < 256; b++ {
		if !set[b] {
			continue
		}
		e := b
		for e+1 < 256 && set[e+1] {
			e++
		}
		r = append(r, rune(b), rune(e))
		b = e
	}
	if len(r) == 0 {
		return &syntax.Regexp{Op: syntax.OpNoMatch}
	}
	return &syntax.Regexp{Op: syntax.OpCharClass, Rune: r}
}

func concat(subs ...*syntax.Regexp) *syntax.Regexp {
	if len(subs) == 1 {
		return subs[0]
	}
	return &syntax.Regexp{Op: syntax.OpConcat, Sub: subs}
}

func isLetter(b byte) bool { return (b|0x20) >= 'a' && (b|0x20) <= 'z' }

// literalTree returns the tree of a literal byte string.
func literalTree(b []byte, nocase bool) *syntax.Regexp {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	t := lit(r...)
	if nocase {
		t.Flags |= syntax.FoldCase
	}
	return foldASCII(t, false)
}

// foldASCII rewrites case folding (the nocase option, or (?i) in the regex) into
// explicit classes that fold ASCII letters only, as YARA does: bytes above 0x7F never
// fold.
func foldASCII(re *syntax.Regexp, nocase bool) *syntax.Regexp {
	switch re.Op {
	case syntax.OpLiteral:
		if !nocase && re.Flags&syntax.FoldCase == 0 {
			return re
		}
		var subs []*syntax.Regexp
		var run []rune
		flush := func() {
			if len(run) > 0 {
				subs = append(subs, lit(run...))
				run = nil
			}
		}
		for _, c := range re.Rune {
			if c < 0x80 && isLetter(byte(c)) {
				flush()
				var set [256]bool
				set[c|0x20] = true
				set[c&^0x20] = true
				subs = append(subs, class(&set))
				continue
			}
			run = append(run, c)
		}
		flush()
		if len(subs) == 0 {
			return &syntax.Regexp{Op: syntax.OpEmptyMatch}
		}
		return concat(subs...)
	case syntax.OpCharClass:
		// Go folds classes under (?i) with Unicode rules; recompute the byte set so
		// that only ASCII letters fold. Runes above 0xFF are dropped: the text a regex
		// meets is bytes, or their Latin-1 transcoding, so they never match. (They
		// would also make compiling the regex slow: printing a class for regexp.Compile
		// looks up the case folding of every rune it holds.)
		var set [256]bool
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], min(re.Rune[i+1], 0xFF)
			for c := lo; c <= hi; c++ {
				set[c] = true
			}
		}
		if nocase {
			for c := 0; c < 0x80; c++ {
				if set[c] && isLetter(byte(c)) {
					set[c|0x20] = true
					set[c&^0x20] = true
				}
			}
		}
		return class(&set)
	}
	if len(re.Sub) > 0 {
		c := *re
		c.Sub = make([]*syntax.Regexp, len(re.Sub))
		for i, s := range re.Sub {
			c.Sub[i] = foldASCII(s, nocase)
		}
		return &c
	}
	return re
}

// widenTree makes every byte-matching node match that byte followed by 0x00.
func widenTree(re *syntax.Regexp) *syntax.Regexp {
	switch re.Op {
	case syntax.OpLiteral:
		r := make([]rune, 0, 2*len(re.Rune))
		for _, c := range re.Rune {
			r = append(r, c, 0)
		}
		n := lit(r...)
		n.Flags = re.Flags &^ syntax.FoldCase
		return n
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return concat(re, lit(0))
	}
	if len(re.Sub) > 0 {
		c := *re
		c.Sub = make([]*syntax.Regexp, len(re.Sub))
		for i, s := range re.Sub {
			c.Sub[i] = widenTree(s)
		}
		return &c
	}
	return re
}

// unsupported reports an operator that needs text outside the verification window.
func unsupported(re *syntax.Regexp) (string, bool) {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpBeginText:
		return "the anchor ^ (or \\A)", true
	case syntax.OpEndLine, syntax.OpEndText:
		return "the anchor $ (or \\z)", true
	case syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return "the word boundary \\b (or \\B)", true
	}
	for _, s := range re.Sub {
		if op, bad := unsupported(s); bad {
			return op, true
		}
	}
	return "", false
}

func addSat(a, b int) int {
	if a >= inf || b >= inf || a+b >= inf {
		return inf
	}
	return a + b
}

func mulSat(a, n int) int {
	if n == 0 || a == 0 {
		return 0
	}
	if a >= inf || n >= inf || a > inf/n {
		return inf
	}
	return a * n
}

// lengths returns the shortest and longest match of re in bytes (inf when unbounded).
func lengths(re *syntax.Regexp) (int, int) {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune), len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1, 1
	case syntax.OpCapture:
		return lengths(re.Sub[0])
	case syntax.OpConcat:
		mn, mx := 0, 0
		for _, s := range re.Sub {
			a, b := lengths(s)
			mn, mx = addSat(mn, a), addSat(mx, b)
		}
		return mn, mx
	case syntax.OpAlternate:
		mn, mx := inf, 0
		for _, s := range re.Sub {
			a, b := lengths(s)
			mn, mx = min(mn, a), max(mx, b)
		}
		return mn, mx
	case syntax.OpStar:
		return 0, inf
	case syntax.OpPlus:
		a, _ := lengths(re.Sub[0])
		return a, inf
	case syntax.OpQuest:
		_, b := lengths(re.Sub[0])
		return 0, b
	case syntax.OpRepeat:
		a, b := lengths(re.Sub[0])
		mx := inf
		if re.Max >= 0 {
			mx = mulSat(b, re.Max)
		}
		return mulSat(a, re.Min), mx
	}
	return 0, 0
}

// candidate is a set of atoms (all of length l) such that every match of a tree
// contains one of them starting between dmin and dmax bytes after the match start.
type candidate struct {
	atoms      [][]byte
	l          int
	dmin, dmax int
	q          int
}

// byteScore rates how rare a byte is in files: common filler bytes make poor atoms.
func byteScore(b byte) int {
	switch b {
	case 0x00, 0xFF, 0x20, 0xCC, 0x90:
		return 1
	}
	if isLetter(b) {
		return 3
	}
	return 3
}

func (c *candidate) score() {
	q := inf
	for _, a := range c.atoms {
		s := 0
		for _, b := range a {
			s += byteScore(b)
		}
		q = min(q, s)
	}
	// Many variants cost automaton size and hits.
	for n := len(c.atoms); n > 1; n >>= 2 {
		q--
	}
	if c.dmin != c.dmax {
		q--
	}
	c.q = q
}

func better(a candidate, ok bool, b candidate) bool {
	if !ok {
		return true
	}
	if b.q != a.q {
		return b.q > a.q
	}
	return b.dmax-b.dmin < a.dmax-a.dmin
}

// byteSet returns the bytes a single-byte node matches, if it is one and matches at
// most maxSet bytes.
func byteSet(re *syntax.Regexp, maxSet int) ([]byte, bool) {
	if re.Op != syntax.OpCharClass {
		return nil, false
	}
	var out []byte
	for i := 0; i+1 < len(re.Rune); i += 2 {
		lo, hi := re.Rune[i], re.Rune[i+1]
		if lo > 0xFF {
			continue
		}
		hi = min(hi, 0xFF)
		if int(hi-lo)+1+len(out) > maxSet {
			return nil, false
		}
		for c := lo; c <= hi; c++ {
			out = append(out, byte(c))
		}
	}
	return out, len(out) > 0
}

// singleSet returns the bytes of a node that matches exactly one byte of a small set.
func singleSet(re *syntax.Regexp) ([]byte, bool) {
	if re.Op == syntax.OpLiteral && len(re.Rune) == 1 && re.Rune[0] <= 0xFF && re.Flags&syntax.FoldCase == 0 {
		return []byte{byte(re.Rune[0])}, true
	}
	return byteSet(re, 16)
}

// bestAtoms returns the best atom candidate of re.
func bestAtoms(re *syntax.Regexp) (candidate, bool) {
	return required(re, 0)
}

func required(re *syntax.Regexp, depth int) (candidate, bool) {
	if depth > 64 {
		return candidate{}, false
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0], depth+1)
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0], depth+1)
		}
		return candidate{}, false
	case syntax.OpAlternate:
		var cs []candidate
		l := inf
		for _, s := range re.Sub {
			c, ok := required(s, depth+1)
			if !ok {
				return candidate{}, false
			}
			cs = append(cs, c)
			l = min(l, c.l)
		}
		seen := map[string]bool{}
		out := candidate{l: l, dmin: inf}
		for _, c := range cs {
			for _, a := range c.atoms {
				k := string(a[:l])
				if !seen[k] {
					seen[k] = true
					out.atoms = append(out.atoms, a[:l])
				}
			}
			out.dmin, out.dmax = min(out.dmin, c.dmin), max(out.dmax, c.dmax)
		}
		if len(out.atoms) > maxAtomsPerPattern {
			return candidate{}, false
		}
		sortAtoms(out.atoms)
		out.score()
		return out, true
	case syntax.OpLiteral, syntax.OpCharClass, syntax.OpConcat:
	default:
		return candidate{}, false
	}
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	var best candidate
	found := false
	// A run of positions, each a small byte set, and where it starts.
	var run [][]byte
	var runMin, runMax int
	omin, omax := 0, 0
	flush := func() {
		for i := range run {
			c, ok := windowAtoms(run, i, runMin+i, runMax+i)
			if ok && better(best, found, c) {
				best, found = c, true
			}
		}
		run = nil
	}
	for _, s := range subs {
		switch {
		case s.Op == syntax.OpLiteral && s.Flags&syntax.FoldCase == 0:
			for _, r := range s.Rune {
				if r > 0xFF {
					flush()
					continue
				}
				if len(run) == 0 {
					runMin, runMax = omin, omax
				}
				run = append(run, []byte{byte(r)})
				omin, omax = addSat(omin, 1), addSat(omax, 1)
			}
			continue
		case (s.Op == syntax.OpPlus || s.Op == syntax.OpRepeat && s.Min >= 1) && len(s.Sub) == 1:
			// The first copies of a repeated byte are fixed positions.
			if set, ok := singleSet(s.Sub[0]); ok {
				if len(run) == 0 {
					runMin, runMax = omin, omax
				}
				n := 1
				if s.Op == syntax.OpRepeat {
					n = min(s.Min, maxAtomLen)
				}
				for k := 0; k < n; k++ {
					run = append(run, set)
				}
				flush()
				a, b := lengths(s)
				omin, omax = addSat(omin, a), addSat(omax, b)
				continue
			}
		case s.Op == syntax.OpCharClass:
			if set, ok := byteSet(s, 16); ok {
				if len(run) == 0 {
					runMin, runMax = omin, omax
				}
				run = append(run, set)
				omin, omax = addSat(omin, 1), addSat(omax, 1)
				continue
			}
		}
		flush()
		if s.Op != syntax.OpLiteral && s.Op != syntax.OpCharClass && s.Op != syntax.OpConcat {
			if c, ok := required(s, depth+1); ok {
				c.dmin, c.dmax = addSat(c.dmin, omin), addSat(c.dmax, omax)
				c.score()
				if better(best, found, c) {
					best, found = c, true
				}
			}
		} else if s.Op == syntax.OpConcat {
			if c, ok := required(s, depth+1); ok {
				c.dmin, c.dmax = addSat(c.dmin, omin), addSat(c.dmax, omax)
				c.score()
				if better(best, found, c) {
					best, found = c, true
				}
			}
		}
		a, b := lengths(s)
		omin, omax = addSat(omin, a), addSat(omax, b)
	}
	flush()
	// Atoms that cross the elements: a word split by the parser's factoring
	// (e(?:xec|val)), or a class before a group of words.
	omin, omax = 0, 0
	for i, s := range subs {
		if c, ok := prefixAtoms(subs[i:]); ok {
			c.dmin, c.dmax = omin, omax
			c.score()
			if better(best, found, c) {
				best, found = c, true
			}
		}
		a, b := lengths(s)
		omin, omax = addSat(omin, a), addSat(omax, b)
	}
	return best, found
}

// prefixAtoms returns the atoms every match of the sequence subs starts with: the
// strings its leading elements can match exactly (literals, small classes, groups and
// alternatives of them, optional ones), cut to the shortest of them.
func prefixAtoms(subs []*syntax.Regexp) (candidate, bool) {
	strs := [][]byte{nil}
	for _, s := range subs {
		set, ok := exactStrings(s, 0)
		if !ok {
			break
		}
		next, ok := product(strs, set)
		if !ok {
			break
		}
		strs = next
		full := true
		for _, x := range strs {
			full = full && len(x) >= maxAtomLen
		}
		if full {
			break
		}
	}
	l := maxAtomLen
	for _, x := range strs {
		l = min(l, len(x))
	}
	if l < MinAtomLen {
		return candidate{}, false
	}
	seen := map[string]bool{}
	var atoms [][]byte
	for _, x := range strs {
		if !seen[string(x[:l])] {
			seen[string(x[:l])] = true
			atoms = append(atoms, x[:l])
		}
	}
	sortAtoms(atoms)
	return candidate{atoms: atoms, l: l}, true
}

// product returns every string of a followed by one of b, each cut at maxAtomLen
// bytes, unless there would be more than maxAtomsPerPattern.
func product(a, b [][]byte) ([][]byte, bool) {
	var out [][]byte
	seen := map[string]bool{}
	for _, x := range a {
		for _, y := range b {
			z := append(append(make([]byte, 0, len(x)+len(y)), x...), y...)
			z = z[:min(len(z), maxAtomLen)]
			if seen[string(z)] {
				continue
			}
			if len(out) == maxAtomsPerPattern {
				return nil, false
			}
			seen[string(z)] = true
			out = append(out, z)
		}
	}
	return out, true
}

// exactStrings returns the strings re matches, cut at maxAtomLen bytes, when they are
// few and re is built of literals, small classes, groups, alternatives and bounded
// repetitions of them.
func exactStrings(re *syntax.Regexp, depth int) ([][]byte, bool) {
	if depth > 16 {
		return nil, false
	}
	switch re.Op {
	case syntax.OpEmptyMatch:
		return [][]byte{nil}, true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		var b []byte
		for _, r := range re.Rune {
			if r > 0xFF {
				return nil, false
			}
			b = append(b, byte(r))
		}
		return [][]byte{b[:min(len(b), maxAtomLen)]}, true
	case syntax.OpCharClass:
		set, ok := byteSet(re, 16)
		if !ok {
			return nil, false
		}
		return singles(set), true
	case syntax.OpCapture:
		return exactStrings(re.Sub[0], depth+1)
	case syntax.OpQuest:
		sub, ok := exactStrings(re.Sub[0], depth+1)
		if !ok {
			return nil, false
		}
		return append([][]byte{nil}, sub...), true
	case syntax.OpRepeat:
		if re.Max < 0 || re.Max > maxAtomLen {
			return nil, false
		}
		sub, ok := exactStrings(re.Sub[0], depth+1)
		if !ok {
			return nil, false
		}
		var out [][]byte
		cur := [][]byte{nil}
		for n := 0; n <= re.Max; n++ {
			if n >= re.Min {
				out = append(out, cur...)
			}
			if cur, ok = product(cur, sub); !ok {
				return nil, false
			}
		}
		return out, len(out) <= maxAtomsPerPattern
	case syntax.OpConcat:
		out := [][]byte{nil}
		for _, sub := range re.Sub {
			set, ok := exactStrings(sub, depth+1)
			if !ok {
				return nil, false
			}
			if out, ok = product(out, set); !ok {
				return nil, false
			}
		}
		return out, true
	case syntax.OpAlternate:
		var out [][]byte
		for _, sub := range re.Sub {
			set, ok := exactStrings(sub, depth+1)
			if !ok {
				return nil, false
			}
			out = append(out, set...)
		}
		return out, len(out) <= maxAtomsPerPattern
	}
	return nil, false
}

// windowAtoms returns the atoms of the positions run[i:i+maxAtomLen].
func windowAtoms(run [][]byte, i, dmin, dmax int) (candidate, bool) {
	n := min(maxAtomLen, len(run)-i)
	atoms := [][]byte{nil}
	for k := 0; k < n; k++ {
		next, ok := product(atoms, singles(run[i+k]))
		if !ok {
			n = k
			break
		}
		atoms = next
	}
	if n == 0 {
		return candidate{}, false
	}
	sortAtoms(atoms)
	c := candidate{atoms: atoms, l: n, dmin: dmin, dmax: dmax}
	c.score()
	return c, true
}

// singles returns each byte of set as a string of its own.
func singles(set []byte) [][]byte {
	out := make([][]byte, len(set))
	for i := range set {
		out[i] = set[i : i+1 : i+1]
	}
	return out
}

func sortAtoms(a [][]byte) {
	sort.Slice(a, func(i, j int) bool { return string(a[i]) < string(a[j]) })
}
