package macho

// Facts is what the macho analyzer observed in a Mach-O file or a fat (universal) Mach-O
// file.
type Facts struct {
	// Fat is true for a fat (universal) file holding one Mach-O image per architecture,
	// false for a single (thin) Mach-O image.
	Fat bool `json:"fat"`
	// FatMagic is the fat header's magic for a fat file: "fat" (32-bit offsets, 0xcafebabe)
	// or "fat64" (64-bit offsets, 0xcafebabf); empty for a thin file.
	FatMagic string `json:"fatMagic,omitempty"`
	// ArchitectureCount is the number of architectures the fat header declares (1 for a
	// thin file), even when more than maxArchitectures of them were analysed.
	ArchitectureCount int `json:"architectureCount"`
	// Architectures has one entry per image: the file itself when thin, each slice of a
	// fat file in header order (at most maxArchitectures).
	Architectures []Architecture `json:"architectures"`
	// Anomalies are structural oddities of the fat container (overlapping slices, slices
	// past the end of the file), as plain sentences. Per-image ones are in each
	// architecture's anomalies.
	Anomalies []string `json:"anomalies,omitempty"`
}

// Architecture is one Mach-O image: a whole thin file or one slice of a fat file.
type Architecture struct {
	// Cpu is the CPU type: "x86", "x86_64", "arm", "arm64", "arm64_32", "ppc", "ppc64", or
	// "0x…" (hexadecimal) for any other value.
	Cpu string `json:"cpu"`
	// CpuSubtype is the CPU subtype number without its capability bits (the top 8 bits).
	CpuSubtype uint32 `json:"cpuSubtype"`
	// CpuSubtypeName names CpuSubtype where known: "all", "arm64e", "x86_64h", "v7", …;
	// empty when unknown.
	CpuSubtypeName string `json:"cpuSubtypeName,omitempty"`
	// Bits is 64 for a 64-bit image (magic 0xfeedfacf), 32 for a 32-bit one.
	Bits int `json:"bits"`
	// FileType is the Mach-O file type: "object", "execute", "fvmlib", "core", "preload",
	// "dylib", "dylinker", "bundle", "dylib_stub", "dsym", "kext_bundle", "fileset", or
	// "0x…" for any other value.
	FileType string `json:"fileType"`
	// Flags are the header flags that are set, as lower-case names without the MH_ prefix
	// ("noundefs", "dyldlink", "twolevel", "pie", "allow_stack_execution", …); an unnamed bit
	// is "0x…".
	Flags []string `json:"flags"`
	// PIE is true when the header flag MH_PIE (position-independent executable, loaded at
	// a random address) is set.
	PIE bool `json:"pie"`
	// Offset is the byte offset of this image in the file (0 for a thin file).
	Offset int64 `json:"offset"`
	// Size is the length in bytes of this image (the whole file for a thin file; the fat
	// header's size otherwise).
	Size int64 `json:"size"`
	// Align is the slice alignment from the fat header as a power of two (2^Align bytes);
	// 0 for a thin file.
	Align uint32 `json:"align,omitempty"`
	// LoadCommandCount is the number of load commands the header declares (ncmds).
	LoadCommandCount int `json:"loadCommandCount"`
	// LoadCommands are the load command names in file order, lower case as Apple spells
	// them ("lc_segment_64", "lc_load_dylib", "lc_code_signature"; "0x…" when unknown), at
	// most maxLoadCommands.
	LoadCommands []string `json:"loadCommands"`
	// LoadCommandCounts counts the load commands by name (all of them, not only the
	// listed ones; at most maxCommandKinds distinct names).
	LoadCommandCounts map[string]int `json:"loadCommandCounts"`
	// LoadCommandsTruncated is true when the image has more load commands than
	// maxLoadCommands and LoadCommands lists only the first ones.
	LoadCommandsTruncated bool `json:"loadCommandsTruncated,omitempty"`
	// Dylibs are the libraries the image links against, in load command order (at most
	// maxDylibs).
	Dylibs []Dylib `json:"dylibs,omitempty"`
	// Rpaths are the run-path search directories of the LC_RPATH commands, in order (at
	// most maxRpaths).
	Rpaths []string `json:"rpaths,omitempty"`
	// IDDylib is the install name of a dynamic library (LC_ID_DYLIB); nil when absent.
	IDDylib *Dylib `json:"idDylib,omitempty"`
	// Dylinker is the dynamic linker path (LC_LOAD_DYLINKER), usually "/usr/lib/dyld".
	Dylinker string `json:"dylinker,omitempty"`
	// EntryOffset is the file offset (within the image) of the entry point from LC_MAIN;
	// nil when the image has no LC_MAIN.
	EntryOffset *uint64 `json:"entryOffset,omitempty"`
	// Platform is the target platform from LC_BUILD_VERSION or LC_VERSION_MIN_*:
	// "macos", "ios", "tvos", "watchos", "bridgeos", "maccatalyst", "iossimulator",
	// "tvossimulator", "watchossimulator", "driverkit", "visionos", "visionossimulator" or
	// "0x…"; empty when the image declares none (the first such command counts).
	Platform string `json:"platform,omitempty"`
	// MinOS is the minimum OS version the image declares, "major.minor[.patch]" ("11.0",
	// "10.13.2").
	MinOS string `json:"minOS,omitempty"`
	// SDK is the SDK version the image was built against, "major.minor[.patch]".
	SDK string `json:"sdk,omitempty"`
	// UUID is the LC_UUID value, upper-case hexadecimal in 8-4-4-4-12 form; empty when
	// absent.
	UUID string `json:"uuid,omitempty"`
	// Encrypted is true when an LC_ENCRYPTION_INFO(_64) command has a non-zero cryptid
	// (the image's text is encrypted, as App Store binaries are).
	Encrypted bool `json:"encrypted,omitempty"`
	// Segments are the segments in load command order (at most maxSegments).
	Segments []Segment `json:"segments"`
	// ImportedSymbols are the undefined external symbols the image expects from its
	// dylibs ("_printf"), in symbol table order, at most maxImportedSymbols.
	ImportedSymbols []string `json:"importedSymbols,omitempty"`
	// ImportedSymbolCount is the number of undefined external symbols, even past the cap.
	ImportedSymbolCount int `json:"importedSymbolCount"`
	// CodeSignature is the embedded code signature (LC_CODE_SIGNATURE); nil when the image
	// has none.
	CodeSignature *CodeSignature `json:"codeSignature,omitempty"`
	// Anomalies are structural oddities of this image (load commands that point outside
	// the file, overlapping or truncated data, writable and executable segments), as plain
	// sentences, at most maxAnomalies.
	Anomalies []string `json:"anomalies,omitempty"`
}

