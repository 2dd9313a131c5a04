// Package code reports facts about the machine code of x86-64 ELF files: calls that
// compare a string with a literal of the file's read-only data (the hard-coded password
// of a patched sshd, su or login), instructions that store into the file's own global
// offset table (which only the dynamic loader should write), and the ways the code can
// walk the objects the loader has loaded (_r_debug, the loader's _dl_ internals,
// dl_iterate_phdr, dlinfo with RTLD_DI_LINKMAP), with whether it imports mprotect: the
// shape of the xz-utils backdoor, which found sshd's GOT from liblzma and rewrote it.
//
// Decoding every instruction of a large library costs seconds (golang.org/x/arch's
// decoder runs at a few MB/s), so the analyzer does not. It resolves the PLT stubs and
// GOT slots of the functions it looks for from the GLOB_DAT and JUMP_SLOT relocations,
// sweeps the executable sections for the bytes of a call to one of them (call rel32,
// call [rip+X], and the same as tail jumps) and of a rip-relative store into the GOT,
// and decodes with x86asm only a short window before each candidate: from the start of
// the enclosing function symbol when it is near, otherwise from the first of a few
// nearby offsets whose decoding lands exactly on the candidate (x86 decoding
// resynchronises within a few instructions).
//
// The file is hostile: every table is read in a stream and bounded, every offset checked
// against the file, and the work is bounded by counts (bytes swept, windows and
// instructions decoded), never by time. When a bound stops the analysis the facts
// gathered so far come back with an error wrapping analyzers.ErrBound.
//
// Example, as the inventory runs it:
//
//	an := code.New()
//	if an.Wants(artifact) {
//		facts, err := an.Analyze(ctx, artifact) // *code.Facts, or nil for another machine
//		...
//	}
package code

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"golang.org/x/arch/x86/x86asm"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
)

// Work bounds for one file. All are counts; none is a time.
const (
	// maxSections is the largest section header table read.
	maxSections = 1 << 16
	// maxSymbols caps the symbol table entries read, maxRelocations the relocations.
	maxSymbols     = 1 << 20
	maxRelocations = 1 << 20
	// maxNameBytes bounds the bytes read for symbol and section names.
	maxNameBytes = 64 << 20
	// maxCodeBytes bounds the bytes of executable sections swept, and
	// maxSweepFactor them to this many times the file size (sections may overlap, and a
	// hostile file can make thousands of them cover the whole file).
	maxCodeBytes   = 1 << 30
	maxSweepFactor = 2
	// maxWindows bounds the candidates decoded, and maxInstructions the instructions
	// decoded in all; both shrink with the file: windowBase plus one window per
	// bytesPerWindow bytes of file, instBase plus one instruction per bytesPerInst.
	maxWindows      = 1 << 16
	maxInstructions = 1 << 22
	windowBase      = 1 << 10
	bytesPerWindow  = 64
	instBase        = 1 << 15
	bytesPerInst    = 2
	// maxLiterals, maxGOTWrites and maxEvidence cap the reported lists.
	maxLiterals  = 512
	maxGOTWrites = 64
	maxEvidence  = 16
	// maxLiteralBytes is the longest literal reported whole, maxLiteralRead the most
	// bytes read to find its NUL.
	maxLiteralBytes = 128
	maxLiteralRead  = 4096
	// maxArgDistance is how many instructions before a call an argument may be loaded.
	maxArgDistance = 8
	// maxFuncBacktrack bounds the symbols looked at to name a function.
	maxFuncBacktrack = 64
	// funcSyncBytes: a window starts at the enclosing function symbol when the candidate
	// is at most this far into it; otherwise at syncBack bytes before it, moved forward
	// at most syncTries times until the decoding lands on the candidate.
	funcSyncBytes = 512
	syncBack      = 64
	syncTries     = 16
	// chunkSize is how much of a section is swept at a time.
	chunkSize = 1 << 20
)

// errBound is analyzers.ErrBound with this package's prefix.
var errBound = fmt.Errorf("code: %w", analyzers.ErrBound)

// comparisons are the functions whose literal arguments are reported.
var comparisons = map[string]bool{
	"strcmp": true, "strncmp": true, "strcasecmp": true, "strncasecmp": true, "memcmp": true,
	"bcmp": true, "timingsafe_bcmp": true, "CRYPTO_memcmp": true,
}

