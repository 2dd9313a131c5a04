package image

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"kensa.dev/kensa/internal/limits"
)

// acceptManifests is what kensa asks registries for: OCI and Docker schema 2 manifests and
// indexes, never schema 1.
var acceptManifests = strings.Join([]string{mtOCIIndex, mtOCIManifest, mtDockerList, mtDockerV2}, ", ")

// registrySource reads manifests and blobs of one repository. It speaks the distribution
// API itself on top of go-containerregistry's authenticating transport (ping, basic and
// bearer token flows, credentials only ever sent to the registry host), so that every
// document is read with kensa's bounds and its Content-Type can be checked against it.
type registrySource struct {
	repo   name.Repository
	client *http.Client
	lim    *limits.Limits
	red    *redactor
}

func openRegistry(ctx context.Context, ref string, opts Options, lim *limits.Limits) (*Image, error) {
	src, r, err := connectRegistry(ctx, ref, opts, lim)
	if err != nil {
		return nil, err
	}
	b, ct, desc, err := src.root(ctx, r)
	if err != nil {
		return nil, err
	}
	res := newResolver(ctx, src, lim, ref)
	img, err := res.resolve(b, desc, ct, opts.Platform, nil)
	if err != nil {
		return nil, src.red.err(err)
	}
	if t, ok := r.(name.Tag); ok {
		img.RepoTags = []string{t.Name()}
	}
	return img, nil
}

// connectRegistry opens the repository a reference names, with credentials from the
// keychain and kensa's transport guard.
func connectRegistry(ctx context.Context, ref string, opts Options, lim *limits.Limits) (*registrySource, name.Reference, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, nil, fmt.Errorf("registry reference %q: %w; write it as host/repository:tag or host/repository@sha256:…", ref, err)
	}
	repo := r.Context()
	kc := opts.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	auth, err := authn.Resolve(ctx, kc, repo)
	if err != nil {
		return nil, nil, fmt.Errorf("registry %s: finding credentials: %w", repo.RegistryStr(), err)
	}
	red := newRedactor(ctx, auth)
	base := opts.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	timeout := opts.Timeout
	if timeout <= 0 && opts.Limits != nil && opts.Limits.RequestTimeout > 0 {
		timeout = time.Duration(opts.Limits.RequestTimeout) * time.Second
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	guard := &guardTransport{base: base, timeout: timeout}
	rt, err := transport.NewWithContext(ctx, repo.Registry, auth, guard, []string{repo.Scope(transport.PullScope)})
	if err != nil {
		return nil, nil, red.err(registryError(repo, fmt.Errorf("connecting: %w", err)))
	}
	return &registrySource{repo: repo, client: &http.Client{Transport: rt}, lim: lim, red: red}, r, nil
}

// registryError adds what to do next to the usual registry failures.
func registryError(repo name.Repository, err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("registry %s: %w (log in with docker login %s, or point DOCKER_CONFIG at a config with credentials for it)", repo.RegistryStr(), err, repo.RegistryStr())
		case http.StatusNotFound:
			return fmt.Errorf("registry %s: %w (check the repository, tag and digest)", repo.RegistryStr(), err)
		}
	}
	return fmt.Errorf("registry %s: %w", repo.RegistryStr(), err)
}

func (s *registrySource) url(endpoint, id string) string {
	// https always: go-containerregistry's transport switches the registry host to http
	// only when its ping found plain HTTP, which the guard allows on loopback alone.
	return "https://" + s.repo.RegistryStr() + "/v2/" + s.repo.RepositoryStr() + "/" + endpoint + "/" + id
}

func (s *registrySource) get(ctx context.Context, u string, manifest bool) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if manifest {
		req.Header.Set("Accept", acceptManifests)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, s.red.err(registryError(s.repo, err))
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		resp.Body.Close()
		return nil, s.red.err(registryError(s.repo, err))
	}
	return resp, nil
}

// root fetches the manifest or index the reference names, bounded by the manifest-size
// limit. Pulled by tag, its digest is computed here once and everything below is then
// fetched by digest (G9); pulled by digest, the bytes must match it.
func (s *registrySource) root(ctx context.Context, r name.Reference) ([]byte, string, v1.Descriptor, error) {
	resp, err := s.get(ctx, s.url("manifests", r.Identifier()), true)
	if err != nil {
		return nil, "", v1.Descriptor{}, err
	}
	defer resp.Body.Close()
	what := "manifest " + r.String()
	if resp.ContentLength > s.lim.ManifestSize {
		return nil, "", v1.Descriptor{}, &limits.Error{Limit: "manifest-size", Value: s.lim.ManifestSize, What: fmt.Sprintf("%s (%d bytes)", what, resp.ContentLength)}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, s.lim.ManifestSize+1))
	if err != nil {
		return nil, "", v1.Descriptor{}, s.red.err(registryError(s.repo, err))
	}
	if int64(len(b)) > s.lim.ManifestSize {
		return nil, "", v1.Descriptor{}, &limits.Error{Limit: "manifest-size", Value: s.lim.ManifestSize, What: what}
	}
	var h hash.Hash = sha256.New()
	alg := "sha256"
	d, byDigest := r.(name.Digest)
	var want v1.Hash
	if byDigest {
		if want, err = v1.NewHash(d.DigestStr()); err != nil {
			return nil, "", v1.Descriptor{}, fmt.Errorf("%s: %w", what, err)
		}
		if want.Algorithm == "sha512" {
			h, alg = sha512.New(), "sha512"
		}
	}
	h.Write(b)
	got := v1.Hash{Algorithm: alg, Hex: hex.EncodeToString(h.Sum(nil))}
	if byDigest && got != want {
		return nil, "", v1.Descriptor{}, newError(CodeDigest, what, "the registry served a document that hashes to %s", got)
	}
	return b, resp.Header.Get("Content-Type"), v1.Descriptor{Digest: got, Size: int64(len(b))}, nil
}

