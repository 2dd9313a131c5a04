package cli

import (
	"cmp"
	"context"
	"slices"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/internal/result"
	"kensa.dev/kensa/rules"
)

// judge runs the rules over every artifact of an inventory and drops the facts, which
// only `kensa facts` shows. Findings are sorted by severity (most severe first), path
// and rule.
//
// trust, when not nil, says what verification established about each artifact (by path).
func judge(ctx context.Context, eng *rules.Engine, inv *inventory.Inventory, trust func(path string) rules.Trust) ([]result.Finding, []result.Error) {
	var (
		findings []result.Finding
		errs     []result.Error
	)
	for i := range inv.Artifacts {
		a := &inv.Artifacts[i]
		if eng != nil && a.Hidden == "" {
			in := &rules.Input{
				Artifact: rules.Artifact{Path: a.Path, Type: a.Type, Format: a.Format, Interpreter: a.Interpreter, Size: a.Size, Mode: a.Mode, Anomalies: a.Anomalies},
				Facts:    a.Facts,
			}
			for name, f := range a.Facts {
				if f == nil { // the analyzer failed on this file
					if in.Failed == nil {
						in.Failed = map[string]bool{}
					}
					in.Failed[name] = true
				}
			}
			if trust != nil {
				in.Trust = trust(a.Path)
			}
			fs, es := eng.Evaluate(ctx, in)
			findings = append(findings, fs...)
			for _, e := range es {
				errs = append(errs, result.Error{Path: a.Path, Kind: result.KindRule, Error: e.Error()})
			}
		}
		a.Facts = nil
	}
	slices.SortStableFunc(findings, func(a, b result.Finding) int {
		return cmp.Or(cmp.Compare(b.Severity.Rank(), a.Severity.Rank()), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Rule, b.Rule))
	})
	return findings, errs
}
