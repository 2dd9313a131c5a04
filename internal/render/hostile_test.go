package render

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/sys/unix"

	"kensa.dev/kensa/diff"
	"kensa.dev/kensa/internal/result"
)

// payloads are what a delivery can put in a name or a string kensa reports (catalogue
// G7): terminal escapes (colour, OSC 8 hyperlink, window title), line breaks, NUL,
// invalid UTF-8, C1 controls, bidirectional and other invisible format characters, and
// the markup of every output format.
var payloads = []string{
	"\x1b[31mred\x1b[0m",
	"\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
	"\x1b]0;owned\x07",
	"cr\rlf\nnul\x00del\x7f",
	"bad\xff\xfeutf8\xe3\x81",
	"c1\u009b31m raw\x9b31m",
	"rlo\u202egpj.exe lri\u2066 zw\u200b bom\ufeff tag\U000E0041 ls\u2028ps\u2029",
	"<script>alert(1)</script>",
	"</script></td></tr></table><!-- ]]> -->",
	`"><img src=x onerror=alert(2)>`,
	`'><svg onload=alert(3)>`,
	"javascript:alert(4)",
	`{{.}} {{template "x"}} {0} }}`,
	"<![CDATA[x]]>",
	"| a | b |",
	"`code` ``x``",
	"[x](javascript:alert(5)) ![i](http://evil.example/i.png) <http://evil.example/a>",
	"http://evil.example/x www.evil.example user@evil.example @someone",
	"&lt;script&gt; &#x202E; &amp;",
	"*em* _em_ ~~s~~ $x$ # h",
	`\|`, `\\|`, `a\`,
}

var hostileText = strings.Join(payloads, " ")

// longName is a 64 KB file name.
var longName = strings.Repeat("A", 64<<10) + ".exe"

// fill gives the value of a string field of a result.
type fill func(field string) string

func benign(field string) string  { return "benign-" + field }
func hostile(field string) string { return field + " " + hostileText }

// sample builds a result with every string a delivery can influence set by v. With
// enums, the severities, statuses, kinds and the verdict come from v too; without, they
// are valid values (so that the reports show everything).
func sample(v fill, enums bool) *result.Result {
	sev, fail, skip, verdict, kind := result.High, result.Fail, result.Skip, "fail", result.KindUnsafe
	if enums {
		sev, fail, skip, verdict, kind = result.Severity(v("severity")), v("status"), v("status"), v("verdict"), v("kind")
	}
	layer := 0
	return &result.Result{
		SchemaVersion: result.SchemaVersion,
		Tool:          result.Tool{Name: "kensa", Version: v("version"), Commit: v("commit")},
		Target: result.Target{Input: v("input"), Kind: v("target-kind"), Digest: v("digest"),
			Image: &result.Image{Reference: v("reference"), Platform: v("platform"), RepoTags: []string{v("tag")},
				Layers: []result.Layer{{Index: 0, Digest: v("layer-digest"), DiffID: v("diffid"), CreatedBy: v("created-by")}}}},
		Scope:   "all-layers",
		Summary: result.Summary{Artifacts: 3, Files: 3, Bytes: 3000, Findings: 3, Errors: 1},
		Artifacts: []result.Artifact{
			{Path: v("path"), Type: "file", Format: v("format"), Interpreter: v("interpreter"), Size: 1000, Mode: "0755",
				Digest: "sha256:" + strings.Repeat("ab", 32), Layer: &layer, Xattrs: []string{v("xattr")}, Anomalies: []string{v("anomaly")},
				Facts: map[string]any{"strings": map[string]any{v("fact-key"): v("fact-value"), "urls": []any{v("url")}, "nested": []any{map[string]any{v("k"): v("x")}}}},
				Profile: &result.Profile{Network: []string{v("network")}, Signers: []string{v("signer")},
					Sections: []result.SectionProfile{{Name: v("section"), Size: 10}}}},
			{Path: v("link"), Type: "symlink", LinkTarget: v("link-target"), Mode: "0777", Format: "symlink", Layer: &layer},
			{Path: longName, Type: "file", Format: "pe", Size: 2000, Mode: "0644", Digest: "sha256:" + strings.Repeat("cd", 32), Layer: &layer},
		},
		Findings: []result.Finding{
			{Rule: "policy/undeclared-endpoint", Severity: sev, Path: v("path"), Message: v("message"),
				Evidence: []string{v("evidence"), v("evidence2")},
				Matches:  []result.Match{{Pattern: v("pattern"), Offset: 12, Length: 5, Section: v("section")}}},
			{Rule: "hardening/pe-without-cfg", Severity: sev, Path: longName, Message: v("long-message"),
				Waiver: &result.Waiver{Reason: v("reason"), Approver: v("approver"), Expires: v("expires")}},
			{Rule: v("rule"), Severity: result.Info, Path: v("info-path"), Message: v("info-message")},
		},
		Checks: []result.Check{
			{Name: "signature/authenticode", Subject: v("subject"), Status: fail, Detail: v("detail")},
			{Name: v("check-name"), Subject: v("subject2"), Status: skip, Detail: v("detail2")},
		},
		Errors:     []result.Error{{Path: v("error-path"), Kind: kind, Error: v("error")}},
		Verdict:    verdict,
		Reasons:    []string{"high finding policy/undeclared-endpoint: " + v("reason-text"), v("reason2")},
		NotChecked: []string{NoProvenance, v("not-checked")},
		Policy:     &result.PolicyRef{File: v("policy-file"), Digest: v("policy-digest"), FailOn: "high"},
		Components: []result.Component{{Name: v("component"), Version: v("component-version"), Type: "deb", PURL: v("purl"), Files: []string{v("component-file")}}},
		Baseline: &result.BaselineRef{File: v("baseline-file"), Digest: v("baseline-digest"),
			Target: result.Target{Input: v("baseline-input"), Kind: "dir"}, Changes: map[string]int{"high": 1}},
	}
}

func sampleRules(v fill) []RuleInfo {
	return []RuleInfo{
		{ID: "policy/undeclared-endpoint", Title: v("title"), Description: v("description"), Severity: result.High,
			References: []string{v("reference"), v("reference"), "https://example.com/ref"}},
		{ID: "hardening/pe-without-cfg", Title: "No CFG", Description: "Built without CFG.", Severity: result.Info},
	}
}

func sampleExtras(v fill) ReportExtras {
	return ReportExtras{Lang: English, Components: map[string]int{v("component-type"): 2}, Executables: 2, Unaccounted: 1,
		Generated: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
}

func sampleDiff(v fill, enums bool) *diff.Report {
	level, kind := result.Critical, diff.FileChanged
	if enums {
		level, kind = result.Severity(v("level")), v("change-kind")
	}
	side := func(name string) diff.Side {
		return diff.Side{Input: v(name + "-input"), From: "result", Target: result.Target{Input: v(name), Kind: v(name + "-kind"), Digest: v(name + "-digest")}, Artifacts: 3}
	}
	return &diff.Report{
		SchemaVersion: diff.SchemaVersion, Tool: result.Tool{Name: "kensa", Version: v("version")},
		Old: side("old"), New: side("new"), MinRisk: result.Low,
		Summary: diff.Summary{Risk: map[result.Severity]int{result.Critical: 2}, Listed: 2},
		Changes: []diff.Change{
			{Kind: kind, Risk: 94, Level: level, Path: v("path"), OldPath: v("old-path"), Subject: v("subject"), Summary: v("summary"),
				Details: []string{v("detail"), v("detail2")}, Old: v("old"), New: v("new")},
			{Kind: diff.ComponentAdded, Risk: 90, Level: result.Critical, Path: longName, Summary: v("summary2")},
		},
		NotCompared: []string{v("not-compared")},
		Errors:      []result.Error{{Path: v("error-path"), Kind: result.KindMalformed, Error: v("error")}},
	}
}

// outputs renders every format of the result and of the diff.
func outputs(v fill, enums bool) (map[string][]byte, error) {
	res, rules, x, rep := sample(v, enums), sampleRules(v), sampleExtras(v), sampleDiff(v, enums)
	facts := &result.Facts{Artifacts: res.Artifacts, Analyzers: []string{"strings"}, Errors: res.Errors}
	writers := map[string]func(io.Writer) error{
		"json":          func(w io.Writer) error { return JSON(w, res) },
		"text":          func(w io.Writer) error { return Text(w, res) },
		"markdown":      func(w io.Writer) error { return Markdown(w, res, rules) },
		"sarif":         func(w io.Writer) error { return SARIF(w, res, rules) },
		"junit":         func(w io.Writer) error { return JUnit(w, res, result.High) },
		"html":          func(w io.Writer) error { return HTML(w, res, x) },
		"html-ja":       func(w io.Writer) error { x := x; x.Lang = Japanese; return HTML(w, res, x) },
		"facts-json":    func(w io.Writer) error { return FactsJSON(w, facts) },
		"facts-text":    func(w io.Writer) error { return FactsText(w, facts) },
		"diff-json":     func(w io.Writer) error { return DiffJSON(w, rep) },
		"diff-text":     func(w io.Writer) error { return DiffText(w, rep) },
		"diff-markdown": func(w io.Writer) error { return DiffMarkdown(w, rep) },
		"diff-html":     func(w io.Writer) error { return DiffHTML(w, rep) },
	}
	out := map[string][]byte{}
	for name, write := range writers {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = b.Bytes()
	}
	return out, nil
}

// TestHostileOutputs renders a result and a diff whose every string from the delivery is
// hostile, in every format, and checks each against what its readers need (G7).
func TestHostileOutputs(t *testing.T) {
	for _, enums := range []bool{false, true} {
		outs, err := outputs(hostile, enums)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprintf("enums=%v", enums), func(t *testing.T) {
			for _, name := range []string{"json", "facts-json", "diff-json"} {
				checkJSON(t, name, outs[name])
			}
			checkSARIF(t, outs["sarif"])
			checkJUnit(t, outs["junit"])
			for _, name := range []string{"text", "facts-text", "diff-text"} {
				checkText(t, name, outs[name])
			}
			checkMarkdown(t, "markdown", outs["markdown"], false)
			checkMarkdown(t, "diff-markdown", outs["diff-markdown"], true)
			for _, name := range []string{"html", "html-ja", "diff-html"} {
				checkHTML(t, name, outs[name])
			}
		})
	}
}

// TestHostileHTMLStructure checks that hostile text changes no element of the HTML pages:
// they have the same elements, in the same order, as with harmless text.
func TestHostileHTMLStructure(t *testing.T) {
	bad, err := outputs(hostile, false)
	if err != nil {
		t.Fatal(err)
	}
	good, err := outputs(benign, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"html", "html-ja", "diff-html"} {
		want, got := elements(t, good[name]), elements(t, bad[name])
		if !slices.Equal(want, got) {
			t.Errorf("%s: hostile text changed the page's elements:\n got %v\nwant %v", name, got, want)
		}
	}
}

// TestHostileHTMLInChromium opens the hostile pages in headless Chromium (Debian's
// chromium package): the DOM the browser builds has no element, attribute or script the
// templates do not write, shows the hostile text as text, and the page logs nothing to
// the console (a blocked inline script or handler would).
func TestHostileHTMLInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed (Debian package chromium); .ci/run installs it")
	}
	outs, err := outputs(hostile, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"html", "html-ja", "diff-html"} {
		dir := t.TempDir()
		page := filepath.Join(dir, name+".html")
		if err := os.WriteFile(page, outs[name], 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir="+filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0",
			"--virtual-time-budget=2000", "--dump-dom", "file://"+page)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		dom, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: chromium: %v\n%s", name, err, stderr.Bytes())
		}
		checkHTML(t, name+" in chromium", dom)
		if strings.Contains(stderr.String(), "CONSOLE") {
			t.Errorf("%s: console messages while rendering:\n%s", name, stderr.String())
		}
	}
}

// TestRenderersWriteOnlyToTheirWriter captures the process's standard output and error at
// the descriptor level while every format is rendered: nothing may land there, so that a
// machine-readable stdout stays one document (G8).
func TestRenderersWriteOnlyToTheirWriter(t *testing.T) {
	var captured [2][]byte
	var renderErr error
	for i, fd := range []int{1, 2} {
		f, err := os.CreateTemp(t.TempDir(), "render-fd-")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		saved, err := unix.Dup(fd)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Dup2(int(f.Fd()), fd); err != nil {
			t.Fatal(err)
		}
		// No t.Log or subtest in between: with -v they would write to fd 1.
		defer func() {
			if err := unix.Dup2(saved, fd); err != nil {
				panic(err)
			}
			unix.Close(saved)
			captured[i], _ = os.ReadFile(f.Name())
		}()
	}
	func() {
		_, renderErr = outputs(hostile, false)
		if renderErr == nil {
			_, renderErr = outputs(hostile, true)
		}
	}()
	// The deferred restores run at return; check in a cleanup after them.
	t.Cleanup(func() {
		if renderErr != nil {
			t.Error(renderErr)
		}
		for i, b := range captured {
			if len(b) > 0 {
				t.Errorf("rendering wrote %d bytes to fd %d: %q", len(b), i+1, truncate(string(b), 200))
			}
		}
	})
}

// TestLongNamesDoNotWidenTheTable renders 200 artifacts beside one with a 64 KB name: the
// text table must not pad every row to the long name.
func TestLongNamesDoNotWidenTheTable(t *testing.T) {
	res := &result.Result{Target: result.Target{Input: "d", Kind: "dir"}}
	res.Artifacts = append(res.Artifacts, result.Artifact{Path: longName, Type: "file", Format: "pe", Mode: "0644"})
	for i := range 200 {
		res.Artifacts = append(res.Artifacts, result.Artifact{Path: fmt.Sprintf("f%03d", i), Type: "file", Format: "text", Mode: "0644"})
	}
	var b bytes.Buffer
	if err := Text(&b, res); err != nil {
		t.Fatal(err)
	}
	if b.Len() > 200*(textCell+100) {
		t.Errorf("the text form of 201 artifacts is %d bytes: rows are padded to the long name", b.Len())
	}
	if !strings.Contains(b.String(), "AAA…AAA") || !strings.Contains(b.String(), "AAAA.exe") {
		t.Error("the long name is not shown by its start and its end")
	}
}

func TestSafe(t *testing.T) {
	for in, want := range map[string]string{
		"plain 日本語":                "plain 日本語",
		"\x1b[31m":                 `\x1b[31m`,
		"a\r\nb\tc\x00":            `a\x0d\x0ab\x09c\x00`,
		"\xff\xfe ok \xe3\x81":     `\xff\xfe ok \xe3\x81`,
		"\u009b \x9b":              `\x9b \x9b`,
		"in\u202evoice \u2066":     `in\u202evoice \u2066`,
		"\u200b\ufeff\u2028\u2029": `\u200b\ufeff\u2028\u2029`,
		"tag\U000E0041":            `tag\U000e0041`,
		`already\x1b`:              `already\x1b`,
	} {
		if got := safe(in); got != want {
			t.Errorf("safe(%q) = %q, want %q", in, got, want)
		}
	}
	if got := truncate("日本語", 4); got != "日…" {
		t.Errorf("truncate cut inside a character: %q", got)
	}
}

func TestArtifactURI(t *testing.T) {
	for in, want := range map[string]string{
		"agentd":                  "agentd",
		"a.tar!bin/x y":           "a.tar!bin/x%20y",
		"javascript:alert(1)":     "javascript%3Aalert%281%29",
		"//evil.example/x":        ".//evil.example/x",
		"/etc/passwd":             "./etc/passwd",
		"../../etc/passwd":        "%2E%2E/%2E%2E/etc/passwd",
		"a/./b?c#d":               "a/%2E/b%3Fc%23d",
		"C:\\x":                   "C%3A%5Cx",
		"bad-\\xff\\xfe-utf8.txt": "bad-%5Cxff%5Cxfe-utf8.txt",
		"a.tar!javascript:x!y":    "a.tar!javascript%3Ax!y",
	} {
		got := artifactURI(in)
		if got != want {
			t.Errorf("artifactURI(%q) = %q, want %q", in, got, want)
		}
		checkURIReference(t, got)
	}
}

func TestSARIFMessage(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                    "plain",
		"[x](javascript:alert(1))": `\[x\](javascript:alert(1))`,
		`a\](y)`:                   `a\\\](y)`,
		`\x1b [0]`:                 `\x1b \[0\]`,
		"{0} {{x}}":                "{{0}} {{{{x}}}}",
		"\x1b[1m":                  `\x1b\[1m`,
	} {
		got := sarifMessage(in)
		if got != want {
			t.Errorf("sarifMessage(%q) = %q, want %q", in, got, want)
		}
		if links := sarifLinks(got); len(links) > 0 {
			t.Errorf("sarifMessage(%q) = %q holds embedded links %q", in, got, links)
		}
	}
}

// --- checks -------------------------------------------------------------------------

// invisible reports a character a reader of the output would not see for what it is.
func invisible(r rune) bool {
	return (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) ||
		unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// checkVisible checks that s is valid UTF-8 without control or format characters.
func checkVisible(t *testing.T, name, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s: not valid UTF-8", name)
	}
	if i := strings.IndexFunc(s, invisible); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		t.Errorf("%s: carries %U at byte %d: …%q…", name, r, i, s[max(0, i-40):min(len(s), i+40)])
	}
}

func checkJSON(t *testing.T, name string, b []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: not JSON: %v", name, err)
	}
	if dec.More() {
		t.Errorf("%s: data after the document", name)
	}
	// JSON keeps the values exactly (it is what programs read); the escapes are JSON's.
	if !bytes.Contains(b, []byte(`rlo\u202egpj.exe`)) && !bytes.Contains(b, []byte("rlo\u202egpj.exe")) {
		t.Errorf("%s: the right-to-left override was not kept as it is", name)
	}
	if bytes.ContainsAny(b, "\x1b\r\x00") {
		t.Errorf("%s: raw control bytes", name)
	}
}

// sarifLinks finds the embedded links of a SARIF plain text message (§3.11.6): an
// unescaped "[", link text, an unescaped "](", a destination and ")".
func sarifLinks(s string) []string {
	var links []string
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '[':
			for j := i + 1; j < len(s); j++ {
				if s[j] == '\\' {
					j++
					continue
				}
				if s[j] == '[' {
					break
				}
				if s[j] == ']' {
					if strings.HasPrefix(s[j:], "](") {
						links = append(links, s[i:min(len(s), j+20)])
					}
					break
				}
			}
		}
	}
	return links
}

// checkURIReference checks that u is a relative reference within the base: no scheme, no
// authority, no climbing.
func checkURIReference(t *testing.T, u string) {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Errorf("uri %q: %v", truncate(u, 80), err)
		return
	}
	if p.Scheme != "" || p.Host != "" || p.Opaque != "" || strings.HasPrefix(u, "/") || p.RawQuery != "" || p.Fragment != "" {
		t.Errorf("uri %q is not a relative path reference", truncate(u, 80))
	}
	for _, seg := range strings.Split(u, "/") {
		if seg == ".." {
			t.Errorf("uri %q climbs out of the base", truncate(u, 80))
		}
	}
	if strings.ContainsFunc(u, func(r rune) bool { return r <= 0x20 || r >= 0x7f }) {
		t.Errorf("uri %q has characters a URI may not carry unencoded", truncate(u, 80))
	}
}

func checkSARIF(t *testing.T, b []byte) {
	t.Helper()
	checkJSONDoc(t, "sarif", b)
	var log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID               string         `json:"id"`
						ShortDescription map[string]any `json:"shortDescription"`
						FullDescription  map[string]any `json:"fullDescription"`
						Properties       struct {
							Tags []string `json:"tags"`
						} `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Invocations []struct {
				ExecutionSuccessful *bool `json:"executionSuccessful"`
				Notifications       []struct {
					Level     string         `json:"level"`
					Message   map[string]any `json:"message"`
					Locations []sarifLoc     `json:"locations"`
				} `json:"toolExecutionNotifications"`
			} `json:"invocations"`
			Artifacts []struct {
				Location struct {
					URI string `json:"uri"`
				} `json:"location"`
			} `json:"artifacts"`
			Results []struct {
				RuleID    string         `json:"ruleId"`
				RuleIndex *int           `json:"ruleIndex"`
				Level     string         `json:"level"`
				Message   map[string]any `json:"message"`
				Locations []sarifLoc     `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b, &log); err != nil {
		t.Fatalf("sarif: %v", err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name == "" {
		t.Fatalf("sarif: lacks version 2.1.0, its run or the tool's name")
	}
	if _, err := url.Parse(log.Schema); err != nil {
		t.Errorf("sarif: $schema %q", log.Schema)
	}
	run := log.Runs[0]
	message := func(where string, m map[string]any) {
		text, ok := m["text"].(string)
		if !ok || text == "" {
			t.Errorf("sarif %s: no message text", where)
			return
		}
		checkVisible(t, "sarif "+where, text)
		if l := sarifLinks(text); len(l) > 0 {
			t.Errorf("sarif %s: the message holds embedded links: %q", where, l)
		}
		if strings.ContainsAny(strings.NewReplacer("{{", "", "}}", "").Replace(text), "{}") {
			t.Errorf("sarif %s: a brace is not doubled: %q", where, truncate(text, 200))
		}
	}
	for _, r := range run.Tool.Driver.Rules {
		if r.ID == "" {
			t.Error("sarif: a rule without id")
		}
		message("rule "+r.ID+" shortDescription", r.ShortDescription)
		message("rule "+r.ID+" fullDescription", r.FullDescription)
		if len(uniq(r.Properties.Tags)) != len(r.Properties.Tags) {
			t.Errorf("sarif: rule %s has repeated tags %q", r.ID, r.Properties.Tags)
		}
	}
	if len(run.Invocations) != 1 || run.Invocations[0].ExecutionSuccessful == nil {
		t.Fatal("sarif: no invocation with executionSuccessful")
	}
	for _, n := range run.Invocations[0].Notifications {
		message("notification", n.Message)
		if !slices.Contains([]string{"none", "note", "warning", "error"}, n.Level) {
			t.Errorf("sarif: notification level %q", n.Level)
		}
		for _, l := range n.Locations {
			checkURIReference(t, l.Physical.ArtifactLocation.URI)
		}
	}
	var uris []string
	for _, a := range run.Artifacts {
		checkURIReference(t, a.Location.URI)
		uris = append(uris, a.Location.URI)
	}
	if len(uniq(uris)) != len(uris) {
		t.Errorf("sarif: repeated artifacts %q", uris)
	}
	if len(run.Results) == 0 {
		t.Error("sarif: no results")
	}
	for _, r := range run.Results {
		message("result "+r.RuleID, r.Message)
		if r.RuleIndex == nil || *r.RuleIndex < -1 {
			t.Errorf("sarif: result %s has ruleIndex %v", r.RuleID, r.RuleIndex)
		}
		if !slices.Contains([]string{"none", "note", "warning", "error"}, r.Level) {
			t.Errorf("sarif: result level %q", r.Level)
		}
		for _, l := range r.Locations {
			checkURIReference(t, l.Physical.ArtifactLocation.URI)
			for _, ll := range l.Logical {
				checkVisible(t, "sarif logical location", ll.Name+ll.FullyQualifiedName)
			}
		}
	}
}

type sarifLoc struct {
	Physical struct {
		ArtifactLocation struct {
			URI string `json:"uri"`
		} `json:"artifactLocation"`
	} `json:"physicalLocation"`
	Logical []struct {
		Name               string `json:"name"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
	} `json:"logicalLocations"`
}

