package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/render"
	"kensa.dev/kensa/internal/result"
	"kensa.dev/kensa/internal/version"
	"kensa.dev/kensa/rules"
)

// inspectFlags are the flags of every command that walks a delivery.
type inspectFlags struct {
	limits    []string
	scope     string
	platform  string
	jobs      int
	scratch   string
	quiet     bool
	isolation string
}

func (f *inspectFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.limits, "limit", nil, "change a limit, NAME=VALUE (repeatable); see 'Limits' below")
	fl.StringVar(&f.scope, "scope", string(inventory.Squashed), "for images: squashed (the final filesystem) or all-layers (also files later layers deleted or overwrote)")
	fl.StringVar(&f.platform, "platform", "", "for multi-platform images: os/arch[/variant] to inspect")
	fl.IntVar(&f.jobs, "jobs", 0, "files or layers read at once (default: one per CPU)")
	fl.StringVar(&f.scratch, "scratch", "", "directory for the private scratch space (default: the system temporary directory)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress or summary on stderr")
	fl.StringVar(&f.isolation, "isolation", "process", "where files are parsed: process (worker processes under the worker-memory, parse-timeout and parse-cpu limits) or none (in kensa's own process: faster, but a parser that runs out of memory ends the run)")
}

// options turns the flags into inventory options.
func (f *inspectFlags) options(stderr io.Writer) (inventory.Options, error) {
	opts := inventory.Options{Limits: limits.Default(), Platform: f.platform, Jobs: f.jobs, Scratch: f.scratch}
	for _, l := range f.limits {
		if err := opts.Limits.Set(l); err != nil {
			return opts, usagef("%v", err)
		}
	}
	switch inventory.Scope(f.scope) {
	case inventory.Squashed, inventory.AllLayers:
		opts.Scope = inventory.Scope(f.scope)
	default:
		return opts, usagef("--scope %q: want squashed or all-layers", f.scope)
	}
	if f.jobs < 0 {
		return opts, usagef("--jobs must not be negative")
	}
	if f.scratch != "" {
		// Libraries that make temporary files of their own (syft's Java cataloger, when
		// it runs in this process) make them in the scratch space too.
		dir, err := filepath.Abs(f.scratch)
		if err != nil {
			return opts, usagef("--scratch: %v", err)
		}
		if err := os.Setenv("TMPDIR", dir); err != nil {
			return opts, err
		}
	}
	if !f.quiet && isTerminal(stderr) {
		opts.Progress = stderr
	}
	switch f.isolation {
	case "process":
		pool, walker, err := startWorkers(opts, f.quiet, stderr)
		if err != nil {
			return opts, err
		}
		opts.Isolate, opts.Walker = pool, walker
	case "none":
	default:
		return opts, usagef("--isolation %q: want process or none", f.isolation)
	}
	return opts, nil
}

// outputFlags are the flags of every command that writes a result.
type outputFlags struct {
	format  string
	output  string
	formats []string
}

func (f *outputFlags) register(cmd *cobra.Command, formats ...string) {
	f.formats = formats
	cmd.Flags().StringVar(&f.format, "format", formats[0], "output format: "+strings.Join(formats, ", "))
	cmd.Flags().StringVarP(&f.output, "output", "o", "", "write the result to this file instead of standard output")
}

func (f *outputFlags) check() error {
	if !slices.Contains(f.formats, f.format) {
		return usagef("--format %q: want one of %s", f.format, strings.Join(f.formats, ", "))
	}
	return nil
}

func newScan(stdout, stderr io.Writer) *cobra.Command {
	var (
		in     inspectFlags
		out    outputFlags
		rf     ruleFlags
		failOn string
	)
	cmd := &cobra.Command{
		Use:   "scan TARGET...",
		Short: "List every file of a delivery with its digest and format, and what could not be inspected",
		Long: `scan takes a delivery apart and lists every file in it: its path (entries of nested
archives joined with "!"), sha256 digest, size, mode and the format sniffed from its bytes.

TARGET is a path (a file, a directory, an archive: tar, tar.gz, tar.bz2, tar.xz, tar.zst,
zip, jar, deb, rpm; a docker save tarball or OCI archive is read as an image) or a
scheme-prefixed reference:
  file:PATH  dir:PATH  docker-archive:PATH  oci-archive:PATH  oci-dir:PATH  registry:REF

Only registry: reaches the network. Registry credentials come from the docker config
($DOCKER_CONFIG or ~/.docker/config.json); plain HTTP is used only for loopback registries.

Anything that could not be inspected (a corrupt archive, a path leaving the delivery, a
limit reached) is listed under errors and makes the exit code 2.

Limits (change with --limit NAME=VALUE; sizes take K, M, G, T suffixes):
` + limits.Describe(),
		Example: `  kensa scan delivery.tar.gz
  kensa scan ./delivery --format json -o inventory.json
  kensa scan docker-archive:app.tar --scope all-layers
  kensa scan registry:registry.example.org/app@sha256:…`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("scan needs at least one TARGET")
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
			opts, err := in.options(stderr)
			if err != nil {
				return err
			}
			_, eng, err := rf.load(ExitUndecided)
			if err != nil {
				return err
			}
			if len(eng.Rules()) > 0 {
				opts.Analyzers = append(eng.Needs(), eng.MatchAnalyzer())
			}
			inv, err := inventory.Take(cmd.Context(), args, opts)
			if err != nil {
				return walkError(err)
			}
			findings, rerrs := judge(cmd.Context(), eng, inv, nil)
			inv.Errors = append(inv.Errors, rerrs...)
			res := newResult(inv, opts)
			res.Findings = append(res.Findings, findings...)
			res.Summary.Findings = len(res.Findings)
			if err := writeResult(stdout, out, res, ruleInfos(eng)); err != nil {
				return &exitError{code: ExitUndecided, err: err}
			}
			if !in.quiet && out.output != "" {
				fmt.Fprintf(stderr, "kensa: %d artifacts, %d findings, %d errors; result written to %s\n",
					res.Summary.Artifacts, res.Summary.Findings, res.Summary.Errors, out.output)
			}
			return exitFor(res, threshold)
		},
	}
	in.register(cmd)
	out.register(cmd, "text", "json", "sarif", "markdown")
	rf.register(cmd)
	cmd.Flags().StringVar(&failOn, "fail-on", string(result.High), "lowest finding severity that makes the exit code 1")
	return cmd
}

