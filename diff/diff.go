// Package diff compares two releases of a delivery and ranks what changed by risk: files
// added, removed, changed and renamed; for changed executables the deltas of what they
// import, export, load, name on the network and ask of the loader; findings that are
// new, gone or changed in severity; SBOM components added, removed, upgraded, downgraded
// or rebuilt under the same version; signers and provenance that changed or vanished.
//
// Either side is a result document: one kensa made while inspecting a target, or one it
// saved earlier (the result.json of `kensa accept`, which keeps each executable's
// profile and the SBOM's components, or a `kensa facts` document), so that the old bytes
// need not be kept.
//
//	rep := diff.Compare(oldResult, newResult, diff.Options{})
//	rep.Filter(result.Medium)
//	for _, c := range rep.Changes { fmt.Println(c.Level, c.Summary) }
//
// Most backdoors that reached users were signed and built by the real pipeline; what gave
// them away was what changed (a new class in an updated DLL, a new destination in an
// existing routine). The ranking puts such changes first: every change gets a risk score
// from 0 to 100 made of documented weights (see risk.go), and a level from the score.
package diff

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"kensa.dev/kensa/internal/result"
	"kensa.dev/kensa/sbom"
)

// SchemaVersion names the document `kensa diff --format json` writes.
const SchemaVersion = "kensa.dev/diff/v1"

// Change kinds.
const (
	FileAdded          = "file-added"
	FileRemoved        = "file-removed"
	FileChanged        = "file-changed"
	FileRenamed        = "file-renamed"
	FileMode           = "file-mode"
	FindingNew         = "finding-new"
	FindingGone        = "finding-gone"
	FindingSeverity    = "finding-severity"
	ComponentAdded     = "component-added"
	ComponentRemoved   = "component-removed"
	ComponentUpgraded  = "component-upgraded"
	ComponentDowngrade = "component-downgraded"
	ComponentRebuilt   = "component-rebuilt"
	SignerChanged      = "signer-changed"
	SignatureLost      = "signature-lost"
	ProvenanceLost     = "provenance-lost"
	CheckChanged       = "check-changed"
)

// Report is the comparison of two releases.
type Report struct {
	SchemaVersion string      `json:"schemaVersion"`
	Tool          result.Tool `json:"tool"`
	Old           Side        `json:"old"`
	New           Side        `json:"new"`
	// MinRisk is the lowest level listed, when changes below it were left out.
	MinRisk result.Severity `json:"minRisk,omitempty"`
	Summary Summary         `json:"summary"`
	// Changes are ranked: highest risk first.
	Changes []Change `json:"changes"`
	// NotCompared says what could not be compared, and why.
	NotCompared []string `json:"notCompared,omitempty"`
	// Errors are what could not be inspected on either side: a change hidden there
	// cannot be ruled out.
	Errors []result.Error `json:"errors"`
}

// Side describes one of the two releases.
type Side struct {
	// Input is the target or the result file as given.
	Input string `json:"input"`
	// From is "target" (inspected in this run), "result" (a saved kensa result) or
	// "facts" (a saved `kensa facts` document).
	From      string        `json:"from"`
	Target    result.Target `json:"target"`
	Artifacts int           `json:"artifacts"`
}

// Summary counts the changes.
type Summary struct {
	Files      FileCounts      `json:"files"`
	Components ComponentCounts `json:"components"`
	Findings   FindingCounts   `json:"findings"`
	// Risk counts the changes by level, before any --min-risk filter.
	Risk map[result.Severity]int `json:"risk"`
	// Listed is how many changes the report lists.
	Listed int `json:"listed"`
}

// FileCounts count the files by what happened to them.
type FileCounts struct {
	Added     int `json:"added"`
	Removed   int `json:"removed"`
	Changed   int `json:"changed"`
	Renamed   int `json:"renamed"`
	Unchanged int `json:"unchanged"`
}

// ComponentCounts count the SBOM component changes.
type ComponentCounts struct {
	Added      int `json:"added"`
	Removed    int `json:"removed"`
	Upgraded   int `json:"upgraded"`
	Downgraded int `json:"downgraded"`
	Rebuilt    int `json:"rebuilt"`
}

// FindingCounts count the finding changes.
type FindingCounts struct {
	New     int `json:"new"`
	Gone    int `json:"gone"`
	Changed int `json:"changed"`
}