// interest is every function whose calls are looked at.
var interest = map[string]bool{
	"dlinfo": true, "dladdr1": true, "dlsym": true, "dlvsym": true, "mprotect": true, "pkey_mprotect": true,
}

func init() {
	for k := range comparisons {
		interest[k] = true
	}
}

// New returns the code analyzer.
func New() analyzers.Analyzer { return analyzer{} }

type analyzer struct{}

func (analyzer) Name() string { return "code" }

// Wants takes every ELF file: the machine is read from the header in Analyze, which
// returns no facts for a file that is not x86-64.
func (analyzer) Wants(a *analyzers.Artifact) bool { return a.Format == sniff.ELF }

func (analyzer) Schema() any { return (*Facts)(nil) }

// Analyze reports the facts of one x86-64 ELF executable or shared library; nil facts
// and no error for other ELF files (other machines, 32-bit, relocatable objects, core
// dumps). On malformed input, or at a work bound, it returns what it gathered with an
// error.
func (analyzer) Analyze(ctx context.Context, a *analyzers.Artifact) (facts any, err error) {
	if a.Content == nil || a.Size <= 0 {
		return nil, nil
	}
	s := &state{ctx: ctx, facts: &Facts{}, budget: newBudget(a.Size)}
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("code: malformed file made the analyzer fail (%v); please report it with the file", v)
			facts = s.facts
		}
	}()
	err = s.run(a.Content, a.Size)
	if errors.Is(err, errNotX86) {
		return nil, nil
	}
	if s.im == nil {
		return nil, err
	}
	return s.facts, err
}

// budget is what is left of the work bounds of one file.
type budget struct {
	names          int64
	code           int64
	windows, insts int
	stopped        bool
}

// newBudget returns the work bounds of a file of size bytes.
func newBudget(size int64) budget {
	return budget{
		names:   maxNameBytes,
		code:    min(maxCodeBytes, maxSweepFactor*size),
		windows: int(min(maxWindows, windowBase+size/bytesPerWindow)),
		insts:   int(min(maxInstructions, instBase+size/bytesPerInst)),
	}
}

// read takes n bytes of name reads from the budget.
func (b *budget) read(n int64) bool {
	if b.names < n {
		b.stopped = true
		return false
	}
	b.names -= n
	return true
}

// state is one analysis in progress.
type state struct {
	ctx    context.Context
	facts  *Facts
	im     *image
	budget budget
	// stubs maps the address of a PLT entry (and of its jump) of a function of interest,
	// or of the function itself in a static file, to the function's name; stubLo and
	// stubHi bound those addresses.
	stubs          map[uint64]string
	stubLo, stubHi uint64
	// got are the .got and .got.plt sections.
	got       []*section
	gotWrites map[uint64]bool
	evidence  map[string]bool
	// winBuf and winIns are reused by window.
	winBuf []byte
	winIns []inst
}

func (s *state) run(r io.ReaderAt, size int64) error {
	im, err := readHeader(r, size, &s.budget)
	if err != nil {
		return err
	}
	if im.typ != etExec && im.typ != etDyn {
		return errNotX86 // objects and core dumps have no addresses to follow
	}
	s.im = im
	if len(im.sections) == 0 {
		return fmt.Errorf("code: %w: the file has no section headers, so its code was not inspected; disassemble it by hand (objdump -D) or ask the vendor for the file as built", analyzers.ErrUnsupported)
	}
	var errs []error
	errs = append(errs, im.symbols(&s.budget, interest), im.relocations(&s.budget, interest))
	s.facts.Stripped = !im.hasSymtab
	s.imports()
	s.resolveStubs()
	for _, name := range []string{".got", ".got.plt"} {
		if g := im.section(name); g != nil && g.size > 0 {
			s.got = append(s.got, g)
		}
	}
	s.gotWrites = map[uint64]bool{}
	for _, sec := range im.sections {
		if sec.typ != shtProgbits || sec.flags&(shfExec|shfAlloc) != shfExec|shfAlloc || len(sec.name) >= 4 && sec.name[:4] == ".plt" {
			continue
		}
		if err := s.sweep(sec); err != nil {
			errs = append(errs, err)
			break
		}
	}
	if s.budget.stopped {
		errs = append(errs, fmt.Errorf("%w: the code, the instructions decoded around calls and stores, or the names read passed their bounds", errBound))
	}
	return errors.Join(errs...)
}

