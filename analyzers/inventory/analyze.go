package inventory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// wants returns the artifact the analyzers will see if any of them wants n, or nil.
// Size is -1 when the size is not known before the bytes are read.
func (w *walker) wants(n *node, det sniff.Result) *analyzers.Artifact {
	if len(w.opts.Analyzers) == 0 || (w.opts.Select != nil && !w.opts.Select(n.Path)) {
		return nil
	}
	a := &analyzers.Artifact{Path: n.Path, Format: det.Format, Interpreter: det.Interpreter, Mode: n.Mode, Size: n.Size, Limits: w.lim}
	if !analyzers.Wanted(w.opts.Analyzers, a) {
		return nil
	}
	return a
}

// analyze runs the analyzers over n's bytes: the file itself when it is on disk (ra),
// otherwise the copy kept while it was read (ra from the store, or sp).
func (w *walker) analyze(ctx context.Context, n *node, a *analyzers.Artifact, ra io.ReaderAt, sp *spoolWriter) {
	if sp != nil {
		r, size, err := sp.reader()
		if err != nil {
			w.fail(n.Path, "", fmt.Errorf("could not keep this file for analysis: %w", err))
			return
		}
		if size != n.Size {
			w.fail(n.Path, result.KindInternal, fmt.Errorf("kept %d bytes of this file for analysis, read %d", size, n.Size))
			return
		}
		ra = r
	}
	a.Size = n.Size
	a.Content = io.NewSectionReader(ra, 0, n.Size)
	defer func() {
		// Analyzers stop early when the run or the target's time is up: what they did
		// not do must not pass for done.
		if err := ctx.Err(); err != nil {
			kind := result.KindInternal
			if errors.Is(err, context.DeadlineExceeded) {
				kind = result.KindLimit
			}
			w.fail(n.Path, kind, fmt.Errorf("the analysis of this file was stopped: %w", err))
		}
	}()
	for _, o := range w.runAnalyzers(ctx, a) {
		if o.Facts != nil {
			if n.Facts == nil {
				n.Facts = map[string]any{}
			}
			n.Facts[o.Analyzer] = o.Facts
		}
		if o.Err != nil && o.Facts == nil {
			// The analyzer wanted the file and could not read it: its facts are unknown.
			// A nil entry says so to the rules, which then do not judge on zero facts.
			if n.Facts == nil {
				n.Facts = map[string]any{}
			}
			n.Facts[o.Analyzer] = nil
		}
		if o.Err != nil {
			err := o.Err
			if !strings.HasPrefix(err.Error(), o.Analyzer+":") {
				err = fmt.Errorf("%s: %w", o.Analyzer, err)
			}
			w.fail(n.Path, analysisKind(o.Err), err)
		}
	}
	if out := w.opts.FactsOut; out != nil && n.Facts != nil {
		out(n.id, n.Facts)
		n.Facts = nil
	}
}

// runAnalyzers runs the analyzers that want a: in this process, or the ones the
// isolator handles in its workers.
func (w *walker) runAnalyzers(ctx context.Context, a *analyzers.Artifact) []analyzers.Outcome {
	iso := w.opts.Isolate
	if iso == nil {
		return analyzers.Run(ctx, w.opts.Analyzers, a)
	}
	var here, away []analyzers.Analyzer
	for _, an := range w.opts.Analyzers {
		switch {
		case !an.Wants(a):
		case iso.Handles(an):
			away = append(away, an)
		default:
			here = append(here, an)
		}
	}
	out := analyzers.Run(ctx, here, a)
	if len(away) > 0 {
		out = append(out, iso.Run(ctx, away, a)...)
	}
	return out
}

// analysisKind classifies an analyzer's error for the result.
func analysisKind(err error) string {
	var pe *analyzers.PanicError
	switch {
	case errors.As(err, &pe):
		return result.KindInternal
	case limits.IsLimit(err), errors.Is(err, analyzers.ErrBound):
		return result.KindLimit
	case errors.Is(err, analyzers.ErrUnsupported):
		return result.KindUnsupported
	}
	return result.KindMalformed
}
