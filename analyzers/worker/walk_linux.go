package worker

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"golang.org/x/sys/unix"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// WalkEnv is the environment variable that marks a worker started to walk a delivery
// ("walk") rather than to analyse files; Serve reads it.
const WalkEnv = "KENSA_WORKER"

// walkRequest is what the parent sends a walk worker: inventory.Options without what
// cannot cross a process boundary.
type walkRequest struct {
	Inputs    []string        `json:"inputs"`
	Limits    limits.Limits   `json:"limits"`
	Scope     inventory.Scope `json:"scope"`
	Platform  string          `json:"platform,omitempty"`
	Scratch   string          `json:"scratch"`
	Jobs      int             `json:"jobs"`
	Name      string          `json:"name,omitempty"`
	Keep      bool            `json:"keep"`
	Progress  bool            `json:"progress,omitempty"`
	Analyzers []string        `json:"analyzers,omitempty"`
	Made      []madeAnalyzer  `json:"made,omitempty"`
	Isolate   bool            `json:"isolate,omitempty"`
	Catalog   bool            `json:"catalog,omitempty"`
}

// madeAnalyzer is an analyzer the walk worker makes from its description (RegisterAnalyzer).
type madeAnalyzer struct {
	Name string          `json:"name"`
	Spec json.RawMessage `json:"spec"`
}

var makers = struct {
	sync.Mutex
	m map[string]func(json.RawMessage) (analyzers.Analyzer, error)
}{m: map[string]func(json.RawMessage) (analyzers.Analyzer, error){}}

// RegisterAnalyzer lets a walk worker make the analyzer called name from a description:
// an analyzer that is not in the registry (the rules' pattern matcher, made from the
// rules) and that has a method Spec() (json.RawMessage, error) runs in the walk worker,
// beside the walk, instead of in kensa after it. Call it from an init function of a
// package linked into the binary.
func RegisterAnalyzer(name string, make func(spec json.RawMessage) (analyzers.Analyzer, error)) {
	makers.Lock()
	defer makers.Unlock()
	makers.m[name] = make
}

func maker(name string) func(json.RawMessage) (analyzers.Analyzer, error) {
	makers.Lock()
	defer makers.Unlock()
	return makers.m[name]
}

// Cataloger makes a delivery's SBOM in the walk worker. It is called before the walk
// (to build what does not depend on the delivery while the walk runs) and returns the
// function that catalogs the inventory the walk took, with its bytes kept, into bytes
// sbom.Generate reads (inventory.Catalog).
type Cataloger func(ctx context.Context) func(ctx context.Context, inv *inventory.Inventory) ([]byte, error)

var cataloger struct {
	sync.Mutex
	c Cataloger
}

// RegisterCataloger lets walk workers catalog a delivery's packages where they walked it,
// for inventory.Options.Catalog: the catalogers then parse package databases and
// manifests under walk-memory and Landlock instead of in kensa. Call it from an init
// function of a package linked into the binary.
func RegisterCataloger(c Cataloger) {
	cataloger.Lock()
	defer cataloger.Unlock()
	cataloger.c = c
}

func registeredCataloger() Cataloger {
	cataloger.Lock()
	defer cataloger.Unlock()
	return cataloger.c
}

// maxCatalog bounds the SBOM a walk worker sends.
const maxCatalog = 1 << 30

// walkReply is one frame of a walk worker's answer: a progress line, a chunk of
// artifacts and where their bytes are kept, or the end.
type walkReply struct {
	Progress  string                   `json:"progress,omitempty"`
	Facts     *walkFacts               `json:"facts,omitempty"`
	Artifacts []inventory.WireArtifact `json:"artifacts,omitempty"`
	Stored    []inventory.WireStored   `json:"stored,omitempty"`
	Done      bool                     `json:"done,omitempty"`
	Inventory *inventory.Wire          `json:"inventory,omitempty"` // the rest, with Done
	Error     string                   `json:"error,omitempty"`     // Take's error, with Done
	Usage     bool                     `json:"usage,omitempty"`     // the error is the user's
	Stats     *Stats                   `json:"stats,omitempty"`     // its analysis workers', with Done

	catalog []byte // a piece of the SBOM (catalogFrame)
}

