// Package worker runs analyzers in processes of their own, so that a hostile file cannot
// take the verifier down with it.
//
// Go's debug/elf, debug/pe and debug/macho say they are not hardened against adversarial
// input, and some failures are fatal whatever recover does: running out of memory, a
// stack overflow, a runtime throw. A Pool starts worker processes by re-executing the
// running binary with the argument Arg; the program's main must call Serve when it sees
// it (cmd/kensa does, through internal/cli). Each worker parses one file at a time, under
// limits the parent enforces:
//
//   - memory: a watchdog stops a worker whose own resident memory (anonymous pages, not
//     the binary's) passes worker-memory, and RLIMIT_DATA of worker-memory plus the Go
//     runtime's untouched reservations makes a single huge allocation fail at once (not
//     in race-detector builds, whose shadow memory does not fit under it);
//   - time: a worker that takes longer than parse-timeout on one file (wall clock) or
//     parse-cpu (CPU time, read from /proc) is stopped;
//   - files: RLIMIT_FSIZE 0 (a worker cannot write a file), RLIMIT_CORE 0, few open files,
//     no inherited descriptors but its own, an environment without credentials.
//
// A worker that is stopped or dies costs the file it was analysing one error, attributed
// to that file and to the analyzer that was running: an error of kind limit naming the
// limit, or an internal error quoting the worker's last words. The analyzers that had not
// run yet on that file run again in a fresh worker, and the run goes on; the verdict
// cannot be a pass since the file was not fully inspected.
//
// The parent gives a worker the file's bytes in the worker's transfer area, a memory file
// the worker maps read-only once, when they fit (16 MiB); a larger file as a descriptor
// (the file itself, the inventory's pack or scratch file, or a memfd holding an
// in-memory copy). It gets the facts back as JSON, decoded into the analyzer's own facts
// type. Analyzers that are not in the registry (the rules' pattern matcher, which is
// kensa's own bounded automaton) and scanners of bytes (analyzers.Scanner: the strings
// analyzer) run in the parent.
//
// Usage:
//
//	pool, err := worker.New(worker.Config{Size: runtime.NumCPU(), Limits: &lim})
//	defer pool.Close()
//	opts.Isolate = pool // inventory.Options
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"strings"
	"sync"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/registry"
	"kensa.dev/kensa/internal/limits"
)

// Arg is the argument that makes the binary serve as a worker.
const Arg = "__analysis-worker"

// extra are analyzers a worker serves besides the registry's; the package's tests add
// some that hang, in the parent and in the worker alike.
var extra []analyzers.Analyzer

// served is every analyzer a worker can make for itself.
func served() []analyzers.Analyzer {
	return append(append(registry.All(), extra...), checkAnalyzers()...)
}

// Config configures a Pool.
type Config struct {
	// Size is the most worker processes alive at once; 0 means one per CPU.
	Size int
	// Limits hold worker-memory, parse-timeout and parse-cpu, and are what the workers'
	// analyzers are bounded by.
	Limits *limits.Limits
	// Executable is the binary to start, by default the running one; Args its arguments
	// before Arg (Args[0] is the program name), by default os.Args[0].
	Executable string
	Args       []string
	// RawFacts returns the facts as the worker sent them, a json.RawMessage, for a
	// process that only hands them on (a walk worker) instead of reading them.
	RawFacts bool
}

// complete fills in the defaults of cfg, or says why workers cannot run here.
func (cfg Config) complete() (Config, error) {
	if !Available() {
		return cfg, errUnavailable
	}
	if cfg.Size <= 0 {
		cfg.Size = runtime.NumCPU()
	}
	if cfg.Limits == nil {
		d := limits.Default()
		cfg.Limits = &d
	}
	if cfg.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return cfg, fmt.Errorf("finding kensa's own binary to start workers: %w", err)
		}
		cfg.Executable = exe
	}
	if len(cfg.Args) == 0 {
		cfg.Args = []string{os.Args[0]}
	}
	return cfg, nil
}

// Stats describe what the workers of a pool did.
type Stats struct {
	// Started counts the worker processes started, Stopped those stopped at a limit and
	// Died those that ended on their own while analysing a file.
	Started, Stopped, Died int
	// PeakMemory is the most memory of its own (anonymous resident pages) any worker
	// that has ended was seen to use while analysing a file, in bytes. It is what the
	// worker-memory limit bounds, measured every 10 ms.
	PeakMemory int64
}

// Pool runs analyzers in worker processes. It is safe for concurrent use.
type Pool struct {
	cfg   Config
	lim   limits.Limits
	known map[string]reflect.Type // analyzer name → the registry's analyzer type
	idle  chan *proc
	slots chan struct{} // one per live worker

	mu     sync.Mutex
	stats  Stats
	live   map[*proc]bool
	closed bool
}

