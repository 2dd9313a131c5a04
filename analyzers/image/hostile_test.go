package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"kensa.dev/kensa/internal/limits"
)

// rawLayout writes an OCI layout byte by byte, so that tests can break it any way.
type rawLayout struct {
	t   *testing.T
	dir string
}

func newRawLayout(t *testing.T) *rawLayout {
	dir := filepath.Join(t.TempDir(), "layout")
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	l := &rawLayout{t: t, dir: dir}
	l.file("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	return l
}

func (l *rawLayout) file(name string, b []byte) {
	if err := os.WriteFile(filepath.Join(l.dir, name), b, 0o644); err != nil {
		l.t.Fatal(err)
	}
}

// put stores b under its digest and returns a descriptor for it.
func (l *rawLayout) put(mt string, b []byte) map[string]any {
	h := sha(b)
	l.file("blobs/sha256/"+h.Hex, b)
	return map[string]any{"mediaType": mt, "digest": h.String(), "size": len(b)}
}

func (l *rawLayout) index(descs ...map[string]any) {
	l.file("index.json", mustJSON(l.t, map[string]any{"schemaVersion": 2, "mediaType": mtOCIIndex, "manifests": descs}))
}

// rawImage is the parts of a one-layer image, to be broken by tests before storing.
type rawImage struct {
	tar      []byte // the uncompressed layer
	layer    []byte // the stored layer blob
	layerMT  string
	diffIDs  []string
	manifest func(config, layer map[string]any) map[string]any
}

func newRawImage(t *testing.T) *rawImage {
	tb := makeTar(t, fileEntry("etc/passwd", "root:x:0:0::/root:/bin/sh\n"), fileEntry("bin/app", "binary"))
	return &rawImage{
		tar: tb, layer: tb, layerMT: string(types.OCIUncompressedLayer), diffIDs: []string{sha(tb).String()},
		manifest: func(config, layer map[string]any) map[string]any {
			return map[string]any{"schemaVersion": 2, "mediaType": mtOCIManifest, "config": config, "layers": []any{layer}}
		},
	}
}

// store writes the image into the layout and points index.json at it; it returns the
// manifest descriptor.
func (ri *rawImage) store(l *rawLayout) map[string]any {
	cfg := mustJSON(l.t, map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers", "diff_ids": ri.diffIDs}})
	cd := l.put(mtOCIConfig, cfg)
	ld := l.put(ri.layerMT, ri.layer)
	md := l.put(mtOCIManifest, mustJSON(l.t, ri.manifest(cd, ld)))
	l.index(md)
	return md
}

func openDir(t *testing.T, dir string, opts Options) (*Image, error) {
	t.Helper()
	im, err := Open(context.Background(), OCIDir, dir, opts)
	if err == nil {
		t.Cleanup(func() { im.Close() })
	}
	return im, err
}

// readLayer reads a layer to its end and closes it, returning the first error.
func readLayer(l Layer, budget *limits.Budget) ([]byte, error) {
	rc, err := l.Open(budget)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	return b, err
}

func wantCode(t *testing.T, err error, c Code) {
	t.Helper()
	if !HasCode(err, c) {
		t.Fatalf("error %v, want code %s", err, c)
	}
}

func wantLimit(t *testing.T, err error, limit string) {
	t.Helper()
	var le *limits.Error
	if !errors.As(err, &le) || le.Limit != limit {
		t.Fatalf("error %v, want the %s limit", err, limit)
	}
}

// The raw image, unbroken, opens and reads: the baseline of every hostile case below.
func TestRawLayoutBaseline(t *testing.T) {
	l := newRawLayout(t)
	ri := newRawImage(t)
	ri.store(l)
	im, err := openDir(t, l.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := readLayer(im.Layers[0], nil)
	if err != nil || !bytes.Equal(b, ri.tar) {
		t.Fatalf("read %d bytes, %v", len(b), err)
	}
}

func TestO1ManifestThatIsAlsoAnIndex(t *testing.T) {
	l := newRawLayout(t)
	ri := newRawImage(t)
	ri.manifest = func(config, layer map[string]any) map[string]any {
		return map[string]any{"schemaVersion": 2, "mediaType": mtOCIManifest, "config": config, "layers": []any{layer}, "manifests": []any{layer}}
	}
	ri.store(l)
	_, err := openDir(t, l.dir, Options{})
	wantCode(t, err, CodeAmbiguous)
}

func TestO1IndexJSONWithLayers(t *testing.T) {
	l := newRawLayout(t)
	md := newRawImage(t).store(l)
	l.file("index.json", mustJSON(t, map[string]any{"schemaVersion": 2, "manifests": []any{md}, "layers": []any{md}}))
	_, err := openDir(t, l.dir, Options{})
	wantCode(t, err, CodeAmbiguous)
}

func TestO1MediaTypeDisagreesWithDescriptor(t *testing.T) {
	l := newRawLayout(t)
	ri := newRawImage(t)
	ri.manifest = func(config, layer map[string]any) map[string]any {
		return map[string]any{"schemaVersion": 2, "mediaType": mtDockerV2, "config": config, "layers": []any{layer}}
	}
	ri.store(l) // the index descriptor says OCI manifest
	_, err := openDir(t, l.dir, Options{})
	wantCode(t, err, CodeMediaType)

	// An index descriptor pointing at an image manifest.
	md := ri.store(l)
	md["mediaType"] = mtOCIIndex
	l.index(md)
	_, err = openDir(t, l.dir, Options{})
	wantCode(t, err, CodeMediaType)
}

func TestO1RepeatedKeys(t *testing.T) {
	l := newRawLayout(t)
	ri := newRawImage(t)
	md := ri.store(l)
	raw, _ := os.ReadFile(filepath.Join(l.dir, "blobs", "sha256", strings.TrimPrefix(md["digest"].(string), "sha256:")))
	// "Layers" after "layers": encoding/json would take the second, other parsers the first.
	doc := bytes.Replace(raw, []byte(`"schemaVersion":`), []byte(`"Layers":[],"schemaVersion":`), 1)
	l.index(l.put(mtOCIManifest, doc))
	_, err := openDir(t, l.dir, Options{})
	wantCode(t, err, CodeAmbiguous)
}

func TestO1RegistryContentType(t *testing.T) {
	noDockerConfig(t)
	host := startRegistry(t, nil)
	img := buildImage(t, "amd64", true)
	ref, _ := name.NewTag(host + "/kensa/ct:good")
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	raw, _ := img.RawManifest() // mediaType: OCI manifest
	req, _ := http.NewRequest(http.MethodPut, "http://"+host+"/v2/kensa/ct/manifests/bad", bytes.NewReader(raw))
	req.Header.Set("Content-Type", mtDockerV2)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %v %v", err, resp)
	}
	resp.Body.Close()
	if _, err := Open(context.Background(), Registry, host+"/kensa/ct:good", Options{}); err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), Registry, host+"/kensa/ct:bad", Options{})
	wantCode(t, err, CodeMediaType)
}

