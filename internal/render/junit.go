package render

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"kensa.dev/kensa/internal/result"
)

// JUnit writes the checks and findings of res as a JUnit XML report, the format CI
// systems show as test results: one test suite of checks (a failed or undecided check is
// a failure or an error) and one of findings (a finding at or above threshold that no
// waiver accepts is a failure; the others pass with their text as output).
func JUnit(w io.Writer, res *result.Result, threshold result.Severity) error {
	type failure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		ClassName string   `xml:"classname,attr"`
		Failure   *failure `xml:"failure,omitempty"`
		Error     *failure `xml:"error,omitempty"`
		Skipped   *failure `xml:"skipped,omitempty"`
		SystemOut string   `xml:"system-out,omitempty"`
	}
	type testsuite struct {
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Errors   int        `xml:"errors,attr"`
		Skipped  int        `xml:"skipped,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	type testsuites struct {
		XMLName xml.Name    `xml:"testsuites"`
		Name    string      `xml:"name,attr"`
		Suites  []testsuite `xml:"testsuite"`
	}
	checks := testsuite{Name: "kensa checks"}
	for _, c := range res.Checks {
		tc := testcase{Name: safeXML(c.Name + " " + c.Subject), ClassName: safeXML(c.Name)}
		f := &failure{Message: safeXML(truncate(c.Detail, 200)), Type: safeXML(c.Status), Text: safeXML(c.Detail)}
		switch c.Status {
		case result.Fail:
			tc.Failure = f
			checks.Failures++
		case result.Erred:
			tc.Error = f
			checks.Errors++
		case result.Skip:
			tc.Skipped = f
			checks.Skipped++
		default:
			tc.SystemOut = safeXML(c.Detail)
		}
		checks.Cases = append(checks.Cases, tc)
	}
	checks.Tests = len(checks.Cases)
	findings := testsuite{Name: "kensa findings"}
	for _, f := range res.Findings {
		lines := []string{f.Message}
		lines = append(lines, f.Evidence...)
		text := safeLines(lines)
		tc := testcase{Name: safeXML(f.Rule + " " + f.Path), ClassName: safeXML(f.Rule)}
		if f.Severity.Rank() >= threshold.Rank() && f.Waiver == nil {
			tc.Failure = &failure{Message: safeXML(fmt.Sprintf("%s: %s", f.Severity, truncate(f.Message, 200))), Type: safeXML(string(f.Severity)), Text: text}
			findings.Failures++
		} else {
			tc.SystemOut = safeXML(string(f.Severity)) + ": " + text
		}
		findings.Cases = append(findings.Cases, tc)
	}
	findings.Tests = len(findings.Cases)
	for _, e := range res.Errors {
		findings.Cases = append(findings.Cases, testcase{Name: safeXML("inspect " + e.Path), ClassName: "kensa/error",
			Error: &failure{Message: safeXML(e.Error), Type: safeXML(e.Kind), Text: safeXML(e.Error)}})
		findings.Errors++
		findings.Tests++
	}
	doc := testsuites{Name: "kensa " + safeXML(res.Target.Input), Suites: []testsuite{checks, findings}}
	ew := &errWriter{w: w}
	io.WriteString(ew, xml.Header)
	enc := xml.NewEncoder(ew)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	io.WriteString(ew, "\n")
	return ew.err
}

// safeXML makes one line of text from a delivery fit for XML 1.0 and for the logs and
// pages CI systems show it in: control and format characters and invalid UTF-8 become
// visible escapes (see safe), which XML can carry; the encoder escapes markup.
func safeXML(s string) string { return safe(s) }

// safeLines makes each line safe and joins them with newlines.
func safeLines(lines []string) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = safe(l)
	}
	return strings.Join(out, "\n")
}
