package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"

	"kensa.dev/kensa/internal/limits"
)

// fuzzLimits keeps fuzzed inputs small and fast.
func fuzzLimits() *limits.Limits {
	l := limits.Default()
	l.Layers = 64
	l.ManifestSize = 1 << 20
	l.EntrySize = 8 << 20
	l.RatioGrace = 1 << 20
	l.Entries = 10_000
	l.BlobSize = 16 << 20
	return &l
}

func hasKeyFold(m map[string]json.RawMessage, k string) bool {
	for key := range m {
		if foldKey(key) == k {
			return true
		}
	}
	return false
}

// FuzzOCIManifest drives manifest, index and config decoding and media type resolution.
// Oracle: a document that is both an index and a manifest is never accepted, the media
// type accepted agrees with the descriptor's, and no accepted document has more layers or
// manifests than the limit.
func FuzzOCIManifest(f *testing.F) {
	img := buildImage(f, "amd64", true)
	raw, _ := img.RawManifest()
	cfg, _ := img.RawConfigFile()
	idx, _ := buildIndex(f, false)
	rawIdx, _ := idx.RawManifest()
	f.Add(raw, mtOCIManifest, "")
	f.Add(raw, "", mtOCIManifest)
	f.Add(rawIdx, mtDockerList, "")
	f.Add(cfg, "", "")
	f.Add([]byte(`{"schemaVersion":2,"manifests":[],"layers":[]}`), "", "")
	f.Add([]byte(`{"schemaVersion":2,"layers":[],"Layers":[{}]}`), "", "")
	f.Add([]byte(`{"schemaVersion":1,"mediaType":"application/vnd.docker.distribution.manifest.v1+json"}`), "", "")
	lim := fuzzLimits()
	f.Fuzz(func(t *testing.T, b []byte, descMT, contentType string) {
		mt, kind, err := classify(b, "doc", descMT, contentType, lim)
		var m map[string]json.RawMessage
		if err == nil && json.Unmarshal(b, &m) == nil {
			if hasKeyFold(m, "manifests") && (hasKeyFold(m, "layers") || hasKeyFold(m, "config")) {
				t.Fatalf("ambiguous document accepted as %s", mt)
			}
		}
		if err == nil {
			if descMT != "" && mt != descMT {
				t.Fatalf("media type %q accepted for a descriptor saying %q", mt, descMT)
			}
			switch kind {
			case docIndex:
				if idx, err := decodeIndex(b, "doc"); err == nil && len(idx.Manifests) > lim.Layers {
					t.Fatalf("%d manifests accepted", len(idx.Manifests))
				}
			case docManifest:
				if m, err := decodeManifest(b, "doc"); err == nil && len(m.Layers) > lim.Layers {
					t.Fatalf("%d layers accepted", len(m.Layers))
				}
			}
		}
		if c, err := decodeConfig(b, "config", lim); err == nil && len(c.RootFS.DiffIDs) > lim.Layers {
			t.Fatalf("%d diff_ids accepted", len(c.RootFS.DiffIDs))
		}
	})
}

// fuzzArchive opens a fuzzed archive held in memory and reads every layer. Invariants:
// no panic; an opened image's digest is the hash of its manifest; a layer that reads to
// its end without error has the digests it claims (checked again independently); and the
// result is deterministic.
func fuzzArchive(t *testing.T, kind Kind, b []byte) {
	if bytes.HasPrefix(b, []byte("-- ")) {
		b = membersTar(t, b)
	}
	lim := fuzzLimits()
	run := func() (string, []string) {
		im, err := openReaderAt(context.Background(), kind, bytes.NewReader(b), int64(len(b)), "fuzz.tar", Options{Limits: lim})
		if err != nil {
			return "error: " + err.Error(), nil
		}
		defer im.Close()
		sum := sha256.Sum256(im.Manifest)
		if im.Digest != "sha256:"+hex.EncodeToString(sum[:]) {
			t.Fatalf("digest %s is not the manifest's", im.Digest)
		}
		var layers []string
		for _, l := range im.Layers {
			rc, err := l.Open(limits.NewBudget(64 << 20))
			if err != nil {
				layers = append(layers, "open: "+err.Error())
				continue
			}
			data, err := io.ReadAll(rc)
			if cerr := rc.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				layers = append(layers, "read: "+err.Error())
				continue
			}
			d := sha256.Sum256(data)
			if l.DiffID != "sha256:"+hex.EncodeToString(d[:]) {
				t.Fatalf("layer %d accepted with uncompressed bytes that are not its diffID", l.Index)
			}
			layers = append(layers, l.Digest)
		}
		return im.Digest, layers
	}
	d1, l1 := run()
	d2, l2 := run()
	if d1 != d2 || strings.Join(l1, "\n") != strings.Join(l2, "\n") {
		t.Fatalf("not deterministic: %s / %s", d1, d2)
	}
}

