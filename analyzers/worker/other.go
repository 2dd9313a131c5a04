//go:build !linux

package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/internal/limits"
)

var errUnavailable = errors.New("analysis workers need Linux; analysers run in kensa's own process here")

// Available reports whether workers can run here.
func Available() bool { return false }

type proc struct {
	mu     sync.Mutex
	reason string
	died   bool
	peak   int64
}

func start(Config, *limits.Limits) (*proc, error) { return nil, errUnavailable }
func (pr *proc) stop()                            {}
func (pr *proc) analyze(context.Context, *limits.Limits, []analyzers.Analyzer, *analyzers.Artifact, *content, int64) ([]analyzers.Outcome, error) {
	return nil, errUnavailable
}

// transferSize is the Linux build's; no file is transferred here.
const transferSize = 16 << 20

func (pr *proc) load(*analyzers.Artifact) (int64, error) { return 0, errUnavailable }

type content struct{}

func (c *content) close()                               {}
func openContent(*analyzers.Artifact) (*content, error) { return nil, errUnavailable }

// Serve reports that workers do not run here.
func Serve() int {
	fmt.Fprintln(os.Stderr, "kensa:", errUnavailable)
	return 2
}

// WalkEnv marks a walk worker (see the Linux build).
const WalkEnv = "KENSA_WORKER"

// Walker takes inventories in walk workers; they need Linux.
type Walker struct{}

// WalkStats describe what the walk workers did.
type WalkStats struct {
	Started, Stopped, Died int
	PeakMemory             int64
}

// NewWalker reports that walk workers do not run here.
func NewWalker(Config) (*Walker, error) { return nil, errUnavailable }

// Stats returns nothing: no walk ran.
func (w *Walker) Stats() (Stats, WalkStats) { return Stats{}, WalkStats{} }

// Take reports that walk workers do not run here.
func (w *Walker) Take(context.Context, []string, inventory.Options) (*inventory.Inventory, error) {
	return nil, errUnavailable
}

// RegisterAnalyzer does nothing here: no walk worker runs.
func RegisterAnalyzer(string, func(json.RawMessage) (analyzers.Analyzer, error)) {}

// Cataloger makes a delivery's SBOM in a walk worker; none runs here.
type Cataloger func(ctx context.Context) func(ctx context.Context, inv *inventory.Inventory) ([]byte, error)

// RegisterCataloger does nothing here: no walk worker runs.
func RegisterCataloger(Cataloger) {}
