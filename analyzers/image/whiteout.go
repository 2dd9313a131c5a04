package image

import (
	"errors"
	"fmt"
	"strings"
)

// LayerEntry is one entry of a layer's tar as the walker saw it, in tar order.
type LayerEntry struct {
	// Path is the cleaned path: relative, slash-separated, without a leading "./" or a
	// trailing "/". The root directory is "" or ".".
	Path string
	// Dir is true for a directory; everything else (files, links, devices) replaces
	// whatever was at the path, directory or not.
	Dir bool
}

// Reason says why an entry is or is not visible in the final filesystem.
type Reason uint8

const (
	// ReasonVisible: the entry is in the final filesystem.
	ReasonVisible Reason = iota
	// ReasonOverwritten: the same path was written again later (in a later layer, or later
	// in the same layer: the last one wins), or a later entry below the path made a
	// directory of what was not one.
	ReasonOverwritten
	// ReasonDeleted: a later layer holds a .wh.<name> whiteout of the path or of one of its
	// directories.
	ReasonDeleted
	// ReasonOpaque: a later layer made a directory above the path opaque (.wh..wh..opq).
	ReasonOpaque
	// ReasonReplacedAncestor: a directory above the path was later replaced by something
	// that is not a directory, taking its contents with it.
	ReasonReplacedAncestor
	// ReasonWhiteout: the entry is itself a whiteout marker; markers are never visible.
	ReasonWhiteout
	// ReasonInvalid: the path is not a clean relative path (absolute, "..", empty parts) or
	// the root is not a directory; the entry takes no part in the filesystem.
	ReasonInvalid
)

var reasonNames = [...]string{"visible", "overwritten", "deleted", "opaque", "replaced-ancestor", "whiteout", "invalid"}

// String returns the reason's name, as reports spell it ("opaque").
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// Visibility is the fate of one layer entry in the final (squashed) filesystem.
type Visibility struct {
	// Visible is true when the entry is in the final filesystem.
	Visible bool
	// Reason says why it is or is not.
	Reason Reason
	// By is the index of the layer responsible: the layer that overwrote, deleted, hid or
	// replaced the entry; the entry's own layer for whiteout markers and invalid entries;
	// -1 for visible entries.
	By int
	// Err is set for malformed whiteouts (a bare ".wh.", ".wh..", ".wh...", AUFS metadata
	// such as ".wh..wh.plnk") and invalid paths. Such entries change nothing.
	Err error
}

// Whiteout names, from the OCI image spec (layer changesets).
const (
	whPrefix = ".wh."
	whOpaque = ".wh..wh..opq"
	whMeta   = ".wh..wh."
)

// ErrMalformedWhiteout is the error of whiteout markers that name no valid target.
var ErrMalformedWhiteout = errors.New("malformed whiteout")

// entryKind is what one entry does.
type entryKind uint8

const (
	kindFile entryKind = iota // a file or directory (Dir says which)
	kindWhiteout
	kindOpaque
	kindBad // malformed marker or invalid path
)

// parseEntry returns what an entry does and the path it does it to: the entry's own path
// (root = ""), the whiteout's target, or the opaque directory.
func parseEntry(e LayerEntry) (entryKind, string, Reason, error) {
	p := e.Path
	if p == "." {
		p = ""
	}
	if p != "" && !validPath(p) {
		return kindBad, "", ReasonInvalid, fmt.Errorf("invalid path %q: not clean and relative", e.Path)
	}
	dir, base := "", p
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		dir, base = p[:i], p[i+1:]
	}
	if !strings.HasPrefix(base, whPrefix) {
		if p == "" && !e.Dir {
			return kindBad, "", ReasonInvalid, errors.New("the root of the filesystem is not a directory")
		}
		return kindFile, p, ReasonVisible, nil
	}
	switch target := base[len(whPrefix):]; {
	case base == whOpaque:
		return kindOpaque, dir, ReasonWhiteout, nil
	case strings.HasPrefix(base, whMeta):
		return kindBad, "", ReasonWhiteout, fmt.Errorf("%w %q: AUFS metadata, not a whiteout", ErrMalformedWhiteout, p)
	case target == "" || target == "." || target == "..":
		return kindBad, "", ReasonWhiteout, fmt.Errorf("%w %q: names no file (a whiteout of the directory itself or of the root)", ErrMalformedWhiteout, p)
	default:
		if dir == "" {
			return kindWhiteout, target, ReasonWhiteout, nil
		}
		return kindWhiteout, dir + "/" + target, ReasonWhiteout, nil
	}
}

