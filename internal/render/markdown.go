package render

import (
	"fmt"
	"io"
	"strings"

	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// Markdown writes res as a Markdown report: the targets, a summary, the findings with
// their evidence, and what could not be inspected. Text from the delivery is escaped so
// that it cannot inject Markdown or HTML.
func Markdown(w io.Writer, res *result.Result, rules []RuleInfo) error {
	ew := &errWriter{w: w}
	titles := map[string]RuleInfo{}
	for _, r := range rules {
		titles[r.ID] = r
	}
	if res.Verdict != "" {
		fmt.Fprintf(ew, "# kensa accept: %s\n\n", md(strings.ToUpper(res.Verdict)))
	} else {
		fmt.Fprintf(ew, "# kensa scan\n\n")
	}
	targets := res.Targets
	if len(targets) == 0 {
		targets = []result.Target{res.Target}
	}
	fmt.Fprintf(ew, "| target | kind | digest |\n|---|---|---|\n")
	for _, t := range targets {
		fmt.Fprintf(ew, "| %s | %s | `%s` |\n", md(t.Input), md(t.Kind), code(t.Digest))
	}
	s := res.Summary
	fmt.Fprintf(ew, "\n%d artifacts (%d files, %s), **%d findings**, **%d errors**; kensa %s.\n",
		s.Artifacts, s.Files, limits.HumanSize(s.Bytes), s.Findings, s.Errors, md(res.Tool.Version))

	if p := res.Policy; p != nil {
		file := p.File
		if file == "" {
			file = "the built-in default policy"
		}
		fmt.Fprintf(ew, "\nPolicy: %s `%s`, failing at %s.\n", md(file), codeText(p.Digest), md(p.FailOn))
	}
	if len(res.Reasons) > 0 {
		fmt.Fprintf(ew, "\n## Why it fails\n\n")
		for _, r := range res.Reasons {
			fmt.Fprintf(ew, "- %s\n", md(r))
		}
	}
	if len(res.NotChecked) > 0 {
		fmt.Fprintf(ew, "\n## Not checked\n\n")
		for _, r := range res.NotChecked {
			fmt.Fprintf(ew, "- %s\n", md(r))
		}
	}
	if len(res.Checks) > 0 {
		fmt.Fprintf(ew, "\n## Checks\n\n| status | check | subject | detail |\n|---|---|---|---|\n")
		for _, c := range res.Checks {
			fmt.Fprintf(ew, "| %s | `%s` | `%s` | %s |\n", md(c.Status), code(c.Name), code(c.Subject), md(c.Detail))
		}
	}
	if len(res.Findings) > 0 {
		counts := map[result.Severity]int{}
		for _, f := range res.Findings {
			counts[f.Severity]++
		}
		fmt.Fprintf(ew, "\n## Findings\n\n| severity | count |\n|---|---|\n")
		for _, sev := range []result.Severity{result.Critical, result.High, result.Medium, result.Low, result.Info} {
			if counts[sev] > 0 {
				fmt.Fprintf(ew, "| %s | %d |\n", sev, counts[sev])
			}
		}
		fmt.Fprintf(ew, "\n| severity | rule | file | finding |\n|---|---|---|---|\n")
		for _, f := range res.Findings {
			fmt.Fprintf(ew, "| %s | `%s` | `%s` | %s |\n", md(string(f.Severity)), code(f.Rule), code(f.Path), md(f.Message))
		}
		for _, f := range res.Findings {
			fmt.Fprintf(ew, "\n### %s: %s\n\n", md(f.Rule), md(f.Message))
			fmt.Fprintf(ew, "- file: `%s`\n- severity: %s\n", codeText(f.Path), md(string(f.Severity)))
			if r, ok := titles[f.Rule]; ok {
				fmt.Fprintf(ew, "- why: %s\n", md(strings.Join(strings.Fields(r.Description), " ")))
				if len(r.References) > 0 {
					fmt.Fprintf(ew, "- references: %s\n", md(strings.Join(r.References, ", ")))
				}
			}
			if len(f.Evidence) > 0 {
				fmt.Fprintf(ew, "- evidence:\n")
				for _, e := range f.Evidence {
					fmt.Fprintf(ew, "  - `%s`\n", codeText(e))
				}
			}
		}
	}
	mdErrors(ew, res.Errors)
	return ew.err
}

// mdErrors writes the table of what could not be inspected fully.
func mdErrors(w io.Writer, errs []result.Error) {
	if len(errs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## Not inspected fully (%d)\n\n| kind | path | error |\n|---|---|---|\n", len(errs))
	for _, e := range errs {
		fmt.Fprintf(w, "| %s | `%s` | %s |\n", md(e.Kind), code(e.Path), md(e.Error))
	}
}

// mdEscaper escapes what Markdown (CommonMark with GitHub's extensions) would read as
// markup: emphasis, code, links and images, raw HTML and entities, table cell
// separators, math; and it breaks the patterns GitHub turns into links by themselves
// (http://…, www.…, e-mail addresses and @mentions) with a backslash, which renders as
// nothing.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "<", "&lt;", ">", "&gt;", "&", "&amp;", "*", `\*`, "_", `\_`, "`", "\\`",
	"[", `\[`, "]", `\]`, "~", `\~`, "$", `\$`, "@", `\@`, "://", `\://`,
	"www.", `www\.`, "WWW.", `WWW\.`, "Www.", `Www\.`, "\n", " ")

// md escapes text for a Markdown table cell, list item, heading or paragraph: control
// and format characters become visible escapes (see safe) and markup is escaped, so that
// text from a delivery stays text.
func md(s string) string {
	return mdEscaper.Replace(safe(s))
}

// code prepares text for an inline code span in a table cell: no backticks, newlines or
// pipes. GitHub splits cells at a pipe even inside a code span, and Markdown readers
// disagree on whether "\\|" there is an escaped pipe, so a pipe is written as \x7c,
// the escape kensa uses for the characters of a name it cannot show.
func code(s string) string {
	return strings.ReplaceAll(codeText(s), "|", `\x7c`)
}

// codeText prepares text for an inline code span outside a table: a backtick would end
// the span, so it becomes "'"; control and format characters become visible escapes.
func codeText(s string) string {
	if s == "" {
		return " " // "``" would be two backticks, not an empty span
	}
	return strings.ReplaceAll(safe(s), "`", "'")
}

// MarkdownText escapes text from a delivery for a Markdown paragraph, list item or table
// cell, and MarkdownCode for an inline code span in a table cell (without the backticks),
// for the reports that other packages write.
func MarkdownText(s string) string { return md(s) }

// MarkdownCode: see MarkdownText.
func MarkdownCode(s string) string { return code(s) }
