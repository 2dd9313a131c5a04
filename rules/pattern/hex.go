package pattern

import (
	"errors"
	"fmt"
	"regexp/syntax"
)

type hexError struct {
	col int
	msg string
}

func (e *hexError) Error() string { return fmt.Sprintf("column %d: %s", e.col, e.msg) }

func asHexError(err error, target **hexError) bool { return errors.As(err, target) }

// Hex program instructions.
const (
	opByte  = iota // data[pos]&mask == val
	opJump         // skip min..max bytes, fewest first
	opSplit        // try alts in order
	opGoto         // continue at to
	opMatch
)

type hexInst struct {
	op        uint8
	val, mask byte
	min, max  int
	to        int
	alts      []int
}

// hexProg is a compiled hex string. Matching is a depth-first walk that tries the
// shortest jump and the first alternative first (YARA's order, which decides the
// match length), with every (instruction, position) pair that failed remembered so
// that no pair is tried twice: the work of one match attempt is bounded by
// len(inst) × maxLen.
type hexProg struct {
	inst   []hexInst
	fixed  bool // only opByte then opMatch
	maxLen int
}

type hexNode struct {
	kind      uint8 // opByte, opJump, opSplit (alternatives)
	val, mask byte
	min, max  int
	alts      [][]hexNode
}

type hexParser struct {
	s     string
	i     int
	depth int
}

func (p *hexParser) errf(at int, format string, args ...any) error {
	return &hexError{col: at + 1, msg: fmt.Sprintf(format, args...)}
}

func (p *hexParser) skip() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			p.i++
		default:
			return
		}
	}
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseHex parses a YARA hex string into a program and a tree for atom extraction.
func parseHex(s string) (*hexProg, *syntax.Regexp, error) {
	p := &hexParser{s: s}
	seq, err := p.seq(false)
	if err != nil {
		return nil, nil, err
	}
	p.skip()
	if p.i < len(p.s) {
		if p.s[p.i] == '|' || p.s[p.i] == ')' {
			return nil, nil, p.errf(p.i, "%q outside an alternative ( … | … )", p.s[p.i])
		}
		return nil, nil, p.errf(p.i, "unexpected %q", p.s[p.i])
	}
	if len(seq) == 0 {
		return nil, nil, p.errf(0, "empty hex string")
	}
	if seq[0].kind == opJump {
		return nil, nil, p.errf(0, "a hex string cannot start with a jump: remove it, a match may start anywhere")
	}
	if seq[len(seq)-1].kind == opJump {
		return nil, nil, p.errf(len(s)-1, "a hex string cannot end with a jump: remove it")
	}
	prog := &hexProg{fixed: true}
	emitHex(prog, seq)
	prog.inst = append(prog.inst, hexInst{op: opMatch})
	return prog, hexTree(seq), nil
}

// seq parses items until end of input, '|' or ')'.
func (p *hexParser) seq(inAlt bool) ([]hexNode, error) {
	var out []hexNode
	for {
		p.skip()
		if p.i >= len(p.s) {
			return out, nil
		}
		c := p.s[p.i]
		switch {
		case c == '|' || c == ')':
			return out, nil
		case c == '[':
			n, err := p.jump(inAlt)
			if err != nil {
				return nil, err
			}
			if len(out) > 0 && out[len(out)-1].kind == opJump {
				return nil, p.errf(p.i-1, "two jumps in a row: merge them into one")
			}
			out = append(out, n)
		case c == '(':
			n, err := p.alt()
			if err != nil {
				return nil, err
			}
			out = append(out, n)
		case c == '~':
			return nil, p.errf(p.i, "negated bytes (~XX) are not supported: list the alternatives instead")
		default:
			n, err := p.byteTok()
			if err != nil {
				return nil, err
			}
			out = append(out, n)
		}
	}
}

func (p *hexParser) byteTok() (hexNode, error) {
	if p.i+1 >= len(p.s) {
		return hexNode{}, p.errf(p.i, "a byte needs two hex digits (or ?), found %q at the end", p.s[p.i:])
	}
	n := hexNode{kind: opByte}
	for k := 0; k < 2; k++ {
		c := p.s[p.i+k]
		shift := uint(4 * (1 - k))
		if c == '?' {
			continue
		}
		v, ok := hexVal(c)
		if !ok {
			return hexNode{}, p.errf(p.i+k, "%q is not a hex digit, '?', '[', '(' or '|'", c)
		}
		n.val |= v << shift
		n.mask |= 0xF << shift
	}
	p.i += 2
	return n, nil
}

