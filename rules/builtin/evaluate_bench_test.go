package builtin_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/registry"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/rules"
)

// BenchmarkEvaluate judges real executables with every built-in rule: the facts (the
// analyzers and the pattern matcher, run once before the timer) against the conditions,
// as kensa does for each file of a delivery.
func BenchmarkEvaluate(b *testing.B) {
	_, files, _ := benchCorpus(b, 64<<20)
	packs, err := rules.Load(rules.Sources{Builtin: true}, registry.Names())
	if err != nil {
		b.Fatal(err)
	}
	eng, err := rules.Compile(packs, registry.All())
	if err != nil {
		b.Fatal(err)
	}
	lim := limits.Default()
	ctx := context.Background()
	var inputs []*rules.Input
	for _, f := range files {
		content, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		name := filepath.Base(f)
		a := &analyzers.Artifact{Path: name, Mode: "0755", Size: int64(len(content)), Content: bytes.NewReader(content), Limits: &lim}
		d := sniff.Detect(content[:min(len(content), sniff.HeadSize)], name, a.Size)
		a.Format, a.Interpreter = d.Format, d.Interpreter
		var list []analyzers.Analyzer
		for _, an := range eng.Needs() {
			if an.Wants(a) {
				list = append(list, an)
			}
		}
		in := &rules.Input{Artifact: rules.Artifact{Path: name, Type: "file", Format: string(a.Format), Interpreter: a.Interpreter, Size: a.Size, Mode: a.Mode},
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
