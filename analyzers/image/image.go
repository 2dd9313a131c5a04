package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"kensa.dev/kensa/internal/limits"
)

// Kind is where an image comes from.
type Kind int

const (
	// DockerArchive is a tarball written by docker save (manifest.json at its root).
	DockerArchive Kind = iota + 1
	// OCIArchive is a tar of an OCI image layout, read in place.
	OCIArchive
	// OCIDir is an OCI image layout directory.
	OCIDir
	// Registry is an image in a registry, named by a reference such as
	// registry.example.com/team/app:1.2 or …@sha256:….
	Registry
)

var kindNames = map[Kind]string{DockerArchive: "docker-archive", OCIArchive: "oci-archive", OCIDir: "oci-dir", Registry: "registry"}

// String returns the scheme prefix of the kind, as targets spell it ("oci-dir").
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ParseKind returns the kind for a target scheme prefix ("docker-archive", "oci-archive",
// "oci-dir", "registry").
func ParseKind(s string) (Kind, error) {
	for k, n := range kindNames {
		if n == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown image source %q; use docker-archive, oci-archive, oci-dir or registry", s)
}

// DefaultTimeout bounds each registry request until its response starts, and then each
// wait for more bytes of a response.
const DefaultTimeout = 30 * time.Second

// Options tune Open. The zero value is ready to use.
type Options struct {
	// Limits bounds everything read; nil means limits.Default().
	Limits *limits.Limits
	// Platform chooses among the images of an index, as "os/arch[/variant]", for example
	// "linux/arm64" or "linux/arm/v7". Empty: see the package documentation.
	Platform string
	// Keychain finds registry credentials; nil means authn.DefaultKeychain (the docker
	// config in $DOCKER_CONFIG or ~/.docker, and its credential helpers).
	Keychain authn.Keychain
	// Transport carries registry requests; nil means http.DefaultTransport. Whatever it is,
	// plain-HTTP requests to hosts outside the loopback network are refused before they
	// reach it.
	Transport http.RoundTripper
	// Timeout bounds each registry request until its response starts and each wait for
	// more bytes; 0 means Limits.RequestTimeout, or DefaultTimeout without it.
	Timeout time.Duration
}

// Image is one opened image: its manifest, its config and its layers. Close releases it.
type Image struct {
	// Kind and Reference are the source and the reference as given to Open.
	Kind      Kind
	Reference string
	// Digest is the digest of the image manifest ("sha256:…"). For a docker-archive, which
	// stores no manifest, it is the digest of the Docker schema 2 manifest that describes the
	// archive's config and layer files as stored (the manifest go-containerregistry and crane
	// compute for such archives when the layers are compressed).
	Digest string
	// RootDigest is the digest of the document the reference resolved to: the index when a
	// registry reference or a layout entry names a multi-platform image, else Digest.
	// Signatures are usually attached to it.
	RootDigest string
	// MediaType is the manifest's media type.
	MediaType string
	// Manifest is the raw manifest, exactly as read and verified.
	Manifest []byte
	// ConfigDigest and ConfigMediaType describe the config blob; RawConfig holds it.
	ConfigDigest    string
	ConfigMediaType string
	RawConfig       []byte
	// Config is the parsed config: created, author, history, and in Config.Config the
	// env, entrypoint, cmd, user, working directory and labels.
	Config *v1.ConfigFile
	// Platform is the config's "os/arch[/variant]".
	Platform string
	// RepoTags are the names the source gives the image: docker-archive RepoTags, the name
	// annotations of an OCI layout, or the registry reference when it is a tag.
	RepoTags []string
	// Layers are the image's layers, lowest first.
	Layers []Layer
	// Notes are oddities that did not stop reading (the platform chosen by default,
	// a descriptor platform that disagrees with the config). They are facts for rules.
	Notes []string

	ctx    context.Context
	cancel context.CancelFunc
	src    source
	lim    *limits.Limits

	mu         sync.Mutex
	layerNotes map[int][]string
}

// Layer is one layer of an image. Layers can be opened concurrently.
type Layer struct {
	// Index is the position of the layer in the image, 0 for the lowest.
	Index int
	// Digest is the digest of the layer blob as stored (usually compressed).
	Digest string
	// DiffID is the digest of the uncompressed tar, from the config's rootfs.diff_ids.
	DiffID string
	// MediaType is the layer's media type from the manifest.
	MediaType string
	// Size is the size of the stored blob in bytes.
	Size int64
	// URLs are the foreign-layer URLs of the descriptor. kensa never fetches them.
	URLs []string

	digest v1.Hash
	diffID v1.Hash
	img    *Image
}

// source is where the bytes of an image come from.
type source interface {
	// fetch returns the raw bytes of d and, from registries, the Content-Type. manifest is
	// true for documents a registry serves from its manifest endpoint. The caller verifies
	// digest and size.
	fetch(ctx context.Context, d v1.Descriptor, manifest bool) (io.ReadCloser, string, error)
	close() error
}

// Open opens the image ref of the given kind. For the archive and layout kinds ref is a
// path, optionally followed by ":selector" (see the package documentation); for Registry it
// is an image reference. The returned Image holds files or connections open until Close;
// ctx bounds the whole life of the image, layer reads included. Open never panics: a
// panic inside a parser becomes an error.
func Open(ctx context.Context, kind Kind, ref string, opts Options) (*Image, error) {
	return open(ctx, kind, ref, opts, func(ctx context.Context, lim *limits.Limits) (*Image, error) {
		switch kind {
		case DockerArchive, OCIArchive:
			return openArchiveFile(ctx, kind, ref, opts, lim)
		case OCIDir:
			return openLayoutDir(ctx, ref, opts, lim)
		case Registry:
			return openRegistry(ctx, ref, opts, lim)
		}
		return nil, fmt.Errorf("image.Open: unknown kind %d", int(kind))
	})
}

// openReaderAt opens an archive of the given kind held in r (size bytes) rather than in a
// file; name stands for its path in messages.
func openReaderAt(ctx context.Context, kind Kind, r io.ReaderAt, size int64, name string, opts Options) (*Image, error) {
	return open(ctx, kind, name, opts, func(ctx context.Context, lim *limits.Limits) (*Image, error) {
		return openArchive(ctx, kind, r, size, nopCloser{}, name, "", opts, lim)
	})
}

// open applies the options, runs do, and ties the image to its context.
func open(ctx context.Context, kind Kind, ref string, opts Options, do func(context.Context, *limits.Limits) (*Image, error)) (*Image, error) {
	lim := opts.Limits
	if lim == nil {
		d := limits.Default()
		lim = &d
	}
	ctx, cancel := context.WithCancel(ctx)
	img, err := func() (img *Image, err error) {
		defer recoverTo(&err, ref)
		return do(ctx, lim)
	}()
	if err != nil {
		cancel()
		return nil, err
	}
	img.Kind, img.Reference = kind, ref
	img.ctx, img.cancel, img.lim = ctx, cancel, lim
	for i := range img.Layers {
		img.Layers[i].img = img
	}
	return img, nil
}

// Close releases the files and connections of the image; layers still being read fail.
func (im *Image) Close() error {
	if im.cancel != nil {
		im.cancel()
	}
	if im.src != nil {
		return im.src.close()
	}
	return nil
}

// Notes returns the oddities noticed while reading this layer so far, such as a media
// type that announces one compression while the bytes use another (C5), or bytes after the
// end of the compressed stream. Read the layer to its end first.
func (l Layer) Notes() []string {
	if l.img == nil {
		return nil
	}
	l.img.mu.Lock()
	defer l.img.mu.Unlock()
	return slices.Clone(l.img.layerNotes[l.Index])
}

func (im *Image) noteLayer(i int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.layerNotes == nil {
		im.layerNotes = map[int][]string{}
	}
	if !slices.Contains(im.layerNotes[i], msg) {
		im.layerNotes[i] = append(im.layerNotes[i], msg)
	}
}

// splitSelector splits "path:selector" where path is an existing file or directory. A
// path that exists as given has no selector.
func splitSelector(ref string) (string, string, error) {
	if _, err := os.Lstat(ref); err == nil {
		return ref, "", nil
	}
	for i := 0; i < len(ref); i++ {
		if ref[i] != ':' {
			continue
		}
		if _, err := os.Lstat(ref[:i]); err == nil {
			return ref[:i], ref[i+1:], nil
		}
	}
	_, err := os.Lstat(ref)
	return "", "", err
}

// platformString formats a platform as os/arch[/variant].
func platformString(os, arch, variant string) string {
	s := os + "/" + arch
	if variant != "" {
		s += "/" + variant
	}
	return s
}

func normVariant(arch, variant string) string {
	if arch == "arm64" && variant == "v8" {
		return ""
	}
	if arch == "amd64" && variant == "v1" {
		return ""
	}
	return variant
}

// platformMatches reports whether have satisfies want; an empty wanted variant or OS
// version matches any.
func platformMatches(want, have v1.Platform) bool {
	if want.OS != have.OS || want.Architecture != have.Architecture {
		return false
	}
	if want.Variant != "" && normVariant(want.Architecture, want.Variant) != normVariant(have.Architecture, have.Variant) {
		return false
	}
	if want.OSVersion != "" && want.OSVersion != have.OSVersion {
		return false
	}
	return true
}

func parsePlatform(s string) (*v1.Platform, error) {
	if s == "" {
		return nil, nil
	}
	p, err := v1.ParsePlatform(s)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return nil, fmt.Errorf("platform %q: want os/arch[/variant], for example linux/amd64 or linux/arm/v7", s)
	}
	return p, nil
}

// checkPlatform compares the config's platform with the one asked for.
func checkPlatform(cfg *v1.ConfigFile, want *v1.Platform, what string) error {
	if want == nil {
		return nil
	}
	have := v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion}
	if !platformMatches(*want, have) {
		return newError(CodeSelect, what, "the image is for %s, not %s as asked with --platform", platformString(cfg.OS, cfg.Architecture, cfg.Variant), platformString(want.OS, want.Architecture, want.Variant))
	}
	return nil
}

// errClosed is returned by layers of a closed image.
var errClosed = errors.New("the image was closed")

// recoverTo turns a panic into an error on what, so that a parser bug on hostile input
// is an error on that input and never a crash or a silent success (G1, G2).
func recoverTo(err *error, what string) {
	if r := recover(); r != nil {
		*err = &Error{Code: CodeMalformed, What: what, Detail: fmt.Sprintf("internal error while reading it (panic: %v); please report it with the input", r)}
	}
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
