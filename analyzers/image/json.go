package image

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"kensa.dev/kensa/internal/limits"
)

// maxJSONDepth bounds the nesting of image documents; manifests, indexes and configs are
// a handful of levels deep.
const maxJSONDepth = 64

// scanJSON checks one JSON document before anything decodes it: it must be valid UTF-8,
// one value with nothing after it, nested at most maxJSONDepth deep, and no object may
// repeat a key (compared the way encoding/json matches field names, ignoring case), since
// parsers disagree on which repeat wins. arrays bounds the number of elements of the arrays
// at the given paths ("layers", "rootfs.diff_ids", "[]" for the elements of a top-level
// array, "[].Layers"); a count is checked as each element starts, so that no element past
// the bound is ever decoded. It returns the folded keys of the top-level object.
func scanJSON(b []byte, what string, arrays map[string]int) (map[string]bool, error) {
	if !utf8.Valid(b) {
		return nil, newError(CodeMalformed, what, "not valid UTF-8 JSON")
	}
	type frame struct {
		obj       bool
		expectKey bool
		keys      map[string]bool
		key       string
		path      string
		count     int
		max       int
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var stack []*frame
	var top map[string]bool
	childPath := func() string {
		if len(stack) == 0 {
			return ""
		}
		f := stack[len(stack)-1]
		if !f.obj {
			return f.path + "[]"
		}
		if f.path == "" {
			return f.key
		}
		return f.path + "." + f.key
	}
	// value is called as each value starts.
	value := func() error {
		if len(stack) == 0 {
			return nil
		}
		f := stack[len(stack)-1]
		if f.obj {
			f.expectKey = true
			return nil
		}
		f.count++
		if f.max > 0 && f.count > f.max {
			return &limits.Error{Limit: "layers", Value: int64(f.max), What: fmt.Sprintf("%s: the %q array", what, f.path)}
		}
		return nil
	}
	done := false
	for !done {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, &Error{Code: CodeMalformed, What: what, Detail: "invalid JSON", Err: err}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				p := childPath()
				if err := value(); err != nil {
					return nil, err
				}
				if len(stack) >= maxJSONDepth {
					return nil, newError(CodeMalformed, what, "JSON nested more than %d levels deep", maxJSONDepth)
				}
				f := &frame{obj: t == '{', expectKey: t == '{', path: p}
				if f.obj {
					f.keys = map[string]bool{}
				} else {
					f.max = arrays[p]
				}
				stack = append(stack, f)
			case '}', ']':
				f := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					if f.obj {
						top = f.keys
					}
					done = true
				}
			}
		default:
			if len(stack) > 0 {
				f := stack[len(stack)-1]
				if f.obj && f.expectKey {
					k, _ := t.(string)
					fk := foldKey(k)
					if f.keys[fk] {
						return nil, newError(CodeAmbiguous, what, "the key %q appears more than once in one object (or in another case); parsers disagree on which one counts", k)
					}
					f.keys[fk] = true
					f.key = k
					f.expectKey = false
					continue
				}
			}
			if err := value(); err != nil {
				return nil, err
			}
			if len(stack) == 0 {
				done = true
			}
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, newError(CodeMalformed, what, "data after the JSON document")
	}
	return top, nil
}

// foldKey folds a key the way encoding/json matches keys to field names, so that "Layers",
// "LAYERS" and "layerſ" all count as "layers".
func foldKey(k string) string { return strings.ToLower(strings.ToUpper(k)) }

// Media types kensa reads.
const (
	mtOCIIndex     = string(types.OCIImageIndex)
	mtOCIManifest  = string(types.OCIManifestSchema1)
	mtDockerList   = string(types.DockerManifestList)
	mtDockerV2     = string(types.DockerManifestSchema2)
	mtOCIConfig    = string(types.OCIConfigJSON)
	mtDockerConfig = string(types.DockerConfigJSON)
)