func checkJSONDoc(t *testing.T, name string, b []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: not JSON: %v", name, err)
	}
	if dec.More() {
		t.Errorf("%s: data after the document", name)
	}
}

func checkJUnit(t *testing.T, b []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	var text strings.Builder
	elements := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("junit: not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			elements++
			for _, a := range tok.Attr {
				checkVisible(t, "junit attribute "+a.Name.Local, a.Value)
				text.WriteString(a.Value)
			}
		case xml.CharData:
			checkVisible(t, "junit text", string(tok))
			text.Write(tok)
		case xml.Comment, xml.Directive:
			t.Errorf("junit: %T in the document", tok)
		}
	}
	if elements == 0 {
		t.Fatal("junit: no elements")
	}
	for _, p := range []string{"<script>alert(1)</script>", `"><img src=x onerror=alert(2)>`, "<![CDATA[x]]>"} {
		if !strings.Contains(text.String(), p) {
			t.Errorf("junit: the text %q is not there as text", p)
		}
	}
}

func checkText(t *testing.T, name string, b []byte) {
	t.Helper()
	checkVisible(t, name, string(b))
	for _, p := range []string{"<script>alert(1)</script>", `\x1b[31mred\x1b[0m`, `rlo\u202egpj.exe`, `bad\xff\xfeutf8`} {
		if !bytes.Contains(b, []byte(p)) {
			t.Errorf("%s: %q is not shown", name, p)
		}
	}
}

