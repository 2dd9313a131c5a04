package pe

// Facts is what the pe analyzer observed in one PE (Windows executable, DLL or driver)
// file. Offsets and sizes are in bytes; RVAs are relative to the image base; lists are
// capped and a *Truncated flag says when a cap was hit.
type Facts struct {
	// Machine is the COFF machine type in lower case: "amd64", "i386", "arm64", "armnt",
	// "arm", "ia64", "unknown", or "0x" and four hex digits for a value without a name.
	Machine string `json:"machine"`
	// Bits is 32 for a PE32 optional header and 64 for PE32+.
	Bits int `json:"bits"`
	// Is64 is true for a PE32+ (64-bit) optional header.
	Is64 bool `json:"is64"`
	// DLL is true when the COFF characteristics carry IMAGE_FILE_DLL.
	DLL bool `json:"dll"`
	// Subsystem is the optional header's subsystem in lower case: "windows_gui",
	// "windows_cui", "native", "efi_application", "efi_boot_service_driver",
	// "efi_runtime_driver", "efi_rom", "xbox", "windows_ce_gui", "posix_cui", "os2_cui",
	// "windows_boot_application", "native_windows", "unknown", or "0x" and hex digits.
	Subsystem string `json:"subsystem"`
	// Characteristics lists the COFF header characteristic flags that are set, by their
	// IMAGE_FILE_ names without the prefix, lower case ("executable_image",
	// "large_address_aware", "dll", "relocs_stripped", …).
	Characteristics []string `json:"characteristics"`
	// DLLCharacteristics lists the optional header DllCharacteristics flags that are set,
	// by their IMAGE_DLLCHARACTERISTICS_ names without the prefix, lower case
	// ("dynamic_base", "nx_compat", "guard_cf", "high_entropy_va", "no_seh", …).
	DLLCharacteristics []string `json:"dllCharacteristics"`
	// ASLR is true when DYNAMIC_BASE is set (the image may be relocated at load time).
	ASLR bool `json:"aslr"`
	// HighEntropyVA is true when HIGH_ENTROPY_VA is set (64-bit ASLR).
	HighEntropyVA bool `json:"highEntropyVA"`
	// DEP is true when NX_COMPAT is set (the image is compatible with data execution
	// prevention).
	DEP bool `json:"dep"`
	// CFG is true when GUARD_CF is set (Control Flow Guard).
	CFG bool `json:"cfg"`
	// NoSEH is true when NO_SEH is set (the image uses no structured exception handlers).
	NoSEH bool `json:"noSEH"`
	// ForceIntegrity is true when FORCE_INTEGRITY is set (the loader checks the signature).
	ForceIntegrity bool `json:"forceIntegrity"`
	// AppContainer is true when APPCONTAINER is set.
	AppContainer bool `json:"appContainer"`
	// RelocsStripped is true when the COFF header says relocations were removed (the image
	// can only load at its preferred base, defeating ASLR).
	RelocsStripped bool `json:"relocsStripped"`
	// ImageBase is the preferred load address.
	ImageBase uint64 `json:"imageBase"`
	// EntryPointRVA is AddressOfEntryPoint; 0 for a DLL without an entry point.
	EntryPointRVA uint32 `json:"entryPointRVA"`
	// EntryPointSection is the name of the section that holds the entry point; empty when
	// no section does (or there is no entry point).
	EntryPointSection string `json:"entryPointSection,omitempty"`
	// Timestamps are the build times the file records.
	Timestamps Timestamps `json:"timestamps"`
	// Checksum compares the optional header CheckSum with the one computed the way
	// CheckSumMappedFile does.
	Checksum Checksum `json:"checksum"`
	// Sections are the section headers in file order (at most 1024).
	Sections []Section `json:"sections"`
	// SectionsTruncated is true when the file declares more than 1024 sections.
	SectionsTruncated bool `json:"sectionsTruncated,omitempty"`
	// Imports are the imported functions as "dll!function", or "dll!#ordinal" for an
	// import by ordinal; the DLL name is as written in the file (at most 20000 in all).
	Imports []string `json:"imports"`
	// ImportedDLLs are the distinct imported DLL names in file order.
	ImportedDLLs []string `json:"importedDLLs"`
	// ImportsTruncated is true when the import list was cut at 20000.
	ImportsTruncated bool `json:"importsTruncated,omitempty"`
	// DelayImports are the delay-loaded imports, in the same form as Imports.
	DelayImports []string `json:"delayImports,omitempty"`
	// ImpHash is the import hash as pefile and VirusTotal compute it (MD5, lower-case hex,
	// of the comma-joined lower-case "dll.function" list, the .dll/.ocx/.sys extension
	// removed and ordinals resolved or written "ordN"); empty when there are no imports.
	ImpHash string `json:"imphash,omitempty"`
	// ExportName is the DLL name recorded in the export directory.
	ExportName string `json:"exportName,omitempty"`
	// Exports are the exported functions (at most 20000).
	Exports []Export `json:"exports,omitempty"`
	// ExportsTruncated is true when the export list was cut at 20000.
	ExportsTruncated bool `json:"exportsTruncated,omitempty"`
	// TLS describes the thread-local-storage callbacks, code that runs before the entry
	// point.
	TLS TLS `json:"tls"`
	// Overlay is the data past the end of the last section, other than the Authenticode
	// certificate table.
	Overlay *Overlay `json:"overlay,omitempty"`
	// Version holds the string values of the version resource (CompanyName, ProductName,
	// FileDescription, OriginalFilename, InternalName, FileVersion, ProductVersion,
	// LegalCopyright), keyed by those names; absent when there is no version resource.
	Version map[string]string `json:"version,omitempty"`
	// Rich describes the Rich header (the linker's record of the toolchain), if any.
	Rich Rich `json:"rich"`
	// DotNet describes the CLR (.NET) header and the assembly identity.
	DotNet DotNet `json:"dotnet"`
	// Authenticode describes the embedded signature structure. It never says whether the
	// signer is trusted; that is the verification component's job.
	Authenticode Authenticode `json:"authenticode"`
	// Anomalies are structural oddities, as plain sentences ("entry point is in a writable
	// section", "section .text raw data ends past the end of the file", …), at most
	// 256.
	Anomalies []string `json:"anomalies,omitempty"`
}