// Change is one difference between the releases.
type Change struct {
	Kind string `json:"kind"`
	// Risk is the score from 0 to 100 (see risk.go); Level is its severity band.
	Risk  int             `json:"risk"`
	Level result.Severity `json:"level"`
	// Path is the file in the new release (in the old one for what is gone); OldPath is
	// the old path of a renamed file.
	Path    string `json:"path,omitempty"`
	OldPath string `json:"oldPath,omitempty"`
	// Subject names what is not a file: a component, a rule, a check.
	Subject string `json:"subject,omitempty"`
	// Summary says what changed in one sentence.
	Summary string `json:"summary"`
	// Details are the deltas behind the score, most significant first.
	Details []string `json:"details,omitempty"`
	// Old and New are the old and new digest, version, severity or status.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
}

// Options adjust a comparison.
type Options struct {
	// Declared, when set, says whether the buyer's declarations list a network
	// destination (a host name or address): a new destination that is declared weighs
	// little.
	Declared func(host string) bool
}

// Compare compares an old and a new release. Their artifacts should carry profiles
// (result.Artifact.Profile) or facts for the executables to be compared in depth.
func Compare(old, new *result.Result, opts Options) *Report {
	r := &Report{SchemaVersion: SchemaVersion, Summary: Summary{Risk: map[result.Severity]int{}}, Changes: []Change{}, Errors: []result.Error{}}
	for _, e := range old.Errors {
		e.Error = "in the old release: " + e.Error
		r.Errors = append(r.Errors, e)
	}
	r.Errors = append(r.Errors, new.Errors...)

	pairs := pairFiles(old.Artifacts, new.Artifacts)
	pathMap := map[string]string{} // old path → new path
	for _, p := range pairs {
		if p.old != nil && p.new != nil {
			pathMap[p.old.Path] = p.new.Path
		}
	}
	missing := 0
	for _, p := range pairs {
		if c, ok := fileChange(p, opts, &r.Summary.Files, &missing); ok {
			r.Changes = append(r.Changes, c)
		}
	}
	if missing > 0 {
		r.NotCompared = append(r.NotCompared, fmt.Sprintf("%d changed executables could not be compared in depth: a side holds no profile of them (a result of kensa scan keeps none; use the result.json of kensa accept or a kensa facts document)", missing))
	}
	r.Changes = append(r.Changes, findingChanges(old.Findings, new.Findings, pathMap, &r.Summary.Findings)...)
	switch {
	case len(old.Components) == 0 && len(new.Components) == 0:
		r.NotCompared = append(r.NotCompared, "SBOM components: neither side lists any")
	case len(old.Components) == 0 || len(new.Components) == 0:
		r.NotCompared = append(r.NotCompared, "SBOM components: only one side lists them (the result.json of kensa accept does; a kensa scan or facts document does not)")
	default:
		r.Changes = append(r.Changes, componentChanges(old, new, pathMap, &r.Summary.Components)...)
	}
	if len(old.Checks) > 0 && len(new.Checks) > 0 {
		r.Changes = append(r.Changes, checkChanges(old.Checks, new.Checks, pathMap)...)
	} else if len(old.Checks) > 0 || len(new.Checks) > 0 {
		r.NotCompared = append(r.NotCompared, "signature and provenance checks: only one side holds them (compare two results of kensa accept for that); signers embedded in executables were compared")
	}
	for i := range r.Changes {
		c := &r.Changes[i]
		c.Risk = min(max(c.Risk, 0), 100)
		c.Level = Level(c.Risk)
		r.Summary.Risk[c.Level]++
	}
	slices.SortStableFunc(r.Changes, func(a, b Change) int {
		return cmp.Or(cmp.Compare(b.Risk, a.Risk), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Subject, b.Subject))
	})
	r.Summary.Listed = len(r.Changes)
	return r
}

// Filter drops the changes below a level.
func (r *Report) Filter(min result.Severity) {
	r.MinRisk = min
	r.Changes = slices.DeleteFunc(r.Changes, func(c Change) bool { return c.Level.Rank() < min.Rank() })
	r.Summary.Listed = len(r.Changes)
}

// Level is the severity band of a risk score: critical from 70, high from 45, medium
// from 25, low from 10, info below.
func Level(risk int) result.Severity {
	switch {
	case risk >= 70:
		return result.Critical
	case risk >= 45:
		return result.High
	case risk >= 25:
		return result.Medium
	case risk >= 10:
		return result.Low
	}
	return result.Info
}