// Random changes to a tar mostly break its header checksums, so the archive fuzzers also
// take inputs as a list of members, "-- name --\n" then the content, and build a valid
// tar from them: the fuzzer then changes names, links and documents rather than checksums.
// A name "-- name -> target --" makes a symbolic link.
func membersTar(t testing.TB, b []byte) []byte {
	var entries []tarEntry
	for _, chunk := range bytes.Split(b, []byte("\n-- ")) {
		chunk = bytes.TrimPrefix(chunk, []byte("-- "))
		hdr, body, _ := bytes.Cut(chunk, []byte(" --\n"))
		n, link, isLink := strings.Cut(string(hdr), " -> ")
		if isLink {
			entries = append(entries, tarEntry{name: n, typ: '2', linkname: link})
			continue
		}
		entries = append(entries, tarEntry{name: n, body: string(body)})
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e.body)), Format: tar.FormatPAX}
		if e.typ == '2' {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.linkname, 0
		}
		if tw.WriteHeader(h) != nil {
			return nil
		}
		tw.Write([]byte(e.body))
	}
	tw.Close()
	return buf.Bytes()
}

// tarMembers is the inverse of membersTar, for seeds.
func tarMembers(t testing.TB, b []byte) []byte {
	var out bytes.Buffer
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		switch h.Typeflag {
		case tar.TypeReg:
			body, _ := io.ReadAll(tr)
			fmt.Fprintf(&out, "-- %s --\n%s\n", h.Name, body)
		case tar.TypeSymlink:
			fmt.Fprintf(&out, "-- %s -> %s --\n\n", h.Name, h.Linkname)
		}
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n"))
}

// seedArchives adds the test fixtures and hostile variants as seeds, each as a tar and
// as a member list.
func seedArchives(f *testing.F, kind Kind) {
	add := func(b []byte) {
		f.Add(b)
		f.Add(tarMembers(f, b))
	}
	img := buildImage(f, "amd64", kind == OCIArchive)
	if kind == DockerArchive {
		b, _ := os.ReadFile(writeDockerArchive(f, img, "kensa/app:v1"))
		add(b)
		layer := makeTar(f, fileEntry("bin/app", "binary"))
		cfg := `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["` + sha(layer).String() + `"]}}`
		add(makeTar(f, fileEntry("manifest.json", `[{"Config":"c.json","Layers":["l.tar"]}]`), fileEntry("c.json", cfg), fileEntry("l.tar", string(layer))))
		add(makeTar(f, fileEntry("manifest.json", `[{"Config":"c.json","Layers":["../l.tar"]}]`), fileEntry("c.json", cfg)))
		add(makeTar(f, fileEntry("manifest.json", `[{"Config":"c.json","Layers":["a"]}]`), fileEntry("c.json", cfg),
			tarEntry{name: "a", typ: '2', linkname: "b"}, tarEntry{name: "b", typ: '2', linkname: "a"}))
		return
	}
	dir := writeOCIDir(f, img, "v1")
	add(tarDir(f, dir))
	idx, _ := buildIndex(f, true)
	add(tarDir(f, writeOCIDirIndex(f, idx)))
	// A layout whose blob is a symlink.
	os.WriteFile(filepath.Join(dir, "index.json"), []byte(`{"schemaVersion":2,"manifests":[{"mediaType":"`+string(types.OCIManifestSchema1)+`","digest":"sha256:`+strings.Repeat("0", 64)+`","size":2}]}`), 0o644)
	os.Symlink("/etc/passwd", filepath.Join(dir, "blobs", "sha256", strings.Repeat("0", 64)))
	add(tarDir(f, dir))
}

