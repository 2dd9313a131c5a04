package sbom

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/anchore/packageurl-go"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/internal/result"
)

// Rule describes one kind of reconciliation finding.
type Rule struct {
	ID          string
	Severity    result.Severity
	Title       string
	Description string
}

// Rules are the findings Reconcile reports.
var Rules = []Rule{
	{"sbom/undeclared-component", result.Medium, "Component present but not declared",
		"A package found in the delivered bytes is missing from the vendor's SBOM: code was shipped that the vendor did not declare."},
	{"sbom/absent-component", result.Low, "Component declared but absent",
		"The vendor's SBOM declares a component that was not found in the delivery: the SBOM describes another build, or the component is not recognisable from the bytes."},
	{"sbom/version-mismatch", result.High, "Component version differs from the declaration",
		"The delivery holds another version of a component than the vendor's SBOM declares: vulnerability management based on the declaration would be wrong."},
	{"sbom/hash-mismatch", result.High, "File digest differs from the declaration",
		"A file or package file the vendor's SBOM declares with a digest is present with other bytes."},
	{"sbom/unaccounted-executable", result.Medium, "Executable no component accounts for",
		"An executable belongs to no package found in the delivery and the vendor's SBOM does not declare it with its digest: undeclared code hides here."},
	{"sbom/vendor-no-timestamp", result.Low, "Vendor SBOM has no timestamp", "The SBOM does not say when it was made (an NTIA minimum element)."},
	{"sbom/vendor-no-author", result.Low, "Vendor SBOM names no author", "The SBOM names no person or organisation as the author of its data, only tools or nobody (an NTIA minimum element)."},
	{"sbom/vendor-no-dependencies", result.Low, "Vendor SBOM has no dependency relationships", "The SBOM lists components without relating them to each other (an NTIA minimum element)."},
	{"sbom/vendor-missing-supplier", result.Low, "Vendor SBOM components without supplier", "Components of the SBOM do not name their supplier (an NTIA minimum element)."},
	{"sbom/vendor-missing-version", result.Low, "Vendor SBOM components without version", "Components of the SBOM have no version (an NTIA minimum element)."},
	{"sbom/vendor-missing-identifier", result.Low, "Vendor SBOM components without unique identifier", "Components of the SBOM have no purl, CPE or other unique identifier (an NTIA minimum element)."},
	{"sbom/vendor-noassertion", result.Low, "Vendor SBOM answers NOASSERTION to most fields", "More than half of the SPDX package fields that can carry information say NOASSERTION or nothing."},
}

func rule(id string) Rule {
	i := slices.IndexFunc(Rules, func(r Rule) bool { return r.ID == id })
	return Rules[i]
}

func finding(id, p, msg string, evidence ...string) result.Finding {
	r := rule(id)
	return result.Finding{Rule: r.ID, Severity: r.Severity, Path: p, Message: msg, Evidence: evidence}
}

// maxListed bounds the examples a summary finding lists.
const maxListed = 10

// Reconcile compares what the delivery holds (s, from inv) with what the vendor declared,
// and reports every difference once, as findings sorted by severity and path.
func Reconcile(s *SBOM, inv *inventory.Inventory, d *Declared) []result.Finding {
	var out []result.Finding
	out = append(out, reconcileComponents(s, inv, d)...)
	out = append(out, reconcileFiles(s, inv, d)...)
	out = append(out, Quality(d)...)
	slices.SortStableFunc(out, func(a, b result.Finding) int {
		return cmp.Or(cmp.Compare(b.Severity.Rank(), a.Severity.Rank()), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Message, b.Message))
	})
	return out
}

// found is one component of the delivery, as reconciliation sees it.
type found struct {
	c    Component
	path string // the inventory path of the package's first location
}

// identity is what a component is matched on: its purl without version, qualifiers and
// subpath, or its type and normalised name.
func identity(purl, typ, name string) string {
	if p, err := packageurl.FromString(purl); err == nil && p.Name != "" {
		ns := strings.ToLower(p.Namespace)
		n := normName(p.Type, p.Name)
		return p.Type + "/" + ns + "/" + n
	}
	return "?/" + normName(typ, name)
}

func normName(typ, name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	if typ == "pypi" || typ == "python" {
		n = strings.NewReplacer("_", "-", ".", "-").Replace(n)
	}
	return n
}

// nameKey matches a component by name alone, for declarations without a purl.
func nameKey(name string) string { return "?/" + normName("", name) }

func normVersion(v string) string {
	return strings.TrimPrefix(strings.TrimSpace(v), "v")
}