// markdownOutside returns the parts of a Markdown line outside code spans, with every
// backslash-escaped character replaced by a space, and the contents of the code spans.
func markdownOutside(line string) (outside string, spans []string) {
	var b strings.Builder
	for i := 0; i < len(line); {
		switch c := line[i]; {
		case c == '\\' && i+1 < len(line):
			b.WriteString("  ")
			i += 2
		case c == '`':
			n := 1
			for i+n < len(line) && line[i+n] == '`' {
				n++
			}
			fence := strings.Repeat("`", n)
			// A span ends at the next run of exactly n backticks.
			end := -1
			for j := i + n; j < len(line); {
				k := strings.Index(line[j:], fence)
				if k < 0 {
					break
				}
				k += j
				m := k + n
				if (k == 0 || line[k-1] != '`') && (m >= len(line) || line[m] != '`') {
					end = k
					break
				}
				for m < len(line) && line[m] == '`' {
					m++
				}
				j = m
			}
			if end < 0 {
				b.WriteString(fence)
				i += n
				continue
			}
			spans = append(spans, line[i+n:end])
			b.WriteString(strings.Repeat(" ", end+n-i))
			i = end + n
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), spans
}

// pipes counts the cell separators of a table row, reading "\|" as an escaped pipe either
// always (GitHub's reading) or only after an even run of backslashes (the strict one).
func pipes(line string, strict bool) int {
	n := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			if strict {
				i++
			} else if i+1 < len(line) && line[i+1] == '|' {
				i++
			}
		case '|':
			n++
		}
	}
	return n
}