// New returns a pool; it starts no process until the first file.
func New(cfg Config) (*Pool, error) {
	cfg, err := cfg.complete()
	if err != nil {
		return nil, err
	}
	p := &Pool{cfg: cfg, lim: *cfg.Limits, known: map[string]reflect.Type{},
		idle: make(chan *proc, cfg.Size), slots: make(chan struct{}, cfg.Size), live: map[*proc]bool{}}
	for _, a := range served() {
		p.known[a.Name()] = reflect.TypeOf(a)
	}
	return p, nil
}

// Handles reports whether the pool runs a in a worker: a is one of the registry's
// analyzers, which a worker can make for itself, and not a scanner of bytes
// (analyzers.Scanner), which runs where the bytes are.
func (p *Pool) Handles(a analyzers.Analyzer) bool {
	if _, ok := a.(analyzers.Scanner); ok {
		return false
	}
	t, ok := p.known[a.Name()]
	return ok && t == reflect.TypeOf(a)
}

// Stats returns what the workers did so far.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Close stops every worker and waits for them.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	procs := make([]*proc, 0, len(p.live))
	for pr := range p.live {
		procs = append(procs, pr)
	}
	p.mu.Unlock()
	for _, pr := range procs {
		pr.stop()
		p.ended(pr)
	}
	return nil
}

// Run runs the analyzers of list (all of them handled by the pool and wanting a) on a in
// worker processes and returns their outcomes in list order, like analyzers.Run.
func (p *Pool) Run(ctx context.Context, list []analyzers.Analyzer, a *analyzers.Artifact) []analyzers.Outcome {
	out := make([]analyzers.Outcome, 0, len(list))
	failed := func(rest []analyzers.Analyzer, err error) []analyzers.Outcome {
		for _, an := range rest {
			out = append(out, analyzers.Outcome{Analyzer: an.Name(), Err: err})
		}
		return out
	}
	// A file that fits a worker's transfer area is copied into it; a larger one is
	// handed over as a descriptor.
	var content *content
	if a.Size > transferSize {
		var err error
		if content, err = openContent(a); err != nil {
			return failed(list, fmt.Errorf("handing the file to an analysis worker: %w", err))
		}
		defer content.close()
	}
	rest := list
	for len(rest) > 0 && ctx.Err() == nil {
		pr, err := p.get(ctx)
		if err != nil {
			return failed(rest, err)
		}
		loaded := int64(-1)
		if content == nil {
			if loaded, err = pr.load(a); err != nil {
				p.put(pr)
				return failed(rest, fmt.Errorf("handing the file to an analysis worker: %w", err))
			}
		}
		got, stopErr := pr.analyze(ctx, &p.lim, rest, a, content, loaded)
		for _, o := range got {
			if o.Facts != nil || o.Err != nil { // as analyzers.Run: nothing to say
				out = append(out, o)
			}
		}
		rest = rest[len(got):]
		if stopErr == nil {
			p.put(pr)
			continue
		}
		// The worker is gone: the analyzer it was running takes the error, the others
		// run again in a fresh worker.
		p.ended(pr)
		if len(rest) > 0 {
			out = append(out, analyzers.Outcome{Analyzer: rest[0].Name(), Err: stopErr})
			rest = rest[1:]
		}
	}
	for _, an := range rest { // the run was cancelled or its time is up
		out = append(out, analyzers.Outcome{Analyzer: an.Name(), Err: fmt.Errorf("%s: not run: %w", an.Name(), ctx.Err())})
	}
	return out
}

