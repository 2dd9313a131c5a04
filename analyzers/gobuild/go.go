// Package gobuild reports what executables say about the toolchain and the third-party
// code that built them: the Go build information every Go executable embeds (analyzer
// "go": toolchain, main module, dependency modules with versions and checksums, build
// settings) and the crate list cargo-auditable embeds in Rust executables (analyzer
// "rust"), with the traces rustc leaves when there is no such list.
//
// Both read ELF, PE and Mach-O (thin or fat) files through the standard library's
// debug packages, which are not hardened against hostile input: they run behind recover,
// every read they make is counted against a budget, and they see the file through a view
// that hides or refuses the string tables they would copy quadratically (package
// analyzers/internal/debugsafe).
package gobuild

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/binary"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/internal/debugsafe"
	"kensa.dev/kensa/analyzers/sniff"
)

// Bounds on what one executable can make the analyzers read and report.
const (
	// maxReadBytes bounds what debug/buildinfo may read of one file. It parses the
	// headers and then scans the data section for the build information marker, which
	// the Go linker puts at its start (ELF and Mach-O have a dedicated section); a file
	// that has not shown it within this many bytes is not reported as a Go executable.
	maxReadBytes = 64 << 20
	maxDeps      = 4096
	maxSettings  = 256
	// maxValueBytes bounds one setting value or module field.
	maxValueBytes = 16 << 10
)

// wantsExecutable is the Wants of both analyzers.
func wantsExecutable(a *analyzers.Artifact) bool {
	switch a.Format {
	case sniff.ELF, sniff.PE, sniff.MachO, sniff.MachOFat:
		return true
	}
	return false
}

type goAnalyzer struct{}

// NewGo returns the analyzer of Go build information.
func NewGo() analyzers.Analyzer { return goAnalyzer{} }

func (goAnalyzer) Name() string                     { return "go" }
func (goAnalyzer) Wants(a *analyzers.Artifact) bool { return wantsExecutable(a) }
func (goAnalyzer) Schema() any                      { return (*GoFacts)(nil) }

// buildInfoMagic starts the build information blob, 16-byte aligned.
var buildInfoMagic = []byte("\xff Go buildinf:")

var errBudget = fmt.Errorf("more than %d MiB read while looking for build information", maxReadBytes>>20)

// budgetReader is an io.ReaderAt that fails once more than budget bytes were read, and
// remembers where the first 16-byte aligned build information marker went by.
type budgetReader struct {
	r        io.ReaderAt
	budget   int64
	magicOff int64 // -1 until seen
}

func (b *budgetReader) ReadAt(p []byte, off int64) (int, error) {
	if int64(len(p)) > b.budget {
		return 0, errBudget
	}
	b.budget -= int64(len(p))
	n, err := b.r.ReadAt(p, off)
	if b.magicOff < 0 {
		for i, q := 0, p[:n]; ; {
			j := bytes.Index(q[i:], buildInfoMagic)
			if j < 0 {
				break
			}
			if (off+int64(i+j))%16 == 0 {
				b.magicOff = off + int64(i+j)
				break
			}
			i += j + 1
		}
	}
	return n, err
}

func (goAnalyzer) Analyze(ctx context.Context, a *analyzers.Artifact) (any, error) {
	if a.Content == nil || a.Size < 16 {
		return nil, nil
	}
	view, err := debugsafe.View(a.Content, a.Size)
	if err != nil {
		return nil, fmt.Errorf("the Go build information was not looked for: %w", err)
	}
	br := &budgetReader{r: view, budget: maxReadBytes, magicOff: -1}
	bi, err := readBuildInfo(br)
	if err == nil {
		return goFacts(bi), nil
	}
	if br.magicOff < 0 {
		// No marker went by within the read budget: not a Go executable (or one whose
		// headers are too broken to find its data, which the format's own analyzer
		// reports).
		return nil, nil
	}
	f := &GoFacts{Malformed: true}
	f.GoVersion = rawVersion(a.Content, br.magicOff, a.Size)
	return f, fmt.Errorf("the Go build information at offset %d is malformed: %v", br.magicOff, err)
}

// readBuildInfo runs debug/buildinfo.Read, turning a panic into an error.
func readBuildInfo(r io.ReaderAt) (bi *buildinfo.BuildInfo, err error) {
	defer func() {
		if v := recover(); v != nil {
			bi, err = nil, fmt.Errorf("debug/buildinfo failed on this file (recovered panic: %v)", v)
		}
	}()
	return buildinfo.Read(r)
}

// rawVersion decodes the toolchain version from the build information blob at off, in
// its Go 1.18 and later form (32-byte header, then varint-prefixed strings); "" when it
// cannot.
func rawVersion(r io.ReaderAt, off, size int64) string {
	var hdr [32 + binary.MaxVarintLen64]byte
	n, _ := r.ReadAt(hdr[:min(int64(len(hdr)), size-off)], off)
	if n < 33 || hdr[15]&2 == 0 {
		return ""
	}
	l, k := binary.Uvarint(hdr[32:n])
	if k <= 0 || l == 0 || l > 256 {
		return ""
	}
	v := make([]byte, l)
	if m, _ := r.ReadAt(v, off+32+int64(k)); m != len(v) {
		return ""
	}
	return clean(string(v))
}

// clean bounds a string taken from the file and makes it valid UTF-8.
func clean(s string) string {
	if len(s) > maxValueBytes {
		s = s[:maxValueBytes]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func module(m *debug.Module) *Module {
	if m == nil {
		return nil
	}
	out := &Module{Path: clean(m.Path), Version: clean(m.Version), Sum: clean(m.Sum)}
	if m.Replace != nil && m.Replace != m {
		out.Replace = &Module{Path: clean(m.Replace.Path), Version: clean(m.Replace.Version), Sum: clean(m.Replace.Sum)}
	}
	return out
}

func goFacts(bi *buildinfo.BuildInfo) *GoFacts {
	f := &GoFacts{GoVersion: clean(bi.GoVersion), Path: clean(bi.Path), DepCount: len(bi.Deps)}
	if bi.Main.Path != "" {
		f.Main = module(&bi.Main)
	}
	for _, d := range bi.Deps[:min(len(bi.Deps), maxDeps)] {
		if d != nil {
			f.Deps = append(f.Deps, *module(d))
		}
	}
	for _, s := range bi.Settings[:min(len(bi.Settings), maxSettings)] {
		k, v := clean(s.Key), clean(s.Value)
		f.Settings = append(f.Settings, Setting{Key: k, Value: v})
		switch k {
		case "-buildmode":
			f.BuildMode = v
		case "-compiler":
			f.Compiler = v
		case "CGO_ENABLED":
			f.CgoEnabled = v == "1"
		case "GOOS":
			f.GOOS = v
		case "GOARCH":
			f.GOARCH = v
		case "GOAMD64":
			f.GOAMD64 = v
		case "GOARM64":
			f.GOARM64 = v
		case "-ldflags":
			f.LDFlags = v
		case "-tags":
			f.Tags = v
		case "-trimpath":
			f.Trimpath = v == "true"
		case "vcs":
			f.VCS = v
		case "vcs.revision":
			f.VCSRevision = v
		case "vcs.time":
			f.VCSTime = v
		case "vcs.modified":
			f.VCSModified = v == "true"
		}
	}
	return f
}
