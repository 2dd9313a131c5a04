package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/diff/rebuild"
	"kensa.dev/kensa/internal/result"
	"kensa.dev/kensa/internal/version"
)

// RebuildSchemaVersion names the document `kensa diff --rebuild --format json` writes.
const RebuildSchemaVersion = "kensa.dev/rebuild/v1"

// runRebuild compares delivered binaries with their rebuild: exit 1 when a difference is
// at or above the threshold, 2 when something could not be compared.
func runRebuild(ctx context.Context, stdout io.Writer, out outputFlags, opts inventory.Options, delivered, rebuilt string, threshold result.Severity) error {
	if out.format != "text" && out.format != "json" {
		return usagef("--rebuild writes text or json, not %s", out.format)
	}
	rep, err := rebuild.CompareTargets(ctx, delivered, rebuilt, opts)
	if err != nil {
		return walkError(err)
	}
	findings := rep.Findings()
	write := func(w io.Writer) error { return rep.WriteText(w) }
	if out.format == "json" {
		v, c := version.Get()
		doc := struct {
			SchemaVersion string      `json:"schemaVersion"`
			Tool          result.Tool `json:"tool"`
			*rebuild.Report
			Findings []result.Finding `json:"findings"`
		}{RebuildSchemaVersion, result.Tool{Name: "kensa", Version: v, Commit: c}, rep, findings}
		if doc.Findings == nil {
			doc.Findings = []result.Finding{}
		}
		write = func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(doc)
		}
	}
	if err := emit(stdout, out.output, write); err != nil {
		return &exitError{code: ExitUndecided, err: err}
	}
	for _, f := range findings {
		if f.Severity.Rank() >= threshold.Rank() {
			return &exitError{code: ExitFindings}
		}
	}
	if len(rep.Errors) > 0 || rep.Verdict == rebuild.Failed {
		return &exitError{code: ExitUndecided, err: fmt.Errorf("%d files could not be compared", max(len(rep.Errors), 1))}
	}
	return nil
}
