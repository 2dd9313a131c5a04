package inventory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	"kensa.dev/kensa/analyzers/archive"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// walkDir lists a directory target. Links are recorded, never followed; special files
// are recorded, never opened; an OCI layout or image archive inside the directory is read
// as an image. Files are read concurrently.
func (w *walker) walkDir(ctx context.Context, ti int, root string) string {
	ns := newNamespace(false)
	var nsMu sync.Mutex
	sem := make(chan struct{}, w.opts.Jobs)
	var wg sync.WaitGroup
	budget := limits.NewBudget(w.lim.TotalSize)
	var files []*node

	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		esc, hostile := result.EscapeName(rel)
		if err != nil {
			w.fail(esc, "", err)
			return nil
		}
		if rel == "." {
			return nil
		}
		if hostile {
			w.fail(esc, result.KindUnsafe, unsafef("the name contains control characters, invalid UTF-8 or bidirectional-text controls (%q)", rel))
		}
		if d.IsDir() {
			if strings.Count(rel, "/")+1 > w.lim.PathComponents {
				w.fail(esc, result.KindLimit, &limits.Error{Limit: "path-components", Value: int64(w.lim.PathComponents), What: "directory depth"})
				return fs.SkipDir
			}
			if isOCILayout(p) {
				w.nestedImage(ctx, ti, p, esc, KindOCIDir)
				return fs.SkipDir
			}
			return nil
		}
		if err := w.countEntry(); err != nil {
			w.fail(esc, "", err)
			return fs.SkipAll
		}
		info, err := d.Info()
		if err != nil {
			w.fail(esc, "", err)
			return nil
		}
		ac := archiveCtx{target: ti, budget: budget}
		n := w.newNode(ac, esc, typeOf(info.Mode()), info.Mode(), info.Size())
		n.name = esc
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				w.fail(esc, "", err)
			}
			n.LinkTarget, _ = result.EscapeName(target)
			w.checkSymlink(n, ns)
		case info.Mode().IsRegular():
			files = append(files, n)
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				w.diskFile(ctx, ac, n, p)
			}()
		}
		nsMu.Lock()
		ns.add(n)
		nsMu.Unlock()
		w.add(n)
		return nil
	})
	wg.Wait()
	if err != nil && ctx.Err() == nil {
		w.fail("", "", err)
	}
	w.checkLoops(ns)
	return listingDigest(files)
}

// diskFile reads one regular file of a directory target.
func (w *walker) diskFile(ctx context.Context, ac archiveCtx, n *node, p string) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		w.fail(n.Path, "", err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		w.fail(n.Path, "", err)
		return
	}
	if !fi.Mode().IsRegular() {
		w.fail(n.Path, result.KindIO, fmt.Errorf("changed into a %s while being read", typeOf(fi.Mode())))
		return
	}
	if fi.Size() > w.lim.FileSize {
		w.fail(n.Path, result.KindLimit, &limits.Error{Limit: "file-size", Value: w.lim.FileSize, What: fmt.Sprintf("this file (%d bytes)", fi.Size())})
		return
	}
	n.Size = fi.Size()
	// The digest comes from one read and the analyzers (and an archive's reader) read the
	// file again: a change in between makes them disagree, and is an error on the file.
	defer func() {
		if changedSince(f, p, fi) {
			w.fail(n.Path, result.KindIO, errChanged)
		}
	}()
	if k, ok := imageArchiveKind(p); ok {
		w.nestedImage(ctx, ac.target, p, n.Path, k)
		n.Format = string(k)
		n.Digest, err = fileDigest(f)
		if err != nil {
			w.fail(n.Path, "", err)
		}
		return
	}
	w.content(ctx, ac, entry{n: n, r: w.prog.reader(f), disk: f})
}

// typeOf maps a file mode to an entry type.
func typeOf(m fs.FileMode) archive.Type {
	switch {
	case m.IsRegular():
		return archive.Regular
	case m.IsDir():
		return archive.Dir
	case m&fs.ModeSymlink != 0:
		return archive.Symlink
	case m&fs.ModeNamedPipe != 0:
		return archive.FIFO
	case m&fs.ModeSocket != 0:
		return archive.Socket
	case m&fs.ModeCharDevice != 0:
		return archive.CharDevice
	case m&fs.ModeDevice != 0:
		return archive.BlockDevice
	}
	return archive.Other
}

// listingDigest is the digest of a directory: sha256 over one "sha256:HEX  PATH\n" line
// per regular file, sorted by path.
func listingDigest(files []*node) string {
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	h := sha256.New()
	for _, n := range files {
		fmt.Fprintf(h, "%s  %s\n", n.Digest, n.Path)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
