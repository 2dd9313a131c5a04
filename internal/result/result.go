// Package result defines kensa's JSON result (schema kensa.dev/result/v1), the document
// every command that inspects a delivery produces and that scripts, reports and
// attestations are built from.
//
// The field names and meanings are a contract (see DESIGN.md, "JSON result"): fields may
// be added, never renamed or given a new meaning without a new schema version.
package result

import (
	"strconv"

	"kensa.dev/kensa/internal/limits"
)

// SchemaVersion names this version of the result document.
const SchemaVersion = "kensa.dev/result/v1"

// Result is one run of kensa over one delivery.
type Result struct {
	SchemaVersion string `json:"schemaVersion"`
	Tool          Tool   `json:"tool"`
	// Target is what was inspected. With several targets it is the first, and Targets
	// lists all of them.
	Target  Target   `json:"target"`
	Targets []Target `json:"targets,omitempty"`
	// Scope is the image view that was listed: "squashed" (the final filesystem) or
	// "all-layers" (also files a later layer deleted or overwrote).
	Scope  string         `json:"scope,omitempty"`
	Limits *limits.Limits `json:"limits,omitempty"`
	// Isolation is where the files were parsed: "process" (worker processes under the
	// worker-memory, parse-timeout and parse-cpu limits) or "none" (kensa's own process).
	Isolation string     `json:"isolation,omitempty"`
	Summary   Summary    `json:"summary"`
	Artifacts []Artifact `json:"artifacts"`
	Findings  []Finding  `json:"findings"`
	Checks    []Check    `json:"checks"`
	Errors    []Error    `json:"errors"`
	// Verdict is set by `kensa accept` only: "pass" or "fail".
	Verdict string `json:"verdict,omitempty"`
	// Reasons say why the verdict is FAIL, one per failed check, finding at or above the
	// threshold without a valid waiver, uninspected file or expired waiver.
	Reasons []string `json:"reasons,omitempty"`
	// NotChecked says what a PASS does not cover (no provenance offered, no vendor SBOM,
	// …), so that nobody reads more into it than was proven.
	NotChecked []string `json:"notChecked,omitempty"`
	// Policy identifies the acceptance policy `kensa accept` applied.
	Policy *PolicyRef `json:"policy,omitempty"`
	// Components are the packages the SBOM of the delivery lists, with the files each one
	// owns alone, so that a later release can be compared with this one without its
	// bytes (`kensa diff --baseline`). Set by `kensa accept`.
	Components []Component `json:"components,omitempty"`
	// Baseline summarises the comparison with the previously accepted release, when the
	// policy names one.
	Baseline *BaselineRef `json:"baseline,omitempty"`
}

// Component is one package of the delivery's SBOM.
type Component struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Type    string `json:"type,omitempty"`
	PURL    string `json:"purl,omitempty"`
	// Files are the paths of the delivered files that this component alone accounts for
	// (the files a package database lists for it, the executables it was found in when no
	// other component was); files several components share are left out.
	Files []string `json:"files,omitempty"`
}

// BaselineRef identifies the previously accepted release a result was compared with and
// counts the changes by risk.
type BaselineRef struct {
	// File is the baseline result as the policy names it.
	File   string `json:"file"`
	Digest string `json:"digest"`
	// Target is the baseline's target.
	Target Target `json:"target"`
	// Changes counts the changes by risk level ("critical": 1, "low": 12).
	Changes map[string]int `json:"changes"`
}

// PolicyRef identifies an acceptance policy.
type PolicyRef struct {
	// File is the policy file as given; empty for the built-in default policy.
	File   string `json:"file,omitempty"`
	Digest string `json:"digest,omitempty"`
	FailOn string `json:"failOn"`
}

// Waiver is the policy waiver that accepted a finding.
type Waiver struct {
	Reason   string `json:"reason"`
	Approver string `json:"approver"`
	Expires  string `json:"expires"`
}

// Tool identifies the kensa build that made the result.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
}

// Target is one input of the run.
type Target struct {
	// Input is the target as the user gave it.
	Input string `json:"input"`
	// Kind is how it was read: file, dir, docker-archive, oci-archive, oci-dir, registry.
	Kind string `json:"kind"`
	// Digest identifies the target: the sha256 of a file, the manifest digest of an image,
	// and for a directory the sha256 of its listing (one "sha256:HEX  PATH\n" line per
	// regular file, sorted by path).
	Digest string `json:"digest,omitempty"`
	// Image describes an image target.
	Image *Image `json:"image,omitempty"`
}

