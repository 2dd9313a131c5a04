package rules

import (
	"context"
	"errors"
	"fmt"

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
		e.set = set
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
func (e *Engine) MatchAnalyzer() analyzers.Analyzer { return &matchAnalyzer{e: e} }

// MatchesName is the name under which the pattern matches are kept with the facts.
const MatchesName = "patterns"

type matchAnalyzer struct{ e *Engine }

func (m *matchAnalyzer) Name() string { return MatchesName }
func (m *matchAnalyzer) Schema() any  { return (*pattern.Matches)(nil) }

func (m *matchAnalyzer) Wants(a *analyzers.Artifact) bool {
	if m.e.set == nil || m.e.set.Len() == 0 {
		return false
	}
	return m.e.patternFormats["any"] || m.e.patternFormats[string(a.Format)]
}

func (m *matchAnalyzer) Analyze(_ context.Context, a *analyzers.Artifact) (any, error) {
	ms, err := m.e.set.Scan(a.Content, a.Size, pattern.ScanOptions{})
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
