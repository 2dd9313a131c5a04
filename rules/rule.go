// Package rules loads rule packs and judges artifacts with them.
//
// A pack is a directory of YAML files, each holding one rule or several separated by
// "---". A rule names what it looks for (content patterns, matched in one pass over each
// file by rules/pattern) and when it fires (a CEL condition over the facts the analyzers
// observed about one artifact and the patterns that matched). Loading is strict: an
// unknown key, a value of the wrong type, a bad pattern or a condition that does not
// compile is an error naming the file, line and column.
//
//	id: backdoor/dev-tcp-shell
//	title: Shell redirected to a TCP connection
//	severity: critical
//	description: Why this suggests a backdoor, for the person who reads the finding.
//	references: [T1059.004, CWE-506]
//	applies_to: [script, elf]
//	patterns:
//	  devtcp: {literal: "/dev/tcp/"}
//	  shell: {regex: '(ba)?sh -i'}
//	condition: devtcp && shell
//	tests:
//	  - {fixture: testdata/revshell.sh, match: true}
//	  - {fixture: testdata/benign.sh, match: false}
//
// In a condition, each pattern name is a bool (it matched at least once), count.NAME its
// number of matches, and offsets.NAME the offsets of the first ones. artifact holds what
// the inventory knows (path, format, size, mode, interpreter), and each analyzer's facts
// are a variable named after it (elf, pe, script, strings, …; see docs/facts.md), with
// their zero value when the analyzer did not run on the file.
package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/result"
)

// Rule is one rule of a pack.
type Rule struct {
	ID          Located[string]                   `yaml:"id"`
	Title       string                            `yaml:"title"`
	Severity    Located[string]                   `yaml:"severity"`
	Description string                            `yaml:"description"`
	References  []string                          `yaml:"references"`
	AppliesTo   Located[[]string]                 `yaml:"applies_to"`
	Patterns    Located[map[string]Located[Spec]] `yaml:"patterns"`
	Condition   Located[string]                   `yaml:"condition"`
	Tests       Located[[]Test]                   `yaml:"tests"`
	// Disabled rules load and are checked but never run.
	Disabled bool `yaml:"disabled"`
	// Redact keeps matched bytes out of the evidence (secrets): a finding shows their
	// first four characters and their length only.
	Redact bool `yaml:"redact"`

	// File is the file the rule came from, as given to Load.
	File string `yaml:"-"`
	// Pos is where the rule starts in File.
	Pos Pos `yaml:"-"`
	// Pack is the name of the pack the rule belongs to.
	Pack string `yaml:"-"`

	invalid bool   // check found errors: the rule is not compiled
	fsPath  string // the file in its pack's FS
}

// Spec is one content pattern: exactly one of Literal, Hex and Regex.
type Spec struct {
	Literal *string `yaml:"literal"`
	Hex     *string `yaml:"hex"`
	Regex   *string `yaml:"regex"`
	// Nocase matches ASCII letters in either case.
	Nocase bool `yaml:"nocase"`
	// Wide matches the UTF-16LE form; with ASCII as well, both forms.
	Wide  bool `yaml:"wide"`
	ASCII bool `yaml:"ascii"`
}

// Kind names which of the three forms a Spec has.
func (s Spec) Kind() string {
	switch {
	case s.Literal != nil:
		return "literal"
	case s.Hex != nil:
		return "hex"
	case s.Regex != nil:
		return "regex"
	}
	return ""
}

// Text is the pattern text of whichever form s has.
func (s Spec) Text() string {
	for _, p := range []*string{s.Literal, s.Hex, s.Regex} {
		if p != nil {
			return *p
		}
	}
	return ""
}

// Test is one test case of a rule: a fixture file the rule must or must not match.
type Test struct {
	// Fixture is a path relative to the rule's file.
	Fixture string `yaml:"fixture"`
	// Match says whether the rule must fire on the fixture (on any file inside it, when
	// it is an archive).
	Match *bool `yaml:"match"`
	// Path, when set, is the path the fixture is presented under (some rules look at
	// where a file sits, such as a deb maintainer script: "x.deb!control.tar.xz!postinst").
	Path string `yaml:"path"`
	// Trust, when set, is what verification is taken to have established about the
	// fixture, for rules whose condition reads the variable trust.
	Trust *Trust `yaml:"trust"`
}

// Pos is a position in a YAML file; lines and columns count from 1.
type Pos struct{ Line, Column int }

// Located is a value with the position it was written at.
type Located[T any] struct {
	Value T
	Pos   Pos
	// Block reports a literal block scalar ("|"), whose text starts on the next line.
	Block bool
	// Quoted reports a single- or double-quoted scalar.
	Quoted bool
	// Indent is the indentation of a block scalar's text.
	Indent int
	set    bool
}

