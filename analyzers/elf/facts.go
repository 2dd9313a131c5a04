package elf

// Facts is what the elf analyzer observed about one ELF file: its header, its sections
// and segments, what it links against and exports, the hardening its toolchain applied,
// its notes, data appended after its last structure, packer marks and structural oddities.
// Every field is an observation; none is a judgement.
type Facts struct {
	// Class is the ELF class: "elf32" or "elf64".
	Class string `json:"class"`
	// ByteOrder is the data encoding: "little" or "big".
	ByteOrder string `json:"byteOrder"`
	// OSABI is the target OS ABI of e_ident, lower case without the ELFOSABI_ prefix:
	// "none" (System V), "linux", "freebsd", "netbsd", "openbsd", "solaris", …, or
	// "0x" and the number in hex when it has no name.
	OSABI string `json:"osabi"`
	// Machine is the target architecture of e_machine, lower case without the EM_ prefix:
	// "x86_64", "386", "aarch64", "arm", "riscv", "mips", "ppc64", "s390", …, or "0x" and
	// the number in hex when it has no name.
	Machine string `json:"machine"`
	// Type is the object file type of e_type: "exec" (fixed-address executable), "dyn"
	// (shared object or position-independent executable), "rel" (relocatable object),
	// "core" (core dump), "none", or "0x" and the number in hex.
	Type string `json:"type"`
	// Entry is the entry point virtual address (e_entry); 0 when the file has none.
	Entry uint64 `json:"entry"`
	// Interpreter is the program interpreter path named by the first PT_INTERP segment
	// ("/lib64/ld-linux-x86-64.so.2"), empty when there is none.
	Interpreter string `json:"interpreter,omitempty"`

	// Needed lists the DT_NEEDED entries of the dynamic section, in file order: the shared
	// libraries the dynamic loader loads for this file.
	Needed []string `json:"needed,omitempty"`
	// Soname is the DT_SONAME entry, the name a shared library is known by.
	Soname string `json:"soname,omitempty"`
	// Rpath lists the DT_RPATH entries (colon-separated directory lists, searched before
	// LD_LIBRARY_PATH), in file order.
	Rpath []string `json:"rpath,omitempty"`
	// Runpath lists the DT_RUNPATH entries (searched after LD_LIBRARY_PATH), in file order.
	Runpath []string `json:"runpath,omitempty"`
	// DynamicFlags lists the bits set in DT_FLAGS by name: "origin", "symbolic",
	// "textrel", "bind_now", "static_tls", or "0x" and the bit in hex.
	DynamicFlags []string `json:"dynamicFlags,omitempty"`
	// DynamicFlags1 lists the bits set in DT_FLAGS_1 by name: "now", "global", "group",
	// "nodelete", "initfirst", "noopen", "origin", "interpose", "nodeflib", "pie", …, or
	// "0x" and the bit in hex.
	DynamicFlags1 []string `json:"dynamicFlags1,omitempty"`
	// TextRel reports a DT_TEXTREL entry or the DF_TEXTREL flag: relocations that write
	// to read-only (usually executable) pages at load time.
	TextRel bool `json:"textRel"`

	// ImportedSymbols lists the undefined symbols of the dynamic symbol table, in table
	// order: what the file expects other objects to provide at load time. At most
	// 20000 entries; see ImportedSymbolCount.
	ImportedSymbols []ImportedSymbol `json:"importedSymbols,omitempty"`
	// ImportedSymbolCount is the number of undefined dynamic symbols, including those past
	// the cap of ImportedSymbols.
	ImportedSymbolCount int `json:"importedSymbolCount"`
	// ExportedSymbols lists the defined global, weak and unique symbols of the dynamic
	// symbol table, in table order: what the file offers to other objects, including
	// names that interpose on other libraries' functions when the file is preloaded. At
	// most 20000 entries; see ExportedSymbolCount.
	ExportedSymbols []ExportedSymbol `json:"exportedSymbols,omitempty"`
	// ExportedSymbolCount is the number of exported dynamic symbols, including those past
	// the cap of ExportedSymbols.
	ExportedSymbolCount int `json:"exportedSymbolCount"`
	// SymbolsTruncated reports that a symbol list was cut at its cap or that a symbol
	// table was too large to read in full (a symbol table past 64 MiB, a string table past 32 MiB).
	SymbolsTruncated bool `json:"symbolsTruncated,omitempty"`
	// IFuncSymbols lists the names of STT_GNU_IFUNC symbols (functions whose address a
	// resolver picks at load time) from the dynamic and the static symbol tables,
	// deduplicated, at most 20000.
	IFuncSymbols []string `json:"ifuncSymbols,omitempty"`
	// SymbolTableEntries is the number of entries of the static symbol table (.symtab),
	// without the null entry; 0 when there is none.
	SymbolTableEntries int `json:"symbolTableEntries"`

	// Sections lists the section headers in table order, at most 2048.
	Sections []Section `json:"sections,omitempty"`
	// SectionCount is the number of section headers, including those past the cap.
	SectionCount int `json:"sectionCount"`
	// ProgramHeaders lists the program headers (segments) in table order, at most
	// 512.
	ProgramHeaders []ProgramHeader `json:"programHeaders,omitempty"`
	// ProgramHeaderCount is the number of program headers, including those past the cap.
	ProgramHeaderCount int `json:"programHeaderCount"`
	// WritableExecutableSegments lists the indexes (into ProgramHeaders) of the PT_LOAD
	// segments mapped both writable and executable.
	WritableExecutableSegments []int `json:"writableExecutableSegments,omitempty"`
	// WritableExecutableCount is the number of PT_LOAD segments mapped both writable and
	// executable.
	WritableExecutableCount int `json:"writableExecutableCount"`

	// GNUStack reports a PT_GNU_STACK program header.
	GNUStack bool `json:"gnuStack"`
	// GNUStackExecutable reports that PT_GNU_STACK carries PF_X: the loader maps the stack
	// executable. False when there is no PT_GNU_STACK (see NX).
	GNUStackExecutable bool `json:"gnuStackExecutable"`
	// NX is true when the file asks for a non-executable stack: a PT_GNU_STACK header
	// without PF_X. A file without PT_GNU_STACK gets an executable stack from Linux on
	// x86, so NX is false for it (older checksec.sh, which only looks for "RWE" on the
	// GNU_STACK line, says "NX enabled" there).
	NX bool `json:"nx"`
	// Relro is the relocation read-only protection, decided as checksec does from the
	// program and dynamic headers: "none" without PT_GNU_RELRO; "full" with PT_GNU_RELRO
	// and immediate binding (DT_BIND_NOW, DF_BIND_NOW in DT_FLAGS or DF_1_NOW in
	// DT_FLAGS_1); "partial" with PT_GNU_RELRO only.
	Relro string `json:"relro"`
	// PIE reports a position-independent executable: type "dyn" with DF_1_PIE in
	// DT_FLAGS_1 or a DT_DEBUG entry. checksec.sh decides from DT_DEBUG alone (linkers
	// put DT_DEBUG in executables, not in shared libraries); DF_1_PIE is the explicit
	// mark of binutils 2.31 and later. A PT_INTERP segment is not used: shared libraries
	// such as libc.so.6 carry one to be runnable, and static PIEs have none.
	PIE bool `json:"pie"`
	// Linking is how the file is linked: "dynamic" (PT_INTERP or PT_DYNAMIC), "static"
	// (neither), "static-pie" (a PIE with PT_DYNAMIC for self-relocation but no PT_INTERP);
	// empty for relocatable objects and core dumps.
	Linking string `json:"linking,omitempty"`
	// Canary reports a stack protector symbol in the dynamic or static symbol table
	// (see CanarySymbols).
	Canary bool `json:"canary"`
	// CanarySymbols lists the stack protector symbols present: "__stack_chk_fail",
	// "__stack_chk_guard", "__intel_security_cookie".
	CanarySymbols []string `json:"canarySymbols,omitempty"`
	// FortifiedFunctions lists the distinct FORTIFY_SOURCE checking functions the file
	// imports (undefined dynamic symbols named __*_chk, such as "__printf_chk", other than
	// the stack protector's), at most 20000.
	FortifiedFunctions []string `json:"fortifiedFunctions,omitempty"`
	// FortifiedCount is the number of distinct FORTIFY_SOURCE checking functions imported.
	FortifiedCount int `json:"fortifiedCount"`
	// IBT reports the x86 indirect branch tracking property
	// (GNU_PROPERTY_X86_FEATURE_1_IBT) in the GNU property note.
	IBT bool `json:"ibt"`
	// SHSTK reports the x86 shadow stack property (GNU_PROPERTY_X86_FEATURE_1_SHSTK) in the
	// GNU property note.
	SHSTK bool `json:"shstk"`
	// BTI reports the AArch64 branch target identification property
	// (GNU_PROPERTY_AARCH64_FEATURE_1_BTI) in the GNU property note.
	BTI bool `json:"bti"`
	// PAC reports the AArch64 pointer authentication property
	// (GNU_PROPERTY_AARCH64_FEATURE_1_PAC) in the GNU property note.
	PAC bool `json:"pac"`

	// Stripped reports that the file has no static symbol table (.symtab).
	Stripped bool `json:"stripped"`
	// BuildID is the GNU build ID (NT_GNU_BUILD_ID note) in lower-case hex.
	BuildID string `json:"buildId,omitempty"`

	// InitArray, FiniArray and PreinitArray describe the .init_array, .fini_array and
	// .preinit_array tables of function pointers the loader calls at start and exit.
	InitArray *FunctionTable `json:"initArray,omitempty"`
	// FiniArray: see InitArray.
	FiniArray *FunctionTable `json:"finiArray,omitempty"`
	// PreinitArray: see InitArray.
	PreinitArray *FunctionTable `json:"preinitArray,omitempty"`
	// Ctors and Dtors describe the legacy .ctors and .dtors tables; Entries excludes their
	// -1 head and 0 tail markers.
	Ctors *FunctionTable `json:"ctors,omitempty"`
	// Dtors: see Ctors.
	Dtors *FunctionTable `json:"dtors,omitempty"`
	// ConstructorCount is the number of functions run before main: the entries of
	// .preinit_array, .init_array and .ctors together. A plain C program built by GCC has
	// 1 (frame_dummy); each __attribute__((constructor)) adds one.
	ConstructorCount int `json:"constructorCount"`

	// Overlay describes data after the end of the last section, segment and header table:
	// bytes the loader never maps. Nil when there is none.
	Overlay *Overlay `json:"overlay,omitempty"`

	// Packers lists the marks of executable packers and protectors found, one per sign.
	Packers []PackerSign `json:"packers,omitempty"`

	// Anomalies lists structural oddities as plain statements ("no section header
	// table", "entry point 0x401000 is outside every executable segment", "sections
	// .text and .data overlap in the file"), at most 64.
	Anomalies []string `json:"anomalies,omitempty"`
}