const walkChunk = 2000 // artifacts per frame

// walkFacts are one artifact's facts, sent as soon as its analyzers are done.
type walkFacts struct {
	ID    int64                      `json:"id"`
	Facts map[string]json.RawMessage `json:"facts"`
}

// Walker takes inventories in walk workers: a process of its own per walk, started by
// re-executing the running binary, that opens the archives and images, decompresses and
// hashes, and runs the analyzers in analysis workers of its own. A delivery that exhausts
// the walk's memory (walk-memory) or time (target-timeout) stops that process: the targets
// get an error each and the run goes on to a verdict that cannot be a pass. Set it as
// inventory.Options.Walker.
//
// What kensa's verdict rests on is not taken from the walk worker on trust: with
// Options.Keep, kensa hashes the delivery's own files (a file target, a directory's files)
// itself and compares; a digest the walk reported differently is an error. What lies
// inside an archive or an image is known through the walk worker.
type Walker struct {
	cfg Config

	mu    sync.Mutex
	stats Stats // the walk workers' analysis workers
	walks WalkStats
}

// WalkStats describe what the walk workers did.
type WalkStats struct {
	Started, Stopped, Died int
	// PeakMemory is the most memory of its own a walk worker was seen to use, in bytes.
	PeakMemory int64
}

// NewWalker returns a Walker; Config.Size is the number of analysis workers each walk
// worker may run at once.
func NewWalker(cfg Config) (*Walker, error) {
	cfg, err := cfg.complete()
	if err != nil {
		return nil, err
	}
	return &Walker{cfg: cfg}, nil
}

// Stats returns what the analysis workers of the walk workers did, and the walk workers
// themselves.
func (w *Walker) Stats() (Stats, WalkStats) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats, w.walks
}