// UnmarshalYAML records the position and decodes the value strictly.
func (l *Located[T]) UnmarshalYAML(n ast.Node) error {
	tk := n.GetToken()
	if tk != nil {
		l.Pos = Pos{tk.Position.Line, tk.Position.Column}
	}
	switch n := n.(type) {
	case *ast.LiteralNode:
		l.Block = true
	case *ast.StringNode:
		l.Quoted = n.Token != nil && (n.Token.Type == token.SingleQuoteType || n.Token.Type == token.DoubleQuoteType)
	}
	l.set = true
	return yaml.NodeToValue(n, &l.Value, yaml.DisallowUnknownField())
}

// IsSet reports whether the key was present.
func (l Located[T]) IsSet() bool { return l.set }

// Error is a problem in a rule file, at a position.
type Error struct {
	File string
	Pos  Pos
	Msg  string
}

func (e *Error) Error() string {
	if e.Pos.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Pos.Line, e.Pos.Column, e.Msg)
}

// Errors is every problem found in a set of packs.
type Errors []*Error

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

var (
	idRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9._-]*)+$`)
	patternRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
)

// reserved names cannot name a pattern: they are the condition's other variables.
var reserved = []string{"artifact", "count", "offsets"}

// formats a rule may apply to: every format the sniffer names, and "any".
var formats = append(slices.Clone(sniff.Formats()), "any")

// check validates what the YAML decoder cannot; analyzers are the names of the analyzers
// whose facts conditions may read.
func (r *Rule) check(analyzers []string) Errors {
	var errs Errors
	fail := func(p Pos, format string, args ...any) {
		if p.Line == 0 {
			p = r.Pos
		}
		errs = append(errs, &Error{File: r.File, Pos: p, Msg: fmt.Sprintf(format, args...)})
	}
	if !r.ID.IsSet() || r.ID.Value == "" {
		fail(r.Pos, "the rule has no id")
	} else if !idRE.MatchString(r.ID.Value) {
		fail(r.ID.Pos, "id %q: want category/name in lower case, such as backdoor/reverse-shell", r.ID.Value)
	}
	if strings.TrimSpace(r.Title) == "" {
		fail(r.Pos, "%s has no title", r.ID.Value)
	}
	if strings.TrimSpace(r.Description) == "" {
		fail(r.Pos, "%s has no description: say why what it finds suggests a backdoor", r.ID.Value)
	}
	if _, ok := result.ParseSeverity(r.Severity.Value); !ok {
		fail(r.Severity.Pos, "severity %q: want info, low, medium, high or critical", r.Severity.Value)
	}
	if len(r.AppliesTo.Value) == 0 {
		fail(r.AppliesTo.Pos, "%s has no applies_to: list the formats it judges (%s)", r.ID.Value, strings.Join(formats, ", "))
	}
	for _, f := range r.AppliesTo.Value {
		if !slices.Contains(formats, f) {
			fail(r.AppliesTo.Pos, "applies_to: unknown format %q; the formats are %s", f, strings.Join(formats, ", "))
		}
	}
	for name, ls := range r.Patterns.Value {
		s := ls.Value
		if !patternRE.MatchString(name) {
			fail(ls.Pos, "pattern name %q: want lower-case letters, digits and _, starting with a letter", name)
		}
		if slices.Contains(reserved, name) || slices.Contains(analyzers, name) {
			fail(ls.Pos, "pattern name %q is taken by a variable of the condition; choose another", name)
		}
		n := 0
		for _, p := range []*string{s.Literal, s.Hex, s.Regex} {
			if p != nil {
				n++
			}
		}
		if n != 1 {
			fail(ls.Pos, "pattern %q: give exactly one of literal, hex and regex", name)
		}
		if s.Kind() != "" && s.Text() == "" {
			fail(ls.Pos, "pattern %q is empty", name)
		}
	}
	if strings.TrimSpace(r.Condition.Value) == "" {
		fail(r.Condition.Pos, "%s has no condition", r.ID.Value)
	}
	var pos, neg int
	for _, t := range r.Tests.Value {
		switch {
		case t.Fixture == "":
			fail(r.Tests.Pos, "a test of %s has no fixture", r.ID.Value)
		case t.Match == nil:
			fail(r.Tests.Pos, "the test of %s on %s does not say match: true or false", r.ID.Value, t.Fixture)
		case *t.Match:
			pos++
		default:
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		fail(r.Tests.Pos, "%s needs at least one test that must match and one that must not (it has %d and %d)", r.ID.Value, pos, neg)
	}
	r.invalid = len(errs) > 0
	return errs
}
