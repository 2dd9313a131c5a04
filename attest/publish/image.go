package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	intotov1 "github.com/in-toto/attestation/go/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// Bounds of the registry's answers.
const (
	// MaxRegistryResponse bounds every response body read from a registry (manifests,
	// referrers lists, token answers).
	MaxRegistryResponse = 4 << 20
	// MaxReferrers bounds the referrers listed for one image.
	MaxReferrers = 10000
)

// What cosign v3 writes (github.com/sigstore/cosign/v3 pkg/oci/remote/write.go,
// WriteAttestationNewBundleFormat and WriteReferrer).
const (
	// BundleMediaType is the media type of the bundle layer and the referrer's
	// artifactType.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// AnnotationPredicateType names the bundle's predicate type on the referrer manifest.
	AnnotationPredicateType = "dev.sigstore.bundle.predicateType"
	// AnnotationBundleContent says what the bundle holds.
	AnnotationBundleContent = "dev.sigstore.bundle.content"
	annotationCreated       = "org.opencontainers.image.created"
	mediaTypeEmpty          = "application/vnd.oci.empty.v1+json"
)

// RegistryOptions says how to reach the registry.
type RegistryOptions struct {
	// Keychain finds registry credentials; nil means authn.DefaultKeychain (the docker
	// config in $DOCKER_CONFIG or ~/.docker, and its credential helpers).
	Keychain authn.Keychain
	// Transport carries registry requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// AllowHTTP lets plain HTTP reach a registry outside the loopback network (where
	// credentials and signatures travel unprotected). Loopback registries may always use it.
	AllowHTTP bool
	// Timeout bounds each registry request until its answer starts, when Transport is
	// nil; 0 means 60 seconds. The context given to SignImage and AttestImage bounds the
	// whole operation.
	Timeout time.Duration
}

// Attached is a signature or attestation stored in the registry.
type Attached struct {
	// Image is the signed manifest, REPOSITORY@sha256:HEX.
	Image string
	// Digest is the signed manifest's digest, sha256:HEX.
	Digest string
	// Referrer is the digest of the referrer manifest holding the bundle.
	Referrer string
	// PredicateType is the signed statement's predicate type (PredicateCosignSign for a
	// signature).
	PredicateType string
	// Bundle is the Sigstore bundle (JSON) stored as the referrer's layer.
	Bundle []byte
}

// SignImage signs the image manifest ref names (a tag or a digest; a tag is resolved once
// and the digest signed) as cosign v3 does, and stores the signature in its registry as
// an OCI 1.1 referrer. `cosign verify` and `kensa verify registry:REF` find it.
func SignImage(ctx context.Context, s Signer, ref string, opts RegistryOptions) (Attached, error) {
	return attach(ctx, s, ref, PredicateCosignSign, nil, opts)
}

// AttestImage signs an in-toto statement about the image manifest ref names, with the
// given predicate type (a URI, see the Predicate constants) and predicate (a JSON
// object), and stores it in the image's registry as an OCI 1.1 referrer, as
// `cosign attest` does. `cosign verify-attestation` and `kensa verify` find it.
func AttestImage(ctx context.Context, s Signer, ref string, predicateType string, predicate []byte, opts RegistryOptions) (Attached, error) {
	if predicateType == PredicateCosignSign {
		return Attached{}, errors.New("publish: " + PredicateCosignSign + " is the predicate of signatures; use SignImage")
	}
	if err := checkPredicateType(predicateType); err != nil {
		return Attached{}, err
	}
	pred, err := parsePredicate(predicate)
	if err != nil {
		return Attached{}, err
	}
	return attach(ctx, s, ref, predicateType, pred, opts)
}

