// Package drift compares a release tarball with the source it claims to be made from (a
// source checkout or a git tag) and inspects what differs.
//
// The xz-utils backdoor (CVE-2024-3094) shipped in release tarballs that differed from
// the git tag: an m4 macro claiming to be upstream gettext's build-to-host.m4 had been
// changed to pull a payload out of binary "test files" committed to git with no generator,
// decode it with tr, xz -d and head -c, and pipe it into a shell from configure. drift
// lists every file of both sides with its status, classifies what is only in the release
// or differs as an expected generated file (the table Generated: configure, Makefile.in,
// aclocal.m4, automake's auxiliary scripts, libtool and gettext files, …) or a source
// file, and still inspects the generated files.
//
// Rules (result.Finding.Rule):
//
//   - drift/modified-source-file (high): a file of both trees whose content differs and
//     that is not an expected generated file.
//   - drift/unexpected-release-file (medium): a file only in the release that is not an
//     expected generated file. Files only in the source are listed, never findings (a
//     release leaves out CI files).
//   - drift/m4-serial-mismatch (high): an m4 file of the release whose serial line
//     ("# serial N", "# NAME serial N") names an upstream macro file and serial kensa
//     knows (an embedded table of the m4 files of Debian's automake, autoconf, libtool,
//     gettext, autopoint, pkgconf and autoconf-archive; see README.md) but whose bytes are
//     not that file's. The evidence gives both line counts and the first differing line.
//   - drift/m4-unknown-serial (info): an m4 file with a serial line kensa does not know;
//     its content was not checked against an upstream.
//   - drift/build-decodes-and-runs (critical): a line of a build file (configure, *.m4,
//     configure.ac, Makefile.am, Makefile.in, CMakeLists.txt, meson.build, *.sh, …) of
//     either tree that decodes, decompresses or cuts data (xz, lzma, gzip, bzip2, zstd -d,
//     base64 -d, openssl enc -d, tr between quoted character sets, head -c, tail -c, dd)
//     and feeds it to a shell: a later stage of the same pipeline is sh, $SHELL, eval or
//     ". /dev/stdin"; or eval, sh -c or "." runs a command substitution that decodes; or
//     the pipeline both evaluates something and decompresses with a program named by a
//     variable, as the xz backdoor's macro did ("… | eval $map | $prefix -d"). The same
//     command found in several files (a macro and the configure expanded from it) is one
//     finding, its other places in the evidence.
//   - drift/opaque-test-fixture (medium): a binary file of the release under a test
//     directory (test/, tests/, testdata/, t/, testsuite/, or a directory or file named
//     *_test*) with a Shannon entropy above 7.2 bits per byte, whose base name no script or
//     source file of either tree mentions. Documentation (README, NEWS, ChangeLog, *.md,
//     *.txt, doc/) does not count, nor do build lists: assignments in Makefile.am,
//     Makefile.in and other makefiles (EXTRA_DIST = …), CMake and meson files.
//
// Files are compared byte for byte (modes are not compared: git records only the
// execute bit). Archives inside the release are files like any other: they are compared,
// not opened. aclocal.m4, which concatenates macro files, is not checked by serial.
//
// Anything that could not be read (Report.Errors) means the comparison is incomplete: a
// caller must not report a clean drift when there are errors.
//
// Example:
//
//	src, err := drift.GitTree("xz", "v5.6.1", drift.DefaultLimits())
//	…
//	rel, err := drift.ReleaseTree(ctx, "xz-5.6.1.tar.gz", inventory.Options{Limits: limits.Default()}, drift.DefaultLimits())
//	…
//	rep, err := drift.Compare(src, rel, drift.Options{})
//	…
//	rep.WriteText(os.Stdout)
package drift

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"

	"kensa.dev/kensa/analyzers/entropy"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/result"
)

