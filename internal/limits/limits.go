// Package limits holds the resource bounds kensa enforces on everything it reads.
//
// A delivery is hostile input: every read, decompression, count and recursion is bounded
// by one of these limits. Each limit has a documented default, can be changed from the
// command line with --limit NAME=VALUE, and is recorded in the result so that a verdict
// says under which bounds it was reached.
package limits

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Limits are the bounds of one run. The zero value is not useful; start from Default.
type Limits struct {
	// FileSize bounds the size of any single file, on disk or inside an archive.
	FileSize int64 `json:"fileSize"`
	// EntrySize bounds the decompressed size of one archive entry or one stream.
	EntrySize int64 `json:"entrySize"`
	// TotalSize bounds the bytes decompressed for one top-level target, all nesting levels
	// together.
	TotalSize int64 `json:"totalSize"`
	// Ratio bounds decompressed bytes per compressed byte, checked once a stream has
	// produced RatioGrace bytes.
	Ratio int64 `json:"ratio"`
	// RatioGrace is how many decompressed bytes a stream may produce before Ratio applies.
	RatioGrace int64 `json:"ratioGrace"`
	// Entries bounds the number of entries in one archive.
	Entries int64 `json:"entries"`
	// TotalEntries bounds the number of artifacts in one run.
	TotalEntries int64 `json:"totalEntries"`
	// Depth bounds how deeply archives nest inside archives (a file inside the target has
	// depth 0, a file inside an archive inside the target depth 1, and so on).
	Depth int `json:"depth"`
	// PathLength bounds the length in bytes of one path inside an archive.
	PathLength int `json:"pathLength"`
	// PathComponents bounds the number of components of one path.
	PathComponents int `json:"pathComponents"`
	// SymlinkHops bounds the links followed when resolving one symbolic link.
	SymlinkHops int `json:"symlinkHops"`
	// HeaderSize bounds one archive header (tar PAX records, ar and cpio names, rpm headers).
	HeaderSize int64 `json:"headerSize"`
	// RPMHeader bounds the signature and main header of one rpm package (large packages
	// list many files in their header).
	RPMHeader int64 `json:"rpmHeader"`
	// ZstdWindow bounds the window a zstd frame may ask for.
	ZstdWindow int64 `json:"zstdWindow"`
	// XZDictionary bounds the dictionary an xz or lzma stream may ask for.
	XZDictionary int64 `json:"xzDictionary"`
	// SpoolMemory is the size up to which an entry that needs random access (a zip inside
	// a tar, a binary for an analyzer) is kept in memory; larger ones go to the scratch
	// directory.
	SpoolMemory int64 `json:"spoolMemory"`
	// Layers bounds the layers of one image manifest and the manifests of one index.
	Layers int `json:"layers"`
	// IndexDepth bounds how deeply OCI indexes nest.
	IndexDepth int `json:"indexDepth"`
	// ManifestSize bounds one manifest, index, config or other JSON document of an image.
	ManifestSize int64 `json:"manifestSize"`
	// BlobSize bounds one compressed image blob (a layer).
	BlobSize int64 `json:"blobSize"`
	// WorkerMemory bounds the memory of one process that parses files (bytes).
	WorkerMemory int64 `json:"workerMemory"`
	// WalkMemory bounds the memory of the process that takes a delivery apart: it walks
	// archives and images, decompresses and hashes (bytes).
	WalkMemory int64 `json:"walkMemory"`
	// ParseTimeout bounds the wall time the analysis of one file may take (seconds).
	ParseTimeout int64 `json:"parseTimeout"`
	// ParseCPU bounds the CPU time the analysis of one file may take (seconds).
	ParseCPU int64 `json:"parseCPU"`
	// TargetTimeout bounds the wall time of the walk of one target (seconds).
	TargetTimeout int64 `json:"targetTimeout"`
	// RequestTimeout bounds each registry request until its answer starts, and each wait
	// for more bytes of it (seconds).
	RequestTimeout int64 `json:"requestTimeout"`
}

