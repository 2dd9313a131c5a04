// Package inventory takes a delivery apart: it lists every file of a target (a file, a
// directory, an archive, a container image from a tarball, a layout or a registry), opens
// archives nested in archives to a bounded depth, and records for each file its path,
// sha256 digest, size, mode and the format sniffed from its bytes.
//
// It streams: every byte is decompressed and read once, nothing is extracted, and only an
// entry that needs random access (a zip inside a tar) is spooled, to memory or to a
// private scratch directory removed at the end. Everything read is hostile: limits bound
// every size, count and depth, panics in parsers are recovered, and whatever could not be
// inspected is recorded as an error against the entry it concerns while the walk goes on
// with the rest.
package inventory

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/archive"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// Scope selects which files of an image are listed.
type Scope string

const (
	// Squashed lists the final filesystem of an image: what a container would see.
	Squashed Scope = "squashed"
	// AllLayers also lists files that a later layer deleted or overwrote, and the
	// whiteouts that deleted them.
	AllLayers Scope = "all-layers"
)

// Options configure a walk.
type Options struct {
	Limits limits.Limits
	Scope  Scope
	// Platform selects an image of a multi-platform index ("linux/arm64").
	Platform string
	// Scratch is the directory under which the private scratch directory is made;
	// empty means the system's temporary directory.
	Scratch string
	// Jobs is how many files or layers are read at once; 0 means one per CPU.
	Jobs int
	// Progress, when set, receives a progress line a few times a second.
	Progress io.Writer
	// Keychain and Transport are used for registry targets.
	Keychain  authn.Keychain
	Transport http.RoundTripper
	// Analyzers run on every artifact they want, while the walk reads it; their facts
	// land in the artifact's Facts and their failures in Errors. None run when empty.
	Analyzers []analyzers.Analyzer
	// Isolate, when set, runs the analyzers it handles in processes of their own
	// (analyzers/worker), so that a parser that runs out of memory or hangs costs one
	// file an error instead of ending the run; the others run in this process.
	Isolate Isolator
	// Select, when set, limits the analyzers to the artifacts whose path it accepts.
	Select func(path string) bool
	// Name, when set, is the path a single-file target is listed under instead of its
	// base name (a rule's test fixture presented as "x.deb!control.tar.xz!postinst").
	Name string
	// FactsOut, when set, receives each artifact's facts as soon as its analyzers are
	// done, with an id that Inventory.IDs gives the artifact, and the inventory keeps no
	// facts: a walk in a worker hands them on instead of holding them all.
	FactsOut func(id int64, facts map[string]any)
	// Walker, when set, takes the inventory in its stead (analyzers/worker walks in a
	// process of its own).
	Walker Walker
	// Keep makes the walk keep every file's bytes readable after it ends (Stored), for
	// consumers that need them again, such as the SBOM catalogers: files of a directory
	// are read again from where they are, files from inside archives and images are
	// copied once into a private store while the walk reads them. Call Close to remove it.
	Keep bool
	// Catalog asks a Walker to catalog the delivery's packages where it walked, once the
	// walk is done, and to return them in Inventory.Catalog (analyzers/worker's walk
	// worker runs the cataloger registered with worker.RegisterCataloger). A walk in this
	// process leaves Inventory.Catalog nil: the caller catalogs.
	Catalog bool
}

// Catalog is a delivery's SBOM made where the delivery was walked: syft's model of it
// in syft's JSON format, or why it could not be made. sbom.Generate reads it.
type Catalog struct {
	SyftJSON []byte `json:"-"`
	Error    string `json:"error,omitempty"`
}

// Isolator runs analyzers away from the walk; analyzers/worker's Pool is one.
type Isolator interface {
	// Handles reports whether the isolator runs a.
	Handles(a analyzers.Analyzer) bool
	// Run runs list, every one of them handled and wanting a, and returns the outcomes
	// as analyzers.Run does.
	Run(ctx context.Context, list []analyzers.Analyzer, a *analyzers.Artifact) []analyzers.Outcome
}

// Inventory is what a walk found.
type Inventory struct {
	Targets   []result.Target
	Artifacts []result.Artifact
	Errors    []result.Error
	// Hidden counts image files hidden by later layers (listed only with AllLayers).
	Hidden int
	// Stored, with Options.Keep, says where each artifact's bytes can be read: Stored[i]
	// belongs to Artifacts[i].
	Stored []Stored
	// Catalog is the SBOM a Walker made with Options.Catalog; nil when none was made.
	Catalog *Catalog

	ids []int64 // the walk's node ids of the artifacts (Options.FactsOut)

	store *store
}

// Close removes the copies kept for Options.Keep.
func (inv *Inventory) Close() error {
	if inv == nil || inv.store == nil {
		return nil
	}
	err := inv.store.close()
	inv.store = nil
	return err
}