// validPath reports whether p is clean, relative and non-empty.
func validPath(p string) bool {
	if p == "" || p[0] == '/' || p[len(p)-1] == '/' {
		return false
	}
	for len(p) > 0 {
		seg := p
		if i := strings.IndexByte(p, '/'); i >= 0 {
			seg, p = p[:i], p[i+1:]
		} else {
			p = ""
		}
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// at orders events: by layer, whiteouts of a layer before its entries, then by position.
type at struct {
	layer, phase, pos int
}

func (a at) less(b at) bool {
	if a.layer != b.layer {
		return a.layer < b.layer
	}
	if a.phase != b.phase {
		return a.phase < b.phase
	}
	return a.pos < b.pos
}

var never = at{layer: int(^uint(0) >> 1)}

// event is the first thing that happens to an entry after it is written.
type event struct {
	when   at
	reason Reason
}

func (e *event) consider(when at, ok bool, r Reason) {
	if ok && when.less(e.when) {
		e.when, e.reason = when, r
	}
}

// Squash decides, for every entry of every layer (layers lowest first, entries in tar
// order), whether it is visible in the image's final filesystem, following the OCI image
// spec's layer changeset rules: layers apply in order; within a layer the whiteouts apply
// first and only to lower layers (a file next to its own whiteout in the same layer stays),
// then the entries apply in order, the last write of a path winning; a non-directory
// replaces a directory and everything below it; an entry below a path that held a
// non-directory makes it a directory again; ".wh.<name>" deletes name and everything below
// it in lower layers; ".wh..wh..opq" hides everything below its directory in lower layers.
//
// It runs in time linear in the number of entries times the path depth, with maps only,
// so it suits images with millions of files. It never fails as a whole: malformed
// whiteouts and invalid paths are reported on their own entries.
func Squash(layers [][]LayerEntry) [][]Visibility {
	out := make([][]Visibility, len(layers))
	// For each path, the first event of each kind from the layers above the one being
	// looked at (Squash walks from the top layer down).
	type pathState struct {
		wh, opq, ent, nondir, impl at // whiteout of the path, opaque marker in it, entry at
		// it, non-directory entry at it, entry below it (making it a directory)
	}
	state := map[string]*pathState{}
	get := func(p string) *pathState {
		st := state[p]
		if st == nil {
			st = &pathState{wh: never, opq: never, ent: never, nondir: never, impl: never}
			state[p] = st
		}
		return st
	}
	// The first later write inside the layer being looked at: positions, -1 for none.
	type laterState struct{ ent, nondir, impl int }
	type parsed struct {
		kind entryKind
		p    string
	}
	for i := len(layers) - 1; i >= 0; i-- {
		entries := layers[i]
		vis := make([]Visibility, len(entries))
		out[i] = vis
		ps := make([]parsed, len(entries))
		for k, e := range entries {
			kind, p, reason, err := parseEntry(e)
			ps[k] = parsed{kind, p}
			vis[k] = Visibility{Visible: kind == kindFile, Reason: reason, By: -1, Err: err}
			if kind != kindFile {
				vis[k].By = i
			}
		}
		// Events inside this layer: walk it backwards, remembering the first later write.
		later := map[string]*laterState{}
		lget := func(p string) *laterState {
			l := later[p]
			if l == nil {
				l = &laterState{-1, -1, -1}
				later[p] = l
			}
			return l
		}
		for k := len(entries) - 1; k >= 0; k-- {
			if ps[k].kind != kindFile {
				continue
			}
			p, dir := ps[k].p, entries[k].Dir
			ev := event{when: never}
			self := lget(p)
			ev.consider(at{i, 1, self.ent}, self.ent >= 0, ReasonOverwritten)
			if !dir {
				ev.consider(at{i, 1, self.impl}, self.impl >= 0, ReasonOverwritten)
			}
			forAncestors(p, func(a string) {
				if l := later[a]; l != nil {
					ev.consider(at{i, 1, l.nondir}, l.nondir >= 0, ReasonReplacedAncestor)
				}
			})
			if ev.when == never {
				// Then the layers above.
				forAncestors(p, func(a string) {
					if st := state[a]; st != nil {
						ev.consider(st.wh, true, ReasonDeleted)
						ev.consider(st.opq, true, ReasonOpaque)
						ev.consider(st.nondir, true, ReasonReplacedAncestor)
					}
				})
				if st := state[p]; st != nil {
					ev.consider(st.wh, true, ReasonDeleted)
					ev.consider(st.ent, true, ReasonOverwritten)
					if !dir {
						ev.consider(st.impl, true, ReasonOverwritten)
					}
				}
			}
			if ev.when != never {
				vis[k] = Visibility{Reason: ev.reason, By: ev.when.layer}
			}
			self.ent = k
			if !dir {
				self.nondir = k
			}
			forAncestors(p, func(a string) { lget(a).impl = k })
		}
		// Record this layer's events for the layers below; walking backwards leaves the
		// first position of each path.
		for k := len(entries) - 1; k >= 0; k-- {
			p := ps[k].p
			switch ps[k].kind {
			case kindWhiteout:
				get(p).wh = at{i, 0, k}
			case kindOpaque:
				get(p).opq = at{i, 0, k}
			case kindFile:
				st := get(p)
				st.ent = at{i, 1, k}
				if !entries[k].Dir {
					st.nondir = at{i, 1, k}
				}
				forAncestors(p, func(a string) { get(a).impl = at{i, 1, k} })
			}
		}
	}
	return out
}

// forAncestors calls f with every strict ancestor of p, the root ("") first. The root has
// no ancestors.
func forAncestors(p string, f func(string)) {
	if p == "" {
		return
	}
	f("")
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			f(p[:i])
		}
	}
}