func (p *hexParser) number() (int, bool) {
	start := p.i
	n := 0
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		if n <= MaxJump {
			n = n*10 + int(p.s[p.i]-'0')
		}
		p.i++
	}
	return n, p.i > start
}

func (p *hexParser) jump(inAlt bool) (hexNode, error) {
	open := p.i
	p.i++
	p.skip()
	lo, hasLo := p.number()
	p.skip()
	hi := lo
	unbounded := false
	if p.i < len(p.s) && p.s[p.i] == '-' {
		p.i++
		p.skip()
		var hasHi bool
		hi, hasHi = p.number()
		if !hasHi {
			unbounded = true
			hi = MaxJump
		}
		if !hasLo {
			lo = 0
		}
	} else if !hasLo {
		return hexNode{}, p.errf(p.i, "a jump is [N], [N-M], [N-] or [-]")
	}
	p.skip()
	if p.i >= len(p.s) || p.s[p.i] != ']' {
		return hexNode{}, p.errf(p.i, "missing ']' to close the jump opened at column %d", open+1)
	}
	p.i++
	if unbounded && inAlt {
		return hexNode{}, p.errf(open, "unbounded jumps are not allowed inside alternatives: give an upper bound")
	}
	if lo > MaxJump || hi > MaxJump {
		return hexNode{}, p.errf(open, "jumps are limited to %d bytes: use [-] for longer distances or split the pattern", MaxJump)
	}
	if lo > hi {
		if unbounded {
			return hexNode{}, p.errf(open, "jump [%d-] starts beyond the cap of %d bytes for unbounded jumps", lo, MaxJump)
		}
		return hexNode{}, p.errf(open, "jump [%d-%d] has its lower bound above its upper bound", lo, hi)
	}
	return hexNode{kind: opJump, min: lo, max: hi}, nil
}

func (p *hexParser) alt() (hexNode, error) {
	open := p.i
	p.i++
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxHexDepth {
		return hexNode{}, p.errf(open, "alternatives nest deeper than %d levels", maxHexDepth)
	}
	n := hexNode{kind: opSplit}
	for {
		start := p.i
		seq, err := p.seq(true)
		if err != nil {
			return hexNode{}, err
		}
		if len(seq) == 0 {
			return hexNode{}, p.errf(start, "empty alternative")
		}
		n.alts = append(n.alts, seq)
		if p.i >= len(p.s) {
			return hexNode{}, p.errf(open, "missing ')' to close this alternative")
		}
		if p.s[p.i] == ')' {
			p.i++
			return n, nil
		}
		p.i++ // '|'
	}
}

func emitHex(prog *hexProg, seq []hexNode) {
	for _, n := range seq {
		switch n.kind {
		case opByte:
			prog.inst = append(prog.inst, hexInst{op: opByte, val: n.val, mask: n.mask})
		case opJump:
			prog.fixed = false
			prog.inst = append(prog.inst, hexInst{op: opJump, min: n.min, max: n.max})
		case opSplit:
			prog.fixed = false
			split := len(prog.inst)
			prog.inst = append(prog.inst, hexInst{op: opSplit})
			var gotos []int
			for _, a := range n.alts {
				prog.inst[split].alts = append(prog.inst[split].alts, len(prog.inst))
				emitHex(prog, a)
				gotos = append(gotos, len(prog.inst))
				prog.inst = append(prog.inst, hexInst{op: opGoto})
			}
			for _, g := range gotos {
				prog.inst[g].to = len(prog.inst)
			}
		}
	}
}

