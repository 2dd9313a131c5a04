package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/compression"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"kensa.dev/kensa/internal/limits"
)

// tarEntry is one entry of a tar built by a test.
type tarEntry struct {
	name     string
	body     string
	typ      byte // tar.TypeReg when 0
	linkname string
}

func dirEntry(name string) tarEntry        { return tarEntry{name: name, typ: tar.TypeDir} }
func fileEntry(name, body string) tarEntry { return tarEntry{name: name, body: body} }

// makeTar writes the entries as a tar.
func makeTar(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: e.typ, Linkname: e.linkname, Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if h.Typeflag == tar.TypeDir {
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func sha(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

// tarLayer makes a ggcr layer from tar bytes.
func tarLayer(t testing.TB, b []byte, opts ...tarball.LayerOption) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// layerTars are the layers of the test images: a base, an update with whiteouts (a
// deleted file, an opaque directory), and a top layer.
func layerTars(t testing.TB) [][]byte {
	return [][]byte{
		makeTar(t, dirEntry("etc/"), fileEntry("etc/os-release", "ID=kensa\n"), dirEntry("usr/"), dirEntry("usr/bin/"),
			fileEntry("usr/bin/tool", strings.Repeat("\x7fELF tool ", 500)), dirEntry("var/"), dirEntry("var/cache/"), fileEntry("var/cache/a", "cache")),
		makeTar(t, fileEntry("usr/bin/.wh.tool", ""), dirEntry("var/cache/"), fileEntry("var/cache/.wh..wh..opq", ""), fileEntry("var/cache/b", "new cache")),
		makeTar(t, fileEntry("etc/os-release", "ID=kensa\nVERSION=2\n"), tarEntry{name: "usr/bin/sh", typ: tar.TypeSymlink, linkname: "busybox"}),
	}
}

// buildImage builds a linux/<arch> image from the test layers. oci selects OCI media
// types (and a zstd layer) instead of Docker's.
func buildImage(t testing.TB, arch string, oci bool) v1.Image {
	t.Helper()
	img := empty.Image
	if oci {
		img = mutate.MediaType(img, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	}
	for i, b := range layerTars(t) {
		var l v1.Layer
		switch {
		case oci && i == 1:
			l = tarLayer(t, b, tarball.WithCompression(compression.ZStd), tarball.WithMediaType(types.OCILayerZStd))
		case oci:
			l = tarLayer(t, b, tarball.WithMediaType(types.OCILayer))
		default:
			l = tarLayer(t, b)
		}
		var err error
		if img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: "layer " + string(rune('A'+i))}}); err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Author = "kensa test"
	cf.Config.Env = []string{"PATH=/usr/bin"}
	cf.Config.Entrypoint = []string{"/usr/bin/tool"}
	cf.Config.User = "1000"
	cf.Config.Labels = map[string]string{"org.opencontainers.image.vendor": "kensa"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

// buildIndex builds a two-platform index (linux/amd64, linux/arm64).
func buildIndex(t testing.TB, oci bool) (v1.ImageIndex, map[string]v1.Image) {
	t.Helper()
	imgs := map[string]v1.Image{"amd64": buildImage(t, "amd64", oci), "arm64": buildImage(t, "arm64", oci)}
	var idx v1.ImageIndex = empty.Index
	if !oci {
		idx = mutate.IndexMediaType(idx, types.DockerManifestList)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: imgs[arch], Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	return idx, imgs
}

func writeDockerArchive(t testing.TB, img v1.Image, tag string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "image.tar")
	ref, err := name.NewTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(p, ref, img); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeOCIDir writes a layout holding img under the name refName.
func writeOCIDir(t testing.TB, img v1.Image, refName string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": refName})); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeOCIDirIndex(t testing.TB, idx v1.ImageIndex) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendIndex(idx); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tarDir writes the tree at dir as a tar, in sorted order, with names relative to dir.
func tarDir(t testing.TB, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			link, _ = os.Readlink(p)
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			tw.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tw.Close()
	return buf.Bytes()
}

func writeFile(t testing.TB, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "archive.tar")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// startRegistry serves go-containerregistry's registry on 127.0.0.1, optionally wrapped,
// and returns its host:port.
func startRegistry(t testing.TB, wrap func(http.Handler) http.Handler, opts ...registry.Option) string {
	t.Helper()
	var h http.Handler = registry.New(append([]registry.Option{registry.Logger(log.New(io.Discard, "", 0))}, opts...)...)
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// noDockerConfig points the default keychain at an empty docker config.
func noDockerConfig(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
}

func testLimits() *limits.Limits {
	l := limits.Default()
	return &l
}

// readLayers opens every layer of im concurrently and returns the uncompressed bytes.
func readLayers(t testing.TB, im *Image) [][]byte {
	t.Helper()
	out := make([][]byte, len(im.Layers))
	errs := make([]error, len(im.Layers))
	var wg sync.WaitGroup
	budget := limits.NewBudget(1 << 30)
	for i, l := range im.Layers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc, err := l.Open(budget)
			if err != nil {
				errs[i] = err
				return
			}
			b, err := io.ReadAll(rc)
			if cerr := rc.Close(); err == nil {
				err = cerr
			}
			out[i], errs[i] = b, err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("layer %d: %v", i, err)
		}
	}
	return out
}

// checkSame asserts that im is want, byte for byte.
func checkSame(t *testing.T, im *Image, want v1.Image, checkManifestDigest bool) {
	t.Helper()
	wd, err := want.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if checkManifestDigest && im.Digest != wd.String() {
		t.Errorf("Digest = %s, want %s", im.Digest, wd)
	}
	cn, _ := want.ConfigName()
	if im.ConfigDigest != cn.String() {
		t.Errorf("ConfigDigest = %s, want %s", im.ConfigDigest, cn)
	}
	wcf, _ := want.ConfigFile()
	if im.Platform != "linux/"+wcf.Architecture || im.Config.Author != "kensa test" || im.Config.Config.User != "1000" ||
		im.Config.Config.Labels["org.opencontainers.image.vendor"] != "kensa" || len(im.Config.History) != 3 {
		t.Errorf("config not read back: platform %s, %+v", im.Platform, im.Config)
	}
	wls, _ := want.Layers()
	if len(im.Layers) != len(wls) {
		t.Fatalf("%d layers, want %d", len(im.Layers), len(wls))
	}
	got := readLayers(t, im)
	for i, wl := range wls {
		d, _ := wl.Digest()
		diff, _ := wl.DiffID()
		if checkManifestDigest && im.Layers[i].Digest != d.String() {
			t.Errorf("layer %d digest %s, want %s", i, im.Layers[i].Digest, d)
		}
		if im.Layers[i].DiffID != diff.String() {
			t.Errorf("layer %d diffID %s, want %s", i, im.Layers[i].DiffID, diff)
		}
		rc, _ := wl.Uncompressed()
		wb, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got[i], wb) {
			t.Errorf("layer %d: uncompressed bytes differ (%d vs %d bytes)", i, len(got[i]), len(wb))
		}
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeMultiDockerArchive(t testing.TB, imgs map[string]v1.Image) string {
	t.Helper()
	m := map[name.Tag]v1.Image{}
	for tag, img := range imgs {
		ref, err := name.NewTag(tag)
		if err != nil {
			t.Fatal(err)
		}
		m[ref] = img
	}
	p := filepath.Join(t.TempDir(), "images.tar")
	if err := tarball.MultiWriteToFile(p, m); err != nil {
		t.Fatal(err)
	}
	return p
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
