package rules

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"kensa.dev/kensa/rules/builtin"
)

// Sources says which packs to load.
type Sources struct {
	// Builtin loads the packs compiled into kensa.
	Builtin bool
	// Dirs are pack directories on disk (--rules DIR).
	Dirs []string
}

// Load reads the packs of src. analyzers names the analyzers whose facts conditions may
// use. The error, if any, is an Errors listing every problem in every pack.
func Load(src Sources, analyzers []string) ([]*Pack, error) {
	var (
		packs []*Pack
		errs  Errors
	)
	add := func(p *Pack, err error) {
		var es Errors
		switch {
		case errors.As(err, &es):
			errs = append(errs, es...)
		case err != nil:
			errs = append(errs, &Error{Msg: err.Error()})
		}
		if p != nil {
			packs = append(packs, p)
		}
	}
	if src.Builtin {
		fsys := builtin.FS()
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.IsDir() {
				p, err := LoadPack(fsys, e.Name(), e.Name(), analyzers)
				if p != nil {
					p.Builtin = true
				}
				add(p, err)
			}
		}
	}
	for _, d := range src.Dirs {
		fi, err := os.Stat(d)
		if err != nil {
			add(nil, fmt.Errorf("--rules %s: %w", d, err))
			continue
		}
		if !fi.IsDir() {
			add(nil, fmt.Errorf("--rules %s: not a directory; give the directory that holds the pack's YAML files", d))
			continue
		}
		abs, _ := filepath.Abs(d)
		p, err := loadPack(os.DirFS(abs), ".", filepath.Base(abs), filepath.ToSlash(filepath.Clean(d)), analyzers)
		add(p, err)
	}
	if len(errs) > 0 {
		return packs, errs
	}
	return packs, nil
}