// Dylib is one library load command.
type Dylib struct {
	// Name is the install name of the library ("/usr/lib/libSystem.B.dylib",
	// "@rpath/Foo.framework/Foo").
	Name string `json:"name"`
	// Kind is how it is loaded: "load" (LC_LOAD_DYLIB), "weak" (LC_LOAD_WEAK_DYLIB: may
	// be missing at run time), "reexport" (LC_REEXPORT_DYLIB), "lazy" (LC_LAZY_LOAD_DYLIB),
	// "upward" (LC_LOAD_UPWARD_DYLIB) or "id" (LC_ID_DYLIB: the library's own name).
	Kind string `json:"kind"`
	// CurrentVersion is the library's current version, "major.minor.patch".
	CurrentVersion string `json:"currentVersion"`
	// CompatVersion is the library's compatibility version, "major.minor.patch".
	CompatVersion string `json:"compatVersion"`
}

// Segment is one LC_SEGMENT or LC_SEGMENT_64 command.
type Segment struct {
	// Name is the segment name ("__TEXT", "__DATA", "__LINKEDIT").
	Name string `json:"name"`
	// Addr is the virtual address and VMSize the size in memory, in bytes.
	Addr uint64 `json:"addr"`
	// VMSize is the size of the segment in memory, in bytes.
	VMSize uint64 `json:"vmSize"`
	// FileOffset is the segment's offset within the image and FileSize its length in the
	// file, in bytes.
	FileOffset uint64 `json:"fileOffset"`
	// FileSize is the segment's length in the file, in bytes.
	FileSize uint64 `json:"fileSize"`
	// MaxProt is the maximum protection as "rwx" letters with "-" for a missing right
	// ("r-x").
	MaxProt string `json:"maxProt"`
	// InitProt is the initial protection, in the same form as MaxProt.
	InitProt string `json:"initProt"`
	// Entropy is the Shannon entropy of the segment's file bytes, in bits per byte (0 to
	// 8), measured over at most maxEntropyBytes; -1 when not measured because overlapping
	// segments and sections had already been read twice the image's size.
	Entropy float64 `json:"entropy"`
	// Sections are the segment's sections (at most maxSections per image in all).
	Sections []Section `json:"sections,omitempty"`
}

// Section is one section of a segment.
type Section struct {
	// Name is the section name ("__text", "__cstring").
	Name string `json:"name"`
	// Segment is the segment name the section header names.
	Segment string `json:"segment"`
	// Addr is the section's virtual address.
	Addr uint64 `json:"addr"`
	// Size is the section's size in bytes.
	Size uint64 `json:"size"`
	// Offset is the section's file offset within the image (0 for zero-fill sections).
	Offset uint32 `json:"offset"`
	// Type is the section type (the low 8 bits of its flags): "regular", "zerofill",
	// "cstring_literals", "symbol_stubs", "lazy_symbol_pointers", "mod_init_func_pointers",
	// … or "0x…".
	Type string `json:"type"`
	// Entropy is the Shannon entropy of the section's file bytes in bits per byte (0 to 8),
	// measured over at most maxEntropyBytes; 0 for zero-fill sections; -1 when not
	// measured (see Segment.Entropy).
	Entropy float64 `json:"entropy"`
}

