package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"kensa.dev/kensa/diff/drift"
	"kensa.dev/kensa/internal/result"
	"kensa.dev/kensa/internal/version"
)

func newDrift(stdout, stderr io.Writer) *cobra.Command {
	var (
		in      inspectFlags
		out     outputFlags
		source  string
		gitDir  string
		ref     string
		release string
		failOn  string
	)
	cmd := &cobra.Command{
		Use:   "drift (--source DIR | --git DIR --ref REF) --release TARBALL",
		Short: "Compare a release tarball with the source it claims to be made from",
		Long: `drift compares what a release tarball holds with its source: a checkout (--source) or
a tag, branch or commit of a git repository (--git with --ref, read without running git).
Every file is listed as same, differs, only-release or only-source; what is only in the
release or differs is classified as an expected generated file (configure, Makefile.in,
aclocal.m4, automake's auxiliary scripts, libtool and gettext files, …) or a source file.
Generated files are inspected all the same: the xz-utils backdoor hid in one.

Rules: drift/modified-source-file (high), drift/unexpected-release-file (medium),
drift/m4-serial-mismatch (high: an m4 file claiming an upstream serial with other
content), drift/m4-unknown-serial (info), drift/build-decodes-and-runs (critical: a build
step decoding data into a shell, in either tree), drift/opaque-test-fixture (medium: a
high-entropy binary test file nothing generates).

The tarball is read with the limits of 'kensa scan' (--limit). Anything that could not be
read is listed under errors and makes the exit code 2.`,
		Example: `  kensa drift --git ./xz --ref v5.6.1 --release xz-5.6.1.tar.gz
  kensa drift --source ./checkout --release pkg-1.2.tar.xz --format markdown -o drift.md`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usagef("drift takes no arguments: give --source DIR or --git DIR --ref REF, and --release TARBALL")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.check(); err != nil {
				return err
			}
			threshold, err := parseFailOn(failOn)
			if err != nil {
				return err
			}
			switch {
			case release == "":
				return usagef("--release TARBALL is required")
			case (source == "") == (gitDir == ""):
				return usagef("give either --source DIR or --git DIR --ref REF")
			case gitDir != "" && ref == "":
				return usagef("--git needs --ref (a tag, branch or commit)")
			case source != "" && ref != "":
				return usagef("--ref goes with --git, not --source")
			}
			opts, err := in.options(stderr)
			if err != nil {
				return err
			}
			lim := drift.DefaultLimits()
			var src *drift.Tree
			if source != "" {
				src, err = drift.DirTree(source, lim)
			} else {
				src, err = drift.GitTree(gitDir, ref, lim)
			}
			if err != nil {
				return &exitError{code: ExitUndecided, err: err}
			}
			rel, err := drift.ReleaseTree(cmd.Context(), release, opts, lim)
			if err != nil {
				return walkError(err)
			}
			rep, err := drift.Compare(src, rel, drift.Options{})
			if err != nil {
				return &exitError{code: ExitUndecided, err: err}
			}
			v, c := version.Get()
			rep.Tool = &result.Tool{Name: "kensa", Version: v, Commit: c}
			write := func(w io.Writer) error {
				switch out.format {
				case "json":
					return writeJSON(w, rep)
				case "markdown":
					return rep.WriteMarkdown(w)
				}
				return rep.WriteText(w)
			}
			if out.output == "" {
				err = write(stdout)
			} else {
				err = writeFile(out.output, write)
			}
			if err != nil {
				return &exitError{code: ExitUndecided, err: fmt.Errorf("writing the report: %w", err)}
			}
			if !in.quiet && (out.output != "" || out.format != "text") {
				fmt.Fprintf(stderr, "kensa: %d files, %d differ, %d only in the release; %d findings, %d errors\n",
					rep.Summary.Files, rep.Summary.Statuses[drift.StatusDiffers], rep.Summary.Statuses[drift.StatusOnlyRelease],
					len(rep.Findings), len(rep.Errors))
			}
			for _, f := range rep.Findings {
				if f.Severity.Rank() >= threshold.Rank() {
					return &exitError{code: ExitFindings}
				}
			}
			if len(rep.Errors) > 0 {
				return &exitError{code: ExitUndecided}
			}
			return nil
		},
	}
	in.register(cmd)
	out.register(cmd, "text", "json", "markdown")
	fl := cmd.Flags()
	fl.StringVar(&source, "source", "", "the source as a directory (a checkout; .git is skipped)")
	fl.StringVar(&gitDir, "git", "", "the source as a git repository (with --ref)")
	fl.StringVar(&ref, "ref", "", "with --git: the tag, branch or commit the release claims to be made from")
	fl.StringVar(&release, "release", "", "the release tarball (tar, tar.gz, tar.bz2, tar.xz, tar.zst, zip)")
	fl.StringVar(&failOn, "fail-on", string(result.High), "lowest finding severity that makes the exit code 1")
	return cmd
}
