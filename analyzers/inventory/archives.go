package inventory

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

	"kensa.dev/kensa/analyzers/archive"
	"kensa.dev/kensa/internal/result"
)

// walkArchive lists the entries of one archive as children of parent. fsRoot says the
// archive is meant to be unpacked at the root of a filesystem (an image layer, the data of
// a package), where absolute link targets are normal.
func (w *walker) walkArchive(ctx context.Context, ac archiveCtx, parent *node, rd archive.Reader, fsRoot bool) {
	defer func() {
		if v := recover(); v != nil {
			w.fail(parent.Path, result.KindInternal, &panicError{v})
		}
	}()
	ns := newNamespace(fsRoot)
	for {
		if ctx.Err() != nil {
			return
		}
		e, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			w.fail(parent.Path, "", err)
			break
		}
		n := w.entryNode(ac, parent.Path+"!", e)
		if n == nil {
			continue
		}
		if err := w.countEntry(); err != nil {
			w.fail(parent.Path, "", err)
			return
		}
		w.fill(ctx, ac, ns, n, e, rd)
	}
	w.checkLoops(ns)
}

// entryNode makes the node of an archive entry, recording what is wrong with its name.
// It returns nil for directories, which are not artifacts.
func (w *walker) entryNode(ac archiveCtx, prefix string, e *archive.Entry) *node {
	name, err := archive.CleanName(e.Name, w.lim)
	esc, hostile := result.EscapeName(name)
	p := prefix + esc
	if err != nil {
		w.fail(p, "", err)
	}
	if e.Type == archive.Dir || name == "" {
		return nil
	}
	if hostile {
		w.fail(p, result.KindUnsafe, unsafef("the name contains control characters, invalid UTF-8 or bidirectional-text controls (stored as %q)", e.Name))
	}
	n := w.newNode(ac, p, e.Type, e.Mode, e.Size)
	n.name = esc
	if len(e.Xattrs) > 0 {
		n.Xattrs = slices.Sorted(maps.Keys(e.Xattrs))
	}
	n.Anomalies = append(n.Anomalies, e.Anomalies...)
	return n
}

// fill completes an entry node: its content, or the checks its link needs, then adds it.
func (w *walker) fill(ctx context.Context, ac archiveCtx, ns *namespace, n *node, e *archive.Entry, content io.Reader) {
	if l := ns.symlinkAncestor(n.name); l != "" {
		w.fail(n.Path, result.KindUnsafe, unsafef("the entry is written through %s, a symbolic link of the same archive (to %s)", l, ns.links[l]))
	}
	if prev := ns.files[n.name]; prev != nil {
		n.Anomalies = append(n.Anomalies, "the archive holds this path more than once; unpacking keeps this, the last one")
		prev.Anomalies = append(prev.Anomalies, "the archive holds this path again later, which replaces this one when unpacked")
	}
	switch e.Type {
	case archive.Regular:
		w.content(ctx, ac, entry{n: n, r: content})
	case archive.Symlink:
		n.LinkTarget, _ = result.EscapeName(e.Linkname)
		w.checkSymlink(n, ns)
	case archive.Hardlink:
		n.LinkTarget, _ = result.EscapeName(e.Linkname)
		w.checkHardlink(n, e.Linkname, ns)
	}
	ns.add(n)
	w.add(n)
}

// checkHardlink resolves a hard link against the earlier entries of its archive; a hard
// link can only name an entry that came before it.
func (w *walker) checkHardlink(n *node, linkname string, ns *namespace) {
	target, err := archive.CleanName(linkname, w.lim)
	if err != nil {
		w.fail(n.Path, "", fmt.Errorf("hard link target: %w", err))
		return
	}
	target, _ = result.EscapeName(target)
	if target == n.name {
		w.fail(n.Path, result.KindMalformed, fmt.Errorf("hard link to itself"))
		return
	}
	prev := ns.files[target]
	if prev == nil {
		w.fail(n.Path, result.KindMalformed, fmt.Errorf("hard link to %s, which is not an earlier entry of this archive", target))
		return
	}
	n.Digest, n.Format, n.Size, n.Interpreter = prev.Digest, prev.Format, prev.Size, prev.Interpreter
}

// checkSymlink records a symbolic link whose target leaves the root.
func (w *walker) checkSymlink(n *node, ns *namespace) {
	if ns.fsRoot {
		if climbsAboveRoot(n.name, n.LinkTarget) && !isAbs(n.LinkTarget) {
			n.Anomalies = append(n.Anomalies, "the link target climbs above the root; it resolves as if .. stopped at /")
		}
		return
	}
	if isAbs(n.LinkTarget) {
		w.fail(n.Path, result.KindUnsafe, unsafef("symbolic link to the absolute path %s, outside the delivery (not followed)", n.LinkTarget))
		return
	}
	if climbsAboveRoot(n.name, n.LinkTarget) {
		w.fail(n.Path, result.KindUnsafe, unsafef("symbolic link to %s climbs above the delivery root (not followed)", n.LinkTarget))
	}
}

// checkLoops resolves every symbolic link of a namespace and records those that never
// end (a loop, or a chain longer than the symlink-hops limit).
func (w *walker) checkLoops(ns *namespace) {
	for name, n := range ns.linkNodes {
		if _, err := ns.resolve(name, w.lim.SymlinkHops); err != nil {
			w.fail(n.Path, result.KindUnsafe, err)
		}
	}
}