// imports records what the dynamic symbol table imports.
func (s *state) imports() {
	names := make([]string, 0, len(s.im.imports))
	for n := range s.im.imports {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		switch {
		case n == "mprotect" || n == "pkey_mprotect":
			s.facts.ImportsMprotect = true
		case isLoaderInternal(n):
			s.walks("imports " + n)
		}
	}
	for _, n := range s.im.staticFuncs {
		if n == "mprotect" || n == "pkey_mprotect" {
			s.facts.ImportsMprotect = true
		}
	}
}

// walks records evidence of walking the loaded objects.
func (s *state) walks(e string) {
	s.facts.WalksLoadedObjects = true
	if s.evidence == nil {
		s.evidence = map[string]bool{}
	}
	if !s.evidence[e] && len(s.facts.LoadedObjectEvidence) < maxEvidence {
		s.evidence[e] = true
		s.facts.LoadedObjectEvidence = append(s.facts.LoadedObjectEvidence, e)
	}
}

// resolveStubs finds the PLT entries that jump through the GOT slots of the functions
// of interest: `[endbr64] [bnd] jmp [rip+X]` in .plt, .plt.sec and .plt.got.
func (s *state) resolveStubs() {
	s.stubs = map[uint64]string{}
	add := func(va uint64, name string) {
		if len(s.stubs) == 0 || va < s.stubLo {
			s.stubLo = va
		}
		if len(s.stubs) == 0 || va > s.stubHi {
			s.stubHi = va
		}
		s.stubs[va] = name
	}
	for va, name := range s.im.staticFuncs {
		add(va, name)
	}
	if len(s.im.slots) == 0 {
		return
	}
	for _, sec := range s.im.sections {
		if sec.typ != shtProgbits || sec.flags&shfExec == 0 || !(sec.name == ".plt" || sec.name == ".plt.sec" || sec.name == ".plt.got") {
			continue
		}
		if !inFile(s.im.size, sec.offset, sec.size) {
			continue
		}
		if int64(sec.size) > s.budget.code {
			s.budget.stopped = true
			return
		}
		s.budget.code -= int64(sec.size)
		b := make([]byte, sec.size)
		if _, err := s.im.r.ReadAt(b, int64(sec.offset)); err != nil {
			continue
		}
		for i := 0; i+6 <= len(b); i++ {
			if b[i] != 0xff || b[i+1] != 0x25 {
				continue
			}
			slot := sec.addr + uint64(i) + 6 + uint64(int64(int32(le32(b[i+2:]))))
			name, ok := s.im.slots[slot]
			if !ok {
				continue
			}
			start := i
			if start > 0 && b[start-1] == 0xf2 { // bnd
				start--
			}
			if start >= 4 && b[start-4] == 0xf3 && b[start-3] == 0x0f && b[start-2] == 0x1e && b[start-1] == 0xfa { // endbr64
				start -= 4
			}
			add(sec.addr+uint64(i), name)
			add(sec.addr+uint64(start), name)
		}
	}
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// inGOT returns the GOT section that holds va, or nil.
func (s *state) inGOT(va uint64) *section {
	for _, g := range s.got {
		if g.contains(va) {
			return g
		}
	}
	return nil
}

// sweep looks for candidates in one executable section, chunk by chunk.
func (s *state) sweep(sec *section) error {
	if !inFile(s.im.size, sec.offset, sec.size) {
		return fmt.Errorf("code: section %s lies past the end of the file", sec.name)
	}
	if int64(sec.size) > s.budget.code {
		s.budget.stopped = true
		return nil
	}
	s.budget.code -= int64(sec.size)
	s.facts.CodeBytes += int64(sec.size)
	const pre, post = 2, 16
	buf := make([]byte, pre+min(sec.size, chunkSize)+2*post)
	for done := uint64(0); done < sec.size; done += chunkSize {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		if s.budget.stopped {
			return nil
		}
		n := min(chunkSize, sec.size-done)
		lo := done - min(done, pre)
		hi := min(done+n+post, sec.size)
		b := buf[:hi-lo+post] // zero padding past the section
		clear(b)
		if _, err := s.im.r.ReadAt(b[:hi-lo], int64(sec.offset+lo)); err != nil && err != io.EOF {
			return fmt.Errorf("code: reading section %s: %w", sec.name, err)
		}
		base := sec.addr + lo
		stores := len(s.got) > 0
		for i := int(done - lo); i < int(done-lo+n); i++ {
			// Most bytes start nothing of interest: test them before the call.
			if c := b[i]; c != 0xe8 && c != 0xe9 && c != 0xff && (!stores || c&0xc7 != 0x05) {
				continue
			}
			s.candidate(sec, b, i, base)
			if s.budget.stopped {
				return nil
			}
		}
	}
	return nil
}

// storeOpcode reports whether the byte before a ModRM byte at i is the opcode of a
// store to memory (mov, xchg, cmpxchg and the SSE moves to memory).
func storeOpcode(b []byte, i int) bool {
	switch b[i-1] {
	case 0x89, 0x88, 0xc7, 0xc6, 0x87, 0x86:
		return true
	case 0x11, 0x29, 0x7f, 0xd6, 0xc3, 0xb1, 0xe7, 0x2b, 0x13, 0x17:
		return i >= 2 && b[i-2] == 0x0f
	}
	return false
}

// candidate looks at the byte at b[i] (virtual address base+i) as the start of a call
// of interest or as the ModRM byte of a rip-relative store into the GOT.
func (s *state) candidate(sec *section, b []byte, i int, base uint64) {
	va := base + uint64(i)
	c := b[i]
	switch {
	case (c == 0xe8 || c == 0xe9) && len(s.stubs) > 0:
		t := va + 5 + uint64(int64(int32(le32(b[i+1:]))))
		if t >= s.stubLo && t <= s.stubHi {
			if name, ok := s.stubs[t]; ok {
				s.call(sec, va, name)
			}
		}
	case c == 0xff && (b[i+1] == 0x15 || b[i+1] == 0x25) && len(s.im.slots) > 0:
		slot := va + 6 + uint64(int64(int32(le32(b[i+2:]))))
		if name, ok := s.im.slots[slot]; ok {
			s.call(sec, va, name)
		}
	}
	if c&0xc7 == 0x05 && len(s.got) > 0 && i >= 1 && storeOpcode(b, i) {
		disp := uint64(int64(int32(le32(b[i+1:]))))
		for _, imm := range []uint64{0, 1, 2, 4} {
			if s.inGOT(va+5+imm+disp) != nil {
				s.store(sec, va)
				break
			}
		}
	}
}

// inst is one decoded instruction and its address.
type inst struct {
	x86asm.Inst
	va uint64
}

// window decodes the instructions before the one at va (or, when exact is false, the
// one that covers va) and returns them with that one last; ok is false when no
// decoding lands on it.
func (s *state) window(sec *section, va uint64, exact bool) (ins []inst, ok bool) {
	if s.budget.windows <= 0 {
		s.budget.stopped = true
		return nil, false
	}
	s.budget.windows--
	var starts []uint64
	if fs, found := s.im.funcStart(va); found && fs >= sec.addr && va-fs <= funcSyncBytes {
		starts = append(starts, fs)
	}
	first := max(va-min(va, syncBack), sec.addr)
	for k := uint64(0); k < syncTries && first+k <= va; k++ {
		starts = append(starts, first+k)
	}
	lo := starts[0]
	for _, st := range starts {
		lo = min(lo, st)
	}
	end := min(va+16, sec.addr+sec.size)
	if uint64(cap(s.winBuf)) < end-lo {
		s.winBuf = make([]byte, end-lo)
	}
	buf := s.winBuf[:end-lo]
	if _, err := s.im.r.ReadAt(buf, int64(sec.offset+(lo-sec.addr))); err != nil && err != io.EOF {
		return nil, false
	}
	ins = s.winIns[:0]
	defer func() { s.winIns = ins[:0] }()
	for _, st := range starts {
		ins = ins[:0]
		pos := st
		for pos <= va {
			if s.budget.insts <= 0 {
				s.budget.stopped = true
				return nil, false
			}
			s.budget.insts--
			in, err := decode(buf[pos-lo:])
			if err != nil {
				break
			}
			ins = append(ins, inst{in, pos})
			next := pos + uint64(in.Len)
			if pos == va || !exact && va < next {
				return ins, true
			}
			pos = next
		}
	}
	return nil, false
}

// decode decodes one 64-bit instruction; endbr64, which x86asm does not know, is a nop.
func decode(b []byte) (x86asm.Inst, error) {
	if len(b) >= 4 && b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e && b[3] == 0xfa {
		return x86asm.Inst{Op: x86asm.NOP, Len: 4}, nil
	}
	return x86asm.Decode(b, 64)
}

// value is what an instruction loaded into a register: a constant or a rip-relative
// address, or unknown.
type value struct {
	known bool
	addr  bool // a rip-relative address rather than a constant
	v     uint64
}

// family maps a general-purpose register to its 64-bit register (edi, di and dil to
// rdi); other registers map to themselves.
func family(r x86asm.Reg) x86asm.Reg {
	switch {
	case r >= x86asm.RAX && r <= x86asm.R15:
		return r
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return x86asm.RAX + (r - x86asm.EAX)
	case r >= x86asm.AX && r <= x86asm.R15W:
		return x86asm.RAX + (r - x86asm.AX)
	case r >= x86asm.R8B && r <= x86asm.R15B:
		return x86asm.R8 + (r - x86asm.R8B)
	}
	switch r {
	case x86asm.AL:
		return x86asm.RAX
	case x86asm.CL:
		return x86asm.RCX
	case x86asm.DL:
		return x86asm.RDX
	case x86asm.BL:
		return x86asm.RBX
	case x86asm.SPB:
		return x86asm.RSP
	case x86asm.BPB:
		return x86asm.RBP
	case x86asm.SIB:
		return x86asm.RSI
	case x86asm.DIB:
		return x86asm.RDI
	}
	return r
}

// argument finds what the instructions before the last of ins loaded into reg (a
// 64-bit register), looking back at most maxArgDistance instructions and not past a
// call, return or jump.
func argument(ins []inst, reg x86asm.Reg) value {
	return argumentBefore(ins, len(ins)-1, reg, 0)
}

// argumentBefore finds what the instructions before ins[last] loaded into reg,
// following register copies (`mov rsi, rax` after `lea rax, [rip+X]`, as unoptimised
// code does) within the same distance.
func argumentBefore(ins []inst, last int, reg x86asm.Reg, dist int) value {
	for j := last - 1; j >= 0 && dist+last-j <= maxArgDistance; j-- {
		in := ins[j]
		switch in.Op {
		case x86asm.CALL, x86asm.RET, x86asm.JMP, x86asm.LCALL, x86asm.LJMP, x86asm.SYSCALL:
			return value{}
		case x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ, x86asm.STOSB, x86asm.STOSW,
			x86asm.STOSD, x86asm.STOSQ, x86asm.LODSB, x86asm.LODSQ, x86asm.CMPSB, x86asm.SCASB:
			if reg == x86asm.RDI || reg == x86asm.RSI || reg == x86asm.RCX {
				return value{}
			}
		case x86asm.XCHG, x86asm.XADD, x86asm.CMPXCHG:
			for _, a := range in.Args[:2] {
				if r, ok := a.(x86asm.Reg); ok && family(r) == reg {
					return value{}
				}
			}
			continue
		case x86asm.CMP, x86asm.TEST, x86asm.PUSH, x86asm.BT, x86asm.NOP:
			continue
		}
		dst, ok := in.Args[0].(x86asm.Reg)
		if !ok || family(dst) != reg {
			continue
		}
		switch src := in.Args[1].(type) {
		case x86asm.Mem:
			if in.Op == x86asm.LEA && src.Base == x86asm.RIP && src.Index == 0 {
				return value{known: true, addr: true, v: in.va + uint64(in.Len) + uint64(src.Disp)}
			}
		case x86asm.Imm:
			if in.Op == x86asm.MOV {
				return value{known: true, v: uint64(src)}
			}
		case x86asm.Reg:
			if in.Op == x86asm.XOR && src == dst {
				return value{known: true}
			}
			if in.Op == x86asm.MOV && (src >= x86asm.EAX && src <= x86asm.R15L || src >= x86asm.RAX && src <= x86asm.R15) {
				return argumentBefore(ins, j, family(src), dist+last-j)
			}
		}
		return value{}
	}
	return value{}
}

// call looks at one call of a function of interest at va.
func (s *state) call(sec *section, va uint64, name string) {
	ins, ok := s.window(sec, va, true)
	if !ok {
		return
	}
	at := fmt.Sprintf("0x%x", sec.offset+(va-sec.addr))
	switch {
	case comparisons[name]:
		for _, reg := range []x86asm.Reg{x86asm.RDI, x86asm.RSI} {
			lit, ok := s.literal(argument(ins, reg))
			if !ok {
				continue
			}
			s.facts.LiteralComparisonCount++
			if len(s.facts.LiteralComparisons) < maxLiterals {
				s.facts.LiteralComparisons = append(s.facts.LiteralComparisons, LiteralComparison{
					Literal: lit, Callee: name, Argument: map[x86asm.Reg]string{x86asm.RDI: "rdi", x86asm.RSI: "rsi"}[reg],
					Offset: sec.offset + (va - sec.addr), Address: va, Function: s.im.function(va, &s.budget),
				})
			}
			break
		}
	case name == "dlinfo":
		if v := argument(ins, x86asm.RSI); v.known && !v.addr && v.v == 2 {
			s.walks("dlinfo(RTLD_DI_LINKMAP) at offset " + at)
		}
	case name == "dladdr1":
		if v := argument(ins, x86asm.RCX); v.known && !v.addr && v.v == 2 {
			s.walks("dladdr1(RTLD_DL_LINKMAP) at offset " + at)
		}
	case name == "dlsym" || name == "dlvsym":
		if lit, ok := s.literal(argument(ins, x86asm.RSI)); ok && isLoaderInternal(lit) {
			s.walks(name + " " + strconv.Quote(lit) + " at offset " + at)
		}
	case name == "mprotect" || name == "pkey_mprotect":
		if v := argument(ins, x86asm.RDX); v.known && !v.addr && v.v&2 != 0 && v.v < 8 {
			s.facts.MprotectWritableCalls++
		}
	}
}

// literal reads the string an argument value points to, when it is the address of a
// NUL-terminated printable string in a read-only data section.
func (s *state) literal(v value) (string, bool) {
	if !v.known || !v.addr && s.im.typ != etExec {
		return "", false // a constant is an address only in a fixed-address executable
	}
	sec := s.im.sectionAt(v.v, readOnlyData)
	if sec == nil || !inFile(s.im.size, sec.offset, sec.size) {
		return "", false
	}
	n := min(uint64(maxLiteralRead), sec.addr+sec.size-v.v)
	buf := make([]byte, n)
	m, _ := s.im.r.ReadAt(buf, int64(sec.offset+(v.v-sec.addr)))
	buf = buf[:m]
	end := -1
	for i, c := range buf {
		if c == 0 {
			end = i
			break
		}
		if (c < 0x20 || c > 0x7e) && c != '\t' && c != '\n' && c != '\r' {
			return "", false
		}
	}
	if end <= 0 {
		return "", false
	}
	str := string(buf[:end])
	cut := false
	if len(str) > maxLiteralBytes {
		str, cut = str[:maxLiteralBytes], true
	}
	q := strconv.Quote(str)
	q = q[1 : len(q)-1]
	if cut {
		q += "…"
	}
	return q, true
}

// store looks at a candidate rip-relative store into the GOT whose ModRM byte is at va.
func (s *state) store(sec *section, va uint64) {
	ins, ok := s.window(sec, va, false)
	if !ok {
		return
	}
	in := ins[len(ins)-1]
	m, ok := in.Args[0].(x86asm.Mem)
	if !ok || m.Base != x86asm.RIP || in.Op == x86asm.CMP || in.Op == x86asm.TEST {
		return
	}
	target := in.va + uint64(in.Len) + uint64(m.Disp)
	g := s.inGOT(target)
	if g == nil || s.gotWrites[in.va] {
		return
	}
	s.gotWrites[in.va] = true
	s.facts.GOTWriteCount++
	if len(s.facts.GOTWrites) >= maxGOTWrites {
		return
	}
	w := GOTWrite{
		Offset: sec.offset + (in.va - sec.addr), Address: in.va, Instruction: x86asm.IntelSyntax(in.Inst, in.va, nil),
		Target: target, Section: g.name, Function: s.im.function(in.va, &s.budget),
	}
	if ref, ok := s.im.allSlots[target]; ok {
		w.Symbol = s.im.str(ref.strtab, ref.name, &s.budget)
	}
	s.facts.GOTWrites = append(s.facts.GOTWrites, w)
}