const (
	KiB = int64(1) << 10
	MiB = int64(1) << 20
	GiB = int64(1) << 30
)

// Default returns the limits kensa uses unless told otherwise. The numbers come from the
// bounds upstream projects settled on after their own hostile-input bugs (Go's archive/tar,
// stereoscope, cosign, sigstore-go), documented in docs/limits.md.
func Default() Limits {
	return Limits{
		FileSize:       8 * GiB,
		EntrySize:      2 * GiB,
		TotalSize:      32 * GiB,
		Ratio:          100,
		RatioGrace:     64 * MiB,
		Entries:        1_000_000,
		TotalEntries:   5_000_000,
		Depth:          6,
		PathLength:     4096,
		PathComponents: 500,
		SymlinkHops:    40,
		HeaderSize:     1 * MiB,
		RPMHeader:      64 * MiB,
		ZstdWindow:     128 * MiB,
		XZDictionary:   64 * MiB,
		SpoolMemory:    64 * MiB,
		Layers:         1000,
		IndexDepth:     4,
		ManifestSize:   4 * MiB,
		BlobSize:       8 * GiB,
		WorkerMemory:   4 * GiB,
		WalkMemory:     4 * GiB,
		ParseTimeout:   60,
		ParseCPU:       60,
		TargetTimeout:  3600,
		RequestTimeout: 30,
	}
}

// unit is how a limit's number is read and written.
type unit int

const (
	count   unit = iota // a plain number
	bytes               // a size: 64M, 2G
	seconds             // a duration: 60s, 10m
)

// field describes one limit for the command line and the documentation.
type field struct {
	name  string
	unit  unit
	doc   string
	basis string
	ptr   func(*Limits) any
}