// Take walks inputs in a walk worker and returns the inventory as inventory.Take would.
// Analyzers a worker cannot make for itself (the rules' pattern matcher) run here after
// the walk, over the bytes it kept. Options a process boundary cannot carry (Select, a
// custom Keychain or Transport) make Take walk in this process instead.
func (w *Walker) Take(ctx context.Context, inputs []string, opts inventory.Options) (*inventory.Inventory, error) {
	if opts.Select != nil || opts.Keychain != nil || opts.Transport != nil {
		return inventory.Take(ctx, inputs, opts)
	}
	if opts.Scope == "" {
		opts.Scope = inventory.Squashed
	}
	if opts.Jobs <= 0 {
		opts.Jobs = runtime.GOMAXPROCS(0)
	}
	targets := make([]inventory.Target, len(inputs))
	for i, in := range inputs {
		t, err := inventory.Resolve(in)
		if err != nil {
			return nil, err
		}
		targets[i] = t
	}
	scratch := opts.Scratch
	if scratch == "" {
		scratch = os.TempDir()
	}
	scratch, err := filepath.Abs(scratch)
	if err != nil {
		return nil, err
	}
	// The walk writes in a directory of its own, removed with the inventory (or at once
	// when the walk failed), whatever the walk worker left in it.
	dir, err := os.MkdirTemp(scratch, "kensa-walk-")
	if err != nil {
		return nil, fmt.Errorf("making the walk's scratch directory: %w", err)
	}
	owned := false
	defer func() {
		if !owned {
			os.RemoveAll(dir)
		}
	}()
	types := map[string]reflect.Type{}
	for _, a := range served() {
		types[a.Name()] = reflect.TypeOf(a)
	}
	req := walkRequest{Inputs: inputs, Limits: opts.Limits, Scope: opts.Scope, Platform: opts.Platform, Scratch: dir,
		Jobs: opts.Jobs, Name: opts.Name, Keep: opts.Keep, Progress: opts.Progress != nil, Isolate: opts.Isolate != nil,
		Catalog: opts.Catalog && registeredCataloger() != nil}
	if req.Catalog {
		req.Keep = true // the catalogers read the kept bytes
	}
	byName := map[string]analyzers.Analyzer{}
	var here []analyzers.Analyzer
	for _, a := range opts.Analyzers {
		byName[a.Name()] = a
		if t, ok := types[a.Name()]; ok && t == reflect.TypeOf(a) {
			req.Analyzers = append(req.Analyzers, a.Name())
			continue
		}
		if s, ok := a.(interface {
			Spec() (json.RawMessage, error)
		}); ok && maker(a.Name()) != nil {
			spec, err := s.Spec()
			if err != nil {
				return nil, fmt.Errorf("describing the analyzer %s to the walk worker: %w", a.Name(), err)
			}
			req.Made = append(req.Made, madeAnalyzer{Name: a.Name(), Spec: spec})
			continue
		}
		here = append(here, a)
	}
	if len(here) > 0 {
		req.Keep = true // the analyzers here read the kept bytes
	}
	registry := false
	for _, t := range targets {
		registry = registry || t.Kind == inventory.KindRegistry
	}
	decode := func(name string, raw json.RawMessage) (any, error) {
		a, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("no analyzer %q was asked for", name)
		}
		return decodeFacts(a, raw)
	}
	// Facts are decoded as they come, by as many goroutines as jobs, so that reading them
	// keeps up with the walk.
	var (
		facts   = map[int64]map[string]any{}
		factsMu sync.Mutex
		factErr error
		work    = make(chan *walkFacts, 4*opts.Jobs)
		decoded sync.WaitGroup
	)
	for range opts.Jobs {
		decoded.Add(1)
		go func() {
			defer decoded.Done()
			for f := range work {
				m := make(map[string]any, len(f.Facts))
				var ferr error
				for name, raw := range f.Facts {
					v, err := decode(name, raw)
					if err != nil {
						ferr = err
						break
					}
					m[name] = v
				}
				factsMu.Lock()
				if ferr != nil && factErr == nil {
					factErr = ferr
				}
				facts[f.ID] = m
				factsMu.Unlock()
			}
		}()
	}
	wire, err := w.run(ctx, req, targets, registry, opts.Progress, func(f *walkFacts) error {
		factsMu.Lock()
		ferr := factErr
		factsMu.Unlock()
		if ferr != nil {
			return ferr
		}
		work <- f
		return nil
	})
	close(work)
	decoded.Wait()
	if err == nil && factErr != nil {
		err = fmt.Errorf("the walk worker sent facts that do not decode: %w", factErr)
	}
	var stopped *walkStopped
	if errors.As(err, &stopped) {
		return stoppedInventory(targets, stopped.err), nil
	}
	if err != nil {
		return nil, err
	}
	owned = true // FromWire's inventory removes it, or FromWire itself when it fails
	inv, err := inventory.FromWire(wire, dir, facts, decode)
	if err != nil {
		return nil, fmt.Errorf("reading what the walk worker found: %w", err)
	}
	inventory.AnalyzeKept(ctx, inv, here, opts)
	if opts.Keep {
		rehash(inv, opts.Jobs)
	}
	if !opts.Keep {
		// Nothing was kept, or only for the analyzers here: the walk's directory goes.
		inv.Close()
		inv.Stored = nil
	}
	return inv, nil
}

// stoppedInventory is what is known of targets whose walk worker was stopped: the targets
// and the error.
func stoppedInventory(targets []inventory.Target, stop error) *inventory.Inventory {
	inv := &inventory.Inventory{}
	for _, t := range targets {
		inv.Targets = append(inv.Targets, result.Target{Input: t.Input, Kind: string(t.Kind)})
		kind := result.KindInternal
		if limits.IsLimit(stop) {
			kind = result.KindLimit
		}
		inv.Errors = append(inv.Errors, result.Error{Path: t.Input, Kind: kind, Error: stop.Error()})
	}
	return inv
}

