// Package script reports what language a script is in, how it is shaped (lines, byte-order
// mark, CR LF line ends), the commands in it that a reviewer looks at (downloads piped into a
// shell, decoded payloads run, accounts added, setuid bits set, …), and every place where a
// delivery runs code when a package is installed, upgraded or removed: deb maintainer
// scripts, rpm scriptlets (read from the rpm header, where no file holds them), npm
// lifecycle scripts, a Python setup.py and pyproject build backend, Alpine and Arch
// install scripts.
//
// The commands are found by a simple tokenizer over logical lines (lines continued with a
// backslash are joined), not by a parser of each language: they are observations for rules
// to weigh, never a verdict.
package script

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"
)

// Analyzer is the script analyzer.
type Analyzer struct{}

// New returns the script analyzer.
func New() analyzers.Analyzer { return Analyzer{} }

// Name is "script".
func (Analyzer) Name() string { return "script" }

// Schema returns a nil *Facts.
func (Analyzer) Schema() any { return (*Facts)(nil) }

// manifests are the base names of build and package manifests the analyzer reads.
var manifests = map[string]bool{
	"package.json": true, "setup.py": true, "setup.cfg": true, "pyproject.toml": true,
}

// Wants accepts scripts (a #! line or a script name), rpm packages, install hooks by their
// place in a package, and npm and Python package manifests.
func (Analyzer) Wants(a *analyzers.Artifact) bool {
	switch a.Format {
	case sniff.Empty:
		return false
	case sniff.Script, sniff.RPM:
		return true
	}
	if pathHook(a.Path) != nil {
		return true
	}
	if a.Format != sniff.Text && a.Format != sniff.Data {
		return false
	}
	base := baseName(a.Path)
	return manifests[base] || languageByName(base) != ""
}

// baseName is the base name of the innermost file of a "!"-joined path.
func baseName(p string) string {
	if i := strings.LastIndexByte(p, '!'); i >= 0 {
		p = p[i+1:]
	}
	return path.Base(strings.ReplaceAll(p, "\\", "/"))
}

// Analyze reports the facts of a.
func (an Analyzer) Analyze(ctx context.Context, a *analyzers.Artifact) (facts any, err error) {
	f := &Facts{Size: a.Size}
	defer func() {
		if v := recover(); v != nil {
			facts, err = f, fmt.Errorf("script analyzer: reading %s failed (recovered panic: %v)", baseName(a.Path), v)
		}
	}()
	if a.Content == nil || a.Size < 0 {
		return nil, fmt.Errorf("script analyzer: %s has no content", a.Path)
	}
	lim := a.Limits
	if lim == nil {
		d := limits.Default()
		lim = &d
	}
	base := baseName(a.Path)
	hook := pathHook(a.Path)
	switch {
	case a.Format == sniff.RPM:
		f.Kind = "rpm"
		err = analyzeRPM(ctx, a, lim, f)
	case base == "package.json" && hook == nil:
		f.Kind = "package-json"
		err = analyzePackageJSON(a, f)
	case base == "pyproject.toml" && hook == nil:
		f.Kind = "pyproject"
		err = analyzePyproject(a, f)
	case base == "setup.cfg" && hook == nil:
		f.Kind = "setup-cfg"
		err = analyzeSetupCfg(a, f)
	case hook != nil && a.Format != sniff.Script && a.Format != sniff.Text && a.Format != sniff.Data:
		// Machine code (or an archive) where the package manager runs a program.
		f.Kind = "binary"
		hook.Language = string(a.Format)
		hook.Size = a.Size
		f.InstallHooks = []Hook{*hook}
	case hook != nil && !hook.RunsCode:
		f.Kind = "control"
		hook.Size = a.Size
		f.InstallHooks = []Hook{*hook}
	default:
		f.Kind = "script"
		err = analyzeScript(ctx, a, base, hook, f)
	}
	return f, err
}

// analyzeScript fills the facts of a program text.
func analyzeScript(ctx context.Context, a *analyzers.Artifact, base string, hook *Hook, f *Facts) error {
	head, err := readHead(a.Content, a.Size, contentWindow)
	if err != nil {
		return fmt.Errorf("reading the start of the script: %w", err)
	}
	text := decodeHead(head)
	if sb, ok := parseShebang(text); ok && sb.prog != "" {
		f.Interpreter, f.InterpreterArgs, f.InterpreterName = sb.prog, sb.args, sb.name
		f.Language, f.LanguageSource = languageOf(sb.name), "shebang"
	}
	if f.Language == "" {
		if l := languageByName(base); l != "" {
			f.Language, f.LanguageSource = l, "extension"
		}
	}
	if f.Language == "" {
		if l := languageByContent(text); l != "" {
			f.Language, f.LanguageSource = l, "content"
		}
	}
	st, err := scanText(ctx, io.NewSectionReader(a.Content, 0, a.Size), f.Language, maxObservations)
	if st != nil {
		f.ScannedBytes, f.Lines, f.LongestLine = st.scanned, st.lines, st.longest
		f.CRLFLines, f.CRLF, f.BOM, f.Entropy = st.crlfLines, st.crlfLines > 0, st.bom, st.entropy
		f.Observations, f.ObservationsTruncated = st.obs, st.obsTrunc
		f.Truncated = a.Size > st.scanned && st.scanned >= maxScan
	}
	if hook != nil {
		hook.Language = f.Language
		hook.Size = a.Size
		if f.Interpreter != "" {
			hook.Interpreter = append([]string{f.Interpreter}, f.InterpreterArgs...)
		}
		if hook.System == "pacman" {
			f.InstallHooks = pacmanHooks(text, *hook)
		} else {
			f.InstallHooks = []Hook{*hook}
		}
	}
	if base == "setup.py" && hook == nil {
		py, perr := analyzeSetupPy(ctx, a)
		f.Python = py
		f.InstallHooks = append(f.InstallHooks, Hook{System: "python", Name: "setup.py", When: "build",
			RunsCode: true, Language: "python", Size: a.Size})
		if err == nil {
			err = perr
		}
	}
	return err
}

// readHead reads the first n bytes of r (fewer for a shorter file).
func readHead(r io.ReaderAt, size int64, n int) ([]byte, error) {
	buf := make([]byte, min(int64(n), size))
	k, err := r.ReadAt(buf, 0)
	if err == io.EOF && k == len(buf) {
		err = nil
	}
	return buf[:k], err
}

// decodeHead removes a byte-order mark and decodes UTF-16 to UTF-8.
func decodeHead(head []byte) []byte {
	switch {
	case bytes.HasPrefix(head, []byte{0xef, 0xbb, 0xbf}):
		return head[3:]
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}), bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		u := &utf16Reader{r: bytes.NewReader(head[2:]), be: head[0] == 0xfe}
		out, _ := io.ReadAll(io.LimitReader(u, int64(len(head))*2))
		return out
	}
	return head
}
