package sbom

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"runtime"
	"slices"
	"strings"

	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/artifact"
	"github.com/anchore/syft/syft/cataloging"
	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/format/syftjson"
	"github.com/anchore/syft/syft/pkg"
	syftsbom "github.com/anchore/syft/syft/sbom"
	"github.com/anchore/syft/syft/source"
	"golang.org/x/sync/errgroup"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/analyzers/registry"
	"kensa.dev/kensa/internal/result"
)

// Options configure Generate.
type Options struct {
	// ToolVersion is kensa's version, recorded as the SBOM's tool.
	ToolVersion string
	// Parallelism is how many catalogers run at once; 0 means one per CPU.
	Parallelism int
	// Prepared, when set, is what Prepare started building while the inventory was
	// taken; without it Generate builds it first.
	Prepared *Prepared
}

// Prepared holds what cataloging needs regardless of the delivery (syft's license
// scanner, which takes seconds of CPU to build), built in the background.
type Prepared struct {
	done chan struct{}
	ctx  context.Context
	err  error
}

// Prepare starts building what cataloging needs, so that it overlaps the walk of the
// delivery (which keeps one core busy per layer). Pass the result in Options.Prepared.
func Prepare(ctx context.Context) *Prepared {
	p := &Prepared{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.ctx, p.err = syft.SetContextLicenseScanner(context.Background(), cataloging.DefaultLicenseConfig())
	}()
	return p
}

