package image

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestRoundTrip writes images with go-containerregistry's own writers (docker save
// tarball, OCI layout, a tar of that layout, a push to its registry) and reads them back
// through every Kind: same manifest digest, same layer digests and diffIDs, same
// uncompressed bytes.
func TestRoundTrip(t *testing.T) {
	noDockerConfig(t)
	ctx := context.Background()
	host := startRegistry(t, nil)
	for _, oci := range []bool{false, true} {
		img := buildImage(t, "amd64", oci)
		mt, _ := img.MediaType()
		repo := "kensa/docker"
		if oci {
			repo = "kensa/oci"
		}
		ref, err := name.NewTag(host + "/" + repo + ":v1")
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
		dir := writeOCIDir(t, img, "v1")
		cases := []struct {
			kind Kind
			ref  string
			// docker save tarballs keep no media types, so an OCI image comes back as a
			// Docker one with a different manifest digest.
			sameDigest bool
		}{
			{DockerArchive, writeDockerArchive(t, img, "kensa/app:v1"), !oci},
			{OCIDir, dir, true},
			{OCIArchive, writeFile(t, tarDir(t, dir)), true},
			{Registry, ref.String(), true},
		}
		for _, c := range cases {
			t.Run(string(mt)+"/"+c.kind.String(), func(t *testing.T) {
				im, err := Open(ctx, c.kind, c.ref, Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer im.Close()
				checkSame(t, im, img, c.sameDigest)
				if c.sameDigest && im.MediaType != string(mt) {
					t.Errorf("MediaType %s, want %s", im.MediaType, mt)
				}
				if im.RootDigest != im.Digest {
					t.Errorf("RootDigest %s, Digest %s", im.RootDigest, im.Digest)
				}
				if len(im.RepoTags) == 0 {
					t.Errorf("no RepoTags")
				}
				if oci {
					// The zstd layer: no compression note, since the bytes match the type.
					for _, l := range im.Layers {
						if n := l.Notes(); len(n) > 0 {
							t.Errorf("layer %d notes: %v", l.Index, n)
						}
					}
				}
			})
		}
	}
}

// TestIndexPlatforms reads a two-platform index from a registry and an OCI layout and
// checks the platform choice rules.
func TestIndexPlatforms(t *testing.T) {
	noDockerConfig(t)
	ctx := context.Background()
	host := startRegistry(t, nil)
	for _, oci := range []bool{false, true} {
		idx, imgs := buildIndex(t, oci)
		ref, _ := name.NewTag(host + "/kensa/multi:v1")
		if err := remote.WriteIndex(ref, idx); err != nil {
			t.Fatal(err)
		}
		idxDigest, _ := idx.Digest()
		dir := writeOCIDirIndex(t, idx)
		for _, target := range []struct {
			kind Kind
			ref  string
		}{{Registry, ref.String()}, {OCIDir, dir}, {OCIArchive, writeFile(t, tarDir(t, dir))}} {
			t.Run(target.kind.String(), func(t *testing.T) {
				im, err := Open(ctx, target.kind, target.ref, Options{Platform: "linux/arm64"})
				if err != nil {
					t.Fatal(err)
				}
				want, _ := imgs["arm64"].Digest()
				if im.Digest != want.String() || im.Platform != "linux/arm64" || im.RootDigest != idxDigest.String() {
					t.Errorf("got %s %s root %s, want arm64 %s root %s", im.Digest, im.Platform, im.RootDigest, want, idxDigest)
				}
				checkSame(t, im, imgs["arm64"], true)
				im.Close()

				im, err = Open(ctx, target.kind, target.ref, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if im.Platform != "linux/amd64" || len(im.Notes) != 1 || !strings.Contains(im.Notes[0], "chose linux/amd64 by default") {
					t.Errorf("default platform %s, notes %q", im.Platform, im.Notes)
				}
				im.Close()

				_, err = Open(ctx, target.kind, target.ref, Options{Platform: "linux/s390x"})
				if !HasCode(err, CodeSelect) || !strings.Contains(err.Error(), "linux/arm64") || !strings.Contains(err.Error(), "--platform") {
					t.Errorf("unknown platform: %v", err)
				}
			})
		}
	}
}

// TestDockerArchiveSelection reads a docker save tarball holding two images.
func TestDockerArchiveSelection(t *testing.T) {
	amd, arm := buildImage(t, "amd64", false), buildImage(t, "arm64", false)
	p := writeMultiDockerArchive(t, map[string]v1.Image{"kensa/a:1": amd, "kensa/b:2": arm})
	ctx := context.Background()

	im, err := Open(ctx, DockerArchive, p+":kensa/b:2", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if im.Platform != "linux/arm64" || im.RepoTags[0] != "kensa/b:2" {
		t.Errorf("selected %s %v", im.Platform, im.RepoTags)
	}
	checkSame(t, im, arm, true)
	im.Close()

	im, err = Open(ctx, DockerArchive, p, Options{Platform: "linux/arm64"})
	if err != nil {
		t.Fatal(err)
	}
	if im.Platform != "linux/arm64" {
		t.Errorf("platform selection chose %s", im.Platform)
	}
	im.Close()

	im, err = Open(ctx, DockerArchive, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if im.Platform != "linux/amd64" || len(im.Notes) != 1 {
		t.Errorf("default chose %s, notes %q", im.Platform, im.Notes)
	}
	im.Close()

	_, err = Open(ctx, DockerArchive, p+":kensa/c:3", Options{})
	if !HasCode(err, CodeSelect) || !strings.Contains(err.Error(), "kensa/a:1") {
		t.Errorf("unknown tag: %v", err)
	}
}

// TestDetectArchive tells the archive kinds apart by their headers.
func TestDetectArchive(t *testing.T) {
	img := buildImage(t, "amd64", false)
	dir := writeOCIDir(t, img, "v1")
	for _, c := range []struct {
		path string
		kind Kind
		ok   bool
	}{
		{writeDockerArchive(t, img, "kensa/app:v1"), DockerArchive, true},
		{writeFile(t, tarDir(t, dir)), OCIArchive, true},
		{writeFile(t, makeTar(t, fileEntry("hello", "world"))), 0, false},
		{docker25Archive(t, img), OCIArchive, true},
		{writeFile(t, []byte("not a tar at all")), 0, false},
		{writeFile(t, gz(t, makeTar(t, fileEntry("manifest.json", "[]")))), 0, false},
	} {
		kind, ok, err := DetectArchive(c.path)
		if err != nil || kind != c.kind || ok != c.ok {
			t.Errorf("DetectArchive = %v %v %v, want %v %v", kind, ok, err, c.kind, c.ok)
		}
	}
}

// docker25Archive is what docker save writes since Docker 25: an OCI layout with a
// manifest.json beside it.
func docker25Archive(t *testing.T, img v1.Image) string {
	dir := writeOCIDir(t, img, "v1")
	os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`[{"Config":"blobs/sha256/x","Layers":[]}]`), 0o644)
	return writeFile(t, tarDir(t, dir))
}