// Timestamps are the times a PE file claims it was built. Compilers that build
// reproducibly write 0 or a hash instead of a time.
type Timestamps struct {
	// COFF is the COFF header TimeDateStamp as RFC 3339 UTC; empty when it is 0.
	COFF string `json:"coff,omitempty"`
	// COFFRaw is the COFF header TimeDateStamp in seconds since 1970-01-01 UTC.
	COFFRaw uint32 `json:"coffRaw"`
	// Debug are the debug directory entries (at most 64).
	Debug []DebugEntry `json:"debug,omitempty"`
	// PDBPath is the program database path from the CodeView debug entry (RSDS or NB10).
	PDBPath string `json:"pdbPath,omitempty"`
}

// DebugEntry is one debug directory entry.
type DebugEntry struct {
	// Type is the debug type in lower case ("codeview", "pogo", "repro", "vc_feature",
	// "ex_dllcharacteristics", …) or "type N" for an unknown one.
	Type string `json:"type"`
	// TimeDateStamp is the entry's time stamp in seconds since 1970-01-01 UTC.
	TimeDateStamp uint32 `json:"timeDateStamp"`
	// Time is TimeDateStamp as RFC 3339 UTC; empty when it is 0.
	Time string `json:"time,omitempty"`
}

// Checksum is the PE image checksum, stored and recomputed.
type Checksum struct {
	// Stored is the optional header CheckSum field; 0 means none was written.
	Stored uint32 `json:"stored"`
	// Computed is the checksum of the file as CheckSumMappedFile computes it.
	Computed uint32 `json:"computed"`
	// Valid is true when Stored equals Computed.
	Valid bool `json:"valid"`
}

// Section is one section header.
type Section struct {
	// Name is the section name (8 bytes at most, NULs removed; a "/N" long name is left as
	// written).
	Name string `json:"name"`
	// Flags lists the section characteristics that are set, lower case without the
	// IMAGE_SCN_ prefix ("cnt_code", "mem_execute", "mem_read", "mem_write", …).
	Flags []string `json:"flags"`
	// Perm is the memory protection as three letters "RWX", a dash for each one not
	// granted ("R-X" for code, "RW-" for data).
	Perm string `json:"perm"`
	// VirtualAddress is the section's RVA.
	VirtualAddress uint32 `json:"virtualAddress"`
	// VirtualSize is the section's size in memory.
	VirtualSize uint32 `json:"virtualSize"`
	// RawOffset is PointerToRawData, the file offset of the section's data.
	RawOffset uint32 `json:"rawOffset"`
	// RawSize is SizeOfRawData, the bytes of the file the section holds.
	RawSize uint32 `json:"rawSize"`
	// Entropy is the Shannon entropy of the section's raw data in bits per byte (0 to 8),
	// over the part that lies inside the file.
	Entropy float64 `json:"entropy"`
	// EntropySkipped is true when Entropy was not measured because the sections before
	// it already covered twice the file's size (sections overlapping each other).
	EntropySkipped bool `json:"entropySkipped,omitempty"`
}