// rehash hashes the delivery's own files again in this process (a file target, the files
// of a directory target, read where they are) and holds the walk's digests to them.
func rehash(inv *inventory.Inventory, jobs int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	ch := make(chan int)
	for range max(jobs, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				a := &inv.Artifacts[i]
				d, err := digestOf(inv.Stored[i])
				mu.Lock()
				switch {
				case err != nil:
					inv.Errors = append(inv.Errors, result.Error{Path: a.Path, Kind: result.KindIO, Error: "hashing the file again: " + err.Error()})
				case d != a.Digest:
					inv.Errors = append(inv.Errors, result.Error{Path: a.Path, Kind: result.KindInternal,
						Error: fmt.Sprintf("the walk worker reported %s for this file, kensa read %s; kensa's digest is listed", a.Digest, d)})
					for t := range inv.Targets {
						if inv.Targets[t].Kind == string(inventory.KindFile) && inv.Targets[t].Digest == a.Digest {
							inv.Targets[t].Digest = d
						}
					}
					a.Digest = d
				}
				mu.Unlock()
			}
		}()
	}
	for i, a := range inv.Artifacts {
		if i < len(inv.Stored) && inv.Stored[i].OnDisk() && a.Type == "file" {
			ch <- i
		}
	}
	close(ch)
	wg.Wait()
}

