package code

// Facts is what the code analyzer observed in the machine code of one x86-64 ELF file:
// the calls that compare a string with a literal of the file's read-only data, the
// instructions that store into the file's own global offset table, and the code's ways
// of walking the objects the dynamic loader has loaded. Every field is an observation;
// none is a judgement.
type Facts struct {
	// CodeBytes is the number of bytes of executable sections scanned.
	CodeBytes int64 `json:"codeBytes"`
	// Stripped reports that the file has no static symbol table (.symtab): function names
	// come from exported dynamic symbols alone.
	Stripped bool `json:"stripped"`

	// LiteralComparisons lists the calls of strcmp, strncmp, strcasecmp, strncasecmp,
	// memcmp, bcmp, timingsafe_bcmp and CRYPTO_memcmp (through the PLT or GOT, or to the
	// function itself in a statically linked file) whose first or second argument
	// register (rdi, rsi) was loaded, at most 8 instructions before the call, with the
	// address of a NUL-terminated printable string in a read-only data section
	// (`lea rdi, [rip+X]`, or `mov edi, X` in a fixed-address executable), in code order,
	// at most 512 entries; see LiteralComparisonCount.
	LiteralComparisons []LiteralComparison `json:"literalComparisons,omitempty"`
	// LiteralComparisonCount is the number of such calls, including those past the cap of
	// LiteralComparisons.
	LiteralComparisonCount int `json:"literalComparisonCount"`

	// GOTWrites lists the instructions that store to an address inside the file's own
	// .got or .got.plt section through a rip-relative operand
	// (`mov [rip+X], reg`): only the dynamic loader should write there. At most 64
	// entries; see GOTWriteCount.
	GOTWrites []GOTWrite `json:"gotWrites,omitempty"`
	// GOTWriteCount is the number of such instructions, including those past the cap of
	// GOTWrites.
	GOTWriteCount int `json:"gotWriteCount"`

	// WalksLoadedObjects reports that the code can reach the dynamic loader's list of
	// loaded objects: it imports _r_debug, a _dl_ or _rtld_ internal of the loader, or
	// dl_iterate_phdr; calls dlinfo with RTLD_DI_LINKMAP or dladdr1 with RTLD_DL_LINKMAP;
	// or looks up one of those names with dlsym or dlvsym. LoadedObjectEvidence says which.
	WalksLoadedObjects bool `json:"walksLoadedObjects"`
	// LoadedObjectEvidence lists what made WalksLoadedObjects true ("imports
	// dl_iterate_phdr", "dlinfo(RTLD_DI_LINKMAP) at offset 0x1234", "dlsym \"_r_debug\" at offset
	// 0x1234"), at most 16 entries.
	LoadedObjectEvidence []string `json:"loadedObjectEvidence,omitempty"`
	// ImportsMprotect reports that the dynamic symbol table imports mprotect or
	// pkey_mprotect (or, in a statically linked file, that its symbol table defines a
	// function of that name).
	ImportsMprotect bool `json:"importsMprotect"`
	// MprotectWritableCalls counts the calls of mprotect or pkey_mprotect whose
	// protection argument (edx) is a constant with PROT_WRITE set: code that makes pages
	// writable again.
	MprotectWritableCalls int `json:"mprotectWritableCalls"`
}

// LiteralComparison is one call that compares a string with a literal.
type LiteralComparison struct {
	// Literal is the string, at most 128 bytes (longer ones end in "…"), with tab,
	// newline, carriage return, backslash and double quote escaped as in Go.
	Literal string `json:"literal"`
	// Callee is the comparison function called: "strcmp", "memcmp", …
	Callee string `json:"callee"`
	// Argument is the register that held the literal: "rdi" or "rsi".
	Argument string `json:"argument"`
	// Offset is the file offset of the call instruction.
	Offset uint64 `json:"offset"`
	// Address is the virtual address of the call instruction.
	Address uint64 `json:"address"`
	// Function is the symbol of the function that holds the call, empty when no symbol
	// covers it.
	Function string `json:"function,omitempty"`
}

// GOTWrite is one instruction that stores into the file's own global offset table.
type GOTWrite struct {
	// Offset is the file offset of the instruction.
	Offset uint64 `json:"offset"`
	// Address is the virtual address of the instruction.
	Address uint64 `json:"address"`
	// Instruction is the instruction in Intel syntax ("mov qword ptr [rip+0x2fe2], rax").
	Instruction string `json:"instruction"`
	// Target is the virtual address written.
	Target uint64 `json:"target"`
	// Section is the section that holds Target: ".got" or ".got.plt".
	Section string `json:"section"`
	// Symbol is the symbol whose slot is written (from its GLOB_DAT or JUMP_SLOT
	// relocation), empty when no relocation names it.
	Symbol string `json:"symbol,omitempty"`
	// Function is the symbol of the function that holds the instruction, empty when no
	// symbol covers it.
	Function string `json:"function,omitempty"`
}