// get returns an idle worker, or starts one when fewer than Size are alive, or waits.
func (p *Pool) get(ctx context.Context) (*proc, error) {
	select {
	case pr := <-p.idle:
		return pr, nil
	default:
	}
	select {
	case pr := <-p.idle:
		return pr, nil
	case p.slots <- struct{}{}:
		p.mu.Lock()
		closed := p.closed
		p.mu.Unlock()
		if closed {
			<-p.slots
			return nil, errors.New("the analysis workers were stopped")
		}
		pr, err := start(p.cfg, &p.lim)
		if err != nil {
			<-p.slots
			return nil, err
		}
		p.mu.Lock()
		p.stats.Started++
		p.live[pr] = true
		p.mu.Unlock()
		return pr, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *Pool) put(pr *proc) { p.idle <- pr }

// ended records a worker that is gone and frees its slot.
func (p *Pool) ended(pr *proc) {
	pr.stop()
	pr.mu.Lock()
	reason, died, peak := pr.reason, pr.died, pr.peak
	pr.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.live[pr] {
		return
	}
	delete(p.live, pr)
	switch {
	case reason != "":
		p.stats.Stopped++
	case died:
		p.stats.Died++
	}
	p.stats.PeakMemory = max(p.stats.PeakMemory, peak)
	<-p.slots
}

// request is what the parent sends a worker for one file; the file's descriptor travels
// with it.
type request struct {
	Analyzers   []string       `json:"analyzers"`
	Path        string         `json:"path"`
	Format      string         `json:"format"`
	Interpreter string         `json:"interpreter,omitempty"`
	Mode        string         `json:"mode,omitempty"`
	Offset      int64          `json:"offset"`
	Size        int64          `json:"size"`
	Limits      *limits.Limits `json:"limits"`
	// Loaded is how many bytes of the file the transfer area holds, from its start;
	// -1 when the file comes as the descriptor sent with the request instead.
	Loaded int64 `json:"loaded"`
}

// reply is one analyzer's outcome, or the end of a request (Done).
type reply struct {
	Analyzer string          `json:"analyzer,omitempty"`
	Facts    json.RawMessage `json:"facts,omitempty"`
	Err      *wireError      `json:"error,omitempty"`
	Done     bool            `json:"done,omitempty"`
}

// wireError is an analyzer's error as it crosses the process boundary, keeping what the
// inventory classifies it by.
type wireError struct {
	Kind    string `json:"kind"` // panic, limit, bound, unsupported or other
	Message string `json:"message"`
	Stack   string `json:"stack,omitempty"`
	Limit   string `json:"limit,omitempty"`
	Value   int64  `json:"value,omitempty"`
	What    string `json:"what,omitempty"`
}

const maxStack = 16 << 10

func toWire(analyzer string, err error) *wireError {
	if err == nil {
		return nil
	}
	w := &wireError{Kind: "other", Message: err.Error()}
	var pe *analyzers.PanicError
	var le *limits.Error
	switch {
	case errors.As(err, &pe):
		w.Kind, w.Message = "panic", fmt.Sprint(pe.Value)
		w.Stack = string(pe.Stack[:min(len(pe.Stack), maxStack)])
	case errors.As(err, &le):
		w.Kind, w.Limit, w.Value, w.What = "limit", le.Limit, le.Value, le.What
	case errors.Is(err, analyzers.ErrBound):
		w.Kind = "bound"
	case errors.Is(err, analyzers.ErrUnsupported):
		w.Kind = "unsupported"
	}
	return w
}

// remoteError is an analyzer's error as the worker reported it: the same message, and
// the same class for errors.Is and errors.As.
type remoteError struct {
	msg  string
	kind error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.kind }

func (w *wireError) err(analyzer string) error {
	switch w.Kind {
	case "panic":
		return &analyzers.PanicError{Analyzer: analyzer, Value: w.Message, Stack: []byte(w.Stack)}
	case "limit":
		return &remoteError{msg: w.Message, kind: &limits.Error{Limit: w.Limit, Value: w.Value, What: w.What}}
	case "bound":
		return &remoteError{msg: w.Message, kind: analyzers.ErrBound}
	case "unsupported":
		return &remoteError{msg: w.Message, kind: analyzers.ErrUnsupported}
	}
	return errors.New(w.Message)
}

// decodeFacts turns an analyzer's JSON facts into its own facts type.
func decodeFacts(an analyzers.Analyzer, raw json.RawMessage) (any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	t := reflect.TypeOf(an.Schema())
	if t == nil || t.Kind() != reflect.Pointer {
		return nil, fmt.Errorf("analyzer %s has no facts type to decode into", an.Name())
	}
	v := reflect.New(t.Elem())
	if err := json.Unmarshal(raw, v.Interface()); err != nil {
		return nil, fmt.Errorf("the analysis worker sent facts that do not decode: %w", err)
	}
	return v.Interface(), nil
}

// StoppedError says a worker was stopped, or died, while an analyzer ran on a file.
type StoppedError struct {
	Analyzer string
	// Limit is the limit the worker passed (worker-memory, parse-timeout, parse-cpu), or
	// empty when the worker died on its own.
	Limit string
	// Detail is the worker's last words or what was measured; it is left out of Error
	// for a stop at a limit, whose measure varies from run to run.
	Detail string
	limit  *limits.Error
}

func (e *StoppedError) Error() string {
	if e.limit != nil {
		// What was measured (Detail) varies from run to run; the result must not.
		return fmt.Sprintf("%s: the analysis process was stopped: %v", e.Analyzer, e.limit)
	}
	return fmt.Sprintf("%s: the analysis process died on this file (%s); the file was not fully inspected", e.Analyzer, e.Detail)
}

// Unwrap makes a stop at a limit a limit error, and a death an internal error.
func (e *StoppedError) Unwrap() error {
	if e.limit != nil {
		return e.limit
	}
	return &analyzers.PanicError{Analyzer: e.Analyzer, Value: "analysis process died: " + e.Detail}
}

// lastLine is the last non-empty line of b that is not a goroutine trace, trimmed.
func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "fatal error:") || strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "runtime:") {
			return strings.TrimSpace(l)
		}
	}
	if len(lines) > 0 {
		return strings.TrimSpace(lines[len(lines)-1])
	}
	return ""
}

var _ io.Closer = (*Pool)(nil)
