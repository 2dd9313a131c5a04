package image

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"kensa.dev/kensa/internal/limits"
)

// TestG9TagMovedDuringPull: the registry moves the tag to another image right after kensa
// resolved it (a tag moved mid-run, or a registry serving other content on a second
// fetch). kensa names the tag once: the manifest it got is hashed there, and the config,
// the layers and everything else come by that digest, so the image it reports and reads
// is the one it resolved, whole, never a mix of the two. The next pull, a new run, sees
// the moved tag and reports the other digest.
func TestG9TagMovedDuringPull(t *testing.T) {
	noDockerConfig(t)
	first, second := buildImage(t, "amd64", false), buildImage(t, "arm64", false)
	var (
		mu       sync.Mutex
		moved    bool
		requests []string
	)
	host := startRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			requests = append(requests, r.Method+" "+r.URL.Path)
			byTag := strings.HasSuffix(r.URL.Path, "/manifests/v1")
			if byTag && moved {
				r.URL.Path = strings.TrimSuffix(r.URL.Path, "v1") + "moved"
			}
			if byTag && r.Method == http.MethodGet {
				moved = true // the tag now names the other image
			}
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	})
	for tag, img := range map[string]v1.Image{"v1": first, "moved": second} {
		ref, _ := name.NewTag(host + "/app:" + tag)
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	requests, moved = nil, false
	mu.Unlock()

	im, err := Open(context.Background(), Registry, host+"/app:v1", Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, im, first, true) // reads every layer too
	im.Close()
	mu.Lock()
	byTag := 0
	for _, r := range requests {
		switch {
		case strings.HasSuffix(r, "/manifests/v1"):
			byTag++
		case r == "GET /v2/", strings.Contains(r, "/sha256:"):
		default:
			t.Errorf("request neither by the resolved digest nor the one tag resolution: %s", r)
		}
	}
	if byTag != 1 {
		t.Errorf("the tag was resolved %d times: %v", byTag, requests)
	}
	mu.Unlock()

	im, err = Open(context.Background(), Registry, host+"/app:v1", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	checkSame(t, im, second, true)
}

// sparseMember is a member of an archive written by writeSparseTar: body, or size bytes
// of zeros left as a hole in the file (no disk, no memory) when body is nil.
type sparseMember struct {
	name string
	body []byte
	size int64
}

// writeSparseTar writes a tar file whose large members are holes.
func writeSparseTar(t *testing.T, members ...sparseMember) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "image.oci.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, m := range members {
		size := int64(len(m.body))
		if m.body == nil {
			size = m.size
		}
		tw := tar.NewWriter(f) // writes the header block at the file's offset
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: m.name, Mode: 0o644, Size: size}); err != nil {
			t.Fatal(err)
		}
		if m.body != nil {
			if _, err := f.Write(m.body); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.Seek(size, io.SeekCurrent); err != nil {
			t.Fatal(err)
		}
		if pad := (512 - size%512) % 512; pad > 0 {
			if _, err := f.Write(make([]byte, pad)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := f.Write(make([]byte, 1024)); err != nil {
		t.Fatal(err)
	}
	return p
}

func digestOf(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

// TestO12OCIArchiveUnboundedMembers: an OCI archive whose members are far larger than any
// document needs (a 1 GiB index.json, a manifest blob of 1 GiB, a layer whose blob is
// 1 GiB where its descriptor says 1 KiB) is refused from the sizes in the tar headers and
// descriptors, before the bytes are read: a limit error (manifest-size) or a size
// mismatch, with the memory the attempt allocates bounded (measured: 7 to 28 KiB,
// checked against 16 MiB) and no read of the gigabyte.
func TestO12OCIArchiveUnboundedMembers(t *testing.T) {
	const huge = 1 << 30
	layout := []byte(`{"imageLayoutVersion":"1.0.0"}`)
	index := func(mt, digest string, size int64) []byte {
		return []byte(fmt.Sprintf(`{"schemaVersion":2,"manifests":[{"mediaType":%q,"digest":%q,"size":%d}]}`, mt, digest, size))
	}
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:` + strings.Repeat("0", 64) + `"]}}`)
	layerDigest := "sha256:" + strings.Repeat("ab", 32)
	manifest := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":1024}]}`, digestOf(config), len(config), layerDigest))
	blob := func(d string) string { return "blobs/sha256/" + strings.TrimPrefix(d, "sha256:") }
	fakeManifest := "sha256:" + strings.Repeat("cd", 32)
	cases := []struct {
		name    string
		members []sparseMember
		check   func(error) bool
	}{
		{"index.json of 1 GiB", []sparseMember{{"oci-layout", layout, 0}, {"index.json", nil, huge}},
			func(err error) bool { return limits.IsLimit(err) && strings.Contains(err.Error(), "manifest-size") }},
		{"manifest of 1 GiB", []sparseMember{{"oci-layout", layout, 0},
			{"index.json", index("application/vnd.oci.image.manifest.v1+json", fakeManifest, huge), 0}, {blob(fakeManifest), nil, huge}},
			func(err error) bool { return limits.IsLimit(err) && strings.Contains(err.Error(), "manifest-size") }},
		{"layer of 1 GiB described as 1 KiB", []sparseMember{{"oci-layout", layout, 0},
			{"index.json", index("application/vnd.oci.image.manifest.v1+json", digestOf(manifest), int64(len(manifest))), 0},
			{blob(digestOf(manifest)), manifest, 0}, {blob(digestOf(config)), config, 0}, {blob(layerDigest), nil, huge}},
			func(err error) bool { var e *Error; return errors.As(err, &e) && e.Code == CodeSize }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeSparseTar(t, c.members...)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			im, err := Open(context.Background(), OCIArchive, p, Options{})
			if err == nil {
				// A layer is fetched when it is read.
				_, err = readLayer(im.Layers[0], limits.NewBudget(1<<40))
				im.Close()
			}
			runtime.ReadMemStats(&after)
			if !c.check(err) {
				t.Fatalf("error %v (%T)", err, err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("refusing it allocated %d bytes", alloc)
			} else {
				t.Logf("%v; allocated %d KiB", err, alloc>>10)
			}
		})
	}
}
