package pattern

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
)

// Kind is the kind of a pattern: Literal, Hex or Regex.
type Kind uint8

// The pattern kinds.
const (
	// Literal is a text string, given as its decoded bytes.
	Literal Kind = iota + 1
	// Hex is a YARA hex string: bytes, wildcards, jumps and alternatives.
	Hex
	// Regex is a Go RE2 regular expression matched against bytes.
	Regex
)

// String returns the kind's name as rule packs spell it.
func (k Kind) String() string {
	switch k {
	case Literal:
		return "literal"
	case Hex:
		return "hex"
	case Regex:
		return "regex"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind returns the Kind named s ("literal", "hex" or "regex").
func ParseKind(s string) (Kind, error) {
	switch s {
	case "literal":
		return Literal, nil
	case "hex":
		return Hex, nil
	case "regex":
		return Regex, nil
	}
	return 0, fmt.Errorf("unknown pattern kind %q (want literal, hex or regex)", s)
}

// Def is one pattern of a rule as the rule loader decoded it.
type Def struct {
	// ID names the pattern in results; it need not be unique across rules but
	// results are reported per Def, in the order given to Compile.
	ID string
	// Kind is the kind of pattern.
	Kind Kind
	// Text is the literal's decoded bytes, the hex string or the regular expression.
	Text string
	// Nocase makes ASCII letters match in either case (literal and regex only).
	Nocase bool
	// Wide matches the UTF-16LE form: every byte followed by 0x00 (literal and regex only).
	Wide bool
	// ASCII, together with Wide, matches the plain form as well as the wide form.
	ASCII bool
}

// Limits of the engine, documented in the package comment.
const (
	// MaxJump is the largest jump a hex string may state, and the length an
	// unbounded jump ([-] or [N-]) is capped at.
	MaxJump = 4096
	// RegexWindow bounds the bytes a regex match may span from its start, and how far
	// before the atom a regex match may start.
	RegexWindow = 4096
	// MaxPatternLen bounds the longest match a pattern may describe (hex strings with
	// many jumps); longer patterns are refused at compile time.
	MaxPatternLen = 64 << 10
	// MaxTextLen bounds the length of a pattern's text.
	MaxTextLen = 16 << 10
	// MaxEvidence bounds the matched bytes kept as evidence for one match.
	MaxEvidence = 64
	// DefaultMaxMatchesPerPattern is the number of match offsets kept per pattern
	// unless ScanOptions say otherwise.
	DefaultMaxMatchesPerPattern = 100
	// MinAtomLen is the shortest atom a pattern must yield; see the package comment.
	MinAtomLen = 2
	// maxAtomLen is the length of the atoms put into the automaton.
	maxAtomLen = 4
	// maxAtomsPerPattern bounds the atom variants one pattern may put into the automaton.
	maxAtomsPerPattern = 64
	// maxHexDepth bounds the nesting of hex alternatives.
	maxHexDepth = 16
	// maxHexMemo bounds program length × match length of one hex string.
	maxHexMemo = 1 << 20
)

// regexWindow is RegexWindow; tests widen it to tell matches beyond it apart.
var regexWindow = RegexWindow

// yaraSpace rewrites \s outside classes, and \s inside them, to include \v as YARA
// and Perl do (Go's \s is [\t\n\f\r ]).
func yaraSpace(s string) string {
	if !strings.Contains(s, `\s`) && !strings.Contains(s, `\S`) {
		return s
	}
	var b strings.Builder
	inClass := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			switch {
			case s[i+1] == 's' && inClass:
				b.WriteString(`\t\n\v\f\r `)
			case s[i+1] == 's':
				b.WriteString(`[\t\n\v\f\r ]`)
			case s[i+1] == 'S' && !inClass:
				b.WriteString(`[^\t\n\v\f\r ]`)
			default:
				b.WriteByte(c)
				b.WriteByte(s[i+1])
			}
			i++
			continue
		case c == '[' && !inClass:
			inClass = true
			b.WriteByte(c)
			// A ']' right after '[' or '[^' is a literal.
			if i+1 < len(s) && s[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(s) && s[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
			continue
		case c == ']' && inClass:
			inClass = false
		}
		b.WriteByte(c)
	}
	return b.String()
}

// CompileError is the error Compile returns for a pattern it cannot use.
type CompileError struct {
	// Index is the position of the pattern in the slice given to Compile.
	Index int
	// ID is the pattern's ID.
	ID string
	// Column is the 1-based byte column of the fault in the pattern's text, or 0 when
	// the fault is not at one place.
	Column int
	// Msg says what is wrong and how to fix it.
	Msg string
}

func (e *CompileError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("pattern %q: column %d: %s", e.ID, e.Column, e.Msg)
	}
	return fmt.Sprintf("pattern %q: %s", e.ID, e.Msg)
}

// sub is one matchable variant of a pattern (plain or wide form).
type sub struct {
	pat    int
	kind   Kind
	lit    []byte // literal: bytes to compare (wide applied)
	nocase bool   // literal: ASCII case-insensitive compare
	hex    *hexProg
	reA    *regexp.Regexp // regex: anchored form
	prefix *lazyPrefix    // regex: whether a match can begin at a start
	ascii  bool           // regex: no match holds a byte above 0x7F
	maxLen int            // longest match, capped at the window for regexes
	atomL  int            // length of this sub's atoms
	dmin   int            // atom start offset from match start, minimum
	dmax   int            // and maximum
}

// Set is a compiled set of patterns, matched together in one pass. A Set is safe for
// concurrent use by several scans.
type Set struct {
	ids      []string
	subs     []sub
	ac       *automaton
	atomSubs [][]int32 // atom index → subs using it
	same     [][2]int  // {first, later}: a later pattern identical to the first but for its ID
	back     int       // bytes kept before a chunk
	fwd      int       // bytes read after a chunk
	scanners sync.Pool // of *scanner, reused from one scan to the next
}

// Len returns the number of patterns in the set.
func (s *Set) Len() int { return len(s.ids) }

// Compile compiles all patterns into one Set. It refuses patterns that cannot be
// parsed, exceed the engine's limits or have no atom of at least MinAtomLen fixed
// bytes; the error is a *CompileError naming the pattern.
func Compile(defs []Def) (*Set, error) {
	s := &Set{ids: make([]string, len(defs))}
	var atoms [][]byte
	atomIndex := map[string]int{}
	first := map[Def]int{} // a pattern's ID blanked → the first pattern like it
	for i, d := range defs {
		s.ids[i] = d.ID
		key := d
		key.ID = ""
		if f, ok := first[key]; ok {
			// Rules often share a pattern: it is matched once and reported for both.
			s.same = append(s.same, [2]int{f, i})
			continue
		}
		first[key] = i
		subs, err := compileDef(i, d)
		if err != nil {
			return nil, err
		}
		for _, cs := range subs {
			si := int32(len(s.subs))
			s.subs = append(s.subs, cs.sub)
			for _, a := range cs.atoms {
				k := string(a)
				ai, ok := atomIndex[k]
				if !ok {
					ai = len(atoms)
					atomIndex[k] = ai
					atoms = append(atoms, a)
					s.atomSubs = append(s.atomSubs, nil)
				}
				s.atomSubs[ai] = append(s.atomSubs[ai], si)
			}
			if b := cs.sub.dmax + cs.sub.atomL; b > s.back {
				s.back = b
			}
			if cs.sub.maxLen > s.fwd {
				s.fwd = cs.sub.maxLen
			}
		}
	}
	s.ac = buildAutomaton(atoms)
	return s, nil
}

type compiledSub struct {
	sub   sub
	atoms [][]byte
}

func compileDef(i int, d Def) ([]compiledSub, error) {
	fail := func(col int, format string, args ...any) error {
		return &CompileError{Index: i, ID: d.ID, Column: col, Msg: fmt.Sprintf(format, args...)}
	}
	if len(d.Text) == 0 {
		return nil, fail(0, "empty pattern")
	}
	if len(d.Text) > MaxTextLen {
		return nil, fail(0, "pattern text is %d bytes, more than the limit of %d", len(d.Text), MaxTextLen)
	}
	type variant struct{ wide bool }
	var variants []variant
	if d.Wide {
		if d.ASCII {
			variants = append(variants, variant{false})
		}
		variants = append(variants, variant{true})
	} else {
		variants = append(variants, variant{false})
	}
	var out []compiledSub
	switch d.Kind {
	case Literal:
		for _, v := range variants {
			lit := []byte(d.Text)
			if v.wide {
				lit = widen(lit)
			}
			cs := compiledSub{sub: sub{pat: i, kind: Literal, lit: lit, nocase: d.Nocase, maxLen: len(lit)}}
			if len(lit) > MaxPatternLen {
				return nil, fail(0, "literal is %d bytes, more than the limit of %d", len(lit), MaxPatternLen)
			}
			tree := literalTree(lit, d.Nocase)
			c, ok := bestAtoms(tree)
			if !ok || c.l < MinAtomLen {
				return nil, fail(0, "literal %q is shorter than %d bytes; matching it at every offset would be too slow: use a longer string", d.Text, MinAtomLen)
			}
			cs.sub.atomL, cs.sub.dmin, cs.sub.dmax, cs.atoms = c.l, c.dmin, c.dmax, c.atoms
			out = append(out, cs)
		}
	case Hex:
		if d.Nocase || d.Wide {
			return nil, fail(0, "nocase and wide do not apply to hex strings: write the bytes you want")
		}
		prog, tree, err := parseHex(d.Text)
		if err != nil {
			var he *hexError
			if asHexError(err, &he) {
				return nil, fail(he.col, "%s", he.msg)
			}
			return nil, fail(0, "%v", err)
		}
		_, maxLen := lengths(tree)
		if maxLen > MaxPatternLen {
			return nil, fail(0, "hex string can match up to %d bytes, more than the limit of %d: use smaller jumps or split it into several patterns", maxLen, MaxPatternLen)
		}
		prog.maxLen = maxLen
		if len(prog.inst)*(2*maxLen+1) > maxHexMemo && !prog.fixed {
			return nil, fail(0, "hex string is too complex (%d instructions × %d bytes): use fewer alternatives or smaller jumps", len(prog.inst), maxLen)
		}
		c, ok := bestAtoms(tree)
		if !ok || c.l < MinAtomLen {
			return nil, fail(0, "hex string has no run of %d or more fixed bytes (outside alternatives they must be adjacent, not separated by wildcards or jumps); matching it at every offset would be too slow: add fixed bytes", MinAtomLen)
		}
		out = append(out, compiledSub{
			sub:   sub{pat: i, kind: Hex, hex: prog, maxLen: maxLen, atomL: c.l, dmin: c.dmin, dmax: c.dmax},
			atoms: c.atoms,
		})
	case Regex:
		for _, v := range variants {
			cs, err := compileRegex(i, d, v.wide)
			if err != nil {
				return nil, err
			}
			out = append(out, cs)
		}
	default:
		return nil, fail(0, "unknown pattern kind %d", d.Kind)
	}
	return out, nil
}

// regexFlags are the syntax flags of rule regexes: Perl syntax without Unicode
// classes; '.' does not match '\n' unless (?s) is given.
const regexFlags = syntax.ClassNL | syntax.OneLine | syntax.PerlX

func compileRegex(i int, d Def, wide bool) (compiledSub, error) {
	fail := func(col int, format string, args ...any) error {
		return &CompileError{Index: i, ID: d.ID, Column: col, Msg: fmt.Sprintf(format, args...)}
	}
	// Bytes above 0x7F stand for themselves (Latin-1 decoding), as in YARA.
	tree, err := syntax.Parse(latin1(yaraSpace(d.Text)), regexFlags)
	if err != nil {
		msg := err.Error()
		if se, ok := err.(*syntax.Error); ok {
			msg = fmt.Sprintf("%s in %q", se.Code, se.Expr)
			if col := strings.Index(d.Text, se.Expr); col >= 0 && se.Expr != "" {
				return compiledSub{}, fail(col+1, "invalid regex: %s", msg)
			}
		}
		return compiledSub{}, fail(0, "invalid regex: %s", msg)
	}
	if op, bad := unsupported(tree); bad {
		return compiledSub{}, fail(0, "%s is not supported in patterns (a match is verified in a window around its atom, without the surrounding text); use the rule condition for position checks", op)
	}
	tree = foldASCII(tree, d.Nocase)
	if wide {
		tree = widenTree(tree)
	}
	minLen, maxLen := lengths(tree)
	if minLen > regexWindow {
		return compiledSub{}, fail(0, "regex matches at least %d bytes, more than the verification window of %d bytes: split it into several patterns", minLen, regexWindow)
	}
	if maxLen > regexWindow {
		maxLen = regexWindow
	}
	c, ok := bestAtoms(tree)
	if !ok || c.l < MinAtomLen {
		return compiledSub{}, fail(0, "regex has no literal of %d or more bytes that every match must contain; matching it at every offset would be too slow: add a fixed string (for example the start of what you are looking for)", MinAtomLen)
	}
	src := tree.String()
	reA, err := regexp.Compile(`\A(?:` + src + `)`)
	if err != nil {
		return compiledSub{}, fail(0, "invalid regex: %v", err)
	}
	prog, err := syntax.Compile(tree.Simplify())
	if err != nil {
		return compiledSub{}, fail(0, "invalid regex: %v", err)
	}
	if c.dmax > regexWindow {
		c.dmax = regexWindow
	}
	return compiledSub{
		sub:   sub{pat: i, kind: Regex, reA: reA, prefix: &lazyPrefix{prog: prog}, ascii: matchesASCIIOnly(prog), maxLen: maxLen, atomL: c.l, dmin: c.dmin, dmax: c.dmax},
		atoms: c.atoms,
	}, nil
}

// matchesASCIIOnly reports whether no instruction of prog can match a rune above 0x7F: such a
// regex matches raw bytes as it would their Latin-1 transcoding, and no match crosses a
// byte above 0x7F (patterns have no anchors or word boundaries, so where the text ends
// is not seen either).
func matchesASCIIOnly(prog *syntax.Prog) bool {
	for _, in := range prog.Inst {
		switch in.Op {
		case syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			return false
		case syntax.InstRune1:
			if in.Rune[0] >= 0x80 {
				return false
			}
		case syntax.InstRune:
			if syntax.Flags(in.Arg)&syntax.FoldCase != 0 {
				return false // case folding reaches beyond ASCII (k folds to U+212A)
			}
			for _, r := range in.Rune {
				if r >= 0x80 {
					return false
				}
			}
		}
	}
	return true
}

// latin1 returns s with every byte above 0x7F turned into the rune of the same value.
func latin1(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

func widen(b []byte) []byte {
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, c, 0)
	}
	return out
}