// isolationOf names where the files of a walk with opts were parsed.
func isolationOf(opts inventory.Options) string {
	if opts.Isolate != nil {
		return "process"
	}
	return "none"
}

// newResult builds the result document of an inventory.
func newResult(inv *inventory.Inventory, opts inventory.Options) *result.Result {
	v, c := version.Get()
	res := &result.Result{
		SchemaVersion: result.SchemaVersion,
		Tool:          result.Tool{Name: "kensa", Version: v, Commit: c},
		Limits:        &opts.Limits,
		Isolation:     isolationOf(opts),
		Artifacts:     inv.Artifacts,
		Findings:      []result.Finding{},
		Checks:        []result.Check{},
		Errors:        inv.Errors,
	}
	if res.Artifacts == nil {
		res.Artifacts = []result.Artifact{}
	}
	if res.Errors == nil {
		res.Errors = []result.Error{}
	}
	if len(inv.Targets) > 0 {
		res.Target = inv.Targets[0]
	}
	if len(inv.Targets) > 1 {
		res.Targets = inv.Targets
	}
	for _, a := range res.Artifacts {
		if a.Layer != nil {
			res.Scope = string(opts.Scope)
			break
		}
	}
	for _, t := range inv.Targets {
		if t.Image != nil {
			res.Scope = string(opts.Scope)
		}
	}
	res.Summary = result.Summary{
		Artifacts: len(res.Artifacts),
		Findings:  len(res.Findings),
		Errors:    len(res.Errors),
		Hidden:    inv.Hidden,
	}
	for _, a := range res.Artifacts {
		if a.Type == "file" && a.Hidden == "" {
			res.Summary.Files++
			res.Summary.Bytes += a.Size
		}
	}
	return res
}

// ruleInfos describes the rules an engine ran, for the reports.
func ruleInfos(eng *rules.Engine) []render.RuleInfo {
	var out []render.RuleInfo
	for _, r := range eng.Rules() {
		sev, _ := result.ParseSeverity(r.Severity.Value)
		out = append(out, render.RuleInfo{ID: r.ID.Value, Title: r.Title, Description: r.Description, Severity: sev, References: r.References})
	}
	return out
}

// writeResult renders res in the chosen format to the output file or stdout.
func writeResult(stdout io.Writer, out outputFlags, res *result.Result, rules []render.RuleInfo) error {
	render := map[string]func(io.Writer, *result.Result) error{
		"json":     render.JSON,
		"text":     render.Text,
		"sarif":    func(w io.Writer, r *result.Result) error { return render.SARIF(w, r, rules) },
		"markdown": func(w io.Writer, r *result.Result) error { return render.Markdown(w, r, rules) },
	}[out.format]
	if out.output == "" {
		return render(stdout, res)
	}
	return writeFile(out.output, func(w io.Writer) error { return render(w, res) })
}

// exitFor decides the exit code of an inspection: errors mean the run could not decide,
// unless findings at or above the threshold already decide it.
func exitFor(res *result.Result, threshold result.Severity) error {
	for _, f := range res.Findings {
		if f.Severity.Rank() >= threshold.Rank() {
			return &exitError{code: ExitFindings}
		}
	}
	if len(res.Errors) > 0 {
		return &exitError{code: ExitUndecided}
	}
	return nil
}

// walkError is the exit an error of inventory.Take calls for: a usage error for an input
// that cannot be a target, exit 2 (could not decide) for the rest.
func walkError(err error) error {
	var ue *inventory.UsageError
	if errors.As(err, &ue) {
		return &usageError{err}
	}
	return &exitError{code: ExitUndecided, err: err}
}

// parseFailOn reads a --fail-on severity.
func parseFailOn(s string) (result.Severity, error) {
	sev, ok := result.ParseSeverity(s)
	if !ok {
		return "", usagef("--fail-on %q: want info, low, medium, high or critical", s)
	}
	return sev, nil
}
