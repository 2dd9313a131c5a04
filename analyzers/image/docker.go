package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"kensa.dev/kensa/analyzers/archive"
	"kensa.dev/kensa/internal/limits"
)

// dockerEntry is one image of a docker save manifest.json.
type dockerEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// dockerSource serves the layer files of a docker save tarball by digest.
type dockerSource struct {
	c      io.Closer
	ix     *tarIndex
	layers map[string]*member
}

func (s *dockerSource) fetch(ctx context.Context, d v1.Descriptor, _ bool) (io.ReadCloser, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	m := s.layers[d.Digest.String()]
	if m == nil {
		return nil, "", newError(CodeNotFound, s.ix.what, "no layer file with digest %s", d.Digest)
	}
	if m.size != d.Size {
		return nil, "", newError(CodeSize, fmt.Sprintf("%s: %q", s.ix.what, m.name), "the file is %d bytes, but %d were recorded when the archive was opened", m.size, d.Size)
	}
	return io.NopCloser(s.ix.open(m)), "", nil
}

func (s *dockerSource) close() error { return s.c.Close() }

// digestFromPath returns the digest a member path claims by its name: blobs/<alg>/<hex>
// (Docker 25 and later) or <hex>.json (older configs).
func digestFromPath(p string) (v1.Hash, bool) {
	if rest, ok := strings.CutPrefix(p, "blobs/"); ok {
		if alg, hx, ok := strings.Cut(rest, "/"); ok {
			if h, err := v1.NewHash(alg + ":" + hx); err == nil {
				return h, true
			}
		}
	}
	if hx, ok := strings.CutSuffix(p, ".json"); ok && !strings.Contains(hx, "/") {
		if h, err := v1.NewHash("sha256:" + hx); err == nil {
			return h, true
		}
	}
	return v1.Hash{}, false
}

// readMember reads a small member (manifest.json, a config) with the manifest-size bound.
func readMember(ix *tarIndex, name, what string, lim *limits.Limits) ([]byte, error) {
	m, err := ix.lookup(name, true, lim)
	if err != nil {
		return nil, err
	}
	if m.size > lim.ManifestSize {
		return nil, &limits.Error{Limit: "manifest-size", Value: lim.ManifestSize, What: fmt.Sprintf("%s (%d bytes)", what, m.size)}
	}
	b := make([]byte, m.size)
	if _, err := io.ReadFull(ix.open(m), b); err != nil {
		return nil, &Error{Code: CodeMalformed, What: what, Err: err}
	}
	return b, nil
}