// Rule identifiers.
const (
	RuleModifiedSourceFile    = "drift/modified-source-file"
	RuleUnexpectedReleaseFile = "drift/unexpected-release-file"
	RuleM4SerialMismatch      = "drift/m4-serial-mismatch"
	RuleM4UnknownSerial       = "drift/m4-unknown-serial"
	RuleBuildDecodesAndRuns   = "drift/build-decodes-and-runs"
	RuleOpaqueTestFixture     = "drift/opaque-test-fixture"
	SchemaVersion             = "kensa.dev/drift/v1"
	fixtureEntropy            = 7.2
	fixtureMinSize            = 64
)

// Statuses of a file.
const (
	StatusSame        = "same"
	StatusOnlyRelease = "only-release"
	StatusOnlySource  = "only-source"
	StatusDiffers     = "differs"
)

// Options configure Compare.
type Options struct {
	// Generated adds entries to the Generated table for this comparison (a project's own
	// generated files).
	Generated []GeneratedFile
}

// Report is the result of a comparison. Its JSON form is the schema kensa.dev/drift/v1.
type Report struct {
	SchemaVersion string           `json:"schemaVersion"`
	Tool          *result.Tool     `json:"tool,omitempty"`
	Source        string           `json:"source"`
	Release       string           `json:"release"`
	Summary       Summary          `json:"summary"`
	Files         []File           `json:"files"`
	Findings      []result.Finding `json:"findings"`
	Errors        []result.Error   `json:"errors"`
}

// Summary counts the files by status and class.
type Summary struct {
	Files    int            `json:"files"`
	Statuses map[string]int `json:"statuses"`
	// Classes counts the release-only and differing files by class.
	Classes  map[string]int `json:"classes"`
	Findings int            `json:"findings"`
	Errors   int            `json:"errors"`
}

// File is one path of either tree.
type File struct {
	Path   string `json:"path"`
	Status string `json:"status"`
	// Class is set for release-only and differing files: generated or source.
	Class string `json:"class,omitempty"`
	// GeneratedBy says what is expected to generate a generated file.
	GeneratedBy   string `json:"generatedBy,omitempty"`
	SourceDigest  string `json:"sourceDigest,omitempty"`
	ReleaseDigest string `json:"releaseDigest,omitempty"`
	// Type is "symlink" for links (file otherwise).
	Type string `json:"type,omitempty"`
}

