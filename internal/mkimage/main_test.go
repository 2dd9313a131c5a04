package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

const (
	testVersion = "0.0.0-mkimage-test"
	testCommit  = "0123456789abcdef0123456789abcdef01234567"
	testEpoch   = 1700000000
	testTag     = "kensa.dev/kensa:" + testVersion
)

// tmpRoot holds what the tests build once per test binary: kensa, crane, small programs.
var tmpRoot string

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "mkimage-test-")
	if err != nil {
		log.Fatal(err)
	}
	tmpRoot = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

// goBuild runs go build in dir with env added.
func goBuild(dir string, env []string, args ...string) error {
	cmd := exec.Command("go", append([]string{"build"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// once builds something at most once per test binary; a failed build fails every test
// that needs it.
type once struct {
	sync.Once
	path string
	err  error
}

func (o *once) get(t *testing.T, build func() (string, error)) string {
	t.Helper()
	o.Do(func() { o.path, o.err = build() })
	if o.err != nil {
		t.Fatal(o.err)
	}
	return o.path
}

var kensaOnce, craneOnce, helloOnce, armOnce once

// kensaBin is kensa built from this module as the Makefile builds it, with a known
// version and commit.
func kensaBin(t *testing.T) string {
	return kensaOnce.get(t, func() (string, error) {
		out := filepath.Join(tmpRoot, "kensa")
		ldflags := "-X kensa.dev/kensa/internal/version.Version=" + testVersion +
			" -X kensa.dev/kensa/internal/version.Commit=" + testCommit
		return out, goBuild(moduleRoot(), []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"},
			"-trimpath", "-ldflags", ldflags, "-o", out, "./cmd/kensa")
	})
}

// craneBin is go-containerregistry's crane at the version in go.mod.
func craneBin(t *testing.T) string {
	return craneOnce.get(t, func() (string, error) {
		out := filepath.Join(tmpRoot, "crane")
		return out, goBuild(moduleRoot(), nil, "-o", out, "github.com/google/go-containerregistry/cmd/crane")
	})
}

// helloBin is a small static Go program for linux/goarch, built in a module of its own.
func helloBin(t *testing.T, goarch string) string {
	o := &helloOnce
	if goarch != "amd64" {
		o = &armOnce
	}
	return o.get(t, func() (string, error) {
		dir := filepath.Join(tmpRoot, "hello-"+goarch)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		files := map[string]string{
			"go.mod":  "module hello\n\ngo 1.22\n",
			"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n",
		}
		for n, c := range files {
			if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
				return "", err
			}
		}
		out := filepath.Join(dir, "hello")
		// Without -trimpath the build info records these -ldflags, as a release build may.
		ldflags := "-X kensa.dev/kensa/internal/version.Version=1.2.3-hello -X kensa.dev/kensa/internal/version.Commit=feedface"
		return out, goBuild(dir, []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + goarch, "GOWORK=off", "GOFLAGS="}, "-ldflags", ldflags, "-o", out, ".")
	})
}

// moduleRoot is the module's root directory, two levels above this package.
func moduleRoot() string {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	return root
}

// mkimage runs the tool in-process and returns its exit code, stdout and stderr.
func mkimage(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// buildImage writes the image of kensaBin into a new directory, as the Makefile does: the
// version from the tag, the revision given (-trimpath builds do not record -ldflags).
func buildImage(t *testing.T) string {
	t.Helper()
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	out := filepath.Join(t.TempDir(), "image")
	code, stdout, stderr := mkimage(t, "-out", out, "-bin", kensaBin(t), "-tag", testTag, "-revision", testCommit)
	if code != 0 {
		t.Fatalf("mkimage exit %d: %s", code, stderr)
	}
	t.Log(strings.TrimSpace(stdout))
	return out
}

// theImage reads back the only image of a layout.
func theImage(t *testing.T, dir string) (v1.Image, v1.Descriptor) {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatalf("reading the layout back: %v", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("index lists %d manifests, want 1", len(im.Manifests))
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(img); err != nil {
		t.Fatalf("image does not validate (digests, sizes, diff IDs): %v", err)
	}
	return img, im.Manifests[0]
}

// TestImage builds kensa, writes its image and checks it as a layout, as kensa scans it,
// as crane reads it from a registry, and by running the binary taken out of the layer.
func TestImage(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Fatalf("this test runs the linux/amd64 binary it puts in the image; run it on linux/amd64")
	}
	start := time.Now()
	dir := buildImage(t)
	t.Logf("mkimage took %s", time.Since(start).Round(time.Millisecond))
	img, desc := theImage(t, dir)
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	kensa, err := os.ReadFile(kensaBin(t))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("layout", func(t *testing.T) {
		if desc.Platform == nil || desc.Platform.OS != "linux" || desc.Platform.Architecture != "amd64" {
			t.Errorf("index platform = %+v, want linux/amd64", desc.Platform)
		}
		if desc.MediaType != types.OCIManifestSchema1 {
			t.Errorf("index entry media type %s, want %s", desc.MediaType, types.OCIManifestSchema1)
		}
		if got := desc.Annotations["org.opencontainers.image.ref.name"]; got != testTag {
			t.Errorf("ref.name = %q, want %q", got, testTag)
		}
		m, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
			t.Errorf("manifest %s with config %s, want OCI media types", m.MediaType, m.Config.MediaType)
		}
		if len(m.Layers) != 2 {
			t.Fatalf("%d layers, want 2 (base filesystem, kensa)", len(m.Layers))
		}
		for _, l := range m.Layers {
			if l.MediaType != types.OCILayer {
				t.Errorf("layer %s has media type %s, want %s", l.Digest, l.MediaType, types.OCILayer)
			}
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.OS != "linux" || cf.Architecture != "amd64" {
			t.Errorf("config platform %s/%s, want linux/amd64", cf.OS, cf.Architecture)
		}
		want := time.Unix(testEpoch, 0).UTC()
		if !cf.Created.Time.Equal(want) {
			t.Errorf("created %s, want SOURCE_DATE_EPOCH %s", cf.Created.Time, want)
		}
		c := cf.Config
		if strings.Join(c.Entrypoint, " ") != "/usr/local/bin/kensa" || c.User != "65532:65532" || c.WorkingDir != "/work" {
			t.Errorf("entrypoint %q user %q workdir %q, want [/usr/local/bin/kensa] 65532:65532 /work", c.Entrypoint, c.User, c.WorkingDir)
		}
		labels := map[string]string{
			"org.opencontainers.image.source":   defaultSource,
			"org.opencontainers.image.version":  testVersion, // from the tag
			"org.opencontainers.image.revision": testCommit,
			"org.opencontainers.image.licenses": defaultLicenses,
			"org.opencontainers.image.created":  "2023-11-14T22:13:20Z",
		}
		for k, v := range labels {
			if c.Labels[k] != v {
				t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
			}
		}
	})

	t.Run("filesystem", func(t *testing.T) {
		ls, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		files := map[string]*tar.Header{}
		var content = map[string][]byte{}
		for i, l := range ls {
			rc, err := l.Uncompressed()
			if err != nil {
				t.Fatal(err)
			}
			tr := tar.NewReader(rc)
			prev := ""
			for {
				h, err := tr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("layer %d: %v", i, err)
				}
				if h.Name <= prev {
					t.Errorf("layer %d: %s after %s: entries not sorted", i, h.Name, prev)
				}
				prev = h.Name
				if !h.ModTime.Equal(time.Unix(testEpoch, 0)) || (h.Uid != 0 && h.Uid != 65532) || h.Uid != h.Gid || h.Uname != "" {
					t.Errorf("layer %d: %s: mtime %s owner %d:%d %q, want the fixed time and numeric owners", i, h.Name, h.ModTime, h.Uid, h.Gid, h.Uname)
				}
				files[h.Name] = h
				b, err := io.ReadAll(io.LimitReader(tr, 1<<30))
				if err != nil {
					t.Fatal(err)
				}
				content[h.Name] = b
			}
			rc.Close()
		}
		if h := files["usr/local/bin/kensa"]; h == nil || h.Mode != 0o755 || !bytes.Equal(content[h.Name], kensa) {
			t.Errorf("usr/local/bin/kensa missing, not mode 0755 or not the binary given")
		}
		if h := files["tmp/"]; h == nil || h.Mode != 0o1777 || h.Typeflag != tar.TypeDir {
			t.Errorf("tmp/ missing or not a directory with mode 1777: %+v", h)
		}
		if h := files["work/"]; h == nil || h.Uid != 65532 {
			t.Errorf("work/ missing or not owned by nonroot")
		}
		if !strings.Contains(string(content["etc/passwd"]), "\nnonroot:x:65532:65532:") ||
			!strings.Contains(string(content["etc/group"]), "\nnonroot:x:65532:") {
			t.Errorf("no nonroot 65532 in etc/passwd or etc/group:\n%s\n%s", content["etc/passwd"], content["etc/group"])
		}
		host, err := os.ReadFile(defaultCACerts)
		switch {
		case err == nil && !bytes.Equal(content[certsPath], host):
			t.Errorf("%s is not this machine's %s", certsPath, defaultCACerts)
		case errors.Is(err, fs.ErrNotExist) && files[certsPath] != nil:
			t.Errorf("%s in the image although this machine has none", certsPath)
		}
	})

	t.Run("kensa-scan", func(t *testing.T) {
		cmd := exec.Command(kensaBin(t), "scan", "oci-dir:"+dir, "--format", "json", "-q")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		code := cmd.ProcessState.ExitCode()
		// 0 clean, 1 findings; 2 would mean the layout could not be read.
		if code != 0 && code != 1 {
			t.Fatalf("kensa scan exit %d (%v): %s", code, err, stderr.String())
		}
		var res struct {
			Target struct {
				Kind   string `json:"kind"`
				Digest string `json:"digest"`
			} `json:"target"`
			Artifacts []struct {
				Path   string `json:"path"`
				Format string `json:"format"`
				Digest string `json:"digest"`
			} `json:"artifacts"`
			Findings []struct {
				Rule string `json:"rule"`
				Path string `json:"path"`
			} `json:"findings"`
			Errors []json.RawMessage `json:"errors"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("kensa scan output: %v", err)
		}
		if res.Target.Kind != "oci-dir" || res.Target.Digest != digest.String() {
			t.Errorf("target %s %s, want oci-dir %s", res.Target.Kind, res.Target.Digest, digest)
		}
		if len(res.Errors) != 0 {
			t.Errorf("kensa scan could not inspect everything: %s", res.Errors)
		}
		found := false
		for _, a := range res.Artifacts {
			if a.Path == "usr/local/bin/kensa" && a.Format == "elf" {
				found = true
			}
		}
		if !found {
			t.Errorf("kensa scan does not list usr/local/bin/kensa as elf: %+v", res.Artifacts)
		}
		if code == 1 && len(res.Findings) == 0 {
			t.Errorf("kensa scan exit 1 without findings")
		}
		t.Logf("kensa scan: exit %d, %d artifacts, %d findings", code, len(res.Artifacts), len(res.Findings))
	})

	t.Run("crane", func(t *testing.T) {
		crane := craneBin(t)
		srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
		defer srv.Close()
		ref := strings.TrimPrefix(srv.URL, "http://") + "/kensa:" + testVersion
		craneRun := func(args ...string) []byte {
			t.Helper()
			cmd := exec.Command(crane, args...)
			cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "DOCKER_CONFIG="+t.TempDir())
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("crane %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
			}
			return out
		}
		craneRun("push", dir, ref)
		if got := strings.TrimSpace(string(craneRun("digest", ref))); got != digest.String() {
			t.Errorf("crane digest %s, want the layout's %s", got, digest)
		}
		rawCfg, err := img.RawConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		var cfg v1.ConfigFile
		if err := json.Unmarshal(craneRun("config", ref), &cfg); err != nil {
			t.Fatalf("crane config: %v", err)
		}
		if got := craneRun("config", ref); !bytes.Equal(got, rawCfg) {
			t.Errorf("crane config differs from the layout's config blob")
		}
		if cfg.Config.User != "65532:65532" {
			t.Errorf("crane config user %q", cfg.Config.User)
		}
		flat := filepath.Join(t.TempDir(), "fs.tar")
		craneRun("export", ref, flat)
		bin := extract(t, flat, "usr/local/bin/kensa")
		out, err := exec.Command(bin, "version").CombinedOutput()
		if err != nil {
			t.Fatalf("kensa version from the image: %v\n%s", err, out)
		}
		if !strings.HasPrefix(string(out), "kensa "+testVersion+"\ncommit: "+testCommit) {
			t.Errorf("kensa version from the image printed %q, want kensa %s", out, testVersion)
		}
	})

	t.Run("reproducible", func(t *testing.T) {
		start := time.Now()
		again := buildImage(t)
		t.Logf("second build took %s", time.Since(start).Round(time.Millisecond))
		idx, err := layout.ImageIndexFromPath(again)
		if err != nil {
			t.Fatal(err)
		}
		im, err := idx.IndexManifest()
		if err != nil || len(im.Manifests) != 1 {
			t.Fatalf("second layout: %v", err)
		}
		if d2 := im.Manifests[0].Digest; d2 != digest {
			t.Fatalf("second build %s, first %s: not reproducible", d2, digest)
		}
		if a, b := treeDigest(t, dir), treeDigest(t, again); a != b {
			t.Errorf("layouts differ byte for byte:\n%s\n%s", a, b)
		}
	})
}

// extract writes one regular file of a tar to a temporary executable and returns its path.
func extract(t *testing.T, tarPath, name string) string {
	t.Helper()
	f, err := os.Open(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			t.Fatalf("%s not in %s", name, tarPath)
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(h.Name, "/") != name || h.Typeflag != tar.TypeReg {
			continue
		}
		out := filepath.Join(t.TempDir(), filepath.Base(name))
		w, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, io.LimitReader(tr, maxBinary)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return out
	}
}

// treeDigest lists every file of a directory with its mode and content.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	var sb strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		sb.WriteString(rel + " " + info.Mode().String())
		if d.Type().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			h, _, _ := v1.SHA256(bytes.NewReader(b))
			sb.WriteString(" " + h.String())
		}
		sb.WriteString("\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sb.String()
}
