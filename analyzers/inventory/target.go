package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"kensa.dev/kensa/analyzers/image"
)

// Kind is how a target is read.
type Kind string

// Target kinds, spelled as their scheme prefixes (the prefixes syft uses).
const (
	KindFile          Kind = "file"
	KindDir           Kind = "dir"
	KindDockerArchive Kind = "docker-archive"
	KindOCIArchive    Kind = "oci-archive"
	KindOCIDir        Kind = "oci-dir"
	KindRegistry      Kind = "registry"
)

var kinds = []Kind{KindFile, KindDir, KindDockerArchive, KindOCIArchive, KindOCIDir, KindRegistry}

// Target is one input, resolved.
type Target struct {
	Input string // as the user gave it
	Kind  Kind
	Ref   string // the path or image reference without the scheme
}

// UsageError is a mistake in how a target was named (it does not exist, it has the wrong
// kind), as opposed to a failure reading it.
type UsageError struct{ msg string }

func (e *UsageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &UsageError{msg: fmt.Sprintf(format, args...)}
}

// Resolve works out how to read input. A scheme prefix (file:, dir:, docker-archive:,
// oci-archive:, oci-dir:, registry:) says it outright; without one the path decides: a
// directory holding an OCI layout is an oci-dir, another directory a dir; a tar holding a
// docker save or an OCI layout is an image archive; any other file is a file. Resolve
// never turns a name into a registry reference on its own: reaching the network needs the
// registry: prefix.
func Resolve(input string) (Target, error) {
	for _, k := range kinds {
		if ref, ok := strings.CutPrefix(input, string(k)+":"); ok {
			if ref == "" {
				return Target{}, usagef("%q names no %s", input, k)
			}
			t := Target{Input: input, Kind: k, Ref: ref}
			if k != KindRegistry {
				if err := checkKind(t); err != nil {
					return Target{}, err
				}
			}
			return t, nil
		}
	}
	fi, err := os.Stat(input)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			hint := ""
			if looksLikeImage(input) {
				hint = "; to read an image from a registry, write registry:" + input
			}
			return Target{}, usagef("%s: no such file or directory%s", input, hint)
		}
		return Target{}, err
	}
	if fi.IsDir() {
		if isOCILayout(input) {
			return Target{Input: input, Kind: KindOCIDir, Ref: input}, nil
		}
		return Target{Input: input, Kind: KindDir, Ref: input}, nil
	}
	if fi.Mode().IsRegular() {
		if k, ok := imageArchiveKind(input); ok {
			return Target{Input: input, Kind: k, Ref: input}, nil
		}
		return Target{Input: input, Kind: KindFile, Ref: input}, nil
	}
	return Target{}, usagef("%s is neither a regular file nor a directory", input)
}

// looksLikeImage reports whether a name that is not a file reads like an image reference:
// a tag or digest, or a registry host before the first slash.
func looksLikeImage(s string) bool {
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") {
		return false
	}
	if strings.ContainsAny(s, ":@") {
		return true
	}
	host, _, ok := strings.Cut(s, "/")
	return ok && strings.Contains(host, ".")
}

func checkKind(t Target) error {
	fi, err := os.Stat(t.Ref)
	if err != nil {
		return usagef("%s: %v", t.Input, errors.Unwrap(err))
	}
	switch t.Kind {
	case KindDir, KindOCIDir:
		if !fi.IsDir() {
			return usagef("%s is not a directory", t.Input)
		}
	default:
		if !fi.Mode().IsRegular() {
			return usagef("%s is not a regular file", t.Input)
		}
	}
	return nil
}

// isOCILayout reports whether dir holds an OCI image layout (an oci-layout file and an
// index.json, both regular files).
func isOCILayout(dir string) bool {
	for _, name := range []string{"oci-layout", "index.json"} {
		fi, err := os.Lstat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// imageArchiveKind reports whether the file at path is a docker save tarball or an OCI
// archive.
func imageArchiveKind(path string) (Kind, bool) {
	k, ok, err := image.DetectArchive(path)
	if err != nil || !ok {
		return "", false
	}
	switch k {
	case image.DockerArchive:
		return KindDockerArchive, true
	case image.OCIArchive:
		return KindOCIArchive, true
	}
	return "", false
}

func (k Kind) imageKind() image.Kind {
	switch k {
	case KindDockerArchive:
		return image.DockerArchive
	case KindOCIArchive:
		return image.OCIArchive
	case KindOCIDir:
		return image.OCIDir
	}
	return image.Registry
}
