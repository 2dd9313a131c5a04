package main

import (
	"archive/tar"
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
)

const (
	defaultSource   = "https://kensa.dev/kensa"
	defaultLicenses = "NOASSERTION"
	defaultCACerts  = "/etc/ssl/certs/ca-certificates.crt"

	binPath    = "usr/local/bin/kensa"
	certsPath  = "etc/ssl/certs/ca-certificates.crt"
	nonroot    = 65532
	workingDir = "/work"

	maxBinary  = 1 << 30  // a kensa binary is about 130 MiB
	maxCACerts = 16 << 20 // a system bundle is about 200 KiB
)

// options are mkimage's inputs.
type options struct {
	out, bin, tag             string
	version, revision, source string
	licenses, caCerts         string
	caCertsSet                bool // -ca-certs given: a missing file is an error
	created                   time.Time
}

// built describes the image written.
type built struct {
	digest  v1.Hash
	size    int64 // manifest, config and compressed layers
	layers  int
	version string
	notes   []string // what the user should know about the image
}

// build checks the binary, builds the image and writes the layout.
func build(o options) (built, error) {
	var b built
	if o.tag != "" {
		if _, err := name.NewTag(o.tag, name.StrictValidation); err != nil {
			return b, fmt.Errorf("-tag %q: %v (give a full reference such as kensa.dev/kensa:1.2.0)", o.tag, err)
		}
	}
	bin, err := readBounded(o.bin, maxBinary)
	if err != nil {
		return b, fmt.Errorf("-bin: %v", err)
	}
	if err := checkStatic(bytes.NewReader(bin)); err != nil {
		return b, fmt.Errorf("-bin %s: %v; build it with CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -o %s ./cmd/kensa", o.bin, err, o.bin)
	}
	var certs []byte
	if o.caCerts != "" {
		certs, err = readBounded(o.caCerts, maxCACerts)
		if errors.Is(err, fs.ErrNotExist) && !o.caCertsSet {
			// No bundle on this machine: the image has none.
			certs = nil
			b.notes = append(b.notes, fmt.Sprintf("no %s on this machine: the image has no CA certificates, and kensa in it cannot reach registries over TLS; give -ca-certs FILE", o.caCerts))
		} else if err != nil {
			return b, fmt.Errorf("-ca-certs: %v", err)
		}
	}
	version, revision := buildVersion(bytes.NewReader(bin))
	if o.version != "" {
		version = o.version
	}
	if o.revision != "" {
		revision = o.revision
	}
	if version == "" {
		version = tagVersion(o.tag)
	}
	b.version = version

	img, err := image(bin, certs, o, version, revision)
	if err != nil {
		return b, err
	}
	if err := writeLayout(o.out, img, o.tag); err != nil {
		return b, err
	}
	if b.digest, err = img.Digest(); err != nil {
		return b, err
	}
	ls, err := img.Layers()
	if err != nil {
		return b, err
	}
	b.layers = len(ls)
	m, err := img.Manifest()
	if err != nil {
		return b, err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return b, err
	}
	b.size = int64(len(raw)) + m.Config.Size
	for _, l := range m.Layers {
		b.size += l.Size
	}
	return b, nil
}

// readBounded reads a regular file of at most limit bytes.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, limit>>20)
	}
	return data, nil
}

// checkStatic returns nil when r is a statically linked linux/amd64 ELF executable: 64-bit
// x86-64, an executable (or static-pie) with no program interpreter and no needed shared
// libraries. It never panics.
func checkStatic(r io.ReaderAt) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("not a readable ELF file (%v)", p)
		}
	}()
	f, err := elf.NewFile(r)
	if err != nil {
		return fmt.Errorf("not an ELF executable (%v)", err)
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		return fmt.Errorf("built for %v %v, the image is linux/amd64 (64-bit x86-64)", f.Class, f.Machine)
	}
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		return fmt.Errorf("built for %v, the image is linux/amd64", f.OSABI)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("an ELF %v, not an executable", f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("dynamically linked (it has a program interpreter), the image has no C library")
		}
	}
	if f.Type == elf.ET_DYN && f.Entry == 0 {
		return errors.New("a shared library, not an executable")
	}
	libs, err := f.ImportedLibraries()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return fmt.Errorf("unreadable dynamic section (%v)", err)
	}
	if len(libs) > 0 {
		return fmt.Errorf("needs shared libraries (%s), the image has none", strings.Join(libs, ", "))
	}
	return nil
}

// buildVersion reads the version and commit the binary was linked with: the -X flags
// that set kensa.dev/kensa/internal/version, else the VCS revision Go stamped. Empty
// when the binary does not say, as after go build -trimpath, which records no -ldflags.
func buildVersion(r io.ReaderAt) (version, revision string) {
	defer func() {
		if recover() != nil {
			version, revision = "", ""
		}
	}()
	bi, err := buildinfo.Read(r)
	if err != nil {
		return "", ""
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "-ldflags":
			for _, f := range strings.Fields(s.Value) {
				f = strings.Trim(f, `"'`)
				if v, ok := strings.CutPrefix(f, "kensa.dev/kensa/internal/version.Version="); ok {
					version = v
				}
				if v, ok := strings.CutPrefix(f, "kensa.dev/kensa/internal/version.Commit="); ok {
					revision = v
				}
			}
		case "vcs.revision":
			if revision == "" {
				revision = s.Value
			}
		}
	}
	return version, revision
}

// tagVersion is the tag part of a reference, or "devel".
func tagVersion(ref string) string {
	if t, err := name.NewTag(ref, name.StrictValidation); err == nil && ref != "" {
		return t.TagStr()
	}
	return "devel"
}