var fields = []field{
	{"file-size", bytes, "largest single file", "bounds the time one file can take; real installers and images stay below it", func(l *Limits) any { return &l.FileSize }},
	{"entry-size", bytes, "largest decompressed archive entry or stream", "syft and stereoscope stop at 2G per entry", func(l *Limits) any { return &l.EntrySize }},
	{"total-size", bytes, "decompressed bytes per target, all nesting levels together", "klauspost/compress's 64G default is too high for one delivery", func(l *Limits) any { return &l.TotalSize }},
	{"ratio", count, "decompressed bytes per compressed byte, once a stream passed ratio-grace", "deflate tops out near 1032:1; real software compresses far less", func(l *Limits) any { return &l.Ratio }},
	{"ratio-grace", bytes, "bytes a stream may produce before the ratio applies", "small streams of zeros compress well and are harmless", func(l *Limits) any { return &l.RatioGrace }},
	{"entries", count, "entries in one archive", "CVE-2021-33196 (zip directory counts)", func(l *Limits) any { return &l.Entries }},
	{"total-entries", count, "artifacts in one run", "bounds memory: each artifact costs a few hundred bytes", func(l *Limits) any { return &l.TotalEntries }},
	{"depth", count, "archives nested in archives", "image tar → layer → .deb → data.tar → jar → jar", func(l *Limits) any { return &l.Depth }},
	{"path-length", count, "bytes in one path", "PATH_MAX", func(l *Limits) any { return &l.PathLength }},
	{"path-components", count, "components of one path", "stereoscope's directory-depth bound", func(l *Limits) any { return &l.PathComponents }},
	{"symlink-hops", count, "links followed to resolve one symbolic link", "Linux MAXSYMLINKS", func(l *Limits) any { return &l.SymlinkHops }},
	{"header-size", bytes, "one archive header (PAX records, long names, rpm headers)", "Go's archive/tar PAX limit (CVE-2022-2879)", func(l *Limits) any { return &l.HeaderSize }},
	{"rpm-header", bytes, "signature and main header of one rpm package", "file lists of large packages", func(l *Limits) any { return &l.RPMHeader }},
	{"zstd-window", bytes, "window a zstd frame may ask for", "zstd(1) refuses windows past 128M without --long", func(l *Limits) any { return &l.ZstdWindow }},
	{"xz-dictionary", bytes, "dictionary an xz or lzma stream may ask for", "xz -9 uses 64M", func(l *Limits) any { return &l.XZDictionary }},
	{"spool-memory", bytes, "entries up to this size are held in memory when random access is needed", "keeps memory bounded while a zip inside a stream is opened", func(l *Limits) any { return &l.SpoolMemory }},
	{"layers", count, "layers per image manifest, manifests per index", "cosign's maxLayers (CVE-2024-29903)", func(l *Limits) any { return &l.Layers }},
	{"index-depth", count, "OCI indexes nested in indexes", "image-spec #780: nested indexes", func(l *Limits) any { return &l.IndexDepth }},
	{"manifest-size", bytes, "one manifest, index or image config", "ggcr allows 100M; real manifests are a few KiB", func(l *Limits) any { return &l.ManifestSize }},
	{"blob-size", bytes, "one compressed image layer", "cosign CVE-2024-29902: unbounded attachments", func(l *Limits) any { return &l.BlobSize }},
	{"worker-memory", bytes, "memory of one process that parses files (ELF, PE, Mach-O, scripts)", "a fatal out-of-memory in a parser must stop one worker, not the run (syft #5187, Go #45599)", func(l *Limits) any { return &l.WorkerMemory }},
	{"walk-memory", bytes, "memory of the process that takes a delivery apart (archives, images, decompression)", "a decompressor or archive reader that exhausts memory must stop the walk of one delivery with an error, not kensa (Go #45599, CVE-2022-2879)", func(l *Limits) any { return &l.WalkMemory }},
	{"parse-timeout", seconds, "wall time to analyse one file", "hangs in parsers (saferwall #128: relocation blocks of size 0)", func(l *Limits) any { return &l.ParseTimeout }},
	{"target-timeout", seconds, "wall time to take one target apart (a delivery, an image)", "bounds slow-drip and pathological inputs; a 2 GB image takes minutes, the reference's 10m is too tight for large images", func(l *Limits) any { return &l.TargetTimeout }},
	{"request-timeout", seconds, "wait for a registry's answer to start, and for each further read", "cosign and ggcr use 30s; a stalled registry must not hold the run", func(l *Limits) any { return &l.RequestTimeout }},
	{"parse-cpu", seconds, "CPU time to analyse one file", "the same hangs on a loaded machine; a real binary takes well under a second", func(l *Limits) any { return &l.ParseCPU }},
}

// Set changes one limit from its command-line form, NAME=VALUE. Sizes accept the suffixes
// K, M, G and T (powers of 1024) with an optional "iB" or "B".
func (l *Limits) Set(assignment string) error {
	name, value, ok := strings.Cut(assignment, "=")
	if !ok {
		return fmt.Errorf("limit %q: want NAME=VALUE, for example entry-size=512M", assignment)
	}
	for _, f := range fields {
		if f.name != name {
			continue
		}
		n, err := parse(value, f.unit)
		if err != nil {
			return fmt.Errorf("limit %s: %w", name, err)
		}
		if n <= 0 {
			return fmt.Errorf("limit %s: must be positive", name)
		}
		switch p := f.ptr(l).(type) {
		case *int64:
			*p = n
		case *int:
			if n > int64(^uint32(0)>>1) {
				return fmt.Errorf("limit %s: %d is too large", name, n)
			}
			*p = int(n)
		}
		return nil
	}
	return fmt.Errorf("unknown limit %q; known limits: %s", name, strings.Join(Names(), ", "))
}

// Names lists the limit names accepted by Set, sorted.
func Names() []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	sort.Strings(names)
	return names
}

// Describe returns one line per limit, "name  default  meaning", for help texts.
func Describe() string {
	d := Default()
	var b strings.Builder
	for _, f := range fields {
		fmt.Fprintf(&b, "  %-16s %-8s %s\n", f.name, f.value(&d), f.doc)
	}
	return b.String()
}

