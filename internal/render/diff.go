package render

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"

	"kensa.dev/kensa/diff"
	"kensa.dev/kensa/internal/result"
)

// DiffJSON writes a diff report as the kensa.dev/diff/v1 document.
func DiffJSON(w io.Writer, r *diff.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func sideLine(s diff.Side) string {
	line := fmt.Sprintf("%s (%s", safe(s.Input), safe(s.From))
	if s.Target.Kind != "" {
		line += ", " + safe(s.Target.Kind)
	}
	if s.Target.Digest != "" {
		line += ", " + safe(short(s.Target.Digest))
	}
	return line + fmt.Sprintf(", %d artifacts)", s.Artifacts)
}

func riskCounts(r *diff.Report) string {
	var parts []string
	for i := len(result.Severities) - 1; i >= 0; i-- {
		s := result.Severities[i]
		parts = append(parts, fmt.Sprintf("%d %s", r.Summary.Risk[s], s))
	}
	return strings.Join(parts, ", ")
}

func countLine(r *diff.Report) string {
	f, c, x := r.Summary.Files, r.Summary.Components, r.Summary.Findings
	return fmt.Sprintf("files: %d added, %d removed, %d changed, %d renamed, %d unchanged; components: %d added, %d removed, %d upgraded, %d downgraded, %d rebuilt; findings: %d new, %d gone, %d changed",
		f.Added, f.Removed, f.Changed, f.Renamed, f.Unchanged, c.Added, c.Removed, c.Upgraded, c.Downgraded, c.Rebuilt, x.New, x.Gone, x.Changed)
}

// DiffText writes a diff report for a terminal: the ranked changes with their details,
// then what was not compared and what could not be inspected.
func DiffText(w io.Writer, r *diff.Report) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "old  %s\nnew  %s\n\n", sideLine(r.Old), sideLine(r.New))
	fmt.Fprintf(ew, "%s\nrisk: %s\n", countLine(r), riskCounts(r))
	if r.MinRisk != "" {
		fmt.Fprintf(ew, "listed: %d changes at or above %s\n", r.Summary.Listed, safe(string(r.MinRisk)))
	}
	if len(r.Changes) > 0 {
		fmt.Fprintf(ew, "\nCHANGES (highest risk first)\n")
	}
	for _, c := range r.Changes {
		fmt.Fprintf(ew, "  %3d %-8s %-18s %s\n", c.Risk, safe(string(c.Level)), safe(c.Kind), safe(c.Summary))
		for _, d := range c.Details {
			fmt.Fprintf(ew, "                                 %s\n", safe(d))
		}
	}
	if len(r.NotCompared) > 0 {
		fmt.Fprintf(ew, "\nNOT COMPARED\n")
		for _, n := range r.NotCompared {
			fmt.Fprintf(ew, "  %s\n", safe(n))
		}
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(ew, "\nNOT INSPECTED FULLY (%d): a change there cannot be ruled out\n", len(r.Errors))
		writeErrors(ew, r.Errors)
	}
	return ew.err
}

// DiffMarkdown writes a diff report as Markdown.
func DiffMarkdown(w io.Writer, r *diff.Report) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "# kensa diff\n\n- old: %s\n- new: %s\n- %s\n- risk: %s\n", md(sideLine(r.Old)), md(sideLine(r.New)), md(countLine(r)), riskCounts(r))
	if r.MinRisk != "" {
		fmt.Fprintf(ew, "- listed: %d changes at or above %s\n", r.Summary.Listed, md(string(r.MinRisk)))
	}
	if len(r.Changes) > 0 {
		fmt.Fprintf(ew, "\n## Changes, highest risk first\n\n| risk | level | kind | change | details |\n|---:|---|---|---|---|\n")
	}
	for _, c := range r.Changes {
		var d []string
		for _, x := range c.Details {
			d = append(d, md(x))
		}
		fmt.Fprintf(ew, "| %d | %s | %s | %s | %s |\n", c.Risk, md(string(c.Level)), md(c.Kind), md(c.Summary), strings.Join(d, "<br>"))
	}
	if len(r.NotCompared) > 0 {
		fmt.Fprintf(ew, "\n## Not compared\n\n")
		for _, n := range r.NotCompared {
			fmt.Fprintf(ew, "- %s\n", md(n))
		}
	}
	mdErrors(ew, r.Errors)
	return ew.err
}

var diffPage = template.Must(template.New("diff").Funcs(template.FuncMap{
	"side": sideLine, "counts": countLine, "risk": riskCounts, "safe": safe,
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>kensa diff</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#111}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}
.critical{background:#7a0000;color:#fff}.high{background:#d9480f;color:#fff}.medium{background:#f2c94c}.low{background:#e7f0fa}.info{background:#f4f4f4}
ul{margin:0;padding-left:1.2em}code{font-size:12px;word-break:break-all}
</style></head><body>
<h1>kensa diff</h1>
<p>old: <code>{{side .Old}}</code><br>new: <code>{{side .New}}</code></p>
<p>{{counts .}}<br>risk: {{risk .}}{{if .MinRisk}}<br>listed: {{.Summary.Listed}} changes at or above {{safe (printf "%s" .MinRisk)}}{{end}}</p>
{{if .Changes}}<h2>Changes, highest risk first</h2>
<table><tr><th>risk</th><th>level</th><th>kind</th><th>change</th><th>details</th></tr>
{{range .Changes}}<tr><td>{{.Risk}}</td><td class="{{safe (printf "%s" .Level)}}">{{safe (printf "%s" .Level)}}</td><td>{{safe .Kind}}</td><td>{{safe .Summary}}</td><td>{{if .Details}}<ul>{{range .Details}}<li>{{safe .}}</li>{{end}}</ul>{{end}}</td></tr>
{{end}}</table>{{end}}
{{if .NotCompared}}<h2>Not compared</h2><ul>{{range .NotCompared}}<li>{{safe .}}</li>{{end}}</ul>{{end}}
{{if .Errors}}<h2>Not inspected fully</h2><table><tr><th>kind</th><th>path</th><th>error</th></tr>
{{range .Errors}}<tr><td>{{safe .Kind}}</td><td><code>{{safe .Path}}</code></td><td>{{safe .Error}}</td></tr>{{end}}</table>{{end}}
</body></html>
`))

// DiffHTML writes a diff report as one self-contained HTML page.
func DiffHTML(w io.Writer, r *diff.Report) error {
	return diffPage.Execute(w, r)
}