func readDockerArchive(ctx context.Context, c io.Closer, ix *tarIndex, p, selector string, want *v1.Platform, lim *limits.Limits) (*Image, error) {
	mwhat := p + ": manifest.json"
	mb, err := readMember(ix, "manifest.json", mwhat, lim)
	if err != nil {
		if HasCode(err, CodeNotFound) {
			return nil, fmt.Errorf("%s is not a docker save tarball (no manifest.json); for an OCI layout archive use oci-archive:%s", p, p)
		}
		return nil, err
	}
	if _, err := scanJSON(mb, mwhat, map[string]int{"": lim.Layers, "[].Layers": lim.Layers, "[].RepoTags": lim.Layers}); err != nil {
		return nil, err
	}
	if t := bytes.TrimLeft(mb, " \t\r\n"); len(t) == 0 || t[0] != '[' {
		return nil, newError(CodeMalformed, mwhat, "not a JSON array of images")
	}
	var entries []dockerEntry
	if err := json.Unmarshal(mb, &entries); err != nil {
		return nil, &Error{Code: CodeMalformed, What: mwhat, Err: err}
	}
	if len(entries) == 0 {
		return nil, newError(CodeSelect, mwhat, "lists no image")
	}

	// Choose the entry, as everywhere else: selector, the only one, platform.
	type loaded struct {
		raw []byte
		cfg *v1.ConfigFile
		dg  v1.Hash
	}
	configs := map[int]*loaded{}
	loadConfig := func(i int) (*loaded, error) {
		if l := configs[i]; l != nil {
			return l, nil
		}
		e := entries[i]
		cwhat := fmt.Sprintf("%s: config %q", p, e.Config)
		cp, err := cleanRef(e.Config, cwhat)
		if err != nil {
			return nil, err
		}
		raw, err := readMember(ix, cp, cwhat, lim)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(raw)
		dg := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
		if claimed, ok := digestFromPath(cp); ok && claimed != dg {
			h, _ := newHasher(claimed)
			h.Write(raw)
			if sumHex(h) != claimed.Hex {
				return nil, newError(CodeDigest, cwhat, "the file is named for %s but hashes to %s", claimed, dg)
			}
		}
		cfg, err := decodeConfig(raw, cwhat, lim)
		if err != nil {
			return nil, err
		}
		l := &loaded{raw: raw, cfg: cfg, dg: dg}
		configs[i] = l
		return l, nil
	}
	chosen := -1
	var note string
	if selector != "" {
		for i, e := range entries {
			if matchesDockerSelector(e, selector) {
				if chosen >= 0 {
					return nil, newError(CodeSelect, p, "more than one image matches %q", selector)
				}
				chosen = i
			}
		}
		if chosen < 0 {
			return nil, newError(CodeSelect, p, "no image tagged %q; the archive holds: %s", selector, dockerList(entries))
		}
	} else if len(entries) == 1 {
		chosen = 0
	} else {
		var cands []candidate
		first := map[string]int{}
		for i, e := range entries {
			l, err := loadConfig(i)
			if err != nil {
				return nil, err
			}
			pl := v1.Platform{OS: l.cfg.OS, Architecture: l.cfg.Architecture, Variant: l.cfg.Variant, OSVersion: l.cfg.OSVersion}
			if _, ok := first[l.dg.String()]; !ok {
				first[l.dg.String()] = i
			}
			cands = append(cands, candidate{desc: v1.Descriptor{Digest: l.dg}, names: e.RepoTags, platform: &pl})
		}
		c, n, err := choose(cands, want, p)
		if err != nil {
			return nil, fmt.Errorf("%w (or name one as docker-archive:%s:REPO:TAG)", err, p)
		}
		chosen = first[c.desc.Digest.String()]
		note = n
	}
	e := entries[chosen]
	l, err := loadConfig(chosen)
	if err != nil {
		return nil, err
	}
	cfgWhat := fmt.Sprintf("%s: config %q", p, e.Config)
	if err := checkPlatform(l.cfg, want, p); err != nil {
		return nil, err
	}
	if len(l.cfg.RootFS.DiffIDs) != len(e.Layers) {
		return nil, newError(CodeDiffID, cfgWhat, "lists %d diff_ids for the %d layers of manifest.json; the archive is inconsistent; re-create it (docker save, crane pull) from the source image", len(l.cfg.RootFS.DiffIDs), len(e.Layers))
	}

	src := &dockerSource{c: c, ix: ix, layers: map[string]*member{}}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.DockerManifestSchema2,
		Config:        v1.Descriptor{MediaType: types.DockerConfigJSON, Size: int64(len(l.raw)), Digest: l.dg},
	}
	img := &Image{
		ConfigDigest:    l.dg.String(),
		ConfigMediaType: mtDockerConfig,
		RawConfig:       l.raw,
		Config:          l.cfg,
		Platform:        platformString(l.cfg.OS, l.cfg.Architecture, l.cfg.Variant),
		RepoTags:        e.RepoTags,
		src:             src,
	}
	if note != "" {
		img.Notes = append(img.Notes, note)
	}
	mems := make([]*member, len(e.Layers))
	for i, lp := range e.Layers {
		lwhat := fmt.Sprintf("%s: layer %d (%q)", p, i, lp)
		cp, err := cleanRef(lp, lwhat)
		if err != nil {
			return nil, err
		}
		mem, err := ix.lookup(cp, true, lim)
		if err != nil {
			return nil, err
		}
		if mem.size > lim.BlobSize {
			return nil, &limits.Error{Limit: "blob-size", Value: lim.BlobSize, What: fmt.Sprintf("%s of %d bytes", lwhat, mem.size)}
		}
		mems[i] = mem
	}
	sums := layerSums(ctx, ix, mems, l.cfg.RootFS.DiffIDs)
	for i, lp := range e.Layers {
		mem, sum := mems[i], sums[i]
		if sum.err != nil {
			return nil, &Error{Code: CodeMalformed, What: fmt.Sprintf("%s: layer %d (%q)", p, i, lp), Err: sum.err}
		}
		dg := sum.digest
		var mt types.MediaType
		switch archive.DetectCompression(sum.head) {
		case archive.Gzip:
			mt = types.DockerLayer
		case archive.Zstd:
			mt = "application/vnd.docker.image.rootfs.diff.tar.zstd"
		default:
			mt = types.DockerUncompressedLayer
		}
		src.layers[dg.String()] = mem
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: mt, Size: mem.size, Digest: dg})
		img.Layers = append(img.Layers, Layer{
			Index: i, Digest: dg.String(), DiffID: l.cfg.RootFS.DiffIDs[i].String(), MediaType: string(mt), Size: mem.size,
			digest: dg, diffID: l.cfg.RootFS.DiffIDs[i],
		})
	}
	mb2, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(mb2)
	img.Digest = "sha256:" + hex.EncodeToString(sum[:])
	img.RootDigest = img.Digest
	img.MediaType = mtDockerV2
	img.Manifest = mb2
	return img, nil
}

