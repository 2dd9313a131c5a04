package gobuild

import (
	"bytes"
	"compress/zlib"
	"context"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/internal/debugsafe"
)

// Bounds of the rust analyzer.
const (
	// maxCompressedBytes bounds the audit data section read, and maxJSONBytes what it may
	// decompress to (cargo-auditable's own readers stop at 8 MiB).
	maxCompressedBytes = 8 << 20
	maxJSONBytes       = 8 << 20
	maxPackages        = 4096
	maxPackageDeps     = 1024
	maxAnomalies       = 64
	// maxCommentBytes bounds the ELF .comment section read.
	maxCommentBytes = 64 << 10
	// maxScanBytes bounds the search for rustc source paths; maxCommits the hashes kept.
	maxScanBytes = 64 << 20
	maxCommits   = 8
)

// auditSectionNames are the section names of cargo-auditable (".dep-v0") and of its
// predecessor rust-audit, per container format.
var auditSectionNames = map[string][]string{
	"elf":   {".dep-v0", ".rust-deps-v0"},
	"pe":    {".dep-v0", "rdep-v0"},
	"macho": {".dep-v0", "rust-deps-v0"},
}

type rustAnalyzer struct{}

// NewRust returns the analyzer of Rust dependency data (cargo-auditable) and rustc traces.
func NewRust() analyzers.Analyzer { return rustAnalyzer{} }

func (rustAnalyzer) Name() string                     { return "rust" }
func (rustAnalyzer) Wants(a *analyzers.Artifact) bool { return wantsExecutable(a) }
func (rustAnalyzer) Schema() any                      { return (*RustFacts)(nil) }

// auditSection is where the audit data lies in the file.
type auditSection struct {
	name, segment string
	off, size     int64
}

func (rustAnalyzer) Analyze(ctx context.Context, a *analyzers.Artifact) (any, error) {
	if a.Content == nil || a.Size < 16 {
		return nil, nil
	}
	view, err := debugsafe.View(a.Content, a.Size)
	if err != nil {
		return nil, fmt.Errorf("the Rust audit data was not looked for: %w", err)
	}
	br := &budgetReader{r: view, budget: maxReadBytes, magicOff: -1}
	sec, comment, err := locate(br)
	if err != nil {
		// The container itself is unreadable; its format's analyzer reports that.
		return nil, nil
	}
	f := &RustFacts{RustcVersion: comment}
	var perr error
	if sec != nil {
		f.AuditData, f.Section, f.Segment, f.CompressedSize = true, sec.name, sec.segment, sec.size
		perr = f.parseAudit(a.Content, sec, a.Size)
	} else {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f.RustcCommits = rustcCommits(a.Content, a.Size)
		if f.RustcVersion == "" && len(f.RustcCommits) == 0 {
			return nil, nil
		}
	}
	return f, perr
}

// locate finds the audit data section and, in an ELF file, the rustc .comment entry.
func locate(r io.ReaderAt) (sec *auditSection, comment string, err error) {
	defer func() {
		if v := recover(); v != nil {
			sec, comment, err = nil, "", fmt.Errorf("the executable's headers could not be parsed (recovered panic: %v)", v)
		}
	}()
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil {
		return nil, "", err
	}
	switch {
	case bytes.Equal(magic[:], []byte("\x7fELF")):
		f, err := elf.NewFile(r)
		if err != nil {
			return nil, "", err
		}
		for _, s := range f.Sections {
			if s.Type == elf.SHT_NOBITS {
				continue
			}
			if s.Name == ".comment" && comment == "" {
				comment = rustcComment(r, int64(s.Offset), int64(min(s.Size, maxCommentBytes)))
			}
			for _, n := range auditSectionNames["elf"] {
				if s.Name == n && (sec == nil || n == ".dep-v0") {
					sec = &auditSection{name: n, off: int64(s.Offset), size: int64(s.Size)}
				}
			}
		}
		return sec, comment, nil
	case bytes.Equal(magic[:2], []byte("MZ")):
		f, err := pe.NewFile(r)
		if err != nil {
			return nil, "", err
		}
		for _, s := range f.Sections {
			for _, n := range auditSectionNames["pe"] {
				if s.Name == n && (sec == nil || n == ".dep-v0") {
					size := int64(s.Size)
					if s.VirtualSize != 0 && int64(s.VirtualSize) < size {
						size = int64(s.VirtualSize) // the rest is file alignment padding
					}
					sec = &auditSection{name: n, off: int64(s.Offset), size: size}
				}
			}
		}
		return sec, "", nil
	}
	switch binary.BigEndian.Uint32(magic[:]) {
	case 0xcafebabe:
		ff, err := macho.NewFatFile(r)
		if err != nil {
			return nil, "", err
		}
		for _, fa := range ff.Arches {
			if sec = machoSection(fa.File, int64(fa.Offset)); sec != nil {
				break
			}
		}
		return sec, "", nil
	default:
		f, err := macho.NewFile(r)
		if err != nil {
			return nil, "", err
		}
		return machoSection(f, 0), "", nil
	}
}

