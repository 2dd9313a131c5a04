package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"kensa.dev/kensa/analyzers/registry"
	"kensa.dev/kensa/internal/glob"
	"kensa.dev/kensa/rules"
)

// ruleFlags select the packs a command loads.
type ruleFlags struct {
	dirs      []string
	noBuiltin bool
	disable   []string
}

func (f *ruleFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.dirs, "rules", nil, "also load the rule pack in this directory (repeatable)")
	cmd.Flags().BoolVar(&f.noBuiltin, "no-builtin", false, "do not load the built-in rule packs")
	cmd.Flags().StringArrayVar(&f.disable, "disable", nil, "do not run the rules whose id matches this glob (repeatable): hardening/**, backdoor/netcat-exec")
}

// disableRules marks the rules --disable names; a pattern that names no rule is a
// mistake worth stopping for.
func (f *ruleFlags) disableRules(packs []*rules.Pack) error {
	for _, d := range f.disable {
		g, err := glob.Compile(d)
		if err != nil {
			return usagef("--disable: %v", err)
		}
		n := 0
		for _, p := range packs {
			for _, r := range p.Rules {
				if g.Match(r.ID.Value) {
					r.Disabled = true
					n++
				}
			}
		}
		if n == 0 {
			return usagef("--disable %q matches no loaded rule; 'kensa rules list' lists them", d)
		}
	}
	return nil
}

// load reads and compiles the packs. A problem in a pack is an exitError with code 1
// for lint and 2 elsewhere.
func (f *ruleFlags) load(problemCode int) ([]*rules.Pack, *rules.Engine, error) {
	packs, lerr := rules.Load(rules.Sources{Builtin: !f.noBuiltin, Dirs: f.dirs}, registry.Names())
	if err := f.disableRules(packs); err != nil {
		return nil, nil, err
	}
	// Compile even when loading found problems: the rules that loaded are checked too,
	// so that one run lists every problem.
	eng, cerr := rules.Compile(packs, registry.All())
	if lerr == nil && cerr == nil {
		return packs, eng, nil
	}
	var all rules.Errors
	for _, err := range []error{lerr, cerr} {
		var errs rules.Errors
		switch {
		case errors.As(err, &errs):
			all = append(all, errs...)
		case err != nil:
			return nil, nil, &exitError{code: ExitUndecided, err: err}
		}
	}
	return nil, nil, &exitError{code: problemCode, err: fmt.Errorf("%d problems in the rule packs:\n%w", len(all), all)}
}

func newRules(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List, show and check rule packs",
		Long: `A rule pack is a directory of YAML rules; kensa has built-in packs, and --rules DIR adds
more. Each rule has an id, a severity, the formats it applies to, content patterns and a CEL
condition over the facts the analyzers observed (see 'kensa facts' and docs/facts.md).`,
	}
	cmd.AddCommand(newRulesList(stdout), newRulesShow(stdout), newRulesLint(stdout), newRulesTest(stdout))
	return cmd
}

func newRulesList(stdout io.Writer) *cobra.Command {
	var (
		rf     ruleFlags
		format string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the loaded rules with their ids, severities and titles",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if format != "text" && format != "json" {
				return usagef("--format %q: want text or json", format)
			}
			packs, _, err := rf.load(ExitUndecided)
			if err != nil {
				return err
			}
			if format == "json" {
				type item struct {
					ID, Severity, Title, Pack string
					AppliesTo                 []string
				}
				list := []item{}
				for _, p := range packs {
					for _, r := range p.Rules {
						list = append(list, item{r.ID.Value, r.Severity.Value, r.Title, p.Name, r.AppliesTo.Value})
					}
				}
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSEVERITY\tAPPLIES TO\tPACK\tTITLE")
			n := 0
			for _, p := range packs {
				for _, r := range p.Rules {
					state := ""
					if r.Disabled {
						state = " (disabled)"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s%s\n", r.ID.Value, r.Severity.Value, strings.Join(r.AppliesTo.Value, ","), p.Name, r.Title, state)
					n++
				}
			}
			tw.Flush()
			fmt.Fprintf(stdout, "\n%d rules in %d packs\n", n, len(packs))
			return nil
		},
	}
	rf.register(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json")
	return cmd
}

func newRulesShow(stdout io.Writer) *cobra.Command {
	var rf ruleFlags
	cmd := &cobra.Command{
		Use:   "show ID...",
		Short: "Show rules in full: description, references, patterns, condition and tests",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("show needs at least one rule ID")
			}
			return nil
		},
		RunE: func(_ *cobra.Command, ids []string) error {
			packs, _, err := rf.load(ExitUndecided)
			if err != nil {
				return err
			}
			for i, id := range ids {
				r := findRule(packs, id)
				if r == nil {
					return usagef("no rule %q is loaded; 'kensa rules list' lists them", id)
				}
				if i > 0 {
					fmt.Fprintln(stdout)
				}
				writeRule(stdout, r)
			}
			return nil
		},
	}
	rf.register(cmd)
	return cmd
}