// Export is one exported function.
type Export struct {
	// Name is the exported name; empty for an export by ordinal only.
	Name string `json:"name,omitempty"`
	// Ordinal is the export ordinal (biased by the directory's Base).
	Ordinal uint32 `json:"ordinal"`
	// RVA is the function's address; for a forwarder, the address of the forwarder string.
	RVA uint32 `json:"rva"`
	// Forwarder is "dll.function" when the export forwards to another DLL.
	Forwarder string `json:"forwarder,omitempty"`
}

// TLS describes TLS callbacks.
type TLS struct {
	// Present is true when the file has a TLS directory.
	Present bool `json:"present"`
	// Callbacks is the number of TLS callbacks (counted up to 256).
	Callbacks int `json:"callbacks"`
	// CallbacksTruncated is true when the callback array goes on past 256 entries.
	CallbacksTruncated bool `json:"callbacksTruncated,omitempty"`
	// CallbackRVAs are the callbacks' addresses relative to the image base.
	CallbackRVAs []uint64 `json:"callbackRVAs,omitempty"`
}

// Overlay is data appended past the last section.
type Overlay struct {
	// Offset is where the overlay starts in the file: the first byte past the last
	// section's raw data that is not part of the certificate table.
	Offset int64 `json:"offset"`
	// Size is its length, not counting the certificate table when that lies inside it.
	Size int64 `json:"size"`
	// Entropy is its Shannon entropy in bits per byte (0 to 8), certificate table excluded.
	Entropy float64 `json:"entropy"`
}

// Rich describes the Rich header.
type Rich struct {
	// Present is true when a Rich header was found between the DOS stub and the PE header.
	Present bool `json:"present"`
	// Entries are the @comp.id records (at most 512).
	Entries []RichEntry `json:"entries,omitempty"`
	// ChecksumValid is true when the XOR key equals the checksum recomputed over the DOS
	// header and the entries; a mismatch means the header was edited or transplanted.
	ChecksumValid bool `json:"checksumValid"`
}

// RichEntry is one Rich header record.
type RichEntry struct {
	// ProductID is the tool's product identifier.
	ProductID uint16 `json:"productId"`
	// Build is the tool's build number.
	Build uint16 `json:"build"`
	// Count is how many objects that tool contributed.
	Count uint32 `json:"count"`
}

// DotNet describes managed code.
type DotNet struct {
	// Present is true when the file has a CLR (COR20) header with metadata.
	Present bool `json:"present"`
	// RuntimeVersion is the metadata root's version string ("v4.0.30319").
	RuntimeVersion string `json:"runtimeVersion,omitempty"`
	// AssemblyName is the name in the Assembly metadata table.
	AssemblyName string `json:"assemblyName,omitempty"`
	// AssemblyVersion is "major.minor.build.revision".
	AssemblyVersion string `json:"assemblyVersion,omitempty"`
	// Culture is the assembly culture; empty for neutral.
	Culture string `json:"culture,omitempty"`
	// PublicKeyToken is the lower-case hex of the last 8 bytes of the SHA-1 of the public
	// key, reversed; empty when the assembly has no public key.
	PublicKeyToken string `json:"publicKeyToken,omitempty"`
}