// Take walks every input and returns the inventory of all of them. It returns an error
// only when an input cannot be read at all (it does not exist, it is not an image, the
// registry refuses it); problems inside a delivery are in Inventory.Errors.
func Take(ctx context.Context, inputs []string, opts Options) (*Inventory, error) {
	if w := opts.Walker; w != nil {
		opts.Walker = nil
		return w.Take(ctx, inputs, opts)
	}
	if opts.Scope == "" {
		opts.Scope = Squashed
	}
	if opts.Jobs <= 0 {
		opts.Jobs = runtime.GOMAXPROCS(0)
	}
	targets := make([]Target, len(inputs))
	for i, in := range inputs {
		t, err := Resolve(in)
		if err != nil {
			return nil, err
		}
		targets[i] = t
	}
	w := newWalker(opts)
	defer w.close()
	if opts.Keep {
		st, err := newStore(opts.Scratch)
		if err != nil {
			return nil, fmt.Errorf("cannot make the directory for kept files: %w", err)
		}
		w.store = st
	}
	ok := false
	defer func() {
		if !ok && w.store != nil {
			w.store.close()
		}
	}()
	// Analyses beside the walk read the store: they end before it is closed.
	defer w.analyses.Wait()
	stop := w.prog.start(opts.Progress)
	defer stop()

	inv := &Inventory{}
	// Each target has target-timeout to be taken apart, the analyses of its files
	// included; those run beside the walk of the next target, so the deadlines end only
	// once every analysis has.
	var cancels []context.CancelFunc
	defer func() {
		for _, c := range cancels {
			c()
		}
	}()
	for i, t := range targets {
		tctx := ctx
		if s := opts.Limits.TargetTimeout; s > 0 {
			var cancel context.CancelFunc
			tctx, cancel = context.WithTimeout(ctx, time.Duration(s)*time.Second)
			cancels = append(cancels, cancel)
		}
		rt, err := w.target(tctx, i, t)
		if tctx.Err() != nil && ctx.Err() == nil {
			// Past the deadline: what was not read is an error of the target, not of
			// the run, and the verdict cannot be a pass.
			w.fail(t.Input, result.KindLimit, &limits.Error{Limit: "target-timeout", Value: opts.Limits.TargetTimeout,
				What: "the time taken to take this target apart"})
			err = nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Input, err)
		}
		inv.Targets = append(inv.Targets, rt)
	}
	w.analyses.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	multi := len(targets) > 1
	inv.Hidden = int(w.hidden.Load())
	type kept struct {
		a  result.Artifact
		s  Stored
		id int64
	}
	var all []kept
	for _, n := range w.nodes {
		if n.drop {
			continue
		}
		a := n.Artifact
		if multi {
			t := n.target
			a.Target = &t
		}
		s := n.stored
		if s.File == "" && w.store != nil && a.Type == archive.Hardlink.String() && a.Digest != "" {
			// A hard link's bytes are those of the file it links to, kept by digest.
			if k, ok := w.store.kept(a.Digest); ok {
				s = k
			}
		}
		all = append(all, kept{a, s, n.id})
	}
	slices.SortStableFunc(all, func(x, y kept) int {
		a, b := x.a, y.a
		return cmp.Or(cmp.Compare(deref(a.Target), deref(b.Target)), cmp.Compare(a.Path, b.Path),
			cmp.Compare(deref(a.Layer), deref(b.Layer)))
	})
	for _, k := range all {
		inv.Artifacts = append(inv.Artifacts, k.a)
		inv.ids = append(inv.ids, k.id)
		if w.store != nil {
			inv.Stored = append(inv.Stored, k.s)
		}
	}
	inv.store = w.store
	ok = true
	inv.Errors = w.errs
	sortErrors(inv)
	return inv, nil
}

// sortErrors puts the errors in path order, each once.
func sortErrors(inv *Inventory) {
	slices.SortStableFunc(inv.Errors, func(a, b result.Error) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Error, b.Error))
	})
	inv.Errors = slices.Compact(inv.Errors)
}

func deref(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

// walker holds the state of one walk. Its methods may run concurrently.
type walker struct {
	opts    Options
	lim     *limits.Limits
	scratch scratch
	store   *store // set with Options.Keep
	prog    progress

	// analyses run beside the walk over kept copies (see analyzeLater).
	analyses      sync.WaitGroup
	analysisSlots chan struct{}
	entries       atomic.Int64
	hidden        atomic.Int64 // image files hidden by later layers
	ids           atomic.Int64 // the last node id given

	mu    sync.Mutex
	nodes []*node
	errs  []result.Error
	seq   int64
}

func newWalker(opts Options) *walker {
	w := &walker{opts: opts, lim: &opts.Limits, analysisSlots: make(chan struct{}, max(opts.Jobs, 1))}
	w.scratch.parent = opts.Scratch
	return w
}

func (w *walker) close() { w.scratch.remove() }

// node is an artifact under construction.
type node struct {
	result.Artifact
	target int
	// origin identifies the top-level entry of an image layer this node came from, so
	// that everything nested in a hidden file is hidden with it.
	origin int64
	// name is the path within its namespace (its archive, directory or image).
	name string
	// drop marks a node left out of the squashed view.
	drop bool
	// stored is where its bytes were kept (Options.Keep).
	stored Stored
	// id names the node in this walk (Options.FactsOut).
	id int64
}

func (w *walker) add(n *node) {
	w.mu.Lock()
	w.nodes = append(w.nodes, n)
	w.mu.Unlock()
}

// fail records an error against a path.
func (w *walker) fail(path, kind string, err error) {
	if kind == "" {
		kind = kindOf(err)
	}
	w.mu.Lock()
	w.errs = append(w.errs, result.Error{Path: path, Kind: kind, Error: err.Error()})
	w.mu.Unlock()
}

func (w *walker) nextOrigin() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	return w.seq
}

// countEntry charges one artifact against the total-entries limit.
func (w *walker) countEntry() error {
	if n := w.entries.Add(1); n > w.lim.TotalEntries {
		return &limits.Error{Limit: "total-entries", Value: w.lim.TotalEntries, What: "the number of files in this run"}
	}
	w.prog.files.Add(1)
	return nil
}