func isIndexType(mt string) bool    { return mt == mtOCIIndex || mt == mtDockerList }
func isManifestType(mt string) bool { return mt == mtOCIManifest || mt == mtDockerV2 }
func isSchema1(mt string) bool {
	return mt == string(types.DockerManifestSchema1) || mt == string(types.DockerManifestSchema1Signed)
}

// layerCompression maps the layer media types kensa reads to the compression they
// announce. ok is false for media types that are not image layers.
func layerCompression(mt string) (c string, ok bool) {
	switch mt {
	case string(types.OCILayer), string(types.OCIRestrictedLayer), string(types.DockerLayer), string(types.DockerForeignLayer):
		return "gzip", true
	case string(types.OCILayerZStd), "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", "application/vnd.docker.image.rootfs.diff.tar.zstd":
		return "zstd", true
	case string(types.OCIUncompressedLayer), string(types.OCIUncompressedRestrictedLayer), string(types.DockerUncompressedLayer):
		return "none", true
	}
	return "", false
}

// docKind is what a manifest-endpoint document turned out to be.
type docKind int

const (
	docManifest docKind = iota
	docIndex
)

// classify decides what an index or manifest document is, refusing every ambiguity: a
// document with both "manifests" and "layers"/"config" (O1), a "mediaType" field that
// disagrees with the descriptor that led to the document or with the registry's
// Content-Type, repeated keys, and more layers or manifests than the layers limit, counted
// before they are decoded (O6). descMT and contentType may be empty.
func classify(b []byte, what, descMT, contentType string, lim *limits.Limits) (string, docKind, error) {
	keys, err := scanJSON(b, what, map[string]int{"layers": lim.Layers, "manifests": lim.Layers})
	if err != nil {
		return "", 0, err
	}
	if keys == nil {
		return "", 0, newError(CodeMalformed, what, "not a JSON object")
	}
	var head struct {
		SchemaVersion json.RawMessage `json:"schemaVersion"`
		MediaType     string          `json:"mediaType"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return "", 0, &Error{Code: CodeMalformed, What: what, Detail: "invalid schemaVersion or mediaType", Err: err}
	}
	hasManifests := keys["manifests"]
	hasImage := keys["layers"] || keys["config"]
	if hasManifests && hasImage {
		return "", 0, newError(CodeAmbiguous, what, `the document has both "manifests" (an index) and "layers"/"config" (an image manifest); refusing to guess which one it is`)
	}
	ct := ""
	if contentType != "" {
		if m, _, err := mime.ParseMediaType(contentType); err == nil {
			ct = m
		}
		if !isIndexType(ct) && !isManifestType(ct) && !isSchema1(ct) {
			ct = "" // registries answer application/json or octet-stream too; such a type says nothing.
		}
	}
	mt := head.MediaType
	for _, other := range []struct{ name, mt string }{{"descriptor", descMT}, {"Content-Type", ct}} {
		if other.mt == "" {
			continue
		}
		if mt == "" {
			mt = other.mt
			continue
		}
		if other.mt != mt {
			return "", 0, newError(CodeMediaType, what, "media type %q disagrees with the %s's %q", mt, other.name, other.mt)
		}
	}
	if mt == "" {
		// OCI lets the mediaType field be absent; the structure then decides.
		switch {
		case hasManifests:
			mt = mtOCIIndex
		case hasImage:
			mt = mtOCIManifest
		}
	}
	if sv := string(head.SchemaVersion); isSchema1(mt) || sv == "1" {
		return "", 0, newError(CodeUnsupported, what, "Docker schema 1 manifests are not supported (deprecated since 2017); convert the image to schema 2 or OCI, for example with crane copy, and scan that")
	}
	if len(head.SchemaVersion) == 0 {
		return "", 0, newError(CodeMalformed, what, "no schemaVersion; not an image manifest or index")
	}
	if string(head.SchemaVersion) != "2" {
		return "", 0, newError(CodeMalformed, what, "schemaVersion is %s, want the number 2", head.SchemaVersion)
	}
	switch {
	case isIndexType(mt):
		if hasImage {
			return "", 0, newError(CodeAmbiguous, what, "an index (%s) with image manifest fields", mt)
		}
		return mt, docIndex, nil
	case isManifestType(mt):
		if hasManifests {
			return "", 0, newError(CodeAmbiguous, what, "an image manifest (%s) with an index's \"manifests\"", mt)
		}
		return mt, docManifest, nil
	}
	if mt == "" {
		return "", 0, newError(CodeMalformed, what, "neither an image manifest (no layers or config) nor an index (no manifests)")
	}
	return "", 0, newError(CodeMediaType, what, "media type %q is neither an image manifest nor an index; kensa reads OCI and Docker schema 2 images", mt)
}

// decodeIndex decodes an index that classify accepted and checks its descriptors.
func decodeIndex(b []byte, what string) (*v1.IndexManifest, error) {
	var idx v1.IndexManifest
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, &Error{Code: CodeMalformed, What: what, Detail: "invalid index", Err: err}
	}
	for i, d := range idx.Manifests {
		if err := checkDescriptor(d, fmt.Sprintf("%s: manifests[%d]", what, i)); err != nil {
			return nil, err
		}
		if d.MediaType == "" {
			return nil, newError(CodeMalformed, what, "manifests[%d] has no mediaType", i)
		}
	}
	return &idx, nil
}

// decodeManifest decodes an image manifest that classify accepted and checks its
// descriptors.
func decodeManifest(b []byte, what string) (*v1.Manifest, error) {
	var m v1.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, &Error{Code: CodeMalformed, What: what, Detail: "invalid image manifest", Err: err}
	}
	if err := checkDescriptor(m.Config, what+": config"); err != nil {
		return nil, err
	}
	if mt := string(m.Config.MediaType); mt != mtOCIConfig && mt != mtDockerConfig {
		return nil, newError(CodeMediaType, what, "config media type %q is not an image config: this manifest is an OCI artifact, not a container image", m.Config.MediaType)
	}
	for i, d := range m.Layers {
		w := fmt.Sprintf("%s: layers[%d]", what, i)
		if err := checkDescriptor(d, w); err != nil {
			return nil, err
		}
		if _, ok := layerCompression(string(d.MediaType)); !ok {
			return nil, newError(CodeMediaType, w, "media type %q is not a container image layer", d.MediaType)
		}
	}
	return &m, nil
}

// checkDescriptor checks the parts of a descriptor every reader relies on.
func checkDescriptor(d v1.Descriptor, what string) error {
	if d.Digest.Algorithm == "" {
		return newError(CodeMalformed, what, "descriptor has no digest")
	}
	if d.Size < 0 {
		return newError(CodeMalformed, what, "descriptor has a negative size %d", d.Size)
	}
	if d.Data != nil {
		// Embedded data must be the blob itself, or readers that use it see other bytes
		// than readers that fetch the blob.
		if int64(len(d.Data)) != d.Size {
			return newError(CodeSize, what, "embedded data is %d bytes, the descriptor says %d", len(d.Data), d.Size)
		}
		h, _ := newHasher(d.Digest)
		h.Write(d.Data)
		if got := sumHex(h); got != d.Digest.Hex {
			return newError(CodeDigest, what, "embedded data hashes to %s:%s, not %s", d.Digest.Algorithm, got, d.Digest)
		}
	}
	return nil
}

// decodeConfig decodes an image config, bounding its diff_ids by the layers limit.
func decodeConfig(b []byte, what string, lim *limits.Limits) (*v1.ConfigFile, error) {
	keys, err := scanJSON(b, what, map[string]int{"rootfs.diff_ids": lim.Layers})
	if err != nil {
		return nil, err
	}
	if keys == nil {
		return nil, newError(CodeMalformed, what, "not a JSON object")
	}
	var cfg v1.ConfigFile
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, &Error{Code: CodeMalformed, What: what, Detail: "invalid image config", Err: err}
	}
	return &cfg, nil
}

func v1MediaType(s string) types.MediaType { return types.MediaType(s) }