func TestO2TamperedLayer(t *testing.T) {
	l := newRawLayout(t)
	ri := newRawImage(t)
	ri.store(l)
	// Flip one byte of a file's content: same size, still a valid tar, wrong digest.
	ld := sha(ri.layer)
	bad := bytes.Replace(ri.layer, []byte("binary"), []byte("BINARY"), 1)
	l.file("blobs/sha256/"+ld.Hex, bad)
	im, err := openDir(t, l.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = readLayer(im.Layers[0], nil)
	wantCode(t, err, CodeDigest)

	// A caller that stops at the end of the tar still gets the error from Close.
	rc, err := im.Layers[0].Open(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(rc)
	for {
		if _, err := tr.Next(); err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
	}
	wantCode(t, rc.Close(), CodeDigest)
}

func TestO2SizeMismatch(t *testing.T) {
	l := newRawLayout(t)
	ri := newRawImage(t)
	ri.manifest = func(config, layer map[string]any) map[string]any {
		layer["size"] = layer["size"].(int) - 1
		return map[string]any{"schemaVersion": 2, "mediaType": mtOCIManifest, "config": config, "layers": []any{layer}}
	}
	ri.store(l)
	im, err := openDir(t, l.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = readLayer(im.Layers[0], nil)
	wantCode(t, err, CodeSize)
}

func TestO2TamperedManifestAndConfig(t *testing.T) {
	l := newRawLayout(t)
	md := newRawImage(t).store(l)
	mhex := strings.TrimPrefix(md["digest"].(string), "sha256:")
	orig, _ := os.ReadFile(filepath.Join(l.dir, "blobs", "sha256", mhex))
	l.file("blobs/sha256/"+mhex, bytes.Replace(orig, []byte(`"schemaVersion":2`), []byte(`"schemaVersion":2 `), 1)[:len(orig)])
	_, err := openDir(t, l.dir, Options{})
	wantCode(t, err, CodeDigest)

	l = newRawLayout(t)
	ri := newRawImage(t)
	md = ri.store(l)
	mb, _ := os.ReadFile(filepath.Join(l.dir, "blobs", "sha256", strings.TrimPrefix(md["digest"].(string), "sha256:")))
	var m v1.Manifest
	if err := jsonUnmarshal(mb, &m); err != nil {
		t.Fatal(err)
	}
	cb, _ := os.ReadFile(filepath.Join(l.dir, "blobs", "sha256", m.Config.Digest.Hex))
	l.file("blobs/sha256/"+m.Config.Digest.Hex, bytes.Replace(cb, []byte("amd64"), []byte("arm64"), 1))
	_, err = openDir(t, l.dir, Options{})
	wantCode(t, err, CodeDigest)
}

func TestO2DiffIDMismatch(t *testing.T) {
	l := newRawLayout(t)
	ri := newRawImage(t)
	ri.diffIDs = []string{sha([]byte("another layer")).String()}
	ri.store(l)
	im, err := openDir(t, l.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = readLayer(im.Layers[0], nil)
	wantCode(t, err, CodeDiffID)

	// A config whose diff_ids do not match the layers.
	l = newRawLayout(t)
	ri = newRawImage(t)
	ri.diffIDs = append(ri.diffIDs, ri.diffIDs[0])
	ri.store(l)
	_, err = openDir(t, l.dir, Options{})
	wantCode(t, err, CodeDiffID)
}

// rewrite wraps a handler: responses to matching requests are passed through edit, which
// may change the body and the headers; without a Content-Length the body goes chunked.
func rewrite(match func(*http.Request) bool, edit func(h http.Header, body []byte) []byte) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !match(r) {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			body := edit(rec.Header(), rec.Body.Bytes())
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			if w.Header().Get("Content-Length") == "" {
				w.(http.Flusher).Flush()
			}
			w.Write(body)
		})
	}
}

func isGet(kind, digest string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/"+kind+"/"+digest)
	}
}

