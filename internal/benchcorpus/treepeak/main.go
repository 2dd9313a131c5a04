// Command treepeak runs a command and writes the peak memory of its whole process tree:
// kensa together with its analysis workers, which /usr/bin/time cannot give (its
// "Maximum resident set size" is that of the largest single process, not of the tree).
//
// Usage, as scripts/bench.sh runs it:
//
//	treepeak -o PEAKFILE -- COMMAND [ARG...]
//
// PEAKFILE receives one line: the peak in KiB, measured every 20 ms as the anonymous and
// shared resident memory of every process of the tree plus the root's file-backed pages
// (see kensa.dev/kensa/internal/proctree). Standard input, output and error are the
// command's; the exit code is the command's, or 125 when treepeak itself failed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"kensa.dev/kensa/internal/proctree"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("treepeak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the peak (KiB) of the command's process tree to this file")
	every := fs.Duration("every", 20*time.Millisecond, "interval between measures")
	if err := fs.Parse(args); err != nil {
		return 125
	}
	if *out == "" || fs.NArg() == 0 {
		fmt.Fprintln(stderr, "treepeak: usage: treepeak -o PEAKFILE -- COMMAND [ARG...]")
		return 125
	}
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(stderr, "treepeak:", err)
		return 125
	}
	s := proctree.Sample(cmd.Process.Pid, *every)
	err := cmd.Wait()
	peak := s.Stop()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	case err != nil:
		fmt.Fprintln(stderr, "treepeak:", err)
		return 125
	}
	if err := os.WriteFile(*out, fmt.Appendf(nil, "%d\n", peak/1024), 0o644); err != nil {
		fmt.Fprintln(stderr, "treepeak:", err)
		return 125
	}
	return code
}
