package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/analyzers/worker"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/sbom"
)

// pools are the worker pools a command started; Run stops them when the command ends.
var pools struct {
	sync.Mutex
	list []*runPool
}

type runPool struct {
	*worker.Pool
	quiet  bool
	stderr io.Writer
}

// startWorkers starts the pool that parses the files of this run in worker processes.
func startWorkers(opts inventory.Options, quiet bool, stderr io.Writer) (*worker.Pool, error) {
	lim := opts.Limits
	pool, err := worker.New(worker.Config{Size: opts.Jobs, Limits: &lim})
	if err != nil {
		return nil, fmt.Errorf("%w (run with --isolation none to parse in kensa's own process)", err)
	}
	pools.Lock()
	pools.list = append(pools.list, &runPool{Pool: pool, quiet: quiet, stderr: stderr})
	pools.Unlock()
	return pool, nil
}

// peakResident is kensa's own peak resident memory (VmHWM). getrusage would not do: for
// a process started with vfork, as Go starts programs, it counts the parent's memory too.
func peakResident() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10
		}
	}
	return 0
}

// stopWorkers stops the pools of the command that ended and says what their workers did
// when one was stopped or died, or when asked to (not --quiet).
func stopWorkers() {
	pools.Lock()
	list := pools.list
	pools.list = nil
	pools.Unlock()
	for _, p := range list {
		p.Close()
		st := p.Stats()
		if st.Stopped+st.Died == 0 || p.quiet {
			continue
		}
		fmt.Fprintf(p.stderr, "analysis workers: %d started, %d stopped at a limit, %d died; peak memory of a worker %s (own pages), of kensa itself %s (resident)\n",
			st.Started, st.Stopped, st.Died, limits.HumanSize(st.PeakMemory), limits.HumanSize(peakResident()))
	}
}

func init() {
	// A vendor's SBOM goes through decoders not written for hostile input.
	worker.RegisterCheck("sbom", func(_ context.Context, r io.ReaderAt, size int64, lim *limits.Limits) error {
		_, err := sbom.ReadDeclared(io.NewSectionReader(r, 0, size), lim.FileSize)
		return err
	})
}

// readDeclared reads a vendor's SBOM, once a worker process has survived reading it
// (unless --isolation none): an SBOM built to exhaust memory stops a worker, not kensa.
func readDeclared(ctx context.Context, in *inspectFlags, path string) (*sbom.Declared, error) {
	lim := limits.Default()
	for _, l := range in.limits {
		if err := lim.Set(l); err != nil {
			return nil, usagef("%v", err)
		}
	}
	if in.isolation != "none" {
		pool, err := worker.New(worker.Config{Size: 1, Limits: &lim})
		if err != nil {
			return nil, fmt.Errorf("%w (run with --isolation none to parse in kensa's own process)", err)
		}
		err = pool.Survives(ctx, "sbom", path)
		pool.Close()
		if err != nil {
			return nil, err
		}
	}
	return sbom.ReadDeclaredFile(path, lim.FileSize)
}