// Compare compares a release with its source and applies the rules (see the package
// comment). The errors of both trees are carried into the report.
func Compare(source, release *Tree, opts Options) (rep *Report, err error) {
	defer recoverTo(&err)
	if source == nil || release == nil {
		return nil, fmt.Errorf("drift: Compare needs both a source and a release tree")
	}
	rep = &Report{
		SchemaVersion: SchemaVersion,
		Source:        source.Name,
		Release:       release.Name,
		Summary:       Summary{Statuses: map[string]int{}, Classes: map[string]int{}},
		Files:         []File{},
		Findings:      []result.Finding{},
		Errors:        []result.Error{},
	}
	for _, e := range source.Errors {
		e.Path = "source:" + e.Path
		rep.Errors = append(rep.Errors, e)
	}
	for _, e := range release.Errors {
		e.Path = "release:" + e.Path
		rep.Errors = append(rep.Errors, e)
	}
	paths := map[string]bool{}
	for p := range source.files {
		paths[p] = true
	}
	for p := range release.files {
		paths[p] = true
	}
	sorted := make([]string, 0, len(paths))
	for p := range paths {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	table := append(append([]GeneratedFile{}, Generated...), opts.Generated...)
	for _, p := range sorted {
		s, r := source.files[p], release.files[p]
		f := File{Path: p}
		if s != nil {
			f.SourceDigest = s.digest
		}
		if r != nil {
			f.ReleaseDigest = r.digest
			if r.typ == "symlink" {
				f.Type = "symlink"
			}
		}
		switch {
		case r == nil:
			f.Status = StatusOnlySource
		case s == nil:
			f.Status = StatusOnlyRelease
		case !s.read || !r.read:
			// Past a limit or unreadable: an error is already recorded; compare what is known.
			f.Status = StatusDiffers
			if s.digest != "" && s.digest == r.digest {
				f.Status = StatusSame
			}
		case s.typ != r.typ || s.link != r.link || !bytes.Equal(s.data, r.data):
			f.Status = StatusDiffers
		default:
			f.Status = StatusSame
		}
		rep.Summary.Statuses[f.Status]++
		if f.Status == StatusOnlyRelease || f.Status == StatusDiffers {
			f.Class, f.GeneratedBy = classifyWith(table, p, f.Status == StatusOnlyRelease, r.data)
			rep.Summary.Classes[f.Class]++
			if f.Class == ClassSource {
				rep.Findings = append(rep.Findings, driftFinding(f, s, r))
			}
		}
		rep.Files = append(rep.Files, f)
	}
	rep.Summary.Files = len(rep.Files)

	// m4 serials, on every m4 file of the release.
	for _, p := range sortedPaths(release) {
		e := release.files[p]
		if e.typ != "file" || !e.read || !strings.HasSuffix(p, ".m4") || path.Base(p) == "aclocal.m4" {
			continue
		}
		fs, err := checkM4(p, e.data)
		if err != nil {
			return nil, fmt.Errorf("drift: the embedded m4 table is broken: %w", err)
		}
		rep.Findings = append(rep.Findings, fs...)
	}
	rep.Findings = append(rep.Findings, buildFindings(source, release)...)
	rep.Findings = append(rep.Findings, fixtureFindings(source, release)...)
	sort.SliceStable(rep.Findings, func(i, j int) bool {
		a, b := rep.Findings[i], rep.Findings[j]
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() > b.Severity.Rank()
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Path < b.Path
	})
	rep.Summary.Findings = len(rep.Findings)
	rep.Summary.Errors = len(rep.Errors)
	return rep, nil
}

func classifyWith(table []GeneratedFile, p string, onlyRelease bool, data []byte) (string, string) {
	if len(table) > len(Generated) {
		for _, g := range table[len(Generated):] {
			if (!g.OnlyRelease || onlyRelease) && matchGenerated(g.Pattern, p, path.Base(p)) {
				return ClassGenerated, g.By
			}
		}
	}
	return classify(p, onlyRelease, data)
}

func sortedPaths(t *Tree) []string {
	ps := make([]string, 0, len(t.files))
	for p := range t.files {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// driftFinding reports a source file that differs or is only in the release.
func driftFinding(f File, s, r *entry) result.Finding {
	if s == nil {
		ev := []string{fmt.Sprintf("release: %s", describe(r))}
		return result.Finding{
			Rule: RuleUnexpectedReleaseFile, Severity: result.Medium, Path: f.Path,
			Message:  "only in the release, and not a file the release process is expected to generate",
			Evidence: ev,
		}
	}
	ev := []string{"source: " + describe(s), "release: " + describe(r)}
	if s.read && r.read && s.typ == "file" && r.typ == "file" && isText(s.data) && isText(r.data) {
		n, a, b := firstDiff(s.data, r.data)
		ev = append(ev, fmt.Sprintf("source %d lines, release %d lines; first differing line %d: source %q, release %q",
			bytes.Count(s.data, []byte("\n")), bytes.Count(r.data, []byte("\n")), n, a, b))
	}
	return result.Finding{
		Rule: RuleModifiedSourceFile, Severity: result.High, Path: f.Path,
		Message:  "differs between the source and the release, and is not a file the release process is expected to generate",
		Evidence: ev,
	}
}

func describe(e *entry) string {
	switch {
	case e.typ == "symlink":
		return "symbolic link to " + fmt.Sprintf("%q", e.link)
	case !e.read:
		return fmt.Sprintf("%d bytes, not read", e.size)
	}
	return fmt.Sprintf("%d bytes, %s", e.size, e.digest)
}

// isText reports bytes that sniff as text or a script.
func isText(b []byte) bool {
	switch formatOf(b, "") {
	case sniff.Text, sniff.Script, sniff.Empty:
		return true
	}
	return false
}

func formatOf(b []byte, name string) sniff.Format {
	head := b
	if len(head) > sniff.HeadSize {
		head = head[:sniff.HeadSize]
	}
	return sniff.Detect(head, name, int64(len(b))).Format
}

// buildFindings applies drift/build-decodes-and-runs to the build files of both trees.
func buildFindings(source, release *Tree) []result.Finding {
	type hit struct {
		where []string
		cmd   BuildCommand
		path  string
	}
	var order []string
	hits := map[string]*hit{}
	for _, side := range []struct {
		name string
		t    *Tree
	}{{"release", release}, {"source", source}} {
		ps := sortedPaths(side.t)
		// m4 files first: configure is expanded from them, so they are where a command
		// comes from.
		sort.SliceStable(ps, func(i, j int) bool {
			return strings.HasSuffix(ps[i], ".m4") && !strings.HasSuffix(ps[j], ".m4")
		})
		for _, p := range ps {
			e := side.t.files[p]
			if e.typ != "file" || !e.read || !isBuildFile(p) || !isText(e.data) {
				continue
			}
			for _, c := range FindDecodeAndRun(e.data) {
				key := c.Text
				h := hits[key]
				if h == nil {
					h = &hit{cmd: c, path: p}
					hits[key] = h
					order = append(order, key)
				}
				where := fmt.Sprintf("%s %s:%d", side.name, p, c.Line)
				h.where = append(h.where, where)
			}
		}
	}
	var out []result.Finding
	for _, k := range order {
		h := hits[k]
		ev := []string{fmt.Sprintf("%s:%d: %s", h.path, h.cmd.Line, h.cmd.Text),
			fmt.Sprintf("decodes with %q, runs with %q", h.cmd.Decode, h.cmd.Run),
			"found in: " + strings.Join(h.where, ", ")}
		out = append(out, result.Finding{
			Rule: RuleBuildDecodesAndRuns, Severity: result.Critical, Path: h.path,
			Message:  "a build step decodes or cuts data and feeds it to a shell: the way a payload hidden in a data file becomes code at build time",
			Evidence: ev,
		})
	}
	return out
}

// inTestDir reports a path under a test directory.
func inTestDir(p string) bool {
	parts := strings.Split(p, "/")
	for i, c := range parts {
		if i < len(parts)-1 {
			switch c {
			case "test", "tests", "testdata", "t", "testsuite", "test-data", "test_data":
				return true
			}
		}
		if strings.Contains(c, "_test") {
			return true
		}
	}
	return false
}

// isDoc reports documentation, whose mentions of a file are no generator.
func isDoc(p string) bool {
	base := path.Base(p)
	up := strings.ToUpper(base)
	for _, pre := range []string{"README", "NEWS", "CHANGELOG", "AUTHORS", "THANKS", "COPYING", "LICENSE", "HISTORY", "TODO", "INSTALL"} {
		if strings.HasPrefix(up, pre) {
			return true
		}
	}
	switch path.Ext(base) {
	case ".md", ".txt", ".rst", ".texi", ".texinfo", ".info", ".html", ".htm", ".adoc", ".pod", ".po", ".pot", ".gmo":
		return true
	}
	for _, c := range strings.Split(path.Dir(p), "/") {
		if c == "doc" || c == "docs" || c == "man" {
			return true
		}
	}
	if ok, _ := path.Match("*.[1-9]", base); ok {
		return true
	}
	return false
}

// isBuildList reports the CMake and meson files whose mentions are file lists.
func isBuildList(p string) bool {
	base := path.Base(p)
	return base == "CMakeLists.txt" || base == "meson.build" || strings.HasSuffix(base, ".cmake")
}

func isMakefile(p string) bool {
	base := path.Base(p)
	switch base {
	case "Makefile.am", "Makefile.in", "Makefile", "GNUmakefile", "makefile":
		return true
	}
	return strings.HasSuffix(base, ".mk") || strings.HasSuffix(base, ".am")
}

// makeListLine reports a logical makefile line that is a variable assignment (NAME =
// list, NAME += list, NAME := list), whose mentions of a file are a build list.
func makeListLine(l []byte) bool {
	if len(l) == 0 || l[0] == '\t' {
		return false
	}
	i := bytes.IndexByte(l, '=')
	return i > 0 && !bytes.Contains(bytes.TrimSuffix(l[:i], []byte(":")), []byte(":"))
}

// fileNameByte reports the bytes of a file name token.
func fileNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '+' || c == '@' || c == '~' || c >= 0x80
}

// mentions marks in found the names of want that data mentions as a whole token; in a
// makefile only lines that are not assignments count.
func mentions(data []byte, makefile bool, want map[string]bool, found map[string]bool) {
	for len(data) > 0 {
		var logical []byte
		if makefile {
			for len(data) > 0 {
				l, rest, _ := cutLine(data)
				data = rest
				l = bytes.TrimRight(l, "\r")
				logical = append(logical, l...)
				if !bytes.HasSuffix(l, []byte("\\")) {
					break
				}
			}
			if makeListLine(logical) {
				continue
			}
		} else {
			logical, data = data, nil
		}
		for i := 0; i < len(logical); {
			if !fileNameByte(logical[i]) {
				i++
				continue
			}
			j := i
			for j < len(logical) && fileNameByte(logical[j]) {
				j++
			}
			if tok := string(logical[i:j]); want[tok] {
				found[tok] = true
			}
			i = j
		}
	}
}

// fixtureFindings applies drift/opaque-test-fixture to every file of the release.
func fixtureFindings(source, release *Tree) []result.Finding {
	type candidate struct {
		path    string
		format  sniff.Format
		size    int
		entropy float64
	}
	var cands []candidate
	want := map[string]bool{}
	for _, p := range sortedPaths(release) {
		e := release.files[p]
		if e.typ != "file" || !e.read || len(e.data) < fixtureMinSize || !inTestDir(p) {
			continue
		}
		format := formatOf(e.data, path.Base(p))
		switch format {
		case sniff.Text, sniff.Script, sniff.Empty:
			continue
		}
		h := entropy.Of(e.data)
		if h <= fixtureEntropy {
			continue
		}
		cands = append(cands, candidate{p, format, len(e.data), h})
		want[path.Base(p)] = true
	}
	if len(cands) == 0 {
		return nil
	}
	found := map[string]bool{}
	for _, t := range []*Tree{release, source} {
		for _, p := range sortedPaths(t) {
			e := t.files[p]
			if e.typ != "file" || !e.read || isDoc(p) || isBuildList(p) || !isText(e.data) {
				continue
			}
			mentions(e.data, isMakefile(p), want, found)
		}
	}
	var out []result.Finding
	for _, c := range cands {
		base := path.Base(c.path)
		if found[base] {
			continue
		}
		out = append(out, result.Finding{
			Rule: RuleOpaqueTestFixture, Severity: result.Medium, Path: c.path,
			Message: "a binary test file of high entropy that no script or source file of the tree mentions: " +
				"nothing shows how it was made or what it holds, which is where the xz backdoor hid its payload",
			Evidence: []string{
				fmt.Sprintf("format %s, %d bytes, entropy %.2f bits/byte (above %.1f)", c.format, c.size, entropy.Round(c.entropy), fixtureEntropy),
				fmt.Sprintf("no script or source file mentions %q (documentation and build file lists do not count)", base),
			},
		})
	}
	return out
}
