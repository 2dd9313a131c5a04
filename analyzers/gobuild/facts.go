package gobuild

// GoFacts is the build information the Go toolchain embeds in every Go executable
// (what `go version -m FILE` prints). Of a fat Mach-O file, the first slice's.
type GoFacts struct {
	// GoVersion is the toolchain that built the executable ("go1.26.8",
	// "go1.22.0 X:boringcrypto").
	GoVersion string `json:"goVersion"`
	// Path is the import path of the main package ("example.com/app/cmd/agentd"); empty
	// when the build information has none (a build from a file list, or garbled data).
	Path string `json:"path,omitempty"`
	// Main is the main module; nil when the executable was built outside module mode or
	// the information is missing.
	Main *Module `json:"main,omitempty"`
	// Deps are the modules linked into the executable, in the order the toolchain wrote
	// them (sorted by path), at most maxDeps.
	Deps []Module `json:"deps,omitempty"`
	// DepCount is the number of dependency modules, even past maxDeps.
	DepCount int `json:"depCount"`
	// Settings are the build settings in recorded order (at most maxSettings), each value
	// at most maxValueBytes bytes.
	Settings []Setting `json:"settings,omitempty"`
	// BuildMode is the -buildmode setting ("exe", "pie", "c-shared", "plugin", …).
	BuildMode string `json:"buildmode,omitempty"`
	// Compiler is the -compiler setting ("gc" or "gccgo").
	Compiler string `json:"compiler,omitempty"`
	// CgoEnabled is true when the CGO_ENABLED setting is "1" (C code could be linked in);
	// false when it is "0" or absent.
	CgoEnabled bool `json:"cgoEnabled"`
	// GOOS is the target operating system ("linux", "windows", "darwin", …).
	GOOS string `json:"goos,omitempty"`
	// GOARCH is the target architecture ("amd64", "arm64", …).
	GOARCH string `json:"goarch,omitempty"`
	// GOAMD64 is the amd64 microarchitecture level ("v1" … "v4"); empty for other
	// architectures.
	GOAMD64 string `json:"goamd64,omitempty"`
	// GOARM64 is the arm64 architecture version ("v8.0", …); empty for other
	// architectures.
	GOARM64 string `json:"goarm64,omitempty"`
	// LDFlags is the -ldflags setting as recorded ("-s -w -X main.version=1.2"); empty
	// when none were given (or they were trimmed by -trimpath).
	LDFlags string `json:"ldflags,omitempty"`
	// Tags is the -tags setting: the build tags, comma-separated.
	Tags string `json:"tags,omitempty"`
	// Trimpath is true when the executable was built with -trimpath (file system paths
	// removed).
	Trimpath bool `json:"trimpath"`
	// VCS is the version control system of the main module's source tree ("git", "hg",
	// "svn", "fossil", "bzr"); empty when not stamped.
	VCS string `json:"vcs,omitempty"`
	// VCSRevision is the commit the executable was built from.
	VCSRevision string `json:"vcsRevision,omitempty"`
	// VCSTime is the commit time in RFC 3339 form.
	VCSTime string `json:"vcsTime,omitempty"`
	// VCSModified is true when the source tree had uncommitted changes at build time.
	VCSModified bool `json:"vcsModified"`
	// Malformed is true when the executable carries the Go build information marker but
	// the information after it could not be decoded; the fields above then hold only what
	// could be read.
	Malformed bool `json:"malformed,omitempty"`
}

// Module is one Go module.
type Module struct {
	// Path is the module path ("golang.org/x/net").
	Path string `json:"path"`
	// Version is the module version ("v0.62.0", "(devel)" for the main module built from
	// a source tree).
	Version string `json:"version,omitempty"`
	// Sum is the go.sum checksum ("h1:…"); empty for replaced or local modules.
	Sum string `json:"sum,omitempty"`
	// Replace is the module that replaced this one (a replace directive); nil when none.
	Replace *Module `json:"replace,omitempty"`
}

// Setting is one build setting.
type Setting struct {
	// Key is the setting name ("-ldflags", "CGO_ENABLED", "vcs.revision").
	Key string `json:"key"`
	// Value is the setting value.
	Value string `json:"value"`
}

// RustFacts is what an executable tells of the Rust toolchain and crates that built it:
// the dependency list cargo-auditable embeds, and traces rustc leaves.
type RustFacts struct {
	// AuditData is true when the executable carries cargo-auditable dependency data.
	AuditData bool `json:"auditData"`
	// Section is the name of the section holding the audit data (".dep-v0"; the legacy
	// rust-audit names ".rust-deps-v0", "rdep-v0" and "rust-deps-v0" are also read).
	Section string `json:"section,omitempty"`
	// Segment is the Mach-O segment of the audit data section ("__DATA"); empty for ELF
	// and PE.
	Segment string `json:"segment,omitempty"`
	// CompressedSize is the length of the audit data section in bytes.
	CompressedSize int64 `json:"compressedSize,omitempty"`
	// FormatVersion is the audit data format revision: the JSON "format" field, 0 when it
	// is absent (0: from cargo metadata; 1: proc-macros recorded as build dependencies; 8:
	// from cargo's SBOM precursor).
	FormatVersion int `json:"formatVersion"`
	// Packages are the crates of the dependency tree in recorded order (at most
	// maxPackages).
	Packages []RustPackage `json:"packages,omitempty"`
	// PackageCount is the number of packages in the audit data, even past maxPackages.
	PackageCount int `json:"packageCount"`
	// RustcVersion is the compiler version from an ELF .comment entry "rustc version
	// 1.95.0 (59807616e 2026-04-14)", without the "rustc version " prefix; empty when
	// absent.
	RustcVersion string `json:"rustcVersion,omitempty"`
	// RustcCommits are the distinct rustc commit hashes seen in standard library source
	// paths ("/rustc/<40 hex digits>/library/…") within the first maxScanBytes of the file
	// (at most maxCommits); looked for only when there is no audit data.
	RustcCommits []string `json:"rustcCommits,omitempty"`
	// Anomalies are inconsistencies of the audit data (dependency indices out of range,
	// not exactly one root package), as plain sentences, at most maxAnomalies.
	Anomalies []string `json:"anomalies,omitempty"`
}

// RustPackage is one crate of the cargo-auditable dependency tree.
type RustPackage struct {
	// Name is the crate name ("serde").
	Name string `json:"name"`
	// Version is the crate version ("1.0.210").
	Version string `json:"version"`
	// Source is where the crate came from: "crates.io", "git", "local", "registry", or
	// another string a newer format writes.
	Source string `json:"source"`
	// Kind is "runtime" (linked into the executable) or "build" (used only to build it).
	Kind string `json:"kind"`
	// Root is true for the root package: the crate the executable was built from.
	Root bool `json:"root"`
	// Dependencies are the indices into Packages of this crate's dependencies (at most
	// maxPackageDeps).
	Dependencies []int `json:"dependencies,omitempty"`
}