// licenseContext returns ctx carrying the prepared license scanner.
func (p *Prepared) licenseContext(ctx context.Context) (context.Context, error) {
	select {
	case <-p.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if p.err != nil {
		return nil, p.err
	}
	return valuesFrom{ctx, p.ctx}, nil
}

// valuesFrom is ctx (its deadline, cancellation and values) with the values of another
// context behind its own.
type valuesFrom struct {
	context.Context
	more context.Context
}

func (v valuesFrom) Value(key any) any {
	if x := v.Context.Value(key); x != nil {
		return x
	}
	return v.more.Value(key)
}

// SBOM is what Generate found: syft's model of the delivery's packages, plus what kensa
// adds to it.
type SBOM struct {
	// Syft holds the packages, relationships, distribution and the executables' files.
	Syft *syftsbom.SBOM
	// Executables are the delivery's executables (native binaries and executable
	// scripts), with their digest, hardening summary and the packages that account for
	// them, in path order.
	Executables []Executable
}

// Executable is one executable file of the delivery.
type Executable struct {
	// Path is the inventory's path ("bin/tool", "app.tar.gz!usr/bin/tool").
	Path   string
	Digest string
	Size   int64
	Format string
	// Hardening summarises the exploit mitigations the file asks for, from kensa's ELF,
	// PE and Mach-O facts ("pie nx relro=full canary fortify=3"); empty for scripts.
	Hardening string
	// Packages names the packages that account for the file: they were found in it (a Go
	// or Rust binary's build information, a classifier match), their package database
	// lists it (dpkg, rpm, apk) or it sits inside a package file (.deb, .rpm, .jar).
	// Empty means unaccounted: no package explains it.
	Packages []string

	coords file.Coordinates // how syft names the file
}

// Unaccounted reports whether no package accounts for the file.
func (e Executable) Unaccounted() bool { return len(e.Packages) == 0 }

// Analyzers are the analyzers whose facts Generate reads (the hardening of ELF, PE and
// Mach-O files): give them to the inventory (inventory.Options.Analyzers) with Keep.
func Analyzers() []analyzers.Analyzer {
	a, err := registry.Select([]string{"elf", "pe", "macho"})
	if err != nil {
		panic(err) // the registry lists them; its tests fail first
	}
	return a
}

// Generate catalogs a delivery from its inventory, taken with Options.Keep so that the
// catalogers read the bytes the walk kept instead of unpacking anything again. Every
// filesystem of the delivery is cataloged: the target itself (a directory or an image's
// squashed filesystem) and the inside of every archive found in it, to the walk's depth;
// packages found inside an archive are located by syft's nested paths
// ("/delivery.tar.gz!/usr/bin/tool"). An inventory a walk worker took with
// inventory.Options.Catalog brings its catalog along (CatalogJSON, run in the walk
// worker); Generate reads it instead of cataloging here.
func Generate(ctx context.Context, inv *inventory.Inventory, opts Options) (*SBOM, error) {
	if len(inv.Targets) != 1 {
		return nil, fmt.Errorf("an SBOM describes one target, got %d", len(inv.Targets))
	}
	if len(inv.Stored) != len(inv.Artifacts) {
		return nil, fmt.Errorf("the inventory was taken without keeping the files' bytes (inventory.Options.Keep)")
	}
	layers := imageLayers(inv)
	var out *syftsbom.SBOM
	var err error
	if c := inv.Catalog; c != nil {
		// Cataloged where the delivery was walked (a walk worker).
		if c.Error != "" {
			return nil, errors.New(c.Error)
		}
		if out, err = decodeCatalog(c.SyftJSON); err != nil {
			return nil, fmt.Errorf("reading the SBOM the walk worker made: %w", err)
		}
	} else if out, err = catalog(ctx, inv, layers, opts); err != nil {
		return nil, err
	}
	res := &SBOM{Syft: out}
	res.Executables = executables(inv, out, layers)
	addFiles(out, inv, res.Executables)
	return res, nil
}

// CatalogJSON runs syft's catalogers over the inventory as Generate does, and returns
// their SBOM in syft's JSON format: what a walk worker hands back for
// inventory.Options.Catalog, which Generate then reads instead of cataloging.
func CatalogJSON(ctx context.Context, inv *inventory.Inventory, opts Options) ([]byte, error) {
	if len(inv.Targets) != 1 {
		return nil, fmt.Errorf("an SBOM describes one target, got %d", len(inv.Targets))
	}
	s, err := catalog(ctx, inv, imageLayers(inv), opts)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := syftjson.NewFormatEncoder().Encode(&b, *s); err != nil {
		return nil, fmt.Errorf("encoding the SBOM: %w", err)
	}
	return b.Bytes(), nil
}

// decodeCatalog reads what CatalogJSON wrote.
func decodeCatalog(b []byte) (*syftsbom.SBOM, error) {
	s, _, _, err := syftjson.NewFormatDecoder().Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return s, nil
}

// imageLayers maps an image target's layer indexes to their diff IDs.
func imageLayers(inv *inventory.Inventory) map[int]string {
	layers := map[int]string{}
	if t := inv.Targets[0]; t.Image != nil {
		for _, l := range t.Image.Layers {
			layers[l.Index] = l.DiffID
		}
	}
	return layers
}

// catalog runs syft's catalogers over every filesystem of the delivery.
func catalog(ctx context.Context, inv *inventory.Inventory, layers map[int]string, opts Options) (*syftsbom.SBOM, error) {
	desc := describe(inv.Targets[0])
	roots, err := filesystems(inv, layers)
	if err != nil {
		return nil, err
	}

	cfg := syft.DefaultCreateSBOMConfig().WithTool("kensa", opts.ToolVersion)
	if opts.Parallelism > 0 {
		cfg = cfg.WithParallelism(opts.Parallelism)
	}
	// kensa opens the archives itself, once: syft must not unpack them again.
	cfg = cfg.WithArchiveConfig(cataloging.DefaultArchiveSearchConfig().
		WithIncludeIndexedArchives(false).WithIncludeUnindexedArchives(false))
	// File digests and metadata come from the inventory, not from reading files again.
	cfg = cfg.WithoutFiles()
	// The SBOM describes the delivery's bytes, not the machine kensa runs on: no local
	// Go module cache or Maven repository (syft finds them from HOME and GOPATH, which
	// a walk worker does not have).
	cfg.Packages.Golang.LocalModCacheDir = ""
	cfg.Packages.JavaArchive.MavenLocalRepositoryDir = ""

	// One license scanner for every filesystem: building it costs seconds.
	prep := opts.Prepared
	if prep == nil {
		prep = Prepare(ctx)
	}
	if ctx, err = prep.licenseContext(ctx); err != nil {
		return nil, err
	}
	sboms, err := catalogRoots(ctx, desc, roots, cfg, opts.Parallelism)
	if err != nil {
		return nil, err
	}
	out := sboms[0]
	for _, s := range sboms[1:] {
		if s == nil {
			continue // a filesystem known to yield nothing (catalogRoots)
		}
		out.Artifacts.Packages.Add(s.Artifacts.Packages.Sorted()...)
		out.Relationships = append(out.Relationships, s.Relationships...)
		if out.Artifacts.LinuxDistribution == nil {
			out.Artifacts.LinuxDistribution = s.Artifacts.LinuxDistribution
		}
	}
	return out, nil
}

// catalogRoots catalogs each filesystem on its own, several at once: most of them are
// the inside of a small archive (a compressed manual page, a changelog), where syft's
// fixed cost per filesystem (choosing and building its catalogers) outweighs the
// cataloging and would otherwise leave cores idle. The SBOMs come back in the order of
// roots; a filesystem of a single file that answers nothing to the questions asked of the
// first such filesystem, which found nothing, gets none (replay.go).
func catalogRoots(ctx context.Context, desc source.Description, roots []*fsys, cfg *syft.CreateSBOMConfig, parallelism int) ([]*syftsbom.SBOM, error) {
	if parallelism <= 0 {
		parallelism = runtime.GOMAXPROCS(0)
	}
	out := make([]*syftsbom.SBOM, len(roots))
	errs := make([]error, len(roots))
	first := slices.IndexFunc(roots, (*fsys).oneFileAtTop)
	var asked []question
	if first >= 0 {
		rec := &recorder{fsys: roots[first]}
		out[first], errs[first] = syft.CreateSBOM(ctx, &delivery{desc: desc, res: rec}, cfg)
		if errs[first] == nil && !rec.found && addsNothing(out[first]) {
			asked = rec.questions
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelism)
	for i := range roots {
		if i == first {
			continue
		}
		g.Go(func() error {
			if asked != nil && roots[i].oneFileAtTop() && answersNothing(roots[i], asked) {
				return nil
			}
			out[i], errs[i] = syft.CreateSBOM(gctx, &delivery{desc: desc, res: roots[i]}, cfg)
			return errs[i]
		})
	}
	g.Wait()
	// The first real failure, in root order: the filesystems cancelled because of it
	// report only the cancellation.
	failed := -1
	for i := range roots {
		if errs[i] != nil && (failed < 0 || errors.Is(errs[failed], context.Canceled) && !errors.Is(errs[i], context.Canceled)) {
			failed = i
		}
	}
	if failed >= 0 {
		where := "the delivery"
		if roots[failed].prefix != "" {
			where = roots[failed].prefix
		}
		return nil, fmt.Errorf("cataloging %s: %w", where, errs[failed])
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// addsNothing reports an SBOM that adds nothing when merged: no package, no relationship, no
// distribution.
func addsNothing(s *syftsbom.SBOM) bool {
	return s != nil && s.Artifacts.Packages.PackageCount() == 0 && len(s.Relationships) == 0 && s.Artifacts.LinuxDistribution == nil
}

// delivery is the source.Source syft catalogs: one filesystem of the delivery.
type delivery struct {
	desc source.Description
	res  file.Resolver
}

func (d *delivery) ID() artifact.ID                                  { return artifact.ID(d.desc.ID) }
func (d *delivery) FileResolver(source.Scope) (file.Resolver, error) { return d.res, nil }
func (d *delivery) Describe() source.Description                     { return d.desc }
func (d *delivery) Close() error                                     { return nil }

// describe says what the target is, as syft's sources do.
func describe(t result.Target) source.Description {
	id := strings.TrimPrefix(t.Digest, "sha256:")
	name := path.Base(strings.TrimRight(t.Input, "/"))
	if _, rest, ok := strings.Cut(name, ":"); ok && t.Kind != "file" && t.Kind != "dir" {
		name = rest
	}
	d := source.Description{ID: id, Name: name}
	switch {
	case t.Image != nil:
		im := source.ImageMetadata{
			UserInput:      t.Input,
			ID:             t.Image.ConfigDigest,
			ManifestDigest: t.Digest,
			MediaType:      t.Image.ManifestType,
			Tags:           t.Image.RepoTags,
		}
		if os, arch, ok := strings.Cut(t.Image.Platform, "/"); ok {
			im.OS, im.Architecture = os, arch
		}
		for _, l := range t.Image.Layers {
			im.Layers = append(im.Layers, source.LayerMetadata{MediaType: l.MediaType, Digest: l.DiffID, Size: l.Size})
		}
		if t.Image.Reference != "" {
			im.UserInput = t.Image.Reference
			d.Name = t.Image.Reference
		}
		d.Metadata = im
	case t.Kind == "file":
		d.Metadata = source.FileMetadata{Path: t.Input, Digests: []file.Digest{{Algorithm: "sha256", Value: id}}}
	default:
		d.Metadata = source.DirectoryMetadata{Path: t.Input}
	}
	return d
}

// javaArchives are cataloged by syft's java cataloger from the archive file itself, with
// its nested jars; their insides are not offered again as a filesystem.
var javaArchives = []string{".jar", ".war", ".ear", ".par", ".sar", ".nar", ".jpi", ".hpi", ".kar", ".lpkg"}

// filesystems sorts the inventory's entries into the filesystems syft catalogs: the
// target itself first, then each archive's inside in path order.
func filesystems(inv *inventory.Inventory, layers map[int]string) ([]*fsys, error) {
	format := make(map[string]string, len(inv.Artifacts))
	for _, a := range inv.Artifacts {
		format[a.Path] = a.Format
	}
	byPrefix := map[string]*fsys{}
	var order []string
	for i := range inv.Artifacts {
		a := &inv.Artifacts[i]
		if a.Hidden != "" || a.Type == "whiteout" {
			continue
		}
		segs := strings.Split(a.Path, "!")
		if skipInside(segs, format) {
			continue
		}
		prefix := nestedPrefix(segs)
		r := byPrefix[prefix]
		if r == nil {
			r = newFsys(prefix, layers)
			byPrefix[prefix] = r
			order = append(order, prefix)
		}
		if err := r.add("/"+segs[len(segs)-1], a, inv.Stored[i]); err != nil {
			// A path the tree cannot hold (a file below another file's name) is left out,
			// as syft's own resolvers do.
			continue
		}
	}
	if byPrefix[""] == nil {
		byPrefix[""] = newFsys("", layers)
		order = append(order, "")
	}
	slices.Sort(order) // "" first
	out := make([]*fsys, 0, len(order))
	for _, p := range order {
		byPrefix[p].finish()
		out = append(out, byPrefix[p])
	}
	return out, nil
}

// skipInside reports an entry inside a java archive.
func skipInside(segs []string, format map[string]string) bool {
	for i := 1; i < len(segs); i++ {
		outer := strings.Join(segs[:i], "!")
		lower := strings.ToLower(segs[i-1])
		if format[outer] == "jar" || slices.ContainsFunc(javaArchives, func(ext string) bool { return strings.HasSuffix(lower, ext) }) {
			return true
		}
	}
	return false
}

// nestedPrefix is the full path of the archive holding the last segment ("" at the top).
func nestedPrefix(segs []string) string {
	if len(segs) == 1 {
		return ""
	}
	return "/" + strings.Join(segs[:len(segs)-1], file.ArchivePathSeparator)
}

// syftPath is where syft's locations put an inventory path.
func syftPath(p string) string {
	return "/" + strings.ReplaceAll(p, "!", file.ArchivePathSeparator)
}

// packageFiles are the package formats whose files a package found from the archive
// itself accounts for.
var packageFiles = []string{"deb", "rpm", "jar"}

// executables lists the delivery's executables and what accounts for each.
func executables(inv *inventory.Inventory, s *syftsbom.SBOM, layers map[int]string) []Executable {
	owners := map[string][]string{} // syft full path → package names
	var archives []struct {
		prefix string
		name   string
	}
	formatBySyft := map[string]string{}
	for _, a := range inv.Artifacts {
		formatBySyft[syftPath(a.Path)] = a.Format
	}
	for _, p := range s.Artifacts.Packages.Sorted() {
		name := packageName(p)
		for _, l := range p.Locations.ToSlice() {
			fp := l.FullNestedPath()
			owners[fp] = appendOnce(owners[fp], name)
			if f := formatBySyft[fp]; slices.Contains(packageFiles, f) || strings.HasSuffix(f, "jar") {
				archives = append(archives, struct{ prefix, name string }{fp + file.ArchivePathSeparator, name})
			}
		}
	}
	for _, r := range s.Relationships {
		if r.Type != artifact.ContainsRelationship {
			continue
		}
		p, ok := r.From.(pkg.Package)
		if !ok {
			continue
		}
		c, ok := r.To.(file.Coordinates)
		if !ok {
			continue
		}
		fp := c.FullNestedPath()
		owners[fp] = appendOnce(owners[fp], packageName(p))
	}
	var out []Executable
	for _, a := range inv.Artifacts {
		if a.Hidden != "" || !a.Executable() {
			continue
		}
		fp := syftPath(a.Path)
		e := Executable{Path: a.Path, Digest: a.Digest, Size: a.Size, Format: a.Format, Hardening: hardening(a.Facts),
			coords: coordinatesOf(a, layers)}
		e.Packages = append(e.Packages, owners[fp]...)
		for _, ar := range archives {
			if strings.HasPrefix(fp, ar.prefix) {
				e.Packages = appendOnce(e.Packages, ar.name)
			}
		}
		out = append(out, e)
	}
	return out
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func packageName(p pkg.Package) string {
	if p.Version == "" {
		return p.Name
	}
	return p.Name + "@" + p.Version
}

// addFiles records the digest and metadata of every executable and of every file that
// evidences a package, so that each is listed as a file with its sha256 (the inventory
// computed them: nothing is read again).
func addFiles(s *syftsbom.SBOM, inv *inventory.Inventory, exes []Executable) {
	if s.Artifacts.FileDigests == nil {
		s.Artifacts.FileDigests = map[file.Coordinates][]file.Digest{}
	}
	if s.Artifacts.FileMetadata == nil {
		s.Artifacts.FileMetadata = map[file.Coordinates]file.Metadata{}
	}
	byPath := map[string]int{}
	for i, a := range inv.Artifacts {
		if a.Hidden == "" {
			byPath[a.Path] = i
		}
	}
	add := func(c file.Coordinates, i int) {
		a := inv.Artifacts[i]
		s.Artifacts.FileDigests[c] = []file.Digest{{Algorithm: "sha256", Value: strings.TrimPrefix(a.Digest, "sha256:")}}
		s.Artifacts.FileMetadata[c] = fileMetadata(a, inv.Stored[i])
	}
	for _, e := range exes {
		add(e.coords, byPath[e.Path])
	}
	// The files that evidence each package (its package database, lock file, manifest,
	// the binary it was found in) with their digests, so that the evidence can be checked.
	bySyft := make(map[string]int, len(byPath))
	for p, i := range byPath {
		bySyft[syftPath(p)] = i
	}
	for _, p := range s.Artifacts.Packages.Sorted() {
		for _, l := range p.Locations.ToSlice() {
			if i, ok := bySyft[l.FullNestedPath()]; ok && inv.Artifacts[i].Digest != "" {
				add(l.Coordinates, i)
			}
		}
	}
}

// coordinatesOf names an inventory entry as syft's locations do.
func coordinatesOf(a result.Artifact, layers map[int]string) file.Coordinates {
	fp := syftPath(a.Path)
	real, _, nested := strings.Cut(fp, file.ArchivePathSeparator)
	c := file.Coordinates{RealPath: fp}
	if nested {
		c = file.Coordinates{RealPath: real, FullPath: fp}
	}
	if a.Layer != nil {
		c.FileSystemID = layers[*a.Layer]
	}
	return c
}
