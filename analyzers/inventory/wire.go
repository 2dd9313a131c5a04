package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/result"
)

// Walker takes an inventory somewhere else than in this process: analyzers/worker walks
// in a process of its own, so that an archive or image that exhausts memory or hangs costs
// the target an error instead of ending kensa. When Options.Walker is set, Take hands
// the whole walk to it (with Walker unset).
type Walker interface {
	Take(ctx context.Context, inputs []string, opts Options) (*Inventory, error)
}

// Wire is an inventory as it crosses a process boundary: JSON, with each analyzer's facts
// left encoded for the receiver to decode into the analyzer's own type, and the kept bytes
// named by the files that hold them under Store, the walk's private directory.
type Wire struct {
	Targets   []result.Target `json:"targets"`
	Artifacts []WireArtifact  `json:"artifacts"`
	Errors    []result.Error  `json:"errors"`
	Hidden    int             `json:"hidden"`
	Stored    []WireStored    `json:"stored,omitempty"`
	Store     string          `json:"store,omitempty"`
	// Catalog is the SBOM made with Options.Catalog; its bytes travel apart from the
	// JSON of the Wire.
	Catalog *Catalog `json:"catalog,omitempty"`
}

// WireArtifact is an artifact with its facts encoded, analyzer by analyzer; a failed
// analyzer's entry is null.
type WireArtifact struct {
	result.Artifact
	Facts map[string]json.RawMessage `json:"facts,omitempty"`
	// ID is the id the walk gave the artifact's facts (Options.FactsOut).
	ID int64 `json:"id,omitempty"`
}

// WireStored is a Stored with what Open checks.
type WireStored struct {
	File   string     `json:"file,omitempty"`
	Offset int64      `json:"offset,omitempty"`
	Size   int64      `json:"size"`
	MIME   string     `json:"mime,omitempty"`
	InPack bool       `json:"inPack,omitempty"`
	Stamp  *WireStamp `json:"stamp,omitempty"`
}

// WireStamp is what a directory target's file looked like when the walk read it.
type WireStamp struct {
	Size   int64    `json:"size"`
	MTime  int64    `json:"mtime"` // nanoseconds since the epoch
	Change [4]int64 `json:"change"`
	OK     bool     `json:"ok"`
}

// ToWire encodes the inventory. The kept bytes stay where they are: the receiver reads
// them from Store, and removes it (FromWire's Close) once done.
func (inv *Inventory) ToWire() (*Wire, error) {
	w := &Wire{Targets: inv.Targets, Errors: inv.Errors, Hidden: inv.Hidden, Catalog: inv.Catalog}
	if inv.store != nil {
		w.Store = inv.store.dir
	}
	for i, a := range inv.Artifacts {
		wa := WireArtifact{Artifact: a}
		if i < len(inv.ids) {
			wa.ID = inv.ids[i]
		}
		wa.Artifact.Facts = nil
		if a.Facts != nil {
			wa.Facts = make(map[string]json.RawMessage, len(a.Facts))
			for name, f := range a.Facts {
				b, err := json.Marshal(f)
				if err != nil {
					return nil, fmt.Errorf("%s: encoding the facts of %s: %w", a.Path, name, err)
				}
				wa.Facts[name] = b
			}
		}
		w.Artifacts = append(w.Artifacts, wa)
	}
	for _, s := range inv.Stored {
		ws := WireStored{File: s.File, Offset: s.Offset, Size: s.Size, MIME: s.MIME, InPack: s.inPack}
		if st := s.stamp; st != nil {
			ws.Stamp = &WireStamp{Size: st.size, MTime: st.mtime.UnixNano(), Change: st.change, OK: st.ok}
		}
		w.Stored = append(w.Stored, ws)
	}
	return w, nil
}

// Detach leaves the kept bytes in place when the inventory is closed: another process
// took them over (ToWire).
func (inv *Inventory) Detach() { inv.store = nil }