// ImportedSymbol is one undefined symbol of the dynamic symbol table.
type ImportedSymbol struct {
	// Name is the symbol name ("fopen").
	Name string `json:"name"`
	// Version is the required symbol version ("GLIBC_2.2.5"), empty when unversioned.
	Version string `json:"version,omitempty"`
	// Library is the file the version is required from ("libc.so.6"), as the version
	// needs table names it; empty when unversioned.
	Library string `json:"library,omitempty"`
	// Binding is the symbol binding: "global", "weak", "local", "gnu_unique", or "0x" and
	// the number.
	Binding string `json:"binding"`
	// Type is the symbol type: "notype", "object", "func", "section", "file", "common",
	// "tls", "gnu_ifunc", or "0x" and the number.
	Type string `json:"type"`
}

// ExportedSymbol is one defined global, weak or unique symbol of the dynamic symbol table.
type ExportedSymbol struct {
	// Name is the symbol name ("readdir").
	Name string `json:"name"`
	// Version is the version the symbol is defined with ("GLIBC_2.2.5"), empty when
	// unversioned.
	Version string `json:"version,omitempty"`
	// Hidden reports a non-default version (readelf's name@VERSION rather than
	// name@@VERSION): only links that ask for that version bind to it.
	Hidden bool `json:"hidden,omitempty"`
	// Binding is the symbol binding, as for ImportedSymbol.
	Binding string `json:"binding"`
	// Type is the symbol type, as for ImportedSymbol.
	Type string `json:"type"`
	// Value is the symbol value: its virtual address for functions and objects.
	Value uint64 `json:"value"`
	// Size is the symbol size in bytes.
	Size uint64 `json:"size"`
}