var (
	entity  = regexp.MustCompile(`&(lt|gt|amp);`)
	ownBold = regexp.MustCompile(`\*\*\d+ (findings|errors)\*\*`) // the report's own emphasis
)

func checkMarkdown(t *testing.T, name string, b []byte, ownBreaks bool) {
	t.Helper()
	s := string(b)
	checkVisible(t, name, s)
	lines := strings.Split(s, "\n")
	var tableCols int
	for i, line := range lines {
		outside, spans := markdownOutside(line)
		if ownBreaks {
			outside = strings.ReplaceAll(outside, "<br>", "    ")
		}
		outside = entity.ReplaceAllString(outside, "  ")
		outside = ownBold.ReplaceAllString(outside, " ")
		for _, bad := range []string{"<", ">", "[", "]", "](", "&", "://", "www.", "@", "*", "_", "~", "$"} {
			if strings.Contains(outside, bad) {
				t.Errorf("%s line %d: unescaped %q outside code: %q", name, i+1, bad, truncate(line, 300))
			}
		}
		for _, sp := range spans {
			if strings.ContainsAny(sp, "`\n") {
				t.Errorf("%s line %d: code span %q", name, i+1, truncate(sp, 100))
			}
		}
		if strings.HasPrefix(line, "|") {
			a, b := pipes(line, false), pipes(line, true)
			if a != b {
				t.Errorf("%s line %d: readers disagree on the cells (%d or %d): %q", name, i+1, a-1, b-1, truncate(line, 300))
			}
			if tableCols == 0 {
				tableCols = a
			} else if a != tableCols {
				t.Errorf("%s line %d: %d cells in a table of %d: %q", name, i+1, a-1, tableCols-1, truncate(line, 300))
			}
		} else {
			tableCols = 0
		}
	}
	for _, p := range []string{`&lt;script&gt;alert(1)&lt;/script&gt;`, `\\x1b\[31mred\\x1b\[0m`, `rlo\\u202egpj.exe`} {
		if !strings.Contains(s, p) {
			t.Errorf("%s: %q is not shown", name, p)
		}
	}
}