// pair is a file of the old release and what became of it in the new one.
type pair struct {
	old, new *result.Artifact
}

// comparable reports the artifacts a diff pairs: what a release delivers (files, links,
// special files), not what a lower image layer hid.
func comparable(a *result.Artifact) bool { return a.Hidden == "" && a.Type != "dir" }

// pairFiles pairs the files of two releases: by path (under the root each side's
// releases share, so that app-1.0.tar.gz!app-1.0/bin/x meets
// app-1.1.tar.gz!app-1.1/bin/x), then by path with version numbers masked
// (libfoo.so.1.2 → libfoo.so.1.3, x_1.0.deb!… → x_1.1.deb!…), then by content (a
// rename), each only where it is unambiguous.
func pairFiles(oldArts, newArts []result.Artifact) []pair {
	var olds, news []*result.Artifact
	for i := range oldArts {
		if comparable(&oldArts[i]) {
			olds = append(olds, &oldArts[i])
		}
	}
	for i := range newArts {
		if comparable(&newArts[i]) {
			news = append(news, &newArts[i])
		}
	}
	ok, nk := rootKeys(olds, news)
	var out []pair
	usedOld := make([]bool, len(olds))
	usedNew := make([]bool, len(news))
	match := func(key func(side int, i int) string) {
		oi := map[string][]int{}
		for i := range olds {
			if !usedOld[i] {
				if k := key(0, i); k != "" {
					oi[k] = append(oi[k], i)
				}
			}
		}
		ni := map[string][]int{}
		for i := range news {
			if !usedNew[i] {
				if k := key(1, i); k != "" {
					ni[k] = append(ni[k], i)
				}
			}
		}
		for k, os := range oi {
			ns := ni[k]
			if len(os) != 1 || len(ns) != 1 {
				continue
			}
			usedOld[os[0]], usedNew[ns[0]] = true, true
			out = append(out, pair{olds[os[0]], news[ns[0]]})
		}
	}
	keyOf := func(side, i int) string {
		if side == 0 {
			return ok[i]
		}
		return nk[i]
	}
	match(keyOf)
	match(func(side, i int) string { return versionMask.ReplaceAllString(keyOf(side, i), "#") })
	match(func(side, i int) string {
		a := olds
		if side == 1 {
			a = news
		}
		if a[i].Digest == "" || a[i].Size == 0 {
			return ""
		}
		return a[i].Digest
	})
	for _, m := range similarPairs(olds, news, usedOld, usedNew) {
		usedOld[m[0]], usedNew[m[1]] = true, true
		out = append(out, pair{olds[m[0]], news[m[1]]})
	}
	for i, a := range olds {
		if !usedOld[i] {
			out = append(out, pair{old: a})
		}
	}
	for i, a := range news {
		if !usedNew[i] {
			out = append(out, pair{new: a})
		}
	}
	return out
}

var versionMask = regexp.MustCompile(`[0-9]+`)

// minSimilarity is how alike two executables' profiles must be to be taken for one
// program renamed and changed.
const minSimilarity = 0.8

// similarPairs pairs the executables no name or digest paired: each with the one most
// like it on the other side, when that one's best match is it in turn, their formats
// agree, their sizes are within a third of each other and their profiles share at least
// minSimilarity of their names (imports, exports, libraries, sections, modules).
func similarPairs(olds, news []*result.Artifact, usedOld, usedNew []bool) [][2]int {
	type cand struct {
		i   int
		set map[string]bool
	}
	collect := func(arts []*result.Artifact, used []bool) []cand {
		var out []cand
		for i, a := range arts {
			if used[i] || !a.Executable() {
				continue
			}
			if p := profileOf(a); p != nil {
				if set := nameSet(p); len(set) >= 5 {
					out = append(out, cand{i, set})
				}
			}
		}
		return out
	}
	os, ns := collect(olds, usedOld), collect(news, usedNew)
	if len(os) == 0 || len(ns) == 0 || len(os)*len(ns) > 250000 {
		return nil
	}
	best := func(from []cand, fromArts []*result.Artifact, to []cand, toArts []*result.Artifact) map[int]int {
		out := map[int]int{}
		for _, a := range from {
			bi, bs := -1, 0.0
			for _, b := range to {
				x, y := fromArts[a.i], toArts[b.i]
				if x.Format != y.Format || float64(min(x.Size, y.Size)) < 0.75*float64(max(x.Size, y.Size)) {
					continue
				}
				if s := jaccard(a.set, b.set); s > bs {
					bi, bs = b.i, s
				}
			}
			if bs >= minSimilarity {
				out[a.i] = bi
			}
		}
		return out
	}
	forward, backward := best(os, olds, ns, news), best(ns, news, os, olds)
	var out [][2]int
	for o, n := range forward {
		if backward[n] == o {
			out = append(out, [2]int{o, n})
		}
	}
	slices.SortFunc(out, func(a, b [2]int) int { return cmp.Compare(a[0], b[0]) })
	return out
}

