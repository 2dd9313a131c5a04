package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/analyzers/registry"
	"kensa.dev/kensa/diff"
	"kensa.dev/kensa/internal/render"
	"kensa.dev/kensa/internal/result"
	"kensa.dev/kensa/internal/version"
	"kensa.dev/kensa/rules"
	"kensa.dev/kensa/sbom"
)

// maxSavedResult bounds a saved result or facts document read as a side of a diff.
const maxSavedResult = 2 << 30

func newDiff(stdout, stderr io.Writer) *cobra.Command {
	var (
		in       inspectFlags
		out      outputFlags
		rf       ruleFlags
		baseline string
		minRisk  string
		failOn   string
		rebuilt  bool
	)
	cmd := &cobra.Command{
		Use:   "diff OLD NEW | --baseline RESULT NEW | --rebuild DELIVERED REBUILT",
		Short: "Compare a release with the previous one (or a delivered binary with its rebuild) and rank what changed by risk",
		Long: `diff compares two releases of a delivery and lists every meaningful change, the most
dangerous first:

  files added, removed, changed and renamed (paired by path under the release's own root,
  by content, and by name with version numbers masked); for changed executables what they
  newly import, export or load, new sections and indirect functions, entropy jumps, new
  network destinations and strings of interest, lost hardening, new built-in modules and
  a different signer; findings that are new, gone or changed in severity; SBOM components
  added, removed, upgraded, downgraded, or with the same version and different bytes;
  signature and provenance checks that vanished or changed.

Each change has a risk score from 0 to 100 and a level (critical from 70, high from 45,
medium from 25, low from 10, info below); --min-risk leaves out what is below a level.

OLD and NEW are targets (as for scan) or saved results: the result.json kensa accept
wrote (it keeps the profile of every executable and the SBOM's components, so the old
bytes need not be kept) or a 'kensa facts --format json' document. --baseline names the
saved result of the previously accepted release in place of OLD.

With --rebuild, the two arguments are a delivered binary (or a directory or archive of
them) and the same built again from the delivered source: what legitimately differs
between builds (build ids, time stamps, embedded paths, padding, signatures) is set aside
and what does not (code, imports, symbols, strings) is shown.

Exit codes: 0 no change at or above --fail-on; 1 a change at or above it; 2 could not
decide (bad flags, unreadable input, something on either side not inspected).`,
		Example: `  kensa diff ./delivery-3.1 ./delivery-3.2
  kensa diff --baseline ./evidence-3.1/result.json ./delivery-3.2 --min-risk medium
  kensa diff app-1.0.tar.gz app-1.1.tar.gz --format html -o diff.html
  kensa diff --rebuild ./delivered/bin/agentd ./rebuilt/bin/agentd`,
		Args: func(_ *cobra.Command, args []string) error {
			want := 2
			if baseline != "" {
				want = 1
			}
			if len(args) != want {
				if baseline != "" {
					return usagef("with --baseline, diff needs one NEW target")
				}
				return usagef("diff needs OLD and NEW")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			threshold, err := parseFailOn(failOn)
			if err != nil {
				return err
			}
			floor := result.Info
			if minRisk != "" {
				var ok bool
				if floor, ok = result.ParseSeverity(minRisk); !ok {
					return usagef("--min-risk %q: want info, low, medium, high or critical", minRisk)
				}
			}
			opts, err := in.options(stderr)
			if err != nil {
				return err
			}
			if rebuilt {
				if baseline != "" {
					return usagef("--rebuild compares two targets; it takes no --baseline")
				}
				return runRebuild(cmd.Context(), stdout, out, opts, args[0], args[1], threshold)
			}
			_, eng, err := rf.load(ExitUndecided)
			if err != nil {
				return err
			}
			oldArg, newArg := "", args[len(args)-1]
			if baseline != "" {
				oldArg = baseline
			} else {
				oldArg = args[0]
			}
			prep := catalogWhereWalked(cmd.Context(), &opts)
			oldRes, oldSide, err := diffSide(cmd.Context(), oldArg, baseline != "", opts, eng, prep)
			if err != nil {
				return err
			}
			newRes, newSide, err := diffSide(cmd.Context(), newArg, false, opts, eng, prep)
			if err != nil {
				return err
			}
			rep := diff.Compare(oldRes, newRes, diff.Options{})
			v, c := version.Get()
			rep.Tool = result.Tool{Name: "kensa", Version: v, Commit: c}
			rep.Old, rep.New = oldSide, newSide
			if floor != result.Info {
				rep.Filter(floor)
			}
			write := map[string]func(io.Writer, *diff.Report) error{
				"text": render.DiffText, "json": render.DiffJSON, "markdown": render.DiffMarkdown, "html": render.DiffHTML,
			}[out.format]
			if err := emit(stdout, out.output, func(w io.Writer) error { return write(w, rep) }); err != nil {
				return &exitError{code: ExitUndecided, err: err}
			}
			return diffExit(rep, threshold)
		},
	}
	in.register(cmd)
	out.register(cmd, "text", "json", "markdown", "html")
	rf.register(cmd)
	cmd.Flags().StringVar(&baseline, "baseline", "", "the saved result of the previously accepted release (result.json of kensa accept), in place of OLD")
	cmd.Flags().StringVar(&minRisk, "min-risk", "", "list only changes at or above this level: info, low, medium, high, critical")
	cmd.Flags().StringVar(&failOn, "fail-on", string(result.High), "lowest risk level of a change that makes the exit code 1")
	cmd.Flags().BoolVar(&rebuilt, "rebuild", false, "compare a delivered binary (or a set of them) with its rebuild from the delivered source")
	return cmd
}

// emit writes to the output file, or to stdout when there is none.
func emit(stdout io.Writer, output string, write func(io.Writer) error) error {
	if output == "" {
		return write(stdout)
	}
	return writeFile(output, write)
}

// diffExit: a change at or above the threshold decides 1; otherwise anything not
// inspected on either side means the diff could not rule a change out.
func diffExit(rep *diff.Report, threshold result.Severity) error {
	for _, c := range rep.Changes {
		if c.Level.Rank() >= threshold.Rank() {
			return &exitError{code: ExitFindings}
		}
	}
	if len(rep.Errors) > 0 {
		return &exitError{code: ExitUndecided}
	}
	return nil
}

// diffSide is one side of a diff: a saved result or facts document, or a target
// inspected now with every analyzer, the rules and the SBOM.
func diffSide(ctx context.Context, arg string, saved bool, opts inventory.Options, eng *rules.Engine, prep *sbom.Prepared) (*result.Result, diff.Side, error) {
	if res, from, _, err := readSaved(arg); err != nil {
		return nil, diff.Side{}, &exitError{code: ExitUndecided, err: err}
	} else if res != nil {
		return res, diff.Side{Input: arg, From: from, Target: res.Target, Artifacts: len(res.Artifacts)}, nil
	} else if saved {
		return nil, diff.Side{}, usagef("--baseline %s: not a kensa result or facts document (want the result.json of kensa accept)", arg)
	}
	res, err := inspectAll(ctx, arg, opts, eng, prep, nil)
	if err != nil {
		return nil, diff.Side{}, err
	}
	return res, diff.Side{Input: arg, From: "target", Target: res.Target, Artifacts: len(res.Artifacts)}, nil
}

// readSaved reads a kensa result or facts document and the digest of its file; it returns
// nil and no error for a file that is not one (a target to inspect).
func readSaved(name string) (*result.Result, string, string, error) {
	if !strings.HasSuffix(strings.ToLower(name), ".json") {
		return nil, "", "", nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, "", "", nil // not a file: let the inventory say what it is
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	isResult := bytes.Contains(head, []byte(`"`+result.SchemaVersion+`"`))
	isFacts := bytes.Contains(head, []byte(`"`+result.FactsSchemaVersion+`"`))
	if !isResult && !isFacts {
		return nil, "", "", nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, "", "", err
	}
	h := sha256.New()
	r := io.TeeReader(io.LimitReader(f, maxSavedResult), h)
	dec := json.NewDecoder(r)
	var res result.Result
	if err := dec.Decode(&res); err != nil {
		return nil, "", "", fmt.Errorf("%s: reading the saved result: %w", name, err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil { // the rest of the file, for its digest
		return nil, "", "", err
	}
	digest := "sha256:" + hex.EncodeToString(h.Sum(nil))
	from := "result"
	if res.SchemaVersion == result.FactsSchemaVersion {
		from = "facts"
	} else if res.SchemaVersion != result.SchemaVersion {
		return nil, "", "", fmt.Errorf("%s: schema %q is not one this kensa reads (%s, %s)", name, res.SchemaVersion, result.SchemaVersion, result.FactsSchemaVersion)
	}
	for i := range res.Artifacts {
		a := &res.Artifacts[i]
		if a.Profile == nil && diff.Profiled(*a) {
			a.Profile = diff.ProfileOf(*a)
		}
		a.Facts = nil
	}
	return &res, from, digest, nil
}

// inspectAll takes a target apart with every analyzer, keeps each executable's profile,
// runs the rules and catalogs the SBOM, which withSBOM (when set) receives while the
// inventory's bytes are still readable.
//
// prep is the cataloging state built once per command (catalogWhereWalked), shared by
// every target it inspects; nil when walk workers catalog.
func inspectAll(ctx context.Context, target string, opts inventory.Options, eng *rules.Engine, prep *sbom.Prepared, withSBOM func(*sbom.SBOM) error) (*result.Result, error) {
	opts.Keep = true
	opts.Catalog = true
	opts.Analyzers = unionAnalyzers(append(append(eng.Needs(), registry.All()...), eng.MatchAnalyzer()))
	inv, err := inventory.Take(ctx, []string{target}, opts)
	if err != nil {
		return nil, walkError(err)
	}
	defer inv.Close()
	keepProfiles(inv)
	ver, _ := version.Get()
	s, err := sbom.Generate(ctx, inv, sbom.Options{ToolVersion: ver, Prepared: prep})
	if err != nil {
		return nil, &exitError{code: ExitUndecided, err: err}
	}
	if withSBOM != nil {
		if err := withSBOM(s); err != nil {
			return nil, &exitError{code: ExitUndecided, err: err}
		}
	}
	findings, rerrs := judge(ctx, eng, inv, nil)
	inv.Errors = append(inv.Errors, rerrs...)
	res := newResult(inv, opts)
	res.Findings = append(res.Findings, findings...)
	res.Summary.Findings = len(res.Findings)
	res.Components = s.ResultComponents(inv)
	return res, nil
}

// keepProfiles draws each executable's and script's profile from its facts, before the
// facts are dropped, on every core (each profile is drawn from its artifact alone).
func keepProfiles(inv *inventory.Inventory) {
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	const batch = 64
	for lo := 0; lo < len(inv.Artifacts); lo += batch {
		g.Go(func() error {
			for i := lo; i < min(lo+batch, len(inv.Artifacts)); i++ {
				if a := &inv.Artifacts[i]; diff.Profiled(*a) {
					a.Profile = diff.ProfileOf(*a)
				}
			}
			return nil
		})
	}
	g.Wait()
}
