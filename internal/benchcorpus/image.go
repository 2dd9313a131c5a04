package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
)

// maxEntries bounds the entries of one layer directory: the largest benchmark layer holds
// about 60,000.
const maxEntries = 2_000_000

type layerSpec struct {
	name string // e.g. "base"; names the layer tar and the history entry
	dir  string // the layer's root directory
}

type options struct {
	layers layerFlag
	work   string // where the layer tars go while the images are written
	docker string // docker-archive output file, or ""
	oci    string // OCI image layout output directory, or ""
	tag    string // image reference
}

// built is one layer written to disk: the uncompressed tar (the docker-archive form)
// and its gzip form (the OCI form), with their digests.
type built struct {
	spec    layerSpec
	tarPath string
	gzPath  string
	diffID  v1.Hash // sha256 of the tar
	digest  v1.Hash // sha256 of the gzip stream
	gzSize  int64
	tarSize int64
}

func build(o options) error {
	if err := os.MkdirAll(o.work, 0o755); err != nil {
		return err
	}
	var layers []*built
	defer func() {
		for _, b := range layers {
			os.Remove(b.tarPath)
			os.Remove(b.gzPath)
		}
	}()
	for _, s := range o.layers {
		fmt.Fprintf(os.Stderr, "benchcorpus: layer %s from %s\n", s.name, s.dir)
		b, err := writeLayer(s, o.work)
		if err != nil {
			return fmt.Errorf("layer %s: %w", s.name, err)
		}
		layers = append(layers, b)
	}
	img, err := image(layers)
	if err != nil {
		return err
	}
	if o.oci != "" {
		if err := writeOCI(o.oci, img, o.tag); err != nil {
			return fmt.Errorf("OCI layout %s: %w", o.oci, err)
		}
	}
	if o.docker != "" {
		if err := writeDocker(o.docker, img, layers, o.tag); err != nil {
			return fmt.Errorf("docker archive %s: %w", o.docker, err)
		}
	}
	return nil
}