func digestOf(s inventory.Stored) (string, error) {
	r, err := s.Open()
	if err != nil {
		return "", err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// run starts a walk worker for req and reads its answer. It returns the inventory, or the
// error of the walk itself, or a *walkStopped when the worker was stopped or died.
func (w *Walker) run(ctx context.Context, req walkRequest, targets []inventory.Target, registry bool, progress io.Writer, onFacts func(*walkFacts) error) (*inventory.Wire, error) {
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("starting the walk worker: %w", err)
	}
	defer reqR.Close()
	defer reqW.Close()
	respR, respW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("starting the walk worker: %w", err)
	}
	defer respR.Close()
	defer respW.Close()
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	tail := &tailWriter{max: 8 << 10}
	cmd := &exec.Cmd{Path: w.cfg.Executable, Args: append(append([]string{}, w.cfg.Args...), Arg), Dir: cwd,
		Stdout: tail, Stderr: tail, ExtraFiles: []*os.File{reqR, respW},
		SysProcAttr: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}}
	env := allowedEnv
	if registry {
		env = append(append([]string{}, allowedEnv...), "HOME", "DOCKER_CONFIG", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY",
			"https_proxy", "http_proxy", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR")
	}
	for _, k := range env {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Env = append(cmd.Env, WalkEnv+"=walk", "GOMEMLIMIT="+strconv.FormatInt(req.Limits.WalkMemory/10*7, 10), "GOTRACEBACK=single")
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	cmd.Stdin = devnull
	d := domain{exe: w.cfg.Executable, readExec: readable, write: []string{req.Scratch, os.DevNull}}
	if registry {
		d = domain{readAll: true, write: []string{req.Scratch, os.DevNull}, tcp: true}
	} else {
		for _, t := range targets {
			if p, err := filepath.Abs(t.Ref); err == nil {
				d.read = append(d.read, p)
			}
		}
	}
	waited := make(chan struct{})
	if err := startWalk(cmd, d, waited); err != nil {
		return nil, fmt.Errorf("starting the walk worker (%s): %w", w.cfg.Executable, err)
	}
	reqR.Close()
	respW.Close()
	w.mu.Lock()
	w.walks.Started++
	w.mu.Unlock()
	if err := restrictWalk(cmd.Process.Pid, &req.Limits); err != nil {
		killGroup(cmd)
		<-waited
		return nil, fmt.Errorf("limiting the walk worker: %w", err)
	}
	b, _ := json.Marshal(req)
	if _, err := reqW.Write(b); err != nil {
		killGroup(cmd)
		<-waited
		return nil, fmt.Errorf("starting the walk worker: %w", err)
	}
	reqW.Close()

	// The watchdog: walk-memory, and the targets' time with a margin (the walk ends each
	// target at target-timeout itself).
	var (
		stopMu   sync.Mutex
		stopErr  error
		peak     int64
		finished = make(chan struct{})
	)
	stop := func(e error) {
		stopMu.Lock()
		if stopErr == nil {
			stopErr = e
		}
		stopMu.Unlock()
		killGroup(cmd)
	}
	deadline := time.Duration(req.Limits.TargetTimeout*int64(len(targets)))*time.Second + time.Minute
	go func() {
		pid := cmd.Process.Pid
		t := time.NewTicker(pollEvery)
		defer t.Stop()
		started := time.Now()
		for {
			select {
			case <-finished:
				return
			case <-waited:
				return
			case <-ctx.Done():
				killGroup(cmd)
				return
			case <-t.C:
			}
			rss := residentBytes(pid)
			stopMu.Lock()
			peak = max(peak, rss)
			stopMu.Unlock()
			if rss > req.Limits.WalkMemory {
				stop(&limits.Error{Limit: "walk-memory", Value: req.Limits.WalkMemory, What: "the memory taking this delivery apart took"})
				return
			}
			if time.Since(started) > deadline {
				stop(&limits.Error{Limit: "target-timeout", Value: req.Limits.TargetTimeout, What: "the time taken to take this target apart"})
				return
			}
		}
	}()
	wire, stats, readErr := readWalk(bufio.NewReaderSize(respR, 64<<10), req, progress, onFacts)
	close(finished)
	if readErr != nil {
		killGroup(cmd)
	}
	<-waited
	if progress != nil {
		fmt.Fprint(progress, "\r\x1b[K")
	}
	stopMu.Lock()
	defer stopMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.walks.PeakMemory = max(w.walks.PeakMemory, peak)
	if stats != nil {
		w.stats.Started += stats.Started
		w.stats.Stopped += stats.Stopped
		w.stats.Died += stats.Died
		w.stats.PeakMemory = max(w.stats.PeakMemory, stats.PeakMemory)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if stopErr == nil && readErr == nil && wire != nil {
		return wire, nil
	}
	var we *walkError
	if errors.As(readErr, &we) {
		// The walk's own error: a target that cannot be read, or named wrongly.
		if we.usage {
			return nil, inventory.NewUsageError(we.msg)
		}
		return nil, errors.New(we.msg)
	}
	if stopErr != nil {
		w.walks.Stopped++
		return nil, &walkStopped{fmt.Errorf("the walk worker was stopped: %w", stopErr)}
	}
	words := lastLine(tail.bytes())
	if strings.Contains(words, "out of memory") || strings.Contains(words, "cannot allocate memory") || runtimeFault(tail.bytes()) {
		w.walks.Stopped++
		return nil, &walkStopped{fmt.Errorf("the walk worker was stopped: %w", &limits.Error{Limit: "walk-memory", Value: req.Limits.WalkMemory, What: "the memory taking this delivery apart took"})}
	}
	w.walks.Died++
	if words == "" {
		words = fmt.Sprint(readErr)
		if st := cmd.ProcessState; st != nil {
			words = st.String()
		}
	}
	return nil, &walkStopped{&walkDied{words}}
}

// walkStopped is a walk worker stopped at a limit, or dead: an error of the targets it was
// taking apart, not of the run.
type walkStopped struct{ err error }

func (e *walkStopped) Error() string { return e.err.Error() }
func (e *walkStopped) Unwrap() error { return e.err }

// walkDied says a walk worker ended before it answered.
type walkDied struct{ words string }

func (e *walkDied) Error() string {
	return fmt.Sprintf("the walk worker died taking this delivery apart (%s); the delivery was not inspected", e.words)
}

// walkError is the error inventory.Take returned in the walk worker.
type walkError struct {
	msg   string
	usage bool
}

func (e *walkError) Error() string { return e.msg }

// readWalk reads a walk worker's frames: at most total-entries artifacts, each frame at
// most maxReply bytes.
func readWalk(rd *bufio.Reader, req walkRequest, progress io.Writer, onFacts func(*walkFacts) error) (*inventory.Wire, *Stats, error) {
	var arts []inventory.WireArtifact
	var stored []inventory.WireStored
	var catalog []byte
	nfacts := int64(0)
	for {
		var rep walkReply
		if err := readWalkFrame(rd, &rep); err != nil {
			return nil, nil, err
		}
		switch {
		case rep.catalog != nil:
			if !req.Catalog || len(catalog)+len(rep.catalog) > maxCatalog {
				return nil, nil, fmt.Errorf("the walk worker sent an SBOM it was not asked for, or one larger than %d bytes", maxCatalog)
			}
			catalog = append(catalog, rep.catalog...)
		case rep.Facts != nil:
			if nfacts++; nfacts > req.Limits.TotalEntries+1 {
				return nil, nil, fmt.Errorf("the walk worker sent facts of %d files, more than total-entries", nfacts)
			}
			if err := onFacts(rep.Facts); err != nil {
				return nil, nil, fmt.Errorf("the walk worker sent facts that do not decode: %w", err)
			}
		case rep.Progress != "" && progress != nil:
			fmt.Fprint(progress, "\r\x1b[K"+printable(rep.Progress))
		case rep.Done:
			if rep.Error != "" {
				return nil, rep.Stats, &walkError{msg: rep.Error, usage: rep.Usage}
			}
			if rep.Inventory == nil {
				return nil, rep.Stats, errors.New("the walk worker ended without an inventory")
			}
			rep.Inventory.Artifacts, rep.Inventory.Stored = arts, stored
			switch c := rep.Inventory.Catalog; {
			case c == nil && req.Catalog:
				return nil, rep.Stats, errors.New("the walk worker ended without the SBOM it was asked for")
			case c != nil && !req.Catalog:
				return nil, rep.Stats, errors.New("the walk worker sent an SBOM it was not asked for")
			case c != nil:
				c.SyftJSON = catalog
			}
			return rep.Inventory, rep.Stats, nil
		}
		arts = append(arts, rep.Artifacts...)
		stored = append(stored, rep.Stored...)
		if int64(len(arts)) > req.Limits.TotalEntries+1 || len(stored) > len(arts) {
			return nil, nil, fmt.Errorf("the walk worker sent %d artifacts, more than total-entries", len(arts))
		}
	}
}

// printable keeps the letters, digits, punctuation and spaces of a progress line.
func printable(s string) string {
	if i := strings.LastIndex(s, "\x1b[K"); i >= 0 {
		s = s[i+3:]
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsPrint(r) && b.Len() < 200 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// readWalkFrame reads one frame of a walk worker: a frame of facts (factsFrame), a piece
// of the SBOM (catalogFrame), or JSON.
func readWalkFrame(rd *bufio.Reader, v *walkReply) error {
	b, err := readFrame(rd)
	if err != nil {
		return err
	}
	if len(b) > 0 && b[0] == catalogFrame {
		v.catalog = b[1:]
		return nil
	}
	if len(b) > 0 && b[0] == factsFrame {
		f, err := decodeFactsFrame(b[1:])
		if err != nil {
			return err
		}
		v.Facts = f
		return nil
	}
	return json.Unmarshal(b, v)
}

// factsFrame starts a frame of one file's facts: its id (8 bytes), then for each analyzer
// its name (2-byte length) and its facts as JSON (4-byte length). The facts are decoded
// once, by the analyzer's own type, and not scanned as part of a larger JSON document.
const factsFrame = 'F'

// catalogFrame starts a frame that holds the next piece of the SBOM a walk worker made
// (Options.Catalog), as its bytes; catalogPiece is the most one frame holds.
const (
	catalogFrame = 'C'
	catalogPiece = 1 << 20
)

func encodeFactsFrame(f *walkFacts) []byte {
	n := 1 + 8
	for name, raw := range f.Facts {
		n += 2 + len(name) + 4 + len(raw)
	}
	b := make([]byte, 0, n)
	b = append(b, factsFrame)
	b = binary.BigEndian.AppendUint64(b, uint64(f.ID))
	for name, raw := range f.Facts {
		b = binary.BigEndian.AppendUint16(b, uint16(len(name)))
		b = append(b, name...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(raw)))
		b = append(b, raw...)
	}
	return b
}

func decodeFactsFrame(b []byte) (*walkFacts, error) {
	bad := errors.New("the walk worker sent a malformed frame of facts")
	if len(b) < 8 {
		return nil, bad
	}
	f := &walkFacts{ID: int64(binary.BigEndian.Uint64(b)), Facts: map[string]json.RawMessage{}}
	b = b[8:]
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, bad
		}
		nl := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+nl+4 {
			return nil, bad
		}
		name := string(b[2 : 2+nl])
		b = b[2+nl:]
		rl := int(binary.BigEndian.Uint32(b))
		if len(b) < 4+rl {
			return nil, bad
		}
		f.Facts[name] = b[4 : 4+rl]
		b = b[4+rl:]
	}
	return f, nil
}

// startWalk starts cmd from a thread of its own confined to d (when the kernel has
// Landlock); the thread lives until the worker has ended, since the worker's
// parent-death signal follows it, and then ends. waited is closed once the worker was
// waited for.
func startWalk(cmd *exec.Cmd, d domain, waited chan struct{}) error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if abi := landlockABI(); abi > 0 {
			if err := confineThread(abi, d); err != nil {
				started <- fmt.Errorf("confining the walk worker: %w", err)
				close(waited)
				return
			}
		}
		if err := cmd.Start(); err != nil {
			started <- err
			close(waited)
			return
		}
		started <- nil
		cmd.Wait()
		close(waited)
	}()
	return <-started
}