// Section is one section header.
type Section struct {
	// Name is the section name from the section name string table (".text").
	Name string `json:"name"`
	// Type is the section type, lower case without the SHT_ prefix: "progbits",
	// "nobits", "symtab", "dynsym", "strtab", "rela", "dynamic", "note", "init_array",
	// "gnu_hash", "gnu_versym", …, or "0x" and the number in hex.
	Type string `json:"type"`
	// Flags are the section flags as readelf's letters, in its order: W write, A alloc,
	// X execute, M merge, S strings, I info, L link order, O OS nonconforming, G group,
	// T TLS, C compressed, R retain, E exclude, o OS specific, p processor specific,
	// x unknown.
	Flags string `json:"flags"`
	// Addr is the section's virtual address (0 when not loaded).
	Addr uint64 `json:"addr"`
	// Offset is the file offset of the section's bytes.
	Offset uint64 `json:"offset"`
	// Size is the section size in bytes as the header claims it (nobits sections occupy no
	// file bytes).
	Size uint64 `json:"size"`
	// Entropy is the Shannon entropy of the section's file bytes in bits per byte (0–8);
	// absent for nobits and empty sections, for sections outside the file, and past the
	// read budget of twice the file size (plus 1 MiB).
	Entropy *float64 `json:"entropy,omitempty"`
}