// allowedElements are the elements the report templates write.
var allowedElements = map[string]bool{
	"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true,
	"h1": true, "h2": true, "h3": true, "p": true, "span": true, "div": true, "br": true,
	"table": true, "tbody": true, "tr": true, "th": true, "td": true, "ol": true, "ul": true, "li": true,
	"code": true, "svg": true, "text": true, "rect": true,
}

// elements lists the elements of an HTML page in document order.
func elements(t *testing.T, page []byte) []string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode {
			out = append(out, n.Data)
		}
	}
	return out
}

func checkHTML(t *testing.T, name string, page []byte) {
	t.Helper()
	checkVisible(t, name, string(page))
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var text strings.Builder
	styles := 0
	for n := range doc.Descendants() {
		switch n.Type {
		case html.ElementNode:
			if !allowedElements[n.Data] {
				t.Errorf("%s: element <%s> the report does not write", name, n.Data)
			}
			if n.Data == "style" {
				styles++
			}
			for _, a := range n.Attr {
				key := strings.ToLower(a.Key)
				if strings.HasPrefix(key, "on") {
					t.Errorf("%s: event handler attribute %s=%q on <%s>", name, a.Key, a.Val, n.Data)
				}
				switch key {
				case "href", "src", "srcdoc", "action", "formaction", "xlink:href", "data", "background":
					t.Errorf("%s: <%s %s=%q>", name, n.Data, a.Key, a.Val)
				}
				if v := strings.ToLower(strings.TrimSpace(a.Val)); strings.HasPrefix(v, "javascript:") {
					t.Errorf("%s: javascript: in <%s %s>", name, n.Data, a.Key)
				}
			}
		case html.CommentNode:
			t.Errorf("%s: a comment %q", name, truncate(n.Data, 80))
		case html.TextNode:
			if n.Parent != nil && n.Parent.Data != "style" {
				text.WriteString(n.Data)
			}
		}
	}
	if styles != 1 {
		t.Errorf("%s: %d style elements, want the report's own", name, styles)
	}
	for _, p := range []string{"<script>alert(1)</script>", `"><img src=x onerror=alert(2)>`, "</script></td></tr></table><!-- ]]> -->", `\x1b[31mred`, `rlo\u202egpj.exe`} {
		if !strings.Contains(text.String(), p) {
			t.Errorf("%s: the text %q is not shown as text", name, p)
		}
	}
}