// Authenticode is the structure of the embedded signature.
type Authenticode struct {
	// Present is true when the certificate table data directory entry is not empty.
	Present bool `json:"present"`
	// TableOffset is the file offset of the certificate table.
	TableOffset uint32 `json:"tableOffset,omitempty"`
	// TableSize is the certificate table's size as the data directory states it.
	TableSize uint32 `json:"tableSize,omitempty"`
	// Authentihash holds the image digests computed here, keyed by algorithm ("sha1",
	// "sha256", and any other one a signature uses), in lower-case hex. The digest skips
	// the CheckSum field, the certificate table directory entry and everything from the
	// certificate table on, as Windows and osslsigncode do.
	Authentihash map[string]string `json:"authentihash,omitempty"`
	// Signatures are the PKCS#7 signatures: the first one from the certificate table, then
	// the nested ones (at most 16).
	Signatures []Signature `json:"signatures,omitempty"`
	// TrailingBytes is the number of non-zero bytes inside the certificate table that
	// belong to no PKCS#7 structure (data smuggled after the signature, CVE-2013-3900).
	TrailingBytes int64 `json:"trailingBytes,omitempty"`
	// UnsignedRegions are the stretches of the file that the authentihash does not cover,
	// apart from the certificate table, the CheckSum and the directory entry: the bytes
	// after the certificate table, when it is not at the end of the file.
	UnsignedRegions []Region `json:"unsignedRegions,omitempty"`
	// Intact is true when there is at least one signature, the first signature's
	// SpcIndirectDataContent digest equals the authentihash, its PKCS#7 signature
	// verifies with the signer certificate, and no byte of the file lies outside both the
	// authentihash and the certificate table (UnsignedRegions is empty). It says nothing
	// about trust in the signer.
	Intact bool `json:"intact"`
}

// Region is a stretch of the file.
type Region struct {
	// Offset is where the region starts.
	Offset int64 `json:"offset"`
	// Size is its length.
	Size int64 `json:"size"`
}

// Signature is one Authenticode PKCS#7 SignedData.
type Signature struct {
	// Nested is true for a signature found as a nested-signature attribute
	// (1.3.6.1.4.1.311.2.4.1) rather than directly in the certificate table.
	Nested bool `json:"nested"`
	// DigestAlgorithm is the digest algorithm of SpcIndirectDataContent ("sha256", "sha1",
	// "md5", "sha384", "sha512") or the dotted OID of another one.
	DigestAlgorithm string `json:"digestAlgorithm"`
	// SignedDigest is the image digest the signature carries, lower-case hex.
	SignedDigest string `json:"signedDigest"`
	// DigestMatches is true when SignedDigest equals the authentihash computed here with
	// DigestAlgorithm.
	DigestMatches bool `json:"digestMatches"`
	// SignatureVerifies is true when the signed attributes' message digest matches the
	// content and the signer's public key verifies the signature over them. Integrity only:
	// no chain or trust is evaluated.
	SignatureVerifies bool `json:"signatureVerifies"`
	// VerifyError says why SignatureVerifies is false.
	VerifyError string `json:"verifyError,omitempty"`
	// Signer is the certificate that signed.
	Signer *Certificate `json:"signer,omitempty"`
	// Certificates are all the certificates embedded in the SignedData, as embedded (at
	// most 64), in the order of the SignedData's certificate set.
	Certificates []Certificate `json:"certificates,omitempty"`
	// Countersignatures are the time stamps on this signature (at most 16).
	Countersignatures []Countersignature `json:"countersignatures,omitempty"`
}

// Certificate is one X.509 certificate.
type Certificate struct {
	// Subject is the subject distinguished name in RFC 2253 form.
	Subject string `json:"subject"`
	// Issuer is the issuer distinguished name in RFC 2253 form.
	Issuer string `json:"issuer"`
	// Serial is the serial number in lower-case hex.
	Serial string `json:"serial"`
	// NotBefore is the start of validity, RFC 3339 UTC.
	NotBefore string `json:"notBefore"`
	// NotAfter is the end of validity, RFC 3339 UTC.
	NotAfter string `json:"notAfter"`
	// SHA256 is the SHA-256 fingerprint of the DER certificate, lower-case hex.
	SHA256 string `json:"sha256"`
}

// Countersignature is a time stamp over a signature.
type Countersignature struct {
	// Kind is "pkcs9" for a legacy PKCS#9 countersignature (1.2.840.113549.1.9.6) or
	// "rfc3161" for an RFC 3161 time-stamp token (1.3.6.1.4.1.311.3.3.1).
	Kind string `json:"kind"`
	// Time is the signing time (PKCS#9) or genTime (RFC 3161), RFC 3339 UTC; empty when
	// it could not be read.
	Time string `json:"time,omitempty"`
	// Signer is the time-stamping certificate's subject, when it is embedded.
	Signer string `json:"signer,omitempty"`
}

// SectionAt names the section whose raw data holds file offset off, or "" when none does
// (the headers, the overlay). Rules use it to say where a pattern matched.
func (f *Facts) SectionAt(off int64) string {
	for _, s := range f.Sections {
		if s.RawSize > 0 && off >= int64(s.RawOffset) && off-int64(s.RawOffset) < int64(s.RawSize) {
			return s.Name
		}
	}
	return ""
}
