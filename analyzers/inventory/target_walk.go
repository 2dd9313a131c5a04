package inventory

import (
	"context"
	"os"
	"path/filepath"

	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// target walks one resolved target and describes it for the result.
func (w *walker) target(ctx context.Context, ti int, t Target) (result.Target, error) {
	rt := result.Target{Input: t.Input, Kind: string(t.Kind)}
	switch t.Kind {
	case KindDir:
		if w.opts.Progress != nil {
			w.prog.addTotal(dirSize(t.Ref))
		}
		rt.Digest = w.walkDir(ctx, ti, t.Ref)
	case KindFile:
		fi, err := os.Stat(t.Ref)
		if err != nil {
			return rt, err
		}
		w.prog.addTotal(fi.Size())
		esc, _ := result.EscapeName(filepath.Base(t.Ref))
		if w.opts.Name != "" {
			esc = w.opts.Name
		}
		ac := archiveCtx{target: ti, budget: limits.NewBudget(w.lim.TotalSize)}
		n := w.newNode(ac, esc, typeOf(fi.Mode()), fi.Mode(), fi.Size())
		n.name = esc
		if err := w.countEntry(); err != nil {
			return rt, err
		}
		w.diskFile(ctx, ac, n, t.Ref)
		w.add(n)
		rt.Digest = n.Digest
	default:
		img, err := w.openImage(ctx, t.Kind, t.Ref)
		if err != nil {
			return rt, err
		}
		defer img.Close()
		rt.Digest = img.Digest
		rt.Image = imageTarget(img)
		w.walkImage(ctx, ti, img, "")
	}
	return rt, nil
}

// dirSize adds up the sizes of the regular files under root, for progress.
func dirSize(root string) int64 {
	var total int64
	filepath.WalkDir(root, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	return total
}
