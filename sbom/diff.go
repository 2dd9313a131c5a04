package sbom

import (
	"cmp"
	"slices"
	"strings"

	"github.com/anchore/syft/syft/artifact"
	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/pkg"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/internal/result"
)

// Change kinds of Diff.
const (
	Added      = "added"
	Removed    = "removed"
	Upgraded   = "upgraded"
	Downgraded = "downgraded"
)

// Change is one difference between two SBOMs.
type Change struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
	// PURL is the new component's package URL (the old one's when removed).
	PURL string `json:"purl,omitempty"`
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
}

// Components lists the packages of a generated SBOM as components, for Diff, and the
// operating system when one was identified (as CycloneDX lists it: its ID and version).
func (s *SBOM) Components() []Component {
	var out []Component
	for _, p := range s.Syft.Artifacts.Packages.Sorted() {
		out = append(out, componentOf(p))
	}
	if d := s.Syft.Artifacts.LinuxDistribution; d != nil && d.ID != "" {
		out = append(out, Component{Name: d.ID, Version: d.VersionID, Type: "operating-system"})
	}
	return out
}

func componentOf(p pkg.Package) Component {
	c := Component{Name: p.Name, Version: p.Version, Type: string(p.Type), PURL: p.PURL}
	if t := purlType(p.PURL); t != "" {
		c.Type = t
	}
	for _, x := range p.CPEs {
		c.CPEs = append(c.CPEs, x.Attributes.BindToFmtString())
	}
	return c
}

// Diff compares two component lists (two deliveries' SBOMs, or two SBOM files): a
// component is the same one in both when its purl without version matches (or, without
// purl, its type and name). One version on each side that differ is an upgrade or a
// downgrade; otherwise versions only in the old list are removed and only in the new
// one added. The result is sorted by name, kind and version.
func Diff(old, new []Component) []Change {
	group := func(cs []Component) map[string][]Component {
		m := map[string][]Component{}
		for _, c := range cs {
			k := identity(c.PURL, c.Type, c.Name)
			if !slices.ContainsFunc(m[k], func(x Component) bool { return x.Version == c.Version }) {
				m[k] = append(m[k], c)
			}
		}
		return m
	}
	o, n := group(old), group(new)
	var out []Change
	keys := map[string]bool{}
	for k := range o {
		keys[k] = true
	}
	for k := range n {
		keys[k] = true
	}
	for k := range keys {
		ov, nv := o[k], n[k]
		// Versions in both are unchanged.
		onlyOld := slices.DeleteFunc(slices.Clone(ov), func(c Component) bool {
			return slices.ContainsFunc(nv, func(x Component) bool { return x.Version == c.Version })
		})
		onlyNew := slices.DeleteFunc(slices.Clone(nv), func(c Component) bool {
			return slices.ContainsFunc(ov, func(x Component) bool { return x.Version == c.Version })
		})
		if len(onlyOld) == 1 && len(onlyNew) == 1 {
			a, b := onlyOld[0], onlyNew[0]
			kind := Upgraded
			if CompareVersions(b.Type, a.Version, b.Version) > 0 {
				kind = Downgraded
			}
			out = append(out, Change{Kind: kind, Name: b.Name, Type: b.Type, PURL: b.PURL, Old: a.Version, New: b.Version})
			continue
		}
		for _, c := range onlyOld {
			out = append(out, Change{Kind: Removed, Name: c.Name, Type: c.Type, PURL: c.PURL, Old: c.Version})
		}
		for _, c := range onlyNew {
			out = append(out, Change{Kind: Added, Name: c.Name, Type: c.Type, PURL: c.PURL, New: c.Version})
		}
	}
	slices.SortFunc(out, func(a, b Change) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.Type, b.Type),
			cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Old, b.Old), cmp.Compare(a.New, b.New))
	})
	return out
}

// ResultComponents lists the packages for the result document (result.Component), each
// with the delivered files it alone accounts for: the files its package database lists,
// the files it was found in, the executables it accounts for, less any file another
// package claims too (a package database, a binary with many modules built in).
func (s *SBOM) ResultComponents(inv *inventory.Inventory) []result.Component {
	invPath := map[string]string{}
	for _, a := range inv.Artifacts {
		if a.Hidden == "" && a.Digest != "" {
			invPath[syftPath(a.Path)] = a.Path
		}
	}
	files := map[artifact.ID][]string{}
	claims := map[string]int{}
	claim := func(id artifact.ID, fp string) {
		p, ok := invPath[fp]
		if !ok || slices.Contains(files[id], p) {
			return
		}
		files[id] = append(files[id], p)
		claims[p]++
	}
	pkgs := s.Syft.Artifacts.Packages.Sorted()
	byName := map[string][]artifact.ID{}
	for _, p := range pkgs {
		byName[packageName(p)] = append(byName[packageName(p)], p.ID())
		for _, l := range p.Locations.ToSlice() {
			claim(p.ID(), l.FullNestedPath())
		}
	}
	for _, r := range s.Syft.Relationships {
		p, ok := r.From.(pkg.Package)
		c, ok2 := r.To.(file.Coordinates)
		if ok && ok2 && r.Type == artifact.ContainsRelationship {
			claim(p.ID(), c.FullNestedPath())
		}
	}
	for _, e := range s.Executables {
		for _, name := range e.Packages {
			for _, id := range byName[name] {
				claim(id, syftPath(e.Path))
			}
		}
	}
	out := make([]result.Component, 0, len(pkgs))
	for _, p := range pkgs {
		c := componentOf(p)
		rc := result.Component{Name: c.Name, Version: c.Version, Type: c.Type, PURL: c.PURL}
		for _, f := range files[p.ID()] {
			if claims[f] == 1 {
				rc.Files = append(rc.Files, f)
			}
		}
		slices.Sort(rc.Files)
		out = append(out, rc)
	}
	return out
}