// memberSum is the digest and first bytes of one layer file.
type memberSum struct {
	digest v1.Hash
	head   []byte
	err    error
}

// layerSums gives the digest of each layer file, as the manifest needs them: the archive
// records none. An uncompressed file, as docker save writes them, is its own diff ID, so
// the config's diff ID stands for its digest and nothing is read here but its first
// bytes; Layer.Open hashes the file as it is read and fails unless it matches, so a file
// that is not what the config says is found by whatever reads it (every walk reads every
// layer). A compressed file is hashed here, several at once. When two different files
// would stand for the same diff ID, only one of them would ever be read: then every file
// is hashed. A file that several layers name (docker save links identical layers) is
// read once. The sums come back in the order of mems.
func layerSums(ctx context.Context, ix *tarIndex, mems []*member, diffIDs []v1.Hash) []memberSum {
	sums := make([]memberSum, len(mems))
	first := map[*member]int{}
	var distinct []int
	for i, m := range mems {
		if _, ok := first[m]; !ok {
			first[m] = i
			distinct = append(distinct, i)
		}
	}
	claimed := map[v1.Hash]*member{}
	var todo []int
	for _, i := range distinct {
		head, err := readHead(ix.open(mems[i]))
		if err != nil {
			sums[i].err = err
			continue
		}
		if archive.DetectCompression(head) != archive.NoCompression {
			todo = append(todo, i)
			continue
		}
		if other, ok := claimed[diffIDs[i]]; ok && other != mems[i] {
			todo = distinct
			break
		}
		claimed[diffIDs[i]] = mems[i]
		sums[i] = memberSum{digest: diffIDs[i], head: head}
	}
	hashMembers(ctx, ix, mems, todo, sums)
	for i, m := range mems {
		sums[i] = sums[first[m]]
	}
	return sums
}

// readHead returns the first bytes of a layer file, enough to recognise its compression.
func readHead(r io.Reader) ([]byte, error) {
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return head[:n], err
}

// hashMembers hashes the layer files mems[i] for i in todo into sums[i], several at once
// (each is read and hashed in full, the largest part of opening an archive of compressed
// layers).
func hashMembers(ctx context.Context, ix *tarIndex, mems []*member, todo []int, sums []memberSum) {
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, i := range todo {
		s := &sums[i]
		g.Go(func() error {
			defer func() {
				if r := recover(); r != nil {
					s.err = fmt.Errorf("internal error while hashing it (panic: %v)", r)
				}
			}()
			s.digest, s.head, s.err = hashMember(ctx, ix.open(mems[i]))
			return nil
		})
	}
	g.Wait()
}

// hashMember hashes a layer file and returns its first bytes.
func hashMember(ctx context.Context, r io.Reader) (v1.Hash, []byte, error) {
	h := sha256.New()
	buf := make([]byte, 256<<10)
	var head []byte
	for {
		if err := ctx.Err(); err != nil {
			return v1.Hash{}, nil, err
		}
		n, err := r.Read(buf)
		if head == nil && n > 0 {
			head = append([]byte(nil), buf[:min(n, 512)]...)
		}
		h.Write(buf[:n])
		if err == io.EOF {
			return v1.Hash{Algorithm: "sha256", Hex: sumHex(h)}, head, nil
		}
		if err != nil {
			return v1.Hash{}, nil, err
		}
	}
}

// matchesDockerSelector matches repo:tag (compared as resolved names, so "alpine" matches
// "docker.io/library/alpine:latest") or the image ID (the config digest, as named by the
// config file).
func matchesDockerSelector(e dockerEntry, sel string) bool {
	if strings.HasPrefix(sel, "sha256:") {
		hx := strings.TrimPrefix(sel, "sha256:")
		base := strings.TrimSuffix(path.Base(e.Config), ".json")
		return hx != "" && strings.HasPrefix(base, hx)
	}
	want, err := name.NewTag(sel)
	if err != nil {
		return false
	}
	for _, t := range e.RepoTags {
		if t == sel {
			return true
		}
		if have, err := name.NewTag(t); err == nil && have.Name() == want.Name() {
			return true
		}
	}
	return false
}

func dockerList(entries []dockerEntry) string {
	var s []string
	for i, e := range entries {
		if len(e.RepoTags) == 0 {
			s = append(s, fmt.Sprintf("untagged image %d (config %q)", i+1, e.Config))
			continue
		}
		s = append(s, fmt.Sprintf("%q", e.RepoTags))
	}
	return strings.Join(s, "; ")
}