func reconcileComponents(s *SBOM, inv *inventory.Inventory, d *Declared) []result.Finding {
	byPath := map[string]string{} // syft full path → inventory path
	for _, a := range inv.Artifacts {
		byPath[syftPath(a.Path)] = a.Path
	}
	digestOf := map[string]string{}
	for _, a := range inv.Artifacts {
		if a.Hidden == "" {
			digestOf[a.Path] = strings.TrimPrefix(a.Digest, "sha256:")
		}
	}
	var ours []found
	for _, p := range s.Syft.Artifacts.Packages.Sorted() {
		f := found{c: componentOf(p)}
		if locs := p.Locations.ToSlice(); len(locs) > 0 {
			f.path = byPath[locs[0].FullNestedPath()]
		}
		ours = append(ours, f)
	}
	if d := s.Syft.Artifacts.LinuxDistribution; d != nil && d.ID != "" {
		ours = append(ours, found{c: Component{Name: d.ID, Version: d.VersionID, Type: "operating-system"}})
	}
	oursBy := map[string][]int{}
	oursByName := map[string][]int{}
	for i, f := range ours {
		k := identity(f.c.PURL, f.c.Type, f.c.Name)
		oursBy[k] = append(oursBy[k], i)
		oursByName[nameKey(f.c.Name)] = append(oursByName[nameKey(f.c.Name)], i)
	}
	used := make([]bool, len(ours))
	var out []result.Finding
	type pending struct {
		c     Component
		cands []int
	}
	var versionless []pending
	// First every exact match, so that a component declared in two versions pairs each
	// with its own.
	var rest []pending
	for _, c := range d.Components {
		cands := oursBy[identity(c.PURL, c.Type, c.Name)]
		if len(cands) == 0 && c.PURL == "" {
			cands = oursByName[nameKey(c.Name)]
		}
		if len(cands) == 0 && c.PURL != "" {
			// A purl of another type for the same name (a vendor writing pkg:generic)
			// still names the component.
			if p, err := packageurl.FromString(c.PURL); err == nil && (p.Type == "generic" || p.Type == "") {
				cands = oursByName[nameKey(p.Name)]
			}
		}
		i := slices.IndexFunc(cands, func(i int) bool {
			return !used[i] && normVersion(ours[i].c.Version) == normVersion(c.Version)
		})
		if i >= 0 {
			markCopies(ours, used, cands, cands[i])
			out = append(out, hashCheck(c, ours[cands[i]], digestOf)...)
			continue
		}
		rest = append(rest, pending{c, cands})
	}
	for _, pc := range rest {
		i := slices.IndexFunc(pc.cands, func(i int) bool { return !used[i] })
		if i < 0 {
			versionless = append(versionless, pc)
			continue
		}
		f := ours[pc.cands[i]]
		markCopies(ours, used, pc.cands, pc.cands[i])
		if pc.c.Version == "" {
			continue // reported by the quality checks as a component without version
		}
		out = append(out, finding("sbom/version-mismatch", f.path,
			fmt.Sprintf("%s is version %s in the delivery; the vendor's SBOM declares %s", f.c.Name, orNone(f.c.Version), pc.c.Version),
			"found: "+describeComp(f.c), "declared: "+describeComp(pc.c)))
		out = append(out, hashCheck(pc.c, f, digestOf)...)
	}
	for _, pc := range versionless {
		out = append(out, finding("sbom/absent-component", "",
			fmt.Sprintf("the vendor's SBOM declares %s %s, which was not found in the delivery", pc.c.Name, orNone(pc.c.Version)),
			"declared: "+describeComp(pc.c)))
	}
	for i, f := range ours {
		if used[i] {
			continue
		}
		out = append(out, finding("sbom/undeclared-component", f.path,
			fmt.Sprintf("%s %s (%s) is in the delivery but not in the vendor's SBOM", f.c.Name, orNone(f.c.Version), f.c.Type),
			"found: "+describeComp(f.c)))
	}
	return out
}

// markCopies marks a matched component and its copies elsewhere in the delivery (the
// same component at the same version, such as a package file shipped twice): one
// declaration covers them all, and one difference is reported once.
func markCopies(ours []found, used []bool, cands []int, matched int) {
	for _, j := range cands {
		if ours[j].c.Version == ours[matched].c.Version {
			used[j] = true
		}
	}
}

// hashCheck compares a declared digest with the bytes of the file a package was found
// in, when the package is that file (a .deb, .rpm, .jar, .whl): a package found in a
// database or inside a binary has no digest of its own.
func hashCheck(c Component, f found, digestOf map[string]string) []result.Finding {
	want := c.Hashes["sha256"]
	if want == "" || f.path == "" {
		return nil
	}
	got, ok := digestOf[f.path]
	if !ok || !isPackageFile(f.path) {
		return nil
	}
	if got == want {
		return nil
	}
	return []result.Finding{finding("sbom/hash-mismatch", f.path,
		fmt.Sprintf("%s has sha256 %s; the vendor's SBOM declares %s for %s %s", f.path, got, want, c.Name, c.Version))}
}

func isPackageFile(p string) bool {
	base := strings.ToLower(path.Base(p[strings.LastIndexByte(p, '!')+1:]))
	for _, ext := range []string{".deb", ".rpm", ".apk", ".jar", ".war", ".ear", ".whl", ".egg", ".nupkg", ".gem", ".tgz", ".crate"} {
		if strings.HasSuffix(base, ext) {
			return true
		}
	}
	return false
}

func orNone(v string) string {
	if v == "" {
		return "(no version)"
	}
	return v
}

