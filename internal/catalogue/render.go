package main

import (
	"bytes"
	"fmt"
	"strings"

	"kensa.dev/kensa/internal/limits"
)

// Markers delimit the generated part of the document.
const (
	BeginMarker = "<!-- catalogue:begin -->"
	EndMarker   = "<!-- catalogue:end -->"
)

// Render writes the census as Markdown: a table with one line per series, then one line
// per catalogue row with its tests and status. Package paths are shown without the module's
// prefix (e.g. "kensa.dev/kensa/").
func Render(c *Census, module string) string {
	var b strings.Builder
	b.WriteString("| series | rows that apply | rows with tests | rows as specified | tests | not applicable | memory of kensa's process tree (peak, bound) |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---|\n")
	var all [4]int
	distinct := map[Test]bool{} // a test covering rows of two series counts once in all
	for _, s := range c.Series {
		rows, tested, ok, tests := s.Counts()
		na := len(s.Rows) - rows
		fmt.Fprintf(&b, "| %s — %s | %d | %d | %d | %d | %d | %s |\n", s.Series.Letter, cell(s.Series.Name), rows, tested, ok, tests, na, treeCell(s))
		all[0] += rows
		all[1] += tested
		all[2] += ok
		all[3] += na
		for _, r := range s.Rows {
			for _, t := range r.Tests {
				distinct[t] = true
			}
		}
	}
	fmt.Fprintf(&b, "| all | %d | %d | %d | %d | %d | |\n", all[0], all[1], all[2], len(distinct), all[3])
	b.WriteString("\nEach row of the catalogue, what it expects, and the tests that cover it:\n\n")
	b.WriteString("| ID | input → expected | tests | status |\n")
	b.WriteString("|---|---|---|---|\n")
	for _, s := range c.Series {
		for _, r := range s.Rows {
			var tests []string
			for _, t := range r.Tests {
				pkg := strings.TrimPrefix(strings.TrimPrefix(t.Package, module), "/")
				if pkg == "" {
					pkg = t.Package
				}
				name := "`" + strings.ReplaceAll(t.Name, "`", "'") + "`"
				switch t.Status {
				case Failed:
					name += " (failed)"
				case Skipped:
					name += " (skipped)"
				}
				tests = append(tests, cell(pkg)+" "+cell(name))
			}
			fmt.Fprintf(&b, "| %s | %s → %s | %s | %s |\n", r.Row.ID, cell(r.Row.Input), cell(r.Row.Expected), strings.Join(tests, "<br>"), cell(r.Status()))
		}
	}
	return b.String()
}

// treeCell says how much memory kensa and its workers took together at most in the
// series' tests that ran kensa and measured it, against the bound of that test.
func treeCell(s SeriesResult) string {
	peak, bound, n := s.TreePeak()
	if n == 0 {
		return "not measured: no test runs kensa on this series"
	}
	return fmt.Sprintf("%s of %s (%d tests)", limits.HumanSize(peak), limits.HumanSize(bound), n)
}

// cell makes s safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Join(strings.Fields(s), " ")
}

// Splice replaces what lies between the markers of doc with table. With no doc at all
// it returns a minimal document holding the markers.
func Splice(doc []byte, table string) ([]byte, error) {
	if doc == nil {
		doc = []byte("# Security\n\n" + BeginMarker + "\n" + EndMarker + "\n")
	}
	begin := bytes.Index(doc, []byte(BeginMarker))
	end := bytes.Index(doc, []byte(EndMarker))
	if begin < 0 || end < 0 || end < begin || bytes.Count(doc, []byte(BeginMarker)) != 1 || bytes.Count(doc, []byte(EndMarker)) != 1 {
		return nil, fmt.Errorf("the document needs one %s line followed by one %s line, where the table goes", BeginMarker, EndMarker)
	}
	var out bytes.Buffer
	out.Write(doc[:begin+len(BeginMarker)])
	out.WriteString("\n")
	out.WriteString(table)
	out.Write(doc[end:])
	return out.Bytes(), nil
}