// Markdown returns the table of limits for the documentation: name, default, meaning and
// where the default comes from.
func Markdown() string {
	d := Default()
	var b strings.Builder
	b.WriteString("| limit | default | bounds | why this default |\n|---|---|---|---|\n")
	for _, f := range fields {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.name, f.value(&d), f.doc, f.basis)
	}
	return b.String()
}

// value writes the field's value in l the way Set reads it.
func (f field) value(l *Limits) string {
	var v int64
	switch p := f.ptr(l).(type) {
	case *int64:
		v = *p
	case *int:
		v = int64(*p)
	}
	switch f.unit {
	case bytes:
		return FormatSize(v)
	case seconds:
		return FormatSeconds(v)
	}
	return strconv.FormatInt(v, 10)
}

// FormatSeconds writes n seconds the way Set reads them back: 60s, 10m, 2h.
func FormatSeconds(n int64) string {
	switch {
	case n >= 3600 && n%3600 == 0:
		return strconv.FormatInt(n/3600, 10) + "h"
	case n >= 60 && n%60 == 0:
		return strconv.FormatInt(n/60, 10) + "m"
	}
	return strconv.FormatInt(n, 10) + "s"
}

// HumanSize writes a size for people: "512 B", "1.5 MiB".
func HumanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// FormatSize writes n bytes the way Set reads them back: 64M, 2G, 1536K.
func FormatSize(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"T", 1 << 40}, {"G", GiB}, {"M", MiB}, {"K", KiB}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

func parse(s string, u unit) (int64, error) {
	s = strings.TrimSpace(s)
	if u == seconds {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, errors.New("not a duration: " + s + " (write 90s, 10m or 1h)")
		}
		if d%time.Second != 0 {
			return 0, errors.New("not a whole number of seconds: " + s)
		}
		return int64(d / time.Second), nil
	}
	mult := int64(1)
	if u == bytes {
		u := strings.ToUpper(s)
		u = strings.TrimSuffix(strings.TrimSuffix(u, "IB"), "B")
		if u != "" {
			switch u[len(u)-1] {
			case 'K':
				mult = KiB
			case 'M':
				mult = MiB
			case 'G':
				mult = GiB
			case 'T':
				mult = 1 << 40
			}
			if mult != 1 {
				u = u[:len(u)-1]
			}
		}
		s = u
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errors.New("not a number: " + s)
	}
	if n > (1<<63-1)/mult {
		return 0, errors.New("too large")
	}
	return n * mult, nil
}

// Error reports that input went past a limit. The run records it against the entry that
// went past and the verdict cannot be a pass.
type Error struct {
	Limit string // the name used by --limit
	Value int64  // the limit in force
	What  string // what went past it
}

func (e *Error) Error() string {
	v := strconv.FormatInt(e.Value, 10)
	for _, f := range fields {
		if f.name == e.Limit {
			switch f.unit {
			case bytes:
				v = FormatSize(e.Value)
			case seconds:
				v = FormatSeconds(e.Value)
			default:
				v = strconv.FormatInt(e.Value, 10)
			}
		}
	}
	return fmt.Sprintf("%s exceeds the %s limit of %s (raise it with --limit %s=N if the input is trusted)", e.What, e.Limit, v, e.Limit)
}

// IsLimit reports whether err is, or wraps, a limit error.
func IsLimit(err error) bool {
	var le *Error
	return errors.As(err, &le)
}

// Budget is a byte allowance shared by every stream decompressed for one target, so that
// many small bombs cannot add up to one large one. It is safe for concurrent use.
type Budget struct {
	limit int64
	used  atomic.Int64
}

// NewBudget returns a budget of n bytes, to be charged under the total-size limit.
func NewBudget(n int64) *Budget { return &Budget{limit: n} }

// Take charges n bytes and fails once the budget is spent.
func (b *Budget) Take(n int64) error {
	if b == nil {
		return nil
	}
	if b.used.Add(n) > b.limit {
		return &Error{Limit: "total-size", Value: b.limit, What: "decompressed data of this target"}
	}
	return nil
}

// Used reports the bytes charged so far.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}
