// Command kensaprof runs kensa's command line with Go's CPU and heap profilers on, for
// finding where a benchmark run spends its time and memory; kensa itself has no profiling
// flags.
//
// Usage, from the module root:
//
//	go build -o build/bench/kensaprof ./internal/benchcorpus/kensaprof
//	build/bench/kensaprof -cpuprofile cpu.pprof -memprofile mem.pprof -- scan docker-archive:build/bench/corpus-1g.tar -q -o scan.json
//	go tool pprof -top build/bench/kensaprof cpu.pprof
//
// -memprofile writes the heap profile when the command returns: read it with
// -sample_index=alloc_space to see what allocated the most over the run. -peakprofile
// rewrites its file whenever the live heap grows by a tenth, so that the last profile
// written is the one nearest the peak of the live heap (as of the collection before it).
// The exit code is kensa's, or 2 when a profile could not be written.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"

	"kensa.dev/kensa/internal/cli"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses the profiling flags, runs kensa with the remaining arguments and returns
// kensa's exit code, or 2 when a profile could not be written.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kensaprof", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cpu := fs.String("cpuprofile", "", "write a CPU profile to this file")
	mem := fs.String("memprofile", "", "write a heap profile to this file when the command returns")
	peak := fs.String("peakprofile", "", "write a heap profile to this file each time the live heap grows by a tenth over its largest size so far")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "kensaprof:", err)
		return 2
	}
	if *peak != "" {
		stop := make(chan struct{})
		defer close(stop)
		go watchPeak(*peak, stop, stderr)
	}
	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fail(err)
		}
	}
	code := cli.Run(fs.Args(), stdout, stderr)
	if *cpu != "" {
		pprof.StopCPUProfile()
	}
	if *mem != "" {
		f, err := os.Create(*mem)
		if err != nil {
			return fail(err)
		}
		runtime.GC()
		err = pprof.WriteHeapProfile(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fail(err)
		}
	}
	return code
}

// watchPeak polls the live heap twice a second and rewrites the profile at path when it
// exceeds its largest size so far by a tenth.
func watchPeak(path string, stop <-chan struct{}, stderr io.Writer) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var largest uint64
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		metrics.Read(sample)
		live := sample[0].Value.Uint64()
		if live < largest+largest/10 {
			continue
		}
		largest = live
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintln(stderr, "kensaprof:", err)
			return
		}
		err = pprof.WriteHeapProfile(f)
		f.Close()
		if err != nil {
			fmt.Fprintln(stderr, "kensaprof:", err)
			return
		}
	}
}
