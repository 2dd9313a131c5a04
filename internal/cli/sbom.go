package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/analyzers/worker"
	"kensa.dev/kensa/internal/render"
	"kensa.dev/kensa/internal/result"
	"kensa.dev/kensa/internal/version"
	"kensa.dev/kensa/sbom"
)

// sbomOutput is one -o FORMAT[=FILE].
type sbomOutput struct{ format, file string }

func parseSBOMOutputs(specs []string) ([]sbomOutput, error) {
	var outs []sbomOutput
	stdout := 0
	for _, s := range specs {
		f, file, _ := strings.Cut(s, "=")
		if !slices.Contains(sbom.Formats, f) {
			return nil, usagef("-o %q: want one of %s, optionally =FILE", s, strings.Join(sbom.Formats, ", "))
		}
		if file == "" {
			stdout++
		}
		outs = append(outs, sbomOutput{f, file})
	}
	if stdout > 1 {
		return nil, usagef("only one -o may write to standard output; give the others =FILE")
	}
	return outs, nil
}

func newSBOM(stdout, stderr io.Writer) *cobra.Command {
	var (
		in      inspectFlags
		outs    []string
		compare string
		report  outputFlags
		failOn  string
	)
	cmd := &cobra.Command{
		Use:   "sbom TARGET",
		Short: "Make an SBOM from the delivered bytes, and reconcile it with the vendor's",
		Long: `sbom catalogs the packages of a delivery from its bytes, with syft's catalogers, over
kensa's own walk of it: every archive inside it (to the nesting limit) is opened once and
cataloged as a filesystem of its own, and every executable is listed as a file with its
sha256 and hardening summary. Executables no package accounts for (no package database
lists them, no build information or classifier explains them, no package file holds them)
are marked unaccounted: that is where undeclared code hides.

Formats (-o, repeatable, FORMAT or FORMAT=FILE): cyclonedx-json (CycloneDX 1.6, the
default), cyclonedx-xml, spdx-json and spdx-tag-value (SPDX 2.3), syft-json.

--compare VENDOR_SBOM reconciles the delivery with the SBOM the vendor declared
(CycloneDX 1.4-1.6 JSON or XML, SPDX 2.2-2.3 JSON or tag-value) and reports, as findings
with rule ids: components declared but absent, components present but undeclared, version
and hash mismatches, unaccounted executables, and the gaps of the vendor SBOM itself. The
report goes to standard output (--format); SBOMs are then written only to files (-o F=FILE).`,
		Example: `  kensa sbom delivery.tar.gz > delivery.cdx.json
  kensa sbom oci-dir:image -o spdx-json=image.spdx.json -o cyclonedx-json=image.cdx.json
  kensa sbom delivery/ --compare vendor.cdx.json --format json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("sbom needs one TARGET")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(outs) == 0 && compare == "" {
				outs = []string{sbom.CycloneDXJSON}
			}
			so, err := parseSBOMOutputs(outs)
			if err != nil {
				return err
			}
			threshold, err := parseFailOn(failOn)
			if err != nil {
				return err
			}
			if compare != "" {
				if err := report.check(); err != nil {
					return err
				}
				for _, o := range so {
					if o.file == "" {
						return usagef("with --compare the report goes to standard output: write the SBOM with -o %s=FILE", o.format)
					}
				}
			}
			var vendor *sbom.Declared
			if compare != "" {
				// Read the vendor's SBOM first: a malformed one fails before the long walk.
				if vendor, err = readDeclared(cmd.Context(), &in, compare); err != nil {
					return &exitError{code: ExitUndecided, err: fmt.Errorf("--compare: %w", err)}
				}
			}
			opts, err := in.options(stderr)
			if err != nil {
				return err
			}
			opts.Keep = true
			opts.Analyzers = sbom.Analyzers()
			prep := catalogWhereWalked(cmd.Context(), &opts)
			inv, err := inventory.Take(cmd.Context(), args, opts)
			if err != nil {
				return walkError(err)
			}
			defer inv.Close()
			v, _ := version.Get()
			s, err := sbom.Generate(cmd.Context(), inv, sbom.Options{ToolVersion: v, Prepared: prep})
			if err != nil {
				return &exitError{code: ExitUndecided, err: err}
			}
			for _, o := range so {
				write := func(w io.Writer) error { return sbom.Encode(w, s, o.format) }
				if o.file == "" {
					err = write(stdout)
				} else {
					err = writeFile(o.file, write)
				}
				if err != nil {
					return &exitError{code: ExitUndecided, err: fmt.Errorf("writing the %s SBOM: %w", o.format, err)}
				}
			}
			res := newResult(inv, opts)
			for i := range res.Artifacts {
				res.Artifacts[i].Facts = nil
			}
			if vendor != nil {
				// The report is about the reconciliation; 'kensa scan' lists the files.
				res.Artifacts = []result.Artifact{}
				res.Findings = append(res.Findings, sbom.Reconcile(s, inv, vendor)...)
				res.Summary.Findings = len(res.Findings)
				if err := writeResult(stdout, report, res, sbomRuleInfos()); err != nil {
					return &exitError{code: ExitUndecided, err: err}
				}
				return exitFor(res, threshold)
			}
			if !in.quiet {
				fmt.Fprintf(stderr, "kensa: %d packages, %d executables (%d unaccounted), %d errors\n",
					s.Syft.Artifacts.Packages.PackageCount(), len(s.Executables), s.UnaccountedCount(), len(inv.Errors))
				for _, e := range inv.Errors {
					fmt.Fprintf(stderr, "kensa: error: %s: %s\n", render.Safe(e.Path), render.Safe(e.Error))
				}
			}
			if len(inv.Errors) > 0 {
				return &exitError{code: ExitUndecided}
			}
			return nil
		},
	}
	cmd.AddCommand(newSBOMDiff(stdout, stderr))
	in.register(cmd)
	cmd.Flags().StringArrayVarP(&outs, "output-format", "o", nil, "SBOM format, FORMAT or FORMAT=FILE (repeatable): "+strings.Join(sbom.Formats, ", "))
	cmd.Flags().StringVar(&compare, "compare", "", "reconcile with the vendor's SBOM in this file")
	cmd.Flags().StringVar(&report.format, "format", "text", "with --compare: report format: text, json, sarif, markdown")
	cmd.Flags().StringVar(&report.output, "output", "", "with --compare: write the report to this file instead of standard output")
	report.formats = []string{"text", "json", "sarif", "markdown"}
	cmd.Flags().StringVar(&failOn, "fail-on", string(result.High), "with --compare: lowest finding severity that makes the exit code 1")
	return cmd
}

// sbomRuleInfos describes the reconciliation findings, for the reports.
func sbomRuleInfos() []render.RuleInfo {
	var out []render.RuleInfo
	for _, r := range sbom.Rules {
		out = append(out, render.RuleInfo{ID: r.ID, Title: r.Title, Description: r.Description, Severity: r.Severity})
	}
	return out
}

func newSBOMDiff(stdout, stderr io.Writer) *cobra.Command {
	var (
		in     inspectFlags
		format string
	)
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Compare the components of two deliveries or two SBOM files",
		Long: `diff lists the components added, removed, upgraded and downgraded between OLD and NEW.
Each of them is an SBOM file (CycloneDX or SPDX, JSON, XML or tag-value) or a target,
which is cataloged as 'kensa sbom' would. Components are paired by package URL without
version (or by type and name); versions are ordered as their ecosystem orders them.`,
		Example: `  kensa sbom diff release-3.1.cdx.json delivery-3.2/
  kensa sbom diff oci-archive:app-1.tar oci-archive:app-2.tar --format json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usagef("sbom diff needs OLD and NEW")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return usagef("--format %q: want text or json", format)
			}
			var sides [2][]sbom.Component
			for i, arg := range args {
				cs, err := componentsOf(cmd, &in, stderr, arg)
				if err != nil {
					return err
				}
				sides[i] = cs
			}
			changes := sbom.Diff(sides[0], sides[1])
			if format == "json" {
				return writeJSON(stdout, map[string]any{"old": args[0], "new": args[1], "changes": nonNil(changes)})
			}
			for _, c := range changes {
				switch c.Kind {
				case sbom.Added:
					fmt.Fprintf(stdout, "+ %-10s %s %s (%s)\n", c.Kind, render.Safe(c.Name), render.Safe(c.New), render.Safe(c.Type))
				case sbom.Removed:
					fmt.Fprintf(stdout, "- %-10s %s %s (%s)\n", c.Kind, render.Safe(c.Name), render.Safe(c.Old), render.Safe(c.Type))
				default:
					fmt.Fprintf(stdout, "~ %-10s %s %s -> %s (%s)\n", c.Kind, render.Safe(c.Name), render.Safe(c.Old), render.Safe(c.New), render.Safe(c.Type))
				}
			}
			fmt.Fprintf(stdout, "%d changes\n", len(changes))
			return nil
		},
	}
	in.register(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

// componentsOf reads an SBOM file, or catalogs a target.
func componentsOf(cmd *cobra.Command, in *inspectFlags, stderr io.Writer, arg string) ([]sbom.Component, error) {
	if fi, err := os.Stat(arg); err == nil && fi.Mode().IsRegular() {
		d, err := readDeclared(cmd.Context(), in, arg)
		var se *worker.StoppedError
		switch {
		case err == nil:
			return d.Components, nil
		case errors.As(err, &se):
			return nil, &exitError{code: ExitUndecided, err: fmt.Errorf("%s: %w", arg, err)}
		}
	}
	opts, err := in.options(stderr)
	if err != nil {
		return nil, err
	}
	opts.Keep = true
	opts.Analyzers = sbom.Analyzers()
	prep := catalogWhereWalked(cmd.Context(), &opts)
	inv, err := inventory.Take(cmd.Context(), []string{arg}, opts)
	if err != nil {
		return nil, walkError(err)
	}
	defer inv.Close()
	if len(inv.Errors) > 0 {
		return nil, &exitError{code: ExitUndecided, err: fmt.Errorf("%s: %d files could not be inspected (first: %s: %s); 'kensa scan' lists them",
			arg, len(inv.Errors), inv.Errors[0].Path, inv.Errors[0].Error)}
	}
	v, _ := version.Get()
	s, err := sbom.Generate(cmd.Context(), inv, sbom.Options{ToolVersion: v, Prepared: prep})
	if err != nil {
		return nil, &exitError{code: ExitUndecided, err: err}
	}
	return s.Components(), nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
