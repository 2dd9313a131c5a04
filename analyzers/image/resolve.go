package image

import (
	"context"
	"fmt"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"kensa.dev/kensa/internal/limits"
)

// resolver walks indexes down to image manifests and loads the chosen one. It is shared
// by the layout and registry sources.
type resolver struct {
	ctx    context.Context
	src    source
	lim    *limits.Limits
	target string // names the target in messages

	// fetch reads and verifies one document; tests of the walker replace it.
	fetch func(d v1.Descriptor, what string) ([]byte, string, error)

	walked  map[string]bool // indexes already walked
	indexes int
}

func newResolver(ctx context.Context, src source, lim *limits.Limits, target string) *resolver {
	r := &resolver{ctx: ctx, src: src, lim: lim, target: target, walked: map[string]bool{}}
	r.fetch = r.readDoc
	return r
}

// readDoc reads one document (index, manifest or config) through its descriptor: at most
// ManifestSize bytes, verified against the descriptor's digest and size.
func (r *resolver) readDoc(d v1.Descriptor, what string) ([]byte, string, error) {
	if d.Size > r.lim.ManifestSize {
		return nil, "", &limits.Error{Limit: "manifest-size", Value: r.lim.ManifestSize, What: fmt.Sprintf("%s (%d bytes)", what, d.Size)}
	}
	manifest := isIndexType(string(d.MediaType)) || isManifestType(string(d.MediaType))
	rc, ct, err := r.src.fetch(r.ctx, d, manifest)
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	b, err := readVerified(rc, d, what)
	return b, ct, err
}

// candidate is an image manifest found while walking.
type candidate struct {
	desc     v1.Descriptor
	doc      []byte // the manifest when already read (a registry reference to a manifest)
	root     v1.Descriptor
	names    []string
	platform *v1.Platform
}

func (c candidate) label() string {
	p := "platform unknown"
	if c.platform != nil {
		p = platformString(c.platform.OS, c.platform.Architecture, c.platform.Variant)
	}
	s := c.desc.Digest.String() + " (" + p
	if len(c.names) > 0 {
		s += fmt.Sprintf(", %q", c.names)
	}
	return s + ")"
}