// attach signs a statement about the image and stores the bundle as its referrer.
// predicate nil is a signature.
func attach(ctx context.Context, s Signer, ref, predicateType string, predicate *structpb.Struct, opts RegistryOptions) (_ Attached, err error) {
	defer recoverTo(&err)
	if ctx == nil {
		ctx = context.Background()
	}
	if err := s.check(); err != nil {
		return Attached{}, err
	}
	var nameOpts []name.Option
	if opts.AllowHTTP {
		nameOpts = append(nameOpts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nameOpts...)
	if err != nil {
		return Attached{}, fmt.Errorf("publish: image reference %q: %w", ref, err)
	}
	ropts := opts.remote(ctx)

	// The subject: the manifest itself, never a tag that may move.
	desc, err := remote.Head(r, ropts...)
	if err != nil {
		return Attached{}, fmt.Errorf("publish: reading %s from its registry: %w", ref, err)
	}
	if err := checkSubject(desc); err != nil {
		return Attached{}, fmt.Errorf("publish: %s: %w", ref, err)
	}
	repo := r.Context()
	digest := repo.Digest(desc.Digest.String())

	// The statement, as cosign makes it (cmd/cosign/cli/sign/sign.go signDigestBundle;
	// pkg/cosign/attestation GenerateStatement).
	subject := &intotov1.ResourceDescriptor{Digest: map[string]string{desc.Digest.Algorithm: desc.Digest.Hex}}
	if predicate == nil {
		subject.Annotations = &structpb.Struct{}
		predicate = &structpb.Struct{}
	} else {
		subject.Name = repo.Name()
	}
	st := &intotov1.Statement{Type: intotov1.StatementTypeUri, Subject: []*intotov1.ResourceDescriptor{subject}, PredicateType: predicateType, Predicate: predicate}
	payload, err := protojson.Marshal(st)
	if err != nil {
		return Attached{}, fmt.Errorf("publish: statement: %w", err)
	}
	bundleJSON, err := s.bundle(ctx, &sign.DSSEData{Data: payload, PayloadType: InTotoPayloadType})
	if err != nil {
		return Attached{}, err
	}

	// The referrer, as cosign writes it (pkg/oci/remote/write.go WriteReferrer).
	config := static.NewLayer([]byte("{}"), mediaTypeEmpty)
	layer := static.NewLayer(bundleJSON, BundleMediaType)
	for _, l := range []v1.Layer{config, layer} {
		if err := remote.WriteLayer(repo, l, ropts...); err != nil {
			return Attached{}, fmt.Errorf("publish: uploading to %s: %w", repo, err)
		}
	}
	raw, err := referrerManifest(config, layer, desc, predicateType)
	if err != nil {
		return Attached{}, err
	}
	sum := sha256.Sum256(raw)
	referrer := "sha256:" + hex.EncodeToString(sum[:])
	// Put updates the referrers tag (sha256-HEX) when the registry has no referrers API.
	if err := remote.Put(repo.Digest(referrer), rawManifest(raw), ropts...); err != nil {
		return Attached{}, fmt.Errorf("publish: storing the referrer manifest in %s: %w", repo, err)
	}

	// Fail closed: the signature counts only once the registry lists it.
	if err := confirmReferrer(digest, referrer, ropts); err != nil {
		return Attached{}, err
	}
	return Attached{Image: digest.String(), Digest: desc.Digest.String(), Referrer: referrer, PredicateType: predicateType, Bundle: bundleJSON}, nil
}

// checkSubject accepts image manifests and indexes of a plausible size.
func checkSubject(desc *v1.Descriptor) error {
	switch desc.MediaType {
	case types.OCIManifestSchema1, types.DockerManifestSchema2, types.OCIImageIndex, types.DockerManifestList:
	default:
		return fmt.Errorf("the registry answers with a %q, not an image manifest or index; check the reference", desc.MediaType)
	}
	if desc.Digest.Algorithm != "sha256" || len(desc.Digest.Hex) != 64 {
		return fmt.Errorf("manifest digest %q is not sha256", desc.Digest)
	}
	if desc.Size <= 0 || desc.Size > MaxRegistryResponse {
		return fmt.Errorf("the registry gives the manifest a size of %d bytes; not an image manifest", desc.Size)
	}
	return nil
}

// referrerManifest is the OCI 1.1 image manifest cosign stores a bundle in.
func referrerManifest(config, layer v1.Layer, subject *v1.Descriptor, predicateType string) ([]byte, error) {
	descriptor := func(l v1.Layer, mt types.MediaType) (v1.Descriptor, error) {
		d, err := l.Digest()
		if err != nil {
			return v1.Descriptor{}, err
		}
		n, err := l.Size()
		return v1.Descriptor{MediaType: mt, Digest: d, Size: n}, err
	}
	cd, err := descriptor(config, mediaTypeEmpty)
	if err != nil {
		return nil, err
	}
	cd.ArtifactType = BundleMediaType
	ld, err := descriptor(layer, BundleMediaType)
	if err != nil {
		return nil, err
	}
	m := struct {
		v1.Manifest
		ArtifactType string `json:"artifactType,omitempty"`
	}{v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        cd,
		Layers:        []v1.Descriptor{ld},
		Subject:       &v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
		Annotations: map[string]string{
			annotationCreated:       time.Now().UTC().Format(time.RFC3339),
			AnnotationBundleContent: "dsse-envelope",
			AnnotationPredicateType: predicateType,
		},
	}, BundleMediaType}
	return json.Marshal(m)
}

