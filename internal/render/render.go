// Package render writes kensa results for people (text, Markdown, the HTML acceptance
// report) and for tools (JSON, SARIF 2.1.0, JUnit XML), and the same for a diff of two
// releases. Every string that came from a delivery (names, strings found in files,
// evidence, SBOM names, signer identities, messages built from them) is treated as
// hostile:
//
//   - JSON keeps it exactly, in encoding/json's escapes (invalid UTF-8 becomes U+FFFD);
//   - the forms people read show control characters, invalid UTF-8 and invisible format
//     characters (bidirectional overrides, zero-width and tag characters) as \xNN and
//     \uNNNN escapes (see Safe), so that nothing drives a terminal or disguises a name;
//   - Markdown escapes its markup, raw HTML, links and the patterns GitHub links by
//     itself, and keeps table rows to their columns;
//   - HTML goes through html/template, with no script, handler or link of its own;
//   - SARIF messages cannot form embedded links, and artifact URIs stay relative paths;
//   - JUnit is built by encoding/xml.
//
// Each function writes only to the writer it is given.
//
//	if err := render.SARIF(os.Stdout, res, rules); err != nil { … }
package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// textCell bounds the width of a table cell in the text form.
const textCell = 300

// JSON writes res as one indented JSON document.
func JSON(w io.Writer, res *result.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// Text writes res as a table of artifacts followed by findings, errors and a summary.
func Text(w io.Writer, res *result.Result) error {
	ew := &errWriter{w: w}
	targets := res.Targets
	if len(targets) == 0 {
		targets = []result.Target{res.Target}
	}
	for _, t := range targets {
		fmt.Fprintf(ew, "target  %s (%s)\n", safe(t.Input), safe(t.Kind))
		if t.Digest != "" {
			fmt.Fprintf(ew, "digest  %s\n", safe(t.Digest))
		}
		if img := t.Image; img != nil {
			if img.Platform != "" {
				fmt.Fprintf(ew, "platform  %s\n", safe(img.Platform))
			}
			for _, l := range img.Layers {
				fmt.Fprintf(ew, "layer %d  %s  %s\n", l.Index, safe(short(l.DiffID)), safe(truncate(l.CreatedBy, 80)))
			}
		}
	}
	fmt.Fprintln(ew)

	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	image := res.Scope != ""
	header := "PATH\tTYPE\tFORMAT\tSIZE\tMODE\tSHA256"
	if image {
		header += "\tLAYER"
	}
	if len(res.Artifacts) > 0 {
		fmt.Fprintln(tw, header)
	}
	for _, a := range res.Artifacts {
		format := a.Format
		if a.Interpreter != "" {
			format += " (" + a.Interpreter + ")"
		}
		p := a.Path
		if a.LinkTarget != "" {
			p += " -> " + a.LinkTarget
		}
		// A cell as wide as the widest name would pad every row to it: long names are
		// shortened in the middle (the JSON form has them whole).
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", elide(safe(p), textCell), safe(a.Type), elide(safe(format), textCell), size(a), safe(a.Mode), safe(short(a.Digest)))
		if image {
			layer := "-"
			if a.Layer != nil {
				layer = fmt.Sprint(*a.Layer)
			}
			if a.Hidden != "" {
				layer += fmt.Sprintf(" (%s by %d)", safe(a.Hidden), deref(a.HiddenBy))
			}
			line += "\t" + layer
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()

	if len(res.Findings) > 0 {
		fmt.Fprintf(ew, "\nFINDINGS (%d)\n", len(res.Findings))
		for _, f := range res.Findings {
			fmt.Fprintf(ew, "  %-8s %s  %s: %s\n", safe(string(f.Severity)), safe(f.Rule), safe(f.Path), safe(f.Message))
			for _, e := range f.Evidence {
				fmt.Fprintf(ew, "           %s\n", safe(e))
			}
		}
	}
	if len(res.Checks) > 0 {
		counts := map[string]int{}
		for _, c := range res.Checks {
			counts[c.Status]++
		}
		fmt.Fprintf(ew, "\nCHECKS (%d: %d pass, %d fail, %d error, %d skip)\n", len(res.Checks),
			counts[result.Pass], counts[result.Fail], counts[result.Erred], counts[result.Skip])
		for _, c := range res.Checks {
			fmt.Fprintf(ew, "  %-5s %s  %s: %s\n", safe(c.Status), safe(c.Name), safe(c.Subject), safe(c.Detail))
		}
	}
	if len(res.Errors) > 0 {
		fmt.Fprintf(ew, "\nERRORS (%d): these could not be inspected fully\n", len(res.Errors))
		writeErrors(ew, res.Errors)
	}
	s := res.Summary
	fmt.Fprintf(ew, "\n%d artifacts (%d files, %s), %d findings, %d errors", s.Artifacts, s.Files, limits.HumanSize(s.Bytes), s.Findings, s.Errors)
	if s.Hidden > 0 {
		if res.Scope == "all-layers" {
			fmt.Fprintf(ew, ", %d hidden by later layers (listed)", s.Hidden)
		} else {
			fmt.Fprintf(ew, ", %d hidden by later layers (list them with --scope all-layers)", s.Hidden)
		}
	}
	fmt.Fprintln(ew)
	return ew.err
}

// writeErrors writes one "kind path: error" line per error.
func writeErrors(w io.Writer, errs []result.Error) {
	for _, e := range errs {
		p := e.Path
		if p == "" {
			p = "(target)"
		}
		fmt.Fprintf(w, "  %-11s %s: %s\n", safe(e.Kind), safe(p), safe(e.Error))
	}
}

func deref(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

func size(a result.Artifact) string {
	if a.Type != "file" && a.Type != "hardlink" {
		return "-"
	}
	return limits.HumanSize(a.Size)
}

func short(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	if d == "" {
		return "-"
	}
	return d
}

// truncate shortens s to at most n bytes, cutting at a character boundary, and marks the
// cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// elide shortens s to about n bytes by cutting out its middle, so that both the start and
// the end of a long name (where "x.txt" and "x.exe" differ) stay visible.
func elide(s string, n int) string {
	if len(s) <= n {
		return s
	}
	head, tail := n/2, len(s)-n/2
	for head > 0 && !utf8.RuneStart(s[head]) {
		head--
	}
	for tail < len(s) && !utf8.RuneStart(s[tail]) {
		tail++
	}
	return s[:head] + "…" + s[tail:]
}

// safe makes a string from a delivery harmless on a terminal and unable to disguise
// itself: control characters (escape sequences, carriage returns, newlines, the C1 range)
// and bytes that are not valid UTF-8 are written as \xNN; format characters (the
// bidirectional-text overrides that make "gpj.exe" read as "exe.jpg", zero-width and tag
// characters) and the Unicode line and paragraph separators as \uNNNN (\UNNNNNNNN above
// U+FFFF). The style is that of result.EscapeName, so names escaped once stay as they are.
func safe(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case isControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case isFormat(r) && r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		case isFormat(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Safe makes one line of text from a delivery fit for a terminal and a log, for the
// commands that print such text themselves: control and format characters and invalid
// UTF-8 become visible escapes (\xNN, \uNNNN), the rest is kept.
//
//	fmt.Fprintf(w, "+ %s %s\n", render.Safe(c.Name), render.Safe(c.Version))
func Safe(s string) string { return safe(s) }

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// isFormat reports the characters that change how text around them is shown without
// being visible themselves.
func isFormat(r rune) bool {
	return unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