func TestO2O3O5LyingRegistry(t *testing.T) {
	noDockerConfig(t)
	img := buildImage(t, "amd64", false)
	ls, _ := img.Layers()
	d, _ := ls[0].Digest()
	cases := []struct {
		name string
		edit func(h http.Header, b []byte) []byte
		code Code
		open bool // refused by Layer.Open already, from the headers
	}{
		// Same length, different bytes.
		{"tampered", func(h http.Header, b []byte) []byte {
			c := bytes.Clone(b)
			c[len(c)-9] ^= 0xff // inside the gzip trailer: decompression fails or the digest does
			return c
		}, "", false},
		// Extra bytes after the blob, announced in Content-Length.
		{"longer", func(h http.Header, b []byte) []byte {
			h.Set("Content-Length", strconv.Itoa(len(b)+6))
			return append(bytes.Clone(b), "HIDDEN"...)
		}, CodeSize, true},
		// Extra bytes after the blob, size unknown (chunked): stopped one byte past the size.
		{"unknown-size", func(h http.Header, b []byte) []byte {
			h.Del("Content-Length")
			return append(bytes.Clone(b), bytes.Repeat([]byte("X"), 1<<20)...)
		}, CodeSize, false},
		// Shorter than the descriptor, size unknown.
		{"truncated", func(h http.Header, b []byte) []byte {
			h.Del("Content-Length")
			return b[:len(b)-1]
		}, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host := startRegistry(t, rewrite(isGet("blobs", d.String()), c.edit))
			ref := host + "/kensa/lie:v1"
			r, _ := name.NewTag(ref)
			if err := remote.Write(r, img); err != nil {
				t.Fatal(err)
			}
			im, err := Open(context.Background(), Registry, ref, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			if c.open {
				_, err := im.Layers[0].Open(nil)
				wantCode(t, err, c.code)
			}
			_, err = readLayer(im.Layers[0], nil)
			if err == nil {
				t.Fatal("a lying registry was believed")
			}
			if c.code != "" {
				wantCode(t, err, c.code)
			}
			for _, l := range im.Layers[1:] {
				if _, err := readLayer(l, nil); err != nil {
					t.Errorf("honest layer %d: %v", l.Index, err)
				}
			}
		})
	}
}

