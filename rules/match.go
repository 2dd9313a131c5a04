package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/rules/pattern"
)

// compilePatterns builds the one pattern set of every rule, so that each file is read once
// for all of them. A pattern that cannot be compiled is an error at its position.
func (e *Engine) compilePatterns() Errors {
	defs := e.Patterns()
	pdefs := make([]pattern.Def, len(defs))
	for i, d := range defs {
		kind, err := pattern.ParseKind(d.Spec.Kind())
		if err != nil {
			return Errors{{File: d.Rule.File, Pos: d.Pos, Msg: err.Error()}}
		}
		pdefs[i] = pattern.Def{ID: d.ID, Kind: kind, Text: d.Spec.Text(), Nocase: d.Spec.Nocase, Wide: d.Spec.Wide, ASCII: d.Spec.ASCII}
	}
	// Compile reports the first bad pattern; compile each alone to report all of them.
	set, err := pattern.Compile(pdefs)
	if err == nil {
		e.set, e.defs = set, pdefs
		return nil
	}
	var errs Errors
	for i, d := range pdefs {
		if _, err := pattern.Compile([]pattern.Def{d}); err != nil {
			msg := err.Error()
			var ce *pattern.CompileError
			if errors.As(err, &ce) {
				msg = fmt.Sprintf("pattern %s: %s", defs[i].Name, ce.Msg)
				if ce.Column > 0 {
					msg = fmt.Sprintf("pattern %s, column %d of its text: %s", defs[i].Name, ce.Column, ce.Msg)
				}
			}
			errs = append(errs, &Error{File: defs[i].Rule.File, Pos: defs[i].Pos, Msg: msg})
		}
	}
	if len(errs) == 0 {
		errs = Errors{{Msg: "compiling the rules' patterns together: " + err.Error()}}
	}
	return errs
}

// MatchAnalyzer returns the analyzer that runs every pattern of every rule over a file
// in one pass; its facts (a *pattern.Matches) feed Evaluate. It wants the files some
// rule with patterns applies to.
func (e *Engine) MatchAnalyzer() analyzers.Analyzer {
	return &matchAnalyzer{set: e.set, defs: e.defs, formats: e.patternFormats}
}

// MatchesName is the name under which the pattern matches are kept with the facts.
const MatchesName = "patterns"

type matchAnalyzer struct {
	set     *pattern.Set
	defs    []pattern.Def
	formats map[string]bool
}

// MatchSpec is what the pattern matcher is made of, for another process to make the same
// one (NewMatchAnalyzer): the patterns of every rule, and the formats they apply to.
type MatchSpec struct {
	Patterns []SpecPattern `json:"patterns"`
	Formats  []string      `json:"formats"`
}

// SpecPattern is a pattern.Def whose text (a literal's bytes, which need not be UTF-8)
// crosses JSON as base64.
type SpecPattern struct {
	ID     string       `json:"id"`
	Kind   pattern.Kind `json:"kind"`
	Text   []byte       `json:"text"`
	Nocase bool         `json:"nocase,omitempty"`
	Wide   bool         `json:"wide,omitempty"`
	ASCII  bool         `json:"ascii,omitempty"`
}

// Spec returns the matcher's MatchSpec as JSON.
func (m *matchAnalyzer) Spec() (json.RawMessage, error) {
	spec := MatchSpec{}
	for _, d := range m.defs {
		spec.Patterns = append(spec.Patterns, SpecPattern{ID: d.ID, Kind: d.Kind, Text: []byte(d.Text), Nocase: d.Nocase, Wide: d.Wide, ASCII: d.ASCII})
	}
	for f := range m.formats {
		spec.Formats = append(spec.Formats, f)
	}
	slices.Sort(spec.Formats)
	return json.Marshal(spec)
}

// maxMatchSpec bounds the MatchSpec NewMatchAnalyzer reads.
const maxMatchSpec = 16 << 20

// NewMatchAnalyzer makes the pattern matcher a MatchAnalyzer's Spec describes.
func NewMatchAnalyzer(spec json.RawMessage) (analyzers.Analyzer, error) {
	if len(spec) > maxMatchSpec {
		return nil, fmt.Errorf("the pattern matcher's description is larger than %d bytes", maxMatchSpec)
	}
	var ms MatchSpec
	if err := json.Unmarshal(spec, &ms); err != nil {
		return nil, fmt.Errorf("reading the pattern matcher's description: %w", err)
	}
	m := &matchAnalyzer{formats: map[string]bool{}}
	for _, p := range ms.Patterns {
		m.defs = append(m.defs, pattern.Def{ID: p.ID, Kind: p.Kind, Text: string(p.Text), Nocase: p.Nocase, Wide: p.Wide, ASCII: p.ASCII})
	}
	for _, f := range ms.Formats {
		m.formats[f] = true
	}
	if len(m.defs) > 0 {
		set, err := pattern.Compile(m.defs)
		if err != nil {
			return nil, err
		}
		m.set = set
	}
	return m, nil
}

func (m *matchAnalyzer) Name() string { return MatchesName }
func (m *matchAnalyzer) Schema() any  { return (*pattern.Matches)(nil) }

func (m *matchAnalyzer) Wants(a *analyzers.Artifact) bool {
	if m.set == nil || m.set.Len() == 0 {
		return false
	}
	// A rule for any file is not run over an archive or a compressed stream whose members
	// are matched on their own: their bytes again, or compressed ones. A rule that names
	// the format still is.
	return m.formats[string(a.Format)] || m.formats["any"] && !a.Format.Opened()
}

func (m *matchAnalyzer) Analyze(_ context.Context, a *analyzers.Artifact) (any, error) {
	ms, err := m.set.Scan(a.Content, a.Size, pattern.ScanOptions{})
	if errors.Is(err, pattern.ErrWorkBound) {
		err = fmt.Errorf("%w: %w", analyzers.ErrBound, err)
	}
	return ms, err
}

// hitsOf turns a scan's matches into the Hits a condition sees.
func hitsOf(ms *pattern.Matches) map[string]Hits {
	if ms == nil {
		return nil
	}
	hits := make(map[string]Hits, len(ms.Patterns))
	for _, p := range ms.Patterns {
		if p.Count == 0 {
			continue
		}
		h := Hits{Count: int(p.Count)}
		if len(p.Matches) > 0 {
			h.FirstLength = p.Matches[0].Length
		}
		for _, m := range p.Matches {
			h.Offsets = append(h.Offsets, m.Offset)
			if len(h.Samples) < 3 {
				h.Samples = append(h.Samples, string(m.Data))
			}
		}
		hits[p.ID] = h
	}
	return hits
}