// ProgramHeader is one program header (segment).
type ProgramHeader struct {
	// Type is the segment type, lower case without the PT_ prefix: "load", "dynamic",
	// "interp", "note", "phdr", "tls", "gnu_eh_frame", "gnu_stack", "gnu_relro",
	// "gnu_property", …, or "0x" and the number in hex.
	Type string `json:"type"`
	// Flags are the segment permissions as letters in the order R, W, E ("RE", "RW",
	// "RWE"); empty when none is set.
	Flags string `json:"flags"`
	// Offset is the file offset of the segment.
	Offset uint64 `json:"offset"`
	// Vaddr is the virtual address the segment is mapped at.
	Vaddr uint64 `json:"vaddr"`
	// Filesz is the number of bytes of the segment in the file.
	Filesz uint64 `json:"filesz"`
	// Memsz is the number of bytes of the segment in memory.
	Memsz uint64 `json:"memsz"`
}

// FunctionTable is a table of function pointers the loader or the C runtime calls.
type FunctionTable struct {
	// Size is the table size in bytes.
	Size uint64 `json:"size"`
	// Entries is the number of function pointers in the table.
	Entries uint64 `json:"entries"`
}

// Overlay is data appended after everything the ELF headers describe.
type Overlay struct {
	// Offset is the file offset where the overlay starts.
	Offset int64 `json:"offset"`
	// Size is the overlay length in bytes.
	Size int64 `json:"size"`
	// Entropy is the Shannon entropy of the overlay in bits per byte (0–8).
	Entropy float64 `json:"entropy"`
}

// PackerSign is one mark of a packer or protector.
type PackerSign struct {
	// Packer names the packer or protector: "upx", "ezuri", "kiteshield", "shc".
	Packer string `json:"packer"`
	// Evidence is what was found and where ("UPX! magic \"UPX!\" at offset 0xec", "section
	// UPX0").
	Evidence string `json:"evidence"`
}

// SectionAt names the section whose bytes hold file offset off, or "" when none does
// (nobits sections hold no bytes). Rules use it to say where a pattern matched.
func (f *Facts) SectionAt(off int64) string {
	for _, s := range f.Sections {
		if s.Type != "nobits" && s.Size > 0 && uint64(off) >= s.Offset && uint64(off)-s.Offset < s.Size {
			return s.Name
		}
	}
	return ""
}
