// Package render writes kensa results for people (text) and for tools (JSON). Every
// string that came from a delivery is treated as hostile: the text form escapes what
// could drive a terminal, and the JSON form is produced by encoding/json alone.
package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

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
		fmt.Fprintf(ew, "target  %s (%s)\n", safe(t.Input), t.Kind)
		if t.Digest != "" {
			fmt.Fprintf(ew, "digest  %s\n", t.Digest)
		}
		if img := t.Image; img != nil {
			if img.Platform != "" {
				fmt.Fprintf(ew, "platform  %s\n", safe(img.Platform))
			}
			for _, l := range img.Layers {
				fmt.Fprintf(ew, "layer %d  %s  %s\n", l.Index, short(l.DiffID), safe(truncate(l.CreatedBy, 80)))
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
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", safe(p), a.Type, safe(format), size(a), a.Mode, short(a.Digest))
		if image {
			layer := "-"
			if a.Layer != nil {
				layer = fmt.Sprint(*a.Layer)
			}
			if a.Hidden != "" {
				layer += fmt.Sprintf(" (%s by %d)", a.Hidden, deref(a.HiddenBy))
			}
			line += "\t" + layer
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()

	if len(res.Findings) > 0 {
		fmt.Fprintf(ew, "\nFINDINGS (%d)\n", len(res.Findings))
		for _, f := range res.Findings {
			fmt.Fprintf(ew, "  %-8s %s  %s: %s\n", f.Severity, f.Rule, safe(f.Path), safe(f.Message))
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
			fmt.Fprintf(ew, "  %-5s %s  %s: %s\n", c.Status, c.Name, safe(c.Subject), safe(c.Detail))
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
		fmt.Fprintf(w, "  %-11s %s: %s\n", e.Kind, safe(p), safe(e.Error))
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

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// safe makes a string from a delivery harmless on a terminal: control characters
// (escape sequences, carriage returns, newlines) are written as \xNN.
func safe(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			fmt.Fprintf(&b, `\x%02x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

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
