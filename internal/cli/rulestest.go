package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/internal/glob"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/rules"
)

func newRulesTest(stdout io.Writer) *cobra.Command {
	var (
		rf      ruleFlags
		run     string
		verbose bool
	)
	cmd := &cobra.Command{
		Use:   "test [DIR...]",
		Short: "Run every rule's own tests: fixtures it must and must not match",
		Long: `test runs each rule's test cases: every fixture is inspected as 'kensa scan' would
(archives opened, analyzers run, patterns matched) and the rule must fire on it, or must
not. The built-in packs are tested unless --no-builtin is given; each DIR is a pack to
test as well. Exit 1 when a test fails.`,
		RunE: func(cmd *cobra.Command, dirs []string) error {
			rf.dirs = append(rf.dirs, dirs...)
			var sel *glob.Pattern
			if run != "" {
				var err error
				if sel, err = glob.Compile(run); err != nil {
					return usagef("--run: %v", err)
				}
			}
			packs, eng, err := rf.load(ExitFindings)
			if err != nil {
				return err
			}
			scratch, err := os.MkdirTemp("", "kensa-rules-test-")
			if err != nil {
				return &exitError{code: ExitUndecided, err: err}
			}
			defer os.RemoveAll(scratch)
			var passed, failed int
			for _, p := range packs {
				for _, r := range p.Rules {
					if r.Disabled || (sel != nil && !sel.Match(r.ID.Value)) {
						continue
					}
					for i, t := range r.Tests.Value {
						err := runRuleTest(cmd.Context(), eng, p, r, t, filepath.Join(scratch, fmt.Sprint(passed+failed, "-", i)))
						want := "must match"
						if !*t.Match {
							want = "must not match"
						}
						if err != nil {
							failed++
							fmt.Fprintf(stdout, "FAIL  %s  %s (%s): %v\n", r.ID.Value, t.Fixture, want, err)
						} else {
							passed++
							if verbose {
								fmt.Fprintf(stdout, "ok    %s  %s (%s)\n", r.ID.Value, t.Fixture, want)
							}
						}
					}
				}
			}
			fmt.Fprintf(stdout, "%d tests passed, %d failed\n", passed, failed)
			if failed > 0 {
				return &exitError{code: ExitFindings}
			}
			if passed == 0 {
				return &exitError{code: ExitUndecided, err: fmt.Errorf("no rule tests ran")}
			}
			return nil
		},
	}
	rf.register(cmd)
	cmd.Flags().StringVar(&run, "run", "", "only the rules whose id matches this glob (backdoor/**)")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "list the tests that pass too")
	return cmd
}

// runRuleTest inspects one fixture and checks whether the rule fired on it as the test
// says it must.
func runRuleTest(ctx context.Context, eng *rules.Engine, p *rules.Pack, r *rules.Rule, t rules.Test, dir string) error {
	src, err := p.Fixture(r, t)
	if err != nil {
		return fmt.Errorf("opening the fixture: %w", err)
	}
	defer src.Close()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	file := filepath.Join(dir, filepath.Base(t.Fixture))
	dst, err := os.Create(file)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, io.LimitReader(src, 256<<20))
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	opts := inventory.Options{Limits: limits.Default(), Scratch: dir, Name: t.Path, Jobs: 1}
	opts.Analyzers = append(eng.Needs(), eng.MatchAnalyzer())
	inv, err := inventory.Take(ctx, []string{"file:" + file}, opts)
	if err != nil {
		return err
	}
	if len(inv.Errors) > 0 {
		return fmt.Errorf("the fixture could not be inspected fully: %s: %s", inv.Errors[0].Path, inv.Errors[0].Error)
	}
	var trust func(string) rules.Trust
	if t.Trust != nil {
		trust = func(string) rules.Trust { return *t.Trust }
	}
	findings, errs := judge(ctx, eng, inv, trust)
	if len(errs) > 0 {
		return fmt.Errorf("%s", errs[0].Error)
	}
	fired := ""
	for _, f := range findings {
		if f.Rule == r.ID.Value {
			fired = f.Path
			break
		}
	}
	switch {
	case *t.Match && fired == "":
		return fmt.Errorf("the rule did not fire")
	case !*t.Match && fired != "":
		return fmt.Errorf("the rule fired on %s", fired)
	}
	return nil
}