// FuzzOCILayout drives oci-archive reading over a fuzzed in-memory tar.
func FuzzOCILayout(f *testing.F) {
	seedArchives(f, OCIArchive)
	f.Fuzz(func(t *testing.T, b []byte) { fuzzArchive(t, OCIArchive, b) })
}

// FuzzDockerArchive drives docker-archive reading over a fuzzed in-memory tar.
func FuzzDockerArchive(f *testing.F) {
	seedArchives(f, DockerArchive)
	f.Fuzz(func(t *testing.T, b []byte) { fuzzArchive(t, DockerArchive, b) })
}

// decodeStack turns fuzz bytes into a layer stack over a small alphabet of names that
// includes whiteouts, opaque markers and malformed names.
var stackNames = []string{"a", "b", "c", ".wh.a", ".wh.b", ".wh..wh..opq", ".wh.", ".wh..", ".wh..wh.plnk", "..", "."}

func decodeStack(b []byte) [][]LayerEntry {
	names := stackNames
	layers := [][]LayerEntry{nil}
	for i := 0; i < len(b) && i < 600; {
		op := b[i]
		i++
		if op == 0xff {
			if len(layers) < 8 {
				layers = append(layers, nil)
			}
			continue
		}
		depth := 1 + int(op>>1)%3
		var parts []string
		for d := 0; d < depth; d++ {
			n := 0
			if i < len(b) {
				n = int(b[i])
				i++
			}
			// Mostly plain names, so that paths collide.
			if n < 200 {
				n %= 3
			} else {
				n %= len(names)
			}
			parts = append(parts, names[n])
		}
		layers[len(layers)-1] = append(layers[len(layers)-1], LayerEntry{Path: strings.Join(parts, "/"), Dir: op&1 == 1})
	}
	return layers
}

// FuzzWhiteoutFlatten checks Squash against the reference model on fuzzed stacks.
func FuzzWhiteoutFlatten(f *testing.F) {
	// The O8 cases: a bare .wh.; an opaque directory; .wh.a then a re-added a/; a whiteout
	// of the root; then the hand-written cases of TestSquashMatchesModel where they fit
	// the alphabet.
	for _, layers := range [][][]LayerEntry{
		{{{"a", true}, {"a/b", false}}, {{"a/.wh.", false}, {".wh.", false}}},
		{{{"a", true}, {"a/b", false}}, {{"a/.wh..wh..opq", false}, {"a/c", false}}},
		{{{"a", true}, {"a/b", false}}, {{".wh.a", false}}, {{"a", true}, {"a/c", false}}},
		{{{"a", false}}, {{".wh..", false}, {"./.wh..wh..opq", false}}},
		{{{"a", true}, {"a/b", false}}, {{"a", false}}, {{"a", true}}},
		{{{"a", false}}, {{"a/b", false}}},
		{{{"a", false}, {"a", false}}, {{".wh.a", false}, {"a", false}}},
	} {
		f.Add(encodeStack(layers))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		layers := decodeStack(b)
		want, _ := modelSquash(layers)
		if err := compareVis(layers, Squash(layers), want); err != nil {
			t.Fatal(err)
		}
	})
}

// encodeStack is the inverse of decodeStack, for seeds; every name must be in stackNames.
func encodeStack(layers [][]LayerEntry) []byte {
	var b []byte
	for i, l := range layers {
		if i > 0 {
			b = append(b, 0xff)
		}
		for _, e := range l {
			parts := strings.Split(e.Path, "/")
			op := byte(len(parts)-1) << 1
			if e.Dir {
				op |= 1
			}
			b = append(b, op)
			for _, p := range parts {
				idx := 0
				for j, n := range stackNames {
					if n == p {
						idx = j
					}
				}
				if idx < 3 {
					b = append(b, byte(idx))
				} else {
					b = append(b, byte(200+(idx-200%len(stackNames)+len(stackNames))%len(stackNames)))
				}
			}
		}
	}
	return b
}

func TestEncodeStack(t *testing.T) {
	layers := [][]LayerEntry{{{"a/.wh.", false}, {"b", true}}, {{".wh..wh..opq", false}, {"c/a/b", true}}}
	if got := decodeStack(encodeStack(layers)); showLayers(got) != showLayers(layers) {
		t.Fatalf("round trip: %s", showLayers(got))
	}
}