// Image describes a container image target.
type Image struct {
	Reference    string   `json:"reference,omitempty"`
	ManifestType string   `json:"manifestMediaType,omitempty"`
	ConfigDigest string   `json:"configDigest,omitempty"`
	Platform     string   `json:"platform,omitempty"`
	RepoTags     []string `json:"repoTags,omitempty"`
	Layers       []Layer  `json:"layers"`
}

// Layer is one layer of an image, in order from the base.
type Layer struct {
	Index     int    `json:"index"`
	Digest    string `json:"digest"`
	DiffID    string `json:"diffID"`
	MediaType string `json:"mediaType,omitempty"`
	Size      int64  `json:"size"`
	// CreatedBy is the build step that made the layer, from the image history.
	CreatedBy string `json:"createdBy,omitempty"`
}

// Summary counts what the run saw.
type Summary struct {
	Artifacts int   `json:"artifacts"`
	Files     int   `json:"files"`
	Bytes     int64 `json:"bytes"`
	Findings  int   `json:"findings"`
	Errors    int   `json:"errors"`
	// Hidden counts files of lower image layers that a later layer deleted or overwrote;
	// they are listed with --scope all-layers.
	Hidden int `json:"hidden,omitempty"`
}

// Artifact is one file, link or special file of the delivery.
type Artifact struct {
	// Path is relative to the target root; entries of nested archives are joined with "!"
	// (outer!inner!innermost). Control characters, invalid UTF-8, bidirectional-text
	// controls, "!" and "\" inside a name are written as \xNN or \uNNNN escapes.
	Path string `json:"path"`
	// Type is file, symlink, hardlink, char, block, fifo, socket or whiteout.
	Type string `json:"type"`
	// Digest is "sha256:HEX" of the content (of a hard link: of the content it links to).
	Digest string `json:"digest,omitempty"`
	Size   int64  `json:"size"`
	// Mode holds the permission, setuid, setgid and sticky bits in octal ("0755", "4755").
	Mode string `json:"mode"`
	// Format is sniffed from the bytes: elf, pe, macho, macho-fat, script, text, data,
	// empty, an archive kind (tar, tar.gz, zip, jar, deb, rpm, …) or, for entries that
	// are not files, the entry type.
	Format string `json:"format"`
	// Interpreter is the program a script names in its #! line (or, without one, the
	// language its name implies).
	Interpreter string `json:"interpreter,omitempty"`
	// LinkTarget is where a symbolic or hard link points, as stored.
	LinkTarget string `json:"linkTarget,omitempty"`
	// Layer is the index of the image layer that wrote this entry.
	Layer *int `json:"layer,omitempty"`
	// Hidden says why an entry of a lower layer is not in the final filesystem
	// (overwritten, deleted, opaque, replaced); HiddenBy is the layer that hid it.
	Hidden   string `json:"hidden,omitempty"`
	HiddenBy *int   `json:"hiddenBy,omitempty"`
	// Xattrs names the extended attributes the archive records for the entry.
	Xattrs []string `json:"xattrs,omitempty"`
	// Anomalies are structural oddities of the entry that did not stop it being read.
	Anomalies []string `json:"anomalies,omitempty"`
	// Target is the index in Targets when the run had several targets.
	Target *int `json:"target,omitempty"`
	// Facts are what the analyzers observed, keyed by analyzer name ("elf", "pe",
	// "strings"); see docs/facts.md. Only `kensa facts` lists them.
	Facts map[string]any `json:"facts,omitempty"`
	// Profile is the part of the facts of an executable that `kensa diff` compares
	// between releases; `kensa accept` keeps it so that its result can be a baseline.
	Profile *Profile `json:"profile,omitempty"`
}

