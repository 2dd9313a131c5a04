package pattern

// automaton is an Aho-Corasick automaton compiled to a dense DFA over byte classes:
// every byte that occurs in some atom has its own class, all other bytes share class
// 0, so a state's row has nclass entries instead of 256. A transition holds the
// target's row offset (state × nclass) with outFlag set when the target reports
// atoms, so the inner loop is one table load and one test per byte.
type automaton struct {
	class  [256]uint32
	nclass uint32
	trans  []uint32
	// out[outStart[s]:outStart[s+1]] are the atoms that end in state s (own and
	// through failure links).
	outStart []int32
	out      []int32
	atomLen  []int
	maxAtom  int // longest atom: the deepest state
}

const outFlag = 1 << 31

func buildAutomaton(atoms [][]byte) *automaton {
	a := &automaton{}
	var used [256]bool
	for _, at := range atoms {
		for _, b := range at {
			used[b] = true
		}
	}
	a.nclass = 1
	for b := 0; b < 256; b++ {
		if used[b] {
			a.class[b] = a.nclass
			a.nclass++
		}
	}
	nc := int(a.nclass)
	// Trie with goto over classes; -1 is no edge.
	gotoT := make([]int32, nc)
	for i := range gotoT {
		gotoT[i] = -1
	}
	own := [][]int32{nil}
	for ai, at := range atoms {
		s := 0
		for _, b := range at {
			c := int(a.class[b])
			nx := gotoT[s*nc+c]
			if nx < 0 {
				nx = int32(len(own))
				own = append(own, nil)
				for k := 0; k < nc; k++ {
					gotoT = append(gotoT, -1)
				}
				gotoT[s*nc+c] = nx
			}
			s = int(nx)
		}
		own[s] = append(own[s], int32(ai))
		a.atomLen = append(a.atomLen, len(at))
		a.maxAtom = max(a.maxAtom, len(at))
	}
	n := len(own)
	fail := make([]int32, n)
	delta := make([]int32, n*nc)
	outs := make([][]int32, n)
	outs[0] = own[0]
	queue := make([]int32, 0, n)
	for c := 0; c < nc; c++ {
		nx := gotoT[c]
		if nx < 0 {
			delta[c] = 0
			continue
		}
		delta[c] = nx
		fail[nx] = 0
		queue = append(queue, nx)
	}
	for qi := 0; qi < len(queue); qi++ {
		s := int(queue[qi])
		outs[s] = append(append([]int32(nil), own[s]...), outs[fail[s]]...)
		for c := 0; c < nc; c++ {
			nx := gotoT[s*nc+c]
			if nx < 0 {
				delta[s*nc+c] = delta[int(fail[s])*nc+c]
				continue
			}
			delta[s*nc+c] = nx
			fail[nx] = delta[int(fail[s])*nc+c]
			queue = append(queue, nx)
		}
	}
	a.trans = make([]uint32, n*nc)
	for i, t := range delta {
		v := uint32(int(t) * nc)
		if len(outs[t]) > 0 {
			v |= outFlag
		}
		a.trans[i] = v
	}
	a.outStart = make([]int32, n+1)
	for s := 0; s < n; s++ {
		a.outStart[s] = int32(len(a.out))
		a.out = append(a.out, outs[s]...)
	}
	a.outStart[n] = int32(len(a.out))
	return a
}

// states returns the number of states.
func (a *automaton) states() int { return len(a.outStart) - 1 }

// next feeds data to the automaton from state st (a row offset, possibly flagged) and
// calls hit for every position i whose byte ends one or more atoms, in order, with the
// state reached; it returns the final state. hit returns false to stop early.
//
// Each byte's transition waits for the one before it, so one pass runs at the speed of a
// load after a load. A long stretch is fed as two halves at once instead: the second
// starts from the root maxAtom-1 bytes before the middle, which gives the exact state
// from the middle on (a state is the longest suffix of the input that begins an atom),
// and its hits are kept in pending and reported after the first half's.
func (a *automaton) next(st uint32, data []byte, pending *[]uint64, hit func(i int, st uint32) bool) uint32 {
	trans := a.trans
	class := &a.class
	if len(data) < interleaveMin {
		for i := 0; i < len(data); i++ {
			st = trans[st&^outFlag+class[data[i]]]
			if st&outFlag != 0 {
				if !hit(i, st) {
					return st
				}
			}
		}
		return st
	}
	mid := len(data) / 2
	b0 := mid - max(a.maxAtom-1, 0)
	first, second := data[:mid], data[b0:]
	lock := second[:len(first)]
	p := (*pending)[:0]
	var sb uint32
	for i := range first {
		st = trans[st&^outFlag+class[first[i]]]
		sb = trans[sb&^outFlag+class[lock[i]]]
		if (st|sb)&outFlag != 0 {
			if st&outFlag != 0 && !hit(i, st) {
				*pending = p
				return st
			}
			if sb&outFlag != 0 && b0+i >= mid {
				p = append(p, uint64(b0+i)<<32|uint64(sb))
			}
		}
	}
	for i := len(first); i < len(second); i++ {
		sb = trans[sb&^outFlag+class[second[i]]]
		if sb&outFlag != 0 {
			p = append(p, uint64(b0+i)<<32|uint64(sb))
		}
	}
	*pending = p
	for _, h := range p {
		if !hit(int(h>>32), uint32(h)) {
			break
		}
	}
	return sb
}

// interleaveMin is the shortest input next feeds as two halves.
const interleaveMin = 1024

// outputs returns the atoms that end in state st.
func (a *automaton) outputs(st uint32) []int32 {
	s := (st &^ outFlag) / a.nclass
	return a.out[a.outStart[s]:a.outStart[s+1]]
}
