package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"kensa.dev/kensa/internal/limits"
)

// Bounds of Attachments.
const (
	// MaxAttached is the most attached manifests read for one image.
	MaxAttached = 64
	// MaxAttachedLayers is the most layers read from one attached manifest.
	MaxAttachedLayers = 32
	// MaxAttachedLayerSize bounds each attached layer (a signature payload, a bundle).
	MaxAttachedLayerSize = 16 << 20
)

// Attached is an artifact attached to an image in its registry: a Sigstore bundle or an
// attestation stored as an OCI 1.1 referrer, or cosign's signature (sha256-HEX.sig) or
// attestation (sha256-HEX.att) tag.
type Attached struct {
	// Source is "referrer" or "tag".
	Source string
	// Ref is the attached manifest's digest (a referrer) or tag (a cosign tag).
	Ref          string
	ArtifactType string
	Layers       []AttachedLayer
}

// AttachedLayer is one layer of an attached manifest, its bytes checked against its digest.
type AttachedLayer struct {
	MediaType   string
	Annotations map[string]string
	Data        []byte
}

// Attachments reads what is attached in the registry to the image manifest with the given
// digest in the repository ref names: OCI 1.1 referrers (through the referrers API, or
// the sha256-HEX tag of the referrers tag schema when the registry has no such API) and
// cosign's .sig and .att tags. Everything is bounded and checked against its digest.
func Attachments(ctx context.Context, ref, digest string, opts Options) ([]Attached, error) {
	lim := opts.Limits
	if lim == nil {
		l := limits.Default()
		lim = &l
	}
	src, r, err := connectRegistry(ctx, ref, opts, lim)
	if err != nil {
		return nil, err
	}
	defer src.close()
	h, err := v1.NewHash(digest)
	if err != nil {
		return nil, fmt.Errorf("image digest %q: %w", digest, err)
	}
	repo := r.Context()
	var out []Attached

	// OCI 1.1 referrers.
	idx, err := src.document(ctx, src.url("referrers", h.String()))
	if isNotFound(err) {
		idx, err = src.document(ctx, src.url("manifests", h.Algorithm+"-"+h.Hex))
	}
	switch {
	case isNotFound(err):
	case err != nil:
		return nil, err
	default:
		var index v1.IndexManifest
		if err := json.Unmarshal(idx, &index); err != nil {
			return nil, newError(CodeMalformed, "referrers of "+digest, "%v", err)
		}
		if len(index.Manifests) > MaxAttached {
			return nil, &limits.Error{Limit: "attached", Value: MaxAttached, What: "referrers of " + digest}
		}
		for _, d := range index.Manifests {
			a, err := src.attached(ctx, repo.Digest(d.Digest.String()), "referrer")
			if err != nil {
				return nil, err
			}
			if a.ArtifactType == "" {
				a.ArtifactType = d.ArtifactType
			}
			out = append(out, a)
		}
	}

	// cosign's tags.
	for _, suffix := range []string{".sig", ".att"} {
		a, err := src.attached(ctx, repo.Tag(h.Algorithm+"-"+h.Hex+suffix), "tag")
		switch {
		case isNotFound(err):
		case err != nil:
			return nil, err
		default:
			out = append(out, a)
		}
	}
	if len(out) > MaxAttached {
		return nil, &limits.Error{Limit: "attached", Value: MaxAttached, What: "attachments of " + digest}
	}
	return out, nil
}

func isNotFound(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && (te.StatusCode == http.StatusNotFound)
}

// document reads a manifest, index or referrers list, bounded by the manifest limit.
func (s *registrySource) document(ctx context.Context, u string) ([]byte, error) {
	resp, err := s.get(ctx, u, true)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, s.lim.ManifestSize+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > s.lim.ManifestSize {
		return nil, &limits.Error{Limit: "manifest-size", Value: s.lim.ManifestSize, What: u}
	}
	return b, nil
}

// attached reads one attached manifest and its layers.
func (s *registrySource) attached(ctx context.Context, r name.Reference, source string) (Attached, error) {
	b, _, _, err := s.root(ctx, r)
	if err != nil {
		return Attached{}, err
	}
	var m struct {
		v1.Manifest
		ArtifactType string `json:"artifactType"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return Attached{}, newError(CodeMalformed, r.String(), "%v", err)
	}
	a := Attached{Source: source, Ref: r.Identifier(), ArtifactType: m.ArtifactType}
	if len(m.Layers) > MaxAttachedLayers {
		return Attached{}, &limits.Error{Limit: "attached-layers", Value: MaxAttachedLayers, What: r.String()}
	}
	for _, l := range m.Layers {
		if l.Size < 0 || l.Size > MaxAttachedLayerSize {
			return Attached{}, &limits.Error{Limit: "attached-layer-size", Value: MaxAttachedLayerSize, What: r.String()}
		}
		if l.Digest.Algorithm != "sha256" {
			return Attached{}, newError(CodeUnsupported, r.String(), "layer digest algorithm %q", l.Digest.Algorithm)
		}
		body, _, err := s.fetch(ctx, l, false)
		if err != nil {
			return Attached{}, err
		}
		data, err := io.ReadAll(io.LimitReader(body, l.Size+1))
		body.Close()
		if err != nil {
			return Attached{}, err
		}
		sum := sha256.Sum256(data)
		if int64(len(data)) != l.Size || hex.EncodeToString(sum[:]) != l.Digest.Hex {
			return Attached{}, newError(CodeDigest, r.String(), "a layer's bytes do not match its descriptor %s", l.Digest)
		}
		mt := string(l.MediaType)
		if strings.TrimSpace(mt) == "" {
			mt = "application/octet-stream"
		}
		a.Layers = append(a.Layers, AttachedLayer{MediaType: mt, Annotations: l.Annotations, Data: data})
	}
	return a, nil
}