func (s *registrySource) fetch(ctx context.Context, d v1.Descriptor, manifest bool) (io.ReadCloser, string, error) {
	endpoint := "blobs"
	if manifest {
		endpoint = "manifests"
	}
	resp, err := s.get(ctx, s.url(endpoint, d.Digest.String()), manifest)
	if err != nil {
		if !manifest && len(d.URLs) > 0 {
			return nil, "", &Error{Code: CodeUnsupported, What: d.Digest.String(), Detail: "a foreign layer the registry does not hold; kensa does not fetch foreign layer URLs", Err: err}
		}
		return nil, "", err
	}
	if resp.ContentLength >= 0 && resp.ContentLength != d.Size {
		resp.Body.Close()
		return nil, "", newError(CodeSize, d.Digest.String(), "the registry announces %d bytes, the descriptor states %d", resp.ContentLength, d.Size)
	}
	return resp.Body, resp.Header.Get("Content-Type"), nil
}

func (s *registrySource) close() error {
	s.client.CloseIdleConnections()
	return nil
}

// isLoopback reports whether host (without port) is on the loopback network.
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// guardTransport is the base of every registry request. It refuses plain HTTP to any
// host outside the loopback network before a connection is made (go-containerregistry
// would fall back to http for RFC 1918 addresses and *.local names), and bounds each
// request: the response must start within timeout, and each later wait for body bytes is
// bounded by timeout too, so slow but steady downloads of large layers go on.
type guardTransport struct {
	base    http.RoundTripper
	timeout time.Duration
}

func (g *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.URL.Scheme {
	case "https":
	case "http":
		if !isLoopback(req.URL.Hostname()) {
			return nil, newError(CodeInsecure, req.URL.Host, "refusing plain HTTP to a registry outside the loopback network; serve it over HTTPS")
		}
	default:
		return nil, newError(CodeInsecure, req.URL.Host, "refusing URL scheme %q", req.URL.Scheme)
	}
	ctx, cancel := context.WithCancel(req.Context())
	var timedOut atomic.Bool
	t := time.AfterFunc(g.timeout, func() { timedOut.Store(true); cancel() })
	resp, err := g.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		t.Stop()
		cancel()
		if timedOut.Load() {
			return nil, fmt.Errorf("%s %s: no answer within %s", req.Method, req.URL.Host, g.timeout)
		}
		return nil, err
	}
	resp.Body = &idleBody{rc: resp.Body, t: t, cancel: cancel, timeout: g.timeout, timedOut: &timedOut}
	return resp, nil
}

// idleBody bounds each wait for body bytes.
type idleBody struct {
	rc       io.ReadCloser
	t        *time.Timer
	cancel   context.CancelFunc
	timeout  time.Duration
	timedOut *atomic.Bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.t.Reset(b.timeout)
	}
	if err != nil && err != io.EOF && b.timedOut.Load() {
		err = fmt.Errorf("the registry sent nothing for %s", b.timeout)
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.t.Stop()
	err := b.rc.Close()
	b.cancel()
	return err
}

// redactor removes credentials from error messages: a registry may echo what it was
// sent, and no credential may reach a report or a log (O13).
type redactor struct{ secrets []string }

func newRedactor(ctx context.Context, auth authn.Authenticator) *redactor {
	r := &redactor{}
	if auth == nil || auth == authn.Anonymous {
		return r
	}
	cfg, err := authn.Authorization(ctx, auth)
	if err != nil || cfg == nil {
		return r
	}
	for _, s := range []string{cfg.Password, cfg.Auth, cfg.IdentityToken, cfg.RegistryToken} {
		if s != "" {
			r.secrets = append(r.secrets, s)
		}
	}
	if cfg.Username != "" && cfg.Password != "" {
		r.secrets = append(r.secrets, base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password)))
	}
	return r
}

// err returns err unchanged when its message holds no credential, else an *Error with the
// credentials replaced; the wrapped errors are dropped, since they hold them too.
func (r *redactor) err(err error) error {
	if err == nil || len(r.secrets) == 0 {
		return err
	}
	msg := err.Error()
	changed := false
	for _, s := range r.secrets {
		if strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "[REDACTED]")
			changed = true
		}
	}
	if !changed {
		return err
	}
	code := CodeMalformed
	var e *Error
	if errors.As(err, &e) {
		code = e.Code
	}
	return &Error{Code: code, Detail: msg}
}
