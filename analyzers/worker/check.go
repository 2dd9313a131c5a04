package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/internal/limits"
)

// A Check parses a document the way kensa is about to, so that a document that would
// exhaust memory or hang does so in a worker instead of in kensa. Its result is not used:
// kensa parses the document itself once a worker survived it, so that no decision rests
// on what a worker says.
type Check func(ctx context.Context, r io.ReaderAt, size int64, lim *limits.Limits) error

var checks = struct {
	sync.Mutex
	m map[string]Check
}{m: map[string]Check{}}

// RegisterCheck makes name a check every worker can run. Call it from an init function of
// a package linked into the binary, so that the parent and its workers both have it.
func RegisterCheck(name string, c Check) {
	checks.Lock()
	defer checks.Unlock()
	checks.m[name] = c
}

// checkAnalyzer runs a Check as an analyzer, so that checks travel the analyzers' way.
type checkAnalyzer struct {
	name string
	c    Check
}

func (c checkAnalyzer) Name() string                   { return "check:" + c.name }
func (c checkAnalyzer) Schema() any                    { return (*struct{})(nil) }
func (c checkAnalyzer) Wants(*analyzers.Artifact) bool { return true }

// Analyze runs the check and keeps nothing of its outcome, a panic included: kensa's own
// parse, after, reports what is wrong with the document. An error of the analyzer is thus
// always the worker's or the pool's, never the document's.
func (c checkAnalyzer) Analyze(ctx context.Context, a *analyzers.Artifact) (any, error) {
	defer func() { recover() }()
	_ = c.c(ctx, a.Content, a.Size, a.Limits)
	return nil, nil
}

func checkAnalyzers() []analyzers.Analyzer {
	checks.Lock()
	defer checks.Unlock()
	var out []analyzers.Analyzer
	for name, c := range checks.m {
		out = append(out, checkAnalyzer{name, c})
	}
	return out
}

// Survives runs the check name on the file at path in a worker. It returns nil when the
// worker survived it (whether or not the document parsed: kensa's own parse reports
// that), and the worker's end otherwise: a *StoppedError, a limit error when the worker
// was stopped at one.
func (p *Pool) Survives(ctx context.Context, name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	return p.SurvivesReader(ctx, name, path, f, st.Size())
}

// SurvivesReader is Survives for size bytes of r, a document of the delivery named path:
// a file, a part of the inventory's kept files, or bytes in memory.
func (p *Pool) SurvivesReader(ctx context.Context, name, path string, r io.ReaderAt, size int64) error {
	checks.Lock()
	c, ok := checks.m[name]
	checks.Unlock()
	if !ok {
		return fmt.Errorf("no document check named %q", name)
	}
	lim := p.lim
	a := &analyzers.Artifact{Path: path, Size: size, Content: r, Limits: &lim}
	for _, o := range p.Run(ctx, []analyzers.Analyzer{checkAnalyzer{name, c}}, a) {
		var se *StoppedError
		if errors.As(o.Err, &se) {
			return se
		}
		if o.Err != nil {
			// The document never reached a worker (none could start): not parsed here
			// either.
			return fmt.Errorf("%s could not be checked in an analysis worker: %w", path, o.Err)
		}
	}
	return ctx.Err()
}