// CodeSignature is an embedded code signature: the LC_CODE_SIGNATURE command and the
// SuperBlob it points to.
type CodeSignature struct {
	// Offset is the signature's offset within the image and Size its length in bytes, as
	// the load command gives them.
	Offset uint32 `json:"offset"`
	// Size is the signature's length in bytes, as the load command gives it.
	Size uint32 `json:"size"`
	// Blobs are the slot types of the SuperBlob index in order: "codedirectory",
	// "requirements", "entitlements", "der_entitlements", "alternate_codedirectory",
	// "cms_signature", … or "0x…" (at most maxBlobs).
	Blobs []string `json:"blobs,omitempty"`
	// CodeDirectory is the primary CodeDirectory (slot 0); nil when missing or unreadable.
	CodeDirectory *CodeDirectory `json:"codeDirectory,omitempty"`
	// AlternateCodeDirectories is the number of alternate CodeDirectories (other hash
	// types).
	AlternateCodeDirectories int `json:"alternateCodeDirectories,omitempty"`
	// CMSSignature is true when the SuperBlob holds a CMS signature blob (slot 0x10000).
	CMSSignature bool `json:"cmsSignature"`
	// CMSSignatureSize is the CMS payload's length in bytes: 0 for an ad-hoc signature's
	// empty wrapper, the size of the PKCS#7 signature otherwise.
	CMSSignatureSize int `json:"cmsSignatureSize"`
	// Entitlements is the XML property list of the entitlements blob (at most
	// maxEntitlementsBytes of it); empty when absent.
	Entitlements string `json:"entitlements,omitempty"`
	// EntitlementsTruncated is true when the entitlements text was longer than
	// maxEntitlementsBytes.
	EntitlementsTruncated bool `json:"entitlementsTruncated,omitempty"`
	// EntitlementKeys are the top-level keys of the entitlements property list, in order
	// (at most maxEntitlementKeys): "com.apple.security.get-task-allow", ….
	EntitlementKeys []string `json:"entitlementKeys,omitempty"`
	// DEREntitlements is true when the signature carries DER-encoded entitlements (slot 7).
	DEREntitlements bool `json:"derEntitlements"`
	// DEREntitlementsSize is the DER entitlements payload length in bytes.
	DEREntitlementsSize int `json:"derEntitlementsSize,omitempty"`
}

// CodeDirectory is the signed description of the code: its identity and page hashes.
type CodeDirectory struct {
	// Version is the CodeDirectory format version in hexadecimal ("0x20400").
	Version string `json:"version"`
	// Identifier is the signing identifier ("com.example.app"; the Go linker writes the
	// output file name).
	Identifier string `json:"identifier"`
	// TeamID is the Apple developer team identifier; empty for ad-hoc signatures and
	// versions before 0x20200.
	TeamID string `json:"teamId,omitempty"`
	// HashType is the page hash algorithm: "sha1", "sha256", "sha256_truncated", "sha384"
	// or "0x…".
	HashType string `json:"hashType"`
	// HashSize is the length of one hash in bytes.
	HashSize int `json:"hashSize"`
	// PageSize is the size in bytes of a hashed page (0 means the whole file is one page).
	PageSize int `json:"pageSize"`
	// CodeSlots is the number of code page hashes and SpecialSlots the number of special
	// (Info.plist, requirements, entitlements, …) hashes.
	CodeSlots uint32 `json:"codeSlots"`
	// SpecialSlots is the number of special slot hashes.
	SpecialSlots uint32 `json:"specialSlots"`
	// CodeLimit is the number of image bytes the code hashes cover.
	CodeLimit uint64 `json:"codeLimit"`
	// Flags are the code signing flags that are set: "adhoc", "get_task_allow",
	// "installer", "forced_lv", "invalid_allowed", "hard", "kill", "check_expiration",
	// "restrict", "enforcement", "require_lv", "entitlements_validated",
	// "nvram_unrestricted", "runtime" (hardened runtime), "linker_signed"; other bits
	// "0x…".
	Flags []string `json:"flags"`
	// ExecSegFlags are the executable segment flags (version 0x20400 and later):
	// "main_binary", "allow_unsigned", "debugger", "jit", "skip_lv", "can_load_cdhash",
	// "can_exec_cdhash"; other bits "0x…".
	ExecSegFlags []string `json:"execSegFlags,omitempty"`
}
