package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// hostileRegistry is go-containerregistry's registry with some answers replaced: hook
// answers a request itself when it returns true.
func hostileRegistry(t *testing.T, referrers bool, hook func(w http.ResponseWriter, r *http.Request) bool) string {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(referrers))
	return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hook(w, r) {
			reg.ServeHTTP(w, r)
		}
	}))
}

// endless is an answer that never ends; it counts what it wrote.
type endless struct{ written atomic.Int64 }

func (e *endless) serve(w http.ResponseWriter, contentType string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	chunk := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + strings.Repeat(" ", 32<<10))
	for e.written.Load() < 1<<30 {
		n, err := w.Write(chunk)
		e.written.Add(int64(n))
		if err != nil {
			return
		}
	}
}

// TestHostileRegistry: answers of the wrong kind or size are errors, read no further
// than the bounds, and never count as a stored signature.
func TestHostileRegistry(t *testing.T) {
	ctx := context.Background()
	s := Signer{Key: testKey(t)}

	t.Run("subject-not-a-manifest", func(t *testing.T) {
		host := hostileRegistry(t, true, func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodHead && strings.HasSuffix(r.URL.Path, "/manifests/1.0") {
				w.Header().Set("Content-Type", "application/vnd.oci.image.layer.v1.tar+gzip")
				w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("ab", 32))
				w.Header().Set("Content-Length", "1024")
				return true
			}
			return false
		})
		_, err := SignImage(ctx, s, host+"/acme/app:1.0", RegistryOptions{})
		if err == nil || !strings.Contains(err.Error(), "not an image manifest") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("O4_subject-huge", func(t *testing.T) {
		host := hostileRegistry(t, true, func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodHead && strings.HasSuffix(r.URL.Path, "/manifests/1.0") {
				w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
				w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("ab", 32))
				w.Header().Set("Content-Length", fmt.Sprint(int64(1)<<40))
				return true
			}
			return false
		})
		_, err := SignImage(ctx, s, host+"/acme/app:1.0", RegistryOptions{})
		if err == nil || !strings.Contains(err.Error(), "size") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("O4_referrers-endless", func(t *testing.T) {
		var e endless
		host := hostileRegistry(t, true, func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/referrers/") {
				e.serve(w, "application/vnd.oci.image.index.v1+json")
				return true
			}
			return false
		})
		pushImage(t, host, "acme/app:1.0")
		_, err := SignImage(ctx, s, host+"/acme/app:1.0", RegistryOptions{})
		if err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Fatalf("err = %v", err)
		}
		t.Logf("the registry wrote %d bytes of an endless referrers list before the client stopped reading at %d", e.written.Load(), MaxRegistryResponse)
		if e.written.Load() >= 1<<30 {
			t.Fatal("the endless answer was read to its end")
		}
	})

	t.Run("O4_referrers-declared-huge", func(t *testing.T) {
		host := hostileRegistry(t, true, func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/referrers/") {
				w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
				w.Header().Set("Content-Length", fmt.Sprint(MaxRegistryResponse+1))
				w.WriteHeader(http.StatusOK)
				return true
			}
			return false
		})
		pushImage(t, host, "acme/app:1.0")
		if _, err := SignImage(ctx, s, host+"/acme/app:1.0", RegistryOptions{}); err == nil || !strings.Contains(err.Error(), "more than") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("O11_referrers-too-many", func(t *testing.T) {
		var idx struct {
			SchemaVersion int               `json:"schemaVersion"`
			MediaType     string            `json:"mediaType"`
			Manifests     []json.RawMessage `json:"manifests"`
		}
		idx.SchemaVersion, idx.MediaType = 2, "application/vnd.oci.image.index.v1+json"
		for i := 0; i <= MaxReferrers; i++ {
			idx.Manifests = append(idx.Manifests, json.RawMessage(fmt.Sprintf(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%064x","size":1}`, i)))
		}
		body, _ := json.Marshal(idx)
		host := hostileRegistry(t, true, func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/referrers/") {
				w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
				w.Write(body)
				return true
			}
			return false
		})
		pushImage(t, host, "acme/app:1.0")
		_, err := SignImage(ctx, s, host+"/acme/app:1.0", RegistryOptions{})
		if err == nil || !strings.Contains(err.Error(), "more than") {
			t.Fatalf("err = %v", err)
		}
		t.Logf("%d referrers in %d bytes: %v", MaxReferrers+1, len(body), err)
	})

	t.Run("referrers-not-json", func(t *testing.T) {
		host := hostileRegistry(t, true, func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/referrers/") {
				w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
				w.Write([]byte(`{"manifests":[{"digest":`))
				return true
			}
			return false
		})
		pushImage(t, host, "acme/app:1.0")
		if _, err := SignImage(ctx, s, host+"/acme/app:1.0", RegistryOptions{}); err == nil {
			t.Fatal("a broken referrers list was accepted")
		}
	})

	t.Run("referrer-not-listed", func(t *testing.T) {
		// A registry that stores the referrer but never lists it: not published.
		host := hostileRegistry(t, true, func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/referrers/") {
				w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
				w.Write([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`))
				return true
			}
			return false
		})
		pushImage(t, host, "acme/app:1.0")
		if _, err := SignImage(ctx, s, host+"/acme/app:1.0", RegistryOptions{}); err == nil || !strings.Contains(err.Error(), "does not list it") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("referrers-tag-wrong-type", func(t *testing.T) {
		// Without the referrers API, the sha256-HEX tag holds an image, not an index.
		host := startRegistry(t, false)
		digest := pushImage(t, host, "acme/app:1.0")
		img, _ := random.Image(64, 1)
		tag, _ := name.NewTag(host + "/acme/app:" + strings.Replace(digest, ":", "-", 1))
		if err := remote.Write(tag, img); err != nil {
			t.Fatal(err)
		}
		if _, err := SignImage(ctx, s, host+"/acme/app:1.0", RegistryOptions{}); err == nil || !strings.Contains(err.Error(), "index") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("plain-http-outside-loopback", func(t *testing.T) {
		// Refused before any request leaves: the host does not exist.
		_, err := SignImage(ctx, s, "registry.invalid:5000/acme/app:1.0", RegistryOptions{AllowHTTP: false, Transport: refuseAll{t}})
		if err == nil {
			t.Fatal("signed")
		}
		_, err = SignImage(ctx, s, "10.0.0.1:5000/acme/app:1.0", RegistryOptions{Transport: refuseAll{t}})
		if err == nil || !strings.Contains(err.Error(), "plain HTTP") {
			t.Fatalf("err = %v", err)
		}
	})
}

// refuseAll is a transport no request may reach.
type refuseAll struct{ t *testing.T }

func (r refuseAll) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" {
		r.t.Errorf("a plain-HTTP request reached the transport: %s", req.URL)
	}
	return nil, fmt.Errorf("offline test: %s not reached", req.URL.Host)
}
