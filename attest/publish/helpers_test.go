package publish

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"kensa.dev/kensa/attest/signing"
)

// cosignCLI is the cosign command pinned by go.mod's tool directive, built once.
var cosignCLI struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if cosignCLI.dir != "" {
		os.RemoveAll(cosignCLI.dir)
	}
	os.Exit(code)
}

// cosignPath builds the pinned cosign CLI (go build with the module's go.mod) once.
func cosignPath(t *testing.T) string {
	t.Helper()
	cosignCLI.once.Do(func() {
		cosignCLI.dir, cosignCLI.err = os.MkdirTemp("", "publish-cosign-")
		if cosignCLI.err != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(cosignCLI.dir, "cosign"), "github.com/sigstore/cosign/v3/cmd/cosign")
		if out, err := cmd.CombinedOutput(); err != nil {
			cosignCLI.err = fmt.Errorf("building cosign: %v\n%s", err, out)
		}
	})
	if cosignCLI.err != nil {
		t.Fatal(cosignCLI.err)
	}
	return filepath.Join(cosignCLI.dir, "cosign")
}

// cosign runs the cosign CLI in dir, offline, with its own HOME, and returns its output.
func cosign(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(cosignPath(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"HOME="+filepath.Join(dir, ".home"),
		"DOCKER_CONFIG="+filepath.Join(dir, ".docker"),
		"TUF_ROOT="+filepath.Join(dir, ".sigstore"),
		"COSIGN_PASSWORD=publish-test",
		"COSIGN_EXPERIMENTAL=0",
	)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("cosign %s: %v, %s", args[0], err, time.Since(start).Round(time.Millisecond))
	return string(out), err
}

// keyPair makes a cosign key pair in a new directory with the real CLI and loads it.
func keyPair(t *testing.T) (dir string, key *signing.Key) {
	t.Helper()
	dir = t.TempDir()
	if out, err := cosign(t, dir, "generate-key-pair"); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	key, err := signing.LoadKey(filepath.Join(dir, "cosign.key"), []byte("publish-test"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, key
}

// startRegistry serves go-containerregistry's registry on 127.0.0.1, with or without the
// OCI 1.1 referrers API, and returns its host:port.
func startRegistry(t *testing.T, referrers bool) string {
	t.Helper()
	return serve(t, registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(referrers)))
}

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// pushImage pushes a small random image to host/repo:tag and returns its digest.
func pushImage(t *testing.T, host, repoTag string) string {
	t.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}
