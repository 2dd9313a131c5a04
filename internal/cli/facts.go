package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/analyzers/registry"
	"kensa.dev/kensa/internal/glob"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/render"
	"kensa.dev/kensa/internal/result"
)

func newFacts(stdout, stderr io.Writer) *cobra.Command {
	var (
		in      inspectFlags
		out     outputFlags
		pattern string
		only    []string
	)
	cmd := &cobra.Command{
		Use:   "facts TARGET...",
		Short: "Show what every analyzer observed about each file: the rule author's view",
		Long: `facts takes a delivery apart as scan does and runs every analyzer over each file: the
structure of ELF, PE and Mach-O binaries, their hardening, imports, signatures and build
information, the language and install hooks of scripts, and the strings and indicators
(URLs, addresses, keys, encoded blobs) in every file. Analyzers observe; they never judge.
Rule conditions are written against these facts; docs/facts.md lists every field.

--path selects the files to show and analyze, with a glob: * within one path element,
** across elements and nested archives, ? one character, [a-z] a class. A pattern
without "/" or "!" matches the file name at any depth ("*.so", "agentd"); any other
pattern matches the whole path ("**.deb!**", "usr/bin/*").

Analyzers: ` + strings.Join(registry.Names(), ", ") + `

Anything that could not be inspected is listed under errors and makes the exit code 2.

Limits (change with --limit NAME=VALUE; sizes take K, M, G, T suffixes):
` + limits.Describe(),
		Example: `  kensa facts delivery.tar.gz --path '*.so'
  kensa facts ./delivery --path 'usr/sbin/agentd' --format json
  kensa facts docker-archive:app.tar --analyzer elf --analyzer go`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("facts needs at least one TARGET")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			opts, err := in.options(stderr)
			if err != nil {
				return err
			}
			if opts.Analyzers, err = registry.Select(only); err != nil {
				return usagef("--analyzer: %v", err)
			}
			// facts shows every fact, the listings that scans leave out included.
			for i, a := range opts.Analyzers {
				if l, ok := a.(analyzers.Lister); ok {
					opts.Analyzers[i] = l.Listing()
				}
			}
			var sel *glob.Pattern
			if pattern != "" {
				if sel, err = glob.Compile(pattern); err != nil {
					return usagef("--path: %v", err)
				}
				opts.Select = sel.Match
			}
			inv, err := inventory.Take(cmd.Context(), args, opts)
			if err != nil {
				return walkError(err)
			}
			doc := newFactsDoc(newResult(inv, opts), opts, sel)
			write := map[string]func(io.Writer, *result.Facts) error{
				"json": render.FactsJSON,
				"text": render.FactsText,
			}[out.format]
			if out.output == "" {
				err = write(stdout, doc)
			} else {
				err = writeFile(out.output, func(w io.Writer) error { return write(w, doc) })
			}
			if err != nil {
				return &exitError{code: ExitUndecided, err: err}
			}
			if !in.quiet && out.output != "" {
				fmt.Fprintf(stderr, "kensa: facts on %d artifacts, %d errors; written to %s\n", len(doc.Artifacts), len(doc.Errors), out.output)
			}
			if len(doc.Errors) > 0 {
				return &exitError{code: ExitUndecided}
			}
			return nil
		},
	}
	in.register(cmd)
	out.register(cmd, "text", "json")
	cmd.Flags().StringVar(&pattern, "path", "", "only the files whose path matches this glob")
	cmd.Flags().StringArrayVar(&only, "analyzer", nil, "run only this analyzer (repeatable; default: all)")
	return cmd
}

// newFactsDoc builds the facts document from an inventory's result, keeping only the
// artifacts sel selects and the errors that concern them: their own, those of the
// archives they are in, and those of the targets.
func newFactsDoc(res *result.Result, opts inventory.Options, sel *glob.Pattern) *result.Facts {
	doc := &result.Facts{
		SchemaVersion: result.FactsSchemaVersion,
		Tool:          res.Tool,
		Target:        res.Target,
		Targets:       res.Targets,
		Scope:         res.Scope,
		Artifacts:     []result.Artifact{},
		Errors:        []result.Error{},
	}
	for _, a := range opts.Analyzers {
		doc.Analyzers = append(doc.Analyzers, a.Name())
	}
	enclosing := map[string]bool{} // the archives and directories holding a kept artifact
	for _, a := range res.Artifacts {
		if sel == nil || sel.Match(a.Path) {
			doc.Artifacts = append(doc.Artifacts, a)
			for i := range len(a.Path) {
				if a.Path[i] == '!' || a.Path[i] == '/' {
					enclosing[a.Path[:i]] = true
				}
			}
		}
	}
	for _, e := range res.Errors {
		if sel == nil || e.Path == "" || sel.Match(e.Path) || enclosing[e.Path] {
			doc.Errors = append(doc.Errors, e)
		}
	}
	if sel != nil {
		doc.Path = sel.String()
	}
	doc.Summary = result.Summary{Artifacts: len(doc.Artifacts), Errors: len(doc.Errors)}
	for _, a := range doc.Artifacts {
		if a.Type == "file" && a.Hidden == "" {
			doc.Summary.Files++
			doc.Summary.Bytes += a.Size
		}
	}
	return doc
}