// hashWriter counts and hashes what goes through it.
type hashWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (h *hashWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

func sum(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

// writeLayer writes the layer directory as <work>/<name>.tar and <work>/<name>.tar.gz in
// one pass.
func writeLayer(s layerSpec, work string) (_ *built, err error) {
	b := &built{spec: s, tarPath: filepath.Join(work, s.name+".tar"), gzPath: filepath.Join(work, s.name+".tar.gz")}
	defer func() {
		if err != nil {
			os.Remove(b.tarPath)
			os.Remove(b.gzPath)
		}
	}()
	tf, err := os.Create(b.tarPath)
	if err != nil {
		return nil, err
	}
	defer tf.Close()
	gf, err := os.Create(b.gzPath)
	if err != nil {
		return nil, err
	}
	defer gf.Close()
	gh := &hashWriter{w: gf, h: sha256.New()}
	zw, err := gzip.NewWriterLevel(gh, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	th := &hashWriter{w: io.MultiWriter(tf, zw), h: sha256.New()}
	if err := writeTar(th, s.dir); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if err := tf.Close(); err != nil {
		return nil, err
	}
	if err := gf.Close(); err != nil {
		return nil, err
	}
	b.diffID, b.tarSize = sum(th.h), th.n
	b.digest, b.gzSize = sum(gh.h), gh.n
	return b, nil
}

// writeTar writes the tree under root as a tar stream, entries in lexical order, names
// relative to root, directories with a trailing slash, hard links as links to the first
// name of the file.
func writeTar(w io.Writer, root string) error {
	tw := tar.NewWriter(w)
	seen := map[[2]uint64]string{}
	count := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == root {
			return nil
		}
		if count++; count > maxEntries {
			return fmt.Errorf("more than %d entries under %s", maxEntries, root)
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		fi, err := os.Lstat(path)
		if err != nil {
			return err
		}
		var link string
		switch {
		case fi.Mode().IsRegular(), fi.IsDir():
		case fi.Mode()&fs.ModeSymlink != 0:
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: unsupported file type %s (want regular files, directories and symbolic links)", path, fi.Mode().Type())
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		hdr.Name = rel
		if fi.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uname, hdr.Gname = "", ""
		hdr.ModTime = fi.ModTime().Truncate(time.Second)
		hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
			if fi.Mode().IsRegular() && st.Nlink > 1 {
				key := [2]uint64{uint64(st.Dev), st.Ino}
				if first, ok := seen[key]; ok {
					hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
				} else {
					seen[key] = rel
				}
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Size == 0 {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := io.Copy(tw, io.LimitReader(f, hdr.Size))
		if err == nil && n != hdr.Size {
			err = fmt.Errorf("%s changed size while being read", path)
		}
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// fileLayer is a v1.Layer over the files writeLayer made, with the digests it computed.
type fileLayer struct{ b *built }

func (l fileLayer) Digest() (v1.Hash, error)             { return l.b.digest, nil }
func (l fileLayer) DiffID() (v1.Hash, error)             { return l.b.diffID, nil }
func (l fileLayer) Size() (int64, error)                 { return l.b.gzSize, nil }
func (l fileLayer) MediaType() (types.MediaType, error)  { return types.OCILayer, nil }
func (l fileLayer) Compressed() (io.ReadCloser, error)   { return os.Open(l.b.gzPath) }
func (l fileLayer) Uncompressed() (io.ReadCloser, error) { return os.Open(l.b.tarPath) }
func (l fileLayer) String() string                       { return l.b.spec.name }

var _ v1.Layer = fileLayer{}

// created is the image's creation time: SOURCE_DATE_EPOCH, or the Unix epoch.
func created() time.Time {
	var sec int64
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		fmt.Sscan(v, &sec)
	}
	return time.Unix(sec, 0).UTC()
}

func image(layers []*built) (v1.Image, error) {
	t := v1.Time{Time: created()}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.ConfigFile(img, &v1.ConfigFile{
		Architecture: "amd64",
		OS:           "linux",
		Created:      t,
		Config: v1.Config{
			Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Cmd: []string{"/bin/bash"},
		},
		RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, err
	}
	var adds []mutate.Addendum
	for _, b := range layers {
		adds = append(adds, mutate.Addendum{
			Layer:   fileLayer{b},
			History: v1.History{Created: t, CreatedBy: "benchcorpus: Debian packages of layer " + b.spec.name},
		})
	}
	return mutate.Append(img, adds...)
}

func writeOCI(dir string, img v1.Image, tag string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": tag,
	}))
}

// writeDocker writes the image as 'docker save' did before Docker 25: the config as
// <hex>.json, each layer uncompressed as <diffid hex>/layer.tar, then manifest.json.
func writeDocker(path string, img v1.Image, layers []*built, tag string) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("tag %q: %w", tag, err)
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	cfgName := fmt.Sprintf("%x.json", sha256.Sum256(cfg))
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	defer os.Remove(path + ".tmp")
	defer f.Close()
	tw := tar.NewWriter(f)
	mtime := created()
	put := func(name string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, ModTime: mtime, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		n, err := io.Copy(tw, r)
		if err == nil && n != size {
			err = fmt.Errorf("%s: wrote %d of %d bytes", name, n, size)
		}
		return err
	}
	if err := put(cfgName, int64(len(cfg)), strings.NewReader(string(cfg))); err != nil {
		return err
	}
	var names []string
	for _, b := range layers {
		n := b.diffID.Hex + "/layer.tar"
		lf, err := os.Open(b.tarPath)
		if err != nil {
			return err
		}
		err = put(n, b.tarSize, lf)
		lf.Close()
		if err != nil {
			return err
		}
		names = append(names, n)
	}
	manifest, err := json.Marshal([]struct {
		Config   string
		RepoTags []string
		Layers   []string
	}{{Config: cfgName, RepoTags: []string{ref.String()}, Layers: names}})
	if err != nil {
		return err
	}
	if err := put("manifest.json", int64(len(manifest)), strings.NewReader(string(manifest))); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return errors.Join(err, os.Remove(path+".tmp"))
	}
	return nil
}