func describeComp(c Component) string {
	s := strings.TrimSpace(fmt.Sprintf("%s %s %s", c.Name, c.Version, c.PURL))
	if c.Ref != "" {
		s += " [" + c.Ref + "]"
	}
	return s
}

// reconcileFiles compares declared files with the delivery's, and reports executables
// neither a package nor a declaration accounts for.
func reconcileFiles(s *SBOM, inv *inventory.Inventory, d *Declared) []result.Finding {
	var out []result.Finding
	declaredDigest := map[string]bool{}
	for _, c := range append(slices.Clone(d.Files), d.Components...) {
		if h := c.Hashes["sha256"]; h != "" {
			declaredDigest[h] = true
		}
	}
	// Files are matched by path: the whole path, or a unique path ending in the declared
	// name (a vendor may root its paths elsewhere: /opt/app/bin/x for bin/x).
	digestOf := map[string]string{}
	byBase := map[string][]string{}
	for _, a := range inv.Artifacts {
		if a.Hidden == "" && (a.Type == "file" || a.Type == "hardlink") {
			digestOf[a.Path] = strings.TrimPrefix(a.Digest, "sha256:")
			byBase[lastElem(a.Path)] = append(byBase[lastElem(a.Path)], a.Path)
		}
	}
	for _, c := range d.Files {
		name := strings.TrimPrefix(path.Clean("/"+c.Name), "/")
		p := matchFile(digestOf, byBase, name)
		if p == "" {
			out = append(out, finding("sbom/absent-component", "",
				fmt.Sprintf("the vendor's SBOM declares the file %s, which is not in the delivery", c.Name), "declared: "+describeComp(c)))
			continue
		}
		if want := c.Hashes["sha256"]; want != "" && want != digestOf[p] {
			out = append(out, finding("sbom/hash-mismatch", p,
				fmt.Sprintf("%s has sha256 %s; the vendor's SBOM declares %s", p, digestOf[p], want)))
		}
	}
	for _, e := range s.Executables {
		if !e.Unaccounted() || declaredDigest[strings.TrimPrefix(e.Digest, "sha256:")] {
			continue
		}
		out = append(out, finding("sbom/unaccounted-executable", e.Path,
			fmt.Sprintf("no package accounts for this %s executable and the vendor's SBOM does not declare it with its digest", e.Format),
			e.Digest))
	}
	return out
}

// matchFile finds a declared file: by its whole path, or as the one path ending in it.
func matchFile(files map[string]string, byBase map[string][]string, name string) string {
	if _, ok := files[name]; ok {
		return name
	}
	var hit string
	for _, f := range byBase[lastElem(name)] {
		if strings.HasSuffix(f, "/"+name) || strings.HasSuffix(f, "!"+name) {
			if hit != "" {
				return "" // ambiguous: not a match
			}
			hit = f
		}
	}
	return hit
}

// lastElem is a path's last element, inside archives too.
func lastElem(p string) string {
	return p[strings.LastIndexAny(p, "/!")+1:]
}

// Quality reports the gaps of a declared SBOM against the NTIA minimum elements.
func Quality(d *Declared) []result.Finding {
	var out []result.Finding
	where := "the vendor's SBOM (" + d.Format + ")"
	if d.Timestamp == "" {
		out = append(out, finding("sbom/vendor-no-timestamp", "", where+" does not say when it was made"))
	}
	if len(d.Authors) == 0 {
		out = append(out, finding("sbom/vendor-no-author", "", where+" names no person or organisation as its author"))
	}
	if len(d.Components) > 1 && !d.Dependencies {
		out = append(out, finding("sbom/vendor-no-dependencies", "", fmt.Sprintf("%s relates none of its %d components to another", where, len(d.Components))))
	}
	gap := func(id, what string, missing func(Component) bool) {
		var names []string
		for _, c := range d.Components {
			if missing(c) {
				names = append(names, strings.TrimSpace(c.Name+" "+c.Version))
			}
		}
		if len(names) == 0 {
			return
		}
		ev := names[:min(len(names), maxListed)]
		if len(names) > maxListed {
			ev = append(slices.Clone(ev), fmt.Sprintf("… and %d more", len(names)-maxListed))
		}
		out = append(out, finding(id, "", fmt.Sprintf("%d of %d components in %s have no %s", len(names), len(d.Components), where, what), ev...))
	}
	gap("sbom/vendor-missing-supplier", "supplier", func(c Component) bool { return c.Supplier == "" })
	gap("sbom/vendor-missing-version", "version", func(c Component) bool { return c.Version == "" })
	gap("sbom/vendor-missing-identifier", "purl or CPE", func(c Component) bool { return c.PURL == "" && len(c.CPEs) == 0 })
	if d.Assertable > 0 && d.NoAssertion*2 > d.Assertable {
		out = append(out, finding("sbom/vendor-noassertion", "",
			fmt.Sprintf("%d of %d package fields in %s say NOASSERTION or nothing", d.NoAssertion, d.Assertable, where)))
	}
	return out
}