func machoSection(f *macho.File, base int64) *auditSection {
	var sec *auditSection
	for _, s := range f.Sections {
		for _, n := range auditSectionNames["macho"] {
			if s.Name == n && (sec == nil || n == ".dep-v0") {
				sec = &auditSection{name: n, segment: s.Seg, off: base + int64(s.Offset), size: int64(s.Size)}
			}
		}
	}
	return sec
}

// rustcComment returns the version from a "rustc version …" entry of the .comment
// section of n bytes at off.
func rustcComment(r io.ReaderAt, off, n int64) string {
	b := make([]byte, n)
	m, _ := r.ReadAt(b, off)
	for _, e := range bytes.Split(b[:m], []byte{0}) {
		if v, ok := bytes.CutPrefix(e, []byte("rustc version ")); ok {
			return clean(string(v))
		}
	}
	return ""
}

var rustcPath = []byte("/rustc/")

// rustcCommits returns the distinct commit hashes of "/rustc/<hash>/" paths in the first
// maxScanBytes of the file.
func rustcCommits(r io.ReaderAt, size int64) []string {
	const chunk, overlap = 1 << 20, 64
	var out []string
	buf := make([]byte, chunk+overlap)
	end := min(size, maxScanBytes)
	for off := int64(0); off < end; off += chunk {
		n, _ := r.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		b := buf[:n]
		for i := 0; ; {
			j := bytes.Index(b[i:], rustcPath)
			if j < 0 {
				break
			}
			h := b[i+j+len(rustcPath):]
			i += j + 1
			if len(h) < 41 || h[40] != '/' || !isHex(h[:40]) {
				continue
			}
			s := string(h[:40])
			if !containsString(out, s) {
				out = append(out, s)
				if len(out) == maxCommits {
					return out
				}
			}
		}
	}
	return out
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// auditJSON is the cargo-auditable JSON document.
type auditJSON struct {
	Format   *int `json:"format"`
	Packages []struct {
		Name         string          `json:"name"`
		Version      string          `json:"version"`
		Source       json.RawMessage `json:"source"`
		Kind         string          `json:"kind"`
		Dependencies []int64         `json:"dependencies"`
		Root         bool            `json:"root"`
	} `json:"packages"`
}

func (f *RustFacts) anomaly(format string, args ...any) {
	if len(f.Anomalies) < maxAnomalies {
		f.Anomalies = append(f.Anomalies, fmt.Sprintf(format, args...))
	}
}

// parseAudit decompresses and decodes the audit data section.
func (f *RustFacts) parseAudit(r io.ReaderAt, sec *auditSection, size int64) error {
	if sec.off < 0 || sec.off > size || sec.size > size-sec.off {
		return fmt.Errorf("the %s section (offset %d, %d bytes) extends past the end of the file", sec.name, sec.off, sec.size)
	}
	if sec.size > maxCompressedBytes {
		return fmt.Errorf("the %s section is %d bytes, more than the %d bytes kensa reads", sec.name, sec.size, maxCompressedBytes)
	}
	zr, err := zlib.NewReader(io.NewSectionReader(r, sec.off, sec.size))
	if err != nil {
		return fmt.Errorf("the %s section is not zlib-compressed data: %w", sec.name, err)
	}
	defer zr.Close()
	data, err := io.ReadAll(io.LimitReader(zr, maxJSONBytes+1))
	if err != nil {
		return fmt.Errorf("decompressing the %s section: %w", sec.name, err)
	}
	if len(data) > maxJSONBytes {
		return fmt.Errorf("the %s section decompresses to more than %d bytes", sec.name, maxJSONBytes)
	}
	var doc auditJSON
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("the %s section is not cargo-auditable JSON: %w", sec.name, err)
	}
	if doc.Format != nil {
		f.FormatVersion = *doc.Format
	}
	f.PackageCount = len(doc.Packages)
	roots := 0
	for i, p := range doc.Packages {
		if p.Root {
			roots++
		}
		for _, d := range p.Dependencies {
			if d < 0 || d >= int64(len(doc.Packages)) {
				f.anomaly("package %d (%s) depends on package %d, which does not exist", i, clean(p.Name), d)
			} else if d == int64(i) {
				f.anomaly("package %d (%s) depends on itself", i, clean(p.Name))
			}
		}
		if i >= maxPackages {
			continue
		}
		kind := clean(p.Kind)
		if kind == "" {
			kind = "runtime"
		}
		rp := RustPackage{Name: clean(p.Name), Version: clean(p.Version), Source: source(p.Source), Kind: kind, Root: p.Root}
		for _, d := range p.Dependencies[:min(len(p.Dependencies), maxPackageDeps)] {
			rp.Dependencies = append(rp.Dependencies, int(d))
		}
		f.Packages = append(f.Packages, rp)
	}
	if roots != 1 {
		f.anomaly("the audit data has %d root packages, not one", roots)
	}
	if doc.Packages == nil {
		return errors.New("the audit data has no package list")
	}
	return nil
}

// source renders a package source: a string, or an object {"Other": "…"}.
func source(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return clean(s)
	}
	var o struct{ Other string }
	if json.Unmarshal(raw, &o) == nil && o.Other != "" {
		return clean(o.Other)
	}
	return clean(strings.TrimSpace(string(raw)))
}