// restrictWalk sets the resource limits of a walk worker: no core file, and files no
// larger than all a delivery may hold.
func restrictWalk(pid int, lim *limits.Limits) error {
	if !raceBuild {
		if err := setLimit(pid, unix.RLIMIT_DATA, uint64(lim.WalkMemory+runtimeReserve)); err != nil {
			return err
		}
	}
	if err := setLimit(pid, unix.RLIMIT_CORE, 0); err != nil {
		return err
	}
	return setLimit(pid, unix.RLIMIT_FSIZE, uint64(max(lim.TotalSize, lim.FileSize)))
}

// serveWalk is the main loop of a walk worker: it reads one request from descriptor 3,
// takes the inventory and writes it to descriptor 4 in frames.
func serveWalk() int {
	reqFile, respFile := os.NewFile(3, "request"), os.NewFile(4, "replies")
	if reqFile == nil || respFile == nil {
		fmt.Fprintln(os.Stderr, "kensa: the walk worker was started without its descriptors; it is started by kensa itself")
		return 2
	}
	b, err := io.ReadAll(io.LimitReader(reqFile, 16<<20))
	reqFile.Close()
	var req walkRequest
	if err == nil {
		err = json.Unmarshal(b, &req)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kensa: walk worker: bad request:", err)
		return 2
	}
	// This process may write only in its scratch directory: a library that makes its own
	// temporary files (syft's Java cataloger unpacks archives) makes them there.
	if err := os.Setenv("TMPDIR", req.Scratch); err != nil {
		fmt.Fprintln(os.Stderr, "kensa: walk worker:", err)
		return 2
	}
	out := bufio.NewWriterSize(respFile, 64<<10)
	var mu sync.Mutex
	send := func(rep walkReply) error {
		mu.Lock()
		defer mu.Unlock()
		return sendJSON(out, rep)
	}
	opts := inventory.Options{Limits: req.Limits, Scope: req.Scope, Platform: req.Platform, Scratch: req.Scratch,
		Jobs: req.Jobs, Name: req.Name, Keep: req.Keep}
	byName := map[string]analyzers.Analyzer{}
	for _, a := range served() {
		byName[a.Name()] = a
	}
	for _, name := range req.Analyzers {
		a, ok := byName[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "kensa: walk worker: no analyzer %q\n", name)
			return 2
		}
		opts.Analyzers = append(opts.Analyzers, a)
	}
	for _, m := range req.Made {
		mk := maker(m.Name)
		if mk == nil {
			fmt.Fprintf(os.Stderr, "kensa: walk worker: no analyzer %q to make\n", m.Name)
			return 2
		}
		a, err := mk(m.Spec)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kensa: walk worker: making the analyzer %s: %v\n", m.Name, err)
			return 2
		}
		opts.Analyzers = append(opts.Analyzers, a)
	}
	var pool *Pool
	if req.Isolate && len(opts.Analyzers) > 0 {
		lim := req.Limits
		// The facts only pass through this process: they stay as the workers wrote them.
		if pool, err = New(Config{Size: req.Jobs, Limits: &lim, RawFacts: true}); err != nil {
			fmt.Fprintln(os.Stderr, "kensa: walk worker:", err)
			return 2
		}
		opts.Isolate = pool
	}
	if req.Progress {
		opts.Progress = progressWriter(func(line string) { send(walkReply{Progress: line}) })
	}
	// Each file's facts go to kensa as soon as they are known: the walk does not hold them.
	var factsErr error
	opts.FactsOut = func(id int64, facts map[string]any) {
		f := &walkFacts{ID: id, Facts: make(map[string]json.RawMessage, len(facts))}
		for name, v := range facts {
			raw, ok := v.(json.RawMessage) // from an analysis worker, as it wrote them
			if !ok {
				b, err := json.Marshal(v)
				if err != nil {
					mu.Lock()
					factsErr = fmt.Errorf("encoding the facts of %s: %w", name, err)
					mu.Unlock()
					return
				}
				raw = b
			}
			f.Facts[name] = raw
		}
		b := encodeFactsFrame(f)
		mu.Lock()
		defer mu.Unlock()
		if err := bufferFrame(out, b); err != nil && factsErr == nil {
			factsErr = fmt.Errorf("sending the facts of a file: %w", err)
		}
	}
	var catalog func(context.Context, *inventory.Inventory) ([]byte, error)
	if req.Catalog {
		c := registeredCataloger()
		if c == nil {
			fmt.Fprintln(os.Stderr, "kensa: walk worker: no cataloger is registered")
			return 2
		}
		catalog = c(context.Background()) // builds what it needs while the walk runs
	}
	// Facts frames go out when the buffer fills, and at least every factsFlush: one
	// write per file cost a system call here and a wake-up in kensa for each of tens of
	// thousands of files.
	stopFlush := make(chan struct{})
	go func() {
		t := time.NewTicker(factsFlush)
		defer t.Stop()
		for {
			select {
			case <-stopFlush:
				return
			case <-t.C:
				mu.Lock()
				out.Flush() // an error stays in out: the next frame reports it
				mu.Unlock()
			}
		}
	}()
	inv, err := inventory.Take(context.Background(), req.Inputs, opts)
	close(stopFlush)
	mu.Lock()
	if ferr := out.Flush(); ferr != nil && factsErr == nil {
		factsErr = fmt.Errorf("sending the facts of a file: %w", ferr)
	}
	mu.Unlock()
	if err == nil && factsErr != nil {
		inv.Close()
		err = factsErr
	}
	var sbomJSON []byte
	if err == nil && catalog != nil {
		// The catalogers read the kept bytes, in this process, before they are handed on.
		inv.Catalog = &inventory.Catalog{}
		if sbomJSON, err = catalog(context.Background(), inv); err != nil {
			inv.Catalog.Error, sbomJSON, err = err.Error(), nil, nil
		}
	}
	var stats *Stats
	if pool != nil {
		pool.Close()
		st := pool.Stats()
		stats = &st
	}
	if err != nil {
		var ue *inventory.UsageError
		if send(walkReply{Done: true, Error: err.Error(), Usage: errors.As(err, &ue), Stats: stats}) != nil {
			return 2
		}
		return 0
	}
	wire, err := inv.ToWire()
	if err != nil {
		inv.Close()
		send(walkReply{Done: true, Error: err.Error(), Stats: stats})
		return 0
	}
	inv.Detach() // the parent reads the kept files, and removes them
	for i := 0; i < len(wire.Artifacts); i += walkChunk {
		j := min(i+walkChunk, len(wire.Artifacts))
		rep := walkReply{Artifacts: wire.Artifacts[i:j]}
		if len(wire.Stored) > 0 {
			rep.Stored = wire.Stored[i:j]
		}
		if send(rep) != nil {
			return 2
		}
	}
	for i := 0; i < len(sbomJSON); i += catalogPiece {
		piece := append([]byte{catalogFrame}, sbomJSON[i:min(i+catalogPiece, len(sbomJSON))]...)
		mu.Lock()
		err := writeFrame(out, piece)
		mu.Unlock()
		if err != nil {
			return 2
		}
	}
	wire.Artifacts, wire.Stored = nil, nil
	if send(walkReply{Done: true, Inventory: wire, Stats: stats}) != nil {
		return 2
	}
	return 0
}

// factsFlush is the longest a file's facts wait in the walk worker's buffer.
const factsFlush = 25 * time.Millisecond

// progressWriter hands each progress line the walk writes to send.
type progressWriter func(line string)

func (p progressWriter) Write(b []byte) (int, error) {
	p(string(b))
	return len(b), nil
}

var _ inventory.Walker = (*Walker)(nil)