func findRule(packs []*rules.Pack, id string) *rules.Rule {
	for _, p := range packs {
		for _, r := range p.Rules {
			if r.ID.Value == id {
				return r
			}
		}
	}
	return nil
}

func writeRule(w io.Writer, r *rules.Rule) {
	fmt.Fprintf(w, "%s  (%s, pack %s, %s:%d)\n", r.ID.Value, r.Severity.Value, r.Pack, r.File, r.Pos.Line)
	fmt.Fprintf(w, "title:       %s\n", r.Title)
	fmt.Fprintf(w, "applies to:  %s\n", strings.Join(r.AppliesTo.Value, ", "))
	if len(r.References) > 0 {
		fmt.Fprintf(w, "references:  %s\n", strings.Join(r.References, ", "))
	}
	fmt.Fprintf(w, "description:\n  %s\n", strings.ReplaceAll(strings.TrimSpace(r.Description), "\n", "\n  "))
	if len(r.Patterns.Value) > 0 {
		fmt.Fprintln(w, "patterns:")
		names := make([]string, 0, len(r.Patterns.Value))
		for n := range r.Patterns.Value {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			s := r.Patterns.Value[n].Value
			var mods []string
			for _, m := range []struct {
				on   bool
				name string
			}{{s.Nocase, "nocase"}, {s.Wide, "wide"}, {s.ASCII, "ascii"}} {
				if m.on {
					mods = append(mods, m.name)
				}
			}
			fmt.Fprintf(w, "  %s: %s %q %s\n", n, s.Kind(), s.Text(), strings.Join(mods, " "))
		}
	}
	fmt.Fprintf(w, "condition:\n  %s\n", strings.ReplaceAll(strings.TrimSpace(r.Condition.Value), "\n", "\n  "))
	fmt.Fprintln(w, "tests:")
	for _, t := range r.Tests.Value {
		want := "must not match"
		if t.Match != nil && *t.Match {
			want = "must match"
		}
		fmt.Fprintf(w, "  %s  %s\n", t.Fixture, want)
	}
}

func newRulesLint(stdout io.Writer) *cobra.Command {
	var rf ruleFlags
	cmd := &cobra.Command{
		Use:   "lint [DIR...]",
		Short: "Check rule packs: every key, value, pattern and condition; exit 1 on a problem",
		Long: `lint loads the packs (the built-in ones and each DIR, as --rules DIR would) and
reports every problem with its file, line and column: unknown keys, values of the wrong
type, bad ids, severities, formats or patterns, conditions that do not compile against
the facts (docs/facts.md), and rules without tests that must and must not match.`,
		RunE: func(_ *cobra.Command, dirs []string) error {
			rf.dirs = append(rf.dirs, dirs...)
			packs, _, err := rf.load(ExitFindings)
			if err != nil {
				return err
			}
			n := 0
			for _, p := range packs {
				n += len(p.Rules)
			}
			fmt.Fprintf(stdout, "%d rules in %d packs: no problems\n", n, len(packs))
			return nil
		},
	}
	rf.register(cmd)
	return cmd
}