func TestO3TrailingBytesAfterTar(t *testing.T) {
	// The manifest describes the tar; the stored blob has bytes after it. A reader that
	// stops at the end of the tar must not accept the layer.
	l := newRawLayout(t)
	ri := newRawImage(t)
	ri.layer = append(bytes.Clone(ri.tar), "HIDDEN PAYLOAD"...)
	ri.manifest = func(config, layer map[string]any) map[string]any {
		layer["digest"] = sha(ri.tar).String()
		return map[string]any{"schemaVersion": 2, "mediaType": mtOCIManifest, "config": config, "layers": []any{layer}}
	}
	ri.store(l)
	// store wrote the blob under the digest of tar+payload; move it where the manifest points.
	os.Rename(filepath.Join(l.dir, "blobs", "sha256", sha(ri.layer).Hex), filepath.Join(l.dir, "blobs", "sha256", sha(ri.tar).Hex))
	im, err := openDir(t, l.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := im.Layers[0].Open(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(rc)
	for {
		if _, err := tr.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, rc.Close(), CodeDigest)

	// gzip followed by garbage, with a digest that covers both: an error, never success.
	l = newRawLayout(t)
	ri = newRawImage(t)
	ri.layer = append(gz(t, ri.tar), "GARBAGE"...)
	ri.layerMT = string(types.OCILayer)
	ri.store(l)
	im, err = openDir(t, l.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readLayer(im.Layers[0], nil); err == nil {
		t.Fatal("gzip layer with trailing garbage accepted")
	}
}

func TestO4ManifestTooLarge(t *testing.T) {
	lim := testLimits()
	lim.ManifestSize = 300
	l := newRawLayout(t)
	ri := newRawImage(t)
	ri.manifest = func(config, layer map[string]any) map[string]any {
		return map[string]any{"schemaVersion": 2, "mediaType": mtOCIManifest, "config": config, "layers": []any{layer},
			"annotations": map[string]string{"pad": strings.Repeat("x", 400)}}
	}
	ri.store(l)
	_, err := openDir(t, l.dir, Options{Limits: lim})
	wantLimit(t, err, "manifest-size")

	// index.json itself.
	l.file("index.json", []byte(`{"schemaVersion":2,"manifests":[],"annotations":{"pad":"`+strings.Repeat("x", 400)+`"}}`))
	_, err = openDir(t, l.dir, Options{Limits: lim})
	wantLimit(t, err, "manifest-size")

	// A registry manifest, announced and chunked.
	noDockerConfig(t)
	img := buildImage(t, "amd64", false)
	for _, chunked := range []bool{false, true} {
		host := startRegistry(t, rewrite(func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/manifests/") }, func(h http.Header, b []byte) []byte {
			if chunked {
				h.Del("Content-Length")
			}
			return b
		}))
		r, _ := name.NewTag(host + "/kensa/big:v1")
		if err := remote.Write(r, img); err != nil {
			t.Fatal(err)
		}
		_, err = Open(context.Background(), Registry, r.String(), Options{Limits: lim})
		wantLimit(t, err, "manifest-size")
	}
}

func TestO5BlobTooLarge(t *testing.T) {
	l := newRawLayout(t)
	newRawImage(t).store(l)
	lim := testLimits()
	lim.BlobSize = 100
	im, err := openDir(t, l.dir, Options{Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	_, err = readLayer(im.Layers[0], nil)
	wantLimit(t, err, "blob-size")
}

func TestLayerBudgetAndEntrySize(t *testing.T) {
	l := newRawLayout(t)
	newRawImage(t).store(l)
	im, err := openDir(t, l.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = readLayer(im.Layers[0], limits.NewBudget(100))
	wantLimit(t, err, "total-size")

	lim := testLimits()
	lim.EntrySize = 100
	im, err = openDir(t, l.dir, Options{Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	_, err = readLayer(im.Layers[0], nil)
	wantLimit(t, err, "entry-size")
}

// manyDescriptors returns `[{},{},…]` with n elements.
func manyDescriptors(n int) string {
	return "[" + strings.TrimSuffix(strings.Repeat("{},", n), ",") + "]"
}

func TestO6HugeCounts(t *testing.T) {
	l := newRawLayout(t)
	ri := newRawImage(t)
	md := ri.store(l)
	mhex := strings.TrimPrefix(md["digest"].(string), "sha256:")
	mb, _ := os.ReadFile(filepath.Join(l.dir, "blobs", "sha256", mhex))
	var m map[string]any
	jsonUnmarshal(mb, &m)
	layer := string(mustJSON(t, m["layers"].([]any)[0]))
	// 10^6 layers in a 3 MB manifest (within the manifest-size limit).
	huge := `{"schemaVersion":2,"mediaType":"` + mtOCIManifest + `","config":` + string(mustJSON(t, m["config"])) + `,"layers":[` + layer + strings.Repeat(","+"{}", 1_000_000-1) + `]}`
	l.index(l.put(mtOCIManifest, []byte(huge)))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := openDir(t, l.dir, Options{})
	runtime.ReadMemStats(&after)
	wantLimit(t, err, "layers")
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("rejecting 10^6 layers allocated %d MiB", alloc>>20)
	}

	// 10^6 manifests in index.json.
	l.file("index.json", []byte(`{"schemaVersion":2,"manifests":`+manyDescriptors(1_000_000)+`}`))
	_, err = openDir(t, l.dir, Options{})
	wantLimit(t, err, "layers")

	// 10^6 diff_ids in a config.
	cfg := `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[` + strings.TrimSuffix(strings.Repeat(`"sha256:00",`, 1_000_000), ",") + `]}}`
	_, err = decodeConfig([]byte(cfg), "config", testLimits())
	wantLimit(t, err, "layers")
}

func TestO7DeepIndexNesting(t *testing.T) {
	l := newRawLayout(t)
	d := newRawImage(t).store(l)
	for i := 0; i < 20; i++ {
		d = l.put(mtOCIIndex, mustJSON(t, map[string]any{"schemaVersion": 2, "mediaType": mtOCIIndex, "manifests": []any{d}}))
	}
	l.index(d)
	_, err := openDir(t, l.dir, Options{})
	wantLimit(t, err, "index-depth")

	// Within the limit (index.json, then 3 nested indexes) it opens.
	l = newRawLayout(t)
	d = newRawImage(t).store(l)
	for i := 0; i < 3; i++ {
		d = l.put(mtOCIIndex, mustJSON(t, map[string]any{"schemaVersion": 2, "mediaType": mtOCIIndex, "manifests": []any{d}}))
	}
	l.index(d)
	if _, err := openDir(t, l.dir, Options{}); err != nil {
		t.Fatal(err)
	}
}

// With every document verified against its digest, an index cannot contain itself (that
// would be a hash fixpoint), so the walker's cycle guard is tested by feeding it documents
// without verification, as a broken store would.
func TestO7IndexCycle(t *testing.T) {
	docs := map[string][]byte{}
	hash := func(s string) v1.Hash { return sha([]byte(s)) }
	a, b := hash("a"), hash("b")
	desc := func(h v1.Hash) map[string]any {
		return map[string]any{"mediaType": mtOCIIndex, "digest": h.String(), "size": 10}
	}
	docs[a.String()] = mustJSON(t, map[string]any{"schemaVersion": 2, "mediaType": mtOCIIndex, "manifests": []any{desc(b)}})
	docs[b.String()] = mustJSON(t, map[string]any{"schemaVersion": 2, "mediaType": mtOCIIndex, "manifests": []any{desc(a)}})
	r := newResolver(context.Background(), nil, testLimits(), "test")
	fetched := 0
	r.fetch = func(d v1.Descriptor, what string) ([]byte, string, error) {
		fetched++
		return docs[d.Digest.String()], "", nil
	}
	root := mustJSON(t, map[string]any{"schemaVersion": 2, "manifests": []any{desc(a)}})
	_, err := r.resolve(root, v1.Descriptor{}, "", "", nil)
	wantCode(t, err, CodeCycle)
	if fetched != 2 {
		t.Errorf("fetched %d documents", fetched)
	}

	// A diamond (two entries leading to the same index) is no cycle and is walked once.
	l := newRawLayout(t)
	md := newRawImage(t).store(l)
	shared := l.put(mtOCIIndex, mustJSON(t, map[string]any{"schemaVersion": 2, "mediaType": mtOCIIndex, "manifests": []any{md}}))
	top1 := l.put(mtOCIIndex, mustJSON(t, map[string]any{"schemaVersion": 2, "mediaType": mtOCIIndex, "manifests": []any{shared}, "annotations": map[string]string{"n": "1"}}))
	top2 := l.put(mtOCIIndex, mustJSON(t, map[string]any{"schemaVersion": 2, "mediaType": mtOCIIndex, "manifests": []any{shared}, "annotations": map[string]string{"n": "2"}}))
	l.index(top1, top2)
	if _, err := openDir(t, l.dir, Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestO9LinksInLayout(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "shadow")
	os.WriteFile(secret, []byte("root:SECRET-HASH:19000::::::\n"), 0o600)
	setups := map[string]func(l *rawLayout, ri *rawImage){
		"blob symlink": func(l *rawLayout, ri *rawImage) {
			p := filepath.Join(l.dir, "blobs", "sha256", sha(ri.layer).Hex)
			os.Remove(p)
			if err := os.Symlink(secret, p); err != nil {
				t.Fatal(err)
			}
		},
		"blob hard link": func(l *rawLayout, ri *rawImage) {
			p := filepath.Join(l.dir, "blobs", "sha256", sha(ri.layer).Hex)
			outside := filepath.Join(t.TempDir(), "copy")
			if err := os.Link(p, outside); err != nil {
				t.Fatal(err)
			}
		},
		"blobs dir symlink": func(l *rawLayout, ri *rawImage) {
			moved := filepath.Join(t.TempDir(), "elsewhere")
			os.Rename(filepath.Join(l.dir, "blobs", "sha256"), moved)
			os.Symlink(moved, filepath.Join(l.dir, "blobs", "sha256"))
		},
		"index.json symlink": func(l *rawLayout, ri *rawImage) {
			moved := filepath.Join(t.TempDir(), "index.json")
			os.Rename(filepath.Join(l.dir, "index.json"), moved)
			os.Symlink(moved, filepath.Join(l.dir, "index.json"))
		},
	}
	for name, setup := range setups {
		t.Run(name, func(t *testing.T) {
			l := newRawLayout(t)
			ri := newRawImage(t)
			ri.store(l)
			setup(l, ri)
			im, err := openDir(t, l.dir, Options{})
			if err == nil {
				_, err = readLayer(im.Layers[0], nil)
			}
			wantCode(t, err, CodeNotRegular)
			if strings.Contains(err.Error(), "SECRET") {
				t.Fatal("read the file outside the layout")
			}
		})
	}

	// The same in an OCI archive: a blob member that is a symlink.
	l := newRawLayout(t)
	ri := newRawImage(t)
	ri.store(l)
	p := filepath.Join(l.dir, "blobs", "sha256", sha(ri.layer).Hex)
	os.Remove(p)
	os.Symlink("../../../../etc/passwd", p)
	im, err := Open(context.Background(), OCIArchive, writeFile(t, tarDir(t, l.dir)), Options{})
	if err == nil {
		defer im.Close()
		_, err = readLayer(im.Layers[0], nil)
	}
	wantCode(t, err, CodeNotRegular)
}

// dockerTar builds a docker save tarball from a manifest.json and members.
func dockerTar(t *testing.T, manifest any, members ...tarEntry) string {
	entries := append([]tarEntry{fileEntry("manifest.json", string(mustJSON(t, manifest)))}, members...)
	return writeFile(t, makeTar(t, entries...))
}

func TestO10DockerArchive(t *testing.T) {
	layer := makeTar(t, fileEntry("bin/app", "binary"))
	cfg := func(diffIDs ...string) string {
		return string(mustJSON(t, map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}}))
	}
	good := cfg(sha(layer).String())
	ctx := context.Background()
	// The baseline opens and reads.
	p := dockerTar(t, []any{map[string]any{"Config": "config.json", "RepoTags": []string{"kensa/app:1"}, "Layers": []string{"l1/layer.tar"}}},
		fileEntry("config.json", good), fileEntry("l1/layer.tar", string(layer)))
	im, err := Open(ctx, DockerArchive, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := readLayer(im.Layers[0], nil); err != nil || !bytes.Equal(b, layer) {
		t.Fatalf("baseline: %v", err)
	}
	im.Close()

	// Outside the archive, where ../x would point on the host, is a file that must not be read.
	os.WriteFile(filepath.Join(filepath.Dir(p), "..", "x"), layer, 0o644)
	cases := []struct {
		name string
		p    string
		code Code
	}{
		{"too few diff_ids", dockerTar(t, []any{map[string]any{"Config": "config.json", "Layers": []string{"l1/layer.tar", "l2/layer.tar"}}},
			fileEntry("config.json", good), fileEntry("l1/layer.tar", string(layer)), fileEntry("l2/layer.tar", string(layer))), CodeDiffID},
		{"dot-dot layer path", dockerTar(t, []any{map[string]any{"Config": "config.json", "Layers": []string{"../x"}}},
			fileEntry("config.json", good)), CodeUnsafePath},
		{"absolute layer path", dockerTar(t, []any{map[string]any{"Config": "config.json", "Layers": []string{"/etc/passwd"}}},
			fileEntry("config.json", good)), CodeUnsafePath},
		{"dot-dot config path", dockerTar(t, []any{map[string]any{"Config": "a/../../config.json", "Layers": []string{"l1/layer.tar"}}},
			fileEntry("config.json", good), fileEntry("l1/layer.tar", string(layer))), CodeUnsafePath},
		{"symlink out of the archive", dockerTar(t, []any{map[string]any{"Config": "config.json", "Layers": []string{"l1/layer.tar"}}},
			fileEntry("config.json", good), tarEntry{name: "l1/layer.tar", typ: tar.TypeSymlink, linkname: "../../x"}), CodeUnsafePath},
		{"T5 link cycle", dockerTar(t, []any{map[string]any{"Config": "config.json", "Layers": []string{"a"}}},
			fileEntry("config.json", good), tarEntry{name: "a", typ: tar.TypeSymlink, linkname: "b"}, tarEntry{name: "b", typ: tar.TypeSymlink, linkname: "a"}), CodeCycle},
		{"duplicate member", dockerTar(t, []any{map[string]any{"Config": "config.json", "Layers": []string{"l1/layer.tar"}}},
			fileEntry("config.json", good), fileEntry("l1/layer.tar", string(layer)), fileEntry("l1/layer.tar", "other")), CodeAmbiguous},
		{"config named for another digest", dockerTar(t, []any{map[string]any{"Config": sha([]byte("x")).Hex + ".json", "Layers": []string{"l1/layer.tar"}}},
			fileEntry(sha([]byte("x")).Hex+".json", good), fileEntry("l1/layer.tar", string(layer))), CodeDigest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Open(ctx, DockerArchive, c.p, Options{})
			wantCode(t, err, c.code)
		})
	}

	// Links inside the archive are followed (docker save links identical layers).
	p = dockerTar(t, []any{map[string]any{"Config": "config.json", "Layers": []string{"l1/layer.tar", "l2/layer.tar"}}},
		fileEntry("config.json", cfg(sha(layer).String(), sha(layer).String())), fileEntry("l1/layer.tar", string(layer)),
		tarEntry{name: "l2/layer.tar", typ: tar.TypeSymlink, linkname: "../l1/layer.tar"})
	im, err = Open(ctx, DockerArchive, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	if b, err := readLayer(im.Layers[1], nil); err != nil || !bytes.Equal(b, layer) {
		t.Fatalf("linked layer: %v", err)
	}
}

func TestC5CompressionDisagreesWithMediaType(t *testing.T) {
	l := newRawLayout(t)
	ri := newRawImage(t)
	ri.layerMT = string(types.OCILayer) // says gzip, is a plain tar
	ri.store(l)
	im, err := openDir(t, l.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := readLayer(im.Layers[0], nil)
	if err != nil || !bytes.Equal(b, ri.tar) {
		t.Fatalf("%v", err)
	}
	if n := im.Layers[0].Notes(); len(n) != 1 || !strings.Contains(n[0], "announces gzip compression but the bytes are none") {
		t.Errorf("notes %q", n)
	}
}

func TestLayoutSelector(t *testing.T) {
	img := buildImage(t, "amd64", false)
	dir := writeOCIDir(t, img, "v1")
	ctx := context.Background()
	for _, ref := range []string{dir + ":v1", dir} {
		im, err := Open(ctx, OCIDir, ref, Options{})
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if len(im.RepoTags) != 1 || im.RepoTags[0] != "v1" {
			t.Errorf("RepoTags %v", im.RepoTags)
		}
		im.Close()
	}
	_, err := Open(ctx, OCIDir, dir+":v2", Options{})
	wantCode(t, err, CodeSelect)
	d, _ := img.Digest()
	im, err := Open(ctx, OCIDir, dir+":"+d.String(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	im.Close()
}

func TestClosedImage(t *testing.T) {
	l := newRawLayout(t)
	newRawImage(t).store(l)
	im, err := openDir(t, l.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	im.Close()
	if _, err := im.Layers[0].Open(nil); !errors.Is(err, errClosed) {
		t.Errorf("open after close: %v", err)
	}
}

// Layers of a docker-archive are hashed several at once when the archive is opened; each
// digest must still be its own layer's, in manifest order, and an uncompressed layer
// (whose stored bytes are checked once, against a digest equal to its diff ID) changed
// after opening must fail to read, while the others still read.
func TestDockerArchiveLayersHashedInOrderAndVerifiedOnRead(t *testing.T) {
	var layers [][]byte
	var diffIDs, paths []string
	var members []tarEntry
	for i := range 5 {
		l := makeTar(t, fileEntry(fmt.Sprintf("layer%d/file", i), strings.Repeat(fmt.Sprint(i), 1000+i)))
		layers = append(layers, l)
		diffIDs = append(diffIDs, sha(l).String())
		paths = append(paths, fmt.Sprintf("l%d/layer.tar", i))
		members = append(members, fileEntry(paths[i], string(l)))
	}
	config := string(mustJSON(t, map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}}))
	p := dockerTar(t, []any{map[string]any{"Config": "config.json", "Layers": paths}}, append([]tarEntry{fileEntry("config.json", config)}, members...)...)
	im, err := Open(context.Background(), DockerArchive, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	for i, l := range im.Layers {
		if l.Digest != diffIDs[i] || l.DiffID != diffIDs[i] || l.Size != int64(len(layers[i])) {
			t.Errorf("layer %d: digest %s diff ID %s size %d, want %s and %d bytes", i, l.Digest, l.DiffID, l.Size, diffIDs[i], len(layers[i]))
		}
	}

	// Change one byte of layer 3's file content in the archive, in place.
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(b, []byte(strings.Repeat("3", 1003)))
	if at < 0 {
		t.Fatal("layer 3's content not found in the archive")
	}
	b[at] = 'x'
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, l := range im.Layers {
		got, err := readLayer(l, nil)
		if i == 3 {
			wantCode(t, err, CodeDigest)
			continue
		}
		if err != nil || !bytes.Equal(got, layers[i]) {
			t.Errorf("layer %d: %v", i, err)
		}
	}
}

// An uncompressed layer file of a docker-archive is not hashed when the archive is opened:
// the config's diff ID stands for its digest. A file that is not what the config says
// must then fail when read; two different files that would stand for the same diff ID
// must both be hashed (or one would never be read); a gzip layer file must be hashed.
func TestDockerArchiveDiffIDStandsForTheDigestUntilRead(t *testing.T) {
	good := makeTar(t, fileEntry("bin/app", "binary"))
	evil := makeTar(t, fileEntry("bin/app", "backdoor"))
	config := func(diffIDs ...v1.Hash) tarEntry {
		var ids []string
		for _, d := range diffIDs {
			ids = append(ids, d.String())
		}
		return fileEntry("config.json", string(mustJSON(t, map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers", "diff_ids": ids}})))
	}
	open := func(t *testing.T, layers []string, members ...tarEntry) *Image {
		t.Helper()
		p := dockerTar(t, []any{map[string]any{"Config": "config.json", "Layers": layers}}, members...)
		im, err := Open(context.Background(), DockerArchive, p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { im.Close() })
		return im
	}

	t.Run("changed file fails on read", func(t *testing.T) {
		im := open(t, []string{"l1/layer.tar"}, config(sha(good)), fileEntry("l1/layer.tar", string(evil)))
		if im.Layers[0].Digest != sha(good).String() {
			t.Errorf("digest %s, want the diff ID %s", im.Layers[0].Digest, sha(good))
		}
		_, err := readLayer(im.Layers[0], nil)
		wantCode(t, err, CodeDigest)
	})
	t.Run("two files, one diff ID", func(t *testing.T) {
		im := open(t, []string{"l1/layer.tar", "l2/layer.tar"}, config(sha(good), sha(good)),
			fileEntry("l1/layer.tar", string(good)), fileEntry("l2/layer.tar", string(evil)))
		if im.Layers[0].Digest != sha(good).String() || im.Layers[1].Digest != sha(evil).String() {
			t.Errorf("digests %s %s, want each file's own: %s %s", im.Layers[0].Digest, im.Layers[1].Digest, sha(good), sha(evil))
		}
		if _, err := readLayer(im.Layers[0], nil); err != nil {
			t.Errorf("layer 0: %v", err)
		}
		_, err := readLayer(im.Layers[1], nil)
		wantCode(t, err, CodeDiffID)
	})
	t.Run("gzip file hashed", func(t *testing.T) {
		z := gz(t, good)
		im := open(t, []string{"l1/layer.tar.gz"}, config(sha(good)), fileEntry("l1/layer.tar.gz", string(z)))
		if l := im.Layers[0]; l.Digest != sha(z).String() || l.DiffID != sha(good).String() || l.MediaType != string(types.DockerLayer) {
			t.Errorf("digest %s diff ID %s media type %s", l.Digest, l.DiffID, l.MediaType)
		}
		if b, err := readLayer(im.Layers[0], nil); err != nil || !bytes.Equal(b, good) {
			t.Errorf("read: %v", err)
		}
	})
}