// names returns the names an index entry gives the image it points to.
func entryNames(d v1.Descriptor) []string {
	var out []string
	for _, k := range []string{"io.containerd.image.name", "org.opencontainers.image.ref.name"} {
		if v := d.Annotations[k]; v != "" && !containsString(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// walkIndex collects the image manifests reachable from idx. depth is the nesting level
// of idx (1 for the top index); stack holds the digests of the indexes above it, to catch
// cycles. top is the descriptor of the top-level entry being walked (for RootDigest).
func (r *resolver) walkIndex(idx *v1.IndexManifest, depth int, stack []string, top *v1.Descriptor, names []string, out *[]candidate) error {
	for i, d := range idx.Manifests {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		root, nm := top, names
		if top == nil {
			root, nm = &idx.Manifests[i], entryNames(d)
		}
		mt := string(d.MediaType)
		switch {
		case isIndexType(mt):
			key := d.Digest.String()
			if containsString(stack, key) {
				return newError(CodeCycle, r.target, "index %s contains itself (through %s)", key, strings.Join(stack, " → "))
			}
			if depth+1 > r.lim.IndexDepth {
				return &limits.Error{Limit: "index-depth", Value: int64(r.lim.IndexDepth), What: fmt.Sprintf("%s: indexes nested in indexes", r.target)}
			}
			if r.walked[key] {
				continue
			}
			r.walked[key] = true
			r.indexes++
			if r.indexes > r.lim.Layers {
				return &limits.Error{Limit: "layers", Value: int64(r.lim.Layers), What: r.target + ": nested indexes"}
			}
			what := "index " + key
			b, ct, err := r.fetch(d, what)
			if err != nil {
				return err
			}
			_, kind, err := classify(b, what, mt, ct, r.lim)
			if err != nil {
				return err
			}
			if kind != docIndex {
				return newError(CodeMediaType, what, "the descriptor says index but the document is an image manifest")
			}
			child, err := decodeIndex(b, what)
			if err != nil {
				return err
			}
			if err := r.walkIndex(child, depth+1, append(stack, key), root, nm, out); err != nil {
				return err
			}
		case isManifestType(mt):
			if len(*out) >= r.lim.Layers {
				return &limits.Error{Limit: "layers", Value: int64(r.lim.Layers), What: r.target + ": images listed by its indexes"}
			}
			*out = append(*out, candidate{desc: d, root: *root, names: nm, platform: d.Platform})
		}
		// Other entries (artifacts, schema 1, unknown types) are not images; they are skipped.
	}
	return nil
}

// choose picks one image among the candidates, as the package documentation describes.
func choose(cands []candidate, want *v1.Platform, target string) (candidate, string, error) {
	// The same manifest may be listed several times (several tags): merge them.
	var uniq []candidate
	seen := map[string]int{}
	for _, c := range cands {
		if j, ok := seen[c.desc.Digest.String()]; ok {
			for _, n := range c.names {
				if !containsString(uniq[j].names, n) {
					uniq[j].names = append(uniq[j].names, n)
				}
			}
			continue
		}
		seen[c.desc.Digest.String()] = len(uniq)
		uniq = append(uniq, c)
	}
	// Attestation manifests (buildkit) carry the platform unknown/unknown: not images to scan.
	var imgs []candidate
	for _, c := range uniq {
		if c.platform != nil && c.platform.OS == "unknown" && c.platform.Architecture == "unknown" && len(uniq) > 1 {
			continue
		}
		imgs = append(imgs, c)
	}
	list := func(cs []candidate) string {
		var s []string
		for _, c := range cs {
			s = append(s, c.label())
		}
		sort.Strings(s)
		return strings.Join(s, "; ")
	}
	switch {
	case len(imgs) == 0:
		return candidate{}, "", newError(CodeSelect, target, "no container image found (only other artifacts)")
	case len(imgs) == 1:
		return imgs[0], "", nil
	}
	pick := want
	if pick == nil {
		pick = &v1.Platform{OS: "linux", Architecture: "amd64"}
	}
	var match []candidate
	for _, c := range imgs {
		if c.platform != nil && platformMatches(*pick, *c.platform) {
			match = append(match, c)
		}
	}
	if len(match) > 1 && want == nil {
		// Prefer the plain linux/amd64 over its micro-architecture variants.
		var plain []candidate
		for _, c := range match {
			if normVariant(c.platform.Architecture, c.platform.Variant) == "" {
				plain = append(plain, c)
			}
		}
		match = plain
	}
	switch {
	case len(match) == 1 && want != nil:
		return match[0], "", nil
	case len(match) == 1:
		return match[0], fmt.Sprintf("%s holds %d images; chose linux/amd64 by default (others: %s); pass --platform to choose another", target, len(imgs), list(imgs)), nil
	case len(match) > 1:
		return candidate{}, "", newError(CodeSelect, target, "%d images match %s: %s; name one with a selector (path:name or path:sha256:…) or a more precise --platform os/arch/variant", len(match), platformString(pick.OS, pick.Architecture, pick.Variant), list(match))
	case want != nil:
		return candidate{}, "", newError(CodeSelect, target, "no image for platform %s; it holds: %s; pass one of these with --platform", platformString(want.OS, want.Architecture, want.Variant), list(imgs))
	}
	return candidate{}, "", newError(CodeSelect, target, "holds %d images and none is linux/amd64: %s; choose one with --platform os/arch[/variant] or a selector", len(imgs), list(imgs))
}

// load reads the chosen manifest and its config and builds the Image.
func (r *resolver) load(c candidate, want *v1.Platform) (*Image, error) {
	what := "manifest " + c.desc.Digest.String()
	b := c.doc
	ct := ""
	if b == nil {
		var err error
		if b, ct, err = r.fetch(c.desc, what); err != nil {
			return nil, err
		}
	}
	mt, kind, err := classify(b, what, string(c.desc.MediaType), ct, r.lim)
	if err != nil {
		return nil, err
	}
	if kind != docManifest {
		return nil, newError(CodeMediaType, what, "expected an image manifest, found an index")
	}
	m, err := decodeManifest(b, what)
	if err != nil {
		return nil, err
	}
	cfgWhat := "config " + m.Config.Digest.String()
	cb, _, err := r.fetch(m.Config, cfgWhat)
	if err != nil {
		return nil, err
	}
	cfg, err := decodeConfig(cb, cfgWhat, r.lim)
	if err != nil {
		return nil, err
	}
	if err := checkPlatform(cfg, want, r.target); err != nil {
		return nil, err
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, newError(CodeDiffID, cfgWhat, "lists %d diff_ids for %d layers; the config does not describe this image", len(cfg.RootFS.DiffIDs), len(m.Layers))
	}
	img := &Image{
		Digest:          c.desc.Digest.String(),
		RootDigest:      c.root.Digest.String(),
		MediaType:       mt,
		Manifest:        b,
		ConfigDigest:    m.Config.Digest.String(),
		ConfigMediaType: string(m.Config.MediaType),
		RawConfig:       cb,
		Config:          cfg,
		Platform:        platformString(cfg.OS, cfg.Architecture, cfg.Variant),
		RepoTags:        c.names,
		src:             r.src,
	}
	if c.platform != nil && (c.platform.OS != cfg.OS || c.platform.Architecture != cfg.Architecture ||
		normVariant(cfg.Architecture, c.platform.Variant) != normVariant(cfg.Architecture, cfg.Variant)) {
		img.Notes = append(img.Notes, fmt.Sprintf("the index says %s but the image config says %s", platformString(c.platform.OS, c.platform.Architecture, c.platform.Variant), img.Platform))
	}
	for i, d := range m.Layers {
		img.Layers = append(img.Layers, Layer{
			Index:     i,
			Digest:    d.Digest.String(),
			DiffID:    cfg.RootFS.DiffIDs[i].String(),
			MediaType: string(d.MediaType),
			Size:      d.Size,
			URLs:      d.URLs,
			digest:    d.Digest,
			diffID:    cfg.RootFS.DiffIDs[i],
		})
	}
	return img, nil
}

// resolve walks from the root document down to one image and loads it. rootDesc describes
// the root document when it is content-addressed (a registry manifest), and is zero for a
// layout's index.json. filter, when set, keeps only some top-level entries (selectors).
func (r *resolver) resolve(root []byte, rootDesc v1.Descriptor, contentType string, platform string, filter func(v1.Descriptor) bool) (*Image, error) {
	want, err := parsePlatform(platform)
	if err != nil {
		return nil, err
	}
	what := r.target
	if rootDesc.Digest.Algorithm != "" {
		what = "manifest " + rootDesc.Digest.String()
	}
	mt, kind, err := classify(root, what, string(rootDesc.MediaType), contentType, r.lim)
	if err != nil {
		return nil, err
	}
	var cands []candidate
	if kind == docManifest {
		d := rootDesc
		d.MediaType = v1MediaType(mt)
		cands = append(cands, candidate{desc: d, doc: root, root: d})
	} else {
		idx, err := decodeIndex(root, what)
		if err != nil {
			return nil, err
		}
		if filter != nil {
			var keep []v1.Descriptor
			for _, d := range idx.Manifests {
				if filter(d) {
					keep = append(keep, d)
				}
			}
			if len(keep) == 0 {
				var have []string
				for _, d := range idx.Manifests {
					have = append(have, d.Digest.String())
					have = append(have, entryNames(d)...)
				}
				return nil, newError(CodeSelect, r.target, "no entry matches the selector; entries: %s", strings.Join(have, ", "))
			}
			idx.Manifests = keep
		}
		var stack []string
		var top *v1.Descriptor
		if rootDesc.Digest.Algorithm != "" {
			stack = []string{rootDesc.Digest.String()}
			top = &rootDesc
			r.walked[rootDesc.Digest.String()] = true
		}
		if err := r.walkIndex(idx, 1, stack, top, nil, &cands); err != nil {
			return nil, err
		}
	}
	c, note, err := choose(cands, want, r.target)
	if err != nil {
		return nil, err
	}
	img, err := r.load(c, want)
	if err != nil {
		return nil, err
	}
	if note != "" {
		img.Notes = append(img.Notes, note)
	}
	return img, nil
}
