package image

import (
	"errors"
	"fmt"
)

// Code names one kind of problem with an image, stable enough for rules and tests to match.
type Code string

const (
	// CodeAmbiguous: a JSON document that is both an index and a manifest (it has
	// "manifests" and "layers" or "config"), or repeats a key (O1).
	CodeAmbiguous Code = "ambiguous-document"
	// CodeMediaType: the media type of a document disagrees with its descriptor or with the
	// registry's Content-Type, or is not one kensa reads (O1).
	CodeMediaType Code = "media-type-mismatch"
	// CodeDigest: a blob's bytes do not hash to the digest its descriptor names (O2, O3).
	CodeDigest Code = "digest-mismatch"
	// CodeSize: a blob is shorter or longer than its descriptor says (O2).
	CodeSize Code = "size-mismatch"
	// CodeDiffID: the uncompressed bytes of a layer do not hash to the config's diff_id, or
	// the config lists a different number of diff_ids than there are layers (O10).
	CodeDiffID Code = "diff-id-mismatch"
	// CodeCycle: an index refers back to itself (O7).
	CodeCycle Code = "index-cycle"
	// CodeUnsafePath: a path inside an archive or layout that is absolute or climbs out
	// with "..", or a link that leaves the archive (O10).
	CodeUnsafePath Code = "unsafe-path"
	// CodeNotRegular: a file of an OCI layout that is a symbolic link, a hard link, or not a
	// regular file (O9).
	CodeNotRegular Code = "not-regular-file"
	// CodeInsecure: a plain-HTTP request to a registry that is not on the loopback network.
	CodeInsecure Code = "insecure-registry"
	// CodeSelect: the target holds several images and none was chosen, or none matches.
	CodeSelect Code = "image-selection"
	// CodeMalformed: a document or archive that cannot be parsed or breaks the format's rules.
	CodeMalformed Code = "malformed"
	// CodeNotFound: a blob or member that the image refers to is missing.
	CodeNotFound Code = "not-found"
	// CodeUnsupported: a valid format kensa does not read (Docker schema 1, sparse tar
	// members, foreign layers that are not present).
	CodeUnsupported Code = "unsupported"
)

// Error is a problem with an image that is not a limit (limits are *limits.Error). Match it
// with errors.As and look at Code.
type Error struct {
	Code Code
	// What names the object: "manifest sha256:…", "layer 3", "blobs/sha256/…".
	What string
	// Detail says what is wrong and, where there is one, what to do about it.
	Detail string
	// Err is the underlying error, if any.
	Err error
}

// Error formats the problem as "what: detail: underlying error".
func (e *Error) Error() string {
	msg := e.What
	if msg != "" {
		msg += ": "
	}
	msg += e.Detail
	if e.Err != nil {
		if e.Detail != "" {
			msg += ": "
		}
		msg += e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

func newError(code Code, what, format string, args ...any) *Error {
	return &Error{Code: code, What: what, Detail: fmt.Sprintf(format, args...)}
}

// HasCode reports whether err is, or wraps, an *Error with code c.
func HasCode(err error, c Code) bool {
	var e *Error
	for err != nil {
		if !errors.As(err, &e) {
			return false
		}
		if e.Code == c {
			return true
		}
		err = e.Err
	}
	return false
}