func hexTree(seq []hexNode) *syntax.Regexp {
	var subs []*syntax.Regexp
	for _, n := range seq {
		switch n.kind {
		case opByte:
			if n.mask == 0xFF {
				subs = append(subs, lit(rune(n.val)))
				continue
			}
			var set [256]bool
			for b := 0; b < 256; b++ {
				set[b] = byte(b)&n.mask == n.val
			}
			subs = append(subs, class(&set))
		case opJump:
			var set [256]bool
			for b := range set {
				set[b] = true
			}
			subs = append(subs, &syntax.Regexp{Op: syntax.OpRepeat, Min: n.min, Max: n.max, Flags: syntax.NonGreedy, Sub: []*syntax.Regexp{class(&set)}})
		case opSplit:
			alt := &syntax.Regexp{Op: syntax.OpAlternate}
			for _, a := range n.alts {
				alt.Sub = append(alt.Sub, hexTree(a))
			}
			subs = append(subs, alt)
		}
	}
	if len(subs) == 0 {
		return &syntax.Regexp{Op: syntax.OpEmptyMatch}
	}
	return concat(subs...)
}

// hexMatcher runs hex programs; it is owned by one scan. Between begin calls it
// remembers the result of every (jump or alternative instruction, position) pair it
// evaluated, so the starts of one hit region share their work: the result of a pair
// does not depend on where the match started.
type hexMatcher struct {
	gen   []uint32
	val   []int32
	cur   uint32
	jf    []int // per jump instruction: run(pc+1, q) fails for q in [jf, jq)
	jq    []int
	prog  *hexProg
	data  []byte
	base  int
	width int
	steps int
}

// begin starts a region: starts from base up to base+width-maxLen-1 of data.
func (m *hexMatcher) begin(prog *hexProg, data []byte, base, width int) {
	m.prog, m.data, m.base, m.width = prog, data, base, width
	if prog.fixed {
		return
	}
	need := len(prog.inst) * width
	if len(m.gen) < need {
		m.gen = make([]uint32, need)
		m.val = make([]int32, need)
		m.cur = 0
	}
	m.cur++
	if m.cur == 0 {
		clear(m.gen)
		m.cur = 1
	}
	if len(m.jf) < len(prog.inst) {
		m.jf = make([]int, len(prog.inst))
		m.jq = make([]int, len(prog.inst))
	}
	for i := range prog.inst {
		m.jf[i], m.jq[i] = 0, 0
	}
}

// match returns the length of the match at data[start:], or -1.
func (m *hexMatcher) match(start int) int {
	prog, data := m.prog, m.data
	if prog.fixed {
		n := len(prog.inst) - 1
		m.steps += n
		if start+n > len(data) {
			return -1
		}
		for k := 0; k < n; k++ {
			in := &prog.inst[k]
			if data[start+k]&in.mask != in.val {
				return -1
			}
		}
		return n
	}
	end := m.run(0, start)
	if end < 0 {
		return -1
	}
	return end - start
}

func (m *hexMatcher) run(pc, pos int) int {
	inst := m.prog.inst
	for {
		in := &inst[pc]
		m.steps++
		switch in.op {
		case opByte:
			if pos >= len(m.data) || m.data[pos]&in.mask != in.val {
				return -1
			}
			pos++
			pc++
		case opGoto:
			pc = in.to
		case opMatch:
			return pos
		default:
			rel := pos - m.base
			if rel < 0 || rel >= m.width {
				return -1
			}
			key := pc*m.width + rel
			if m.gen[key] == m.cur {
				return int(m.val[key])
			}
			r := -1
			if in.op == opJump {
				r = m.jump(pc, in, pos)
			} else {
				for _, t := range in.alts {
					if r = m.run(t, pos); r >= 0 {
						break
					}
				}
			}
			m.gen[key], m.val[key] = m.cur, int32(r)
			return r
		}
	}
}

// jump tries the fewest bytes first; positions already known to fail are skipped.
func (m *hexMatcher) jump(pc int, in *hexInst, pos int) int {
	from, to := pos+in.min, min(pos+in.max, len(m.data))
	known := from
	q := from
	if from >= m.jf[pc] && from < m.jq[pc] {
		known, q = m.jf[pc], m.jq[pc]
	}
	for ; q <= to; q++ {
		m.steps++
		if r := m.run(pc+1, q); r >= 0 {
			m.jf[pc], m.jq[pc] = known, q
			return r
		}
	}
	m.jf[pc], m.jq[pc] = known, q
	return -1
}