// FuzzEscapes checks the escapes on any text: safe leaves nothing invisible, md nothing
// that Markdown reads as markup or a link, code no way out of a code span or a table
// cell, sarifMessage no embedded link, artifactURI nothing but a relative path.
func FuzzEscapes(f *testing.F) {
	for _, p := range payloads {
		f.Add(p)
	}
	f.Add(longName[:300])
	f.Fuzz(func(t *testing.T, s string) {
		checkVisible(t, "safe", safe(s))
		m := md(s)
		checkVisible(t, "md", m)
		line := "| " + m + " | `" + code(s) + "` |"
		outside, spans := markdownOutside(line)
		outside = entity.ReplaceAllString(outside, "  ")
		for _, bad := range []string{"<", ">", "[", "]", "&", "://", "www.", "@", "*", "_", "~", "$", "\n"} {
			if strings.Contains(outside, bad) {
				t.Errorf("md(%q) leaves %q: %q", s, bad, line)
			}
		}
		if len(spans) != 1 {
			t.Errorf("code(%q) does not stay one code span: %q", s, line)
		}
		if a, b := pipes(line, false), pipes(line, true); a != 3 || b != 3 {
			t.Errorf("%q makes %d or %d cells of 2: %q", s, a-1, b-1, line)
		}
		msg := sarifMessage(s)
		checkVisible(t, "sarifMessage", msg)
		if l := sarifLinks(msg); len(l) > 0 {
			t.Errorf("sarifMessage(%q) = %q holds links", s, msg)
		}
		if strings.ContainsAny(strings.NewReplacer("{{", "", "}}", "").Replace(msg), "{}") {
			t.Errorf("sarifMessage(%q) = %q has a single brace", s, msg)
		}
		checkURIReference(t, artifactURI(s))
	})
}
