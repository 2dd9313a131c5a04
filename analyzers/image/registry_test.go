package image

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"kensa.dev/kensa/internal/limits"
)

// basicAuth guards a handler with HTTP basic auth. Refusals echo the Authorization header
// the client sent, as a careless or hostile registry might.
func basicAuth(user, pass string, ok *atomic.Int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, has := r.BasicAuth()
			if !has || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="kensa-test"`)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprintf(w, `{"errors":[{"code":"UNAUTHORIZED","message":"rejected %q (user %s password %s)"}]}`, r.Header.Get("Authorization"), u, p)
				return
			}
			ok.Add(1)
			next.ServeHTTP(w, r)
		})
	}
}

// dockerConfig writes a docker config.json with credentials for host and points
// DOCKER_CONFIG at it.
func dockerConfig(t *testing.T, host, user, pass string) {
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, auth)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
}

func TestO13RegistryBasicAuthFromDockerConfig(t *testing.T) {
	const user, pass = "kensa", "s3cret-Pa55word"
	var authorized atomic.Int64
	host := startRegistry(t, basicAuth(user, pass, &authorized))
	img := buildImage(t, "amd64", false)
	ref, _ := name.NewTag(host + "/private/app:v1")
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: user, Password: pass})); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// The credentials in DOCKER_CONFIG are found and used.
	dockerConfig(t, host, user, pass)
	before := authorized.Load()
	im, err := Open(ctx, Registry, ref.String(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, im, img, true)
	im.Close()
	if authorized.Load()-before < 5 {
		t.Errorf("only %d authorized requests", authorized.Load()-before)
	}

	// Credentials go to the registry only, never to a host it redirects to (O13).
	layers, _ := img.Layers()
	ld, _ := layers[0].Digest()
	var leaked atomic.Value
	leaked.Store("")
	var hits atomic.Int64
	blobHost := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if a := r.Header.Get("Authorization"); a != "" {
			leaked.Store(a)
		}
		rc, _ := layers[0].Compressed()
		defer rc.Close()
		io.Copy(w, rc)
	}))
	defer blobHost.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(blobHost.URL, "http://"))
	redirected := startRegistry(t, func(next http.Handler) http.Handler {
		return basicAuth(user, pass, &authorized)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isGet("blobs", ld.String())(r) {
				http.Redirect(w, r, "http://localhost:"+port+"/blob", http.StatusTemporaryRedirect)
				return
			}
			next.ServeHTTP(w, r)
		}))
	})
	rref, _ := name.NewTag(redirected + "/private/app:v1")
	if err := remote.Write(rref, img, remote.WithAuth(&authn.Basic{Username: user, Password: pass})); err != nil {
		t.Fatal(err)
	}
	dockerConfig(t, redirected, user, pass)
	im, err = Open(ctx, Registry, rref.String(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readLayer(im.Layers[0], nil); err != nil {
		t.Fatal(err)
	}
	im.Close()
	if hits.Load() == 0 {
		t.Errorf("the redirect was not followed")
	}
	if a := leaked.Load().(string); a != "" {
		t.Errorf("credentials sent to the redirect target: %q", a)
	}

	// Wrong credentials: an error that says what to do, without the credentials, even
	// though the registry echoes them.
	const wrong = "Wr0ng-Pa55word-XYZ"
	dockerConfig(t, host, user, wrong)
	_, err = Open(ctx, Registry, ref.String(), Options{})
	if err == nil {
		t.Fatal("wrong credentials accepted")
	}
	msg := err.Error()
	for _, secret := range []string{wrong, base64.StdEncoding.EncodeToString([]byte(user + ":" + wrong))} {
		if strings.Contains(msg, secret) {
			t.Errorf("credential in error: %s", msg)
		}
	}
	if !strings.Contains(msg, "[REDACTED]") || !strings.Contains(msg, "docker login") {
		t.Errorf("error does not redact or advise: %s", msg)
	}

	// No credentials at all.
	noDockerConfig(t)
	_, err = Open(ctx, Registry, ref.String(), Options{})
	if err == nil || !strings.Contains(err.Error(), "docker login") {
		t.Errorf("anonymous: %v", err)
	}
}

// recorder is a transport that records every request it is given and answers none: no
// connection is ever made.
type recorder struct {
	mu   sync.Mutex
	urls []*url.URL
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, req.URL)
	r.mu.Unlock()
	return nil, errors.New("test transport: no network")
}

func TestRegistryPlainHTTPOnlyOnLoopback(t *testing.T) {
	noDockerConfig(t)
	// go-containerregistry falls back to plain HTTP for the first four (RFC 1918
	// addresses, *.localhost names); kensa must not. The last it never tries over HTTP.
	for i, ref := range []string{"10.0.0.1:5000/app:v1", "192.168.1.20/app:v1", "registry.localhost:5000/app:v1",
		"172.16.0.1:443/app@sha256:" + strings.Repeat("a", 64), "registry.local:5000/app:v1"} {
		t.Run(ref, func(t *testing.T) {
			rec := &recorder{}
			_, err := Open(context.Background(), Registry, ref, Options{Transport: rec, Timeout: 5 * time.Second})
			if err == nil {
				t.Fatal("opened")
			}
			if i < 4 {
				wantCode(t, err, CodeInsecure)
				if !strings.Contains(err.Error(), "HTTPS") {
					t.Errorf("error does not say what to do: %v", err)
				}
			}
			if len(rec.urls) == 0 {
				t.Errorf("HTTPS was not even tried")
			}
			for _, u := range rec.urls {
				if u.Scheme != "https" {
					t.Errorf("plain request reached the transport: %s", u)
				}
			}
		})
	}
	// The guard itself, directly: no request of another scheme or host passes.
	g := &guardTransport{base: &recorder{}, timeout: time.Second}
	for _, u := range []string{"http://10.0.0.1/v2/", "http://example.com/v2/", "ftp://127.0.0.1/", "http://127.0.0.1.example.com/"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		_, err := g.RoundTrip(req)
		wantCode(t, err, CodeInsecure)
	}
	if n := len(g.base.(*recorder).urls); n != 0 {
		t.Errorf("%d requests reached the transport", n)
	}
	for _, h := range []string{"127.0.0.1", "127.1.2.3", "::1", "localhost", "LOCALHOST"} {
		if !isLoopback(h) {
			t.Errorf("%s is loopback", h)
		}
	}
}

// A loopback registry that redirects blobs to plain HTTP elsewhere: the redirect is not
// followed.
func TestRegistryRedirectToPlainHTTP(t *testing.T) {
	noDockerConfig(t)
	img := buildImage(t, "amd64", false)
	ls, _ := img.Layers()
	d, _ := ls[0].Digest()
	host := startRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isGet("blobs", d.String())(r) {
				http.Redirect(w, r, "http://10.0.0.1/blob", http.StatusTemporaryRedirect)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	ref, _ := name.NewTag(host + "/kensa/redirect:v1")
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	var seen []string
	var mu sync.Mutex
	base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		seen = append(seen, req.URL.String())
		mu.Unlock()
		if !isLoopback(req.URL.Hostname()) {
			return nil, errors.New("test: connection outside loopback attempted")
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	im, err := Open(context.Background(), Registry, ref.String(), Options{Transport: base})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	_, err = readLayer(im.Layers[0], nil)
	wantCode(t, err, CodeInsecure)
	for _, u := range seen {
		if strings.Contains(u, "10.0.0.1") {
			t.Errorf("request to %s", u)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A registry that stops answering: bounded by the timeout, before and during a response.
func TestRegistryTimeouts(t *testing.T) {
	noDockerConfig(t)
	img := buildImage(t, "amd64", false)
	ls, _ := img.Layers()
	d, _ := ls[0].Digest()
	size, _ := ls[0].Size()
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	var stallManifests atomic.Bool
	host := startRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case stallManifests.Load() && strings.Contains(r.URL.Path, "/manifests/"):
				select {
				case <-stop:
				case <-r.Context().Done():
				}
				return
			case isGet("blobs", d.String())(r):
				w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
				w.WriteHeader(http.StatusOK)
				w.Write([]byte{0x1f, 0x8b})
				w.(http.Flusher).Flush()
				select {
				case <-stop:
				case <-r.Context().Done():
				}
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	ref, _ := name.NewTag(host + "/kensa/slow:v1")
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	opts := Options{Timeout: 300 * time.Millisecond}
	im, err := Open(context.Background(), Registry, ref.String(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	_, err = readLayer(im.Layers[0], nil)
	if err == nil || !strings.Contains(err.Error(), "the registry sent nothing for") {
		t.Fatalf("stalled body: %v", err)
	}

	stallManifests.Store(true)
	_, err = Open(context.Background(), Registry, ref.String(), opts)
	if err == nil || !strings.Contains(err.Error(), "no answer within") {
		t.Fatalf("stalled manifest: %v", err)
	}
	// Without a Timeout, the request-timeout limit bounds the wait.
	lim := limits.Default()
	lim.RequestTimeout = 1
	_, err = Open(context.Background(), Registry, ref.String(), Options{Limits: &lim})
	if err == nil || !strings.Contains(err.Error(), "no answer within 1s") {
		t.Fatalf("stalled manifest under request-timeout=1s: %v", err)
	}
}