// Profile is what a release-to-release comparison looks at in an executable or script:
// the names it imports and exports, the libraries it loads, its sections, the network
// destinations and strings of interest it holds, its hardening, the modules built into
// it and who signed it. Lists are sorted and bounded.
type Profile struct {
	// Imports are imported functions: "name" or "name@library" for ELF and Mach-O,
	// "dll!function" for PE (DLL names in lower case).
	Imports []string `json:"imports,omitempty"`
	// Exports are exported names.
	Exports []string `json:"exports,omitempty"`
	// Libraries are the shared libraries the file loads (DT_NEEDED, imported DLLs,
	// Mach-O dylibs), in lower case for PE.
	Libraries []string `json:"libraries,omitempty"`
	// IFuncs are the names of GNU indirect functions (resolvers run by the loader).
	IFuncs []string `json:"ifuncs,omitempty"`
	// Sections are the file's sections with their size, permissions and entropy.
	Sections []SectionProfile `json:"sections,omitempty"`
	// Constructors counts the functions run before main (ELF init arrays, PE TLS
	// callbacks).
	Constructors int `json:"constructors,omitempty"`
	// Network are the network destinations the file names: "url:…", "domain:…",
	// "ipv4:…", "ipv6:…", "onion:…", "email:…".
	Network []string `json:"network,omitempty"`
	// Interesting are other strings a reviewer looks at: credentials (redacted), encoded
	// blobs and what they decode to, sensitive paths and commands.
	Interesting []string `json:"interesting,omitempty"`
	// Hardening lists the exploit mitigations the file asks for ("pie", "nx",
	// "relro=full", "canary", "fortify", "aslr", "dep", "cfg", …).
	Hardening []string `json:"hardening,omitempty"`
	// Modules are the Go modules and Rust crates built in, as "path@version".
	Modules []string `json:"modules,omitempty"`
	// Signers identify who signed the file: an Authenticode signer's subject and
	// certificate fingerprint, a Mach-O team identifier.
	Signers []string `json:"signers,omitempty"`
	// Packers names the executable packers whose marks were found.
	Packers []string `json:"packers,omitempty"`
	// Observations are what a script does that a reviewer looks at, as "kind: text".
	Observations []string `json:"observations,omitempty"`
	// Entropy is the Shannon entropy of the whole file in bits per byte.
	Entropy float64 `json:"entropy,omitempty"`
	// Truncated is true when a list was cut at its bound.
	Truncated bool `json:"truncated,omitempty"`
}

// SectionProfile is one section of an executable.
type SectionProfile struct {
	Name string `json:"name"`
	Size uint64 `json:"size"`
	// Perm is "rwx" with a dash for each permission not granted.
	Perm    string  `json:"perm,omitempty"`
	Entropy float64 `json:"entropy,omitempty"`
}

// Executable reports a file someone may run: a native binary (ELF, PE, Mach-O), or a
// script with an execute bit.
func (a Artifact) Executable() bool {
	switch a.Format {
	case "elf", "pe", "macho", "macho-fat":
		return true
	case "script":
		m, err := strconv.ParseUint(a.Mode, 8, 32)
		return err == nil && m&0o111 != 0
	}
	return false
}

// Severity of a finding, from least to most severe.
type Severity string

const (
	Info     Severity = "info"
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Severities lists the severities in increasing order.
var Severities = []Severity{Info, Low, Medium, High, Critical}

// Rank orders severities: info 1 … critical 5; 0 for an unknown one.
func (s Severity) Rank() int {
	for i, v := range Severities {
		if v == s {
			return i + 1
		}
	}
	return 0
}

// ParseSeverity reads a severity name.
func ParseSeverity(s string) (Severity, bool) {
	v := Severity(s)
	return v, v.Rank() > 0
}

// Finding is a rule that matched an artifact.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Path     string   `json:"path"`
	Message  string   `json:"message"`
	Evidence []string `json:"evidence,omitempty"`
	// Matches locate the rule's patterns in the file: the first match of each.
	Matches []Match `json:"matches,omitempty"`
	// Waiver, set by `kensa accept`, is the policy waiver that accepted this finding.
	Waiver *Waiver `json:"waiver,omitempty"`
}

// Match is where a pattern matched in a file.
type Match struct {
	Pattern string `json:"pattern"`
	Offset  int64  `json:"offset"`
	Length  int    `json:"length"`
	// Section names the ELF or PE section holding the match, when there is one.
	Section string `json:"section,omitempty"`
}

// Check status values.
const (
	Pass  = "pass"
	Fail  = "fail"
	Skip  = "skip"
	Erred = "error"
)

// Check is one verification of a trust claim.
type Check struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Status  string `json:"status"`
	Detail  string `json:"detail,omitempty"`
}

// Error kinds.
const (
	// KindLimit: the input went past a limit; what lies beyond was not inspected.
	KindLimit = "limit"
	// KindUnsafe: the input tried to leave its root or disguise a name (path traversal,
	// links out of the root, control characters in names).
	KindUnsafe = "unsafe"
	// KindMalformed: the input is corrupt or not what it claims to be.
	KindMalformed = "malformed"
	// KindUnsupported: the input uses something kensa cannot read (an encrypted entry).
	KindUnsupported = "unsupported"
	// KindIO: the input could not be read.
	KindIO = "io"
	// KindInternal: kensa failed (a recovered panic); please report it.
	KindInternal = "internal"
	// KindRule: a rule's condition could not be evaluated on the entry (its cost limit).
	KindRule = "rule"
)

// Error is something that could not be inspected fully. Any error prevents a pass.
type Error struct {
	Path  string `json:"path"`
	Kind  string `json:"kind"`
	Error string `json:"error"`
}