// rawManifest is a manifest to Put as it is.
type rawManifest []byte

func (m rawManifest) RawManifest() ([]byte, error)        { return m, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// confirmReferrer reads the image's referrers (the API, or the referrers tag) and checks
// that the new referrer is among them.
func confirmReferrer(digest name.Digest, referrer string, ropts []remote.Option) error {
	idx, err := remote.Referrers(digest, ropts...)
	if err != nil {
		return fmt.Errorf("publish: listing the referrers of %s: %w", digest, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return fmt.Errorf("publish: the referrers of %s: %w", digest, err)
	}
	if len(im.Manifests) > MaxReferrers {
		return fmt.Errorf("publish: the registry lists more than %d referrers of %s; not read", MaxReferrers, digest)
	}
	for _, d := range im.Manifests {
		if d.Digest.String() == referrer {
			return nil
		}
	}
	return fmt.Errorf("publish: the registry stored the signature %s but does not list it among the referrers of %s; check that the registry supports OCI 1.1 referrers or the referrers tag", referrer, digest)
}

// remote is the go-containerregistry options of a registry session: every answer bounded.
func (o RegistryOptions) remote(ctx context.Context) []remote.Option {
	next := o.Transport
	if next == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		timeout := o.Timeout
		if timeout <= 0 {
			timeout = 60 * time.Second
		}
		t.ResponseHeaderTimeout = timeout
		next = t
	}
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(kc),
		remote.WithTransport(&boundedTransport{next: next, max: MaxRegistryResponse, allowHTTP: o.AllowHTTP}),
		remote.WithUserAgent("kensa"),
	}
}

// boundedTransport bounds every response body and refuses plain HTTP outside the
// loopback network unless allowed.
type boundedTransport struct {
	next      http.RoundTripper
	max       int64
	allowHTTP bool
}

func (t *boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" && !t.allowHTTP && !isLoopback(req.URL.Host) {
		return nil, fmt.Errorf("refusing plain HTTP to %s outside the loopback network (set AllowHTTP to allow it)", req.URL.Host)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	// A HEAD answer's length is the size of what it describes; it has no body.
	if req.Method != http.MethodHead && resp.ContentLength > t.max {
		resp.Body.Close()
		return nil, fmt.Errorf("the registry answers %s %s with %d bytes, more than the %d read", req.Method, req.URL.Path, resp.ContentLength, t.max)
	}
	resp.Body = &boundedBody{rc: resp.Body, left: t.max, what: req.Method + " " + req.URL.Path}
	return resp, nil
}

type boundedBody struct {
	rc   io.ReadCloser
	left int64
	what string
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One more byte tells a body of exactly the bound from a longer one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("the registry's answer to %s is larger than %d bytes; not read", b.what, MaxRegistryResponse)
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *boundedBody) Close() error { return b.rc.Close() }

// isLoopback reports whether host (with or without a port) is on the loopback network.
func isLoopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
