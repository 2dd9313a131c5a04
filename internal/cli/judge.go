package cli

import (
	"cmp"
	"context"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"

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
	// The artifacts are judged in batches, several at once; the batches' findings and
	// errors are joined in artifact order, so that the result is the same at any
	// parallelism.
	const batch = 256
	n := (len(inv.Artifacts) + batch - 1) / batch
	type judged struct {
		findings []result.Finding
		errs     []result.Error
	}
	out := make([]judged, n)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for b := range n {
		g.Go(func() error {
			for i := b * batch; i < min((b+1)*batch, len(inv.Artifacts)); i++ {
				out[b].findings, out[b].errs = judgeOne(ctx, eng, &inv.Artifacts[i], trust, out[b].findings, out[b].errs)
			}
			return nil
		})
	}
	g.Wait()
	var (
		findings []result.Finding
		errs     []result.Error
	)
	for _, j := range out {
		findings = append(findings, j.findings...)
		errs = append(errs, j.errs...)
	}
	slices.SortStableFunc(findings, func(a, b result.Finding) int {
		return cmp.Or(cmp.Compare(b.Severity.Rank(), a.Severity.Rank()), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Rule, b.Rule))
	})
	return findings, errs
}

// judgeOne runs the rules over one artifact, appends what they found and drops its facts.
func judgeOne(ctx context.Context, eng *rules.Engine, a *result.Artifact, trust func(path string) rules.Trust, findings []result.Finding, errs []result.Error) ([]result.Finding, []result.Error) {
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
	return findings, errs
}
