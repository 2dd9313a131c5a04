//go:build !linux

package worker

import (
	"context"
	"errors"
	"fmt"
	"os"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/internal/limits"
)

var errUnavailable = errors.New("analysis workers need Linux; analysers run in kensa's own process here")

// Available reports whether workers can run here.
func Available() bool { return false }

type proc struct {
	reason string
	died   bool
	peak   int64
}

func start(Config, *limits.Limits) (*proc, error) { return nil, errUnavailable }
func (pr *proc) stop()                            {}
func (pr *proc) analyze(context.Context, *limits.Limits, []analyzers.Analyzer, *analyzers.Artifact, *content) ([]analyzers.Outcome, error) {
	return nil, errUnavailable
}

type content struct{}

func (c *content) close()                               {}
func openContent(*analyzers.Artifact) (*content, error) { return nil, errUnavailable }

// Serve reports that workers do not run here.
func Serve() int {
	fmt.Fprintln(os.Stderr, "kensa:", errUnavailable)
	return 2
}
