// Package registry lists every analyzer kensa runs. A new analyzer is one package under
// analyzers/ and one line here; a test fails when a package is missing from the list.
package registry

import (
	"fmt"
	"slices"
	"strings"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/code"
	"kensa.dev/kensa/analyzers/elf"
	"kensa.dev/kensa/analyzers/gobuild"
	"kensa.dev/kensa/analyzers/macho"
	"kensa.dev/kensa/analyzers/pe"
	"kensa.dev/kensa/analyzers/script"
	textscan "kensa.dev/kensa/analyzers/strings"
)

// All returns a fresh instance of every analyzer, in the order they run.
func All() []analyzers.Analyzer {
	return []analyzers.Analyzer{
		elf.New(),
		pe.New(),
		macho.New(),
		gobuild.NewGo(),
		gobuild.NewRust(),
		script.New(),
		textscan.New(),
		code.New(),
	}
}

// Names lists the names of All.
func Names() []string {
	var names []string
	for _, a := range All() {
		names = append(names, a.Name())
	}
	return names
}

// Select returns the analyzers with the given names, in the order of All; no names
// selects all of them.
func Select(names []string) ([]analyzers.Analyzer, error) {
	all := All()
	if len(names) == 0 {
		return all, nil
	}
	want := make([]bool, len(all))
	for _, n := range names {
		i := slices.IndexFunc(all, func(a analyzers.Analyzer) bool { return a.Name() == n })
		if i < 0 {
			return nil, fmt.Errorf("no analyzer is named %q; the analyzers are %s", n, strings.Join(Names(), ", "))
		}
		want[i] = true
	}
	var out []analyzers.Analyzer
	for i, a := range all {
		if want[i] {
			out = append(out, a)
		}
	}
	return out, nil
}