// entry is one file or directory of a layer.
type entry struct {
	name string // relative, no leading slash; directories end in "/"
	mode int64
	uid  int
	data []byte
}

// baseEntries is the filesystem kensa runs in, as distroless/static lays it out.
func baseEntries(certs []byte) []entry {
	es := []entry{
		{name: "etc/", mode: 0o755},
		{name: "etc/group", mode: 0o644, data: []byte("root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n")},
		{name: "etc/nsswitch.conf", mode: 0o644, data: []byte("hosts: files dns\n")},
		{name: "etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/root:/sbin/nologin\n" +
			"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
			"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{name: "home/", mode: 0o755},
		{name: "home/nonroot/", mode: 0o700, uid: nonroot},
		{name: "root/", mode: 0o700},
		{name: "tmp/", mode: 0o1777},
		{name: "usr/", mode: 0o755},
		{name: "usr/local/", mode: 0o755},
		{name: "usr/local/bin/", mode: 0o755},
		{name: "work/", mode: 0o755, uid: nonroot},
	}
	if certs != nil {
		es = append(es,
			entry{name: "etc/ssl/", mode: 0o755},
			entry{name: "etc/ssl/certs/", mode: 0o755},
			entry{name: certsPath, mode: 0o644, data: certs})
	}
	return es
}

// layer writes entries as a sorted, gzip-compressed tar with fixed times and owners.
func layer(es []entry, mtime time.Time) (v1.Layer, error) {
	sort.Slice(es, func(i, j int) bool { return es[i].name < es[j].name })
	var buf bytes.Buffer
	// klauspost's gzip at its default level: a tenth of the time of compress/gzip at
	// BestCompression for 2% more bytes; its output is fixed for a given version.
	zw, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	for _, e := range es {
		h := &tar.Header{
			Name:    e.name,
			Mode:    e.mode,
			Uid:     e.uid,
			Gid:     e.uid,
			ModTime: mtime,
			Format:  tar.FormatPAX,
		}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	gz := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(gz)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// image assembles the OCI image: config first, then the two layers with their history.
func image(bin, certs []byte, o options, version, revision string) (v1.Image, error) {
	base, err := layer(baseEntries(certs), o.created)
	if err != nil {
		return nil, fmt.Errorf("base layer: %w", err)
	}
	app, err := layer([]entry{
		{name: "usr/", mode: 0o755},
		{name: "usr/local/", mode: 0o755},
		{name: "usr/local/bin/", mode: 0o755},
		{name: binPath, mode: 0o755, data: bin},
	}, o.created)
	if err != nil {
		return nil, fmt.Errorf("kensa layer: %w", err)
	}
	env := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/home/nonroot"}
	if certs != nil {
		env = append(env, "SSL_CERT_FILE=/"+certsPath)
	}
	created := v1.Time{Time: o.created}
	cf := &v1.ConfigFile{
		Architecture: "amd64",
		OS:           "linux",
		Created:      created,
		RootFS:       v1.RootFS{Type: "layers"},
		Config: v1.Config{
			Entrypoint: []string{"/" + binPath},
			User:       fmt.Sprintf("%d:%d", nonroot, nonroot),
			WorkingDir: workingDir,
			Env:        env,
			Labels: map[string]string{
				"org.opencontainers.image.created":     o.created.Format(time.RFC3339),
				"org.opencontainers.image.description": "kensa verifies software deliveries before they are trusted",
				"org.opencontainers.image.licenses":    o.licenses,
				"org.opencontainers.image.revision":    revision,
				"org.opencontainers.image.source":      o.source,
				"org.opencontainers.image.title":       "kensa",
				"org.opencontainers.image.version":     version,
			},
		},
	}
	if revision == "" {
		delete(cf.Config.Labels, "org.opencontainers.image.revision") // unknown: say nothing rather than ""
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.Append(img,
		mutate.Addendum{Layer: base, History: v1.History{Created: created, CreatedBy: "mkimage: base filesystem (passwd, group, tmp, work, CA certificates)"}},
		mutate.Addendum{Layer: app, History: v1.History{Created: created, CreatedBy: "mkimage: COPY kensa /" + binPath}},
	)
}

// writeLayout writes img as the only image of an OCI layout at dir, replacing an earlier
// layout there. It refuses to replace anything else.
func writeLayout(dir string, img v1.Image, tag string) error {
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
			return fmt.Errorf("-out %s exists and is not an OCI image layout; remove it or choose another directory", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("-out: %v", err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := p.WriteImage(img); err != nil {
		return fmt.Errorf("writing the layout: %w", err)
	}
	// The index entry is written here rather than by AppendImage so that it carries only
	// what an image's entry has (no artifactType): the platform and the reference.
	raw, err := img.RawManifest()
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	desc := v1.Descriptor{
		MediaType: types.OCIManifestSchema1,
		Size:      int64(len(raw)),
		Digest:    digest,
		Platform:  &v1.Platform{OS: "linux", Architecture: "amd64"},
	}
	if tag != "" {
		desc.Annotations = map[string]string{
			"org.opencontainers.image.ref.name": tag,
			"io.containerd.image.name":          tag,
		}
	}
	if err := p.AppendDescriptor(desc); err != nil {
		return fmt.Errorf("writing the layout: %w", err)
	}
	// Readable by all, as a layout copied between machines or CI jobs should be.
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if d.IsDir() {
			mode = 0o755
		}
		return os.Chmod(path, mode)
	})
}