// FromWire rebuilds an inventory from w, which a walk in another process wrote in dir, a
// directory made for that walk alone: Store must be a directory directly in dir, and every
// kept file a file of Store. decode turns an analyzer's encoded facts into its own type.
// The inventory's Close removes dir.
//
// facts, when not nil, holds the facts the walk handed on as it went (Options.FactsOut),
// by id: they join the artifacts with those ids.
func FromWire(w *Wire, dir string, facts map[int64]map[string]any, decode func(analyzer string, raw json.RawMessage) (any, error)) (*Inventory, error) {
	inv := &Inventory{Targets: w.Targets, Errors: w.Errors, Hidden: w.Hidden, Catalog: w.Catalog}
	inv.store = &store{dir: dir, byDigest: map[string]Stored{}}
	if w.Store != "" && (filepath.Dir(filepath.Clean(w.Store)) != filepath.Clean(dir) || !strings.HasPrefix(filepath.Base(w.Store), "kensa-kept-")) {
		inv.Close()
		return nil, fmt.Errorf("the walk kept its files in %s, not in a directory of its own in %s", w.Store, dir)
	}
	ok := false
	defer func() {
		if !ok {
			inv.Close()
		}
	}()
	if len(w.Stored) > 0 && len(w.Stored) != len(w.Artifacts) {
		return nil, fmt.Errorf("the walk sent %d kept files for %d artifacts", len(w.Stored), len(w.Artifacts))
	}
	for _, wa := range w.Artifacts {
		a := wa.Artifact
		if wa.Facts != nil {
			a.Facts = make(map[string]any, len(wa.Facts))
			for name, raw := range wa.Facts {
				f, err := decode(name, raw)
				if err != nil {
					return nil, fmt.Errorf("%s: the facts of %s: %w", a.Path, name, err)
				}
				a.Facts[name] = f
			}
		}
		if f, ok := facts[wa.ID]; ok && wa.ID != 0 {
			if a.Facts == nil {
				a.Facts = f
			} else {
				for name, v := range f {
					a.Facts[name] = v
				}
			}
		}
		inv.Artifacts = append(inv.Artifacts, a)
	}
	packs := map[string]*os.File{}
	for _, ws := range w.Stored {
		s := Stored{File: ws.File, Offset: ws.Offset, Size: ws.Size, MIME: ws.MIME, inPack: ws.InPack}
		if ws.Stamp != nil {
			s.stamp = &diskStamp{size: ws.Stamp.Size, mtime: time.Unix(0, ws.Stamp.MTime), change: ws.Stamp.Change, ok: ws.Stamp.OK}
		}
		if s.inPack && s.Size > 0 {
			if w.Store == "" || filepath.Dir(s.File) != filepath.Clean(w.Store) {
				return nil, fmt.Errorf("the walk kept a file outside its directory: %s", s.File)
			}
			p, seen := packs[s.File]
			if !seen {
				f, err := os.OpenFile(s.File, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
				if err != nil {
					return nil, fmt.Errorf("opening what the walk kept: %w", err)
				}
				p = f
				packs[s.File] = f
				inv.store.packs = append(inv.store.packs, &packFile{f: f})
			}
			s.pack = p
		} else if s.inPack {
			s.File = ""
		}
		inv.Stored = append(inv.Stored, s)
	}
	ok = true
	return inv, nil
}

// AnalyzeKept runs list on every artifact whose bytes were kept, as a walk would have
// while reading them: their facts join the artifact's, their failures its errors. It is
// for analyzers that run in this process after a walk elsewhere (the rules' pattern
// matcher); jobs of them run at once.
func AnalyzeKept(ctx context.Context, inv *Inventory, list []analyzers.Analyzer, opts Options) {
	if len(list) == 0 || len(inv.Stored) != len(inv.Artifacts) {
		return
	}
	opts.Analyzers, opts.Isolate, opts.Select = list, nil, nil
	w := newWalker(opts)
	defer w.close()
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range max(opts.Jobs, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				a := inv.Artifacts[i]
				n := &node{Artifact: result.Artifact{Path: a.Path, Size: a.Size, Mode: a.Mode}}
				art := &analyzers.Artifact{Path: a.Path, Format: sniff.Format(a.Format), Interpreter: a.Interpreter, Mode: a.Mode, Size: a.Size, Limits: w.lim}
				if !analyzers.Wanted(list, art) {
					continue
				}
				r, err := inv.Stored[i].Open()
				if err != nil {
					w.fail(a.Path, "", fmt.Errorf("reading the file again for analysis: %w", err))
					continue
				}
				w.analyze(ctx, n, art, r, nil)
				r.Close()
				mu.Lock()
				for name, f := range n.Facts {
					if inv.Artifacts[i].Facts == nil {
						inv.Artifacts[i].Facts = map[string]any{}
					}
					inv.Artifacts[i].Facts[name] = f
				}
				mu.Unlock()
			}
		}()
	}
	for i, a := range inv.Artifacts {
		if a.Type != "file" && a.Type != "hardlink" || inv.Stored[i].File == "" && !inv.Stored[i].inPack {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	inv.Errors = append(inv.Errors, w.errs...)
	sortErrors(inv)
}

// OnDisk reports whether the bytes are the delivery's own file, read where it is (a file
// target, a directory target's file), rather than a copy the walk kept.
func (s Stored) OnDisk() bool { return s.stamp != nil }

// NewUsageError is a UsageError with msg, for a walk elsewhere that reports one.
func NewUsageError(msg string) error { return &UsageError{msg: msg} }