func nameSet(p *result.Profile) map[string]bool {
	set := map[string]bool{}
	for _, list := range [][]string{p.Imports, p.Exports, p.Libraries, p.Modules} {
		for _, x := range list {
			set[x] = true
		}
	}
	for _, s := range p.Sections {
		set["section "+s.Name] = true
	}
	return set
}

func jaccard(a, b map[string]bool) float64 {
	inter := 0
	for x := range a {
		if b[x] {
			inter++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

// rootKeys are the paths of both sides with the leading segments removed that all files
// of a side share while the two sides name them differently (the delivered archive's
// versioned name, the versioned directory inside it).
func rootKeys(olds, news []*result.Artifact) ([]string, []string) {
	ok := make([]string, len(olds))
	for i, a := range olds {
		ok[i] = a.Path
	}
	nk := make([]string, len(news))
	for i, a := range news {
		nk[i] = a.Path
	}
	for range 4 {
		os, oshared := sharedFirst(ok)
		ns, nshared := sharedFirst(nk)
		if !oshared || !nshared || os == ns {
			break
		}
		strip := func(keys []string, seg string) {
			for i, k := range keys {
				if k == seg {
					keys[i] = "."
				} else if strings.HasPrefix(k, seg) {
					keys[i] = strings.TrimLeft(k[len(seg):], "/!")
				}
			}
		}
		strip(ok, os)
		strip(nk, ns)
	}
	return ok, nk
}

// sharedFirst returns the first path segment all keys share (the key "." of a stripped
// root aside), and whether there is one.
func sharedFirst(keys []string) (string, bool) {
	seg := ""
	for _, k := range keys {
		if k == "." {
			continue
		}
		i := strings.IndexAny(k, "/!")
		s := k
		if i >= 0 {
			s = k[:i]
		}
		if seg == "" {
			seg = s
		} else if s != seg {
			return "", false
		}
	}
	return seg, seg != ""
}

// versioned matches a file name that carries a version ("app-1.2.3.tar.gz", "x_1.0_amd64.deb").
var versioned = regexp.MustCompile(`[0-9]+\.[0-9]+`)

func fileChange(p pair, opts Options, counts *FileCounts, missing *int) (Change, bool) {
	o, n := p.old, p.new
	switch {
	case o == nil:
		counts.Added++
		return addedFile(n, opts), true
	case n == nil:
		counts.Removed++
		c := Change{Kind: FileRemoved, Path: o.Path, Old: o.Digest, Risk: 1, Summary: fmt.Sprintf("%s was removed", o.Path)}
		if o.Executable() {
			c.Risk = 4
			c.Summary = fmt.Sprintf("executable %s was removed", o.Path)
		}
		return c, true
	}
	if o.Digest == n.Digest && o.Type == n.Type && o.LinkTarget == n.LinkTarget {
		if o.Path != n.Path && versionMask.ReplaceAllString(o.Path, "#") != versionMask.ReplaceAllString(n.Path, "#") {
			counts.Renamed++
			return Change{Kind: FileRenamed, Path: n.Path, OldPath: o.Path, Risk: 2, New: n.Digest,
				Summary: fmt.Sprintf("%s was renamed to %s, with the same content", o.Path, n.Path)}, true
		}
		if o.Mode != n.Mode {
			return modeChange(o, n), true
		}
		counts.Unchanged++
		return Change{}, false
	}
	counts.Changed++
	c := Change{Kind: FileChanged, Path: n.Path, Old: o.Digest, New: n.Digest, Risk: 3}
	if o.Path != n.Path {
		c.OldPath = o.Path
	}
	switch {
	case o.LinkTarget != n.LinkTarget:
		c.Summary = fmt.Sprintf("%s now points to %s instead of %s", n.Path, n.LinkTarget, o.LinkTarget)
		c.Risk = 8
	case o.Format != n.Format:
		c.Summary = fmt.Sprintf("%s changed from %s to %s", n.Path, o.Format, n.Format)
		if n.Executable() {
			c.Risk = 30
		}
	case versionMask.ReplaceAllString(o.Path, "#") != versionMask.ReplaceAllString(n.Path, "#"):
		c.Summary = fmt.Sprintf("%s was renamed to %s and changed (%s, %d → %d bytes)", o.Path, n.Path, n.Format, o.Size, n.Size)
		c.Risk += 5
	default:
		c.Summary = fmt.Sprintf("%s changed (%s, %d → %d bytes)", n.Path, n.Format, o.Size, n.Size)
	}
	if o.Path == n.Path && versioned.MatchString(baseName(n.Path)) {
		c.Risk += 40
		c.Details = append(c.Details, "same name and version, different bytes: the file's name carries a version that did not change")
	}
	if Profiled(*o) || Profiled(*n) {
		op, np := profileOf(o), profileOf(n)
		if op == nil || np == nil {
			*missing++
			c.Risk += 10
			c.Details = append(c.Details, "executable changed; no profile to compare it in depth")
		} else {
			risk, details := profileDelta(op, np, opts)
			c.Risk += risk
			if n.Executable() {
				c.Risk += 7
				if risk == 0 {
					details = append([]string{"code changed; nothing it imports, exports, loads or names changed"}, details...)
				}
			}
			c.Details = append(c.Details, details...)
		}
	}
	if o.Mode != n.Mode {
		m := modeChange(o, n)
		c.Risk += m.Risk
		c.Details = append(c.Details, m.Summary)
	}
	return c, true
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, "/!"); i >= 0 {
		return p[i+1:]
	}
	return p
}

// profileOf is an artifact's profile: the one it carries, or one drawn from its facts.
func profileOf(a *result.Artifact) *result.Profile {
	if a.Profile != nil {
		return a.Profile
	}
	return ProfileOf(*a)
}

func modeBits(m string) uint64 {
	v, _ := strconv.ParseUint(m, 8, 32)
	return v
}

func modeChange(o, n *result.Artifact) Change {
	c := Change{Kind: FileMode, Path: n.Path, Old: o.Mode, New: n.Mode, Risk: 2,
		Summary: fmt.Sprintf("%s mode changed from %s to %s", n.Path, o.Mode, n.Mode)}
	ob, nb := modeBits(o.Mode), modeBits(n.Mode)
	if gained := nb &^ ob; gained&0o6000 != 0 {
		c.Risk = 45
		c.Summary = fmt.Sprintf("%s became setuid or setgid (mode %s → %s)", n.Path, o.Mode, n.Mode)
	} else if gained&0o111 != 0 {
		c.Risk = 10
		c.Summary = fmt.Sprintf("%s became executable (mode %s → %s)", n.Path, o.Mode, n.Mode)
	} else if gained&0o002 != 0 {
		c.Risk = 20
		c.Summary = fmt.Sprintf("%s became world-writable (mode %s → %s)", n.Path, o.Mode, n.Mode)
	}
	return c
}

func addedFile(n *result.Artifact, opts Options) Change {
	c := Change{Kind: FileAdded, Path: n.Path, New: n.Digest, Risk: 2, Summary: fmt.Sprintf("%s was added (%s)", n.Path, n.Format)}
	if !n.Executable() && !Profiled(*n) {
		return c
	}
	c.Risk = 15
	if n.Executable() {
		c.Risk = 22
		c.Summary = fmt.Sprintf("executable %s was added (%s)", n.Path, n.Format)
	}
	if modeBits(n.Mode)&0o6000 != 0 {
		c.Risk += 30
		c.Details = append(c.Details, "setuid or setgid (mode "+n.Mode+")")
	}
	if p := profileOf(n); p != nil {
		risk, details := profileDelta(&result.Profile{}, &result.Profile{Network: p.Network, Observations: p.Observations,
			Packers: p.Packers, Interesting: p.Interesting, IFuncs: p.IFuncs}, opts)
		c.Risk += risk / 2
		c.Details = append(c.Details, details...)
	}
	return c
}

// findingChanges pairs the findings of both releases by rule and path (old paths mapped
// to their new names), then by message within that group.
func findingChanges(old, new []result.Finding, pathMap map[string]string, counts *FindingCounts) []Change {
	key := func(f result.Finding, mapped bool) string {
		p := f.Path
		if mapped {
			if q, ok := pathMap[p]; ok {
				p = q
			}
		}
		return f.Rule + "\x00" + p
	}
	groups := map[string][2][]result.Finding{}
	for _, f := range old {
		g := groups[key(f, true)]
		g[0] = append(g[0], f)
		groups[key(f, true)] = g
	}
	for _, f := range new {
		g := groups[key(f, false)]
		g[1] = append(g[1], f)
		groups[key(f, false)] = g
	}
	var out []Change
	for _, g := range groups {
		os, ns := g[0], g[1]
		// Same message first, then in order.
		for i := 0; i < len(ns); i++ {
			if j := slices.IndexFunc(os, func(o result.Finding) bool { return o.Message == ns[i].Message }); j >= 0 {
				if c, ok := severityChange(os[j], ns[i], counts); ok {
					out = append(out, c)
				}
				os = slices.Delete(slices.Clone(os), j, j+1)
				ns = slices.Delete(slices.Clone(ns), i, i+1)
				i--
			}
		}
		for len(os) > 0 && len(ns) > 0 {
			if c, ok := severityChange(os[0], ns[0], counts); ok {
				out = append(out, c)
			}
			os, ns = os[1:], ns[1:]
		}
		for _, f := range ns {
			counts.New++
			out = append(out, Change{Kind: FindingNew, Path: f.Path, Subject: f.Rule, New: string(f.Severity), Risk: findingRisk(f.Severity),
				Summary: fmt.Sprintf("new %s finding %s: %s", f.Severity, f.Rule, f.Message), Details: f.Evidence})
		}
		for _, f := range os {
			counts.Gone++
			out = append(out, Change{Kind: FindingGone, Path: f.Path, Subject: f.Rule, Old: string(f.Severity), Risk: 1,
				Summary: fmt.Sprintf("%s finding %s is gone: %s", f.Severity, f.Rule, f.Message)})
		}
	}
	return out
}

func severityChange(o, n result.Finding, counts *FindingCounts) (Change, bool) {
	if o.Severity == n.Severity {
		return Change{}, false
	}
	counts.Changed++
	c := Change{Kind: FindingSeverity, Path: n.Path, Subject: n.Rule, Old: string(o.Severity), New: string(n.Severity), Risk: 1,
		Summary: fmt.Sprintf("finding %s went from %s to %s: %s", n.Rule, o.Severity, n.Severity, n.Message), Details: n.Evidence}
	if n.Severity.Rank() > o.Severity.Rank() {
		c.Risk = findingRisk(n.Severity)
	}
	return c, true
}

// findingRisk scores a new finding by its severity.
func findingRisk(s result.Severity) int {
	return map[result.Severity]int{result.Critical: 85, result.High: 60, result.Medium: 30, result.Low: 12, result.Info: 3}[s]
}

// componentChanges compares the SBOM components, and for each component in both at the
// same version the files it alone owns: different bytes under the same version is a
// rebuilt or replaced package.
func componentChanges(old, new *result.Result, pathMap map[string]string, counts *ComponentCounts) []Change {
	conv := func(cs []result.Component) []sbom.Component {
		out := make([]sbom.Component, len(cs))
		for i, c := range cs {
			out[i] = sbom.Component{Name: c.Name, Version: c.Version, Type: c.Type, PURL: c.PURL}
		}
		return out
	}
	var out []Change
	for _, d := range sbom.Diff(conv(old.Components), conv(new.Components)) {
		c := Change{Subject: d.Name, Old: d.Old, New: d.New, Details: nonEmpty(d.PURL)}
		switch d.Kind {
		case sbom.Added:
			counts.Added++
			c.Kind, c.Risk, c.Summary = ComponentAdded, 10, fmt.Sprintf("component %s %s (%s) was added", d.Name, d.New, d.Type)
		case sbom.Removed:
			counts.Removed++
			c.Kind, c.Risk, c.Summary = ComponentRemoved, 3, fmt.Sprintf("component %s %s (%s) was removed", d.Name, d.Old, d.Type)
		case sbom.Upgraded:
			counts.Upgraded++
			c.Kind, c.Risk, c.Summary = ComponentUpgraded, 3, fmt.Sprintf("component %s was upgraded from %s to %s", d.Name, d.Old, d.New)
		case sbom.Downgraded:
			counts.Downgraded++
			c.Kind, c.Risk, c.Summary = ComponentDowngrade, 30, fmt.Sprintf("component %s was downgraded from %s to %s: an older version may bring back fixed vulnerabilities", d.Name, d.Old, d.New)
		}
		out = append(out, c)
	}
	digestOld := map[string]string{}
	for _, a := range old.Artifacts {
		if a.Hidden == "" {
			digestOld[a.Path] = a.Digest
		}
	}
	digestNew := map[string]string{}
	for _, a := range new.Artifacts {
		if a.Hidden == "" {
			digestNew[a.Path] = a.Digest
		}
	}
	type id struct{ name, version, typ string }
	newByID := map[id]result.Component{}
	for _, c := range new.Components {
		newByID[id{c.Name, c.Version, c.Type}] = c
	}
	for _, oc := range old.Components {
		nc, ok := newByID[id{oc.Name, oc.Version, oc.Type}]
		if !ok || oc.Version == "" {
			continue
		}
		var changed []string
		for _, f := range oc.Files {
			np, ok := pathMap[f]
			if !ok || !slices.Contains(nc.Files, np) {
				continue
			}
			if od, nd := digestOld[f], digestNew[np]; od != "" && nd != "" && od != nd {
				changed = append(changed, fmt.Sprintf("%s: %s → %s", np, od, nd))
			}
		}
		if len(changed) > 0 {
			counts.Rebuilt++
			out = append(out, Change{Kind: ComponentRebuilt, Subject: nc.Name, Old: oc.Version, New: nc.Version, Risk: 55, Details: changed,
				Summary: fmt.Sprintf("component %s %s has the same version but %d of its files have different bytes", nc.Name, nc.Version, len(changed))})
		}
	}
	return out
}

func nonEmpty(s ...string) []string {
	return slices.DeleteFunc(s, func(x string) bool { return x == "" })
}

// checkChanges compares the signature and provenance checks of two accept results.
func checkChanges(old, new []result.Check, pathMap map[string]string) []Change {
	subject := func(s string) string {
		if q, ok := pathMap[s]; ok {
			return q
		}
		return s
	}
	type key struct{ name, subject string }
	newChecks := map[key]result.Check{}
	for _, c := range new {
		newChecks[key{c.Name, c.Subject}] = c
	}
	var out []Change
	for _, o := range old {
		n, ok := newChecks[key{o.Name, subject(o.Subject)}]
		provenance := strings.HasPrefix(o.Name, "provenance/")
		switch {
		case !ok && o.Status == result.Pass && provenance:
			out = append(out, Change{Kind: ProvenanceLost, Path: subject(o.Subject), Subject: o.Name, Old: o.Status, Risk: 60,
				Summary: fmt.Sprintf("%s passed for %s in the old release and is absent from the new one: the provenance vanished", o.Name, o.Subject)})
		case !ok && o.Status == result.Pass:
			out = append(out, Change{Kind: SignatureLost, Path: subject(o.Subject), Subject: o.Name, Old: o.Status, Risk: 60,
				Summary: fmt.Sprintf("%s passed for %s in the old release and is absent from the new one: the signature vanished", o.Name, o.Subject)})
		case ok && o.Status == result.Pass && n.Status != result.Pass:
			out = append(out, Change{Kind: CheckChanged, Path: n.Subject, Subject: n.Name, Old: o.Status, New: n.Status, Risk: 60,
				Summary: fmt.Sprintf("%s for %s passed in the old release and is %s now: %s", n.Name, n.Subject, n.Status, n.Detail)})
		case ok && o.Status == result.Pass && n.Detail != o.Detail && !provenance:
			out = append(out, Change{Kind: SignerChanged, Path: n.Subject, Subject: n.Name, Risk: 45, Details: []string{"old: " + o.Detail, "new: " + n.Detail},
				Summary: fmt.Sprintf("%s for %s passes in both releases but what it verified changed (a new signer or key)", n.Name, n.Subject)})
		}
	}
	return out
}
