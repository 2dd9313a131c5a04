package pattern

import (
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// prefixSteps is how many leading bytes of a start a prefixDFA reads at most.
const prefixSteps = 16

// maxPrefixStates bounds a prefixDFA's states; a start that reaches a state beyond it
// is attempted.
const maxPrefixStates = 128

// maxFew is the most bytes a match can begin with for the starts to be looked for with
// bytes.IndexByte, one byte after the other, instead of tried one by one.
const maxFew = 3

// The two deciding states of a prefixDFA: no match can begin at the start, or one may.
const (
	prefixDead  = 0
	prefixMaybe = 1
	prefixStart = 2
)

// prefixDFA decides from a start's first bytes whether a regex match can begin there,
// before the regex runs. It is the regex program's automaton over bytes (each byte the
// rune of the same value, as matching reads them), built for the first prefixSteps
// bytes: a state is the set of instructions every path could be at, so unlike a set of
// bytes per position it rejects "adef" for (ab|cd)ef. It only ever rejects a start at
// which no match begins: empty-width assertions are taken as passing, and a start that
// gets past prefixSteps bytes, or to a state beyond maxPrefixStates, is attempted.
type prefixDFA struct {
	first  [256]bool  // bytes a match can begin with: the first step, looked up alone
	few    []byte     // the same bytes when there are at most maxFew of them, else nil
	class  [256]uint8 // byte → class of bytes no instruction tells apart
	nclass int
	trans  []uint8 // state*nclass + class → next state
}

// lazyPrefix is a regex's prefixDFA, built the first time a scan verifies the regex: a
// process that compiles rules without scanning with them (kensa, while its walk worker
// matches) never builds it, nor does a scan for a regex whose atoms never occur.
type lazyPrefix struct {
	once sync.Once
	prog *syntax.Prog
	dfa  *prefixDFA
}

// get returns the prefixDFA, or nil when there is none (not a regex, or a regex whose
// DFA would reject no start).
func (l *lazyPrefix) get() *prefixDFA {
	if l == nil {
		return nil
	}
	l.once.Do(func() {
		l.dfa = newPrefixDFA(l.prog)
		l.prog = nil
	})
	return l.dfa
}

// newPrefixDFA builds the prefixDFA of prog, or nil when it would reject no start (as
// for (?s).*x, which matches from any start that a match follows).
func newPrefixDFA(prog *syntax.Prog) *prefixDFA {
	d := &prefixDFA{}
	var runeInsts []*syntax.Inst
	for i := range prog.Inst {
		switch prog.Inst[i].Op {
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			runeInsts = append(runeInsts, &prog.Inst[i])
		}
	}
	// Bytes every rune instruction matches alike share a class.
	classOf := map[string]uint8{}
	sig := make([]byte, len(runeInsts))
	for b := range 256 {
		for i, in := range runeInsts {
			sig[i] = 0
			if in.MatchRune(rune(b)) {
				sig[i] = 1
			}
		}
		c, ok := classOf[string(sig)]
		if !ok {
			c = uint8(len(classOf)) // at most 256 classes: one byte makes at most one
			classOf[string(sig)] = c
		}
		d.class[b] = c
	}
	d.nclass = len(classOf)
	rep := make([]rune, d.nclass) // a byte of each class
	for b := 255; b >= 0; b-- {
		rep[d.class[b]] = rune(b)
	}

	type state struct {
		pcs   []uint32
		depth int
	}
	ids := map[string]uint8{}
	var states []state
	key := func(pcs []uint32) string {
		var k strings.Builder
		for _, pc := range pcs {
			k.WriteString(strconv.FormatUint(uint64(pc), 36))
			k.WriteByte(',')
		}
		return k.String()
	}
	// add returns the state reached with pcs after depth bytes.
	rejects := false
	add := func(pcs []uint32, ended bool, depth int) uint8 {
		if ended {
			return prefixMaybe
		}
		if len(pcs) == 0 {
			rejects = true
			return prefixDead
		}
		slices.Sort(pcs)
		pcs = slices.Compact(pcs)
		k := key(pcs)
		if id, ok := ids[k]; ok {
			return id
		}
		if len(states) >= maxPrefixStates {
			return prefixMaybe
		}
		id := uint8(prefixStart + len(states))
		ids[k] = id
		states = append(states, state{pcs, depth})
		return id
	}
	d.trans = make([]uint8, prefixStart*d.nclass)
	for c := range d.nclass {
		d.trans[prefixMaybe*d.nclass+c] = prefixMaybe
	}
	start, ended := closure(prog, []uint32{uint32(prog.Start)})
	if add(start, ended, 0) != prefixStart {
		return nil // a match can be empty: nothing to decide
	}
	// States are numbered in the order found, breadth first: each is expanded before
	// those found after it, and one found after prefixSteps bytes is never stepped from.
	for i := 0; i < len(states); i++ {
		row := make([]uint8, d.nclass)
		st := states[i]
		for c := range d.nclass {
			if st.depth >= prefixSteps {
				row[c] = prefixMaybe
				continue
			}
			var next []uint32
			for _, pc := range st.pcs {
				if in := &prog.Inst[pc]; in.MatchRune(rep[c]) {
					next = append(next, in.Out)
				}
			}
			pcs, ended := closure(prog, next)
			row[c] = add(pcs, ended, st.depth+1)
		}
		d.trans = append(d.trans, row...)
	}
	if !rejects {
		return nil
	}
	for b := range 256 {
		d.first[b] = d.trans[prefixStart*d.nclass+int(d.class[b])] != prefixDead
		if d.first[b] {
			d.few = append(d.few, byte(b))
		}
	}
	if len(d.few) > maxFew {
		d.few = nil
	}
	return d
}

// canStart reports whether a match can begin at data[i]: false when the bytes from i
// reach no match, or when data ends before they decide.
func (d *prefixDFA) canStart(data []byte, i int) bool {
	if !d.first[data[i]] {
		return false
	}
	st := uint8(prefixStart)
	end := min(len(data), i+prefixSteps)
	for k := i; k < end; k++ {
		st = d.trans[int(st)*d.nclass+int(d.class[data[k]])]
		if st < prefixStart {
			return st == prefixMaybe
		}
	}
	return end == i+prefixSteps
}

// closure returns the instructions that consume a rune reachable from pcs without
// consuming one, and whether a match can end there.
func closure(prog *syntax.Prog, pcs []uint32) (out []uint32, ended bool) {
	seen := map[uint32]bool{}
	stack := append([]uint32(nil), pcs...)
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pc] {
			continue
		}
		seen[pc] = true
		in := &prog.Inst[pc]
		switch in.Op {
		case syntax.InstMatch:
			ended = true
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, in.Out, in.Arg)
		case syntax.InstCapture, syntax.InstNop, syntax.InstEmptyWidth:
			stack = append(stack, in.Out)
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			out = append(out, pc)
		}
	}
	return out, ended
}
