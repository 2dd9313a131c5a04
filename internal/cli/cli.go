// Package cli is kensa's command tree: it turns flags into library calls and results into
// output and an exit code. It holds no inspection logic of its own.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"kensa.dev/kensa/analyzers/worker"
)

// Exit codes of every command (DESIGN.md, "Exit codes").
const (
	ExitClean     = 0 // clean: nothing at or above --fail-on, verification passed
	ExitFindings  = 1 // findings at or above the threshold, a failed verification
	ExitUndecided = 2 // bad flags, unreadable or malformed input, a limit hit, an internal error
)

// exitError carries an exit code up to Run. A nil err means the command already said
// what there was to say.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError is a mistake in how kensa was called.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }

func usagef(format string, args ...any) error { return &usageError{fmt.Errorf(format, args...)} }

// Run runs kensa with args (without the program name) and returns the exit code.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && args[0] == worker.Arg {
		return worker.Serve()
	}
	defer stopWorkers()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitClean
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "kensa: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "kensa: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) || isFlagError(err) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return ExitUndecided
}

// isFlagError reports whether err came from cobra's own argument checks.
func isFlagError(err error) bool {
	var fe *flagError
	return errors.As(err, &fe)
}

type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "kensa",
		Short: "kensa (検査) verifies delivered software before anyone trusts it",
		Long: `kensa (検査, "inspection") verifies delivered software before anyone trusts it.

It takes a delivery apart (archives within archives, image layers), lists every file
with its digest and format, and reports what it could not inspect. It works offline:
it reaches the network only for a registry: target.

Exit codes: 0 clean; 1 findings at or above --fail-on, or a failed verification;
2 could not decide (bad flags, unreadable or malformed input, a limit hit).`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &flagError{err} })
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newScan(stdout, stderr), newFacts(stdout, stderr), newSBOM(stdout, stderr), newVerify(stdout, stderr), newAccept(stdout, stderr), newDiff(stdout, stderr), newDrift(stdout, stderr), newAttest(stdout, stderr), newSign(stdout), newRelease(stdout, stderr), newPolicy(stdout), newRules(stdout), newVersion(stdout))
	return root
}

// isTerminal reports whether w is a terminal, for progress output.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
