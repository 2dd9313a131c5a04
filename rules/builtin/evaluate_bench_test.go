package builtin_test

import (
	"context"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/rules"
)

// BenchmarkEvaluate judges real executables and text with every built-in rule: the
// facts (the analyzers and the pattern matcher, run once before the timer) against the
// conditions, as kensa does for each file of a delivery.
func BenchmarkEvaluate(b *testing.B) {
	eng := builtinEngine(b)
	arts, _ := patternCorpus(b, 64<<20)
	lim := limits.Default()
	ctx := context.Background()
	var inputs []*rules.Input
	for _, a := range arts {
		a.Limits, a.Mode = &lim, "0755"
		var list []analyzers.Analyzer
		for _, an := range eng.Needs() {
			if an.Wants(a) {
				list = append(list, an)
			}
		}
		in := &rules.Input{Artifact: rules.Artifact{Path: a.Path, Type: "file", Format: string(a.Format), Interpreter: a.Interpreter, Size: a.Size, Mode: a.Mode},
			Facts: map[string]any{}}
		for _, o := range analyzers.Run(ctx, list, a) {
			in.Facts[o.Analyzer] = o.Facts
		}
		inputs = append(inputs, in)
	}
	findings := 0
	for b.Loop() {
		findings = 0
		for _, in := range inputs {
			fs, errs := eng.Evaluate(ctx, in)
			if len(errs) > 0 {
				b.Fatal(errs)
			}
			findings += len(fs)
		}
	}
	b.ReportMetric(float64(len(inputs))*float64(b.N)/b.Elapsed().Seconds(), "files/s")
	b.ReportMetric(float64(findings), "findings")
}
