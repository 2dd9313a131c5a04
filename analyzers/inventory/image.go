package inventory

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"

	"kensa.dev/kensa/analyzers/archive"
	"kensa.dev/kensa/analyzers/image"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// openImage opens an image target or an image found inside a directory.
func (w *walker) openImage(ctx context.Context, k Kind, ref string) (*image.Image, error) {
	return image.Open(ctx, k.imageKind(), ref, image.Options{
		Limits:    w.lim,
		Platform:  w.opts.Platform,
		Keychain:  w.opts.Keychain,
		Transport: w.opts.Transport,
	})
}

// nestedImage reads an image archive or layout found inside a directory target. Its files
// are listed under its own path: images/app.tar!usr/bin/app.
func (w *walker) nestedImage(ctx context.Context, ti int, p, display string, k Kind) {
	img, err := w.openImage(ctx, k, p)
	if err != nil {
		w.fail(display, "", err)
		return
	}
	defer img.Close()
	w.walkImage(ctx, ti, img, display+"!")
}

// layerWalk is what one layer's walk leaves for the squash.
type layerWalk struct {
	entries []image.LayerEntry
	origins []int64
}

// walkImage lists the files of every layer, layers concurrently, then decides which are
// in the final filesystem. Each file records the layer that wrote it.
func (w *walker) walkImage(ctx context.Context, ti int, img *image.Image, prefix string) {
	budget := limits.NewBudget(w.lim.TotalSize)
	walks := make([]layerWalk, len(img.Layers))
	sem := make(chan struct{}, w.opts.Jobs)
	var wg sync.WaitGroup
	for i := range img.Layers {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			walks[i] = w.walkLayer(ctx, ti, img.Layers[i], prefix, budget)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}

	byOrigin := map[int64][]*node{}
	w.mu.Lock()
	for _, n := range w.nodes {
		if n.origin != 0 && n.target == ti {
			byOrigin[n.origin] = append(byOrigin[n.origin], n)
		}
	}
	w.mu.Unlock()

	entries := make([][]image.LayerEntry, len(walks))
	for i := range walks {
		entries[i] = walks[i].entries
	}
	ns := newNamespace(true)
	for i, vis := range image.Squash(entries) {
		for j, v := range vis {
			origin := walks[i].origins[j]
			nodes := byOrigin[origin]
			if len(nodes) == 0 {
				continue
			}
			top := nodes[0]
			if v.Err != nil {
				w.fail(top.Path, result.KindMalformed, v.Err)
			}
			if v.Visible {
				ns.add(top)
				continue
			}
			if v.Reason == image.ReasonWhiteout {
				top.Type, top.Format = "whiteout", "whiteout"
			}
			by := v.By
			if top.Type != "whiteout" {
				w.hidden.Add(1)
			}
			for _, n := range nodes {
				n.Hidden = v.Reason.String()
				n.HiddenBy = &by
				n.drop = w.opts.Scope != AllLayers
			}
		}
	}
	w.checkLoops(ns)
}

// walkLayer lists one layer's tar stream and verifies the layer's digests by reading it
// to the end.
func (w *walker) walkLayer(ctx context.Context, ti int, l image.Layer, prefix string, budget *limits.Budget) (lw layerWalk) {
	where := strings.TrimSuffix(prefix, "!")
	layerName := fmt.Sprintf("layer %d (%s)", l.Index, l.Digest)
	defer func() {
		if v := recover(); v != nil {
			w.fail(where, result.KindInternal, fmt.Errorf("%s: %w", layerName, &panicError{v}))
		}
	}()
	rc, err := l.Open(budget)
	if err != nil {
		w.fail(where, "", fmt.Errorf("%s: %w", layerName, err))
		return lw
	}
	defer rc.Close()
	r := w.prog.reader(rc)
	tr := archive.NewTar(r, w.lim)
	index := l.Index
	ns := newNamespace(true)
	for {
		if ctx.Err() != nil {
			return lw
		}
		e, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			w.fail(where, "", fmt.Errorf("%s: %w", layerName, err))
			return lw
		}
		name, _ := archive.CleanName(e.Name, w.lim)
		if e.Type == archive.Dir {
			if name != "" {
				lw.entries = append(lw.entries, image.LayerEntry{Path: name, Dir: true})
				lw.origins = append(lw.origins, 0)
			}
			continue
		}
		ac := archiveCtx{target: ti, budget: budget, layer: &index, origin: w.nextOrigin()}
		n := w.entryNode(ac, prefix, e)
		if n == nil {
			continue
		}
		if err := w.countEntry(); err != nil {
			w.fail(where, "", err)
			return lw
		}
		lw.entries = append(lw.entries, image.LayerEntry{Path: name})
		lw.origins = append(lw.origins, ac.origin)
		if strings.HasPrefix(path.Base(name), ".wh.") {
			// A whiteout marker deletes; it is not a file of the image.
			n.Type, n.Format = "whiteout", "whiteout"
			w.add(n)
			continue
		}
		w.fill(ctx, ac, ns, n, e, tr)
	}
	// Reading to the end verifies the layer against its digest and diff ID.
	if _, err := io.Copy(io.Discard, r); err != nil {
		w.fail(where, "", fmt.Errorf("%s: %w", layerName, err))
	}
	if err := rc.Close(); err != nil {
		w.fail(where, "", fmt.Errorf("%s: %w", layerName, err))
	}
	return lw
}

// imageTarget describes an image for the result.
func imageTarget(img *image.Image) *result.Image {
	ri := &result.Image{
		Reference:    img.Reference,
		ManifestType: img.MediaType,
		ConfigDigest: img.ConfigDigest,
		Platform:     img.Platform,
		RepoTags:     img.RepoTags,
		Layers:       []result.Layer{},
	}
	// The history has one entry per build step; those that made no layer are marked.
	var createdBy []string
	if img.Config != nil {
		for _, h := range img.Config.History {
			if !h.EmptyLayer {
				createdBy = append(createdBy, h.CreatedBy)
			}
		}
	}
	for _, l := range img.Layers {
		rl := result.Layer{Index: l.Index, Digest: l.Digest, DiffID: l.DiffID, MediaType: l.MediaType, Size: l.Size}
		if l.Index < len(createdBy) {
			rl.CreatedBy = createdBy[l.Index]
		}
		ri.Layers = append(ri.Layers, rl)
	}
	return ri
}

// fileDigest hashes a whole open file from its start.
func fileDigest(f *os.File) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, 1<<62)); err != nil {
		return "", err
	}
	return digest(h), nil
}
